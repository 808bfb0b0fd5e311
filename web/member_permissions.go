package web

import (
	"net/http"
	"slices"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
)

// blockedReasons say in words why every check of a member is denied.
var blockedReasons = map[access.Reason]string{
	access.DeniedUserDisabled:    "perms.blocked_user_disabled",
	access.DeniedMemberSuspended: "perms.blocked_suspended",
	access.DeniedMemberNotActive: "perms.blocked_not_active",
}

type memberPermissionsPage struct {
	Frame       accountFrame
	Name        string
	Email       string
	Role        string
	Status      equipe.MemberStatus
	Firm        string // the firm's name, for a member who acts through their firm
	ViaFirm     bool
	Restricted  bool   // reaches only the resources assigned to them
	Blocked     string // message key: why every check is denied, if one is
	Permissions []group[effectiveLine]
	Resources   []group[string] // assigned resources' names, by type
}

type effectiveLine struct {
	Label  string
	Scope  string // the scope's label, for a scoped permission
	Source string // message key
}

func (w *Web) memberPermissions(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	user, err := pathID(r, "user")
	if err != nil {
		return err
	}
	ma, err := w.Team.MemberAccess(r.Context(), actor(r), account, user)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	frame, err := w.frame(r, account, "roles")
	if err != nil {
		return err
	}
	p := w.page(r, "page.member_permissions")
	d := memberPermissionsPage{Frame: frame, Name: ma.Person.Name(), Email: ma.Person.Email, Role: roleName(ma.Role, p.Locale),
		Status: ma.Person.Status, ViaFirm: ma.ViaFirm, Restricted: ma.Member.LimitedToAssigned()}
	if !ma.ViaFirm {
		// A member of the account goes by the names the account knows them
		// by: until they join, those they were added under, not their
		// identity's (which another account's administrator may not see).
		if _, u, _, err := w.Team.Member(r.Context(), actor(r), account, user); err == nil {
			d.Name = personName(u)
		}
	}
	if ma.Firm != nil {
		d.Firm = ma.Firm.Name
	}
	if ma.Blocked != "" {
		d.Blocked = blockedReasons[ma.Blocked]
		if d.Blocked == "" {
			d.Blocked = "perms.blocked_other"
		}
	}
	held := map[string]access.Effective{}
	for _, e := range ma.Permissions {
		held[e.Permission] = e
	}
	for _, g := range groupPermissions(w, p.Locale, func(perm access.Permission) *effectiveLine {
		e, ok := held[perm.Key]
		if !ok {
			return nil
		}
		l := &effectiveLine{Label: perm.Label.In(p.Locale), Scope: e.Scope.Label().In(p.Locale), Source: "perms.source_role"}
		if e.Source == access.SourceOverride {
			l.Source = "perms.source_override"
		}
		return l
	}) {
		kept := group[effectiveLine]{Label: g.Label}
		for _, l := range g.Items {
			if l != nil {
				kept.Items = append(kept.Items, *l)
			}
		}
		if len(kept.Items) > 0 {
			d.Permissions = append(d.Permissions, kept)
		}
	}
	// Resources by type in catalogue order; a type the catalogue no longer
	// declares goes by its key.
	at := map[string]int{}
	for _, rt := range w.Catalogue.ResourceTypes {
		at[rt.Key] = len(d.Resources)
		d.Resources = append(d.Resources, group[string]{Label: rt.Label.In(p.Locale)})
	}
	for _, res := range ma.Assigned {
		i, ok := at[res.Type]
		if !ok {
			i = len(d.Resources)
			at[res.Type] = i
			d.Resources = append(d.Resources, group[string]{Label: res.Type})
		}
		d.Resources[i].Items = append(d.Resources[i].Items, res.Name)
	}
	d.Resources = slices.DeleteFunc(d.Resources, func(g group[string]) bool { return len(g.Items) == 0 })
	p.Data = d
	return w.render(rw, r, http.StatusOK, "member_permissions", p)
}
