package web

import (
	"context"
	"net/http"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/team"
)

// resourceNotices are the notices the resources page may show after a
// redirect.
var resourceNotices = map[string]string{
	"created":  "resources.done_created",
	"changed":  "resources.done_changed",
	"archived": "resources.done_archived",
	"restored": "resources.done_restored",
}

// resourceFields are the resource form's fields in page order.
var resourceFields = []string{"type", "name", "external_id"}

type resourcesPage struct {
	Frame     accountFrame
	CanManage bool // resources.manage
	Types     []option
	States    []option
	Filtered  bool
	// Groups are the resources in use by type, in catalogue order;
	// Archived those archived, listed apart.
	Groups   []resourceTable
	Archived *resourceTable
	// ShowArchived is false when the filter asks for resources in use only.
	ShowArchived bool
	Total        int
}

// resourceTable is a table of resources: those in use of one type, or
// those archived (with their types).
type resourceTable struct {
	ID       string // of its caption
	Label    string
	ShowType bool
	Items    []resourceRow
}

// resourceRow is a resource as the resources page shows it, with the
// actions the use cases say the reader may take on it.
type resourceRow struct {
	ID         string
	Name       string
	Type       string // the type's label
	ExternalID string
	Archived   bool
	Members    []navLink
	Count      int
	Edit       string // the form, when the reader may change it
	Archive    string // the confirmation page, when the reader may archive it
	Restore    string // where to post, when the reader may restore it
}

type resourceFormPage struct {
	Frame   accountFrame
	Editing bool
	Name    string // the resource's, when editing
	Type    string // its type's label, when editing
	Types   []option
	Back    string
}

type resourceArchivePage struct {
	Frame   accountFrame
	Name    string
	Type    string
	Count   int
	Members []navLink
	Back    string
}

// typeLabel names a resource type in locale; a type the catalogue no
// longer declares goes by its key.
func (w *Web) typeLabel(locale, key string) string {
	if rt, ok := w.Catalogue.ResourceType(key); ok {
		return rt.Label.In(locale)
	}
	return key
}

// resourceName is how pages other than the resources page name a resource:
// an archived one says so.
func (w *Web) resourceName(locale string, r equipe.Resource) string {
	if r.Archived() {
		return w.I18n.T(locale, "resources.archived_name", map[string]any{"name": r.Name})
	}
	return r.Name
}

// resourcePath parses the account and the resource a path names.
func resourcePath(r *http.Request) (equipe.ID, equipe.ID, error) {
	account, err := pathID(r, "account")
	if err != nil {
		return account, account, err
	}
	id, err := pathID(r, "resource")
	return account, id, err
}

func (w *Web) resourceRow(locale string, frame accountFrame, v team.ResourceView) resourceRow {
	base := frame.URL("/resources/" + v.ID.String())
	row := resourceRow{ID: v.ID.String(), Name: v.Name, Type: w.typeLabel(locale, v.Type), ExternalID: v.ExternalID,
		Archived: v.Archived(), Count: len(v.Members)}
	for _, m := range v.Members {
		name := personName(equipe.User{FirstName: m.FirstName, LastName: m.LastName, Email: m.Email})
		row.Members = append(row.Members, navLink{Href: frame.URL("/members/" + m.UserID.String() + "/permissions"), Label: name})
	}
	if v.Actions.May(team.ResourceEdit) {
		row.Edit = base + "/edit"
	}
	if v.Actions.May(team.ResourceArchive) {
		row.Archive = base + "/archive"
	}
	if v.Actions.May(team.ResourceRestore) {
		row.Restore = base + "/restore"
	}
	return row
}

