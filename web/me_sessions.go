package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
)

// sessionNotices are the notices /me/sessions?done= may show.
var sessionNotices = map[string]string{
	"ended":             "sessions.ended",
	"others_ended":      "sessions.others_ended",
	"alerts_on":         "sessions.alerts_on",
	"alerts_off":        "sessions.alerts_off",
	"consent_withdrawn": "sessions.consent_withdrawn",
}

type sessionsPage struct {
	Sessions []sessionLine
	Others   int  // sessions but the current one
	Alerts   bool // emails on a login from a new browser
	// Consents are those the person gave to OpenID Connect clients.
	Consents []consentLine
}

type consentLine struct {
	Client   string
	Scopes   string
	Since    time.Time
	Withdraw string // the form's action
}

type sessionLine struct {
	Browser, System, IP string
	UserAgent           string
	CreatedAt           time.Time
	LastSeenAt          time.Time
	Current             bool
	End                 string // the confirmation page that ends it; empty for the current one
}

// mySessions lists the person's sessions, the current one marked, each
// other one with a link that ends it, and one that ends all others.
func (w *Web) mySessions(rw http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	sessions, _, err := w.Identity.Sessions(r.Context(), auth, equipe.Page{})
	if err != nil {
		return err
	}
	p := w.page(r, "page.sessions")
	p.Notice = sessionNotices[r.URL.Query().Get("done")]
	var d sessionsPage
	if d.Alerts, err = w.Identity.NewBrowserAlerts(r.Context(), auth); err != nil {
		return err
	}
	for _, s := range sessions {
		l := sessionLine{Browser: s.Device.Browser, System: s.Device.System, IP: s.IP, UserAgent: s.UserAgent,
			CreatedAt: s.CreatedAt, LastSeenAt: s.LastSeenAt, Current: s.Current}
		if !s.Current {
			l.End = "/me/sessions/" + s.ID.String() + "/end"
			d.Others++
		}
		d.Sessions = append(d.Sessions, l)
	}
	if w.SignIn != nil {
		cs, _, err := w.SignIn.Consents(r.Context(), auth, equipe.Page{})
		if err != nil {
			return err
		}
		for _, c := range cs {
			d.Consents = append(d.Consents, consentLine{Client: c.ClientName, Scopes: strings.Join(c.Scopes, " "), Since: c.UpdatedAt,
				Withdraw: "/me/oidc-consents/" + c.ClientID.String() + "/withdraw"})
		}
	}
	p.Data = d
	return w.render(rw, r, http.StatusOK, "me_sessions", p)
}

// withdrawConsent withdraws the person's consent to an OpenID Connect
// client, which ends its grants.
func (w *Web) withdrawConsent(rw http.ResponseWriter, r *http.Request) error {
	if w.SignIn == nil {
		return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
	}
	id, err := pathID(r, "client")
	if err != nil {
		return err
	}
	auth, _ := httpauth.Auth(r)
	if err := w.SignIn.WithdrawConsent(r.Context(), auth, id, httpauth.Origin(r)); err != nil {
		return err
	}
	return redirect(rw, r, "/me/sessions?done=consent_withdrawn")
}

type sessionEndPage struct {
	Session *sessionLine // nil: all others
	Others  int
}

// endSessionForm asks to confirm ending another of the person's sessions.
func (w *Web) endSessionForm(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "session")
	if err != nil {
		return err
	}
	auth, _ := httpauth.Auth(r)
	sessions, _, err := w.Identity.Sessions(r.Context(), auth, equipe.Page{})
	if err != nil {
		return err
	}
	for _, s := range sessions {
		if s.ID == id && !s.Current {
			p := w.page(r, "page.session_end")
			p.Data = sessionEndPage{Session: &sessionLine{Browser: s.Device.Browser, System: s.Device.System, IP: s.IP,
				CreatedAt: s.CreatedAt, LastSeenAt: s.LastSeenAt}}
			return w.render(rw, r, http.StatusOK, "me_session_end", p)
		}
	}
	return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
}

// endSession ends one of the person's sessions; ending the current one
// logs out.
func (w *Web) endSession(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "session")
	if err != nil {
		return err
	}
	auth, _ := httpauth.Auth(r)
	if err := w.Identity.EndSession(r.Context(), auth, id, httpauth.Origin(r)); err != nil {
		return err
	}
	if id == auth.Session.ID {
		w.Cookies.Clear(rw)
		return redirect(rw, r, "/login?done=logout")
	}
	return redirect(rw, r, "/me/sessions?done=ended")
}

// endOtherSessionsForm asks to confirm ending every other session.
func (w *Web) endOtherSessionsForm(rw http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	sessions, _, err := w.Identity.Sessions(r.Context(), auth, equipe.Page{})
	if err != nil {
		return err
	}
	p := w.page(r, "page.sessions_end_others")
	p.Data = sessionEndPage{Others: len(sessions) - 1}
	return w.render(rw, r, http.StatusOK, "me_session_end", p)
}

func (w *Web) endOtherSessions(rw http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	if _, err := w.Identity.EndOtherSessions(r.Context(), auth, httpauth.Origin(r)); err != nil {
		return err
	}
	return redirect(rw, r, "/me/sessions?done=others_ended")
}

// setAlerts turns the person's emails on a login from a new browser on or
// off: the box ticked or not.
func (w *Web) setAlerts(rw http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	on := r.PostFormValue("new_browser_alerts") == "on"
	if err := w.Identity.SetNewBrowserAlerts(r.Context(), auth, on, httpauth.Origin(r)); err != nil {
		return err
	}
	if on {
		return redirect(rw, r, "/me/sessions?done=alerts_on")
	}
	return redirect(rw, r, "/me/sessions?done=alerts_off")
}
