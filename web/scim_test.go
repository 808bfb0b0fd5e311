package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
)

// TestSCIM_TurnedOnInTheSettingsWithAKeyMadeForIt: the administrator turns
// SCIM provisioning on in the settings and makes a key for it on the API
// keys page, which lists it as such; a purpose that is none is refused
// beside its field.
func TestSCIM_TurnedOnInTheSettingsWithAKeyMadeForIt(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	confirmEmail(t, env, "ada@example.com")
	wantIn(t, get(t, o.c, o.url("/settings")), "Approvisionner les membres via SCIM", `id="f-scim_enabled" name="scim_enabled" type="checkbox" value="yes"`)
	f := url.Values{"name": {"Analytical Engines"}, "locale": {"fr"}, "invitation_ttl": {"7"}, "invitation_ttl_unit": {"days"},
		"notify_adder": {"both"}, "scim_enabled": {"yes"}}
	if p := post(t, o.c, o.url("/settings"), f); p.Status != 303 {
		t.Fatalf("save: %d %s", p.Status, text(p.Body))
	}
	a, err := env.App.Team.Account(t.Context(), o.actor(), o.account)
	if err != nil || !a.SCIMEnabled {
		t.Fatalf("account: %+v %v", a, err)
	}
	wantIn(t, get(t, o.c, o.url("/settings")), `name="scim_enabled" type="checkbox" value="yes" checked`)

	p := post(t, o.c, o.url("/api-keys"), url.Values{"name": {"Entra"}, "role": {"admin"}, "purpose": {"ftp"}})
	if p.Status != 422 {
		t.Fatalf("bad purpose: %d", p.Status)
	}
	wantIn(t, p, `<p class="error" id="e-purpose">L&#39;usage est « api » ou « scim ».</p>`)
	p = post(t, o.c, o.url("/api-keys"), url.Values{"name": {"Entra"}, "role": {"admin"}, "purpose": {equipe.KeySCIM}})
	if p.Status != 201 {
		t.Fatalf("create: %d %s", p.Status, text(p.Body))
	}
	page := get(t, o.c, o.url("/api-keys"))
	if i := strings.Index(page.Body, "Entra"); i < 0 || !strings.Contains(page.Body[i:], "Approvisionnement SCIM</span>") {
		t.Fatalf("the key is not shown as a SCIM key: %s", text(page.Body))
	}
}