func (w *Web) resources(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := team.ResourceFilter{Type: q.Get("type")}
	if f.Type != "" {
		if _, ok := w.Catalogue.ResourceType(f.Type); !ok {
			// A type no longer declared, or a tampered link: every type.
			f.Type = ""
		}
	}
	state := q.Get("state")
	switch state {
	case "active", "archived":
		only := state == "archived"
		f.Archived = &only
	default:
		state = ""
	}
	list, _, err := w.Team.ResourceList(r.Context(), actor(r), account, f, equipe.Page{})
	if err != nil {
		return w.refuse(rw, r, err)
	}
	acts, err := w.accountActions(r, account)
	if err != nil {
		return err
	}
	frame, err := w.frame(r, account, "resources")
	if err != nil {
		return err
	}
	p := w.page(r, "page.resources")
	if key := resourceNotices[q.Get("done")]; key != "" {
		p.Notice, p.NoticeArgs = key, map[string]any{"name": w.I18n.T(p.Locale, "resources.the_resource", nil)}
	}
	d := resourcesPage{Frame: frame, CanManage: acts.May(team.AccountManageResources), Filtered: f.Type != "" || state != "",
		ShowArchived: state != "active", Total: len(list)}
	d.Types = append(d.Types, option{Value: "", Label: w.I18n.T(p.Locale, "resources.all_types", nil)})
	at := map[string]int{}
	for _, rt := range w.Catalogue.ResourceTypes {
		d.Types = append(d.Types, option{Value: rt.Key, Label: rt.Label.In(p.Locale), Selected: rt.Key == f.Type})
		at[rt.Key] = len(d.Groups)
		d.Groups = append(d.Groups, resourceTable{ID: "kind-" + rt.Key, Label: rt.Label.In(p.Locale)})
	}
	for _, s := range []struct{ value, label string }{{"", "resources.state_all"}, {"active", "resources.state_active"},
		{"archived", "resources.state_archived"}} {
		d.States = append(d.States, option{Value: s.value, Label: w.I18n.T(p.Locale, s.label, nil), Selected: s.value == state})
	}
	for _, v := range list {
		row := w.resourceRow(p.Locale, frame, v)
		if p.Notice != "" && q.Get("resource") == row.ID {
			p.NoticeArgs["name"] = v.Name
		}
		if v.Archived() {
			if d.Archived == nil {
				d.Archived = &resourceTable{ID: "archived", Label: w.I18n.T(p.Locale, "resources.archived_title", nil), ShowType: true}
			}
			d.Archived.Items = append(d.Archived.Items, row)
			continue
		}
		i, ok := at[v.Type]
		if !ok {
			i = len(d.Groups)
			at[v.Type] = i
			d.Groups = append(d.Groups, resourceTable{ID: "kind-" + v.Type, Label: v.Type})
		}
		d.Groups[i].Items = append(d.Groups[i].Items, row)
	}
	var groups []resourceTable
	for _, g := range d.Groups {
		if len(g.Items) > 0 {
			groups = append(groups, g)
		}
	}
	d.Groups = groups
	p.Data = d
	return w.render(rw, r, http.StatusOK, "resources", p)
}

// showResourceForm shows the add form (editing nil) or the edit form with
// f; the reader needs resources.manage (to change a resource: the
// resource's own edit action).
func (w *Web) showResourceForm(rw http.ResponseWriter, r *http.Request, account equipe.ID, editing *team.ResourceView, f *form, status int) error {
	f.label("type", "resources.type", "name", "resources.name", "external_id", "resources.external_id")
	if editing == nil {
		if err := w.mayIn(r, account, team.AccountManageResources); err != nil {
			return w.refuse(rw, r, err)
		}
	} else if a := editing.Actions.Get(team.ResourceEdit); !a.OK() {
		return w.refuse(rw, r, a.Err)
	}
	frame, err := w.frame(r, account, "resources")
	if err != nil {
		return err
	}
	title := "page.resource_new"
	if editing != nil {
		title = "page.resource_edit"
	}
	p := w.page(r, title)
	p.Form = f
	p.Form.arrange(resourceFields...)
	d := resourceFormPage{Frame: frame, Editing: editing != nil, Back: frame.URL("/resources")}
	if editing != nil {
		d.Name, d.Type = editing.Name, w.typeLabel(p.Locale, editing.Type)
	}
	chosen := f.Value("type")
	for _, rt := range w.Catalogue.ResourceTypes {
		d.Types = append(d.Types, option{Value: rt.Key, Label: rt.Label.In(p.Locale), Selected: rt.Key == chosen})
	}
	p.Data = d
	return w.render(rw, r, status, "resource_form", p)
}

func (w *Web) newResourceForm(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	f := newForm()
	// The type the list was filtered by, else the first the catalogue
	// declares (a location by default).
	f.Values["type"] = r.URL.Query().Get("type")
	if _, ok := w.Catalogue.ResourceType(f.Values["type"]); !ok && len(w.Catalogue.ResourceTypes) > 0 {
		f.Values["type"] = w.Catalogue.ResourceTypes[0].Key
	}
	return w.showResourceForm(rw, r, account, nil, f, http.StatusOK)
}

