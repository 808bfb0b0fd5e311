package web

import (
	"net/http"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
)

func (w *Web) forgotForm(rw http.ResponseWriter, r *http.Request) error {
	return w.render(rw, r, http.StatusOK, "forgot", w.page(r, "reset.request_title"))
}

// forgot answers the same page whether or not the email has an identity.
func (w *Web) forgot(rw http.ResponseWriter, r *http.Request) error {
	p := w.page(r, "reset.request_title")
	err := w.Identity.RequestReset(r.Context(), r.PostFormValue("email"), httpauth.Origin(r))
	if err != nil {
		if !p.Form.absorb(err, nil) {
			return err
		}
		p.Form.keep(r, "email")
		return w.render(rw, r, refusedStatus(err), "forgot", p)
	}
	p.Data = true
	return w.render(rw, r, http.StatusOK, "forgot", p)
}

// linkPage explains a one-time link that cannot be used, and what to do.
type linkPage struct {
	Key, Advice, Action, ActionLabel string
}

// tokenPage marks a page whose URL carries a one-time secret: the secret
// must not leak to another site through the Referer header.
func tokenPage(rw http.ResponseWriter) {
	rw.Header().Set("Referrer-Policy", "no-referrer")
}

func (w *Web) linkError(rw http.ResponseWriter, r *http.Request, err error, advice, action, actionLabel string) error {
	e := equipe.AsError(err)
	if e.Code != equipe.ENOTFOUND {
		return err
	}
	p := w.page(r, "link.title")
	p.Data = linkPage{Key: e.Key, Advice: advice, Action: action, ActionLabel: actionLabel}
	status := http.StatusNotFound
	if e.Key != "link.invalid" {
		status = http.StatusGone
	}
	return w.render(rw, r, status, "link", p)
}

func (w *Web) resetForm(rw http.ResponseWriter, r *http.Request) error {
	tokenPage(rw)
	u, err := w.Identity.ResetLink(r.Context(), r.PathValue("token"), httpauth.Origin(r))
	if err != nil {
		return w.linkError(rw, r, err, "link.reset_advice", "/forgot-password", "link.reset_action")
	}
	p := w.page(r, "reset.title")
	p.Data = u.Email
	return w.render(rw, r, http.StatusOK, "reset", p)
}

func (w *Web) reset(rw http.ResponseWriter, r *http.Request) error {
	tokenPage(rw)
	token := r.PathValue("token")
	pw := r.PostFormValue("password")
	if pw != r.PostFormValue("password_confirm") {
		u, err := w.Identity.ResetLink(r.Context(), token, httpauth.Origin(r))
		if err != nil {
			return w.linkError(rw, r, err, "link.reset_advice", "/forgot-password", "link.reset_action")
		}
		p := w.page(r, "reset.title")
		p.Data = u.Email
		mismatched(p.Form, "password", pw, u.Email, u.FirstName, u.LastName)
		p.Form.arrange("password", "password_confirm")
		return w.render(rw, r, http.StatusUnprocessableEntity, "reset", p)
	}
	u, err := w.Identity.ConfirmReset(r.Context(), token, pw, httpauth.Origin(r))
	if err != nil {
		if equipe.ErrorCode(err) == equipe.ENOTFOUND {
			return w.linkError(rw, r, err, "link.reset_advice", "/forgot-password", "link.reset_action")
		}
		p := w.page(r, "reset.title")
		p.Data = u.Email
		if !p.Form.absorb(err, nil) {
			return err
		}
		p.Form.arrange("password", "password_confirm")
		return w.render(rw, r, refusedStatus(err), "reset", p)
	}
	// Every session ended with the password change, this browser's too.
	w.Cookies.Clear(rw)
	return redirect(rw, r, "/login?done=reset")
}
