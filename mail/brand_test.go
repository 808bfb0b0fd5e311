package mail

import (
	"github.com/equipe-dev/equipe"
	"net/url"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe/brand"
)

// TestCompose_BrandedEmailsNameTheVendorNotEquipe: with a brand, no email
// in any language says "equipe", and each carries the brand's name,
// colour, logo and links.
func TestCompose_BrandedEmailsNameTheVendorNotEquipe(t *testing.T) {
	u, _ := url.Parse("https://id.acme.test")
	b := brand.Default()
	b.Name, b.Primary = "Acme Cloud", "#0b6e4f"
	b.Logo = &brand.Image{Type: "image/png", Data: []byte("\x89PNG\r\n\x1a\nlogo")}
	b.SupportEmail, b.SupportURL = "help@acme.test", "https://acme.test/help"
	b.TermsURL, b.ImprintURL = "https://acme.test/terms", "https://acme.test/imprint"
	tm, err := NewBrandedTemplates(u, nil, b)
	if err != nil {
		t.Fatal(err)
	}
	link := "https://id.acme.test/x/token"
	for _, name := range tm.Names() {
		for _, locale := range []string{"fr", "en"} {
			e, err := tm.Compose(name, locale, "ada@example.org", Data{RecipientID: equipe.NewID(), RecipientName: "Ada", AccountName: "Bakery",
				InviterName: "Grace", Link: link, NewEmail: "ada@example.net", Factor: "totp"})
			if err != nil {
				t.Fatalf("%s.%s: %v", name, locale, err)
			}
			all := e.Subject + e.Text + e.HTML
			if strings.Contains(strings.ToLower(all), "equipe") {
				t.Errorf("%s.%s says equipe:\n%s\n%s", name, locale, e.Text, e.HTML)
			}
			for _, want := range []string{"Acme Cloud", "help@acme.test", "https://acme.test/help", "https://acme.test/terms", "https://acme.test/imprint"} {
				if !strings.Contains(e.Text, want) || !strings.Contains(e.HTML, want) {
					t.Errorf("%s.%s lacks %s", name, locale, want)
				}
			}
			if !strings.Contains(e.HTML, `src="https://id.acme.test/static/brand/logo?v=`+b.Logo.Version()+`"`) {
				t.Errorf("%s.%s: no logo in the HTML", name, locale)
			}
			if strings.Contains(e.HTML, "#1d4ed8") || (needs[name].link && !strings.Contains(e.HTML, "background-color:#0b6e4f")) {
				t.Errorf("%s.%s: the button is not in the brand's colour", name, locale)
			}
		}
	}
}
