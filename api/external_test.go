package api_test

import (
	"net/url"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
)

// TestExternalIDs_SetShownAndUsableWhereverTheAPITakesAMember: an account
// key adds a member with the vendor's identifier, changes it and clears it
// with null; a second member with it answers 409
// member.external_id_taken, an empty one, added or set, a field error, and
// none of them changes anything. The member routes and the check API take external_id:{id}; an
// identifier of another account's member names no one here (404, and
// denied_not_member), nor does one out of the caller's reach.
func TestExternalIDs_SetShownAndUsableWhereverTheAPITakesAMember(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		c := env.Client()
		a := newTenant(t, env, "owner@a.example")
		b := newTenant(t, env, "owner@b.example")
		key, bKey := a.key(t, "admin"), b.key(t, "admin")
		add := func(tn tenant, key, email string, ext any) response {
			return call(t, c, "POST", tn.url("/members"), map[string]any{"email": email, "role": "collaborator",
				"external_id": ext}, bearer(key)...)
		}
		r := add(a, key, "eve@a.example", "crm/42 é")
		if r.Status != 201 || r.JSON["external_id"] != "crm/42 é" {
			t.Fatalf("add: %d %s", r.Status, r.Raw)
		}
		eve := r.JSON["user_id"].(string)
		if r := add(a, key, "bob@a.example", "crm/42 é"); r.Status != 409 || r.code() != "member.external_id_taken" {
			t.Fatalf("a second member with the ID: %d %s", r.Status, r.Raw)
		}
		// An empty one is refused as PATCH refuses it.
		if r := add(a, key, "bob@a.example", ""); r.Status != 422 || r.fieldCodes()["external_id"] != "external_id.invalid" {
			t.Fatalf("an empty ID: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", a.url("/members?q=bob"), nil, bearer(key)...); len(r.JSON["items"].([]any)) != 0 {
			t.Fatalf("a refused member was added: %s", r.Raw)
		}
		if r := add(b, bKey, "eve@b.example", "crm/42 é"); r.Status != 201 {
			t.Fatalf("the same ID in another account: %d %s", r.Status, r.Raw)
		}
		r = add(a, key, "bob@a.example", nil)
		if r.Status != 201 || r.JSON["external_id"] != nil {
			t.Fatalf("a member without one: %d %s", r.Status, r.Raw)
		}
		bob := r.JSON["user_id"].(string)

		byExt := func(tn tenant, ext string) string { return tn.url("/members/external_id:" + url.PathEscape(ext)) }
		if r := call(t, c, "GET", byExt(a, "crm/42 é"), nil, bearer(key)...); r.Status != 200 || r.JSON["user_id"] != eve {
			t.Fatalf("a member by external ID: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", byExt(a, "CRM/42 é"), nil, bearer(key)...); r.Status != 404 {
			t.Fatalf("another case: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", byExt(b, "crm/42 é"), nil, bearer(key)...); r.Status != 404 {
			t.Fatalf("through another account's path, with this account's key: %d %s", r.Status, r.Raw)
		}
		// PATCH by external ID; "" is refused, null clears; a taken one is 409.
		patch := func(target string, body any) response {
			return call(t, c, "PATCH", target, body, bearer(key)...)
		}
		if r := patch(a.url("/members/"+bob), map[string]any{"external_id": "crm/42 é"}); r.Status != 409 || r.code() != "member.external_id_taken" {
			t.Fatalf("taken: %d %s", r.Status, r.Raw)
		}
		if r := patch(a.url("/members/"+bob), map[string]any{"external_id": ""}); r.Status != 422 || r.fieldCodes()["external_id"] != "external_id.invalid" {
			t.Fatalf("empty: %d %s", r.Status, r.Raw)
		}
		if r := patch(a.url("/members/"+bob), map[string]any{"external_id": 7}); r.Status != 422 && r.Status != 400 {
			t.Fatalf("a number: %d %s", r.Status, r.Raw)
		}
		if r := patch(byExt(a, "crm/42 é"), map[string]any{"external_id": "crm-43", "title": "Buyer"}); r.Status != 200 ||
			r.JSON["external_id"] != "crm-43" || r.JSON["title"] != "Buyer" {
			t.Fatalf("change by external ID: %d %s", r.Status, r.Raw)
		}
		// The check API names the user and the owner by external ID.
		carl := env.AddMember(t, a.account, "carl@a.example", "collaborator", equipe.MemberActive).User.ID.String()
		if r := patch(a.url("/members/"+carl), map[string]any{"external_id": "carl-1"}); r.Status != 200 {
			t.Fatalf("carl's ID: %d %s", r.Status, r.Raw)
		}
		check := func(tn tenant, key string, user string, owner any) response {
			body := map[string]any{"user_id": user, "account_id": tn.account.String(), "permission": "records.view"}
			if owner != "" {
				body["owner_id"] = owner
			}
			return checkAs(t, env, key, body)
		}
		for _, tt := range []struct {
			name, user string
			owner      any
			reason     string
		}{
			{"the user by external ID", "external_id:carl-1", "", "allowed_scope_owned_or_unassigned"},
			{"the same user by ID", carl, "", "allowed_scope_owned_or_unassigned"},
			{"their own record by external ID", "external_id:carl-1", "external_id:carl-1", "allowed"},
			{"another's record by external ID", "external_id:carl-1", "external_id:crm-43", "denied_scope"},
			{"another's record by ID", "external_id:carl-1", a.adminID.String(), "denied_scope"},
			{"a member not active yet", "external_id:crm-43", "", "denied_member_not_active"},
			{"an unknown external ID", "external_id:nobody", "", "denied_not_member"},
			{"the old external ID", "external_id:crm/42 é", "", "denied_not_member"},
		} {
			if r := check(a, key, tt.user, tt.owner); r.Status != 200 || r.JSON["reason"] != tt.reason {
				t.Errorf("%s: %d %s, want %s", tt.name, r.Status, r.Raw, tt.reason)
			}
		}
		// Account b's member has "crm/42 é": never found through account a.
		if r := check(a, key, "external_id:crm/42 é", ""); r.JSON["reason"] != "denied_not_member" {
			t.Errorf("another account's ID: %s", r.Raw)
		}
		if r := check(b, key, "external_id:crm/42 é", ""); r.JSON["reason"] != "denied_unknown_account" {
			t.Errorf("an account out of the key's reach: %s", r.Raw)
		}
		if r := patch(byExt(a, "crm-43"), map[string]any{"external_id": nil}); r.Status != 200 || r.JSON["external_id"] != nil {
			t.Fatalf("clear: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", byExt(a, "crm-43"), nil, bearer(key)...); r.Status != 404 {
			t.Fatalf("a cleared ID: %d %s", r.Status, r.Raw)
		}
		// The audit log records the changes.
		r = call(t, c, "GET", a.url("/audit?action=member.changed"), nil, bearer(a.admin)...)
		if items, _ := r.JSON["items"].([]any); r.Status != 200 || len(items) != 3 {
			t.Fatalf("audit: %d %s", r.Status, r.Raw)
		}
	})
}

// TestExternalIDs_TheInstanceSetsAUsersIDAndFindsThemByIt: PATCH
// /api/v1/users/{user} sets and clears a person's identifier for the
// instance only (an account's administrator is answered 404), 409
// user.external_id_taken when another person has it; the users routes take
// external_id:{id}, and so do the members routes of the person's accounts.
func TestExternalIDs_TheInstanceSetsAUsersIDAndFindsThemByIt(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		c := env.Client()
		a := newTenant(t, env, "owner@a.example")
		b := newTenant(t, env, "owner@b.example")
		collab := env.AddMember(t, a.account, "collab@a.example", "collaborator", equipe.MemberActive)
		_, admin := instanceAdminToken(t, env)
		users := env.URL + "/api/v1/users/"
		if r := call(t, c, "PATCH", users+collab.User.ID.String(), map[string]any{"external_id": "u-1"}, bearer(a.admin)...); r.Status != 404 {
			t.Fatalf("an account's administrator: %d %s", r.Status, r.Raw)
		}
		r := call(t, c, "PATCH", users+collab.User.ID.String(), map[string]any{"external_id": "u-1"}, bearer(admin)...)
		if r.Status != 200 || r.JSON["external_id"] != "u-1" || r.JSON["email"] != "collab@a.example" {
			t.Fatalf("set: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "PATCH", users+a.adminID.String(), map[string]any{"external_id": "u-1"}, bearer(admin)...); r.Status != 409 || r.code() != "user.external_id_taken" {
			t.Fatalf("taken: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", users+"external_id:u-1", nil, bearer(admin)...); r.Status != 200 || r.JSON["id"] != collab.User.ID.String() {
			t.Fatalf("a user by external ID: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", env.URL+"/api/v1/users?q=collab", nil, bearer(admin)...); r.Status != 200 ||
			r.JSON["items"].([]any)[0].(map[string]any)["external_id"] != "u-1" {
			t.Fatalf("the list shows it: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", a.url("/members/external_id:u-1"), nil, bearer(a.admin)...); r.Status != 200 || r.JSON["user_id"] != collab.User.ID.String() {
			t.Fatalf("the member by their user's ID: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", b.url("/members/external_id:u-1"), nil, bearer(b.admin)...); r.Status != 404 {
			t.Fatalf("in an account they are not a member of: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "PATCH", users+"external_id:u-1", map[string]any{"external_id": nil}, bearer(admin)...); r.Status != 200 || r.JSON["external_id"] != nil {
			t.Fatalf("clear: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", users+"external_id:u-1", nil, bearer(admin)...); r.Status != 404 {
			t.Fatalf("a cleared ID: %d %s", r.Status, r.Raw)
		}
	})
}
