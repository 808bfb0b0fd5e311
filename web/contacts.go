package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/team"
)

// contactNotices are the notices the contacts page may show after a
// redirect.
var contactNotices = map[string]string{
	"created": "contacts.done_created",
	"changed": "contacts.done_changed",
	"deleted": "contacts.done_deleted",
}

// contactKinds are the message keys of the kinds of contact.
var contactKinds = map[string]string{
	equipe.ContactBilling:    "contacts.kind_billing",
	equipe.ContactTechnical:  "contacts.kind_technical",
	equipe.ContactCommercial: "contacts.kind_commercial",
	equipe.ContactOther:      "contacts.kind_other",
}

// contactFields are the contact form's fields in page order; "name" is the
// pair of names, of which one is needed.
var contactFields = []string{"name", "first_name", "last_name", "email", "phone", "kinds"}

type contactsPage struct {
	Frame     accountFrame
	CanManage bool // contacts.manage
	CanInvite bool // members.manage: the page tells others whom to ask
	Rows      []contactRow
}

type contactRow struct {
	Name   string
	Email  string
	Phone  string
	Kinds  []string // labels
	Edit   string
	Delete string
	// Invite opens the add-member form with the contact's email and names
	// (a contact cannot log in until invited as a member), for a reader who
	// manages members.
	Invite string
}

type contactFormPage struct {
	Frame   accountFrame
	Editing bool
	Name    string // the contact's, when editing
	Kinds   []option
	Back    string
}

type contactDeletePage struct {
	Frame accountFrame
	Name  string
	Email string
	Back  string
}

// contactName is how pages name a contact.
func contactName(c equipe.Contact) string {
	u := equipe.User{FirstName: c.FirstName, LastName: c.LastName}
	if n := u.Name(); n != "" {
		return n
	}
	return c.Email
}

// contactPath parses the account and the contact a path names.
func contactPath(r *http.Request) (equipe.ID, equipe.ID, error) {
	account, err := pathID(r, "account")
	if err != nil {
		return account, account, err
	}
	contact, err := pathID(r, "contact")
	return account, contact, err
}

func (w *Web) contacts(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	list, _, err := w.Team.Contacts(r.Context(), actor(r), account, equipe.Page{})
	if err != nil {
		return w.refuse(rw, r, err)
	}
	acts, err := w.accountActions(r, account)
	if err != nil {
		return err
	}
	frame, err := w.frame(r, account, "contacts")
	if err != nil {
		return err
	}
	p := w.page(r, "page.contacts")
	q := r.URL.Query()
	if key := contactNotices[q.Get("done")]; key != "" {
		p.Notice, p.NoticeArgs = key, map[string]any{"name": w.I18n.T(p.Locale, "contacts.the_contact", nil)}
	}
	d := contactsPage{Frame: frame, CanManage: acts.May(team.AccountManageContacts), CanInvite: acts.May(team.AccountAddMember)}
	for _, cv := range list {
		c := cv.Contact
		base := frame.URL("/contacts/" + c.ID.String())
		row := contactRow{Name: contactName(c), Email: c.Email, Phone: c.Phone}
		if cv.Actions.May(team.ContactEdit) {
			row.Edit = base + "/edit"
		}
		if cv.Actions.May(team.ContactDelete) {
			row.Delete = base + "/delete"
		}
		for _, k := range equipe.ContactKinds {
			if slices.Contains(c.Kinds, k) {
				row.Kinds = append(row.Kinds, w.I18n.T(p.Locale, contactKinds[k], nil))
			}
		}
		if cv.Actions.May(team.ContactInvite) {
			v := url.Values{"email": {c.Email}}
			if c.FirstName != "" {
				v.Set("first_name", c.FirstName)
			}
			if c.LastName != "" {
				v.Set("last_name", c.LastName)
			}
			row.Invite = frame.URL("/members/new") + "?" + v.Encode()
		}
		if p.Notice != "" && q.Get("contact") == c.ID.String() {
			p.NoticeArgs["name"] = row.Name
		}
		d.Rows = append(d.Rows, row)
	}
	p.Data = d
	return w.render(rw, r, http.StatusOK, "contacts", p)
}

// contactInputOf reads the contact form.
func contactInputOf(r *http.Request) team.ContactInput {
	return team.ContactInput{FirstName: r.PostFormValue("first_name"), LastName: r.PostFormValue("last_name"),
		Email: r.PostFormValue("email"), Phone: r.PostFormValue("phone"), Kinds: r.PostForm["kinds"]}
}

