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

// browserRead is what a login knows of its browser before its writes:
// its standing when it read it (read), when the login began (zero: when
// its session starts; a login with a second step began at its password
// step) and, when the standing calls for the new-browser email, that
// email being composed ahead (nil: composed when the session is).
type browserRead struct {
	store.BrowserStanding
	read  bool
	began time.Time
	alert *alertAhead
}

// readBrowser returns what a login read of its browser, of standing st.
func readBrowser(st store.BrowserStanding) *browserRead {
	return &browserRead{BrowserStanding: st, read: true}
}

// alertDue reports whether a login from a browser of standing st emails
// the person: the browser is new to them, it is not their first login
// ever, and they did not turn the alerts off.
func alertDue(st store.BrowserStanding) bool { return !st.Known() && st.Any && st.Alerts }

// alertAhead is the new-browser email of a login composed while its
// password is hashed (and, when a code is asked next, while it is typed),
// out of the time of both steps: it is the costliest part of a login's
// work beyond its reads and writes. It is composed for the origin of the
// password step and used by that step's session, or only by a second step
// from the same address and browser; any other composes its own.
type alertAhead struct {
	o     equipe.Origin
	ready chan struct{}
	e     equipe.Email
	err   error
}

// composeAhead starts composing the new-browser email of a login of u
// that began at now from o.
func (s *Service) composeAhead(u equipe.User, now time.Time, o equipe.Origin) *alertAhead {
	a := &alertAhead{o: o, ready: make(chan struct{})}
	go func() {
		defer close(a.ready)
		a.e, a.err = s.alertEmail(u, now, o)
	}()
	return a
}

// email returns the email composed ahead for a second step from o, once
// it is composed; false when there is none for o (or it failed).
func (a *alertAhead) email(o equipe.Origin) (equipe.Email, bool) {
	if a == nil || a.o.IP != o.IP || a.o.UserAgent != o.UserAgent || a.o.Browser != o.Browser {
		return equipe.Email{}, false
	}
	<-a.ready
	return a.e, a.err == nil
}

// alertEmail composes the new-browser email of a login of u that began at
// now from o.
func (s *Service) alertEmail(u equipe.User, now time.Time, o equipe.Origin) (equipe.Email, error) {
	d := DeviceOf(o.UserAgent)
	return s.Work.Compose(mail.TemplateNewBrowser, u.Locale, u.Email, mail.Data{RecipientName: u.Name(), RecipientID: u.ID,
		Link: s.Work.Link("/me/sessions"), Login: mail.LoginNotice{When: mailTime(u.Locale, now), Browser: d.Browser,
			System: d.System, IP: o.IP, PasswordURL: s.Work.Link("/me/password")}}, now)
}

// recognise records the browser of a login that started the session of a
// and, when it is new to the person, queues the alert; a.Browser is set to
// the cookie to give a browser that has none. read is what the caller
// knows of the browser (nil: nothing; its standing is read here unless
// read says it was). The email says when the login began.
func (s *Service) recognise(ctx context.Context, w store.Writes, a *Auth, o equipe.Origin, read *browserRead) error {
	hash := browserHash(o)
	if read == nil {
		read = &browserRead{}
	}
	st := read.BrowserStanding
	if !read.read {
		// Read outside the login's writes (a batch cannot read): a person
		// the unit itself created has no browser yet, as the read finds.
		var err error
		st, err = s.DB.BrowserStanding(ctx, a.User.ID, hash)
		if err != nil && equipe.ErrorCode(err) != equipe.ENOTFOUND {
			return err
		}
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
	if !alertDue(st) {
		return nil
	}
	e, ok := read.alert.email(o)
	if ok {
		e.CreatedAt = now
	} else {
		began := read.began
		if began.IsZero() {
			began = now
		}
		var err error
		if e, err = s.alertEmail(a.User, began, o); err != nil {
			return err
		}
		e.CreatedAt = now
	}
	if err := w.EnqueueEmail(ctx, &e); err != nil {
		return err
	}
	a.alerted = true
	return nil
}

// mailTime says a moment in UTC as the language of an email to someone
// whose language is locale writes it (mail.Locale).
func mailTime(locale string, t time.Time) string {
	if mail.Locale(locale) == equipe.LocaleFR {
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
