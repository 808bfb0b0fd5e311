package web

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/team"
)

// memberDraft is the content of the add and edit forms: a member as stored,
// or as a person wrote them.
type memberDraft struct {
	Role string
	// Custom: the member's permissions are those ticked in the picker, not
	// their role's; the differences become the member's overrides.
	Custom    bool
	Grants    []equipe.Grant    // the ticked permissions
	Scopes    map[string]string // the scope chosen beside each scoped permission
	Resources []equipe.ID
	Title     string
	// Clients are the firm's client companies ticked, when the form showed
	// them (ClientsShown): a form without them changes no assignment.
	Clients      []equipe.ID
	ClientsShown bool
	// ExternalID is the member's external ID in the edit form; a form
	// without the field (ExternalIDShown false) leaves it as it is.
	ExternalID      string
	ExternalIDShown bool
	// NotificationEmail is where the account writes to the member instead
	// of their login email ("" for it), in the edit form; a form without
	// the field (NotificationEmailShown false) leaves it as it is.
	NotificationEmail      string
	NotificationEmailShown bool
	// badResource: a resource value that is not an ID (a tampered form).
	badResource bool
}

// memberDraftOf reads the member form.
func memberDraftOf(r *http.Request) memberDraft {
	picked := draftOf(r)
	d := memberDraft{Role: r.PostFormValue("role"), Custom: r.PostFormValue("permissions_mode") == "custom",
		Grants: picked.Grants, Scopes: picked.Scopes, Title: r.PostFormValue("title")}
	for _, s := range r.PostForm["resources"] {
		id, err := equipe.ParseID(s)
		if err != nil {
			d.badResource = true
			continue
		}
		if !slices.Contains(d.Resources, id) {
			d.Resources = append(d.Resources, id)
		}
	}
	d.ClientsShown = r.PostFormValue("clients_shown") == "yes"
	_, d.ExternalIDShown = r.PostForm["external_id"]
	d.ExternalID = r.PostFormValue("external_id")
	_, d.NotificationEmailShown = r.PostForm["notification_email"]
	d.NotificationEmail = strings.TrimSpace(r.PostFormValue("notification_email"))
	for _, s := range r.PostForm["clients"] {
		id, err := equipe.ParseID(s)
		if err != nil {
			d.badResource = true
			continue
		}
		if !slices.Contains(d.Clients, id) {
			d.Clients = append(d.Clients, id)
		}
	}
	return d
}

// tick makes the draft's ticked permissions the grants gs, with their scopes.
func (d *memberDraft) tick(gs []access.Grant) {
	d.Grants = nil
	for _, g := range gs {
		d.Grants = append(d.Grants, equipe.Grant{Permission: g.Permission, Scope: g.Scope.String()})
		if g.Scope != access.ScopeNone {
			d.Scopes[g.Permission] = g.Scope.String()
		}
	}
}

// overridesOf returns the overrides that give the member exactly the ticked
// permissions on top of role: an allowance for each permission ticked that
// the role lacks or grants at another scope, a denial for each the role
// grants that is not ticked. Without Custom, none: the role's permissions.
func (w *Web) overridesOf(d memberDraft, role access.Role) []equipe.Override {
	out := []equipe.Override{}
	if !d.Custom {
		return out
	}
	roleSet := w.Catalogue.Grants(role.Grants)
	picked := map[string]string{}
	for _, g := range d.Grants {
		picked[g.Permission] = g.Scope
	}
	for _, p := range w.Catalogue.Permissions {
		sc, ticked := picked[p.Key]
		has := roleSet.Has(p.Index)
		switch {
		case ticked && (!has || p.Scoped() && sc != roleSet.Scope(p.Index).String()):
			out = append(out, equipe.Override{Permission: p.Key, Allow: true, Scope: sc})
		case !ticked && has:
			out = append(out, equipe.Override{Permission: p.Key, Allow: false})
		}
	}
	// A permission the catalogue does not know goes to the use case, which
	// refuses it with a reason.
	for _, g := range d.Grants {
		if _, ok := w.Catalogue.Permission(g.Permission); !ok {
			out = append(out, equipe.Override{Permission: g.Permission, Allow: true, Scope: g.Scope})
		}
	}
	return out
}

// sameOverrides reports whether two lists of overrides say the same thing.
func sameOverrides(a, b []equipe.Override) bool {
	order := func(x, y equipe.Override) int { return cmp.Compare(x.Permission, y.Permission) }
	a, b = slices.Clone(a), slices.Clone(b)
	slices.SortFunc(a, order)
	slices.SortFunc(b, order)
	return slices.Equal(a, b)
}

