package web

import (
	"net/http"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
)

// standing is what the reader holds in an account, as far as a page needs
// it to offer only the actions that apply to them. It decides nothing: every
// action is judged again by its use case.
type standing struct {
	cat      *access.Catalogue
	m        *access.Member // the reader's membership; nil for an instance administrator
	instance bool           // an instance administrator, who holds everything
}

// standing returns what the reader holds in the account. A reader who may
// not view the members (the use cases' way to read a member's access) is
// judged by their own membership as their account list gives it: their
// role and their own overrides. One who is not a member of the account gets
// ENOTFOUND.
func (w *Web) standing(r *http.Request, account equipe.ID) (standing, error) {
	act := actor(r)
	if act.User == nil {
		return standing{}, equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
	}
	if act.User.InstanceAdmin {
		return standing{cat: w.Catalogue, instance: true}, nil
	}
	e, err := w.Team.EffectivePermissions(r.Context(), act, account, act.User.ID)
	switch equipe.ErrorCode(err) {
	case "":
		return standing{cat: w.Catalogue, m: e.Member}, nil
	case equipe.EFORBIDDEN:
		own, err := w.readOwnAccess(r, account)
		if err != nil {
			return standing{}, err
		}
		return standing{cat: w.Catalogue, m: own.Member}, nil
	}
	return standing{}, err
}

// ownAccess is the reader's access to the account read without the view of
// the members: anyone may know what they hold. Their role and overrides come
// with their account list; a firm's member acting in one of its clients
// holds their firm role there. It leaves out the resources assigned to
// them, which only the view of the members names.
type ownAccess struct {
	Member *access.Member
	Role   access.Role
	Status equipe.MemberStatus
	FirmOf *equipe.Account // the firm the reader acts through, in its client
}

// readOwnAccess returns the reader's access to the account, or ENOTFOUND when
// they reach it through no membership.
func (w *Web) readOwnAccess(r *http.Request, account equipe.ID) (ownAccess, error) {
	act := actor(r)
	entries, err := w.myAccounts(r)
	if err != nil {
		return ownAccess{}, err
	}
	var out ownAccess
	var own *equipe.Member
	roleAccount := account
	for _, e := range entries {
		if e.Account.ID != account {
			continue
		}
		if e.Member != nil {
			own = e.Member
		} else if e.Firm != nil {
			roleAccount = *e.Firm
		}
	}
	if roleAccount != account {
		for _, e := range entries {
			if e.Account.ID == roleAccount && e.Member != nil {
				firm := e.Account
				own, out.FirmOf = e.Member, &firm
			}
		}
	}
	if own == nil {
		return ownAccess{}, equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
	}
	if out.Role, err = w.Team.MyRole(r.Context(), act, roleAccount); err != nil {
		return ownAccess{}, err
	}
	out.Status = own.Status
	out.Member = w.Catalogue.Compile(access.Input{UserID: act.User.ID, AccountID: account, Role: out.Role,
		Overrides: accessOverrides(own.Overrides), Status: access.StatusOf(own.Status), UserDisabled: !act.User.DisabledAt.IsZero(),
		ViaFirm: out.FirmOf != nil})
	return out, nil
}

// admin reports whether the reader acts as an administrator of the account.
func (s standing) admin() bool {
	return s.instance || s.m.RoleKey() == equipe.RoleAdmin
}

// scope returns the scope at which the reader holds the permission, and
// whether they hold it.
func (s standing) scope(permission string) (access.Scope, bool) {
	i, ok := s.cat.Index(permission)
	if !ok {
		return access.ScopeNone, false
	}
	if s.instance {
		return s.cat.All().Scope(i), true
	}
	set := s.m.Set()
	return set.Scope(i), set.Has(i)
}

// has reports whether the reader holds the permission.
func (s standing) has(permission string) bool {
	_, ok := s.scope(permission)
	return ok
}

// grants are the reader's permissions at the scope they hold them: what
// "select all" selects.
func (s standing) grants() []access.Grant {
	if s.instance {
		return s.cat.GrantList(s.cat.All())
	}
	return s.cat.GrantList(s.m.Set())
}

// held maps each permission the reader holds to its scope.
func (s standing) held() map[string]access.Scope {
	out := map[string]access.Scope{}
	for _, g := range s.grants() {
		out[g.Permission] = g.Scope
	}
	return out
}

// covers returns what target holds that the reader does not (nil when the
// reader may act on target): an administrator may act on anyone.
func (s standing) covers(target *access.Member) []string {
	if s.admin() {
		return nil
	}
	_, missing := s.cat.CoversMember(s.m, target)
	return missing
}

// coversRole reports whether the reader may give the role.
func (s standing) coversRole(r access.Role) bool {
	if s.admin() {
		return true
	}
	if r.Key == equipe.RoleAdmin {
		return false
	}
	ok, _ := s.cat.CoversRole(s.m, r)
	return ok
}

// refusal is the error the use cases answer a reader without the
// permission: the page says so before anyone fills in a form.
func (s standing) refusal(permission string) error {
	if s.has(permission) {
		return nil
	}
	p, _ := s.cat.Permission(permission)
	return &equipe.Error{Code: equipe.EFORBIDDEN, Key: "access.permission_required",
		Args: map[string]any{"permission": permission, "label_fr": p.Label.FR, "label_en": p.Label.EN}}
}
