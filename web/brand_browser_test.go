package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/equipe-dev/equipe/app"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/brand"
	"github.com/equipe-dev/equipe/internal/browsertest"
)

// TestBrowser_ABrandedInstanceShowsItsBrandAndNeverEquipe walks an
// instance branded Acme Cloud (name, logo, colours, the email confirming
// an address overridden in each language) in Chromium: its pages show the
// brand, with the colours applied through the strict policy; the
// development mailbox shows the overridden email, and the brand in the
// others; nothing says "equipe".
func TestBrowser_ABrandedInstanceShowsItsBrandAndNeverEquipe(t *testing.T) {
	ctx := browsertest.New(t)
	dir := t.TempDir()
	for locale, words := range map[string][2]string{"fr": {"Confirmez votre adresse chez Acme Cloud", "Confirmez ici"}, "en": {"Confirm your address at Acme Cloud", "Confirm here"}} {
		body := `{{define "subject"}}` + words[0] + `{{end}}
{{define "text"}}` + words[1] + ` : {{.Link}}{{end}}
{{define "html"}}<p>` + words[1] + ` :</p>{{template "button" (action .Link "OK")}}{{end}}`
		if err := os.WriteFile(filepath.Join(dir, "verify_email."+locale+".tmpl"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	logo, err := brand.ParseImage([]byte(acmeLogo))
	if err != nil {
		t.Fatal(err)
	}
	env := apptest.Start(t, "sqlite", apptest.Options{Configure: func(c *app.Config) {
		c.Brand = brand.Brand{Name: "Acme Cloud", Logo: logo, Primary: "#0b6e4f", Accent: "#7a1fa2",
			SupportEmail: "help@acme.test", TermsURL: "https://acme.test/terms"}
		c.TemplatesDir = dir
		c.MailFrom = "Acme Cloud <no-reply@acme.test>"
	}})
	b := &browser{t: t, ctx: ctx, env: env}

	// check looks at the page in the browser: the brand shows, its colours
	// and logo are applied, and the page says "equipe" nowhere.
	check := func(page string) {
		t.Helper()
		type look struct {
			Title, Button, Logo string
			LogoWidth           int
			Equipe              bool
		}
		l, err := chromedp.Run(ctx, chromedp.Evaluate[look](`(() => {
  const button = document.querySelector("button.primary, .button:not(.secondary)");
  const logo = document.querySelector(".brand img, .auth-brand img");
  return {
    title: document.title,
    button: button ? getComputedStyle(button).backgroundColor : "",
    logo: logo ? logo.alt : "",
    logoWidth: logo ? logo.naturalWidth : 0,
    equipe: document.documentElement.outerHTML.toLowerCase().includes("equipe"),
  };
})()`))
		if err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		if !strings.HasSuffix(l.Title, "· Acme Cloud") || l.Logo != "Acme Cloud" || l.LogoWidth == 0 || l.Equipe {
			t.Errorf("%s: %+v", page, l)
		}
		if l.Button != "" && l.Button != "rgb(11, 110, 79)" {
			t.Errorf("%s: the primary button is %s, not the brand's colour", page, l.Button)
		}
	}

	b.do("open the sign-up page", chromedp.Navigate(env.URL+"/signup"), chromedp.WaitVisible(chromedp.CSS("#f-first_name")))
	check("sign-up")
	browsertest.Screenshot(t, ctx, "branded-signup")
	b.do("sign up",
		b.fill(map[string]string{"first_name": "Camille", "last_name": "Durand", "email": "camille@acme.example",
			"password": "une baguette bien croustillante", "account_name": "Boulangerie Durand", "resource_name": "Boutique du centre"}),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))
	b.at("/consent")
	check("consent")
	b.do("accept the privacy policy", chromedp.Click(chromedp.CSS("#f-accept")), chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))
	b.at("/")
	b.do("see the home page", chromedp.WaitVisible(chromedp.CSS(".accounts")))
	check("home")
	b.do("open the login page in a new session", chromedp.Navigate(env.URL+"/forgot-password"), chromedp.WaitVisible(chromedp.CSS("h1")))
	check("forgotten password")

	// The overridden email, in the customer's language, bears no "equipe".
	m := env.Mail(t, "camille@acme.example", "verify_email")
	if m.Subject != "Confirmez votre adresse chez Acme Cloud" || !strings.Contains(m.Text, "Confirmez ici") {
		t.Errorf("the overridden email is not sent: %q\n%s", m.Subject, m.Text)
	}
	b.do("open the development mailbox", chromedp.Navigate(env.URL+"/dev/mail"), chromedp.WaitVisible(chromedp.CSS("h1")))
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html, "Confirmez votre adresse chez Acme Cloud") {
		t.Error("the development mailbox does not show the overridden email")
	}
	if i := strings.Index(strings.ToLower(html), "equipe"); i >= 0 {
		t.Errorf("the development mailbox says equipe: …%s…", html[max(0, i-80):min(len(html), i+40)])
	}
}
