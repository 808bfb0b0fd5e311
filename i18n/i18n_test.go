package i18n

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/event"
)

func TestCatalogues_HaveTheSameKeys(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if m := c.Missing(); len(m) > 0 {
		t.Fatalf("missing: %v", m)
	}
}

func TestWait_SaysWholeMinutesRoundedUpOrSeconds(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for d, want := range map[time.Duration]string{0: "1 s", 400 * time.Millisecond: "1 s", 59 * time.Second: "59 s",
		time.Minute: "1 min", 61 * time.Second: "2 min", 15 * time.Minute: "15 min"} {
		if got := c.Wait("en", d); got != want {
			t.Errorf("Wait(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestT_FallsBackAndFillsArguments(t *testing.T) {
	c := MustLoad()
	if got := c.T("en", "password.too_short", map[string]any{"min": 12}); !strings.Contains(got, "12") {
		t.Fatalf("argument not filled: %q", got)
	}
	if c.T("de", "password.too_short", nil) != c.T("fr", "password.too_short", nil) {
		t.Fatal("an unknown locale does not fall back to French")
	}
	if c.T("en", "no.such.key", nil) != "no.such.key" {
		t.Fatal("an unknown key does not show as itself")
	}
}

func TestFill_ElidesFrenchDeBeforeAVowel(t *testing.T) {
	for _, c := range []struct{ locale, msg, value, want string }{
		{"fr", "Autorisations de {name}", "Alice", "Autorisations d'Alice"},
		{"fr", "Autorisations de {name}", "Élodie Martin", "Autorisations d'Élodie Martin"},
		{"fr", "Autorisations de {name}", "inès@example.com", "Autorisations d'inès@example.com"},
		{"fr", "Autorisations de {name}", "Yves", "Autorisations d'Yves"},
		{"fr", "Autorisations de {name}", "Yasmine", "Autorisations de Yasmine"},
		{"fr", "Autorisations de {name}", "Bob", "Autorisations de Bob"},
		{"fr", "Autorisations de {name}", "Hugues", "Autorisations de Hugues"},
		{"fr", "De {name} à tous", "Eve", "D'Eve à tous"},
		{"fr", "Révoquer l'invitation de {name} ?", "Inès", "Révoquer l'invitation d'Inès ?"},
		{"fr", "Membre de « {name} »", "Atelier", "Membre de « Atelier »"},
		{"fr", "Le mode {name}", "Alice", "Le mode Alice"},
		{"fr", "De {min} à {max} heures", "1", "De 1 à {max} heures"},
		{"en", "Permissions of {name}", "Alice", "Permissions of Alice"},
		{"en", "Made de {name}", "Alice", "Made de Alice"},
	} {
		if got := fill(c.locale, c.msg, map[string]any{"name": c.value, "min": c.value}); got != c.want {
			t.Errorf("%s %q with %q: %q, want %q", c.locale, c.msg, c.value, got, c.want)
		}
	}
}

func TestFill_WritesDecimalsAsEachLanguageDoes(t *testing.T) {
	args := map[string]any{"ratio": 1.77, "min": 4.5, "count": 3, "label": "v1.2"}
	for locale, want := range map[string]string{
		"fr": "1,77:1 sous 4,5:1, 3 fois, v1.2",
		"en": "1.77:1 sous 4.5:1, 3 fois, v1.2",
	} {
		if got := fill(locale, "{ratio}:1 sous {min}:1, {count} fois, {label}", args); got != want {
			t.Errorf("%s: %q, want %q", locale, got, want)
		}
	}
}

func TestT_ChoosesTheSingularByTheCount(t *testing.T) {
	c := &Catalog{messages: map[string]map[string]string{
		"fr": {"n": "{count} membres ont ce rôle", "n#one": "{count} membre a ce rôle"},
		"en": {"n": "{count} members hold this role", "n#one": "{count} member holds this role"},
	}}
	for _, x := range []struct {
		locale string
		count  any
		want   string
	}{
		{"fr", 1, "1 membre a ce rôle"}, {"fr", 0, "0 membre a ce rôle"}, {"fr", 2, "2 membres ont ce rôle"},
		{"en", 1, "1 member holds this role"}, {"en", 0, "0 members hold this role"}, {"en", int64(3), "3 members hold this role"},
	} {
		if got := c.T(x.locale, "n", map[string]any{"count": x.count}); got != x.want {
			t.Errorf("%s, %v: %q, want %q", x.locale, x.count, got, x.want)
		}
	}
}

func TestNegotiate(t *testing.T) {
	for header, want := range map[string]string{
		"":                        "fr",
		"en-US,en;q=0.9":          "en",
		"fr-CA,fr;q=0.9,en;q=0.8": "fr",
		"de-DE,de;q=0.9,en;q=0.5": "en",
		"de-DE":                   "fr",
		"en;q=0.2,fr;q=0.9":       "fr",
		"garbage;;;q=x":           "fr",
	} {
		if got := Negotiate(header); got != want {
			t.Errorf("Negotiate(%q) = %q, want %q", header, got, want)
		}
	}
}

// TestNegotiateMachine: a machine's request is answered in English unless
// its Accept-Language asks for a language the service speaks.
func TestNegotiateMachine(t *testing.T) {
	for header, want := range map[string]string{
		"":                        "en",
		"fr-FR":                   "fr",
		"fr-CA,fr;q=0.9,en;q=0.8": "fr",
		"en-US":                   "en",
		"de-DE":                   "en",
		"garbage;;;q=x":           "en",
	} {
		if got := NegotiateMachine(header); got != want {
			t.Errorf("NegotiateMachine(%q) = %q, want %q", header, got, want)
		}
	}
}

// keyPattern matches the message keys the code uses: namespace.name.
var keyPattern = regexp.MustCompile(`^(error|request|email|password|name|locale|resource|signup|login|session|link|consent|reset|verify|form|page|nav|home|field|role|status|privacy|member|api_key|access|check|account|user|policy|instance_admin|roles_page|keys|perms|invitation|invite|team|confirm|member_form|accept|audit|settings|client|contact|clients|contacts|new_account|switcher|authzen|oidc|oidc_client|oidc_clients|brand)\.[a-z0-9_.]+$`)

// TestCatalogues_HoldEveryKeyTheCodeUses scans the Go sources and templates
// of the service for message keys and checks each exists.
func TestCatalogues_HoldEveryKeyTheCodeUses(t *testing.T) {
	c := MustLoad()
	root := filepath.Join("..")
	missing := map[string]string{}
	tmplKey := regexp.MustCompile(`\bt "([a-z0-9_.]+)"`)
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			// The event package's strings are the names of kinds and
			// fields, labelled under "event." and "audit.field." (see
			// TestCatalogues_NameEveryEventAndField).
			case ".git", "node_modules", "equipe-data", "mail", "cmd", "docs", "event":
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go"):
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					if keyPattern.MatchString(s) && !c.Has(s) && !isPermission(s) {
						missing[s] = path
					}
				}
				return true
			})
		case strings.HasSuffix(path, ".html"):
			b, _ := os.ReadFile(path)
			for _, m := range tmplKey.FindAllSubmatch(b, -1) {
				if !c.Has(string(m[1])) {
					missing[string(m[1])] = path
				}
			}
		}
		return nil
	})
	for k, p := range missing {
		t.Errorf("%s: key %q is not in the catalogues", p, k)
	}
}

