package api_test

import (
	"testing"

	"github.com/equipe-dev/equipe/app/apptest"
)

// An account's administrator deletes it through the API: 204, then the
// account is gone for everyone (its pages 404, its keys 401, checks about it
// an unknown account), its members keep their identity, and an instance
// key's change stream carries account.deleted. Those who may not are
// refused.
func TestDeleteAccount_GoneForEveryoneAndToldToTheInstance(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@closing.example")
		collab := env.AddMember(t, a.account, "collab@closing.example", "collaborator", "active")
		manager := env.AddMember(t, a.account, "manager@closing.example", "manager", "active")
		key := a.key(t, "admin")
		_, instKey, err := env.App.Team.CreateKey(t.Context(), instanceActor(t, env), nil, teamNewKey("vendor"))
		if err != nil {
			t.Fatal(err)
		}
		_, from := changesOf(t, env, instKey, "", "", 200)

		if r := call(t, env.Client(), "DELETE", a.url(""), nil, bearer(key)...); r.Status != 403 ||
			r.JSON["code"] != "account.delete_by_person" {
			t.Fatalf("the account's own key: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "DELETE", a.url(""), nil, bearer(manager.Token)...); r.Status != 403 {
			t.Fatalf("a manager: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", a.url(""), nil, bearer(a.admin)...); r.Status != 200 {
			t.Fatalf("refusals deleted the account: %d", r.Status)
		}

		if r := call(t, env.Client(), "DELETE", a.url(""), nil, bearer(a.admin)...); r.Status != 204 {
			t.Fatalf("the administrator deletes it: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", a.url(""), nil, bearer(a.admin)...); r.Status != 404 {
			t.Errorf("the account after its deletion: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", a.url("/members"), nil, bearer(key)...); r.Status != 401 {
			t.Errorf("its key after the deletion: %d %s", r.Status, r.Raw)
		}
		r := call(t, env.Client(), "POST", env.URL+"/api/v1/check", map[string]any{"user_id": collab.User.ID.String(),
			"account_id": a.account.String(), "permission": "records.view"}, bearer(instKey)...)
		if r.Status != 200 || r.JSON["allowed"] != false || r.JSON["reason"] != "denied_unknown_account" {
			t.Errorf("a check about it: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", env.URL+"/api/v1/me", nil, bearer(collab.Token)...); r.Status != 200 {
			t.Errorf("a member's identity after the deletion: %d %s", r.Status, r.Raw)
		}
		events, _ := changesOf(t, env, instKey, from, "&types=account.deleted", 200)
		if len(events) != 1 || events[0]["subject"].(map[string]any)["id"] != a.account.String() {
			t.Errorf("the instance's stream: %v", events)
		}
	})
}
