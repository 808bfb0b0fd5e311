package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/browsertest"
)

// logInBrowser logs email in with the login page of a browser.
func logInBrowser(b *browser, email, password string) {
	b.t.Helper()
	b.do("open the login page", chromedp.Navigate(b.env.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("#f-email")))
	b.do("log in", b.fill(map[string]string{"email": email, "password": password}),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))
	b.at("/")
}

// TestBrowser_ProfileChangeSwitchesTheLanguageAndPasswordChangeEndsAnotherBrowser:
// from the name in the header, a person changes their first name and
// language (the pages switch to it at once), then changes their password:
// the browser they use stays logged in, another one is logged out.
func TestBrowser_ProfileChangeSwitchesTheLanguageAndPasswordChangeEndsAnotherBrowser(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	signUpOwner(t, env, "ada@example.com")
	b := &browser{t: t, ctx: browsertest.New(t), env: env}
	other := &browser{t: t, ctx: browsertest.New(t), env: env}
	logInBrowser(b, "ada@example.com", ownerPassword)
	logInBrowser(other, "ada@example.com", ownerPassword)

	b.do("open the profile from the header", chromedp.Click(chromedp.CSS(`a.who`)), chromedp.WaitVisible(chromedp.CSS("#f-first_name")))
	b.at("/me")
	if h := b.text("h1"); h != "Mon profil" {
		t.Fatalf("profile page title %q", h)
	}
	browsertest.Screenshot(t, b.ctx, "profile")
	b.do("give an empty first name", b.fill(map[string]string{"first_name": " "}),
		chromedp.Click(chromedp.CSS(`form[action="/me"] button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS("#e-first_name")))
	b.do("change the name and the language", b.fill(map[string]string{"first_name": "Augusta"}),
		chromedp.SetValue(chromedp.CSS("#f-locale"), "en"), chromedp.SetValue(chromedp.CSS("#f-time_zone"), "Europe/London"),
		chromedp.Click(chromedp.CSS(`form[action="/me"] button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(".notice")))
	b.at("/me?done=saved")
	if h, n, who := b.text("h1"), b.text(".notice"), b.text("a.who"); h != "My profile" || n != "Your profile is saved." || who != "Augusta Lovelace" {
		t.Fatalf("after saving: title %q, notice %q, header %q", h, n, who)
	}
	lang, err := chromedp.Run(b.ctx, chromedp.AttributeValue(chromedp.CSS("html"), "lang"))
	if err != nil || lang.Value != "en" {
		t.Fatalf("the page's language: %q (%v)", lang.Value, err)
	}

	b.do("open the password tab", chromedp.Click(chromedp.CSS(`nav.subnav a[href="/me/password"]`)),
		chromedp.WaitVisible(chromedp.CSS("#f-current_password")))
	b.do("give a wrong current password",
		b.fill(map[string]string{"current_password": "not my password at all", "new_password": "a brand new sentence to remember",
			"password_confirm": "a brand new sentence to remember"}),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)), chromedp.WaitVisible(chromedp.CSS("#e-current_password")))
	if msg := b.text("#e-current_password"); !strings.Contains(msg, "not your current password") {
		t.Fatalf("the wrong password's problem: %q", msg)
	}
	b.do("change the password",
		b.fill(map[string]string{"current_password": ownerPassword, "new_password": "a brand new sentence to remember",
			"password_confirm": "a brand new sentence to remember"}),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)), chromedp.WaitVisible(chromedp.CSS(".notice")))
	b.at("/me/password?done=changed")

	other.do("open the home page in the other browser", chromedp.Navigate(env.URL+"/"))
	other.at("/login")
	b.do("open the home page in this browser", chromedp.Navigate(env.URL+"/"))
	b.at("/")
}
