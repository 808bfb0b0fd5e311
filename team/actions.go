package team

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/store"
)

// Allowed says whether a reader may take an action and, if not, why: Err is
// the very refusal the action would answer (its Key is the problem code).
type Allowed struct {
	Err *equipe.Error
}

// OK reports whether the action is allowed.
func (a Allowed) OK() bool { return a.Err == nil }

// Until returns, for an action a throttle refuses for now, when it will be
// possible again; otherwise the zero time.
func (a Allowed) Until() time.Time {
	if a.Err == nil || a.Err.Code != equipe.ERATELIMITED {
		return time.Time{}
	}
	return a.Err.Until
}

// Code returns the refusal's code, "" when the action is allowed.
func (a Allowed) Code() string {
	if a.Err == nil {
		return ""
	}
	return a.Err.Key
}

// allowed turns a rule's answer into an Allowed. A rule answers nil, or the
// refusal as an *equipe.Error.
func allowed(err error) Allowed {
	if err == nil {
		return Allowed{}
	}
	return Allowed{Err: equipe.AsError(err)}
}

// Actions answers, for a reader and a target, which actions the reader may
// take: each action's name, in the order pages offer them, with its answer.
type Actions []ActionAnswer

// ActionAnswer is one action of Actions.
type ActionAnswer struct {
	Name string
	Allowed
}

// Get returns the answer for the action name; an action the target does
// not have is not allowed.
func (as Actions) Get(name string) Allowed {
	for _, a := range as {
		if a.Name == name {
			return a.Allowed
		}
	}
	return Allowed{Err: equipe.Errorf(equipe.ENOTFOUND, "error.not_found")}
}

// May reports whether the action name is allowed.
func (as Actions) May(name string) bool { return as.Get(name).OK() }

// Actions on a member, in the order pages offer them: those that send an
// email first, the destructive ones last.
const (
	MemberEdit       = "edit"              // change the role, permissions, resources or job title
	MemberInvite     = "invite"            // send the invitation (or activation) email, or again
	MemberReset      = "reset_password"    // send a password-reset link (an invitation to one who never joined)
	MemberRevoke     = "revoke_invitation" // make a pending invitation link unusable
	MemberReactivate = "reactivate"
	MemberSuspend    = "suspend"
	MemberRemove     = "remove"
)

// MemberActionNames lists the actions on a member, in order.
var MemberActionNames = []string{MemberEdit, MemberInvite, MemberReset, MemberRevoke, MemberReactivate, MemberSuspend, MemberRemove}

// onMember is what the rules about an action on a member read: the actor,
// their rights in the account (nil when they may not manage its members:
// refusal says why), the account's active administrators, and the member
// as they stand with their rights.
type onMember struct {
	actor   Actor
	am      *access.Member
	refusal error
	admins  func() (int, error) // how many active administrators the account has
	member  equipe.Member
	// disabled: the member joined, and the instance has since disabled
	// their identity (of a member who has not joined, the account learns
	// nothing of the kind).
	disabled bool
	rights   func() (*access.Member, error)
	// elsewhere reports whether the member administers another account
	// that the actor does not administer.
	elsewhere func() (bool, error)
	// throttled answers whether the throttles of an email-sending action
	// ("invite", "reset") on the member refuse it for now: the refusal, or
	// nil. Nil when the caller counts the action against them itself (the
	// use case taking it, in its unit of work).
	throttled func(what string) (*equipe.Error, error)
}

// pendingInvitation reports whether the member was sent an invitation they
// have not accepted yet.
func pendingInvitation(m equipe.Member) bool {
	return m.Status == equipe.MemberInvited && m.JoinedAt.IsZero() && m.InvitationsSent > 0
}

// lastAdmin reports whether the member is the account's only active
// administrator.
func (c onMember) lastAdmin() (bool, error) {
	if c.member.Role != equipe.RoleAdmin || c.member.Status != equipe.MemberActive {
		return false, nil
	}
	n, err := c.admins()
	return n <= 1, err
}

// outranks returns member.outranks when the member holding role, with the
// rights that rights reads, holds something the actor am does not, or nil:
// an administrator outranks everyone. It is the one rank rule, both for
// acting on a member (memberRule) and for changing or deleting the custom
// role they hold (UpdateRole, DeleteRole), which changes them as surely.
func (s *Service) outranks(am *access.Member, role string, rights func() (*access.Member, error)) error {
	if isAdmin(am) {
		return nil
	}
	// The administrator role itself is what a custom role never holds,
	// however many permissions it grants: only an administrator changes,
	// suspends or removes another.
	if role == equipe.RoleAdmin {
		return s.missingRefusal("member.outranks", []string{equipe.RoleAdmin})
	}
	r, err := rights()
	if err != nil {
		return err
	}
	if ok, missing := s.Catalogue.CoversMember(am, r); !ok {
		return s.missingRefusal("member.outranks", missing)
	}
	return nil
}

