package web

import (
	"net/http"
	"net/url"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/team"
)

// roleNotices are the notices the roles page may show after a redirect.
var roleNotices = map[string]string{
	"created": "role.created",
	"changed": "role.changed",
	"deleted": "role.deleted",
}

type rolesPage struct {
	Frame     accountFrame
	Roles     []roleColumn
	Groups    []group[matrixRow]
	Columns   int // of the matrix: the permission and one per role
	Members   []memberLine
	Pages     pager // of members
	CanManage bool  // the reader may create, change and delete custom roles
	// Activation: the account activates its members (statuses are worded so).
	Activation bool
}

type roleColumn struct {
	Key         string
	Label       string
	Description string
	BuiltIn     bool
	Restricted  bool
	Members     int
	Edit        bool // the use cases let the reader change the role
	Delete      bool // and delete it
}

type matrixRow struct {
	Key   string
	Label string
	Cells []matrixCell
}

type matrixCell struct {
	Granted bool
	Scope   string // the scope's label, for a scoped permission
}

type memberLine struct {
	Href   string // the member's effective permissions
	Name   string
	Email  string
	Role   string
	Status equipe.MemberStatus
}

func (w *Web) roles(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	act := actor(r)
	roles, _, err := w.Team.RolesCounted(r.Context(), act, account, equipe.Page{})
	if err != nil {
		return w.refuse(rw, r, err)
	}
	// Who holds which role, a page at a time, as the team page reads it.
	f := team.MemberFilter{Account: account, After: r.URL.Query().Get("cursor"), Limit: teamPageSize}
	members, next, err := w.Team.TeamPage(r.Context(), act, f)
	if cursorRefused(err) && f.After != "" {
		f.After = ""
		members, next, err = w.Team.TeamPage(r.Context(), act, f)
	}
	if err != nil {
		return w.refuse(rw, r, err)
	}
	acts, err := w.accountActions(r, account)
	if err != nil {
		return err
	}
	frame, err := w.frame(r, account, "roles")
	if err != nil {
		return err
	}
	p := w.page(r, "page.roles")
	p.Notice = roleNotices[r.URL.Query().Get("done")]
	d := rolesPage{Frame: frame, CanManage: acts.May(team.AccountManageRoles), Columns: len(roles) + 1}
	if acct, err := w.Team.Account(r.Context(), act, account); err == nil {
		d.Activation = acct.RequiresActivation
	}
	labels := roleLabels(roles, p.Locale)
	for _, ro := range roles {
		d.Roles = append(d.Roles, roleColumn{Key: ro.Role.Key, Label: labels[ro.Role.Key],
			Description: ro.Role.Description.In(p.Locale), BuiltIn: ro.Role.BuiltIn, Restricted: ro.Role.Restricted,
			Members: ro.Members, Edit: ro.Actions.May(team.RoleEdit), Delete: ro.Actions.May(team.RoleDelete)})
	}
	d.Groups = w.matrix(roles, p.Locale)
	for _, row := range members {
		m := row.Member
		role := labels[m.Role]
		if role == "" {
			role = m.Role
		}
		d.Members = append(d.Members, memberLine{Href: frame.URL("/members/" + m.UserID.String() + "/permissions"),
			Name:  personName(equipe.User{Email: row.Email, FirstName: row.FirstName, LastName: row.LastName}),
			Email: row.Email, Role: role, Status: m.Status})
	}
	if next != "" {
		d.Pages.Next = frame.URL("/roles?cursor="+url.QueryEscape(next)) + "#members-title"
	}
	if f.After != "" {
		d.Pages.First = frame.URL("/roles") + "#members-title"
	}
	p.Data = d
	return w.render(rw, r, http.StatusOK, "roles", p)
}

// matrix lays the roles' grants out by permission, grouped as the catalogue
// groups them.
func (w *Web) matrix(roles []team.RoleView, locale string) []group[matrixRow] {
	grants := make([]map[string]access.Scope, len(roles))
	for i, ro := range roles {
		grants[i] = map[string]access.Scope{}
		for _, g := range ro.Role.Grants {
			grants[i][g.Permission] = g.Scope
		}
	}
	return groupPermissions(w, locale, func(p access.Permission) matrixRow {
		row := matrixRow{Key: p.Key, Label: p.Label.In(locale)}
		for i := range roles {
			sc, ok := grants[i][p.Key]
			row.Cells = append(row.Cells, matrixCell{Granted: ok, Scope: sc.Label().In(locale)})
		}
		return row
	})
}

// group is a heading of the permission catalogue with what a page shows of
// its permissions.
type group[T any] struct {
	Label string
	Items []T
}

// groupPermissions returns the catalogue's permissions, each made a T by
// item, under their groups' labels in locale and in catalogue order;
// permissions of no group come last, under a heading of their own.
func groupPermissions[T any](w *Web, locale string, item func(access.Permission) T) []group[T] {
	var out []group[T]
	at := map[string]int{}
	for _, g := range w.Catalogue.Groups {
		at[g.Key] = len(out)
		out = append(out, group[T]{Label: g.Label.In(locale)})
	}
	for _, p := range w.Catalogue.Permissions {
		i, ok := at[p.Group]
		if !ok {
			if i, ok = at[""]; !ok {
				i = len(out)
				at[""] = i
				out = append(out, group[T]{Label: w.I18n.T(locale, "perms.other_group", nil)})
			}
		}
		out[i].Items = append(out[i].Items, item(p))
	}
	kept := out[:0]
	for _, g := range out {
		if len(g.Items) > 0 {
			kept = append(kept, g)
		}
	}
	return kept
}
