package api_test

import (
	"testing"

	"github.com/equipe-dev/equipe/app/apptest"
)

func TestOIDCClients_AnInstanceKeyRegistersRotatesAndDeletesAClientOthersAreRefused(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		c := env.Client()
		_, key, err := env.App.Team.CreateKey(t.Context(), instanceActor(t, env), nil, teamNewKey("vendor backend"))
		if err != nil {
			t.Fatal(err)
		}
		base := env.URL + "/api/v1/oidc-clients"

		r := call(t, c, "POST", base, map[string]any{"name": "", "redirect_uris": []string{"http://app.example.com/cb"},
			"scopes": []string{"root"}}, bearer(key)...)
		if r.Status != 422 || r.fieldCodes()["name"] != "name.required" || r.fieldCodes()["redirect_uris"] != "oidc_client.uri_https" ||
			r.fieldCodes()["scopes"] != "oidc_client.scope_unknown" {
			t.Errorf("bad client: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", base, nil, bearer(key)...); r.Status != 200 || len(r.JSON["items"].([]any)) != 0 {
			t.Errorf("a refusal made a client: %d %s", r.Status, r.Raw)
		}

		r = call(t, c, "POST", base, map[string]any{"name": "Vendor app", "redirect_uris": []string{"https://app.example.com/cb"},
			"post_logout_redirect_uris": []string{"https://app.example.com/"}, "scopes": []string{"accounts", "offline_access"}},
			bearer(key)...)
		secret, _ := r.JSON["client_secret"].(string)
		if r.Status != 201 || secret == "" || r.Header.Get("Location") != "/api/v1/oidc-clients/"+r.JSON["id"].(string) {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		loc := env.URL + r.Header.Get("Location")
		if r := call(t, c, "GET", loc, nil, bearer(key)...); r.Status != 200 || r.JSON["client_secret"] != nil ||
			r.JSON["name"] != "Vendor app" {
			t.Errorf("read: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "POST", base, map[string]any{"name": "again", "redirect_uris": []string{"https://app.example.com/cb"}},
			append(bearer(key), "Idempotency-Key", "k1")...); r.Status != 400 || r.code() != "idempotency.secret_answer" {
			t.Errorf("an idempotent creation: %d %s", r.Status, r.Raw)
		}
		r = call(t, c, "POST", loc+"/rotate-secret", nil, bearer(key)...)
		if again, _ := r.JSON["client_secret"].(string); r.Status != 200 || again == "" || again == secret {
			t.Errorf("rotate: %d %s", r.Status, r.Raw)
		}

		// The client is changed after its registration: a bad field changes
		// nothing, the members sent change, the others stay.
		if r := call(t, c, "PATCH", loc, map[string]any{"name": "Renamed", "redirect_uris": []string{"ftp://x"}}, bearer(key)...); r.Status != 422 ||
			r.fieldCodes()["redirect_uris"] != "oidc_client.uri_https" {
			t.Errorf("a bad change: %d %s", r.Status, r.Raw)
		}
		r = call(t, c, "PATCH", loc, map[string]any{"name": "Vendor app 2", "redirect_uris": []string{"https://app.example.com/cb2"},
			"first_party": true, "scopes": []string{"profile"}}, bearer(key)...)
		if r.Status != 200 || r.JSON["name"] != "Vendor app 2" || r.JSON["first_party"] != true ||
			r.JSON["redirect_uris"].([]any)[0] != "https://app.example.com/cb2" ||
			r.JSON["post_logout_redirect_uris"].([]any)[0] != "https://app.example.com/" || len(r.JSON["scopes"].([]any)) != 2 {
			t.Errorf("change: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", loc, nil, bearer(key)...); r.JSON["name"] != "Vendor app 2" {
			t.Errorf("the change was not kept: %s", r.Raw)
		}

		// An account's administrator is no instance administrator.
		a := newTenant(t, env, "owner@a.example")
		if r := call(t, c, "PATCH", loc, map[string]any{"name": "Mine"}, bearer(a.admin)...); r.Status != 403 {
			t.Errorf("change by an account's administrator: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", base, nil, bearer(a.admin)...); r.Status != 403 || r.code() != "oidc_client.instance_admin_only" {
			t.Errorf("list by an account's administrator: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "DELETE", loc, nil, bearer(a.admin)...); r.Status != 403 {
			t.Errorf("delete by an account's administrator: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "DELETE", loc, nil, bearer(key)...); r.Status != 204 {
			t.Errorf("delete: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", loc, nil, bearer(key)...); r.Status != 404 {
			t.Errorf("deleted client: %d %s", r.Status, r.Raw)
		}
	})
}

// TestOIDCClients_BadInputIsNeverAServerError sends the OpenID Connect
// client and consent APIs bodies of the wrong shape, strange URLs, unknown
// IDs and bad paging, as an instance key and as a person: every answer is a
// client error, never a 5xx.
func TestOIDCClients_BadInputIsNeverAServerError(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	_, key, err := env.App.Team.CreateKey(t.Context(), instanceActor(t, env), nil, teamNewKey("vendor backend"))
	if err != nil {
		t.Fatal(err)
	}
	person := newTenant(t, env, "owner@a.example").admin
	base := env.URL + "/api/v1/oidc-clients"
	r := call(t, env.Client(), "POST", base, map[string]any{"name": "Vendor app", "redirect_uris": []string{"https://app.example.com/cb"}},
		bearer(key)...)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	id := r.JSON["id"].(string)
	for _, token := range []string{key, person} {
		for _, b := range badBodies {
			rawCall(t, "POST", base, b, token)
			rawCall(t, "PATCH", base+"/"+id, b, token)
		}
		for _, p := range []string{"/nope", "/00000000-0000-0000-0000-000000000000", "?cursor=garbage", "?limit=-3"} {
			rawCall(t, "GET", base+p, "", token)
		}
		rawCall(t, "POST", base+"/nope/rotate-secret", "", token)
		rawCall(t, "DELETE", base+"/nope", "", token)
		rawCall(t, "DELETE", env.URL+"/api/v1/me/oidc-consents/nope", "", token)
		rawCall(t, "GET", env.URL+"/api/v1/me/oidc-consents?cursor=garbage", "", token)
		rawCall(t, "GET", env.URL+"/api/v1/me/oidc-consents?limit=-3", "", token)
	}
}
