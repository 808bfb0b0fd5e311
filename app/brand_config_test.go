package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe/brand"
)

func TestParseConfig_BrandSettings(t *testing.T) {
	dir := t.TempDir()
	logo := filepath.Join(dir, "logo.svg")
	if err := os.WriteFile(logo, []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"EQUIPE_BRAND_NAME": "Acme Cloud", "EQUIPE_BRAND_LOGO": logo, "EQUIPE_BRAND_PRIMARY": "#0B6E4F",
		"EQUIPE_BRAND_ACCENT": "#7a1fa2", "EQUIPE_SUPPORT_EMAIL": "help@acme.test", "EQUIPE_SUPPORT_URL": "https://acme.test/help",
		"EQUIPE_TERMS_URL": "https://acme.test/terms", "EQUIPE_IMPRINT_URL": "https://acme.test/imprint",
		"EQUIPE_PUBLIC_URL": "https://id.acme.test",
	}
	cfg, err := ParseConfig("serve", nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Brand
	if b.Name != "Acme Cloud" || b.Logo == nil || b.Logo.Type != "image/svg+xml" || b.Favicon != nil ||
		b.Primary != "#0b6e4f" || b.Accent != "#7a1fa2" || b.SupportEmail != "help@acme.test" ||
		b.SupportURL != "https://acme.test/help" || b.TermsURL != "https://acme.test/terms" || b.ImprintURL != "https://acme.test/imprint" {
		t.Fatalf("brand: %+v", b)
	}
	if b.KeyPrefix != "acmecloud_" {
		t.Errorf("the keys' prefix is not derived from the name: %q", b.KeyPrefix)
	}
	env["EQUIPE_BRAND_KEY_PREFIX"] = "acme_"
	if cfg, err := ParseConfig("serve", nil, func(k string) string { return env[k] }); err != nil || cfg.Brand.KeyPrefix != "acme_" {
		t.Errorf("a prefix given: %q, %v", cfg.Brand.KeyPrefix, err)
	}
	if cfg.MailFrom != `"Acme Cloud" <no-reply@id.acme.test>` {
		t.Errorf("the default sender does not bear the product's name: %s", cfg.MailFrom)
	}

	def, err := ParseConfig("serve", nil, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if d := def.Brand; d.Name != brand.DefaultName || d.Primary != brand.DefaultPrimary || d.Accent != brand.DefaultAccent || d.Logo != nil || d.Stylesheet != nil ||
		d.KeyPrefix != "equipe_" {
		t.Errorf("default brand: %+v", def.Brand)
	}
}

func TestParseConfig_BadBrandSettingsStopTheStart(t *testing.T) {
	dir := t.TempDir()
	jpeg := filepath.Join(dir, "logo.jpg")
	os.WriteFile(jpeg, []byte("\xff\xd8\xff\xe0\x00\x10JFIF"), 0o600)
	for _, c := range []struct {
		env, value, want string
	}{
		{"EQUIPE_BRAND_PRIMARY", "#a0c4ff", "EQUIPE_BRAND_PRIMARY (--brand-primary): white text on #a0c4ff has a contrast of"},
		{"EQUIPE_BRAND_ACCENT", "#ffd500", "EQUIPE_BRAND_ACCENT (--brand-accent): white text on #ffd500"},
		{"EQUIPE_BRAND_PRIMARY", "green", "not a colour written #rrggbb"},
		{"EQUIPE_BRAND_NAME", strings.Repeat("x", 61), "EQUIPE_BRAND_NAME (--brand-name): must be a line of 1 to 60 characters"},
		{"EQUIPE_BRAND_NAME", "Acme\nBcc: x", "must be a line"},
		{"EQUIPE_BRAND_LOGO", jpeg, "EQUIPE_BRAND_LOGO (--brand-logo): " + jpeg + ": the file is neither an SVG nor a PNG image"},
		{"EQUIPE_BRAND_FAVICON", filepath.Join(dir, "none.svg"), "EQUIPE_BRAND_FAVICON (--brand-favicon): cannot read"},
		{"EQUIPE_SUPPORT_EMAIL", "Help <help@acme.test>", "EQUIPE_SUPPORT_EMAIL (--support-email): "},
		{"EQUIPE_SUPPORT_URL", "acme.test/help", "EQUIPE_SUPPORT_URL (--support-url): \"acme.test/help\" must be an absolute"},
		{"EQUIPE_TERMS_URL", "javascript:alert(1)", "EQUIPE_TERMS_URL (--terms-url)"},
		{"EQUIPE_IMPRINT_URL", "ftp://acme.test", "EQUIPE_IMPRINT_URL (--imprint-url)"},
		{"EQUIPE_TEMPLATES_DIR", filepath.Join(dir, "none"), "EQUIPE_TEMPLATES_DIR (--templates-dir): "},
		{"EQUIPE_BRAND_KEY_PREFIX", "Acme_", `EQUIPE_BRAND_KEY_PREFIX (--brand-key-prefix): "Acme_" is not a key prefix: give 1 to 15 lowercase letters (a-z) or digits followed by _ (for example acme_)`},
		{"EQUIPE_BRAND_KEY_PREFIX", "acme", `"acme" is not a key prefix`},
		{"EQUIPE_BRAND_KEY_PREFIX", "acme-cloud_", `"acme-cloud_" is not a key prefix`},
		{"EQUIPE_BRAND_KEY_PREFIX", "_", `"_" is not a key prefix`},
		{"EQUIPE_BRAND_KEY_PREFIX", "acme__", `"acme__" is not a key prefix`},
		{"EQUIPE_BRAND_KEY_PREFIX", "averyverylongname_", `"averyverylongname_" is not a key prefix`},
	} {
		_, err := ParseConfig("serve", nil, func(k string) string {
			if k == c.env {
				return c.value
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s=%q: error %v, want one line with %q", c.env, c.value, err, c.want)
		}
	}
}
