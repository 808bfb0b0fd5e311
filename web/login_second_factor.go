package web

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/identity"
)

// secondStepPage is the second step of a login: which method the page
// asks for, the others the person may use instead, and where to go after.
type secondStepPage struct {
	Method  string
	Methods []string
	Next    string
}

// secondStepPath is the page of a login's second step, going to next
// after, asking for method (the first one when empty).
func secondStepPath(next, method string) string {
	q := url.Values{}
	if next != "" && next != "/" {
		q.Set("next", next)
	}
	if method != "" {
		q.Set("method", method)
	}
	if len(q) == 0 {
		return "/login/second-factor"
	}
	return "/login/second-factor?" + q.Encode()
}

// pendingLogin returns the login waiting for its second step in this
// browser; when there is none (or it expired), it sends the browser back
// to the login page and reports false.
func (w *Web) pendingLogin(rw http.ResponseWriter, r *http.Request) (identity.PendingLogin, bool, error) {
	pl, err := w.Identity.PendingLogin(r.Context(), w.Cookies.Challenge(r))
	if equipe.ErrorCode(err) == equipe.EUNAUTHORIZED {
		w.Cookies.ClearChallenge(rw)
		return pl, false, redirect(rw, r, "/login?done=expired")
	}
	return pl, err == nil, err
}

func (w *Web) secondStepPage(r *http.Request, pl identity.PendingLogin, method, next string) *page {
	if !slices.Contains(pl.Methods, method) && len(pl.Methods) > 0 {
		method = pl.Methods[0]
	}
	p := w.page(r, "second_step.title")
	p.Data = secondStepPage{Method: method, Methods: pl.Methods, Next: next}
	p.Form.label("code", "second_step.code."+method)
	return p
}

func (w *Web) secondStepForm(rw http.ResponseWriter, r *http.Request) error {
	// A browser logged in already has its second step to answer only when
	// the person is logging in again (startSession).
	if _, ok := httpauth.Auth(r); ok && w.Cookies.Challenge(r) == "" {
		return redirect(rw, r, localPath(r.URL.Query().Get("next"), "/"))
	}
	pl, ok, err := w.pendingLogin(rw, r)
	if !ok {
		return err
	}
	next := localPath(r.URL.Query().Get("next"), "/")
	return w.render(rw, r, http.StatusOK, "login_second_factor", w.secondStepPage(r, pl, r.URL.Query().Get("method"), next))
}

func (w *Web) secondStep(rw http.ResponseWriter, r *http.Request) error {
	next := localPath(r.PostFormValue("next"), "/")
	challenge := w.Cookies.Challenge(r)
	auth, secret, err := w.Identity.LogInSecondFactor(r.Context(), challenge, r.PostFormValue("code"), httpauth.Origin(r))
	if err != nil {
		pl, ok, perr := w.pendingLogin(rw, r)
		if !ok {
			return perr
		}
		p := w.secondStepPage(r, pl, r.PostFormValue("method"), next)
		if !p.Form.absorb(err, nil) {
			return err
		}
		return w.render(rw, r, refusedStatus(err), "login_second_factor", p)
	}
	return w.loggedIn(rw, r, auth, secret, next)
}

// loggedIn ends a login that started a session: the challenge's cookie
// goes, the session's is set, and the browser goes on to next. A new
// session secret at every login: a secret planted before login (session
// fixation) never becomes a logged-in one.
func (w *Web) loggedIn(rw http.ResponseWriter, r *http.Request, auth identity.Auth, secret, next string) error {
	w.Cookies.ClearChallenge(rw)
	if err := w.startSession(rw, r, auth, secret); err != nil {
		return err
	}
	return redirect(rw, r, next)
}
