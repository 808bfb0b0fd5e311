package scim_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/team"
)

// TestEntraID_ProvisionsUpdatesDeactivatesAndDeletes replays what Microsoft
// Entra ID sends over a user's life: it looks the user up, creates them,
// patches them (path forms, string booleans and the value map), deactivates
// and reactivates them, puts them in a group and out of it, then deletes
// them. Every change goes through the use cases: it is in the audit log with
// the SCIM key as its actor.
func TestEntraID_ProvisionsUpdatesDeactivatesAndDeletes(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		tn := newTenant(t, env)
		email := "ada.lovelace@" + tn.domain
		r := tn.call(t, "GET", query("/Users", `userName eq "`+email+`"`), nil, http.StatusOK)
		resources(t, r, 0)

		r = tn.call(t, "POST", "/Users", map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User",
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"},
			"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
			"userName":   email,
			"active":     true,
			"emails":     []map[string]any{{"primary": true, "type": "work", "value": email}},
			"meta":       map[string]any{"resourceType": "User"},
			"name":       map[string]any{"formatted": "Ada Lovelace", "familyName": "Lovelace", "givenName": "Ada"},
			"title":      "Analyst",
			"roles":      []any{},
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"department": "Engines"},
		}, http.StatusCreated)
		id, _ := r.JSON["id"].(string)
		if r.Header.Get("Location") != env.URL+"/scim/v2/Users/"+id {
			t.Fatalf("Location %q", r.Header.Get("Location"))
		}
		if r.JSON["userName"] != email || r.JSON["externalId"] != "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef" ||
			r.JSON["active"] != true || r.JSON["title"] != "Analyst" || r.JSON["displayName"] != "Ada Lovelace" {
			t.Fatalf("created: %s", r.Raw)
		}
		m, ok := tn.member(t, id)
		if !ok || m.Status != equipe.MemberInvited || m.Role != "guest" || m.ExternalID != "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef" {
			t.Fatalf("member %+v", m)
		}
		env.Mail(t, email, mail.TemplateInvitation)

		// Entra ID finds the user again by its matching attribute.
		r = tn.call(t, "GET", query("/Users", `externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`), nil, http.StatusOK)
		if got := resources(t, r, 1); got[0]["id"] != id {
			t.Fatalf("found %v", got[0]["id"])
		}
		// Creating them again is refused as a duplicate.
		scimError(t, do(t, env, "POST", "/scim/v2/Users", tn.key, newUser(map[string]any{"userName": email})), http.StatusConflict, "uniqueness")

		r = tn.call(t, "PATCH", "/Users/"+id, patchOp(
			map[string]any{"op": "Replace", "path": "title", "value": "Engineer"},
			map[string]any{"op": "Replace", "path": `emails[type eq "work"].value`, "value": strings.ToUpper(email)},
			// The names as they are, as a directory sends them with other
			// changes, go through (another value is refused: see
			// TestRequests_BadInputIsASCIMError).
			map[string]any{"op": "Replace", "path": "name.familyName", "value": "Lovelace"},
			map[string]any{"op": "Replace", "path": "displayName", "value": "ada  lovelace"},
			map[string]any{"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "7"},
		), http.StatusOK)
		if r.JSON["title"] != "Engineer" {
			t.Fatalf("patched: %s", r.Raw)
		}
		// The login email is the person's own: the address a directory
		// whose mail is not its userName sends with each change is not
		// kept, and the change goes through (here, Entra clearing the
		// external ID with null, then putting it back).
		r = tn.call(t, "PATCH", "/Users/"+id, patchOp(
			map[string]any{"op": "Replace", "path": `emails[type eq "work"].value`, "value": "other@" + tn.domain},
			map[string]any{"op": "Add", "path": `emails[type eq "home"].value`, "value": "home@" + tn.domain},
			map[string]any{"op": "Replace", "path": "externalId", "value": nil}), http.StatusOK)
		if emails := r.JSON["emails"].([]any); len(emails) != 1 || emails[0].(map[string]any)["value"] != email || r.JSON["externalId"] != nil {
			t.Fatalf("another address and a null external ID: %s", r.Raw)
		}
		r = tn.call(t, "PATCH", "/Users/"+id, patchOp(map[string]any{"op": "Replace", "path": "externalId", "value": "00u1abc"}), http.StatusOK)
		if r.JSON["externalId"] != "00u1abc" {
			t.Fatalf("the external ID again: %s", r.Raw)
		}
		// The time of the last change, since the creation (see
		// TestMeta_LastModifiedMovesWithWhatTheResourceShows).
		if m := r.JSON["meta"].(map[string]any); m["lastModified"] == nil || m["created"] == nil ||
			m["lastModified"].(string) < m["created"].(string) {
			t.Fatalf("meta %v", m)
		}

		// Deactivation, as older Entra ID sends it (a string).
		r = tn.call(t, "PATCH", "/Users/"+id, patchOp(map[string]any{"op": "Replace", "path": "active", "value": "False"}), http.StatusOK)
		if r.JSON["active"] != false {
			t.Fatalf("deactivated: %s", r.Raw)
		}
		if m, _ := tn.member(t, id); m.Status != equipe.MemberSuspended {
			t.Fatalf("status %s", m.Status)
		}
		// Reactivation, in the value-map form.
		r = tn.call(t, "PATCH", "/Users/"+id, patchOp(map[string]any{"op": "replace", "value": map[string]any{"active": true,
			"externalId": "new-object-id"}}), http.StatusOK)
		if m, _ := tn.member(t, id); m.Status != equipe.MemberInvited || m.ExternalID != "new-object-id" {
			t.Fatalf("reactivated: %+v", m)
		}

		// Group membership: Entra ID looks the group up by name, adds the
		// member, then removes them.
		r = tn.call(t, "GET", query("/Groups", `displayName eq "Manager"`)+"&excludedAttributes=members", nil, http.StatusOK)
		groups := resources(t, r, 1)
		if groups[0]["id"] != "manager" || groups[0]["members"] != nil {
			t.Fatalf("group %v", groups[0])
		}
		// Entra sets its group's objectId as the externalId first: accepted,
		// not kept.
		tn.call(t, "PATCH", "/Groups/manager", patchOp(map[string]any{"op": "Add", "path": "externalId",
			"value": "7c9e6679-7425-40de-944b-e07fc1f90ae7"}), http.StatusNoContent)
		tn.call(t, "PATCH", "/Groups/manager", patchOp(map[string]any{"op": "Add", "path": "members",
			"value": []map[string]any{{"value": id}}}), http.StatusNoContent)
		if m, _ := tn.member(t, id); m.Role != "manager" {
			t.Fatalf("role %s", m.Role)
		}
		r = tn.call(t, "GET", "/Groups/manager", nil, http.StatusOK)
		if ms, _ := r.JSON["members"].([]any); len(ms) != 1 || ms[0].(map[string]any)["value"] != id {
			t.Fatalf("members %s", r.Raw)
		}
		// Okta's import asks for the members' values alone.
		r = tn.call(t, "GET", "/Groups/manager?attributes=members.value", nil, http.StatusOK)
		if ms, _ := r.JSON["members"].([]any); len(ms) != 1 || len(ms[0].(map[string]any)) != 1 || ms[0].(map[string]any)["value"] != id || r.JSON["displayName"] != nil {
			t.Fatalf("the members' values: %s", r.Raw)
		}
		r = tn.call(t, "GET", "/Users/"+id, nil, http.StatusOK)
		if gs, _ := r.JSON["groups"].([]any); len(gs) != 1 || gs[0].(map[string]any)["value"] != "manager" {
			t.Fatalf("groups %s", r.Raw)
		}
		tn.call(t, "PATCH", "/Groups/manager", patchOp(map[string]any{"op": "Remove", "path": "members",
			"value": []map[string]any{{"value": id}}}), http.StatusNoContent)
		if m, _ := tn.member(t, id); m.Role != "guest" {
			t.Fatalf("role %s", m.Role)
		}

		tn.call(t, "DELETE", "/Users/"+id, nil, http.StatusNoContent)
		if _, ok := tn.member(t, id); ok {
			t.Fatal("still a member")
		}
		uid, _ := equipe.ParseID(id)
		if _, err := env.App.DB.UserByID(t.Context(), uid); err != nil {
			t.Fatalf("the identity went with the membership: %v", err)
		}
		scimError(t, do(t, env, "GET", "/scim/v2/Users/"+id, tn.key, nil), http.StatusNotFound, "")

		// Each change is recorded with the SCIM key as its actor.
		evs, _, err := env.App.Team.AuditPage(t.Context(), tn.actor(), tn.account, team.AuditFilter{Subject: id, Page: equipe.Page{Limit: 100}})
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[event.Type]bool{}
		for _, e := range evs {
			if e.Actor.Kind != event.ActorKey {
				t.Fatalf("%s by %+v", e.Type, e.Actor)
			}
			kinds[e.Type] = true
		}
		for _, k := range []event.Type{event.MemberAdded.Type, event.MemberChanged.Type, event.MemberSuspended.Type,
			event.MemberReactivated.Type, event.MemberRemoved.Type} {
			if !kinds[k] {
				t.Fatalf("no %s event among %v", k, kinds)
			}
		}
	})
}

