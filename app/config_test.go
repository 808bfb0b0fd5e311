package app

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPolicy_TheBuiltInPolicyIsOneTextPerLanguageUnderTheSameVersion(t *testing.T) {
	p, err := policy("", "", "")
	if err != nil {
		t.Fatal(err)
	}
	fr, en := p.TextIn("fr"), p.TextIn("en")
	if fr == "" || en == "" || fr == en || p.Text != "" {
		t.Fatalf("texts: %q / %q", fr, en)
	}
	if !strings.Contains(fr, "Politique de confidentialité") || strings.Contains(fr, "Privacy policy") || strings.Contains(en, "Politique") {
		t.Fatalf("a language shows the other's text:\nfr: %s\nen: %s", fr, en)
	}
	// The version is derived from the whole text, as when it was one: an
	// upgrade asks nobody to accept it again.
	sum := sha256.Sum256([]byte("\x00" + strings.TrimSpace(defaultPolicy)))
	if p.Version != hex.EncodeToString(sum[:6]) {
		t.Fatalf("version %q", p.Version)
	}
}

func TestPolicy_OneFilePerLanguageFallsBackToTheOther(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "privacy.fr.txt"), []byte("Politique.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := policy("", filepath.Join(dir, "privacy.{locale}.txt"), "")
	if err != nil {
		t.Fatal(err)
	}
	if p.TextIn("fr") != "Politique." || p.TextIn("en") != "Politique." {
		t.Fatalf("texts: %v", p.Texts)
	}
	if _, err := policy("", filepath.Join(dir, "none.{locale}.txt"), ""); err == nil {
		t.Fatal("no file for any language is accepted")
	}
	cfg, err := ParseConfig("serve", []string{"--privacy-policy-label", "Édition de décembre 2026"}, func(string) string { return "" })
	if err != nil || cfg.Policy.Label != "Édition de décembre 2026" {
		t.Fatalf("label: %q %v", cfg.Policy.Label, err)
	}
}

func TestParseConfig_APortThatIsNoTCPPortStopsTheStartNamingItsSetting(t *testing.T) {
	for _, tt := range []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"EQUIPE_ADDR": "127.0.0.1:abc"}, "EQUIPE_ADDR (--addr): "},
		{map[string]string{"EQUIPE_ADDR": "127.0.0.1:99999"}, "EQUIPE_ADDR (--addr): "},
		{map[string]string{"EQUIPE_ADDR": "127.0.0.1:-1"}, "EQUIPE_ADDR (--addr): "},
		{map[string]string{"EQUIPE_ADDR": "127.0.0.1:99999", "EQUIPE_PUBLIC_URL": "https://equipe.example.com"}, "EQUIPE_ADDR (--addr): "},
		{map[string]string{"EQUIPE_PUBLIC_URL": "http://x:99999"}, "EQUIPE_PUBLIC_URL (--public-url): "},
		{map[string]string{"EQUIPE_PUBLIC_URL": "http://x:0"}, "EQUIPE_PUBLIC_URL (--public-url): "},
		{map[string]string{"EQUIPE_METRICS_ADDR": "127.0.0.1:65536"}, "EQUIPE_METRICS_ADDR (--metrics-addr): "},
		{map[string]string{"EQUIPE_METRICS_ADDR": "127.0.0.1:http"}, "EQUIPE_METRICS_ADDR (--metrics-addr): "},
	} {
		_, err := ParseConfig("serve", nil, func(k string) string { return tt.vars[k] })
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) || !strings.Contains(err.Error(), "port") {
			t.Errorf("%v: %v, want an error starting %q about the port", tt.vars, err, tt.want)
		}
	}
	// Port 0 listens on any free port; the default public URL follows it.
	for _, vars := range []map[string]string{
		{"EQUIPE_ADDR": "127.0.0.1:0"},
		{"EQUIPE_ADDR": "127.0.0.1:65535", "EQUIPE_METRICS_ADDR": "127.0.0.1:0", "EQUIPE_PUBLIC_URL": "https://x:443"},
	} {
		if _, err := ParseConfig("serve", nil, func(k string) string { return vars[k] }); err != nil {
			t.Errorf("%v: %v", vars, err)
		}
	}
}
