package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/browsertest"
	"github.com/equipe-dev/equipe/internal/testenv"
)

// browser wraps the steps of a page test so that each failure says which
// step and on which page.
type browser struct {
	t   *testing.T
	ctx context.Context
	env *apptest.Env
}

func (b *browser) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		b.t.Fatalf("%s (at %s): %v", step, loc, err)
	}
}

// at waits until the page's path starts with path ("/" is the home page
// alone). The browser is another process: look at its location as it goes.
func (b *browser) at(path string) {
	b.t.Helper()
	var loc string
	found := testenv.Within(10*time.Second, testenv.Every(50*time.Millisecond), func() bool {
		// The address and the state of one document: after a form's
		// redirect the address changes before the page is parsed, and
		// what a test reads next must be the whole page.
		type page struct{ Href, State string }
		p, err := chromedp.Run(b.ctx, chromedp.Evaluate[page](`({href: location.href, state: document.readyState})`))
		loc = p.Href
		rest := strings.TrimPrefix(loc, b.env.URL)
		ok := strings.HasPrefix(rest, path)
		if path == "/" {
			ok = rest == "/" || strings.HasPrefix(rest, "/?")
		}
		return err == nil && ok && p.State == "complete"
	})
	if !found {
		b.t.Fatalf("expected to be at %s, at %s", path, loc)
	}
}