func (w *Web) createResource(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	res, err := w.Team.CreateResource(r.Context(), actor(r), account, r.PostFormValue("type"), r.PostFormValue("name"),
		r.PostFormValue("external_id"))
	if err != nil {
		f := newForm()
		f.keep(r, "type", "name", "external_id")
		if !f.absorb(err, nil) {
			return w.refuse(rw, r, err)
		}
		return w.showResourceForm(rw, r, account, nil, f, refusedStatus(err))
	}
	return redirect(rw, r, "/accounts/"+account.String()+"/resources?done=created&resource="+res.ID.String())
}

func (w *Web) editResourceForm(rw http.ResponseWriter, r *http.Request) error {
	account, id, err := resourcePath(r)
	if err != nil {
		return err
	}
	v, err := w.Team.Resource(r.Context(), actor(r), account, id)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	f := newForm()
	f.Values = map[string]string{"type": v.Type, "name": v.Name, "external_id": v.ExternalID}
	return w.showResourceForm(rw, r, account, &v, f, http.StatusOK)
}

func (w *Web) changeResource(rw http.ResponseWriter, r *http.Request) error {
	account, id, err := resourcePath(r)
	if err != nil {
		return err
	}
	v, err := w.Team.Resource(r.Context(), actor(r), account, id)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	name, ext := r.PostFormValue("name"), r.PostFormValue("external_id")
	if _, err := w.Team.ChangeResource(r.Context(), actor(r), account, id, team.ResourceChange{Name: &name, ExternalID: &ext}); err != nil {
		f := newForm()
		f.keep(r, "name", "external_id")
		f.Values["type"] = v.Type
		if equipe.ErrorCode(err) == equipe.ENOTFOUND || !f.absorb(err, nil) {
			return w.refuse(rw, r, err)
		}
		return w.showResourceForm(rw, r, account, &v, f, refusedStatus(err))
	}
	return redirect(rw, r, "/accounts/"+account.String()+"/resources?done=changed&resource="+id.String())
}

// archiveResourceForm asks to confirm a resource's archiving, saying who
// is assigned to it.
func (w *Web) archiveResourceForm(rw http.ResponseWriter, r *http.Request) error {
	account, id, err := resourcePath(r)
	if err != nil {
		return err
	}
	v, err := w.Team.Resource(r.Context(), actor(r), account, id)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	if a := v.Actions.Get(team.ResourceArchive); !a.OK() {
		return w.refuse(rw, r, a.Err)
	}
	frame, err := w.frame(r, account, "resources")
	if err != nil {
		return err
	}
	p := w.page(r, "page.resource_archive")
	row := w.resourceRow(p.Locale, frame, v)
	p.Data = resourceArchivePage{Frame: frame, Name: v.Name, Type: row.Type, Count: row.Count, Members: row.Members,
		Back: frame.URL("/resources")}
	return w.render(rw, r, http.StatusOK, "resource_archive", p)
}

func (w *Web) archiveResource(rw http.ResponseWriter, r *http.Request) error {
	return w.setResourceState(rw, r, w.Team.ArchiveResource, "archived")
}

// restoreResource puts an archived resource back in use: nothing is lost
// by it, so the list's button posts here directly.
func (w *Web) restoreResource(rw http.ResponseWriter, r *http.Request) error {
	return w.setResourceState(rw, r, w.Team.RestoreResource, "restored")
}

// setResourceState archives or restores the resource of the path with
// change, then goes back to the list saying done. A resource already in
// that state (changed meanwhile) is not an error: the list shows it so.
func (w *Web) setResourceState(rw http.ResponseWriter, r *http.Request,
	change func(context.Context, team.Actor, equipe.ID, equipe.ID) (equipe.Resource, error), done string) error {
	account, id, err := resourcePath(r)
	if err != nil {
		return err
	}
	if _, err := change(r.Context(), actor(r), account, id); err != nil {
		if equipe.ErrorCode(err) == equipe.ECONFLICT {
			return redirect(rw, r, "/accounts/"+account.String()+"/resources")
		}
		return w.refuse(rw, r, err)
	}
	return redirect(rw, r, "/accounts/"+account.String()+"/resources?done="+done+"&resource="+id.String())
}
