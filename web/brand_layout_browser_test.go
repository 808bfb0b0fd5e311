package web_test

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/brand"
	"github.com/equipe-dev/equipe/internal/browsertest"
)

// acmeMark is a vendor's logo that is a mark alone, without the name.
const acmeMark = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48" width="48" height="48">` +
	`<rect width="48" height="48" rx="12" fill="#0b6e4f"/>` +
	`<path fill-rule="evenodd" fill="#fff" d="M24 9 37 39h-7l-2.6-6.5h-6.8L18 39h-7zm0 11-2.4 6.5h4.8z"/></svg>`

// acmePanel is a vendor's stylesheet that gives the pages on the way in a
// side panel and a background of its own, through the variables of the
// "auth" frame alone.
const acmePanel = `:root {
  --auth-panel-width: 40%;
  --auth-panel: #0b6e4f;
  --auth-background: #eef5f1;
}
`

// authLook is where the "auth" frame put things on a page.
type authLook struct {
	Frame      bool     `json:"frame"`
	BrandAbove bool     `json:"brandAbove"`
	CardOff    float64  `json:"cardOff"`
	BrandOff   float64  `json:"brandOff"`
	Panel      float64  `json:"panel"`
	Button     string   `json:"button"`
	Name       string   `json:"name"`
	Footer     []string `json:"footer"`
}

// lookAtAuth measures the page in the browser: the brand above the card,
// both centred in their column (the distance off centre, in pixels), the
// panel's width, the primary button's colour, the brand's name and the
// footer's links.
var lookAtAuth = chromedp.Evaluate[authLook](`(() => {
  const box = s => { const e = document.querySelector(s); return e ? e.getBoundingClientRect() : null; };
  const card = box("main.auth-card"), brand = box(".auth-brand"), col = box(".auth-column"), panel = box(".auth-panel");
  const off = (b) => b && col ? Math.abs((b.left - col.left) - (col.right - b.right)) : 999;
  const button = document.querySelector("main button.primary");
  const name = document.querySelector(".auth-name");
  return {
    frame: !!(card && brand && col && panel && document.body.classList.contains("auth")),
    brandAbove: !!(card && brand && brand.bottom <= card.top),
    cardOff: off(card), brandOff: off(brand),
    panel: panel ? panel.width : -1,
    button: button ? getComputedStyle(button).backgroundColor : "",
    name: name ? name.textContent : "",
    footer: [...document.querySelectorAll("footer.auth-footer a")].map(a => a.getAttribute("href")),
  };
})()`)

