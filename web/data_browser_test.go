package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/browsertest"
)

// TestBrowser_DeletingOnesIdentity plays a person deleting their identity
// from their own space: refused while they are their business's only
// administrator (the page links to its members), then, once someone else
// administers it, confirmed with their password; they land logged out on
// the login page, and cannot log in again.
func TestBrowser_DeletingOnesIdentity(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{})
	b := &browser{t: t, ctx: ctx, env: env}
	o := signUpNamed(t, env, "augusta@example.com", "Augusta", "Byronique", "Moteurs Analytiques")

	b.logIn("augusta@example.com", ownerPassword)
	b.at("/")
	b.do("open my data", chromedp.Navigate(env.URL+"/me/data"), chromedp.WaitVisible(chromedp.CSS(".data-alone")))
	b.wantText(".data-alone", "Moteurs Analytiques")
	if n, _ := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(`a[href="/me/data/delete"]`), chromedp.AtLeast(0))); len(n) != 0 {
		t.Fatal("deletion is offered to the only administrator")
	}
	browsertest.Screenshot(t, ctx, "data-alone")
	b.do("follow the account's link", chromedp.Click(chromedp.CSS(`.data-alone a`)))
	b.at("/accounts/" + o.account.String() + "/members")

	// Someone else administers the business now.
	env.AddMember(t, o.account, "grace@example.com", "admin", equipe.MemberActive)
	b.do("open my data again", chromedp.Navigate(env.URL+"/me/data"), chromedp.WaitVisible(chromedp.CSS(`a[href="/me/data/delete"]`)))
	browsertest.Screenshot(t, ctx, "data")
	b.do("ask to delete", chromedp.Click(chromedp.CSS(`a[href="/me/data/delete"]`)), chromedp.WaitVisible(chromedp.CSS("#f-password")))
	b.at("/me/data/delete")
	b.do("confirm with a wrong password", b.fill(map[string]string{"password": "not my password at all"}),
		chromedp.Click(chromedp.CSS(`button[type=submit].danger`)), chromedp.WaitVisible(chromedp.CSS("#e-password")))
	b.wantText("#e-password", "Ce n’est pas votre mot de passe")
	browsertest.Screenshot(t, ctx, "data-delete")
	b.do("confirm with the password", b.fill(map[string]string{"password": ownerPassword}),
		chromedp.Click(chromedp.CSS(`button[type=submit].danger`)))
	b.at("/login")
	b.wantText(".notice", "Votre identité est supprimée")
	env.Mail(t, "augusta@example.com", "identity_deleted")

	b.logIn("augusta@example.com", ownerPassword)
	b.do("be refused", chromedp.WaitVisible(chromedp.CSS(`[role="alert"]`)))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "/login") {
		t.Fatalf("logged in after deletion: at %s", loc)
	}
}
