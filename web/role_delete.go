package web

import (
	"net/http"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/team"
)

type roleDeletePage struct {
	Frame        accountFrame
	Name         string
	Members      int
	Keys         int      // API keys holding the role: they move to the replacement too
	Replacements []option // the other roles the reader may give the role's members and keys instead
}

type option struct {
	Value    string
	Label    string
	Selected bool
	Disabled bool // shown, but not for the reader to choose
}

// showRoleDelete shows the confirmation of a custom role's deletion, with
// the role's member count read afresh.
func (w *Web) showRoleDelete(rw http.ResponseWriter, r *http.Request, f *form, status int) error {
	account, ro, err := w.editedRole(r)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	// Only those the use cases let delete the role are asked to confirm.
	if a := ro.Actions.Get(team.RoleDelete); !a.OK() {
		return w.refuse(rw, r, a.Err)
	}
	// The replacements offered are the roles the use case lets the reader
	// give the members and keys moving over.
	g, err := w.Team.Granting(r.Context(), actor(r), account)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	frame, err := w.frame(r, account, "roles")
	if err != nil {
		return err
	}
	p := w.page(r, "page.role_delete")
	if f != nil {
		p.Form = f
	}
	d := roleDeletePage{Frame: frame, Name: roleName(ro.Role, p.Locale), Members: ro.Members, Keys: ro.Keys}
	chosen := p.Form.Value("replacement")
	for _, o := range g.Roles {
		if o.Role.Key != ro.Role.Key && o.OK() {
			d.Replacements = append(d.Replacements, option{Value: o.Role.Key, Label: roleName(o.Role, p.Locale),
				Selected: o.Role.Key == chosen})
		}
	}
	p.Data = d
	return w.render(rw, r, status, "role_delete", p)
}

func (w *Web) deleteRoleForm(rw http.ResponseWriter, r *http.Request) error {
	return w.showRoleDelete(rw, r, nil, http.StatusOK)
}

func (w *Web) deleteRole(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	err = w.Team.DeleteRole(r.Context(), actor(r), account, r.PathValue("role"), r.PostFormValue("replacement"))
	if err != nil {
		f := newForm()
		f.keep(r, "replacement")
		f.label("replacement", "roles_page.replacement")
		e := equipe.AsError(err)
		switch {
		case e.Code == equipe.ECONFLICT && e.Key == "role.in_use":
			f.add("replacement", e.Key, e.Args)
		case !w.absorbRefusal(f, err, "replacement"):
			return w.refuse(rw, r, err)
		}
		return w.showRoleDelete(rw, r, f, refusedStatus(err))
	}
	return redirect(rw, r, "/accounts/"+account.String()+"/roles?done=deleted")
}
