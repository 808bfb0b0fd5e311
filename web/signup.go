package web

import (
	"net/http"

	"github.com/equipe-dev/equipe"
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
	if res.Pending {
		p := w.page(r, "signup.confirm_sent_title")
		p.Data = signupPending{Email: r.PostFormValue("email")}
		return w.render(rw, r, http.StatusAccepted, "signup_confirm", p)
	}
	w.Cookies.Set(rw, res.Auth, res.Token)
	return redirect(rw, r, "/")
}

// signupPending is the page of a sign-up that waits for its address: the
// link sent (Email), or the link opened (AccountName, a button).
type signupPending struct {
	Email       string
	AccountName string
	Confirm     bool
}

// confirmSignUpForm shows what a sign-up confirmation link is for, and a
// button: opening the link (perhaps by a mail scanner) creates nothing.
func (w *Web) confirmSignUpForm(rw http.ResponseWriter, r *http.Request) error {
	tokenPage(rw)
	ps, err := w.Identity.SignUpLink(r.Context(), r.PathValue("token"), httpauth.Origin(r))
	if err != nil {
		return w.linkError(rw, r, err, "link.signup_advice", "/signup", "link.signup_action")
	}
	p := w.page(r, "signup.confirm_title")
	p.Data = signupPending{Email: ps.Email, AccountName: ps.AccountName, Confirm: true}
	return w.render(rw, r, http.StatusOK, "signup_confirm", p)
}

func (w *Web) confirmSignUp(rw http.ResponseWriter, r *http.Request) error {
	tokenPage(rw)
	res, err := w.Identity.ConfirmSignUp(r.Context(), r.PathValue("token"), httpauth.Origin(r))
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return w.linkError(rw, r, err, "link.signup_advice", "/signup", "link.signup_action")
	} else if err != nil {
		return err
	}
	w.Cookies.Set(rw, res.Auth, res.Token)
	return redirect(rw, r, "/")
}
