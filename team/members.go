package team

import (
	"context"
	"slices"
	"strings"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/work"
)

// memberWork is a member an action works on, in its unit of work: the
// account, the member and their identity as they stand under the unit's
// locks, their assigned resources, and the actor's rights as they stand.
type memberWork struct {
	acct      equipe.Account
	member    equipe.Member
	user      equipe.User
	resources []equipe.ID
	am        *access.Member
	admins    []equipe.ID
}

// state is the member's state for change events.
func (mw *memberWork) state() event.Member { return event.MemberOf(mw.member, mw.resources) }

// actOnMember runs fn on a member of the account in one unit of work, once
// memberRule allows the action on the member as they stand. The account's
// active administrators are locked first, then the member, always in this
// order: two changes at once wait for each other instead of deadlocking, and
// the second sees what the first left (an account never loses its last
// administrator to a race). The actor's own rights are read again under the
// same lock: a manager demoted meanwhile no longer completes a change with
// the rights they lost.
func (s *Service) actOnMember(ctx context.Context, actor Actor, account, user equipe.ID, action string,
	fn func(u *work.Unit, mw *memberWork) error) error {
	am, aa, err := s.authorize(ctx, actor, account, "members.manage")
	if err != nil {
		return err
	}
	return s.do(ctx, actor, func(u *work.Unit) error {
		admins, err := u.LockActiveAdmins(ctx, account)
		if err != nil {
			return err
		}
		am, err := s.current(ctx, u.Tx, actor, account, am, aa, "members.manage")
		if err != nil {
			return err
		}
		target, err := u.LockMember(ctx, account, user)
		if equipe.ErrorCode(err) == equipe.ENOTFOUND {
			return notFound()
		} else if err != nil {
			return err
		}
		resources, err := u.MemberResources(ctx, account, user)
		if err != nil {
			return err
		}
		usr, err := u.UserByID(ctx, user)
		if err != nil {
			return err
		}
		c := onMember{actor: actor, am: am, member: target, disabled: !usr.DisabledAt.IsZero() && !target.JoinedAt.IsZero(),
			admins: func() (int, error) { return len(admins), nil },
			rights: func() (*access.Member, error) { return s.compileIn(ctx, u.Tx.Queries, target, resources) },
			elsewhere: func() (bool, error) {
				m, err := u.AdminsElsewhere(ctx, []equipe.ID{user}, actor.userID(), account)
				return m[user], err
			}}
		if err := s.memberRule(c, action); err != nil {
			return err
		}
		acct, err := s.accountIn(ctx, u.Tx.Queries, account)
		if err != nil {
			return err
		}
		return fn(u, &memberWork{acct: acct, member: target, user: usr, resources: resources, am: am, admins: admins})
	})
}

// compileIn compiles member m with their resources, reading their role with q.
func (s *Service) compileIn(ctx context.Context, q store.Queries, m equipe.Member, resources []equipe.ID) (*access.Member, error) {
	role, _, err := s.resolveRole(ctx, q, m.AccountID, m.Role)
	if err != nil {
		return nil, err
	}
	return s.Catalogue.Compile(access.Input{UserID: m.UserID, AccountID: m.AccountID, Role: role,
		Overrides: overrides(m.Overrides), Resources: resources, Status: access.StatusOf(m.Status)}), nil
}

// MemberChange is a change to a member: each field given (non-nil) is set.
type MemberChange struct {
	Role      *string
	Overrides *[]equipe.Override
	Resources *[]equipe.ID
	Title     *string
	// Status suspends (suspended) or reactivates (active) the member, as
	// Suspend and Reactivate do.
	Status *equipe.MemberStatus
	// Clients, in a firm, are the client accounts the member is assigned
	// to among those the actor reaches: assignments to the others stay.
	// Each change is a client.staff_assigned or client.staff_unassigned
	// event, in the same unit of work as the member's change.
	Clients *[]equipe.ID
	// ExternalID sets the vendor's identifier of the member in the account
	// ("" clears it); unique in the account, ECONFLICT
	// "member.external_id_taken" otherwise.
	ExternalID *string
	// NotificationEmail sets where the account's notifications to the
	// member go instead of their login email, as NewMember's does ("" for
	// the login email).
	NotificationEmail *string
}

