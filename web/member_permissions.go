package web

import (
	"net/http"
	"slices"
	"time"

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
	Own         bool   // the reader's own access, read without the view of the members
	Back        string // the roles page, for a reader who may open it
	Name        string
	Email       string
	Role        string
	Status      equipe.MemberStatus
	Activation  bool   // the account activates its members: the status is worded so
	Firm        string // the firm's name, for a member who acts through their firm
	ViaFirm     bool
	Restricted  bool   // reaches only the resources assigned to them
	Blocked     string // message key: why every check is denied, if one is
	Permissions []group[effectiveLine]
	Resources   []group[string] // assigned resources' names, by type
	// ShowResources is false when the resources assigned cannot be named
	// to the reader (their own access, without the view of the members).
	ShowResources bool
	// Member is true for a member of the account (not firm staff), whose
	// changes to their role's permissions (as "+ permission", "−
	// permission") and last login to the account are shown.
	Member    bool
	Changes   []string
	LastLogin time.Time
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
	if me := actor(r).User; equipe.ErrorCode(err) == equipe.EFORBIDDEN && me != nil && me.ID == user {
		// Anyone may know what they hold themselves.
		return w.ownPermissions(rw, r, account)
	}
	if err != nil {
		return w.refuse(rw, r, err)
	}
	frame, err := w.frame(r, account, "roles")
	if err != nil {
		return err
	}
	p := w.page(r, "page.member_permissions")
	d := memberPermissionsPage{Frame: frame, Back: frame.URL("/roles"), Name: ma.Person.Name(), Email: ma.Person.Email,
		Role: roleName(ma.Role, p.Locale), Status: ma.Person.Status, ViaFirm: ma.ViaFirm, Restricted: ma.Member.LimitedToAssigned(),
		ShowResources: true}
	if acct, err := w.Team.Account(r.Context(), actor(r), account); err == nil {
		d.Activation = acct.RequiresActivation
	}
	if !ma.ViaFirm {
		// A member of the account goes by the names the account knows them
		// by: until they join, those they were added under, not their
		// identity's (which another account's administrator may not see).
		if m, u, _, err := w.Team.Member(r.Context(), actor(r), account, user); err == nil {
			d.Name = personName(u)
			d.Member, d.LastLogin, d.Changes = true, m.LastLoginAt, w.overrideLines(p.Locale, m.Overrides)
		}
	}
	if ma.Firm != nil {
		d.Firm = ma.Firm.Name
	} else if ma.ViaFirm {
		// A client's own members are not told who the firm's staff are.
		d.Name = w.I18n.T(p.Locale, "audit.field.user_id", nil)
	}
	if ma.Blocked != "" {
		d.Blocked = blockedReasons[ma.Blocked]
		if d.Blocked == "" {
			d.Blocked = "perms.blocked_other"
		}
	}
	d.Permissions = w.effectiveGroups(p.Locale, ma.Permissions)
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
		d.Resources[i].Items = append(d.Resources[i].Items, w.resourceName(p.Locale, res))
	}
	d.Resources = slices.DeleteFunc(d.Resources, func(g group[string]) bool { return len(g.Items) == 0 })
	p.Data = d
	return w.render(rw, r, http.StatusOK, "member_permissions", p)
}

// overrideLines says a member's changes to their role's permissions, one
// line each: "+ permission (scope)" granted, "− permission" withdrawn.
func (w *Web) overrideLines(locale string, os []equipe.Override) []string {
	var out []string
	for _, o := range os {
		sign := "− "
		if o.Allow {
			sign = "+ "
		}
		out = append(out, sign+w.grantLabel(locale, o.Permission, o.Scope))
	}
	return out
}

// ownPermissions shows the reader what they hold in the account when they
// may not view its members: their role and effective permissions, as the
// effective-permissions page shows them.
func (w *Web) ownPermissions(rw http.ResponseWriter, r *http.Request, account equipe.ID) error {
	own, err := w.Team.MyAccess(r.Context(), actor(r), account)
	if err != nil {
		return err
	}
	frame, err := w.frame(r, account, "")
	if err != nil {
		return err
	}
	me := actor(r).User
	p := w.page(r, "page.own_permissions")
	d := memberPermissionsPage{Frame: frame, Own: true, Name: personName(*me), Email: me.Email, Role: roleName(own.Role, p.Locale),
		Status: own.Person.Status, ViaFirm: own.Firm != nil, Restricted: own.Member.LimitedToAssigned(),
		Permissions: w.effectiveGroups(p.Locale, own.Permissions)}
	if own.Firm != nil {
		d.Firm = own.Firm.Name
	}
	p.Data = d
	return w.render(rw, r, http.StatusOK, "member_permissions", p)
}

// effectiveGroups lays a member's effective permissions out by group, in
// catalogue order, each with its scope and where it comes from.
func (w *Web) effectiveGroups(locale string, es []access.Effective) []group[effectiveLine] {
	held := map[string]access.Effective{}
	for _, e := range es {
		held[e.Permission] = e
	}
	var out []group[effectiveLine]
	for _, g := range groupPermissions(w, locale, func(perm access.Permission) *effectiveLine {
		e, ok := held[perm.Key]
		if !ok {
			return nil
		}
		l := &effectiveLine{Label: perm.Label.In(locale), Scope: e.Scope.Label().In(locale), Source: "perms.source_role"}
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
			out = append(out, kept)
		}
	}
	return out
}