// sameIDs reports whether two lists hold the same IDs.
func sameIDs(a, b []equipe.ID) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	cmpID := func(x, y equipe.ID) int { return strings.Compare(x.String(), y.String()) }
	slices.SortFunc(a, cmpID)
	slices.SortFunc(b, cmpID)
	return slices.Equal(a, b)
}

type memberFormPage struct {
	Frame      accountFrame
	Editing    bool
	Name       string // the member's, when editing
	Email      string
	Status     equipe.MemberStatus
	Activation bool // the account activates its members
	Roles      []option
	// RolesBeyond: some roles grant more than the reader holds, and are
	// offered disabled.
	RolesBeyond bool
	Custom      bool
	Picker      pickerData
	Resources   []resourceGroup
	// Companies are the firm's client companies the reader may assign the
	// member to (seed 001's Espace Pro); none outside a firm.
	Companies []resourceCheck
	Titles    []string
	// UserExternalID is the vendor's identifier of the person across the
	// instance, when editing a member whose user has one (set by the
	// instance, shown only).
	UserExternalID string
	ExistsURL      string // after "already a member": where they are
	RemoveURL      string // after a required resource refused: removing them instead
	Back           string
}

// resourceGroup is the account's resources of one type, as boxes to tick.
type resourceGroup struct {
	Key         string
	Label       string
	Description string
	Required    bool
	Items       []resourceCheck
}

type resourceCheck struct {
	ID      string
	Name    string
	Checked bool
	// Archived: an archived resource the member holds, shown ticked so that
	// they keep it; archived resources are offered to nobody else.
	Archived bool
}

// memberFormFields are the member forms' fields in page order.
func (w *Web) memberFormFields() []string {
	fields := []string{"email", "first_name", "last_name", "role", "permissions"}
	for _, p := range w.Catalogue.Permissions {
		fields = append(fields, "permissions."+p.Key)
	}
	return append(fields, "resources", "clients", "title", "external_id", "notification_email", "locale")
}

// memberFormLabels name the member form's own fields in its summary.
var memberFormLabels = []string{"email", "member_form.email", "role", "team.role", "resources", "member_form.resources",
	"title", "member_form.title", "external_id", "member_form.external_id_label", "notification_email", "member_form.notification_email", "locale", "member_form.locale"}

// editedMember is the member an edit form changes.
type editedMember struct {
	Member    equipe.Member
	User      equipe.User
	Resources []equipe.ID
	Clients   []equipe.ID // the firm's clients they are assigned to, among those the reader reaches
}

// showMemberForm shows the add form (editing nil) or the edit form with d,
// after selecting every permission the reader may grant, none, or the role's
// when selection says so (the picker's buttons post the form, which comes
// back with the boxes ticked).
func (w *Web) showMemberForm(rw http.ResponseWriter, r *http.Request, account equipe.ID, editing *editedMember, d memberDraft, selection string, f *form, status int) error {
	act := actor(r)
	if err := w.mayIn(r, account, team.AccountAddMember); err != nil {
		return w.refuse(rw, r, err)
	}
	g, err := w.Team.Granting(r.Context(), act, account)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	roles, err := w.Team.Roles(r.Context(), act, account)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	resources, err := w.Team.Resources(r.Context(), act, account)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	acct, err := w.Team.Account(r.Context(), act, account)
	if err != nil {
		return err
	}
	frame, err := w.frame(r, account, "team")
	if err != nil {
		return err
	}
	switch selection {
	case "all":
		d.tick(g.Grants)
		d.Custom = true
	case "none":
		d.Grants = nil
		d.Custom = true
	case "role":
		role, _ := roleByKey(roles, d.Role)
		d.tick(w.Catalogue.GrantList(w.Catalogue.Grants(role.Grants)))
		d.Custom = true
	}
	title := "page.member_new"
	if editing != nil {
		title = "page.member_edit"
	}
	p := w.page(r, title)
	if f != nil {
		p.Form = f
	}
	p.Form.Values["role"], p.Form.Values["title"], p.Form.Values["external_id"] = d.Role, d.Title, d.ExternalID
	if editing != nil {
		p.Form.Values["notification_email"] = d.NotificationEmail
	}
	p.Form.arrange(w.memberFormFields()...)
	p.Form.label(memberFormLabels...)
	data := memberFormPage{Frame: frame, Editing: editing != nil, Activation: acct.RequiresActivation, Custom: d.Custom,
		Back: frame.URL("/members")}
	if editing != nil {
		data.Name, data.Email, data.Status = personName(editing.User), editing.User.Email, editing.Member.Status
		data.UserExternalID = editing.User.ExternalID
	}
	// A refusal may come with a way out, which the form carries: where the
	// person already is, or removing the member instead.
	data.ExistsURL, data.RemoveURL = p.Form.Value("exists"), p.Form.Value("remove")
	for _, ro := range roles {
		o := option{Value: ro.Role.Key, Label: roleName(ro.Role, p.Locale), Selected: ro.Role.Key == d.Role}
		// A role that grants more than the reader holds is shown, saying
		// why it cannot be chosen; the member's own role stays choosable.
		if !mayGive(g, ro.Role.Key) && !o.Selected {
			o.Disabled, data.RolesBeyond = true, true
			why := "member_form.role_beyond"
			if ro.Role.Key == equipe.RoleAdmin {
				why = "member_form.role_admin_only"
			}
			o.Label = w.I18n.T(p.Locale, why, map[string]any{"role": o.Label})
		}
		data.Roles = append(data.Roles, o)
	}
	data.Picker = pickerData{Form: p.Form, Hint: "perms.member_hint", FromRole: true,
		Groups: w.pickerGroups(p.Locale, p.Form, d.Grants, d.Scopes, held(g.Grants))}
	data.Resources = w.resourceGroups(resources, p.Locale, d.Resources)
	// The client companies: ticked as posted, else as the member stands.
	clients, err := w.Team.Clients(r.Context(), act, account)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	ticked := d.Clients
	if !d.ClientsShown && editing != nil {
		ticked = editing.Clients
	}
	for _, c := range clients {
		if c.Actions.May(team.ClientAssignStaff) {
			data.Companies = append(data.Companies, resourceCheck{ID: c.Account.ID.String(), Name: c.Account.Name,
				Checked: slices.Contains(ticked, c.Account.ID)})
		}
	}
	for _, jt := range w.Catalogue.JobTitles {
		data.Titles = append(data.Titles, jt.Label.In(p.Locale))
	}
	p.Data = data
	return w.render(rw, r, status, "member_form", p)
}