// ChangeMember applies a change to a member of the account, under the rules
// that always hold:
//
//   - the actor needs members.manage, and may change only a member who holds
//     nothing the actor does not (an administrator may change anyone);
//   - nobody grants a role, permission, scope or resource they do not hold,
//     and only an administrator makes an administrator;
//   - the account keeps at least one active administrator, even when two
//     administrators demote or suspend each other at the same moment;
//   - a member keeps a resource of each required type the account has in
//     use, and is given no archived resource they did not hold.
//
// Violations answer EFORBIDDEN or ECONFLICT with a key that explains the
// rule, and change nothing. The change is one event: member.suspended or
// member.reactivated when the status changes, member.changed otherwise.
func (s *Service) ChangeMember(ctx context.Context, actor Actor, account, user equipe.ID, ch MemberChange) (equipe.Member, error) {
	var v equipe.Invalid
	var ovs []access.Override
	if ch.Overrides != nil {
		ovs = s.checkOverrides(&v, *ch.Overrides)
	}
	if ch.Title != nil {
		t := checkTitle(&v, *ch.Title)
		ch.Title = &t
	}
	if ch.Status != nil && *ch.Status != equipe.MemberActive && *ch.Status != equipe.MemberSuspended {
		v.Add("status", "member.status_invalid")
	}
	if ch.ExternalID != nil && *ch.ExternalID != "" {
		checkPersonExternalID(&v, "external_id", *ch.ExternalID)
	}
	if ch.NotificationEmail != nil {
		notify := ""
		if strings.TrimSpace(*ch.NotificationEmail) != "" {
			var p string
			if notify, _, p = identity.NormalizeEmail(*ch.NotificationEmail); p != "" {
				v.Add("notification_email", p)
			}
		}
		ch.NotificationEmail = &notify
	}
	if err := v.Err(); err != nil {
		return equipe.Member{}, err
	}
	var reach []equipe.ID // the firm's clients the actor reaches
	if ch.Clients != nil {
		cs := uniqueIDs(*ch.Clients)
		ch.Clients = &cs
		if err := s.reachClients(ctx, actor, account, cs); err != nil {
			return equipe.Member{}, err
		}
		clients, err := s.Clients(ctx, actor, account)
		if err != nil {
			return equipe.Member{}, err
		}
		for _, c := range clients {
			reach = append(reach, c.Account.ID)
		}
	}
	var after equipe.Member
	err := s.actOnMember(ctx, actor, account, user, MemberEdit, func(u *work.Unit, mw *memberWork) error {
		before, am := mw.member, mw.am
		after = before
		kind := event.MemberChanged
		if ch.Status != nil && *ch.Status != before.Status {
			action, k := MemberSuspend, event.MemberSuspended
			if *ch.Status == equipe.MemberActive {
				action, k = MemberReactivate, event.MemberReactivated
			}
			c := onMember{actor: actor, am: am, member: before, admins: func() (int, error) { return len(mw.admins), nil },
				rights: func() (*access.Member, error) { return s.compileIn(ctx, u.Tx.Queries, before, mw.resources) }}
			// Only suspending and reactivating are judged here: neither reads
			// what the member administers elsewhere.
			if err := s.memberRule(c, action); err != nil {
				return err
			}
			st, err := s.statusAfter(ctx, u, before, *ch.Status)
			if err != nil {
				return err
			}
			after.Status, kind = st, k
		}
		if ch.Role != nil && *ch.Role != before.Role {
			role, found, err := s.resolveRole(ctx, u.Tx.Queries, account, *ch.Role)
			if err != nil {
				return err
			}
			if !found {
				return fieldError("role", "role.unknown")
			}
			if err := s.mayGrantRole(am, role); err != nil {
				return err
			}
			after.Role = *ch.Role
		}
		if ch.Overrides != nil {
			if ok, missing := s.Catalogue.CoversOverrides(am, ovs); !ok {
				return s.missingRefusal("role.beyond_own", missing)
			}
			after.Overrides = *ch.Overrides
		}
		if ch.Title != nil {
			after.Title = *ch.Title
		}
		if ch.ExternalID != nil {
			after.ExternalID = *ch.ExternalID
		}
		if ch.NotificationEmail != nil {
			after.NotificationEmail = *ch.NotificationEmail
		}
		resources := mw.resources
		if ch.Resources != nil {
			if ok, _ := am.CoversResources(*ch.Resources); !ok {
				return forbidden("member.resource_beyond_own", nil)
			}
			all, err := s.resourcesIn(ctx, u, account)
			if err != nil {
				return err
			}
			if err := newlyArchived(all, *ch.Resources, mw.resources); err != nil {
				return err
			}
			// Only resources in use count: a member whose one product
			// was archived is given one in use when their resources change.
			if missing := s.Catalogue.MissingRequired(activeResources(all), *ch.Resources); len(missing) > 0 {
				return conflict("member.required_resource", map[string]any{"types": strings.Join(missing, ", ")})
			}
			resources = *ch.Resources
		}
		// An administrator holds every permission: overrides do not apply to
		// one (a denial would leave an "administrator" who cannot run the
		// account). Made an administrator, a member's overrides go.
		if after.Role == equipe.RoleAdmin && len(after.Overrides) > 0 {
			if ch.Overrides != nil {
				return fieldError("overrides", "member.admin_overrides")
			}
			after.Overrides = nil
		}
		// The member as changed holds nothing the actor does not: lifting a
		// denial or a narrower scope grants as surely as an override does.
		if !isAdmin(am) {
			next, err := s.compileIn(ctx, u.Tx.Queries, after, resources)
			if err != nil {
				return err
			}
			if ok, missing := s.Catalogue.CoversMember(am, next); !ok {
				return s.missingRefusal("role.beyond_own", missing)
			}
		}
		// The account keeps an active administrator.
		wasAdmin := before.Role == equipe.RoleAdmin && before.Status == equipe.MemberActive
		isStill := after.Role == equipe.RoleAdmin && after.Status == equipe.MemberActive
		if wasAdmin && !isStill && len(mw.admins) <= 1 {
			return conflict("member.last_admin", nil)
		}
		if ch.Clients != nil {
			assigned, _, err := u.Clients(ctx, account, &user, equipe.Page{})
			if err != nil {
				return err
			}
			var was []equipe.ID
			for _, c := range assigned {
				if slices.Contains(reach, c.Account.ID) {
					was = append(was, c.Account.ID)
				}
			}
			if err := s.setStaffClients(ctx, u, account, user, was, *ch.Clients); err != nil {
				return err
			}
		}
		b, a := event.MemberOf(before, mw.resources), event.MemberOf(after, resources)
		if event.Same(b, a) {
			// Nothing changes: nothing is written, no event is recorded.
			return nil
		}
		after.Touch(before, u.Now())
		if err := u.UpdateMember(ctx, &after); err != nil {
			return err
		}
		if ch.Resources != nil {
			if err := u.SetMemberResources(ctx, account, user, resources); err != nil {
				return err
			}
		}
		return u.Record(ctx, kind.In(account, user.String(), &b, &a))
	})
	return after, err
}

