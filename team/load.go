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
	in, e, err := s.memberInput(ctx, account, user)
	if err != nil || in == nil {
		return e, err
	}
	e.m = s.Catalogue.Compile(*in)
	return e, nil
}

// memberInput gathers what compiling the user's membership of the account
// takes (see loadMember), or nil when the user may not act there at all;
// the entry holds the rest of what the cache keeps of them. The service
// compiles it, and so does a vendor's process holding checks in process
// (AccessStateOf): one function decides for both.
func (s *Service) memberInput(ctx context.Context, account, user equipe.ID) (*access.Input, memberEntry, error) {
	u, err := s.DB.UserByID(ctx, user)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		// Not a member, as far as anyone asking may know: whether the
		// identity exists elsewhere is no account's business.
		return nil, memberEntry{}, nil
	} else if err != nil {
		return nil, memberEntry{}, err
	}
	m, err := s.DB.Member(ctx, account, user)
	if err == nil {
		return s.input(ctx, account, u, m, account, false)
	}
	if equipe.ErrorCode(err) != equipe.ENOTFOUND {
		return nil, memberEntry{}, err
	}
	// Not a member: perhaps staff of the parent firm.
	acct, err := s.loadAccount(ctx, account)
	if err != nil || acct.parent == nil {
		return nil, memberEntry{}, err
	}
	firm := *acct.parent
	fm, err := s.DB.Member(ctx, firm, user)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return nil, memberEntry{}, nil
	} else if err != nil {
		return nil, memberEntry{}, err
	}
	if fm.Role != equipe.RoleAdmin {
		assigned, err := s.DB.IsClientStaff(ctx, account, user)
		if err != nil || !assigned {
			return nil, memberEntry{firm: firm}, err
		}
	}
	return s.input(ctx, account, u, fm, firm, true)
}

// input gathers what compiling u in account takes from membership m (of
// account itself, or of the firm roleAccount when viaFirm).
func (s *Service) input(ctx context.Context, account equipe.ID, u equipe.User, m equipe.Member, roleAccount equipe.ID, viaFirm bool) (*access.Input, memberEntry, error) {
	role, _, err := s.resolveRole(ctx, s.DB.Queries, roleAccount, m.Role)
	if err != nil {
		return nil, memberEntry{}, err
	}
	var resources []equipe.ID
	if !viaFirm {
		if resources, err = s.DB.MemberResources(ctx, account, u.ID); err != nil {
			return nil, memberEntry{}, err
		}
	}
	in := &access.Input{UserID: u.ID, AccountID: account, Role: role, Overrides: overrides(m.Overrides),
		Resources: resources, Status: access.StatusOf(m.Status), UserDisabled: !u.DisabledAt.IsZero(), ViaFirm: viaFirm}
	e := memberEntry{joined: m.JoinedAt, active: m.Status == equipe.MemberActive}
	if viaFirm {
		e.firm = roleAccount
	}
	return in, e, nil
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
