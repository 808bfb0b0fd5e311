package scim_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// TestTenants_AKeyOfOneAccountNeverSeesAnother: whatever a key of account
// A asks, B's members are not found, not listed, not changed.
func TestTenants_AKeyOfOneAccountNeverSeesAnother(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a, b := newTenant(t, env), newTenant(t, env)
		r := b.call(t, "POST", "/Users", newUser(map[string]any{"userName": "bea@" + b.domain, "externalId": "shared-ext"}), http.StatusCreated)
		bea := r.JSON["id"].(string)
		a.call(t, "POST", "/Users", newUser(map[string]any{"userName": "al@" + a.domain, "externalId": "shared-ext"}), http.StatusCreated)

		for _, f := range []string{`userName eq "bea@` + b.domain + `"`, `id eq "` + bea + `"`, `emails.value eq "bea@` + b.domain + `"`} {
			resources(t, a.call(t, "GET", query("/Users", f), nil, http.StatusOK), 0)
		}
		r = a.call(t, "GET", query("/Users", `externalId eq "shared-ext"`), nil, http.StatusOK)
		if got := resources(t, r, 1); got[0]["userName"] != "al@"+a.domain {
			t.Fatalf("found %v", got[0]["userName"])
		}
		list := resources(t, a.call(t, "GET", "/Users", nil, http.StatusOK), 2)
		for _, u := range list {
			if u["id"] == bea {
				t.Fatal("B's member listed to A")
			}
		}
		scimError(t, do(t, env, "GET", "/scim/v2/Users/"+bea, a.key, nil), http.StatusNotFound, "")
		scimError(t, do(t, env, "PATCH", "/scim/v2/Users/"+bea, a.key, patchOp(map[string]any{"op": "replace", "path": "active", "value": false})),
			http.StatusNotFound, "")
		scimError(t, do(t, env, "DELETE", "/scim/v2/Users/"+bea, a.key, nil), http.StatusNotFound, "")
		scimError(t, do(t, env, "PATCH", "/scim/v2/Groups/manager", a.key, patchOp(map[string]any{"op": "add", "path": "members",
			"value": []map[string]any{{"value": bea}}})), http.StatusBadRequest, "invalidValue")
		r = a.call(t, "GET", "/Groups/guest", nil, http.StatusOK)
		for _, m := range r.JSON["members"].([]any) {
			if m.(map[string]any)["value"] == bea {
				t.Fatal("B's member in A's group")
			}
		}
		if m, _ := b.member(t, bea); m.Status == equipe.MemberSuspended || m.Role != "guest" {
			t.Fatalf("B's member changed: %+v", m)
		}
	})
}

// TestRules_SCIMCannotRemoveOrDemoteTheLastAdministrator: suspending,
// deleting or taking the last active administrator out of the
// administrators' group is refused, and changes nothing.
func TestRules_SCIMCannotRemoveOrDemoteTheLastAdministrator(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		tn := newTenant(t, env)
		admin := tn.admin.User.ID.String()
		scimError(t, do(t, env, "PATCH", "/scim/v2/Users/"+admin, tn.key, patchOp(map[string]any{"op": "replace", "path": "active", "value": false})),
			http.StatusConflict, "")
		scimError(t, do(t, env, "DELETE", "/scim/v2/Users/"+admin, tn.key, nil), http.StatusConflict, "")
		scimError(t, do(t, env, "PATCH", "/scim/v2/Groups/admin", tn.key, patchOp(map[string]any{"op": "remove",
			"path": `members[value eq "` + admin + `"]`})), http.StatusConflict, "")
		scimError(t, do(t, env, "PUT", "/scim/v2/Groups/admin", tn.key, map[string]any{"displayName": "Administrator",
			"members": []any{}}), http.StatusConflict, "")
		if m, _ := tn.member(t, admin); m.Status != equipe.MemberActive || m.Role != "admin" {
			t.Fatalf("admin changed: %+v", m)
		}
	})
}