// TestBrowser_PagesOnTheWayInFrameTheBrandAboveACard opens the pages on
// the way in (sign-in, sign-up, forgotten password, a one-time link, the
// consent) of a default instance and of a branded one whose stylesheet
// adds a side panel through the frame's variables: each shows the brand's
// name above a centred card, the legal links under it, the buttons in the
// brand's colour, the panel only where the brand asks for one. It then
// shows, for both, the team page and an email in the development mailbox;
// with EQUIPE_SCREENSHOTS set, it saves the pictures of docs/branding.md.
func TestBrowser_PagesOnTheWayInFrameTheBrandAboveACard(t *testing.T) {
	logo, err := brand.ParseImage([]byte(acmeMark))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		configure func(*app.Config)
		brandName string
		button    string
		panel     bool
		footer    []string
	}{
		{"default", nil, "equipe", "rgb(47, 91, 211)", false, []string{"/privacy", "/docs/api", "/dev/mail"}},
		{"acme", func(c *app.Config) {
			c.Brand = brand.Brand{Name: "Acme Cloud", Logo: logo, Favicon: logo, Primary: "#0b6e4f", Accent: "#7a1fa2",
				SupportEmail: "help@acme.test", SupportURL: "https://acme.test/help", TermsURL: "https://acme.test/terms",
				Stylesheet: []byte(acmePanel)}
			c.MailFrom = "Acme Cloud <no-reply@acme.test>"
		}, "Acme Cloud", "rgb(11, 110, 79)", true,
			[]string{"/privacy", "/docs/api", "https://acme.test/terms", "https://acme.test/help", "mailto:help@acme.test", "/dev/mail"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := apptest.Start(t, "sqlite", apptest.Options{Configure: c.configure})
			b := &browser{t: t, ctx: browsertest.New(t), env: env}
			b.do("size the window", chromedp.EmulateViewport(1200, 800))

			check := func(page string) {
				t.Helper()
				l, err := chromedp.Run(b.ctx, lookAtAuth)
				if err != nil {
					t.Fatalf("%s: %v", page, err)
				}
				if !l.Frame || !l.BrandAbove || l.CardOff > 2 || l.BrandOff > 2 || l.Name != c.brandName {
					t.Errorf("%s: not the brand above a centred card: %+v", page, l)
				}
				if l.Button != "" && l.Button != c.button {
					t.Errorf("%s: the primary button is %s, want %s", page, l.Button, c.button)
				}
				if (l.Panel > 0) != c.panel {
					t.Errorf("%s: the side panel is %.0f px wide", page, l.Panel)
				}
				if fmt.Sprint(l.Footer) != fmt.Sprint(c.footer) {
					t.Errorf("%s: footer links %v, want %v", page, l.Footer, c.footer)
				}
			}
			b.do("open the sign-in page", chromedp.Navigate(env.URL+"/login?lang=en"), chromedp.WaitVisible(chromedp.CSS("#f-email")))
			check("sign-in")
			browsertest.Capture(t, b.ctx, "brand-"+c.name+"-signin")
			for _, p := range []struct{ page, path, sel string }{
				{"sign-up", "/signup", "#f-first_name"},
				{"forgotten password", "/forgot-password", "#f-email"},
				{"a used link", "/password-reset/nope", "h1"},
			} {
				b.do("open the "+p.page+" page", chromedp.Navigate(env.URL+p.path), chromedp.WaitVisible(chromedp.CSS(p.sel)))
				check(p.page)
			}

			// A customer signs up (in English) and meets the consent.
			f := signupForm("ada@example.com")
			f.Set("locale", equipe.LocaleEN)
			f.Set("account_name", "Lovelace Bakery")
			b.do("sign up", chromedp.Navigate(env.URL+"/signup"), chromedp.WaitVisible(chromedp.CSS("#f-first_name")),
				b.fill(map[string]string{"first_name": f.Get("first_name"), "last_name": f.Get("last_name"), "email": f.Get("email"),
					"password": f.Get("password"), "account_name": f.Get("account_name")}),
				chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))
			b.at("/consent")
			// The address changes before the page is read: wait for it.
			b.do("wait for the consent", chromedp.WaitVisible(chromedp.CSS("#f-accept")))
			check("consent")
			b.do("accept the privacy policy", chromedp.Click(chromedp.CSS("#f-accept")), chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))
			b.at("/")

			// Their team, with a few members, in the ordinary frame.
			accounts, err := env.App.Identity.Accounts(t.Context(), mustUserID(t, env, "ada@example.com"))
			if err != nil || len(accounts) != 1 {
				t.Fatalf("accounts: %v %v", accounts, err)
			}
			account := accounts[0].Account.ID
			for _, m := range []struct {
				email string
				s     equipe.MemberStatus
			}{{"grace@example.com", equipe.MemberActive}, {"alan@example.com", equipe.MemberActive}, {"edsger@example.com", equipe.MemberSuspended}} {
				env.AddMember(t, account, m.email, "collaborator", m.s)
			}
			b.do("open the team page", chromedp.Navigate(env.URL+"/accounts/"+account.String()+"/members"),
				chromedp.WaitVisible(chromedp.CSS("table.team")))
			if n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll(".auth-card, .auth-panel").length`)); err != nil || n != 0 {
				t.Errorf("the team page is in the frame of the pages on the way in (%d, %v)", n, err)
			}
			browsertest.Capture(t, b.ctx, "brand-"+c.name+"-team")

			// The email that confirms their address, as the mailbox shows it.
			m := env.Mail(t, "ada@example.com", "verify_email")
			b.do("open the email", chromedp.Navigate(env.URL+"/dev/mail/"+url.PathEscape(m.ID)), chromedp.WaitVisible(chromedp.CSS("body")))
			b.wantText("body", c.brandName)
			browsertest.Capture(t, b.ctx, "brand-"+c.name+"-email")
		})
	}
}