// statusAfter returns the status a member goes to: suspended, or, when
// reactivated, back to where they were — active if they had joined, else
// invited while an invitation link is outstanding (neither used nor
// revoked), else created.
func (s *Service) statusAfter(ctx context.Context, u *work.Unit, m equipe.Member, to equipe.MemberStatus) (equipe.MemberStatus, error) {
	if to == equipe.MemberSuspended || !m.JoinedAt.IsZero() {
		return to, nil
	}
	tokens, err := u.AccountTokens(ctx, m.UserID, m.AccountID, equipe.TokenInvitation)
	if err != nil {
		return "", err
	}
	for _, t := range tokens {
		if t.UsedAt.IsZero() && t.SupersededAt.IsZero() {
			return equipe.MemberInvited, nil
		}
	}
	return equipe.MemberCreated, nil
}

// Suspend suspends the member: every check about them is denied from the
// next request on, in every process; they stay in the account and can be
// reactivated. Refused (ECONFLICT) for a member already suspended
// ("member.already_suspended") and for the account's last active
// administrator ("member.last_admin").
func (s *Service) Suspend(ctx context.Context, actor Actor, account, user equipe.ID) (equipe.Member, error) {
	return s.setStatus(ctx, actor, account, user, MemberSuspend, equipe.MemberSuspended, event.MemberSuspended)
}

