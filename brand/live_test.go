package brand

import (
	"strings"
	"testing"
)

func TestOverrides_ApplyWinsOverTheConfigurationSettingBySetting(t *testing.T) {
	configured := Default()
	configured.Name, configured.SupportURL, configured.Stylesheet = "Acme Cloud", "https://acme.test/help", []byte("a{}")
	name, none, primary := "Bright", "", "#7a1fa2"
	logo := &Image{Type: "image/png", Data: []byte("\x89PNG\r\n\x1a\n")}
	o := Overrides{Name: &name, SupportURL: &none, Primary: &primary, Logo: logo, Stylesheet: &none}
	b := o.Apply(configured)
	if b.Name != "Bright" || b.SupportURL != "" || b.Primary != "#7a1fa2" || b.Logo != logo || b.Stylesheet != nil ||
		b.Accent != DefaultAccent || b.KeyPrefix != configured.KeyPrefix {
		t.Errorf("applied: %+v", b)
	}
	o.Clear(FieldName)
	o.Clear(FieldLogo)
	if b := o.Apply(configured); b.Name != "Acme Cloud" || b.Logo != nil || o.Has(FieldName) || !o.Has(FieldPrimary) {
		t.Errorf("after clearing: %+v", b)
	}
	if d := o.Describe(FieldSupportURL); d != "(none)" {
		t.Errorf("an empty link is described %q", d)
	}
	o.Logo = &Image{Type: "image/svg+xml", Data: []byte("<svg>" + strings.Repeat(" ", 3000) + "</svg>")}
	if d := o.Describe(FieldLogo); !strings.HasPrefix(d, "image/svg+xml, 3 KiB, ") || strings.Contains(d, "svg>") {
		t.Errorf("a logo is described %q", d)
	}
}

func TestLive_HoldsTheDefaultUntilStoredAndTheCSSOfWhatItHolds(t *testing.T) {
	var none *Live
	if b := none.Load(); b.Name != DefaultName {
		t.Errorf("a nil holder holds %+v", b)
	}
	l := NewLive(Default())
	b := Default()
	b.Name, b.Primary = "Acme", "#0b6e4f"
	l.Store(b)
	css, version := l.CSS()
	if l.Load().Name != "Acme" || !strings.Contains(string(css), "--primary: #0b6e4f;") || version != b.CSSVersion() {
		t.Errorf("holds %+v, css %s (%s, want %s)", l.Load(), css, version, b.CSSVersion())
	}
}

// brandWithStylesheet is a brand with a stylesheet of 20 KiB, a vendor's
// ordinary one.
func brandWithStylesheet() Brand {
	b := Default()
	b.Stylesheet = []byte(strings.Repeat(".auth-panel { background: #0b6e4f; }\n", 540))
	return b
}

// BenchmarkPageBrand_Live is what a page pays for the brand now: the brand
// in force and its stylesheet's digest, worked out once per change.
func BenchmarkPageBrand_Live(b *testing.B) {
	l := NewLive(brandWithStylesheet())
	for b.Loop() {
		br := l.Load()
		_, v := l.CSS()
		if br.Name == "" || v == "" {
			b.Fatal("nothing held")
		}
	}
}

// BenchmarkPageBrand_DigestEachPage is what a page paid when the brand was
// a value read at start: the stylesheet's digest worked out for every page.
func BenchmarkPageBrand_DigestEachPage(b *testing.B) {
	br := brandWithStylesheet()
	for b.Loop() {
		if br.CSSVersion() == "" {
			b.Fatal("no digest")
		}
	}
}
