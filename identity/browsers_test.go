package identity_test

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/internal/servicetest"
	"github.com/equipe-dev/equipe/internal/testenv"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/work"
)

// alerts counts the new_browser_login emails to email.
func (g *stage) alerts(email string) int {
	return len(slices.DeleteFunc(g.templates(email), func(t string) bool { return t != "new_browser_login" }))
}

// TestNewBrowser_ALoginFromABrowserNotSeenBeforeEmailsOnce: the first login
// ever teaches the browser and tells nobody; a login from another browser
// emails the person once (when, browser, system, address, links), and not
// again from that browser; a browser without the cookie is new each time;
// with the alerts off nothing is sent, and the browser is still learnt.
func TestNewBrowser_ALoginFromABrowserNotSeenBeforeEmailsOnce(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		email := address("ada")
		g.signedUp(email)
		login := func(o equipe.Origin) identity.Auth {
			t.Helper()
			a, _, err := g.st.Identity.LogIn(ctx, email, goodPassword, o)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		laptop := from()
		laptop.UserAgent = firefoxWindows
		first := login(laptop)
		if first.Browser == "" || g.alerts(email) != 0 {
			t.Fatalf("the first login: cookie %q, %d alerts", first.Browser, g.alerts(email))
		}
		laptop.Browser = first.Browser
		if again := login(laptop); again.Browser != "" || g.alerts(email) != 0 {
			t.Fatalf("the same browser again: a new cookie %q, %d alerts", again.Browser, g.alerts(email))
		}

		// A day later, the same browser is given its cookie again (400 days
		// more), and is still known.
		g.st.Clock.Advance(25 * time.Hour)
		if later := login(laptop); later.Browser != first.Browser || g.alerts(email) != 0 {
			t.Fatalf("the same browser a day later: cookie %q, %d alerts", later.Browser, g.alerts(email))
		}

		phone := from()
		phone.UserAgent = safariIPhone
		second := login(phone)
		if second.Browser == "" || g.alerts(email) != 1 {
			t.Fatalf("a new browser: cookie %q, %d alerts", second.Browser, g.alerts(email))
		}
		var m servicetest.Mail
		for _, mm := range servicetest.Mails(t, g.raw, email) {
			if mm.Template == "new_browser_login" {
				m = mm
			}
		}
		for _, want := range []string{"Safari 17", "iOS", phone.IP, "/me/sessions", "/me/password",
			second.Session.CreatedAt.UTC().Format("15:04 UTC")} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("the alert lacks %q:\n%s", want, m.Text)
			}
		}
		phone.Browser = second.Browser
		login(phone)
		login(laptop)
		if n := g.alerts(email); n != 1 {
			t.Fatalf("known browsers again: %d alerts", n)
		}
		// A cookie of someone else's, or a forged one, is no known browser.
		phone.Browser = "not a cookie"
		if a := login(phone); a.Browser == "" || g.alerts(email) != 2 {
			t.Fatalf("a forged cookie: %q, %d alerts", a.Browser, g.alerts(email))
		}

		// Off: nothing is sent, and the browser is learnt all the same.
		if err := g.st.Identity.SetNewBrowserAlerts(ctx, first, false, from()); err != nil {
			t.Fatal(err)
		}
		quiet := login(from())
		if g.alerts(email) != 2 {
			t.Fatalf("alerts off: %d alerts", g.alerts(email))
		}
		if err := g.st.Identity.SetNewBrowserAlerts(ctx, first, true, from()); err != nil {
			t.Fatal(err)
		}
		o := from()
		o.Browser = quiet.Browser
		login(o)
		if g.alerts(email) != 2 {
			t.Fatalf("a browser learnt while alerts were off: %d alerts", g.alerts(email))
		}
		changes := g.events(store.AuditFilter{Action: string(event.UserAlertsChanged.Type), TargetID: first.User.ID.String()})
		if len(changes) != 2 || changes[0].After.(event.Alerts).NewBrowser || !changes[1].After.(event.Alerts).NewBrowser {
			t.Fatalf("the events: %+v", changes)
		}
		// Turning them on when they are on changes nothing.
		if err := g.st.Identity.SetNewBrowserAlerts(ctx, first, true, from()); err != nil {
			t.Fatal(err)
		}
		if n := len(g.events(store.AuditFilter{Action: string(event.UserAlertsChanged.Type), TargetID: first.User.ID.String()})); n != 2 {
			t.Fatalf("%d events after a change to the same", n)
		}
	})
}

