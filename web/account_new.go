package web

import (
	"net/http"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/team"
)

// accountFormPage is the form that creates an account for another business
// (a partner setting up a customer) or a firm's client account (an
// accounting firm's client company): the same business details and first
// resource; the owner is required for the first and optional for a client,
// whom the firm's staff may look after alone.
type accountFormPage struct {
	// Frame is the firm's, for a client account; nil for an account created
	// for another business.
	Frame *accountFrame
	Types []option
	Back  string
}

// accountFormFields are the account forms' fields in page order.
var accountFormFields = []string{"name", "locale", "resource_type", "resource_name", "owner_email", "owner_first_name",
	"owner_last_name", "message"}

// accountFieldNames maps the use case's field names to the form's.
var accountFieldNames = map[string]string{
	"first_resource.type": "resource_type",
	"first_resource.name": "resource_name",
	"owner.email":         "owner_email",
	"owner.first_name":    "owner_first_name",
	"owner.last_name":     "owner_last_name",
}

// newAccountOf reads an account form.
func newAccountOf(r *http.Request) team.NewAccount {
	return team.NewAccount{Name: r.PostFormValue("name"), Locale: r.PostFormValue("locale"),
		ResourceType: r.PostFormValue("resource_type"), ResourceName: r.PostFormValue("resource_name"),
		OwnerEmail: r.PostFormValue("owner_email"), OwnerFirstName: r.PostFormValue("owner_first_name"),
		OwnerLastName: r.PostFormValue("owner_last_name"), Message: r.PostFormValue("message")}
}

// showAccountForm shows an account form with f; frame is the firm's for a
// client account.
func (w *Web) showAccountForm(rw http.ResponseWriter, r *http.Request, title string, frame *accountFrame, f *form, status int) error {
	p := w.page(r, title)
	p.Form = f
	p.Form.arrange(accountFormFields...)
	p.Form.label("name", "new_account.name", "locale", "new_account.locale", "resource_type", "new_account.resource_type",
		"resource_name", "new_account.resource_name", "owner_email", "new_account.owner_email",
		"owner_first_name", "field.first_name", "owner_last_name", "field.last_name", "message", "new_account.message")
	d := accountFormPage{Frame: frame, Back: "/"}
	if frame != nil {
		d.Back = frame.URL("/clients")
	}
	chosen := f.Value("resource_type")
	for _, rt := range w.Catalogue.ResourceTypes {
		d.Types = append(d.Types, option{Value: rt.Key, Label: rt.Label.In(p.Locale), Selected: rt.Key == chosen})
	}
	p.Data = d
	return w.render(rw, r, status, "account_form", p)
}

// freshAccountForm is an empty account form in the page's language, with a
// location as the first resource.
func (w *Web) freshAccountForm(r *http.Request) *form {
	f := newForm()
	f.Values["locale"] = w.locale(r)
	f.Values["resource_type"] = equipe.ResourceLocation
	return f
}

// newAccountForm shows the form empty. The personal message starts empty
// too: the owner's email already says how to log in, in the owner's
// language, which may not be the page's; a message adds only what its
// author writes.
func (w *Web) newAccountForm(rw http.ResponseWriter, r *http.Request) error {
	return w.showAccountForm(rw, r, "page.new_account", nil, w.freshAccountForm(r), http.StatusOK)
}

func (w *Web) createAccountFor(rw http.ResponseWriter, r *http.Request) error {
	f := newForm()
	f.keep(r, accountFormFields...)
	act := actor(r)
	acct, err := w.Team.CreateAccountFor(r.Context(), act, newAccountOf(r))
	if err != nil {
		if !f.absorb(err, accountFieldNames) {
			return err
		}
		return w.showAccountForm(rw, r, "page.new_account", nil, f, refusedStatus(err))
	}
	if ownerIsActor(act, r.PostFormValue("owner_email")) {
		return redirect(rw, r, "/accounts/"+acct.ID.String()+"/members?done=created_own")
	}
	to := "/accounts/" + acct.ID.String() + "/members?done=created_for"
	// The owner is the account's one administrator: the notice names them.
	rows, _, err := w.Team.TeamPage(r.Context(), act, team.MemberFilter{Account: acct.ID, Role: equipe.RoleAdmin, Limit: 1})
	if err == nil && len(rows) == 1 {
		to += "&user=" + rows[0].Member.UserID.String()
	}
	return redirect(rw, r, to)
}

// ownerIsActor says whether the owner's address a new account's form gave is
// the actor's own: the account is then theirs to administer at once, and
// nobody was invited (team.Service.CreateAccountFor), which the notice says.
func ownerIsActor(act team.Actor, email string) bool {
	_, key, problem := identity.NormalizeEmail(email)
	return problem == "" && act.User != nil && key == act.User.EmailKey
}
