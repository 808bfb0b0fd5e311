package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/browsertest"
)

// TestBrowser_EmailChangeConfirmedFromAnotherBrowserThenUndoneFromTheOldAddress
// plays a login email change in French: the person asks for it from their
// space (a wrong password first), the new address's link is opened in
// another browser and confirms it there, then the link the old address got
// gives the address back and logs the first browser out.
func TestBrowser_EmailChangeConfirmedFromAnotherBrowserThenUndoneFromTheOldAddress(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{})
	signUpOwner(t, env, "camille@boulangerie.example")
	b := &browser{t: t, ctx: ctx, env: env}
	b.logIn("camille@boulangerie.example", "lovelace rode the number engine")
	b.at("/")

	b.do("open the login email tab", chromedp.Navigate(env.URL+"/me/email"), chromedp.WaitVisible(chromedp.CSS("#f-new_email")))
	if h, cur := b.text("h1"), b.text(`.subnav a[aria-current="page"]`); h != "Adresse de connexion" || cur != "Adresse de connexion" {
		t.Fatalf("page %q, tab %q", h, cur)
	}
	b.do("ask with a wrong password",
		b.fill(map[string]string{"new_email": "camille@nouvelle.example", "current_password": "pas le bon mot de passe"}),
		submit(), chromedp.WaitVisible(chromedp.CSS("#e-current_password")))
	if msg := b.text("#e-current_password"); msg != "Ce n’est pas votre mot de passe actuel." {
		t.Fatalf("password problem %q", msg)
	}
	if v := b.value("#f-new_email"); v != "camille@nouvelle.example" {
		t.Fatalf("the address typed is lost: %q", v)
	}
	b.do("ask with the password",
		b.fill(map[string]string{"current_password": "lovelace rode the number engine"}),
		submit(), chromedp.WaitVisible(chromedp.CSS(".pending-change")))
	if n := b.text(".notice"); !strings.Contains(n, "camille@nouvelle.example") {
		t.Fatalf("notice %q", n)
	}
	if l := b.text(".lead"); !strings.Contains(l, "camille@boulangerie.example") {
		t.Fatalf("the login email changed before confirmation: %q", l)
	}
	browsertest.Screenshot(t, ctx, "me-email")
	env.Mail(t, "camille@boulangerie.example", "email_change_notice")

	// The new address's mail is read on another computer.
	other := b.another()
	other.followMail("camille@nouvelle.example", "email_change_requested", "/email-change/confirm/")
	other.do("see the confirmation page", chromedp.WaitVisible(chromedp.CSS(`button[type=submit].primary`)))
	if l := other.text(".lead"); !strings.Contains(l, "camille@nouvelle.example") {
		t.Fatalf("confirmation page %q", l)
	}
	other.do("confirm", submit(), chromedp.WaitVisible(chromedp.CSS(`a.button[href="/"]`)))
	if h := other.text("h1"); h != "Adresse de connexion modifiée" {
		t.Fatalf("after confirming: %q", h)
	}

	b.do("see the new address", chromedp.Navigate(env.URL+"/me/email"), chromedp.WaitVisible(chromedp.CSS("#f-new_email")))
	if l := b.text(".lead"); !strings.Contains(l, "camille@nouvelle.example") {
		t.Fatalf("after confirmation: %q", l)
	}

	// The old address was told, with a link that takes the account back.
	owner := b.another()
	owner.followMail("camille@boulangerie.example", "email_changed", "/email-change/cancel/")
	owner.do("see what the link does", chromedp.WaitVisible(chromedp.CSS(`button[type=submit].danger`)))
	browsertest.Screenshot(t, owner.ctx, "email-change-cancel")
	owner.do("cancel the change", chromedp.Click(chromedp.CSS(`button[type=submit].danger`)),
		chromedp.WaitVisible(chromedp.CSS(`a.button[href="/forgot-password"]`)))
	if l := owner.text(".lead"); !strings.Contains(l, "de nouveau camille@boulangerie.example") {
		t.Fatalf("after cancelling: %q", l)
	}
	// Everyone is logged out, the first browser too.
	b.do("reload the space", chromedp.Navigate(env.URL+"/me/email"))
	b.at("/login")
	b.logIn("camille@boulangerie.example", "lovelace rode the number engine")
	b.at("/")
}