// TestNewBrowser_AnInvitedPersonsFirstLoginDoesNotAlert: accepting an
// invitation logs a new person in: their first browser, no email.
func TestNewBrowser_AnInvitedPersonsFirstLoginDoesNotAlert(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		admin := g.verified(address("owner"))
		accounts, err := g.st.Identity.Accounts(ctx, admin.ID)
		if err != nil {
			t.Fatal(err)
		}
		email := address("grace")
		g.invite(admin, accounts[0].Account.ID, email, true)
		a, _, err := g.st.Identity.AcceptInvitation(ctx, g.secret(email, "/invitations/"), identity.Accept{Password: goodPassword},
			nil, from())
		if err != nil {
			t.Fatal(err)
		}
		if a.Browser == "" || g.alerts(email) != 0 {
			t.Fatalf("the invitation's login: cookie %q, %d alerts", a.Browser, g.alerts(email))
		}
		if _, _, err := g.st.Identity.LogIn(ctx, email, goodPassword, from()); err != nil {
			t.Fatal(err)
		}
		if g.alerts(email) != 1 {
			t.Fatalf("a second browser: %d alerts", g.alerts(email))
		}
	})
}

// countingMailer counts the emails composed of each template.
type countingMailer struct {
	work.Mailer
	mu       sync.Mutex
	n        map[string]int
	composed testenv.Signal // notified once an email is composed
}

func (m *countingMailer) Compose(name, locale, to string, d mail.Data) (equipe.Email, error) {
	e, err := m.Mailer.Compose(name, locale, to, d)
	m.mu.Lock()
	m.n[name]++
	m.mu.Unlock()
	m.composed.Notify()
	return e, err
}

// countCompositions has the stage's service compose its emails through a
// countingMailer, which it returns.
func (g *stage) countCompositions() *countingMailer {
	m := &countingMailer{Mailer: g.st.Work.Mail, n: map[string]int{}}
	g.st.Work.Mail = m
	return m
}

func (m *countingMailer) count(name string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n[name]
}

// TestLogIn_TheNewBrowserEmailIsComposedWhileThePasswordIsHashed: a login
// from a browser new to its person starts composing the email once the
// person is read, before the password's verdict, so that the session's
// write finds it composed. A wrong password composes it and queues
// nothing; a right one composes it once and queues it; a known browser, a
// person with the alerts off and an address nobody has compose nothing.
func TestLogIn_TheNewBrowserEmailIsComposedWhileThePasswordIsHashed(t *testing.T) {
	tests := []struct {
		name     string
		browser  string // "new", "known" or "off" (new, alerts off)
		password string
		nobody   bool // an address nobody has
		composed int
		queued   int
	}{
		{name: "a new browser, a wrong password", browser: "new", password: "not the password", composed: 1},
		{name: "a new browser, the right password", browser: "new", password: goodPassword, composed: 1, queued: 1},
		{name: "a known browser", browser: "known", password: goodPassword},
		{name: "a new browser, alerts off", browser: "off", password: goodPassword},
		{name: "an address nobody has", browser: "new", password: goodPassword, nobody: true},
	}
	eachStage(t, func(t *testing.T, g *stage) {
		m := g.countCompositions()
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				g := g.row(t)
				s := g.st.Identity
				email := address("ada")
				g.signedUp(email)
				first, _, err := s.LogIn(ctx, email, goodPassword, from()) // the first login ever emails nobody
				if err != nil {
					t.Fatal(err)
				}
				o := from()
				o.UserAgent = safariIPhone
				switch tt.browser {
				case "known":
					o.Browser = first.Browser
				case "off":
					if err := s.SetNewBrowserAlerts(ctx, first, false, from()); err != nil {
						t.Fatal(err)
					}
				}
				login := email
				if tt.nobody {
					login = address("nobody")
				}
				before := m.count("new_browser_login")
				_, _, err = s.LogIn(ctx, login, tt.password, o)
				if (err == nil) != (tt.password == goodPassword && !tt.nobody) {
					t.Fatalf("the login: %v", err)
				}
				if tt.composed > 0 {
					testenv.Await(t, 30*time.Second, m.composed.Wait, "the new-browser email composed", func() bool {
						return m.count("new_browser_login")-before >= tt.composed
					})
				}
				// Another login, from a known browser, composes nothing; it
				// takes a hash's time, in which a composition the login above
				// started and should not have would end.
				again := from()
				again.Browser = first.Browser
				if _, _, err := s.LogIn(ctx, email, goodPassword, again); err != nil {
					t.Fatal(err)
				}
				if n := m.count("new_browser_login") - before; n != tt.composed {
					t.Errorf("%d new-browser emails composed, want %d", n, tt.composed)
				}
				if n := g.alerts(email); n != tt.queued {
					t.Errorf("%d new-browser emails queued, want %d", n, tt.queued)
				}
			})
		}
	})
}

