package web

import (
	"net/http"

	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/identity"
)

func (w *Web) signupForm(rw http.ResponseWriter, r *http.Request) error {
	p := w.page(r, "signup.title")
	p.Data = w.Catalogue.ResourceTypes
	return w.render(rw, r, http.StatusOK, "signup", p)
}

// signupFields maps the use case's field names to the form's.
var signupFields = map[string]string{"first_resource.type": "resource_type", "first_resource.name": "resource_name"}

func (w *Web) signup(rw http.ResponseWriter, r *http.Request) error {
	res, err := w.Identity.SignUp(r.Context(), identity.SignUp{
		Email: r.PostFormValue("email"), Password: r.PostFormValue("password"),
		FirstName: r.PostFormValue("first_name"), LastName: r.PostFormValue("last_name"),
		AccountName: r.PostFormValue("account_name"), Locale: r.PostFormValue("locale"),
		ResourceType: r.PostFormValue("resource_type"), ResourceName: r.PostFormValue("resource_name"),
	}, httpauth.Origin(r), true)
	if err != nil {
		p := w.page(r, "signup.title")
		p.Data = w.Catalogue.ResourceTypes
		if !p.Form.absorb(err, signupFields) {
			return err
		}
		p.Form.arrange("first_name", "last_name", "email", "password", "account_name", "resource_type", "resource_name", "locale")
		p.Form.keep(r, "first_name", "last_name", "email", "account_name", "resource_type", "resource_name", "locale")
		return w.render(rw, r, refusedStatus(err), "signup", p)
	}
	w.Cookies.Set(rw, res.Token, res.Auth.Session.ExpiresAt)
	return redirect(rw, r, "/")
}
