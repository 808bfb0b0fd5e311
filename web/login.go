package web

import (
	"errors"
	"net/http"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/identity"
)

// loginNotices are the notices /login?done= may show after a redirect.
var loginNotices = map[string]string{
	"logout":  "login.logged_out",
	"reset":   "login.password_changed",
	"expired": "login.challenge_expired",
	"deleted": "login.identity_deleted",
}

func (w *Web) loginForm(rw http.ResponseWriter, r *http.Request) error {
	if _, ok := httpauth.Auth(r); ok {
		return redirect(rw, r, localPath(r.URL.Query().Get("next"), "/"))
	}
	p := w.page(r, "login.title")
	p.Notice = loginNotices[r.URL.Query().Get("done")]
	p.Data = localPath(r.URL.Query().Get("next"), "")
	// An OpenID Connect client may say who is expected (login_hint).
	if hint := r.URL.Query().Get("login_hint"); hint != "" && len(hint) <= 320 {
		p.Form.Values["email"] = hint
	}
	return w.render(rw, r, http.StatusOK, "login", p)
}

func (w *Web) logIn(rw http.ResponseWriter, r *http.Request) error {
	next := localPath(r.PostFormValue("next"), "/")
	auth, secret, err := w.Identity.LogIn(r.Context(), r.PostFormValue("email"), r.PostFormValue("password"), httpauth.Origin(r))
	var step *identity.SecondFactorRequired
	if errors.As(err, &step) {
		// The password was right: the second step's page holds the
		// challenge in a cookie of its own, never in its URL.
		w.Cookies.SetChallenge(rw, step.Challenge, step.ExpiresAt)
		return redirect(rw, r, secondStepPath(next, ""))
	}
	if err != nil {
		p := w.page(r, "login.title")
		p.Data = r.PostFormValue("next")
		switch equipe.ErrorCode(err) {
		case equipe.EUNAUTHORIZED:
			p.Form.Summary = "login.failed"
		case equipe.ERATELIMITED:
			p.Form.absorb(err, nil)
		default:
			return err
		}
		p.Form.keep(r, "email")
		status := http.StatusUnauthorized
		if equipe.ErrorCode(err) == equipe.ERATELIMITED {
			status = http.StatusTooManyRequests
		}
		return w.render(rw, r, status, "login", p)
	}
	// A new session secret at every login: a secret planted before login
	// (session fixation) never becomes a logged-in one.
	if err := w.startSession(rw, r, auth, secret); err != nil {
		return err
	}
	return redirect(rw, r, next)
}

// startSession gives the browser the session a login opened. The session
// the browser held until then, if any (a person an application asked to log
// in again, with prompt=login or max_age), ends as at a logout: the new one
// replaces it.
func (w *Web) startSession(rw http.ResponseWriter, r *http.Request, auth identity.Auth, secret string) error {
	if old, ok := httpauth.Auth(r); ok && httpauth.AuthVia(r) == httpauth.ViaCookie && old.Session.ID != auth.Session.ID {
		if err := w.Identity.LogOut(r.Context(), old, httpauth.Origin(r)); err != nil {
			return err
		}
	}
	w.Cookies.Set(rw, auth, secret)
	return nil
}

func (w *Web) logOut(rw http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	if err := w.Identity.LogOut(r.Context(), auth, httpauth.Origin(r)); err != nil {
		return err
	}
	w.Cookies.Clear(rw)
	// "Log out and continue": an invitation opened while logged in as
	// someone else is shown again to the person it is for.
	if next := localPath(r.PostFormValue("next"), ""); next != "" {
		return redirect(rw, r, next)
	}
	return redirect(rw, r, "/login?done=logout")
}
