package identity_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/internal/servicetest"
	"github.com/equipe-dev/equipe/store"
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