// TestRules_AKeyGrantsNoMoreThanItsRole: a SCIM key with the manager role
// adds and suspends members but makes no administrator.
func TestRules_AKeyGrantsNoMoreThanItsRole(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		tn := newTenant(t, env)
		_, key, err := env.App.Team.CreateKey(t.Context(), tn.actor(), &tn.account,
			team.NewKey{Name: "Okta", Role: "manager", Purpose: equipe.KeySCIM})
		if err != nil {
			t.Fatal(err)
		}
		r := do(t, env, "POST", "/scim/v2/Users", key, newUser(map[string]any{"userName": "new@" + tn.domain}))
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		id := r.JSON["id"].(string)
		scimError(t, do(t, env, "PATCH", "/scim/v2/Groups/admin", key, patchOp(map[string]any{"op": "add", "path": "members",
			"value": []map[string]any{{"value": id}}})), http.StatusForbidden, "")
		if m, _ := tn.member(t, id); m.Role != "guest" {
			t.Fatalf("role %s", m.Role)
		}
	})
}

// TestAccess_OnlyASCIMKeyOfAnAccountThatTurnedSCIMOn: a SCIM key opens
// SCIM and nothing of the JSON API; an ordinary key, a session or no
// credential opens no SCIM resource; an account with SCIM off refuses its
// key; discovery needs no key.
func TestAccess_OnlyASCIMKeyOfAnAccountThatTurnedSCIMOn(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		tn := newTenant(t, env)
		r := do(t, env, "GET", "/api/v1/accounts/"+tn.account.String()+"/members", tn.key, nil)
		if r.Status != http.StatusForbidden || r.JSON["code"] != "api_key.scim_only" {
			t.Fatalf("API with a SCIM key: %d %s", r.Status, r.Raw)
		}
		r = do(t, env, "POST", "/access/v1/evaluation", tn.key, `{"subject":{"type":"user","id":"x"},"action":{"name":"members.view"},"resource":{"type":"account","id":"`+tn.account.String()+`"}}`)
		if r.Status != http.StatusForbidden {
			t.Fatalf("AuthZEN with a SCIM key: %d %s", r.Status, r.Raw)
		}
		_, plain, err := env.App.Team.CreateKey(t.Context(), tn.actor(), &tn.account, team.NewKey{Name: "backend", Role: "admin"})
		if err != nil {
			t.Fatal(err)
		}
		scimError(t, do(t, env, "GET", "/scim/v2/Users", plain, nil), http.StatusUnauthorized, "")
		scimError(t, do(t, env, "GET", "/scim/v2/Users", tn.admin.Token, nil), http.StatusUnauthorized, "")
		scimError(t, do(t, env, "GET", "/scim/v2/Users", "", nil), http.StatusUnauthorized, "")
		scimError(t, do(t, env, "GET", "/scim/v2/Users", "equipe_"+"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", nil), http.StatusUnauthorized, "")
		if _, _, err := env.App.Team.CreateKey(t.Context(), tn.actor(), nil, team.NewKey{Name: "x", Purpose: equipe.KeySCIM}); equipe.ErrorCode(err) == "" {
			t.Fatal("an instance SCIM key was made")
		}

		off := false
		if _, err := env.App.Team.UpdateAccount(t.Context(), tn.actor(), tn.account, team.AccountChange{SCIMEnabled: &off}); err != nil {
			t.Fatal(err)
		}
		scimError(t, do(t, env, "GET", "/scim/v2/Users", tn.key, nil), http.StatusForbidden, "")

		for _, p := range []string{"/ServiceProviderConfig", "/ResourceTypes", "/ResourceTypes/User", "/Schemas",
			"/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group"} {
			if r := do(t, env, "GET", "/scim/v2"+p, "", nil); r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/scim+json" {
				t.Fatalf("%s: %d %s", p, r.Status, r.Raw)
			}
		}
		scimError(t, do(t, env, "GET", "/scim/v2/Nothing", tn.key, nil), http.StatusNotFound, "")
	})
}

