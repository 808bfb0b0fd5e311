package team

import (
	"context"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/store"
)

// CheckQuery asks whether a user may do something in an account.
type CheckQuery struct {
	User       equipe.ID
	Account    equipe.ID
	Permission string
	Query      access.Query // the optional resource and record owner
	// UserRef, when set, names the user instead of User (by external ID or
	// email, resolved among the account's members; see UserRef).
	UserRef *UserRef
	// OwnerRef, when set, names the record's owner instead of Query.Owner:
	// one that names no member of the account owns the record as someone
	// other than any member does.
	OwnerRef *UserRef
}

// deniedOutOfReach answers a caller asking about an account it may not see:
// the same reason as for an account that does not exist, so that the caller
// does not learn which accounts exist.
const deniedOutOfReach = access.DeniedUnknownAccount

// maxBatch bounds a batch of checks.
const maxBatch = 1000

// Check answers a check. Callers: an instance API key or an instance
// administrator (any account), an account API key (its own account), or a
// member who may view the account's members. Whatever is unknown or out of
// the caller's reach is denied with a reason, never an error: only a fault
// of the service (the database unreachable) is an error. A user who does
// not exist is denied as one who is no member (denied_not_member): the
// answer does not tell whether an identity exists in another account.
func (s *Service) Check(ctx context.Context, caller Actor, q CheckQuery) (access.Decision, error) {
	d, err := s.check(ctx, caller, q)
	if err == nil {
		s.checks.count(d.Reason)
	}
	return d, err
}

func (s *Service) check(ctx context.Context, caller Actor, q CheckQuery) (access.Decision, error) {
	if ok, err := s.mayAsk(ctx, caller, q.Account); err != nil || !ok {
		if err == nil {
			s.refusedAcross(ctx, caller, q.Account, "check")
		}
		return access.Decision{Reason: deniedOutOfReach}, err
	}
	if q.UserRef != nil || q.OwnerRef != nil {
		var d *access.Decision
		var err error
		if q, d, err = s.resolveRefs(ctx, caller, q); err != nil || d != nil {
			return derefDecision(d), err
		}
	}
	// Both from the cache under one lock, as nearly every check finds them;
	// else each from the cache or the store.
	// The member found in the cache is assembled in h, on the stack: a
	// check answered from the cache allocates nothing.
	ha, h, cached := s.cache.accountMember(q.Account, q.User)
	a, m := ha.account(), h.member()
	if !cached {
		acct, err := s.loadAccount(ctx, q.Account)
		if err != nil {
			return access.Decision{}, err
		}
		if a = acct.a; a != nil {
			e, err := s.loadMember(ctx, q.Account, q.User)
			if err != nil {
				return access.Decision{}, err
			}
			m = e.m
		}
	}
	if a == nil {
		return access.Decision{Reason: access.DeniedUnknownAccount}, nil
	}
	return s.Catalogue.Check(m, a, q.Permission, q.Query), nil
}

// resolveRefs turns the references of q into user IDs among the people of
// the account (resolvePerson), or returns the denial of a user it names no
// one by.
func (s *Service) resolveRefs(ctx context.Context, caller Actor, q CheckQuery) (CheckQuery, *access.Decision, error) {
	if q.UserRef != nil {
		id, ok, err := s.resolvePerson(ctx, caller, q.Account, *q.UserRef)
		if err != nil {
			return q, nil, err
		}
		if !ok {
			return q, &access.Decision{Reason: access.DeniedNotMember}, nil
		}
		q.User, q.UserRef = id, nil
	}
	if q.OwnerRef != nil {
		id, ok, err := s.resolvePerson(ctx, caller, q.Account, *q.OwnerRef)
		if err != nil {
			return q, nil, err
		}
		if !ok {
			id = equipe.ID{} // no member's ID: the record is someone else's
		}
		q.Query.Owner, q.Query.OwnerKnown, q.OwnerRef = id, true, nil
	}
	return q, nil, nil
}

