package api_test

import (
	"strings"
	"testing"

	"github.com/equipe-dev/equipe/app/apptest"
)

// TestRoles_ANameInOneLanguageIsEnoughAndTheKeyComesFromIt: a role posted
// with one label and no key is created with the key derived from the label
// (accents removed, a suffix when taken), and the other language shows the
// same name; a role with no label at all is refused on label_fr.
func TestRoles_ANameInOneLanguageIsEnoughAndTheKeyComesFromIt(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		r := call(t, env.Client(), "POST", a.url("/roles"), map[string]any{"label_fr": "Comptabilité",
			"permissions": map[string]any{"members.view": true}}, bearer(a.admin)...)
		label, _ := r.JSON["label"].(map[string]any)
		if r.Status != 201 || r.JSON["key"] != "comptabilite" || label["fr"] != "Comptabilité" || label["en"] != "Comptabilité" {
			t.Fatalf("a French name only: %d %s", r.Status, r.Raw)
		}
		r = call(t, env.Client(), "POST", a.url("/roles"), map[string]any{"label_en": "Comptabilité"}, bearer(a.admin)...)
		if r.Status != 201 || r.JSON["key"] != "comptabilite_2" || r.Header.Get("Location") != "/api/v1/accounts/"+a.account.String()+"/roles/comptabilite_2" {
			t.Fatalf("the same name again: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", a.url("/roles/comptabilite_2"), nil, bearer(a.admin)...); r.Status != 200 ||
			r.JSON["label"].(map[string]any)["fr"] != "Comptabilité" {
			t.Fatalf("read back: %d %s", r.Status, r.Raw)
		}
		r = call(t, env.Client(), "POST", a.url("/roles"), map[string]any{"key": "nameless", "label_fr": " "}, bearer(a.admin)...)
		if r.Status != 422 || !strings.Contains(string(r.Raw), `"label_fr"`) || !strings.Contains(string(r.Raw), "role.label_required") {
			t.Fatalf("no name: %d %s", r.Status, r.Raw)
		}
	})
}
