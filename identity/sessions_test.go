package identity_test

import (
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/store"
)

const (
	firefoxWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
	safariIPhone   = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

func TestDeviceOf_NamesTheBrowserAndSystemOrTheProgram(t *testing.T) {
	for ua, want := range map[string]identity.Device{
		firefoxWindows: {Browser: "Firefox 133", System: "Windows"},
		safariIPhone:   {Browser: "Safari 17", System: "iOS"},
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36":                      {Browser: "Chrome 131", System: "macOS"},
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86":          {Browser: "Edge 131", System: "Windows"},
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.135 Mobile Safari/537.36":                 {Browser: "Chrome 131", System: "Android"},
		"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0":                                                             {Browser: "Firefox 132", System: "Linux"},
		"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36": {Browser: "Samsung Browser 26", System: "Android"},
		"curl/8.5.0":             {Browser: "curl/8.5.0"},
		"python-requests/2.31.0": {Browser: "python-requests/2.31.0"},
		"":                       {},
	} {
		if got := identity.DeviceOf(ua); got != want {
			t.Errorf("DeviceOf(%q) = %+v, want %+v", ua, got, want)
		}
	}
}

// TestSessions_APersonSeesAndEndsTheirOwnSessionsOnly: a person lists the
// sessions that still work (the current one first, each with its browser,
// system and address), ends another one, then all others; someone else's
// session is not found and stays; each ending is audited.
func TestSessions_APersonSeesAndEndsTheirOwnSessionsOnly(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		ada := g.signedUp(address("ada")).User
		bob := g.signedUp(address("bob")).User
		login := func(email, ua string) (identity.Auth, string) {
			t.Helper()
			o := from()
			o.UserAgent = ua
			a, secret, err := g.st.Identity.LogIn(ctx, email, goodPassword, o)
			if err != nil {
				t.Fatal(err)
			}
			return a, secret
		}
		stale, _ := login(ada.Email, "curl/8.5.0")
		g.st.Clock.Advance(g.st.Identity.Config.SessionIdle + time.Minute) // idle: it no longer works
		phone, phoneSecret := login(ada.Email, safariIPhone)
		g.st.Clock.Advance(time.Minute)
		laptop, _ := login(ada.Email, firefoxWindows)
		third, thirdSecret := login(ada.Email, "curl/8.5.0")
		bobs, bobSecret := login(bob.Email, firefoxWindows)

		got, _, err := g.st.Identity.Sessions(ctx, laptop, equipe.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[0].ID != laptop.Session.ID || !got[0].Current || got[0].Device.Browser != "Firefox 133" ||
			got[0].Device.System != "Windows" || got[0].IP != laptop.Session.IP || got[1].ID != third.Session.ID ||
			got[1].Current || got[2].ID != phone.Session.ID || got[2].Device.System != "iOS" {
			t.Fatalf("the sessions: %+v", got)
		}
		for _, s := range got {
			if s.ID == stale.Session.ID {
				t.Error("an idle session is listed")
			}
		}

		// Bob's session, or none: not found, and nothing ends.
		for _, id := range []equipe.ID{bobs.Session.ID, equipe.NewID()} {
			if err := g.st.Identity.EndSession(ctx, laptop, id, from()); equipe.ErrorCode(err) != equipe.ENOTFOUND {
				t.Fatalf("ending %s: %v", id, err)
			}
		}
		if _, err := g.st.Identity.Authenticate(ctx, bobSecret); err != nil {
			t.Fatalf("bob's session after ada's attempt: %v", err)
		}

		if err := g.st.Identity.EndSession(ctx, laptop, phone.Session.ID, from()); err != nil {
			t.Fatal(err)
		}
		if _, err := g.st.Identity.Authenticate(ctx, phoneSecret); equipe.ErrorCode(err) != equipe.EUNAUTHORIZED {
			t.Fatalf("the ended session: %v", err)
		}
		ended := g.about(phone.Session.ID.String())
		if len(ended) != 2 || ended[1].Type != event.UserSessionEnded.Type || ended[1].Actor.ID == nil || *ended[1].Actor.ID != ada.ID {
			t.Fatalf("the events about the phone's session: %+v", ended)
		}

		n, err := g.st.Identity.EndOtherSessions(ctx, laptop, from())
		if err != nil || n != 2 { // the third, and the idle one not swept yet
			t.Fatalf("end the others: %d, %v", n, err)
		}
		if _, err := g.st.Identity.Authenticate(ctx, thirdSecret); equipe.ErrorCode(err) != equipe.EUNAUTHORIZED {
			t.Fatalf("another session after ending all others: %v", err)
		}
		if got, _, err := g.st.Identity.Sessions(ctx, laptop, equipe.Page{}); err != nil || len(got) != 1 || !got[0].Current {
			t.Fatalf("the sessions left: %+v, %v", got, err)
		}
		all := g.events(store.AuditFilter{Action: string(event.UserSessionsEnded.Type), TargetID: ada.ID.String()})
		if len(all) != 1 || all[0].After.(event.Sessions).Ended != 2 {
			t.Fatalf("the event of ending the others: %+v", all)
		}
		if _, err := g.st.Identity.Authenticate(ctx, bobSecret); err != nil {
			t.Fatalf("bob's session after ada ended her others: %v", err)
		}
	})
}