// TestRequests_BadInputIsRefusedAndChangesNothing: malformed bodies,
// patches and values answer the RFC's error with its scimType.
func TestRequests_BadInputIsRefusedAndChangesNothing(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		tn := newTenant(t, env)
		r := tn.call(t, "POST", "/Users", newUser(map[string]any{"userName": "kim@" + tn.domain, "title": "Clerk",
			"name": map[string]any{"givenName": "Kim", "familyName": "Lee"}}), http.StatusCreated)
		id := r.JSON["id"].(string)
		users := "/scim/v2/Users/" + id
		for _, c := range []struct {
			method, path string
			body         any
			status       int
			scimType     string
		}{
			{"POST", "/scim/v2/Users", `{"userName":`, 400, "invalidSyntax"},
			// A User names its schema (RFC 7643 3): without schemas, or
			// with a Group's, no member is added.
			{"POST", "/scim/v2/Users", map[string]any{"userName": "nos@" + tn.domain}, 400, "invalidValue"},
			{"POST", "/scim/v2/Users", map[string]any{"userName": "grp@" + tn.domain,
				"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}}, 400, "invalidSyntax"},
			{"POST", "/scim/v2/Users", newUser(map[string]any{"userName": "not an address"}), 400, "invalidValue"},
			{"POST", "/scim/v2/Users", newUser(map[string]any{"externalId": "x"}), 400, "invalidValue"},
			{"POST", "/scim/v2/Users", newUser(map[string]any{"userName": "x@" + tn.domain, "active": "maybe"}), 400, "invalidValue"},
			{"PATCH", users, map[string]any{"Operations": []any{}}, 400, "invalidSyntax"},
			{"PATCH", users, patchOp(map[string]any{"op": "move", "path": "title", "value": "x"}), 400, "invalidSyntax"},
			{"PATCH", users, patchOp(map[string]any{"op": "replace", "path": "title[", "value": "x"}), 400, "invalidPath"},
			{"PATCH", users, patchOp(map[string]any{"op": "replace", "path": "shoeSize", "value": 42}), 400, "invalidPath"},
			{"PATCH", users, patchOp(map[string]any{"op": "remove"}), 400, "noTarget"},
			{"PATCH", users, patchOp(map[string]any{"op": "replace", "path": "id", "value": "x"}), 400, "mutability"},
			{"PATCH", users, patchOp(map[string]any{"op": "replace", "path": "userName", "value": "y@" + tn.domain}), 400, "mutability"},
			{"PATCH", users, patchOp(map[string]any{"op": "replace", "path": "title", "value": 7}), 400, "invalidValue"},
			// The names a directory sends are not kept (see
			// TestUsers_TheNamesADirectorySendsAreNotKeptAndTheRestGoesThrough),
			// but they must have the form of names.
			{"PATCH", users, patchOp(map[string]any{"op": "replace", "path": "name.familyName", "value": 7}), 400, "invalidValue"},
			{"PATCH", users, patchOp(map[string]any{"op": "replace", "path": "displayName", "value": []any{"x"}}), 400, "invalidValue"},
			{"PATCH", users, patchOp(map[string]any{"op": "replace", "path": "name", "value": "Augusta King"}), 400, "invalidValue"},
			{"PUT", users, newUser(map[string]any{"userName": "kim@" + tn.domain, "title": "Boss", "name": map[string]any{"givenName": true}}), 400, "invalidValue"},
			// The change is refused whole: the title set first stays as it was.
			{"PATCH", users, patchOp(map[string]any{"op": "replace", "path": "title", "value": "Boss"},
				map[string]any{"op": "replace", "path": "title", "value": "<b>"}), 400, "invalidValue"},
			{"PATCH", "/scim/v2/Groups/manager", patchOp(map[string]any{"op": "replace", "path": "displayName", "value": "Chiefs"}), 400, "mutability"},
			{"GET", "/scim/v2/Users?startIndex=x", nil, 400, "invalidValue"},
			// A query that does not parse, or gives a parameter twice, is
			// not read in part.
			{"GET", "/scim/v2/Users?filter=userName%20eq%20%zz", nil, 400, "invalidSyntax"},
			{"GET", "/scim/v2/Users?count=1;startIndex=2", nil, 400, "invalidSyntax"},
			{"GET", "/scim/v2/Users?startIndex=1&count=1&startIndex=2", nil, 400, "invalidSyntax"},
		} {
			t.Run(c.method+" "+c.scimType, func(t *testing.T) {
				scimError(t, do(t, env, c.method, c.path, tn.key, c.body), c.status, c.scimType)
			})
		}
		r = tn.call(t, "GET", "/Users/"+id, nil, http.StatusOK)
		if n, _ := r.JSON["name"].(map[string]any); r.JSON["title"] != "Clerk" || n["givenName"] != "Kim" || n["familyName"] != "Lee" {
			t.Fatalf("changed: %s", r.Raw)
		}
		resources(t, tn.call(t, "GET", "/Users", nil, http.StatusOK), 2)
	})
}

