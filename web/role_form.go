package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/team"
)

// roleDraft is the content of the role form: a role as stored, or as a
// person wrote it.
type roleDraft struct {
	Key, LabelFR, LabelEN string
	Restricted            bool
	Grants                []equipe.Grant    // the ticked permissions, in the order given
	Scopes                map[string]string // the scope chosen for each scoped permission, ticked or not
}

// draftOf reads the role form. Every ticked permission is a grant at the
// scope chosen beside it ("" for an unscoped permission); the use case
// judges whether the pair is acceptable.
func draftOf(r *http.Request) roleDraft {
	d := roleDraft{Key: r.PostFormValue("key"), LabelFR: r.PostFormValue("label_fr"), LabelEN: r.PostFormValue("label_en"),
		Restricted: r.PostFormValue("restricted") == "yes", Scopes: map[string]string{}}
	for k, v := range r.PostForm {
		if perm, ok := strings.CutPrefix(k, "scope."); ok && len(v) > 0 {
			d.Scopes[perm] = v[0]
		}
	}
	for _, perm := range r.PostForm["permissions"] {
		d.Grants = append(d.Grants, equipe.Grant{Permission: perm, Scope: d.Scopes[perm]})
	}
	return d
}

// draftOfRole is the draft of a stored role.
func draftOfRole(ro access.Role) roleDraft {
	d := roleDraft{Key: ro.Key, LabelFR: ro.Label.FR, LabelEN: ro.Label.EN, Restricted: ro.Restricted, Scopes: map[string]string{}}
	for _, g := range ro.Grants {
		d.Grants = append(d.Grants, equipe.Grant{Permission: g.Permission, Scope: g.Scope.String()})
		if g.Scope != access.ScopeNone {
			d.Scopes[g.Permission] = g.Scope.String()
		}
	}
	return d
}

func (d roleDraft) input() team.RoleInput {
	return team.RoleInput{Key: d.Key, LabelFR: d.LabelFR, LabelEN: d.LabelEN, Grants: d.Grants, Restricted: d.Restricted}
}

// selectAll ticks everything the actor may grant, at the broadest scope
// they may grant it (the form's "Sélectionner tout"); an actor who reaches
// only assigned resources makes restricted roles.
func (d *roleDraft) selectAll(g team.Granting) {
	d.Grants = nil
	for _, gr := range g.Grants {
		d.Grants = append(d.Grants, equipe.Grant{Permission: gr.Permission, Scope: gr.Scope.String()})
		if gr.Scope != access.ScopeNone {
			d.Scopes[gr.Permission] = gr.Scope.String()
		}
	}
	if g.Restricted {
		d.Restricted = true
	}
}

type roleFormPage struct {
	Frame   accountFrame
	Editing bool
	Key     string // the role's key, when editing
	Name    string // the role's label, when editing
	// Taken lists the account's role keys, for the script that fills the
	// key from the name as it is typed (the server decides all the same).
	Taken  string
	Picker pickerData
}

// pickerData is what the permission picker's template gets.
type pickerData struct {
	Form   *form
	Hint   string // message key
	Groups []group[pickerPermission]
	// FromRole offers to start from the chosen role's permissions.
	FromRole bool
}