// TestLogInSecondFactor_TheNewBrowserEmailIsComposedWhileTheCodeIsTyped: a
// login with a second step from a browser new to its person emails them
// once, saying when the login began (its password step) and from where
// its second step came. The email is composed while the person types the
// code: a second step with a right code from the same browser, answered
// by the process of the password step, composes nothing. One from another
// address, or after a wrong code (which is answered from a read), composes
// its own.
func TestLogInSecondFactor_TheNewBrowserEmailIsComposedWhileTheCodeIsTyped(t *testing.T) {
	tests := []struct {
		name         string
		elsewhere    bool // the second step comes from another address
		wrongFirst   bool // a wrong code is sent first
		composedThen int  // emails the second step composes
	}{
		{name: "from the same browser, the email composed meanwhile is sent"},
		{name: "from another address, the second step composes its own", elsewhere: true, composedThen: 1},
		{name: "after a wrong code, the second step composes its own", wrongFirst: true, composedThen: 1},
	}
	eachStage(t, func(t *testing.T, g *stage) {
		m := g.countCompositions()
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				g := g.row(t)
				s, clock := g.st.Identity, g.st.Clock
				email := address("ada")
				_, secret := g.enrolled(email)
				// The first login ever, which emails nobody.
				if _, _, err := s.LogInSecondFactor(ctx, g.challenged(email, from()), g.code(secret), from()); err != nil {
					t.Fatal(err)
				}
				// The password step ten seconds before a minute ends, the
				// second step twenty seconds after.
				clock.Set(clock.Now().Truncate(time.Minute).Add(2*time.Minute - 10*time.Second))
				began := clock.Now()
				o := from()
				o.UserAgent = safariIPhone
				before := m.count("new_browser_login")
				challenge := g.challenged(email, o)
				testenv.Await(t, 30*time.Second, m.composed.Wait, "the new-browser email composed after the password step", func() bool {
					return m.count("new_browser_login") > before
				})
				clock.Advance(30 * time.Second)
				second := o
				if tt.elsewhere {
					second.IP = from().IP
				}
				before = m.count("new_browser_login")
				if tt.wrongFirst {
					if _, _, err := s.LogInSecondFactor(ctx, challenge, wrongCode(g.code(secret)), second); keyOf(err) != "second_factor.invalid" {
						t.Fatalf("a wrong code: %v", err)
					}
				}
				a, _, err := s.LogInSecondFactor(ctx, challenge, g.code(secret), second)
				if err != nil {
					t.Fatal(err)
				}
				if n := m.count("new_browser_login") - before; n != tt.composedThen {
					t.Errorf("the second step composed %d new-browser emails, want %d", n, tt.composedThen)
				}
				var alerts []servicetest.Mail
				for _, mm := range servicetest.Mails(t, g.raw, email) {
					if mm.Template == "new_browser_login" {
						alerts = append(alerts, mm)
					}
				}
				if len(alerts) != 1 {
					t.Fatalf("%d new-browser emails, want 1", len(alerts))
				}
				for _, want := range []string{"Safari 17", "iOS", second.IP, began.Format("15:04 UTC")} {
					if !strings.Contains(alerts[0].Text, want) {
						t.Errorf("the alert lacks %q:\n%s", want, alerts[0].Text)
					}
				}
				if a.Session.CreatedAt.Format("15:04") == began.Format("15:04") {
					t.Fatal("the two steps were made in the same minute")
				}
				var at int64
				if err := g.raw.QueryRow(`SELECT created_at FROM outbox WHERE recipient = $1 AND template = 'new_browser_login'`, email).Scan(&at); err != nil {
					t.Fatal(err)
				}
				if !time.UnixMicro(at).Equal(a.Session.CreatedAt) {
					t.Errorf("the email was queued at %v, want the session's start %v", time.UnixMicro(at).UTC(), a.Session.CreatedAt)
				}
			})
		}
	})
}