// TestUsers_TheNamesADirectorySendsAreNotKeptAndTheRestGoesThrough: once
// a member is added, the names are taken from them or the person, not from
// the directory, which sends its own with every change when they differ
// (Entra ID's default mappings, Okta's profile push): a PATCH or PUT that
// carries other names is answered 200, keeps the names as they were, and
// applies the rest, a deactivation included; sent again, the same.
func TestUsers_TheNamesADirectorySendsAreNotKeptAndTheRestGoesThrough(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		tn := newTenant(t, env)
		r := tn.call(t, "POST", "/Users", newUser(map[string]any{"userName": "kim@" + tn.domain, "title": "Clerk",
			"name": map[string]any{"givenName": "Kim", "familyName": "Lee"}}), http.StatusCreated)
		id := r.JSON["id"].(string)
		names := func(r response) {
			t.Helper()
			if n, _ := r.JSON["name"].(map[string]any); n["givenName"] != "Kim" || n["familyName"] != "Lee" || r.JSON["displayName"] != "Kim Lee" {
				t.Fatalf("the names changed: %s", r.Raw)
			}
		}
		// Entra ID: the names it holds, and the deactivation, in one PATCH.
		deactivate := patchOp(
			map[string]any{"op": "Replace", "path": "displayName", "value": "Kimberly Lee-King"},
			map[string]any{"op": "Replace", "path": "name.givenName", "value": "Kimberly"},
			map[string]any{"op": "Replace", "path": "name.familyName", "value": "Lee-King"},
			map[string]any{"op": "Replace", "path": "active", "value": "False"})
		for range 2 {
			r = tn.call(t, "PATCH", "/Users/"+id, deactivate, http.StatusOK)
			names(r)
			if r.JSON["active"] != false {
				t.Fatalf("not deactivated: %s", r.Raw)
			}
		}
		if m, _ := tn.member(t, id); m.Status != equipe.MemberSuspended {
			t.Fatalf("status %s", m.Status)
		}
		// Okta: a PUT of the whole user with its names and a new title.
		r = tn.call(t, "PUT", "/Users/"+id, newUser(map[string]any{"userName": "kim@" + tn.domain, "title": "Boss", "active": false,
			"name": map[string]any{"givenName": "Kimberly", "familyName": "Lee-King"}}), http.StatusOK)
		names(r)
		if r.JSON["title"] != "Boss" {
			t.Fatalf("title: %s", r.Raw)
		}
		// Removed, or given without a path: the same.
		names(tn.call(t, "PATCH", "/Users/"+id, patchOp(map[string]any{"op": "remove", "path": "name.givenName"},
			map[string]any{"op": "replace", "value": map[string]any{"name.familyName": "King"}}), http.StatusOK))
		names(tn.call(t, "GET", "/Users/"+id, nil, http.StatusOK))
	})
}

// TestRules_AGroupPatchIsAllOrNothing: a PATCH of the managers' group that
// adds one member and then takes the last administrator out of the
// administrators' group is refused, and the member it added first keeps
// their role: the request's changes commit together or not at all. The
// same changes without the refused one go through.
func TestRules_AGroupPatchIsAllOrNothing(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		tn := newTenant(t, env)
		admin := tn.admin.User.ID.String()
		r := do(t, env, "POST", "/scim/v2/Users", tn.key, newUser(map[string]any{"userName": "new@" + tn.domain}))
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		id := r.JSON["id"].(string)
		scimError(t, do(t, env, "PATCH", "/scim/v2/Groups/admin", tn.key, patchOp(
			map[string]any{"op": "add", "path": "members", "value": []map[string]any{{"value": id}}},
			map[string]any{"op": "remove", "path": "members", "value": []map[string]any{{"value": admin}, {"value": id}}},
		)), http.StatusConflict, "")
		if m, _ := tn.member(t, id); m.Role != "guest" {
			t.Fatalf("a refused PATCH changed the first member: role %s", m.Role)
		}
		if m, _ := tn.member(t, admin); m.Role != "admin" {
			t.Fatalf("admin changed: %+v", m)
		}
		if r := do(t, env, "PATCH", "/scim/v2/Groups/admin", tn.key, patchOp(
			map[string]any{"op": "add", "path": "members", "value": []map[string]any{{"value": id}}},
		)); r.Status != http.StatusNoContent {
			t.Fatalf("the same add alone: %d %s", r.Status, r.Raw)
		}
		if m, _ := tn.member(t, id); m.Role != "admin" {
			t.Fatalf("role after the add alone: %s", m.Role)
		}
	})
}