// isPermission reports whether s is a permission key of the default
// catalogue (account.manage…): those are labelled by the catalogue itself.
func isPermission(s string) bool {
	_, ok := access.Default().Permission(s)
	return ok
}

// TestCatalogues_NameEveryEventAndField checks that the audit page can name
// every kind of change event and every field of their states, in both
// languages: it renders them from the event types, with no list of its own.
func TestCatalogues_NameEveryEventAndField(t *testing.T) {
	c := MustLoad()
	for _, typ := range event.Types() {
		if !c.Has("event." + string(typ)) {
			t.Errorf("no label for the event %s (event.%s)", typ, typ)
		}
	}
	for _, f := range event.FieldNames() {
		if !c.Has("audit.field." + f) {
			t.Errorf("no label for the field %s (audit.field.%s)", f, f)
		}
	}
}

func TestT_FillsTheProductsName(t *testing.T) {
	c := MustLoad()
	if got := c.T("fr", "twofactor.qr_alt", nil); !strings.Contains(got, "clé secrète d’equipe") && !strings.Contains(got, "clé secrète d'equipe") {
		t.Errorf("default: %q", got)
	}
	c.Product = "Acme Cloud"
	if got := c.T("en", "profile.lead", map[string]any{"email": "ada@example.com"}); got !=
		"How you appear to the teams you belong to, and how Acme Cloud speaks to you. You log in with ada@example.com." {
		t.Errorf("branded: %q", got)
	}
	if got := c.T("fr", "twofactor.qr_alt", nil); !strings.Contains(got, "clé secrète de Acme Cloud") && !strings.Contains(got, "clé secrète d'Acme Cloud") {
		t.Errorf("branded fr: %q", got)
	}
}

// operatorOnly are the messages only the instance's operator reads (its
// configuration and command line), which may name equipe's own settings.
var operatorOnly = map[string]bool{"brand.hint": true, "user.last_instance_admin": true}

// TestT_ABrandedInstanceSaysEquipeNowhere: once a brand fills {product},
// no message a customer can meet (a page, an error of the API or of SCIM)
// says "equipe", in either language.
func TestT_ABrandedInstanceSaysEquipeNowhere(t *testing.T) {
	c := MustLoad()
	c.Product = "Acme Cloud"
	for l, messages := range c.messages {
		for key, s := range messages {
			got := fill(l, s, c.withProduct(s, nil))
			if strings.Contains(strings.ToLower(got), "equipe") && !operatorOnly[key] {
				t.Errorf("%s %s: %q", l, key, got)
			}
		}
	}
	for key := range operatorOnly {
		if !c.Has(key) {
			t.Errorf("operatorOnly names %s, which is no message", key)
		}
	}
}