// TestOkta_ProvisionsWithPutAndValueMaps replays Okta's requests: a lookup
// with paging, a creation, updates with PUT of the whole user, deactivation
// and reactivation as value maps, group pushes with PATCH and PUT, and a
// deletion.
func TestOkta_ProvisionsWithPutAndValueMaps(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		tn := newTenant(t, env)
		email := "grace@" + tn.domain
		r := tn.call(t, "GET", query("/Users", `userName eq "`+email+`"`)+"&startIndex=1&count=100", nil, http.StatusOK)
		resources(t, r, 0)
		user := map[string]any{
			"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
			"userName":    email,
			"name":        map[string]any{"givenName": "Grace", "familyName": "Hopper"},
			"emails":      []map[string]any{{"primary": true, "value": email, "type": "work"}},
			"displayName": "Grace Hopper",
			"locale":      "en-US",
			"externalId":  "00u1",
			"groups":      []any{},
			"password":    "ignored-by-equipe",
			"active":      true,
		}
		r = tn.call(t, "POST", "/Users", user, http.StatusCreated)
		id := r.JSON["id"].(string)

		user["id"], user["title"], user["externalId"] = id, "Admiral", "00u1-b"
		r = tn.call(t, "PUT", "/Users/"+id, user, http.StatusOK)
		if r.JSON["title"] != "Admiral" || r.JSON["externalId"] != "00u1-b" {
			t.Fatalf("put: %s", r.Raw)
		}
		user["userName"] = "someone.else@" + tn.domain
		scimError(t, do(t, env, "PUT", "/scim/v2/Users/"+id, tn.key, user), http.StatusBadRequest, "mutability")

		tn.call(t, "PATCH", "/Users/"+id, patchOp(map[string]any{"op": "replace", "value": map[string]any{"active": false}}), http.StatusOK)
		if m, _ := tn.member(t, id); m.Status != equipe.MemberSuspended {
			t.Fatalf("status %s", m.Status)
		}
		tn.call(t, "PATCH", "/Users/"+id, patchOp(map[string]any{"op": "replace", "value": map[string]any{"active": true}}), http.StatusOK)
		if m, _ := tn.member(t, id); m.Status == equipe.MemberSuspended {
			t.Fatalf("status %s", m.Status)
		}

		// Okta pushes a group: its members by PATCH, then the whole list by PUT.
		scimError(t, do(t, env, "POST", "/scim/v2/Groups", tn.key, map[string]any{"displayName": "Engineers"}), http.StatusNotImplemented, "")
		tn.call(t, "PATCH", "/Groups/collaborator", patchOp(map[string]any{"op": "add", "path": "members",
			"value": []map[string]any{{"value": id, "display": email}}}), http.StatusNoContent)
		if m, _ := tn.member(t, id); m.Role != "collaborator" {
			t.Fatalf("role %s", m.Role)
		}
		tn.call(t, "PATCH", "/Groups/collaborator", patchOp(map[string]any{"op": "remove", "path": `members[value eq "` + id + `"]`}),
			http.StatusNoContent)
		if m, _ := tn.member(t, id); m.Role != "guest" {
			t.Fatalf("role %s", m.Role)
		}
		tn.call(t, "PUT", "/Groups/manager", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
			"id": "manager", "displayName": "Manager", "members": []map[string]any{{"value": id}}}, http.StatusOK)
		if m, _ := tn.member(t, id); m.Role != "manager" {
			t.Fatalf("role %s", m.Role)
		}
		tn.call(t, "PUT", "/Groups/manager", map[string]any{"displayName": "Manager", "members": []any{}}, http.StatusOK)
		if m, _ := tn.member(t, id); m.Role != "guest" {
			t.Fatalf("role %s", m.Role)
		}
		tn.call(t, "DELETE", "/Users/"+id, nil, http.StatusNoContent)
	})
}