// memberRule returns the refusal of the action on the member, or nil. It is
// the one rule both for offering an action (MemberActions, the team page)
// and for taking it (the use case, on the member as they stand in its unit
// of work): an action offered is one that succeeds, bar what its input
// decides (a role beyond the actor's, a throttle).
//
//   - The actor needs members.manage, and may act only on a member who holds
//     nothing the actor does not (an administrator may act on anyone) —
//     except to send again an invitation already sent and not yet accepted:
//     the link goes to the member's own address and grants nothing they were
//     not already given (the partner who created an account for a business,
//     a Manager there, re-sends its owner's invitation).
//   - What the member's status allows; the account keeps an active
//     administrator; nobody resets the password of someone who administers
//     an account they do not administer, nor of a member whose identity the
//     instance disabled.
//   - Nobody invites, resets, suspends, reactivates or removes themselves.
func (s *Service) memberRule(c onMember, action string) error {
	if c.refusal != nil {
		return c.refusal
	}
	resend := action == MemberInvite && pendingInvitation(c.member)
	if !resend {
		if err := s.outranks(c.am, c.member.Role, c.rights); err != nil {
			return err
		}
	}
	status := c.member.Status
	switch action {
	case MemberInvite:
		switch status {
		case equipe.MemberActive:
			return conflict("invitation.already_joined", nil)
		case equipe.MemberSuspended:
			return conflict("invitation.member_suspended", nil)
		}
	case MemberRevoke:
		if status != equipe.MemberInvited {
			return conflict("invitation.none_pending", nil)
		}
	case MemberReset:
		if status == equipe.MemberSuspended {
			return conflict("member.suspended", nil)
		}
		// A reset link to an identity the instance disabled would not work
		// (no reset link is sent to one): nothing goes out.
		if status == equipe.MemberActive && c.disabled {
			return conflict("member.identity_disabled", nil)
		}
		// A password-reset link is no way into another account: someone who
		// administers an account the actor does not administer resets
		// their own password, from the login page.
		if status == equipe.MemberActive && !c.actor.instance() {
			other, err := c.elsewhere()
			if err != nil {
				return err
			}
			if other {
				return forbidden("member.reset_admin_elsewhere", nil)
			}
		}
	case MemberReactivate:
		if status != equipe.MemberSuspended {
			return conflict("member.not_suspended", nil)
		}
	case MemberSuspend, MemberRemove:
		if action == MemberSuspend && status == equipe.MemberSuspended {
			return conflict("member.already_suspended", nil)
		}
		last, err := c.lastAdmin()
		if err != nil {
			return err
		}
		if last {
			return conflict("member.last_admin", nil)
		}
	}
	if action != MemberEdit && c.actor.is(c.member.UserID) {
		return forbidden("member.self", nil)
	}
	// Throttles last: an action refused for now is one that will be
	// possible later, and the answer says when.
	if c.throttled != nil && (action == MemberInvite || action == MemberReset) {
		whats := []string{"invite"}
		if action == MemberReset {
			// A reset for someone who never joined sends an invitation:
			// it counts as both.
			whats = []string{"reset"}
			if status != equipe.MemberActive {
				whats = append(whats, "invite")
			}
		}
		for _, what := range whats {
			refusal, err := c.throttled(what)
			if err != nil {
				return err
			}
			if refusal != nil {
				return refusal
			}
		}
	}
	return nil
}

// memberActions answers every action on the member of c.
func (s *Service) memberActions(c onMember) (Actions, error) {
	out := make(Actions, 0, len(MemberActionNames))
	for _, name := range MemberActionNames {
		err := s.memberRule(c, name)
		if err != nil && !isRefusal(err) {
			return nil, err
		}
		out = append(out, ActionAnswer{Name: name, Allowed: allowed(err)})
	}
	return out, nil
}

// isRefusal reports whether err is a rule's refusal rather than a fault.
func isRefusal(err error) bool {
	switch equipe.ErrorCode(err) {
	case equipe.EFORBIDDEN, equipe.ECONFLICT, equipe.EINVALID, equipe.ERATELIMITED:
		return true
	}
	return false
}

// managing returns the actor's rights to manage the members of the account:
// their membership, or, when they may not manage members, the refusal. An
// account out of the actor's reach answers ENOTFOUND (err).
func (s *Service) managing(ctx context.Context, actor Actor, account equipe.ID) (am *access.Member, refusal, err error) {
	am, _, err = s.authorize(ctx, actor, account, "members.manage")
	if equipe.ErrorCode(err) == equipe.EFORBIDDEN {
		return nil, err, nil
	}
	return am, nil, err
}

