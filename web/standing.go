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
// not view the members is judged by their role alone (their own overrides,
// which only that view reveals, are left out); one who is not a member of
// the account gets ENOTFOUND.
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
		role, err := w.Team.MyRole(r.Context(), act, account)
		if err != nil {
			return standing{}, err
		}
		m := w.Catalogue.Compile(access.Input{UserID: act.User.ID, AccountID: account, Role: role, Status: access.MemberActive})
		return standing{cat: w.Catalogue, m: m}, nil
	}
	return standing{}, err
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
