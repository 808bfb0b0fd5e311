package api_test

import (
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
)

// consentedClients returns the clients of the person's consents, newest
// first, with the scopes of each.
func consentedClients(t *testing.T, env *apptest.Env, token string) map[string]string {
	t.Helper()
	r := call(t, env.Client(), "GET", env.URL+"/api/v1/me/oidc-consents", nil, bearer(token)...)
	if r.Status != 200 {
		t.Fatalf("consents: %d %s", r.Status, r.Raw)
	}
	out := map[string]string{}
	for _, it := range r.JSON["items"].([]any) {
		c := it.(map[string]any)
		out[c["client_id"].(string)] = c["client_name"].(string) + " " + fmtAny(c["scopes"])
	}
	return out
}

// TestOIDCConsents_APersonWithdrawsTheirConsentToAClientOnlyTheirs: a
// person withdraws the consent they gave a client: it is no longer listed,
// the person's other consents and another person's consent to the same
// client stay. A client they gave no consent to, an ID that is none, a key
// and nobody are refused, and change nothing.
func TestOIDCConsents_APersonWithdrawsTheirConsentToAClientOnlyTheirs(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		c := env.Client()
		_, instanceKey, err := env.App.Team.CreateKey(t.Context(), instanceActor(t, env), nil, teamNewKey("vendor backend"))
		if err != nil {
			t.Fatal(err)
		}
		var apps []string
		for _, name := range []string{"Vendor app", "Other app", "Unused app"} {
			r := call(t, c, "POST", env.URL+"/api/v1/oidc-clients", map[string]any{"name": name,
				"redirect_uris": []string{"https://app.example.com/cb"}, "scopes": []string{"accounts"}}, bearer(instanceKey)...)
			if r.Status != 201 {
				t.Fatalf("client: %d %s", r.Status, r.Raw)
			}
			apps = append(apps, r.JSON["id"].(string))
		}
		a := newTenant(t, env, "owner@a.example")
		other := env.AddMember(t, a.account, "other@a.example", "collaborator", equipe.MemberActive)
		now := time.Now()
		giveOIDCConsent(t, env, a.adminID, equipe.MustParse(apps[0]), now, "openid", "accounts")
		giveOIDCConsent(t, env, a.adminID, equipe.MustParse(apps[1]), now, "openid")
		giveOIDCConsent(t, env, other.User.ID, equipe.MustParse(apps[0]), now, "openid")
		before := consentedClients(t, env, a.admin)
		if len(before) != 2 || before[apps[0]] != "Vendor app [openid accounts]" {
			t.Fatalf("the consents given: %v", before)
		}
		url := func(client string) string { return env.URL + "/api/v1/me/oidc-consents/" + client }

		// Refused: a client the person gave no consent to (an unknown one
		// and an ID that is none alike), a key, nobody.
		for _, id := range []string{apps[2], equipe.NewID().String(), "nope"} {
			if r := call(t, c, "DELETE", url(id), nil, bearer(a.admin)...); r.Status != 404 || r.code() != "error.not_found" {
				t.Errorf("a client without consent (%s): %d %s", id, r.Status, r.Raw)
			}
		}
		if r := call(t, c, "DELETE", url(apps[0]), nil, bearer(a.key(t, "admin"))...); r.Status != 403 {
			t.Errorf("an account key: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "DELETE", url(apps[0]), nil); r.Status != 401 {
			t.Errorf("nobody: %d %s", r.Status, r.Raw)
		}
		if got := consentedClients(t, env, a.admin); fmtAny(got) != fmtAny(before) {
			t.Errorf("a refusal changed the consents: %v", got)
		}

		if r := call(t, c, "DELETE", url(apps[0]), nil, bearer(a.admin)...); r.Status != 204 || len(r.Raw) != 0 {
			t.Fatalf("withdraw: %d %s", r.Status, r.Raw)
		}
		if got := consentedClients(t, env, a.admin); len(got) != 1 || got[apps[1]] != "Other app [openid]" {
			t.Errorf("the consents after the withdrawal: %v", got)
		}
		if got := consentedClients(t, env, other.Token); len(got) != 1 || got[apps[0]] != "Vendor app [openid]" {
			t.Errorf("another person's consent to the client: %v", got)
		}
		// Withdrawn once: there is no consent left to withdraw.
		if r := call(t, c, "DELETE", url(apps[0]), nil, bearer(a.admin)...); r.Status != 404 {
			t.Errorf("withdraw again: %d %s", r.Status, r.Raw)
		}
	})
}
