package identity

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/work"
)

// BrowserMemory is how long a browser stays known without a login from it:
// the longest lifetime browsers give a cookie (400 days). Its cookie lasts
// as long, and a known browser unused for longer is forgotten.
const BrowserMemory = 400 * 24 * time.Hour

// browserTouchEvery bounds how often a known browser's last login is
// written: a login from a browser used within the day writes nothing more
// than a login did before the alerts.
const browserTouchEvery = 24 * time.Hour

// New-browser alerts. A browser is known to a person once they logged in
// from it: at every login the browser is given (or keeps) a cookie holding
// 256 random bits, whose SHA-256 is kept per person. A login from a browser
// without the cookie, or with a cookie the person never logged in with,
// emails them new_browser_login — unless it is their first login ever
// (just after signing up or accepting an invitation, or the first since
// alerts exist), or they turned the alerts off.
//
// There is no fallback on the User-Agent: it is whatever the client says,
// and most people share the commonest few, so "the same browser and
// system" would hide exactly the login the alert is for. A private window,
// or cleared cookies, counts as a new browser.

// browserHash returns the hash of the login's browser cookie, nil when it
// sent none (or something that is no cookie of ours).
func browserHash(o equipe.Origin) []byte {
	if !work.PlausibleSecret(o.Browser) {
		return nil
	}
	return work.HashSecret(o.Browser)
}

// recognise records the browser of a login that started the session of a
// and, when it is new to the person, queues the alert; a.Browser is set to
// the cookie to give a browser that has none. st is the browser's standing
// when the caller read it (nil: it is read here).
func (s *Service) recognise(ctx context.Context, w store.Writes, a *Auth, o equipe.Origin, st *store.BrowserStanding) error {
	hash := browserHash(o)
	if st == nil {
		// Read outside the login's writes (a batch cannot read): a person
		// the unit itself created has no browser yet, as the read finds.
		read, err := s.DB.BrowserStanding(ctx, a.User.ID, hash)
		if err != nil && equipe.ErrorCode(err) != equipe.ENOTFOUND {
			return err
		}
		st = &read
	}
	if hash == nil {
		cookie, h, err := work.NewSecret(s.Work.Rand)
		if err != nil {
			return err
		}
		a.Browser, hash = cookie, h
	}
	now := a.Session.CreatedAt
	if st.Known() {
		// A browser used daily is written once a day: its last login moves
		// on, and its cookie is given again for 400 days more.
		if now.Sub(st.SeenAt) < browserTouchEvery {
			return nil
		}
		a.Browser = o.Browser
		return w.RememberBrowser(ctx, a.User.ID, hash, now)
	}
	if err := w.RememberBrowser(ctx, a.User.ID, hash, now); err != nil {
		return err
	}
	if !st.Any || !st.Alerts {
		return nil
	}
	d := DeviceOf(o.UserAgent)
	e, err := s.Work.Compose(mail.TemplateNewBrowser, a.User.Locale, a.User.Email, mail.Data{RecipientName: a.User.Name(),
		Link: s.Work.Link("/me/sessions"), Login: mail.LoginNotice{When: mailTime(a.User.Locale, now), Browser: d.Browser,
			System: d.System, IP: o.IP, PasswordURL: s.Work.Link("/me/password")}}, now)
	if err != nil {
		return err
	}
	if err := w.EnqueueEmail(ctx, &e); err != nil {
		return err
	}
	a.alerted = true
	return nil
}

// mailTime says a moment in UTC as the language writes it in an email.
func mailTime(locale string, t time.Time) string {
	if locale == equipe.LocaleFR {
		return t.UTC().Format("02/01/2006 à 15:04 UTC")
	}
	return t.UTC().Format("2 January 2006 at 15:04 UTC")
}

// NewBrowserAlerts reports whether the person is emailed on a login from a
// browser new to them.
func (s *Service) NewBrowserAlerts(ctx context.Context, a Auth) (bool, error) {
	return s.DB.NewBrowserAlerts(ctx, a.User.ID)
}

// SetNewBrowserAlerts turns the person's new-browser emails on or off.
// Audited as user.alerts_changed when it changes.
func (s *Service) SetNewBrowserAlerts(ctx context.Context, a Auth, on bool, o equipe.Origin) error {
	return s.Work.Do(ctx, event.ByUser(a.User.ID), o, func(w *work.Unit) error {
		return setAlerts(ctx, w, a.User.ID, on)
	})
}

// setAlerts turns the user's new-browser emails on or off in the unit, and
// records the change when it is one.
func setAlerts(ctx context.Context, w *work.Unit, userID equipe.ID, on bool) error {
	was, err := w.NewBrowserAlerts(ctx, userID)
	if err != nil || was == on {
		return err
	}
	if err := w.SetNewBrowserAlerts(ctx, userID, on); err != nil {
		return err
	}
	return w.Record(ctx, event.UserAlertsChanged.New(nil, userID.String(), &event.Alerts{NewBrowser: was},
		&event.Alerts{NewBrowser: on}))
}