// Reactivate lifts a member's suspension. Refused with ECONFLICT
// "member.not_suspended" for a member who is not suspended.
func (s *Service) Reactivate(ctx context.Context, actor Actor, account, user equipe.ID) (equipe.Member, error) {
	return s.setStatus(ctx, actor, account, user, MemberReactivate, equipe.MemberActive, event.MemberReactivated)
}

func (s *Service) setStatus(ctx context.Context, actor Actor, account, user equipe.ID, action string, to equipe.MemberStatus,
	kind event.Kind[event.Member, event.Member]) (equipe.Member, error) {
	var after equipe.Member
	err := s.actOnMember(ctx, actor, account, user, action, func(u *work.Unit, mw *memberWork) error {
		after = mw.member
		st, err := s.statusAfter(ctx, u, mw.member, to)
		if err != nil {
			return err
		}
		after.Status = st
		after.Touch(mw.member, u.Now())
		if err := u.UpdateMember(ctx, &after); err != nil {
			return err
		}
		b, a := mw.state(), event.MemberOf(after, mw.resources)
		return u.Record(ctx, kind.In(account, user.String(), &b, &a))
	})
	return after, err
}

// MemberView is a member of an account as the account sees them: their
// membership, their identity under the names the account may show, their
// assigned resources, and what the reader may do with them.
type MemberView struct {
	Member    equipe.Member
	User      equipe.User
	Resources []equipe.ID
	Actions   Actions
	// SecondFactor: the member joined and has a second factor (an
	// authenticator app or a passkey).
	SecondFactor bool
}

// Member returns a member of the account with their identity and assigned
// resources. The actor must be able to view the account's members.
func (s *Service) Member(ctx context.Context, actor Actor, account, user equipe.ID) (equipe.Member, equipe.User, []equipe.ID, error) {
	if _, _, err := s.authorize(ctx, actor, account, "members.view"); err != nil {
		return equipe.Member{}, equipe.User{}, nil, err
	}
	m, err := s.DB.Member(ctx, account, user)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return equipe.Member{}, equipe.User{}, nil, notFound()
	} else if err != nil {
		return equipe.Member{}, equipe.User{}, nil, err
	}
	u, err := s.DB.UserByID(ctx, user)
	if err != nil {
		return equipe.Member{}, equipe.User{}, nil, err
	}
	// Until they join, the account knows them by the names they were added
	// under, and nothing of their identity elsewhere.
	u = m.SeenBy(u)
	res, err := s.DB.MemberResources(ctx, account, user)
	return m, u, res, err
}

// ViewMember is Member with the actions the actor may take on them.
func (s *Service) ViewMember(ctx context.Context, actor Actor, account, user equipe.ID) (MemberView, error) {
	m, u, res, err := s.Member(ctx, actor, account, user)
	if err != nil {
		return MemberView{}, err
	}
	rc, err := s.readCase(ctx, actor, account)
	if err != nil {
		return MemberView{}, err
	}
	if res == nil {
		res = []equipe.ID{}
	}
	acts, err := s.memberActions(rc.of(m, res, !u.DisabledAt.IsZero()))
	if err != nil {
		return MemberView{}, err
	}
	// Whether they secured their identity is the account's to know once
	// they joined it: before, it would tell that the address has one.
	has := false
	if !m.JoinedAt.IsZero() {
		if has, err = s.DB.HasSecondFactor(ctx, user); err != nil {
			return MemberView{}, err
		}
	}
	return MemberView{Member: m, User: u, Resources: res, Actions: acts, SecondFactor: has}, nil
}
