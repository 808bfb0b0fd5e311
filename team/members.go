package team

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/store"
)

// MemberChange is a change to a member: each field given (non-nil) is set.
type MemberChange struct {
	Role      *string
	Overrides *[]equipe.Override
	Resources *[]equipe.ID
	Title     *string
	Status    *equipe.MemberStatus // only active or suspended
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
//   - a member keeps a resource of each required type the account has.
//
// Violations answer EFORBIDDEN or ECONFLICT with a key that explains the
// rule, and change nothing.
func (s *Service) ChangeMember(ctx context.Context, actor Actor, account, user equipe.ID, ch MemberChange) (equipe.Member, error) {
	am, aa, err := s.authorize(ctx, actor, account, "members.manage")
	if err != nil {
		return equipe.Member{}, err
	}
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
	if err := v.Err(); err != nil {
		return equipe.Member{}, err
	}

	var after equipe.Member
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		// Administrators first, then the member, always in this order: two
		// changes at once wait for each other instead of deadlocking.
		admins, err := tx.LockActiveAdmins(ctx, account)
		if err != nil {
			return err
		}
		// The actor's rights were read before the lock: an administrator
		// demoted meanwhile (by a change that just committed) acts no more.
		if isAdmin(am) && actor.User != nil && !actor.instance() && !am.ViaFirm() && !slices.Contains(admins, actor.User.ID) {
			return forbidden("access.changed", nil)
		}
		am, err := s.current(ctx, tx, actor, account, am, aa, "members.manage")
		if err != nil {
			return err
		}
		before, err := tx.LockMember(ctx, account, user)
		if equipe.ErrorCode(err) == equipe.ENOTFOUND {
			return notFound()
		} else if err != nil {
			return err
		}
		after = before
		resources, err := tx.MemberResources(ctx, account, user)
		if err != nil {
			return err
		}
		current, err := s.compileFrom(ctx, tx, before, resources)
		if err != nil {
			return err
		}
		if !isAdmin(am) {
			if ok, missing := s.Catalogue.CoversMember(am, current); !ok {
				return forbidden("member.outranks", map[string]any{"missing": strings.Join(missing, ", ")})
			}
		}

		if ch.Role != nil && *ch.Role != before.Role {
			role, found, err := s.resolveRole(ctx, tx.Queries, account, *ch.Role)
			if err != nil {
				return err
			}
			if !found {
				return &equipe.Error{Code: equipe.EINVALID, Key: "error.fields",
					Fields: []equipe.FieldError{{Field: "role", Key: "role.unknown"}}}
			}
			if err := s.mayGrantRole(am, role); err != nil {
				return err
			}
			after.Role = *ch.Role
		}
		if ch.Overrides != nil {
			if ok, missing := s.Catalogue.CoversOverrides(am, ovs); !ok {
				return forbidden("role.beyond_own", map[string]any{"missing": strings.Join(missing, ", ")})
			}
			after.Overrides = *ch.Overrides
		}
		if ch.Title != nil {
			after.Title = *ch.Title
		}
		if ch.Status != nil && *ch.Status != before.Status {
			switch {
			case *ch.Status == equipe.MemberSuspended:
				after.Status = equipe.MemberSuspended
			case before.Status != equipe.MemberSuspended:
				// Activation of a member who never joined is the invitation's work.
				return &equipe.Error{Code: equipe.ECONFLICT, Key: "member.not_suspended"}
			default:
				// Back to where they were: active if they had joined, else
				// invited while an invitation link is outstanding (neither
				// used nor revoked), else created.
				after.Status = equipe.MemberActive
				if before.JoinedAt.IsZero() {
					after.Status = equipe.MemberCreated
					tokens, err := tx.AccountTokens(ctx, user, account, equipe.TokenInvitation)
					if err != nil {
						return err
					}
					for _, t := range tokens {
						if t.UsedAt.IsZero() && t.SupersededAt.IsZero() {
							after.Status = equipe.MemberInvited
						}
					}
				}
			}
		}
		if ch.Resources != nil {
			if ok, _ := am.CoversResources(*ch.Resources); !ok {
				return forbidden("member.resource_beyond_own", nil)
			}
			all, err := tx.Resources(ctx, account)
			if err != nil {
				return err
			}
			if missing := s.Catalogue.MissingRequired(all, *ch.Resources); len(missing) > 0 {
				return &equipe.Error{Code: equipe.ECONFLICT, Key: "member.required_resource",
					Args: map[string]any{"types": strings.Join(missing, ", ")}}
			}
			resources = *ch.Resources
		}

		// An administrator holds every permission: overrides do not apply to
		// one (a denial would leave an "administrator" who cannot run the
		// account). Made an administrator, a member's overrides go.
		if after.Role == equipe.RoleAdmin && len(after.Overrides) > 0 {
			if ch.Overrides != nil {
				return &equipe.Error{Code: equipe.EINVALID, Key: "error.fields",
					Fields: []equipe.FieldError{{Field: "overrides", Key: "member.admin_overrides"}}}
			}
			after.Overrides = nil
		}
		// The member as changed holds nothing the actor does not: lifting a
		// denial or a narrower scope grants as surely as an override does.
		if !isAdmin(am) {
			next, err := s.compileFrom(ctx, tx, after, resources)
			if err != nil {
				return err
			}
			if ok, missing := s.Catalogue.CoversMember(am, next); !ok {
				return forbidden("role.beyond_own", map[string]any{"missing": strings.Join(missing, ", ")})
			}
		}

		// The account keeps an active administrator.
		wasAdmin := before.Role == equipe.RoleAdmin && before.Status == equipe.MemberActive
		isStill := after.Role == equipe.RoleAdmin && after.Status == equipe.MemberActive
		if wasAdmin && !isStill && len(admins) <= 1 {
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "member.last_admin"}
		}

		if err := tx.UpdateMember(ctx, &after); err != nil {
			return err
		}
		if ch.Resources != nil {
			if err := tx.SetMemberResources(ctx, account, user, resources); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, actor, &account, "member.changed", "user", user.String(),
			memberState(before), memberState(after))
	})
	return after, err
}

// compileFrom compiles a member read in the transaction.
func (s *Service) compileFrom(ctx context.Context, tx *store.Tx, m equipe.Member, resources []equipe.ID) (*access.Member, error) {
	role, _, err := s.resolveRole(ctx, tx.Queries, m.AccountID, m.Role)
	if err != nil {
		return nil, err
	}
	return s.Catalogue.Compile(access.Input{UserID: m.UserID, AccountID: m.AccountID, Role: role,
		Overrides: overrides(m.Overrides), Resources: resources, Status: access.StatusOf(m.Status)}), nil
}

func memberState(m equipe.Member) map[string]any {
	ovs := slices.Clone(m.Overrides)
	if ovs == nil {
		ovs = []equipe.Override{}
	}
	return map[string]any{"role": m.Role, "status": m.Status, "title": m.Title, "overrides": ovs}
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
	if m.JoinedAt.IsZero() {
		// Until they join, the account knows them by the names they were
		// added under, and nothing of their activity elsewhere.
		if m.FirstName != "" || m.LastName != "" {
			u.FirstName, u.LastName = m.FirstName, m.LastName
		}
		u.LastLoginAt = time.Time{}
	}
	res, err := s.DB.MemberResources(ctx, account, user)
	return m, u, res, err
}
