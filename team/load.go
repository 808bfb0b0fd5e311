package team

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/store"
)

// smallAccount is the most members an account may have for the first
// question about one of them to read all of them (see loadMember).
const smallAccount = 64

// loadAccount returns the account's compiled form, from the cache or the
// store (one statement).
func (s *Service) loadAccount(ctx context.Context, id equipe.ID) (accountEntry, error) {
	if e, ok := s.cache.account(id); ok {
		return e, nil
	}
	gen := s.cache.generation()
	a, err := s.DB.AccountAccess(ctx, id)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		e := accountEntry{}
		s.cache.putAccount(gen, id, e)
		return e, nil
	} else if err != nil {
		return accountEntry{}, err
	}
	e := accountEntry{a: access.CompileAccount(id, a.Resources, a.Archived), parent: a.ParentID,
		mfa:     mfaPolicy{since: a.MFARequiredAt, grace: time.Duration(a.MFAGraceHours) * time.Hour},
		members: int32(min(a.Members, 1<<30))}
	s.cache.putAccount(gen, id, e)
	return e, nil
}

// loadMember returns the user's compiled membership of the account: their
// own, or, for a client account, the one of its parent firm when the firm
// member is an administrator there or is assigned to the client.
//
// A miss reads one statement. While the cache has room, the second miss in
// a small account (smallAccount members at most) reads every member of it
// in that statement and keeps the others too, where they fit without
// evicting anything: whoever asks about two members of an account usually
// asks about others, and after a start the cache fills an account at a time
// instead of a member at a time. The first miss reads its member alone:
// where one member of each account is asked about, reading and compiling
// the others cost twice the work of the check and were never used.
func (s *Service) loadMember(ctx context.Context, account, user equipe.ID) (memberEntry, error) {
	k := memberKey{account, user}
	if e, ok := s.cache.member(k); ok {
		return e, nil
	}
	gen := s.cache.generation()
	if a, ok := s.cache.peekAccount(account); ok && a.a != nil && a.members <= smallAccount &&
		s.cache.membersHaveRoom() && s.cache.missedBefore(account) {
		e, ok, err := s.loadAccountMembers(ctx, gen, account, user, a)
		if err != nil || ok {
			return e, err
		}
	}
	e, err := s.compileMember(ctx, account, user)
	if err != nil {
		return memberEntry{}, err
	}
	s.cache.putMember(gen, k, e)
	return e, nil
}

// loadHeld is loadMember for callers that only read the member: one the
// cache holds is assembled in the value returned, without allocating (on
// every request of an account key, see keyStanding).
func (s *Service) loadHeld(ctx context.Context, account, user equipe.ID) (heldMember, error) {
	if h, ok := s.cache.members.get(memberKey{account, user}, nil); ok {
		s.cache.counted(true)
		return h, nil
	}
	e, err := s.loadMember(ctx, account, user)
	if err != nil {
		return heldMember{}, err
	}
	h := heldMember{has: e.m != nil, firm: e.firm, active: e.active}
	if e.m != nil {
		h.m = *e.m
	}
	if !e.joined.IsZero() {
		h.joined = e.joined.UnixNano()
	}
	return h, nil
}

// loadAccountMembers reads every member of the account a in one statement
// and keeps them (the others only where they fit without evicting), and
// returns the user's entry; ok is false when it cannot say (the account
// has more members than smallAccount, or the user is no member of it and
// may be one through its firm).
func (s *Service) loadAccountMembers(ctx context.Context, gen uint64, account, user equipe.ID, a accountEntry) (memberEntry, bool, error) {
	ms, complete, err := s.DB.AccountMembersAccess(ctx, account, smallAccount)
	if err != nil || !complete {
		return memberEntry{}, false, err
	}
	var asked memberEntry
	found, full := false, false
	for _, m := range ms {
		k := memberKey{account, m.UserID}
		if m.UserID != user && (full || s.cache.holdsMember(k)) {
			continue
		}
		in, e := s.accessInput(account, m, account, false)
		e.m = s.Catalogue.Compile(*in)
		if m.UserID == user {
			asked, found = e, true
			s.cache.putMember(gen, k, e)
		} else if !s.cache.putMemberIfRoom(gen, k, e) {
			full = true // the others would not fit either
		}
	}
	if !found && a.parent != nil {
		return memberEntry{}, false, nil
	}
	if !found {
		// No member, and no firm to be one through.
		s.cache.putMember(gen, memberKey{account, user}, asked)
	}
	return asked, true, nil
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
	m, exists, member, err := s.DB.MemberAccess(ctx, account, user)
	if err != nil || !exists {
		// Not a member, as far as anyone asking may know: whether the
		// identity exists elsewhere is no account's business.
		return nil, memberEntry{}, err
	}
	if member {
		in, e := s.accessInput(account, m, account, false)
		return in, e, nil
	}
	// Not a member: perhaps staff of the parent firm.
	acct, err := s.loadAccount(ctx, account)
	if err != nil || acct.parent == nil {
		return nil, memberEntry{}, err
	}
	firm := *acct.parent
	fm, _, member, err := s.DB.MemberAccess(ctx, firm, user)
	if err != nil || !member {
		return nil, memberEntry{}, err
	}
	if fm.Role != equipe.RoleAdmin {
		assigned, err := s.DB.IsClientStaff(ctx, account, user)
		if err != nil || !assigned {
			return nil, memberEntry{firm: firm}, err
		}
	}
	in, e := s.accessInput(account, fm, firm, true)
	return in, e, nil
}

// accessInput is what compiling the user of m in account takes, from
// membership m (of account itself, or of the firm roleAccount when
// viaFirm).
func (s *Service) accessInput(account equipe.ID, m store.MemberAccess, roleAccount equipe.ID, viaFirm bool) (*access.Input, memberEntry) {
	// The catalogue's roles come first, as in resolveRole.
	role, ok := s.Catalogue.Role(m.Role)
	if !ok {
		role = access.Role{Key: m.Role}
		if m.CustomRole != nil {
			role = customRole(*m.CustomRole)
		}
	}
	var resources []equipe.ID
	if !viaFirm {
		resources = m.Resources
	}
	// The account learns that the instance disabled the identity once the
	// person joined it, as its team page does (store.MemberRow.UserDisabled):
	// before, they are denied as a member not active yet.
	in := &access.Input{UserID: m.UserID, AccountID: account, Role: role, Overrides: overrides(m.Overrides),
		Resources: resources, Status: access.StatusOf(m.Status), UserDisabled: m.UserDisabled && !m.JoinedAt.IsZero(),
		ViaFirm: viaFirm}
	e := memberEntry{joined: m.JoinedAt, active: m.Status == equipe.MemberActive}
	if viaFirm {
		e.firm = roleAccount
	}
	return in, e
}

// loadUser returns what the cache knows of a user who made instance keys,
// from the cache or the store.
func (s *Service) loadUser(ctx context.Context, id equipe.ID) (userEntry, error) {
	if e, ok := s.cache.user(id); ok {
		return e, nil
	}
	gen := s.cache.generation()
	e, err := userEntryOf(s.DB.UserByID(ctx, id))
	if err != nil {
		return userEntry{}, err
	}
	s.cache.putUser(gen, id, e)
	return e, nil
}

// userEntryOf is what the cache keeps of the user a store read returned.
func userEntryOf(u equipe.User, err error) (userEntry, error) {
	if err != nil && equipe.ErrorCode(err) != equipe.ENOTFOUND {
		return userEntry{}, err
	}
	return userEntry{exists: err == nil, instanceAdmin: u.InstanceAdmin, disabled: !u.DisabledAt.IsZero()}, nil
}
