package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/internal/browsertest"
)

// TestBrowser_PublishingAPolicyAsksEveryoneAgain plays an instance
// administrator publishing a new version of the privacy policy from its
// page (a problem first: no text), and a member, already logged in
// elsewhere, asked to accept it on their next page; the administrator then
// sees them among those who accepted it.
func TestBrowser_PublishingAPolicyAsksEveryoneAgain(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{})
	admin := &browser{t: t, ctx: ctx, env: env}
	if _, err := env.App.Identity.CreateAdmin(t.Context(), identity.NewAdmin{Email: "support@vendor.example",
		FirstName: "Vendor", LastName: "Support", Locale: "en", Password: apptest.TestPassword}); err != nil {
		t.Fatal(err)
	}
	signUpNamed(t, env, "augusta@example.com", "Augusta", "Byronique", "Moteurs Analytiques")
	member := admin.another()
	member.logIn("augusta@example.com", ownerPassword)
	member.at("/")

	admin.logIn("support@vendor.example", apptest.TestPassword)
	admin.acceptPolicy()
	admin.at("/")
	admin.do("open the policy page", chromedp.Click(chromedp.CSS(`a[href="/admin/privacy-policy"]`)), chromedp.WaitVisible(chromedp.CSS("#f-label")))
	admin.at("/admin/privacy-policy")
	admin.do("publish without a text", admin.fill(map[string]string{"label": "January 2027 edition"}),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)), chromedp.WaitVisible(chromedp.CSS("#e-text_fr")))
	admin.wantText("#e-text_fr", "Give the policy's text")
	// The texts are empty: typed into, not cleared first.
	admin.do("publish", chromedp.SendKeys(chromedp.CSS(`[name="text_en"]`), "We keep less than before."),
		chromedp.SendKeys(chromedp.CSS(`[name="text_fr"]`), "Nous gardons moins qu'avant."),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))
	// The version is in effect at once: the administrator is asked too,
	// then back on the page.
	admin.acceptPolicy()
	admin.at("/admin/privacy-policy?done=published")
	admin.wantText("tbody tr:first-child", "January 2027 edition", "In effect")
	browsertest.Screenshot(t, ctx, "admin-privacy-policy")

	// The member, on their next page, is asked to accept the new version.
	member.do("open a page", chromedp.Navigate(env.URL+"/"))
	member.at("/consent")
	member.wantText("main", "January 2027", "Nous gardons moins")
	member.acceptPolicy()
	member.at("/")

	admin.do("open the policy page again", chromedp.Navigate(env.URL+"/admin/privacy-policy"), chromedp.WaitVisible(chromedp.CSS("tbody")))
	admin.wantText("tbody tr:first-child", "2")
	admin.do("open its acceptances", chromedp.Click(chromedp.CSS(`tbody tr:first-child td a`)), chromedp.WaitVisible(chromedp.CSS("tbody")))
	admin.wantText("tbody", "Augusta Byronique", "augusta@example.com", "Vendor Support")
}