// TestRules_AReactivationWhoseInvitationIsRefusedChangesNothing: a user
// created inactive is sent their invitation when the directory activates
// them. While the account's invitations are throttled, the PATCH is
// answered 429, with Retry-After and a detail that says how long to wait,
// and changes nothing: the member stays suspended, their title as it was,
// and no invitation goes out. Once the limit lifts, the same PATCH (the
// directory's retry) reactivates and invites them.
func TestRules_AReactivationWhoseInvitationIsRefusedChangesNothing(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		tn := newTenant(t, env)
		// An active user: the account's invitation counter exists.
		tn.call(t, "POST", "/Users", newUser(map[string]any{"userName": "first@" + tn.domain}), http.StatusCreated)
		later := "later@" + tn.domain
		r := tn.call(t, "POST", "/Users", newUser(map[string]any{"userName": later, "title": "Clerk", "active": false}), http.StatusCreated)
		id := r.JSON["id"].(string)
		raw := storetest.Raw(t, env.DB)
		counter := "invite:account:" + tn.account.String()
		setCount := func(n int) {
			t.Helper()
			res, err := raw.Exec(`UPDATE throttles SET count = $1 WHERE key = $2`, n, counter)
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				t.Fatal("no invitation counter for the account")
			}
		}
		setCount(200)
		activate := patchOp(map[string]any{"op": "replace", "path": "title", "value": "Engineer"},
			map[string]any{"op": "replace", "path": "active", "value": true})
		r = do(t, env, "PATCH", "/scim/v2/Users/"+id, tn.key, activate)
		scimError(t, r, http.StatusTooManyRequests, "")
		if d := r.JSON["detail"].(string); strings.Contains(d, "{") || !strings.Contains(d, " min") {
			t.Errorf("the detail does not say how long to wait: %q", d)
		}
		if r.Header.Get("Retry-After") == "" {
			t.Error("no Retry-After")
		}
		if m, _ := tn.member(t, id); m.Status != equipe.MemberSuspended || m.Title != "Clerk" || m.InvitationsSent != 0 {
			t.Errorf("the refused PATCH changed the member: %s, %q, %d invitations", m.Status, m.Title, m.InvitationsSent)
		}
		if slices.Contains(env.Outbox(t, mail.TemplateInvitation), later) {
			t.Error("the refused PATCH sent an invitation")
		}
		setCount(0)
		tn.call(t, "PATCH", "/Users/"+id, activate, http.StatusOK)
		if m, _ := tn.member(t, id); m.Status != equipe.MemberInvited || m.Title != "Engineer" || m.InvitationsSent != 1 {
			t.Errorf("the retry: %s, %q, %d invitations", m.Status, m.Title, m.InvitationsSent)
		}
		if got := env.Outbox(t, mail.TemplateInvitation); !slices.Contains(got, later) {
			t.Errorf("the retry sent no invitation: %v", got)
		}
	})
}

// TestErrors_InEnglishUnlessAskedOtherwise: a directory seldom says which
// language it reads; its errors are in English then, whatever the
// account's language (French here) and before the key is even checked,
// and in the one asked for when Accept-Language says.
func TestErrors_InEnglishUnlessAskedOtherwise(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		tn := newTenant(t, env)
		fr := equipe.LocaleFR
		if _, err := env.App.Team.UpdateAccount(t.Context(), tn.actor(), tn.account, team.AccountChange{Locale: &fr}); err != nil {
			t.Fatal(err)
		}
		path := "/scim/v2/Users/" + equipe.NewID().String()
		if r := do(t, env, "GET", path, tn.key, nil); r.Status != 404 || r.JSON["detail"] != "Not found" {
			t.Errorf("no language asked: %d %s", r.Status, r.Raw)
		}
		if r := do(t, env, "GET", path, "", nil); r.Status != 401 || r.JSON["detail"] == "" || strings.ContainsAny(r.JSON["detail"].(string), "éè") {
			t.Errorf("no key, no language asked: %d %s", r.Status, r.Raw)
		}
		req, _ := http.NewRequest("GET", env.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tn.key)
		req.Header.Set("Accept-Language", "fr-FR")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != 404 || body["detail"] != "Introuvable" {
			t.Errorf("French asked: %d %v %v", res.StatusCode, body, err)
		}
	})
}