// showContactForm shows the add form (editing nil) or the edit form with f;
// the reader needs contacts.manage.
func (w *Web) showContactForm(rw http.ResponseWriter, r *http.Request, account equipe.ID, editing *equipe.Contact, f *form, status int) error {
	if err := w.mayIn(r, account, team.AccountManageContacts); err != nil {
		return w.refuse(rw, r, err)
	}
	frame, err := w.frame(r, account, "contacts")
	if err != nil {
		return err
	}
	title := "page.contact_new"
	if editing != nil {
		title = "page.contact_edit"
	}
	p := w.page(r, title)
	p.Form = f
	p.Form.arrange(contactFields...)
	p.Form.label("name", "contacts.name", "email", "contacts.email", "phone", "contacts.phone", "kinds", "contacts.kinds")
	d := contactFormPage{Frame: frame, Editing: editing != nil, Back: frame.URL("/contacts")}
	if editing != nil {
		d.Name = contactName(*editing)
	}
	chosen := strings.Split(f.Value("kinds"), ",")
	for _, k := range equipe.ContactKinds {
		d.Kinds = append(d.Kinds, option{Value: k, Label: w.I18n.T(p.Locale, contactKinds[k], nil), Selected: slices.Contains(chosen, k)})
	}
	p.Data = d
	return w.render(rw, r, status, "contact_form", p)
}

// keepContact copies the posted contact into the form, to show it again.
func keepContact(r *http.Request) *form {
	f := newForm()
	f.keep(r, "first_name", "last_name", "email", "phone")
	f.Values["kinds"] = strings.Join(r.PostForm["kinds"], ",")
	return f
}

// absorbContact takes a refused contact into the form. A contact needs a
// first name or a last name: without either, the form says so beside both.
func absorbContact(f *form, err error) bool {
	if !f.absorb(err, nil) {
		return false
	}
	if e := f.Err("last_name"); e != nil && e.Key == "name.required" {
		delete(f.Errors, "last_name")
		f.Order[slices.Index(f.Order, "last_name")] = "name"
		f.Errors["name"] = fieldError{Key: "contact.name_required"}
	}
	return true
}

func (w *Web) newContactForm(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	return w.showContactForm(rw, r, account, nil, newForm(), http.StatusOK)
}

func (w *Web) createContact(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	c, err := w.Team.CreateContact(r.Context(), actor(r), account, contactInputOf(r))
	if err != nil {
		f := keepContact(r)
		if !absorbContact(f, err) {
			return w.refuse(rw, r, err)
		}
		return w.showContactForm(rw, r, account, nil, f, refusedStatus(err))
	}
	return redirect(rw, r, "/accounts/"+account.String()+"/contacts?done=created&contact="+c.ID.String())
}

func (w *Web) editContactForm(rw http.ResponseWriter, r *http.Request) error {
	account, id, err := contactPath(r)
	if err != nil {
		return err
	}
	cv, err := w.Team.Contact(r.Context(), actor(r), account, id)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	c := cv.Contact
	f := newForm()
	f.Values = map[string]string{"first_name": c.FirstName, "last_name": c.LastName, "email": c.Email, "phone": c.Phone,
		"kinds": strings.Join(c.Kinds, ",")}
	return w.showContactForm(rw, r, account, &c, f, http.StatusOK)
}

func (w *Web) updateContact(rw http.ResponseWriter, r *http.Request) error {
	account, id, err := contactPath(r)
	if err != nil {
		return err
	}
	cv, err := w.Team.Contact(r.Context(), actor(r), account, id)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	if _, err := w.Team.UpdateContact(r.Context(), actor(r), account, id, contactInputOf(r).Replace()); err != nil {
		f := keepContact(r)
		if equipe.ErrorCode(err) == equipe.ENOTFOUND || !absorbContact(f, err) {
			return w.refuse(rw, r, err)
		}
		return w.showContactForm(rw, r, account, &cv.Contact, f, refusedStatus(err))
	}
	return redirect(rw, r, "/accounts/"+account.String()+"/contacts?done=changed&contact="+id.String())
}

// deleteContactForm asks to confirm a contact's deletion; the reader needs
// contacts.manage.
func (w *Web) deleteContactForm(rw http.ResponseWriter, r *http.Request) error {
	account, id, err := contactPath(r)
	if err != nil {
		return err
	}
	cv, err := w.Team.Contact(r.Context(), actor(r), account, id)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	if a := cv.Actions.Get(team.ContactDelete); !a.OK() {
		return w.refuse(rw, r, a.Err)
	}
	c := cv.Contact
	frame, err := w.frame(r, account, "contacts")
	if err != nil {
		return err
	}
	p := w.page(r, "page.contact_delete")
	p.Data = contactDeletePage{Frame: frame, Name: contactName(c), Email: c.Email, Back: frame.URL("/contacts")}
	return w.render(rw, r, http.StatusOK, "contact_delete", p)
}

func (w *Web) deleteContact(rw http.ResponseWriter, r *http.Request) error {
	account, id, err := contactPath(r)
	if err != nil {
		return err
	}
	if err := w.Team.DeleteContact(r.Context(), actor(r), account, id); err != nil {
		return w.refuse(rw, r, err)
	}
	return redirect(rw, r, "/accounts/"+account.String()+"/contacts?done=deleted")
}