// pickerGroups lays the permission picker out: ticked are the chosen
// permissions, scopes the scope chosen beside each scoped permission (ticked
// or not), held what the reader may grant, at which scope. After a refusal
// by the granting rules (a problem with the field "permissions"), the
// permissions ticked beyond what the reader may grant are marked, and the
// focus goes to the first of them.
func (w *Web) pickerGroups(locale string, f *form, ticked []equipe.Grant, scopes map[string]string, held map[string]access.Scope) []group[pickerPermission] {
	refused := f.Err("permissions") != nil
	groups := groupPermissions(w, locale, func(perm access.Permission) pickerPermission {
		pp := pickerPermission{Key: perm.Key, Label: perm.Label.In(locale), Description: perm.Description.In(locale),
			Checked: slices.ContainsFunc(ticked, func(g equipe.Grant) bool { return g.Permission == perm.Key }),
			Err:     f.Err("permissions." + perm.Key)}
		sc, ok := held[perm.Key]
		pp.Held = ok
		// What the reader may not grant is shown, but cannot be ticked; a
		// box already ticked stays free, so that it may be unticked.
		pp.Disabled = !pp.Held && !pp.Checked
		chosen, ok := scopes[perm.Key]
		if !ok {
			// Nothing chosen yet: the default scope, or narrower if that is
			// all the reader may grant.
			chosen = perm.DefaultScope.String()
			if pp.Held && sc < perm.DefaultScope {
				chosen = sc.String()
			}
		}
		for _, s := range perm.Scopes {
			o := scopeOption{Value: s.String(), Label: s.Label().In(locale), Selected: s.String() == chosen}
			// A scope broader than the reader's cannot be chosen.
			o.Disabled = pp.Held && s > sc && !o.Selected
			pp.Scopes = append(pp.Scopes, o)
		}
		if pp.Held && perm.Scoped() && sc < perm.Broadest() {
			pp.HeldUpTo = sc.Label().In(locale)
		}
		// After a refusal by the granting rules, the permissions at fault
		// are marked.
		if chosenScope, _ := access.ParseScope(chosen); refused && pp.Checked && (!pp.Held || perm.Scoped() && chosenScope > sc) {
			pp.Beyond = true
		}
		return pp
	})
	if f.Focus("permissions") {
		focusCulprit(groups)
	}
	return groups
}

// pickerPermission is one permission of the permission picker.
type pickerPermission struct {
	Key         string
	Label       string
	Description string
	Checked     bool
	Scopes      []scopeOption // for a scoped permission
	Held        bool          // the reader holds it, so may grant it
	Disabled    bool          // not held, nor ticked: the box cannot be ticked
	HeldUpTo    string        // the broadest scope the reader may grant, when narrower than the broadest there is
	Beyond      bool          // ticked beyond what the reader may grant, after a refusal
	Focus       bool          // the field to focus
	Err         *fieldError
}

// focusCulprit puts the focus on the first permission ticked beyond what
// the reader may grant, when the granting rules refused the role.
func focusCulprit(groups []group[pickerPermission]) {
	first := (*pickerPermission)(nil)
	for gi := range groups {
		for i := range groups[gi].Items {
			pp := &groups[gi].Items[i]
			if pp.Beyond {
				pp.Focus = true
				return
			}
			if first == nil {
				first = pp
			}
		}
	}
	if first != nil {
		first.Focus = true
	}
}

type scopeOption struct {
	Value    string
	Label    string
	Selected bool
	Disabled bool // broader than the reader may grant
}

// roleFormFields are the role form's fields in page order, for the summary.
func (w *Web) roleFormFields() []string {
	fields := []string{"label_fr", "label_en", "key", "restricted", "permissions"}
	for _, p := range w.Catalogue.Permissions {
		fields = append(fields, "permissions."+p.Key)
	}
	return fields
}

// showRoleForm shows the role form with d, after selecting everything or
// nothing when selection says so. editing is the role changed, or nil.
func (w *Web) showRoleForm(rw http.ResponseWriter, r *http.Request, account equipe.ID, editing *team.RoleView, d roleDraft, selection string, f *form, status int) error {
	if err := w.mayIn(r, account, team.AccountManageRoles); err != nil {
		return w.refuse(rw, r, err)
	}
	g, err := w.Team.Granting(r.Context(), actor(r), account)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	switch selection {
	case "all":
		d.selectAll(g)
	case "none":
		d.Grants = nil
	}
	frame, err := w.frame(r, account, "roles")
	if err != nil {
		return err
	}
	title := "page.role_new"
	if editing != nil {
		title = "page.role_edit"
	}
	p := w.page(r, title)
	if f != nil {
		p.Form = f
	}
	p.Form.Values["key"], p.Form.Values["label_fr"], p.Form.Values["label_en"] = d.Key, d.LabelFR, d.LabelEN
	if d.Restricted {
		p.Form.Values["restricted"] = "yes"
	}
	p.Form.arrange(w.roleFormFields()...)
	p.Form.label("key", "roles_page.key", "label_fr", "roles_page.label_fr", "label_en", "roles_page.label_en",
		"restricted", "roles_page.restricted_label")
	data := roleFormPage{Frame: frame, Editing: editing != nil}
	taken := make([]string, 0, len(g.Roles))
	for _, ro := range g.Roles {
		taken = append(taken, ro.Role.Key)
	}
	data.Taken = strings.Join(taken, " ")
	if editing != nil {
		data.Key, data.Name = editing.Role.Key, roleName(editing.Role, p.Locale)
	}
	data.Picker = pickerData{Form: p.Form, Hint: "perms.hint",
		Groups: w.pickerGroups(p.Locale, p.Form, d.Grants, d.Scopes, held(g.Grants))}
	p.Data = data
	return w.render(rw, r, status, "role_form", p)
}

