package web_test

import (
	"testing"

	"github.com/equipe-dev/equipe/app/apptest"
)

// TestRoleForm_TheKeyComesFromTheNameAndOneLanguageIsEnough: a role saved
// with its key left empty gets the key of its name, accents removed, with a
// suffix when the account has it already; named in French only, it is
// shown under that name to an English reader too.
func TestRoleForm_TheKeyComesFromTheNameAndOneLanguageIsEnough(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")

	p := get(t, o.c, o.url("/roles/new"))
	wantIn(t, p, `<script src="/static/role-key.js" defer></script>`, `data-taken="admin manager collaborator guest"`)
	wantNotIn(t, p, `name="label_fr" type="text" lang="fr" value="" required`)

	for _, want := range []string{"comptabilite_generale", "comptabilite_generale_2"} {
		p = post(t, o.c, o.url("/roles/new"), rolePost("", "Comptabilité générale", "", map[string]string{"members.view": ""}))
		if p.Status != 303 {
			t.Fatalf("a role named in French only: %d %s", p.Status, text(p.Body))
		}
		if e := get(t, o.c, o.url("/roles/"+want+"/edit")); e.Status != 200 {
			t.Fatalf("no role %s: %d", want, e.Status)
		}
	}
	p = get(t, o.c, o.url("/roles/new"))
	wantIn(t, p, `data-taken="admin manager collaborator guest comptabilite_generale comptabilite_generale_2"`)

	english(t, env, o.c)
	p = get(t, o.c, o.url("/roles"))
	wantIn(t, p, "Comptabilité générale")
	p = get(t, o.c, o.url("/members/new"))
	wantIn(t, p, `<option value="comptabilite_generale">Comptabilité générale</option>`)
}