// resolvePerson returns the user ID of the person of the account that ref
// names, for a question the caller asks there: a member of the account
// (resolveMember), else, in a client account, a member of its firm, named
// as the firm names them, whom the check then answers as it answers them by
// ID (allowed where they act in the client: the firm's administrators and
// the staff assigned to it). The firm's staff are found so only by a caller
// they are named to (staffUnnamed): the client's own keys and members learn
// nothing of who they are from an address tried. It returns false when ref
// names no one.
func (s *Service) resolvePerson(ctx context.Context, caller Actor, account equipe.ID, ref UserRef) (equipe.ID, bool, error) {
	id, ok, err := s.resolveMember(ctx, account, ref)
	if err != nil || ok || ref.Kind == RefID {
		return id, ok, err
	}
	acct, err := s.loadAccount(ctx, account)
	if err != nil || acct.parent == nil {
		return id, false, err
	}
	if unnamed, err := s.staffUnnamed(ctx, caller, account); err != nil || unnamed {
		return id, false, err
	}
	return s.resolveMember(ctx, *acct.parent, ref)
}

func derefDecision(d *access.Decision) access.Decision {
	if d == nil {
		return access.Decision{}
	}
	return *d
}

// CheckBatch answers up to 1,000 checks, in order.
func (s *Service) CheckBatch(ctx context.Context, caller Actor, qs []CheckQuery) ([]access.Decision, error) {
	if len(qs) > maxBatch {
		return nil, &equipe.Error{Code: equipe.EINVALID, Key: "check.batch_too_large", Args: map[string]any{"max": maxBatch}}
	}
	out := make([]access.Decision, len(qs))
	for i, q := range qs {
		d, err := s.Check(ctx, caller, q)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

// mayAsk reports whether the caller may ask questions about the account: the
// instance, an API key of the account (or of its firm), or an
// administrator's session.
func (s *Service) mayAsk(ctx context.Context, caller Actor, account equipe.ID) (bool, error) {
	switch {
	case caller.instance():
		return true, nil
	case caller.Key != nil:
		if *caller.Key.AccountID == account {
			return true, nil
		}
		// A firm's key may also ask about the firm's client accounts.
		acct, err := s.loadAccount(ctx, account)
		return err == nil && acct.parent != nil && *acct.parent == *caller.Key.AccountID, err
	case caller.User != nil:
		// A session asks only as an administrator of the account (through
		// the firm, for a client), not as any member.
		m, _, err := s.actorMember(ctx, caller, account)
		if err != nil || m == nil {
			return false, err
		}
		return isAdmin(m) && m.Blocked() == "", nil
	}
	return false, nil
}

// operatorID stands for the operator (Actor.Operator) where a compiled
// membership needs someone: no user or key has it.
var operatorID = equipe.ID{15: 1}

// actorMember returns the actor's compiled membership of the account and the
// account, or nil when the account is out of the actor's reach (unknown, or
// the actor is not a member). An API key acts with its role; the instance
// acts as an administrator.
func (s *Service) actorMember(ctx context.Context, actor Actor, account equipe.ID) (*access.Member, *access.Account, error) {
	acct, err := s.loadAccount(ctx, account)
	if err != nil || acct.a == nil {
		return nil, nil, err
	}
	switch {
	case actor.Key != nil && actor.Key.AccountID != nil:
		if *actor.Key.AccountID != account {
			return nil, nil, nil
		}
		m, err := s.keyMember(ctx, actor.Key, account)
		if err != nil || m == nil {
			return nil, nil, err
		}
		return m, acct.a, nil
	case actor.instance():
		admin, _ := s.Catalogue.Role(equipe.RoleAdmin)
		id := operatorID
		if actor.Key != nil {
			id = actor.Key.ID
		} else if actor.User != nil {
			id = actor.User.ID
		}
		return s.Catalogue.Compile(access.Input{UserID: id, AccountID: account, Role: admin,
			Status: access.MemberActive}), acct.a, nil
	case actor.User != nil:
		e, err := s.loadMember(ctx, account, actor.User.ID)
		if err != nil || e.m == nil {
			return nil, nil, err
		}
		if e.m.Blocked() != "" {
			return nil, nil, nil
		}
		return e.m, acct.a, nil
	}
	return nil, nil, nil
}

// authorize returns the actor's membership of the account when it holds
// permission there. An account out of the actor's reach answers ENOTFOUND
// (not whether it exists); within reach, a missing permission answers
// EFORBIDDEN naming it.
func (s *Service) authorize(ctx context.Context, actor Actor, account equipe.ID, permission string) (*access.Member, *access.Account, error) {
	m, a, err := s.actorMember(ctx, actor, account)
	if err != nil {
		return nil, nil, err
	}
	if m == nil {
		s.refusedAcross(ctx, actor, account, permission)
		return nil, nil, notFound()
	}
	if err := s.permission(m, a, permission); err != nil {
		return nil, nil, err
	}
	return m, a, nil
}

// permission returns the refusal of a member m who does not hold permission
// in the account, EFORBIDDEN "access.permission_required" naming it, or nil.
func (s *Service) permission(m *access.Member, a *access.Account, permission string) error {
	if s.Catalogue.Check(m, a, permission, access.Query{}).Allowed {
		return nil
	}
	p, _ := s.Catalogue.Permission(permission)
	return forbidden("access.permission_required", map[string]any{"permission": permission,
		"label_fr": p.Label.FR, "label_en": p.Label.EN})
}

// current re-reads, under the lock that every change to a member takes first
// (the account's active administrators, see LockActiveAdmins), the rights of
// an actor who is a member of the account themselves, and returns what they
// hold now: a demotion, a suspension or a removal that committed after their
// rights were first read is seen, and an actor who no longer holds
// permission is refused with EFORBIDDEN "access.changed". The instance, API
// keys and a firm's staff acting in a client keep the rights read before.
func (s *Service) current(ctx context.Context, tx *store.Tx, actor Actor, account equipe.ID, am *access.Member, a *access.Account, permission string) (*access.Member, error) {
	if actor.User == nil || actor.Key != nil || actor.instance() || am.ViaFirm() {
		return am, nil
	}
	m, err := tx.Member(ctx, account, actor.User.ID)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return nil, forbidden("access.changed", nil)
	} else if err != nil {
		return nil, err
	}
	resources, err := tx.MemberResources(ctx, account, actor.User.ID)
	if err != nil {
		return nil, err
	}
	fresh, err := s.compileIn(ctx, tx.Queries, m, resources)
	if err != nil {
		return nil, err
	}
	if !s.Catalogue.Check(fresh, a, permission, access.Query{}).Allowed {
		return nil, forbidden("access.changed", nil)
	}
	return fresh, nil
}

// isAdmin reports whether the member holds the administrator role, or is the
// instance acting as one.
func isAdmin(m *access.Member) bool { return m.RoleKey() == equipe.RoleAdmin }

// Effective is what a member may do in an account, for the
// effective-permissions view.
type Effective struct {
	Member      *access.Member
	Permissions []access.Effective
	Resources   []equipe.ID
	ViaFirm     bool
	Blocked     access.Reason // why every check is denied, if one is
}

// EffectivePermissions returns what the user may do in the account. The
// actor must be able to view the account's members. One of the firm's staff
// is, to a reader they are not named to (staffUnnamed), no one: ENOTFOUND,
// as for anyone who does not reach the account, so that an ID cannot be
// tried to learn who of the firm reaches it.
func (s *Service) EffectivePermissions(ctx context.Context, actor Actor, account, user equipe.ID) (Effective, error) {
	if _, _, err := s.authorize(ctx, actor, account, "members.view"); err != nil {
		return Effective{}, err
	}
	e, err := s.loadMember(ctx, account, user)
	if err != nil {
		return Effective{}, err
	}
	if e.m == nil {
		return Effective{}, notFound()
	}
	if e.m.ViaFirm() {
		if unnamed, err := s.staffUnnamed(ctx, actor, account); err != nil {
			return Effective{}, err
		} else if unnamed {
			return Effective{}, notFound()
		}
	}
	return Effective{Member: e.m, Permissions: s.Catalogue.Effective(e.m), Resources: e.m.Resources(),
		ViaFirm: e.m.ViaFirm(), Blocked: e.m.Blocked()}, nil
}