// resourceGroups returns the account's resources in use by type, in
// catalogue order, each ticked when assigned is, and the archived ones
// assigned holds, marked archived.
func (w *Web) resourceGroups(resources []equipe.Resource, locale string, assigned []equipe.ID) []resourceGroup {
	var out []resourceGroup
	at := map[string]int{}
	for _, rt := range w.Catalogue.ResourceTypes {
		at[rt.Key] = len(out)
		out = append(out, resourceGroup{Key: rt.Key, Label: rt.Label.In(locale), Description: rt.Description.In(locale), Required: rt.Required})
	}
	for _, res := range resources {
		checked := slices.Contains(assigned, res.ID)
		if res.Archived() && !checked {
			continue
		}
		i, ok := at[res.Type]
		if !ok {
			i = len(out)
			at[res.Type] = i
			out = append(out, resourceGroup{Key: res.Type, Label: res.Type})
		}
		out[i].Items = append(out[i].Items, resourceCheck{ID: res.ID.String(), Name: res.Name, Checked: checked, Archived: res.Archived()})
	}
	return slices.DeleteFunc(out, func(g resourceGroup) bool { return len(g.Items) == 0 })
}

// roleOf returns the role of the account with key, among those of g.
func roleOf(g team.Granting, key string) (access.Role, bool) {
	for _, c := range g.Roles {
		if c.Role.Key == key {
			return c.Role, true
		}
	}
	return access.Role{}, false
}

// mayGive reports whether the use cases let the reader give the role.
func mayGive(g team.Granting, role string) bool {
	for _, c := range g.Roles {
		if c.Role.Key == role {
			return c.OK()
		}
	}
	return false
}

// held maps each permission of grants to its scope.
func held(grants []access.Grant) map[string]access.Scope {
	out := make(map[string]access.Scope, len(grants))
	for _, gr := range grants {
		out[gr.Permission] = gr.Scope
	}
	return out
}

