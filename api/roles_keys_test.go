package api_test

import (
	"testing"

	"github.com/equipe-dev/equipe"

	"github.com/equipe-dev/equipe/app/apptest"
)

// The reviewer's case: a key whose role was deleted kept answering 403 while
// listed active, then took the rights of a role re-created under its key.
func TestRoles_DeletingARoleAKeyHoldsMovesTheKey(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		r := call(t, env.Client(), "POST", a.url("/roles"), map[string]any{"key": "closed", "label_en": "Closed",
			"permissions": map[string]any{"members.view": true}}, bearer(a.admin)...)
		if r.Status != 201 {
			t.Fatalf("create the role: %d %s", r.Status, r.Raw)
		}
		key := a.key(t, "closed")
		if r := call(t, env.Client(), "DELETE", a.url("/roles/closed"), nil, bearer(a.admin)...); r.Status != 409 || r.code() != "role.in_use" {
			t.Fatalf("delete a role a key holds, without a replacement: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "DELETE", a.url("/roles/closed?replacement=guest"), nil, bearer(a.admin)...); r.Status != 204 {
			t.Fatalf("delete with a replacement: %d %s", r.Status, r.Raw)
		}
		r = call(t, env.Client(), "POST", a.url("/roles"), map[string]any{"key": "closed", "label_en": "Closed again",
			"permissions": map[string]any{"members.view": true, "billing.access": true}}, bearer(a.admin)...)
		if r.Status != 201 {
			t.Fatalf("create the role again: %d %s", r.Status, r.Raw)
		}
		list := call(t, env.Client(), "GET", a.url("/api-keys"), nil, bearer(a.admin)...)
		if k := list.JSON["items"].([]any)[0].(map[string]any); k["role"] != "guest" || k["status"] != "active" {
			t.Fatalf("the key after the deletion: %v", k)
		}
		if r := call(t, env.Client(), "GET", a.url("/members"), nil, bearer(key)...); r.Status != 200 {
			t.Fatalf("the key acts with its replacement role: %d %s", r.Status, r.Raw)
		}
	})
}

// Creating a role needs roles.manage alone: a creator who may not view the
// members is answered with the role, not refused after it was written.
func TestRoles_ACreatorWhoMayNotViewMembersGetsTheRole(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		r := call(t, env.Client(), "POST", a.url("/roles"), map[string]any{"key": "rm", "label_en": "Role manager",
			"permissions": map[string]any{"roles.manage": true, "members.view": true}}, bearer(a.admin)...)
		if r.Status != 201 {
			t.Fatalf("create rm: %d %s", r.Status, r.Raw)
		}
		carl := env.AddMember(t, a.account, "carl@a.example", "rm", equipe.MemberActive)
		r = call(t, env.Client(), "PATCH", a.url("/members/"+carl.User.ID.String()),
			map[string]any{"overrides": map[string]any{"members.view": map[string]any{"allow": false}}}, bearer(a.admin)...)
		if r.Status != 200 {
			t.Fatalf("override: %d %s", r.Status, r.Raw)
		}
		r = call(t, env.Client(), "POST", a.url("/roles"), map[string]any{"label_en": "Viewer2", "restricted": true,
			"permissions": map[string]any{"roles.manage": true}}, bearer(carl.Token)...)
		if r.Status != 201 || r.JSON["key"] != "viewer2" || r.Header.Get("Location") != "/api/v1/accounts/"+a.account.String()+"/roles/viewer2" {
			t.Fatalf("create as carl: %d %s", r.Status, r.Raw)
		}
	})
}