// text returns the text of the first element matching sel.
func (b *browser) text(sel string) string {
	b.t.Helper()
	for tries := 1; ; tries++ {
		s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
		// A node found in a document that a navigation then replaced is
		// gone before its text is read: read it again in the new one.
		if err != nil && tries < 5 && strings.Contains(err.Error(), "No node with given id") {
			continue
		}
		if err != nil {
			b.t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
}

func (b *browser) fill(fields map[string]string) chromedp.Action[chromedp.Void] {
	var steps []chromedp.Action[chromedp.Void]
	for name, v := range fields {
		sel := chromedp.CSS(`[name="` + name + `"]`)
		steps = append(steps, chromedp.Clear(sel), chromedp.SendKeys(sel, v))
	}
	return chromedp.Steps(steps...)
}

// TestBrowser_SignUpLogOutLogInResetPasswordAndConsent plays the first
// visit of a new customer in a real browser, in French: sign up, meet the
// consent page, log out, log back in, forget the password and reset it
// through the development mailbox, accept the privacy policy, land on the
// home page with the new account, and confirm the email address.
func TestBrowser_SignUpLogOutLogInResetPasswordAndConsent(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{})
	b := &browser{t: t, ctx: ctx, env: env}

	b.do("open the sign-up page", chromedp.Navigate(env.URL+"/signup"), chromedp.WaitVisible(chromedp.CSS("#f-first_name")))
	if h := b.text("h1"); h != "Créer votre compte" {
		t.Fatalf("sign-up page title %q", h)
	}
	browsertest.Screenshot(t, ctx, "signup")

	// A first try with a password too short: the problem shows next to the field.
	b.do("sign up with a short password",
		b.fill(map[string]string{"first_name": "Camille", "last_name": "Durand", "email": "camille@boulangerie.example",
			"password": "trop court", "account_name": "Boulangerie Durand", "resource_name": "Boutique du centre"}),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)),
		chromedp.WaitVisible(chromedp.CSS("#e-password")))
	if msg := b.text("#e-password"); !strings.Contains(msg, "au moins 12 caractères") {
		t.Fatalf("password problem %q", msg)
	}
	browsertest.Screenshot(t, ctx, "signup-errors")
	b.do("sign up",
		b.fill(map[string]string{"password": "une baguette bien croustillante"}),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))

	// Before anything else, the privacy policy.
	b.at("/consent")
	browsertest.Screenshot(t, ctx, "consent")
	b.do("log out from the consent page", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)))
	b.at("/login")
	if n := b.text(".notice"); n != "Déconnexion effectuée." {
		t.Fatalf("after logout: %q", n)
	}

	b.do("log in",
		b.fill(map[string]string{"email": "camille@boulangerie.example", "password": "une baguette bien croustillante"}),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))
	b.at("/consent")
	b.do("log out again", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)))
	b.at("/login")

	// Forgot the password: the link arrives in the development mailbox.
	b.do("ask for a reset link", chromedp.Click(chromedp.CSS(`a[href="/forgot-password"]`)), chromedp.WaitVisible(chromedp.CSS("#f-email")),
		b.fill(map[string]string{"email": "Camille@Boulangerie.example"}),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)), chromedp.WaitVisible(chromedp.CSS(".notice")))
	env.Mail(t, "camille@boulangerie.example", "password_reset")
	b.do("open the mailbox", chromedp.Navigate(env.URL+"/dev/mail"), chromedp.WaitVisible(chromedp.CSS(`a[href*="/password-reset/"]`)))
	browsertest.Screenshot(t, ctx, "dev-mailbox")
	b.do("follow the reset link", chromedp.Click(chromedp.CSS(`a[href*="/password-reset/"]`)), chromedp.WaitVisible(chromedp.CSS("#f-password")))
	b.at("/password-reset/")
	browsertest.Screenshot(t, ctx, "reset-password")
	b.do("set a new password",
		b.fill(map[string]string{"password": "un croissant au beurre doré", "password_confirm": "un croissant au beurre doré"}),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))
	b.at("/login")
	if n := b.text(".notice"); !strings.Contains(n, "mot de passe a été modifié") {
		t.Fatalf("after reset: %q", n)
	}
	env.Mail(t, "camille@boulangerie.example", "password_changed")

	b.do("log in with the new password",
		b.fill(map[string]string{"email": "camille@boulangerie.example", "password": "un croissant au beurre doré"}),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))
	b.at("/consent")
	b.do("continue without ticking the box", chromedp.Click(chromedp.CSS(`button[type=submit].primary`)),
		chromedp.WaitVisible(chromedp.CSS("#e-accept")))
	b.do("accept the privacy policy", chromedp.Click(chromedp.CSS("#f-accept")), chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))
	b.at("/")
	b.do("see the home page", chromedp.WaitVisible(chromedp.CSS(".accounts")))
	if h := b.text("h1"); h != "Bonjour Camille" {
		t.Fatalf("home title %q", h)
	}
	if a := b.text(".accounts li"); !strings.Contains(a, "Boulangerie Durand") || !strings.Contains(a, "Administrateur") {
		t.Fatalf("accounts %q", a)
	}
	browsertest.Screenshot(t, ctx, "home")

	// Confirming the email address: the link shows a button; only the button confirms.
	link := apptest.Link(t, env.Mail(t, "camille@boulangerie.example", "verify_email"), "/verify-email/")
	b.do("open the confirmation link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`button[type=submit].primary`)))
	b.do("confirm", chromedp.Click(chromedp.CSS(`button[type=submit].primary`)), chromedp.WaitVisible(chromedp.CSS(`a.button[href="/"]`)))
	if h := b.text("h1"); h != "Adresse confirmée" {
		t.Fatalf("after confirming: %q", h)
	}
	b.do("back home", chromedp.Click(chromedp.CSS(`a.button[href="/"]`)), chromedp.WaitVisible(chromedp.CSS(".accounts")))
	if n, _ := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(".banner"), chromedp.AtLeast(0))); len(n) != 0 {
		t.Fatal("the verification banner is still shown")
	}

	// Switch to English.
	b.do("switch to English", chromedp.Click(chromedp.CSS(`a[hreflang="en"]`)), chromedp.WaitVisible(chromedp.CSS(".accounts")))
	if h := b.text("h1"); h != "Hello Camille" {
		t.Fatalf("home in English %q", h)
	}
}