// absorbMember takes a use case's refusal of a member form into the form,
// each problem beside its field: a refusal of what was granted goes beside
// the role when the role itself is beyond the reader (roleBeyond), else
// beside the permissions. It reports whether the form shows err; any other
// refusal gets a page of its own.
func (w *Web) absorbMember(f *form, locale string, err error, roleBeyond bool, d memberDraft) bool {
	e := equipe.AsError(err)
	switch {
	case e.Code == equipe.ECONFLICT && e.Key == "member.exists":
		f.add("email", e.Key, nil)
	case e.Code == equipe.ECONFLICT && e.Key == "member.required_resource":
		f.add("resources", "member.required_resource", map[string]any{"types": w.typeNames(locale, stringArg(e.Args, "types"))})
	case e.Code == equipe.ECONFLICT && e.Key == "member.last_admin":
		f.add("role", e.Key, nil)
	case e.Code == equipe.EFORBIDDEN && e.Key == "role.admin_only":
		f.add("role", e.Key, nil)
	case e.Code == equipe.EFORBIDDEN && e.Key == "role.beyond_own":
		field := "permissions"
		if roleBeyond {
			field = "role"
		}
		f.add(field, e.Key, e.Args)
	case e.Code == equipe.ECONFLICT && e.Key == "member.external_id_taken":
		f.add("external_id", e.Key, nil)
	case e.Code == equipe.EFORBIDDEN && e.Key == "member.resource_beyond_own":
		f.add("resources", e.Key, nil)
	case e.Code == equipe.EINVALID:
		for _, fe := range e.Fields {
			name := fe.Field
			if rest, ok := strings.CutPrefix(name, "overrides"); ok {
				name = "permissions" + rest
			}
			if strings.HasPrefix(name, "resources") {
				name = "resources"
			}
			key := fe.Key
			if name == "role" && key == "role.unknown" && d.Role == "" {
				key = "member.role_required"
			}
			f.add(name, key, fe.Args)
		}
		if len(e.Fields) == 0 {
			f.Summary = e.Key
		}
	default:
		return f.absorb(err, nil)
	}
	return true
}

func stringArg(args map[string]any, name string) string {
	s, _ := args[name].(string)
	return s
}

func (w *Web) newMemberForm(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	acct, err := w.Team.Account(r.Context(), actor(r), account)
	if err != nil {
		return err
	}
	f := newForm()
	// An account that activates its members creates them inactive; the
	// administrator activates them when ready.
	if !acct.RequiresActivation {
		f.Values["send_invitation"] = "yes"
	}
	// A contact invited as a member arrives with their email and names; the
	// form only shows them, the use case judges them.
	q := r.URL.Query()
	for _, name := range []string{"email", "first_name", "last_name"} {
		if v := strings.TrimSpace(q.Get(name)); v != "" && utf8.RuneCountInString(v) <= 254 {
			f.Values[name] = v
		}
	}
	return w.showMemberForm(rw, r, account, nil, memberDraft{Scopes: map[string]string{}}, "", f, http.StatusOK)
}

func (w *Web) addMember(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	d := memberDraftOf(r)
	f := newForm()
	f.keep(r, "email", "first_name", "last_name", "notification_email", "locale", "send_invitation", "send_welcome")
	if sel := r.PostFormValue("select"); sel != "" {
		return w.showMemberForm(rw, r, account, nil, d, sel, f, http.StatusOK)
	}
	if d.badResource {
		f.add("resources", "resource.unknown", nil)
		return w.showMemberForm(rw, r, account, nil, d, "", f, http.StatusUnprocessableEntity)
	}
	act := actor(r)
	g, err := w.Team.Granting(r.Context(), act, account)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	role, _ := roleOf(g, d.Role)
	added, err := w.Team.AddMember(r.Context(), act, account, team.NewMember{Email: r.PostFormValue("email"),
		FirstName: r.PostFormValue("first_name"), LastName: r.PostFormValue("last_name"), Role: d.Role,
		Overrides: w.overridesOf(d, role), Resources: d.Resources, Title: d.Title,
		NotificationEmail: r.PostFormValue("notification_email"), Locale: r.PostFormValue("locale"),
		SendInvitation: r.PostFormValue("send_invitation") == "yes", SendWelcome: r.PostFormValue("send_welcome") == "yes",
		Clients: d.Clients})
	if err != nil {
		if !w.absorbMember(f, w.locale(r), err, !mayGive(g, d.Role), d) {
			return w.refuse(rw, r, err)
		}
		status := refusedStatus(err)
		if fe := f.Err("resources"); fe != nil && fe.Key == "member.required_resource" {
			// Nobody to remove yet: the form asks for a resource instead.
			f.Errors["resources"] = fieldError{Key: "member_form.required_resource", Args: fe.Args}
		}
		if e := equipe.AsError(err); e.Key == "member.exists" {
			f.Values["exists"] = "/accounts/" + account.String() + "/members?q=" + url.QueryEscape(strings.TrimSpace(f.Value("email")))
		}
		return w.showMemberForm(rw, r, account, nil, d, "", f, status)
	}
	acct, err := w.Team.Account(r.Context(), act, account)
	if err != nil {
		return err
	}
	done := "added"
	switch {
	case added.Invited && acct.RequiresActivation:
		done = "activated"
	case added.Invited:
		done = "invited"
	case acct.RequiresActivation:
		done = "added_inactive"
	case added.Welcomed:
		done = "welcomed"
	}
	return redirect(rw, r, "/accounts/"+account.String()+"/members?done="+done+"&user="+added.User.ID.String())
}

