package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/browsertest"
	"github.com/equipe-dev/equipe/store/storetest"
)

const firefoxUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"

// otherBrowser logs email in from another browser (a Firefox on Windows)
// and returns its client.
func otherBrowser(t *testing.T, env *apptest.Env, email, password string) *http.Client {
	t.Helper()
	c := env.Client()
	if p := post(t, c, env.URL+"/login", url.Values{"email": {email}, "password": {password}}, "User-Agent", firefoxUA); p.Status != 303 {
		t.Fatalf("log in from another browser: %d", p.Status)
	}
	return c
}

var endLink = regexp.MustCompile(`href="(/me/sessions/[0-9a-f-]{36}/end)"`)

// TestMySessionsPage_EndsAnotherSessionThenAllOthersAfterConfirming: the
// page lists the person's sessions, this browser's marked and not offered
// to end; another one ends after a confirmation, then all others.
func TestMySessionsPage_EndsAnotherSessionThenAllOthersAfterConfirming(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			o := signUpOwner(t, env, "ada@example.com")
			firefox := otherBrowser(t, env, "ada@example.com", ownerPassword)
			third := otherBrowser(t, env, "ada@example.com", ownerPassword)

			p := get(t, o.c, env.URL+"/me/sessions")
			if p.Status != 200 {
				t.Fatalf("the sessions page: %d", p.Status)
			}
			wantIn(t, p, `aria-current="page">Sessions</a>`, "Firefox 133 · Windows", "(ce navigateur)", "127.0.0.1",
				`href="/me/sessions/others/end"`)
			links := endLink.FindAllStringSubmatch(p.Body, -1)
			if len(links) != 2 {
				t.Fatalf("%d sessions offered to end, want the two others", len(links))
			}

			// The confirmation, then the end of one (the newest: the third).
			confirm := get(t, o.c, env.URL+links[0][1])
			wantIn(t, confirm, "Fermer cette session ?", "Firefox 133", `<form method="post"`)
			if done := post(t, o.c, env.URL+links[0][1], nil); done.Status != 303 || done.Header.Get("Location") != "/me/sessions?done=ended" {
				t.Fatalf("end a session: %d %s", done.Status, done.Header.Get("Location"))
			}
			if p := get(t, third, env.URL+"/"); p.Status != 303 {
				t.Errorf("the ended browser still gets in: %d", p.Status)
			}
			if p := get(t, o.c, env.URL+links[0][1]); p.Status != 404 {
				t.Errorf("confirming an ended session: %d", p.Status)
			}
			wantIn(t, get(t, o.c, env.URL+"/me/sessions?done=ended"), "La session est fermée.")

			confirm = get(t, o.c, env.URL+"/me/sessions/others/end")
			wantIn(t, confirm, "Fermer toutes les autres sessions ?", "Votre autre session sera fermée")
			if done := post(t, o.c, env.URL+"/me/sessions/others/end", nil); done.Status != 303 || done.Header.Get("Location") != "/me/sessions?done=others_ended" {
				t.Fatalf("end the others: %d %s", done.Status, done.Header.Get("Location"))
			}
			if p := get(t, firefox, env.URL+"/"); p.Status != 303 {
				t.Errorf("another browser still gets in: %d", p.Status)
			}
			left := get(t, o.c, env.URL+"/me/sessions?done=others_ended")
			wantIn(t, left, "Toutes les autres sessions sont fermées.", "Aucune autre session n’est ouverte.")
			if endLink.MatchString(left.Body) || strings.Contains(left.Body, `href="/me/sessions/others/end"`) {
				t.Error("the page offers to end sessions when only this one is left")
			}
			// Someone else's sessions are not found.
			bob := signUpOwner(t, env, "bob@example.com")
			if p := post(t, bob.c, env.URL+links[1][1], nil); p.Status != 404 {
				t.Errorf("ending another person's session: %d", p.Status)
			}
			if p := get(t, o.c, env.URL+"/"); p.Status != 200 {
				t.Errorf("this browser after all: %d", p.Status)
			}
		})
	}
}

// TestBrowser_TheSessionsPageEndsAnotherBrowsersSession: in Chromium, a
// person opens their sessions, ends the one of another browser after the
// confirmation, and that browser is logged out.
func TestBrowser_TheSessionsPageEndsAnotherBrowsersSession(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{})
	b := &browser{t: t, ctx: ctx, env: env}
	signUpNamed(t, env, "claire@cabinet.example", "Claire", "Fontaine", "Cabinet Fontaine")
	b.logIn("claire@cabinet.example", ownerPassword)
	b.at("/")
	firefox := otherBrowser(t, env, "claire@cabinet.example", ownerPassword)

	b.do("open the sessions", chromedp.Navigate(env.URL+"/me/sessions"), chromedp.WaitVisible(chromedp.CSS("table.sessions")))
	b.wantText(`tr[aria-current="true"]`, "(ce navigateur)")
	b.wantText("table.sessions", "Firefox 133 · Windows")
	browsertest.Screenshot(t, ctx, "me-sessions")
	b.do("end Firefox's", chromedp.Click(chromedp.CSS(`tr:has(th[title*="Firefox"]) a.danger-link`)),
		chromedp.WaitVisible(chromedp.CSS(`.form-actions button.danger`)))
	b.wantText("h1", "Fermer cette session ?")
	b.do("confirm", chromedp.Click(chromedp.CSS(`.form-actions button.danger`)), chromedp.WaitVisible(chromedp.CSS(".notice")))
	b.wantText(".notice", "La session est fermée.")
	if strings.Contains(b.text("table.sessions"), "Firefox") {
		t.Error("the ended session is still listed")
	}
	if p := get(t, firefox, env.URL+"/"); p.Status != 303 {
		t.Errorf("the other browser still gets in: %d", p.Status)
	}
}

// TestMySessionsPage_TheAlertSwitchTurnsNewBrowserEmailsOffAndOn: the box is
// ticked by default; unticked and saved, the next new browser sends
// nothing; ticked again, it does.
func TestMySessionsPage_TheAlertSwitchTurnsNewBrowserEmailsOffAndOn(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	wantIn(t, get(t, o.c, env.URL+"/me/sessions"), `name="new_browser_alerts" type="checkbox" value="on" checked`)
	if p := post(t, o.c, env.URL+"/me/sessions/alerts", url.Values{}); p.Status != 303 || p.Header.Get("Location") != "/me/sessions?done=alerts_off" {
		t.Fatalf("untick: %d %s", p.Status, p.Header.Get("Location"))
	}
	off := get(t, o.c, env.URL+"/me/sessions?done=alerts_off")
	wantIn(t, off, "Vous ne recevrez plus d’e-mail aux connexions depuis un nouveau navigateur.")
	if strings.Contains(off.Body, `value="on" checked`) {
		t.Error("the box is still ticked")
	}
	otherBrowser(t, env, "ada@example.com", ownerPassword)
	if n := len(env.Outbox(t, "new_browser_login")); n != 0 {
		t.Fatalf("alerts off: %d sent", n)
	}
	if p := post(t, o.c, env.URL+"/me/sessions/alerts", url.Values{"new_browser_alerts": {"on"}}); p.Header.Get("Location") != "/me/sessions?done=alerts_on" {
		t.Fatalf("tick: %d %s", p.Status, p.Header.Get("Location"))
	}
	otherBrowser(t, env, "ada@example.com", ownerPassword)
	if n := len(env.Outbox(t, "new_browser_login")); n != 1 {
		t.Fatalf("alerts on: %d sent", n)
	}
}
