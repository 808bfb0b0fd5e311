package team

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
)

// loadAccount returns the account's compiled form, from the cache or the
// store.
func (s *Service) loadAccount(ctx context.Context, id equipe.ID) (accountEntry, error) {
	if e, ok := s.cache.account(id); ok {
		return e, nil
	}
	gen := s.cache.generation()
	a, err := s.DB.AccountByID(ctx, id)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		e := accountEntry{}
		s.cache.putAccount(gen, id, e)
		return e, nil
	} else if err != nil {
		return accountEntry{}, err
	}
	active, archived, err := s.DB.ResourceIDs(ctx, id)
	if err != nil {
		return accountEntry{}, err
	}
	e := accountEntry{a: access.CompileAccount(id, active, archived), parent: a.ParentID,
		mfa: mfaPolicy{since: a.MFARequiredAt, grace: time.Duration(a.MFAGraceHours) * time.Hour}}
	s.cache.putAccount(gen, id, e)
	return e, nil
}

// loadMember returns the user's compiled membership of the account: their
// own, or, for a client account, the one of its parent firm when the firm
// member is an administrator there or is assigned to the client.
func (s *Service) loadMember(ctx context.Context, account, user equipe.ID) (memberEntry, error) {
	k := memberKey{account, user}
	if e, ok := s.cache.member(k); ok {
		return e, nil
	}
	gen := s.cache.generation()
	e, err := s.compileMember(ctx, account, user)
	if err != nil {
		return memberEntry{}, err
	}
	s.cache.putMember(gen, k, e)
	return e, nil
}

func (s *Service) compileMember(ctx context.Context, account, user equipe.ID) (memberEntry, error) {
	u, err := s.DB.UserByID(ctx, user)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		// Not a member, as far as anyone asking may know: whether the
		// identity exists elsewhere is no account's business.
		return memberEntry{}, nil
	} else if err != nil {
		return memberEntry{}, err
	}
	m, err := s.DB.Member(ctx, account, user)
	if err == nil {
		return s.compile(ctx, account, u, m, account, false)
	}
	if equipe.ErrorCode(err) != equipe.ENOTFOUND {
		return memberEntry{}, err
	}
	// Not a member: perhaps staff of the parent firm.
	acct, err := s.loadAccount(ctx, account)
	if err != nil || acct.parent == nil {
		return memberEntry{}, err
	}
	firm := *acct.parent
	fm, err := s.DB.Member(ctx, firm, user)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return memberEntry{}, nil
	} else if err != nil {
		return memberEntry{}, err
	}
	if fm.Role != equipe.RoleAdmin {
		assigned, err := s.DB.IsClientStaff(ctx, account, user)
		if err != nil || !assigned {
			return memberEntry{firm: firm}, err
		}
	}
	return s.compile(ctx, account, u, fm, firm, true)
}

// compile builds the member entry of u in account from membership m (of
// account itself, or of the firm roleAccount when viaFirm).
func (s *Service) compile(ctx context.Context, account equipe.ID, u equipe.User, m equipe.Member, roleAccount equipe.ID, viaFirm bool) (memberEntry, error) {
	role, _, err := s.resolveRole(ctx, s.DB.Queries, roleAccount, m.Role)
	if err != nil {
		return memberEntry{}, err
	}
	var resources []equipe.ID
	if !viaFirm {
		if resources, err = s.DB.MemberResources(ctx, account, u.ID); err != nil {
			return memberEntry{}, err
		}
	}
	e := memberEntry{joined: m.JoinedAt, active: m.Status == equipe.MemberActive, m: s.Catalogue.Compile(access.Input{UserID: u.ID, AccountID: account, Role: role,
		Overrides: overrides(m.Overrides), Resources: resources, Status: access.StatusOf(m.Status),
		UserDisabled: !u.DisabledAt.IsZero(), ViaFirm: viaFirm})}
	if viaFirm {
		e.firm = roleAccount
	}
	return e, nil
}

// loadUser returns what the cache knows of a user who made instance keys,
// from the cache or the store.
func (s *Service) loadUser(ctx context.Context, id equipe.ID) (userEntry, error) {
	if e, ok := s.cache.user(id); ok {
		return e, nil
	}
	gen := s.cache.generation()
	u, err := s.DB.UserByID(ctx, id)
	e := userEntry{exists: err == nil, instanceAdmin: u.InstanceAdmin, disabled: !u.DisabledAt.IsZero()}
	if err != nil && equipe.ErrorCode(err) != equipe.ENOTFOUND {
		return userEntry{}, err
	}
	s.cache.putUser(gen, id, e)
	return e, nil
}