// editedMember returns the member the path names, once the use cases say
// the reader may change them.
func (w *Web) editedMember(r *http.Request) (equipe.ID, *editedMember, error) {
	account, user, err := accountUser(r)
	if err != nil {
		return account, nil, err
	}
	mv, err := w.Team.ViewMember(r.Context(), actor(r), account, user)
	if err != nil {
		return account, nil, err
	}
	if a := mv.Actions.Get(team.MemberEdit); !a.OK() {
		return account, nil, a.Err
	}
	clients, err := w.Team.StaffClients(r.Context(), actor(r), account, user)
	if err != nil {
		return account, nil, err
	}
	return account, &editedMember{Member: mv.Member, User: mv.User, Resources: mv.Resources, Clients: clients}, nil
}

func (w *Web) editMemberForm(rw http.ResponseWriter, r *http.Request) error {
	account, em, err := w.editedMember(r)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	roles, err := w.Team.Roles(r.Context(), actor(r), account)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	d := memberDraft{Role: em.Member.Role, Custom: len(em.Member.Overrides) > 0, Scopes: map[string]string{},
		Resources: em.Resources, Title: em.Member.Title, ExternalID: em.Member.ExternalID,
		NotificationEmail: em.Member.NotificationEmail}
	// The picker starts from what the member may do now: their role's
	// permissions with their overrides.
	role, _ := roleByKey(roles, em.Member.Role)
	now := w.Catalogue.Compile(access.Input{Role: role, Overrides: accessOverrides(em.Member.Overrides)})
	d.tick(w.Catalogue.GrantList(now.Set()))
	return w.showMemberForm(rw, r, account, em, d, "", nil, http.StatusOK)
}

func (w *Web) changeMember(rw http.ResponseWriter, r *http.Request) error {
	account, em, err := w.editedMember(r)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	d := memberDraftOf(r)
	if sel := r.PostFormValue("select"); sel != "" {
		return w.showMemberForm(rw, r, account, em, d, sel, nil, http.StatusOK)
	}
	f := newForm()
	if d.badResource {
		f.add("resources", "resource.unknown", nil)
		return w.showMemberForm(rw, r, account, em, d, "", f, http.StatusUnprocessableEntity)
	}
	act := actor(r)
	g, err := w.Team.Granting(r.Context(), act, account)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	role, _ := roleOf(g, d.Role)
	// Only what changed is sent: the rules judge the change, and the audit
	// log records it, not an unchanged field.
	var ch team.MemberChange
	changed := false
	if d.Role != em.Member.Role {
		ch.Role, changed = &d.Role, true
	}
	if ovs := w.overridesOf(d, role); !sameOverrides(ovs, em.Member.Overrides) {
		ch.Overrides, changed = &ovs, true
	}
	if !sameIDs(d.Resources, em.Resources) {
		ch.Resources, changed = &d.Resources, true
	}
	if t := strings.TrimSpace(d.Title); t != em.Member.Title {
		ch.Title, changed = &d.Title, true
	}
	if d.ClientsShown && !sameIDs(d.Clients, em.Clients) {
		ch.Clients, changed = &d.Clients, true
	}
	if d.ExternalIDShown && d.ExternalID != em.Member.ExternalID {
		ch.ExternalID, changed = &d.ExternalID, true
	}
	if d.NotificationEmailShown && d.NotificationEmail != em.Member.NotificationEmail {
		ch.NotificationEmail, changed = &d.NotificationEmail, true
	}
	user := em.Member.UserID.String()
	if !changed {
		return redirect(rw, r, "/accounts/"+account.String()+"/members?done=unchanged&user="+user)
	}
	if _, err := w.Team.ChangeMember(r.Context(), act, account, em.Member.UserID, ch); err != nil {
		if !w.absorbMember(f, w.locale(r), err, !mayGive(g, d.Role) && d.Role != em.Member.Role, d) {
			return w.refuse(rw, r, err)
		}
		if equipe.AsError(err).Key == "member.required_resource" {
			f.Values["remove"] = "/accounts/" + account.String() + "/members/" + user + "/remove"
		}
		return w.showMemberForm(rw, r, account, em, d, "", f, refusedStatus(err))
	}
	return redirect(rw, r, "/accounts/"+account.String()+"/members?done=changed&user="+user)
}
