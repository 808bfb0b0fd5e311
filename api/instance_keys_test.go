package api_test

import (
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store"
)

// TestInstanceKeys_AnInstanceAdministratorRevokesAnInstanceKeyOthersAreRefused
// revokes an instance key through DELETE /api/v1/api-keys/{key}: the key
// stops acting at once and the revocation is in the log. An account's
// administrator, an account's key, an account's key ID, an unknown or a
// malformed ID, and a second revocation are refused, and revoke nothing.
func TestInstanceKeys_AnInstanceAdministratorRevokesAnInstanceKeyOthersAreRefused(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		ctx := t.Context()
		c := env.Client()
		_, admin := instanceAdminSession(t, env)
		r := call(t, c, "POST", env.URL+"/api/v1/api-keys", map[string]any{"name": "vendor backend"}, bearer(admin)...)
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		id, secret := equipe.MustParse(r.JSON["id"].(string)), r.JSON["secret"].(string)
		keyURL := env.URL + "/api/v1/api-keys/" + id.String()
		a := newTenant(t, env, "owner@a.example")
		accountKey := a.key(t, "admin")
		accountKeyID := call(t, c, "GET", a.url("/api-keys"), nil, bearer(a.admin)...).JSON["items"].([]any)[0].(map[string]any)["id"].(string)

		refusals := []struct {
			name, url, token string
			status           int
			code             string
		}{
			{"by an account's administrator", keyURL, a.admin, 404, "error.not_found"},
			{"by an account's key", keyURL, accountKey, 404, "error.not_found"},
			{"an unknown key", env.URL + "/api/v1/api-keys/" + equipe.NewID().String(), admin, 404, "error.not_found"},
			{"an account's key on the instance's path", env.URL + "/api/v1/api-keys/" + accountKeyID, admin, 404, "error.not_found"},
			{"a malformed ID", env.URL + "/api/v1/api-keys/nope", admin, 404, "error.not_found"},
		}
		for _, tc := range refusals {
			if r := call(t, c, "DELETE", tc.url, nil, bearer(tc.token)...); r.Status != tc.status || r.code() != tc.code {
				t.Errorf("%s: %d %s", tc.name, r.Status, r.Raw)
			}
		}
		// The refusals revoked nothing: both keys still act.
		if k, err := env.App.DB.APIKey(ctx, nil, id); err != nil || !k.RevokedAt.IsZero() {
			t.Fatalf("the instance key after the refusals: %+v %v", k, err)
		}
		if r := call(t, c, "GET", env.URL+"/api/v1/api-keys", nil, bearer(secret)...); r.Status != 200 {
			t.Errorf("the instance key after the refusals: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", a.url(""), nil, bearer(accountKey)...); r.Status != 200 {
			t.Errorf("the account's key after the refusals: %d %s", r.Status, r.Raw)
		}

		if r := call(t, c, "DELETE", keyURL, nil, bearer(admin)...); r.Status != 204 || len(r.Raw) != 0 {
			t.Fatalf("revoke: %d %s", r.Status, r.Raw)
		}
		k, err := env.App.DB.APIKey(ctx, nil, id)
		if err != nil || k.RevokedAt.IsZero() || k.RevokedReason != "" {
			t.Errorf("the revoked key in the store: %+v %v", k, err)
		}
		events, err := env.App.DB.AuditEvents(ctx, store.AuditFilter{Action: "api_key.revoked", TargetID: id.String()})
		if err != nil || len(events) != 1 || events[0].AccountID != nil {
			t.Errorf("the revocation in the log: %+v %v", events, err)
		}
		if r := call(t, c, "GET", env.URL+"/api/v1/api-keys", nil, bearer(secret)...); r.Status != 401 || r.code() != "api_key.invalid" {
			t.Errorf("the revoked key: %d %s", r.Status, r.Raw)
		}
		r = call(t, c, "GET", env.URL+"/api/v1/api-keys", nil, bearer(admin)...)
		if items := r.JSON["items"].([]any); r.Status != 200 || len(items) != 1 ||
			items[0].(map[string]any)["status"] != "revoked" || items[0].(map[string]any)["revoked_at"] == nil {
			t.Errorf("the list after the revocation: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "DELETE", keyURL, nil, bearer(admin)...); r.Status != 409 || r.code() != "api_key.already_revoked" {
			t.Errorf("revoked again: %d %s", r.Status, r.Raw)
		}
	})
}