// TestUsers_ListPagesAndFilters lists members with startIndex and count,
// and filters with and/or over the indexed attributes and others.
func TestUsers_ListPagesAndFilters(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		tn := newTenant(t, env)
		ids := map[string]string{}
		for i, name := range []string{"ann", "bob", "cid", "dee"} {
			r := tn.call(t, "POST", "/Users", newUser(map[string]any{"userName": name + "@" + tn.domain, "externalId": "ext-" + name,
				"active": i%2 == 0}), http.StatusCreated)
			ids[name] = r.JSON["id"].(string)
		}
		r := tn.call(t, "GET", "/Users?startIndex=2&count=2", nil, http.StatusOK)
		page := resources(t, r, 5) // the administrator and four
		if len(page) != 2 || r.JSON["startIndex"] != float64(2) || r.JSON["itemsPerPage"] != float64(2) {
			t.Fatalf("page: %s", r.Raw)
		}
		r = tn.call(t, "GET", "/Users?startIndex=5&count=10", nil, http.StatusOK)
		if len(resources(t, r, 5)) != 1 {
			t.Fatalf("last page: %s", r.Raw)
		}
		for _, c := range []struct {
			filter string
			want   []string
		}{
			{`userName eq "ANN@` + tn.domain + `"`, []string{"ann"}},
			{`externalId eq "ext-bob"`, []string{"bob"}},
			{`externalId eq "EXT-BOB"`, nil}, // caseExact
			{`emails[type eq "work"].value eq "cid@` + tn.domain + `"`, []string{"cid"}},
			{`emails[type eq "work" and value eq "dee@` + tn.domain + `"]`, []string{"dee"}},
			{`userName eq "ann@` + tn.domain + `" or externalId eq "ext-dee"`, []string{"ann", "dee"}},
			{`userName eq "ann@` + tn.domain + `" and externalId eq "ext-bob"`, nil},
			{`externalId eq "ext-cid" and active eq true`, []string{"cid"}},
			{`active eq false and userName sw "b"`, []string{"bob"}},
			{`id eq "` + ids["dee"] + `"`, []string{"dee"}},
			{`id eq "not-an-id"`, nil},
		} {
			r := tn.call(t, "GET", query("/Users", c.filter), nil, http.StatusOK)
			got := resources(t, r, len(c.want))
			for i, name := range c.want {
				if got[i]["id"] != ids[name] {
					t.Fatalf("%s: got %v, want %s", c.filter, got[i]["userName"], name)
				}
			}
		}
		for _, bad := range []string{`userName eq`, `userName zz "x"`, `emails[type eq "work" or type eq "home"].value eq "x"`, `(userName eq "x"`} {
			scimError(t, do(t, env, "GET", "/scim/v2"+query("/Users", bad), tn.key, nil), http.StatusBadRequest, "invalidFilter")
		}
		// attributes trims the answer, keeping id, schemas and meta.
		r = tn.call(t, "GET", query("/Users", `externalId eq "ext-ann"`)+"&attributes=userName", nil, http.StatusOK)
		got := resources(t, r, 1)[0]
		if got["userName"] == nil || got["id"] == nil || got["meta"] == nil || got["emails"] != nil {
			t.Fatalf("projected: %v", got)
		}
	})
}