// readCase holds what the rules read of the actor and the account when
// answering for several members at once: their rights, and the count of
// active administrators (read once, when a member's answer needs it).
type readCase struct {
	s       *Service
	ctx     context.Context
	actor   Actor
	account equipe.ID
	am      *access.Member
	refusal error
	admins  int
	counted bool
	roles   map[string]access.Role
	// elsewhere holds, for the members asked about, whether they
	// administer another account the actor does not (see prefetch).
	elsewhere map[equipe.ID]bool
	// windows holds where the email throttles of the members asked about
	// (and of the account) stand; throttlesOf says whose were read.
	windows     map[string]store.HitWindow
	throttlesOf map[equipe.ID]bool
	now         time.Time
}

// prefetchThrottles reads at once where the email throttles of the members
// of a page stand: one query rather than one a member.
func (rc *readCase) prefetchThrottles(users []equipe.ID) error {
	if rc.refusal != nil || len(users) == 0 {
		return nil
	}
	keys := make([]string, 0, 2*len(users)+2)
	for _, what := range []string{"invite", "reset"} {
		for i, u := range users {
			byMember, byAccount := throttleKeys(what, rc.account, u)
			if i == 0 {
				keys = append(keys, byAccount)
			}
			keys = append(keys, byMember)
		}
	}
	ws, err := rc.s.DB.HitWindows(rc.ctx, keys)
	if err != nil {
		return err
	}
	if rc.windows == nil {
		rc.windows, rc.throttlesOf = map[string]store.HitWindow{}, map[equipe.ID]bool{}
	}
	for _, k := range keys {
		if w, ok := ws[k]; ok {
			rc.windows[k] = w
		} else {
			delete(rc.windows, k)
		}
	}
	for _, u := range users {
		rc.throttlesOf[u] = true
	}
	return nil
}

// prefetch reads at once, for the members of a page, what their answers
// need beyond themselves: one query rather than one a member.
func (rc *readCase) prefetch(users []equipe.ID) error {
	if rc.refusal != nil {
		return nil
	}
	m, err := rc.s.DB.AdminsElsewhere(rc.ctx, users, rc.actor.userID(), rc.account)
	if err != nil {
		return err
	}
	if rc.elsewhere == nil {
		rc.elsewhere = map[equipe.ID]bool{}
	}
	for _, u := range users {
		rc.elsewhere[u] = m[u]
	}
	return nil
}

func (s *Service) readCase(ctx context.Context, actor Actor, account equipe.ID) (*readCase, error) {
	am, refusal, err := s.managing(ctx, actor, account)
	if err != nil {
		return nil, err
	}
	return &readCase{s: s, ctx: ctx, actor: actor, account: account, am: am, refusal: refusal, roles: map[string]access.Role{},
		now: s.now()}, nil
}

// of returns the case of member m, with their resources when known (nil:
// read them when needed); disabled says whether the instance disabled the
// identity of m, who joined.
func (rc *readCase) of(m equipe.Member, resources []equipe.ID, disabled bool) onMember {
	return onMember{actor: rc.actor, am: rc.am, refusal: rc.refusal, member: m, disabled: disabled && !m.JoinedAt.IsZero(),
		admins: func() (int, error) {
			if !rc.counted {
				n, err := rc.s.DB.CountActiveAdmins(rc.ctx, rc.account)
				if err != nil {
					return 0, err
				}
				rc.admins, rc.counted = n, true
			}
			return rc.admins, nil
		},
		throttled: func(what string) (*equipe.Error, error) {
			if !rc.throttlesOf[m.UserID] {
				if err := rc.prefetchThrottles([]equipe.ID{m.UserID}); err != nil {
					return nil, err
				}
			}
			return throttledAt(rc.windows, what, rc.account, m.UserID, rc.now), nil
		},
		elsewhere: func() (bool, error) {
			if other, ok := rc.elsewhere[m.UserID]; ok {
				return other, nil
			}
			if err := rc.prefetch([]equipe.ID{m.UserID}); err != nil {
				return false, err
			}
			return rc.elsewhere[m.UserID], nil
		},
		rights: func() (*access.Member, error) {
			role, ok := rc.roles[m.Role]
			if !ok {
				var err error
				if role, _, err = rc.s.resolveRole(rc.ctx, rc.s.DB.Queries, rc.account, m.Role); err != nil {
					return nil, err
				}
				rc.roles[m.Role] = role
			}
			if resources == nil {
				var err error
				if resources, err = rc.s.DB.MemberResources(rc.ctx, rc.account, m.UserID); err != nil {
					return nil, err
				}
			}
			return rc.s.Catalogue.Compile(access.Input{UserID: m.UserID, AccountID: m.AccountID, Role: role,
				Overrides: overrides(m.Overrides), Resources: resources, Status: access.StatusOf(m.Status)}), nil
		}}
}
