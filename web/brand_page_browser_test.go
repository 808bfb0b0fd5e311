package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/internal/browsertest"
)

// TestBrowser_TheBrandPageSetsTheLogoAndColourTheSignInPageShows: on an
// instance with the default brand, an instance administrator names the
// product, uploads a logo and types a colour on the brand page, first a
// pale one, refused beside its field; once saved, the sign-in page, seen
// signed out, shows the name, the logo and the colour, with no restart.
func TestBrowser_TheBrandPageSetsTheLogoAndColourTheSignInPageShows(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{})
	if _, err := env.App.Identity.CreateAdmin(t.Context(), identity.NewAdmin{Email: "support@vendor.example",
		FirstName: "Vendor", LastName: "Support", Locale: "en", Password: apptest.TestPassword}); err != nil {
		t.Fatal(err)
	}
	logoFile := filepath.Join(t.TempDir(), "orchard.svg")
	if err := os.WriteFile(logoFile, []byte(acmeLogo), 0o600); err != nil {
		t.Fatal(err)
	}
	admin := &browser{t: t, ctx: ctx, env: env}
	admin.logIn("support@vendor.example", apptest.TestPassword)
	admin.acceptPolicy()
	admin.at("/")
	admin.do("open the brand page", chromedp.Click(chromedp.CSS(`a[href="/admin/brand"]`)), chromedp.WaitVisible(chromedp.CSS("#f-name")))
	admin.at("/admin/brand")

	admin.do("save a pale colour", admin.fill(map[string]string{"name": "Orchard", "primary": "#a0c4ff"}),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)), chromedp.WaitVisible(chromedp.CSS("#e-primary")))
	admin.wantText("#e-primary", "White text on #a0c4ff has a contrast of 1.77:1")
	admin.wantText(".problems", "Primary colour")
	admin.do("choose a darker colour and a logo", admin.fill(map[string]string{"primary": "#0b6e4f"}),
		chromedp.SetUploadFiles(chromedp.CSS("#f-logo"), []string{logoFile}),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))
	admin.at("/admin/brand?done=saved")
	admin.wantText(".notice", "The brand is saved")
	admin.do("see the logo's preview", chromedp.WaitVisible(chromedp.CSS(`img.brand-preview`)))
	browsertest.Screenshot(t, ctx, "brand-page")

	visitor := admin.another()
	visitor.do("open the sign-in page", chromedp.Navigate(env.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("#f-email")))
	type look struct {
		Title, Button, Logo string
		LogoWidth           int
		Equipe              bool
	}
	l, err := chromedp.Run(visitor.ctx, chromedp.Evaluate[look](`(() => {
  const button = document.querySelector("button.primary");
  const logo = document.querySelector(".auth-brand img");
  return {
    title: document.title,
    button: button ? getComputedStyle(button).backgroundColor : "",
    logo: logo ? logo.alt : "",
    logoWidth: logo ? logo.naturalWidth : 0,
    equipe: document.documentElement.outerHTML.toLowerCase().includes("equipe"),
  };
})()`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(l.Title, "· Orchard") || l.Logo != "Orchard" || l.LogoWidth == 0 || l.Button != "rgb(11, 110, 79)" || l.Equipe {
		t.Errorf("the sign-in page: %+v", l)
	}
}