// TestUsers_AnEmptyExternalIDIsUnassigned: SCIM reads an empty externalId
// as an absent one, on creation as on a PUT: the member has none, where the
// JSON API, which says "none" with null, refuses an empty one.
func TestUsers_AnEmptyExternalIDIsUnassigned(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		tn := newTenant(t, env)
		email := "kim@" + tn.domain
		r := tn.call(t, "POST", "/Users", newUser(map[string]any{"userName": email, "externalId": ""}), http.StatusCreated)
		id := r.JSON["id"].(string)
		if _, ok := r.JSON["externalId"]; ok {
			t.Errorf("created with an externalId: %s", r.Raw)
		}
		tn.call(t, "PUT", "/Users/"+id, map[string]any{"userName": email, "externalId": "hr-7"}, http.StatusOK)
		tn.call(t, "PUT", "/Users/"+id, map[string]any{"userName": email, "externalId": ""}, http.StatusOK)
		if m, _ := tn.member(t, id); m.ExternalID != "" {
			t.Errorf("an empty externalId kept %q", m.ExternalID)
		}
	})
}

// TestPatch_AttributesUnderTheirSchemaURN: a PATCH without a path may name
// the core attributes under their schema's URN, as a resource carries an
// extension's (RFC 7644 3.5.2: the value holds the attributes to replace).
// They are applied, not dropped in silence, for a User as for a Group; a
// value there that is not an object is refused and changes nothing.
func TestPatch_AttributesUnderTheirSchemaURN(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		tn := newTenant(t, env)
		r := tn.call(t, "POST", "/Users", newUser(map[string]any{"userName": "alan@" + tn.domain}), http.StatusCreated)
		id, _ := r.JSON["id"].(string)
		r = tn.call(t, "PATCH", "/Users/"+id, patchOp(map[string]any{"op": "replace", "value": map[string]any{
			"urn:ietf:params:scim:schemas:core:2.0:User":                 map[string]any{"title": "Logician", "active": "False"},
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"department": "Hut 8"},
		}}), http.StatusOK)
		if r.JSON["title"] != "Logician" || r.JSON["active"] != false {
			t.Fatalf("patched: %s", r.Raw)
		}
		scimError(t, do(t, env, "PATCH", "/scim/v2/Users/"+id, tn.key, patchOp(map[string]any{"op": "replace", "value": map[string]any{
			"title": "Codebreaker", "urn:ietf:params:scim:schemas:core:2.0:User": "Codebreaker"}})), http.StatusBadRequest, "invalidValue")
		if m, _ := tn.member(t, id); m.Title != "Logician" {
			t.Fatalf("title %q after a refusal", m.Title)
		}
		tn.call(t, "PATCH", "/Groups/manager", patchOp(map[string]any{"op": "add", "value": map[string]any{
			"urn:ietf:params:scim:schemas:core:2.0:Group": map[string]any{"members": []any{map[string]any{"value": id}}}}}),
			http.StatusNoContent)
		if m, _ := tn.member(t, id); m.Role != "manager" {
			t.Fatalf("role %s", m.Role)
		}
	})
}