func (w *Web) newRoleForm(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	return w.showRoleForm(rw, r, account, nil, roleDraft{Scopes: map[string]string{}}, "", nil, http.StatusOK)
}

func (w *Web) createRole(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	d := draftOf(r)
	if sel := r.PostFormValue("select"); sel != "" {
		return w.showRoleForm(rw, r, account, nil, d, sel, nil, http.StatusOK)
	}
	if _, err := w.Team.CreateRole(r.Context(), actor(r), account, d.input()); err != nil {
		f := newForm()
		if !w.absorbRefusal(f, err, refusalField(err)) {
			return w.refuse(rw, r, err)
		}
		return w.showRoleForm(rw, r, account, nil, d, "", f, refusedStatus(err))
	}
	// The list of roles takes members.view, which roles.manage does not
	// imply: whoever may not read it goes where the account's links lead
	// them.
	acts, err := w.accountActions(r, account)
	if err != nil {
		return err
	}
	if acts.May(team.AccountViewMembers) {
		return redirect(rw, r, "/accounts/"+account.String()+"/roles?done=created")
	}
	acct, err := w.Team.Account(r.Context(), actor(r), account)
	if err != nil {
		return err
	}
	return redirect(rw, r, w.entry(r, acct))
}

// refusalField is the role form's field a granting rule's refusal belongs
// to: the permissions, or the restriction to assigned resources when that
// alone is missing.
func refusalField(err error) string {
	if equipe.AsError(err).Args["missing"] == access.MissingUnrestricted {
		return "restricted"
	}
	return "permissions"
}

// editedRole returns the custom role the path names; a built-in role is
// refused, as the use case would refuse to change it.
func (w *Web) editedRole(r *http.Request) (equipe.ID, team.RoleView, error) {
	account, err := pathID(r, "account")
	if err != nil {
		return account, team.RoleView{}, err
	}
	ro, err := w.Team.Role(r.Context(), actor(r), account, r.PathValue("role"))
	if err == nil {
		if a := ro.Actions.Get(team.RoleEdit); !a.OK() {
			err = a.Err
		}
	}
	return account, ro, err
}

func (w *Web) editRoleForm(rw http.ResponseWriter, r *http.Request) error {
	account, ro, err := w.editedRole(r)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	return w.showRoleForm(rw, r, account, &ro, draftOfRole(ro.Role), "", nil, http.StatusOK)
}

func (w *Web) updateRole(rw http.ResponseWriter, r *http.Request) error {
	account, ro, err := w.editedRole(r)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	d := draftOf(r)
	d.Key = ro.Role.Key
	if sel := r.PostFormValue("select"); sel != "" {
		return w.showRoleForm(rw, r, account, &ro, d, sel, nil, http.StatusOK)
	}
	if _, err := w.Team.UpdateRole(r.Context(), actor(r), account, ro.Role.Key, d.input()); err != nil {
		f := newForm()
		if !w.absorbRefusal(f, err, refusalField(err)) {
			return w.refuse(rw, r, err)
		}
		return w.showRoleForm(rw, r, account, &ro, d, "", f, refusedStatus(err))
	}
	return redirect(rw, r, "/accounts/"+account.String()+"/roles?done=changed")
}