// TestRequests_AnotherMethodOnAKnownPathIs405: a method a path does not
// have answers 405 with the ones it has, as a SCIM error; an unknown path
// stays 404.
func TestRequests_AnotherMethodOnAKnownPathIs405(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		tn := newTenant(t, env)
		for _, c := range []struct{ method, path, allow string }{
			{"DELETE", "/scim/v2/Users", "GET, POST"},
			{"POST", "/scim/v2/Users/" + tn.admin.User.ID.String(), "GET, PUT, PATCH, DELETE"},
			{"POST", "/scim/v2/ServiceProviderConfig", "GET"},
			{"DELETE", "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "GET"},
		} {
			r := do(t, env, c.method, c.path, tn.key, nil)
			scimError(t, r, http.StatusMethodNotAllowed, "")
			if got := r.Header.Get("Allow"); got != c.allow {
				t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
			}
		}
		scimError(t, do(t, env, "GET", "/scim/v2/Widgets", tn.key, nil), http.StatusNotFound, "")
	})
}

// TestGroups_TheNameIsComparedWithoutRegardToCase: a group's displayName is
// caseExact false (RFC 7643 2.2), as a filter finds it: the name a
// directory found by a filter in another case, sent back by PUT or PATCH,
// is the group's own and changes nothing; another name is still a rename,
// refused.
func TestGroups_TheNameIsComparedWithoutRegardToCase(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		tn := newTenant(t, env)
		admin := tn.admin.User.ID.String()
		found := resources(t, tn.call(t, "GET", query("/Groups", `displayName eq "MANAGER"`), nil, http.StatusOK), 1)
		if found[0]["id"] != "manager" {
			t.Fatalf("the filter found %v", found[0])
		}
		tn.call(t, "PUT", "/Groups/manager", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
			"displayName": "MANAGER", "members": []any{}}, http.StatusOK)
		tn.call(t, "PATCH", "/Groups/admin", patchOp(map[string]any{"op": "replace", "path": "displayName", "value": "ADMIN"}),
			http.StatusNoContent)
		tn.call(t, "PATCH", "/Groups/manager", patchOp(map[string]any{"op": "replace", "value": map[string]any{"displayName": "manager"}}),
			http.StatusNoContent)
		scimError(t, do(t, env, "PUT", "/scim/v2/Groups/admin", tn.key, map[string]any{"displayName": "Administrators",
			"members": []map[string]any{{"value": admin}}}), http.StatusBadRequest, "mutability")
		if m, _ := tn.member(t, admin); m.Role != "admin" {
			t.Fatalf("admin changed: %+v", m)
		}
	})
}

// TestMe_IsNotImplemented: the service has no /Me (RFC 7644 3.11: a
// provider without it answers 501), whatever the method, with or without
// a key, as a SCIM error.
func TestMe_IsNotImplemented(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		tn := newTenant(t, env)
		for _, key := range []string{tn.key, ""} {
			for _, c := range []struct{ method, path string }{
				{"GET", "/scim/v2/Me"}, {"PUT", "/scim/v2/Me"}, {"PATCH", "/scim/v2/Me"}, {"DELETE", "/scim/v2/Me"},
				{"POST", "/scim/v2/Me"}, {"GET", "/scim/v2/Me/groups"},
			} {
				var body any
				if c.method != "GET" && c.method != "DELETE" {
					body = newUser(map[string]any{"userName": "me@" + tn.domain})
				}
				scimError(t, do(t, env, c.method, c.path+"?attributes=userName", key, body), http.StatusNotImplemented, "")
			}
		}
		if _, ok := tn.member(t, tn.admin.User.ID.String()); !ok {
			t.Fatal("the administrator is gone")
		}
	})
}
