package api_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store"
)

func TestResources_CreatedRenamedArchivedAndRestoredOverHTTP(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		guest := env.AddMember(t, a.account, "guest@a.example", "guest", equipe.MemberActive)
		r := call(t, env.Client(), "POST", a.url("/resources"), map[string]any{"type": "location", "name": "Agence Nord",
			"external_id": "crm-1"}, bearer(a.admin)...)
		if r.Status != 201 || r.JSON["archived"] != false || r.JSON["name"] != "Agence Nord" {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		id := r.JSON["id"].(string)
		if loc := r.Header.Get("Location"); !strings.HasSuffix(loc, "/resources/"+id) {
			t.Errorf("Location: %q", loc)
		}
		one := a.url("/resources/" + id)
		// Assigned to the guest, shown with them.
		if r := call(t, env.Client(), "PATCH", a.url("/members/"+guest.User.ID.String()), map[string]any{"resources": []string{id}},
			bearer(a.admin)...); r.Status != 200 {
			t.Fatalf("assign: %d %s", r.Status, r.Raw)
		}
		r = call(t, env.Client(), "GET", one, nil, bearer(a.admin)...)
		members, _ := r.JSON["members"].([]any)
		if r.Status != 200 || r.JSON["member_count"] != 1.0 || len(members) != 1 ||
			members[0].(map[string]any)["user_id"] != guest.User.ID.String() {
			t.Fatalf("get: %d %s", r.Status, r.Raw)
		}
		acts := r.JSON["actions"].(map[string]any)
		if acts["archive"].(map[string]any)["allowed"] != true || acts["restore"].(map[string]any)["code"] != "resource.not_archived" {
			t.Errorf("actions: %v", acts)
		}

		r = call(t, env.Client(), "PATCH", one, map[string]any{"name": "Agence Nord-Ouest", "external_id": ""}, bearer(a.admin)...)
		if r.Status != 200 || r.JSON["name"] != "Agence Nord-Ouest" || r.JSON["external_id"] != nil {
			t.Fatalf("rename: %d %s", r.Status, r.Raw)
		}
		r = call(t, env.Client(), "POST", one+"/archive", nil, bearer(a.admin)...)
		if r.Status != 200 || r.JSON["archived"] != true || r.JSON["archived_at"] == nil || r.JSON["member_count"] != 1.0 {
			t.Fatalf("archive: %d %s", r.Status, r.Raw)
		}
		for filter, want := range map[string]int{"?archived=true": 1, "?archived=false": 1, "": 2, "?type=location&archived=true": 1, "?type=product": 0} {
			r := call(t, env.Client(), "GET", a.url("/resources"+filter), nil, bearer(a.admin)...)
			if items, _ := r.JSON["items"].([]any); r.Status != 200 || len(items) != want {
				t.Errorf("list %q: %d %s, want %d items", filter, r.Status, r.Raw, want)
			}
		}
		// An archived resource is given to nobody new.
		r = call(t, env.Client(), "POST", a.url("/members"), map[string]any{"email": "new@a.example", "first_name": "New",
			"last_name": "Member", "role": "guest", "resources": []string{id}}, bearer(a.admin)...)
		if r.Status != 422 || r.fieldCodes()["resources[0]"] != "resource.archived" {
			t.Errorf("assign an archived resource: %d %s", r.Status, r.Raw)
		}
		r = call(t, env.Client(), "POST", one+"/restore", nil, bearer(a.admin)...)
		if r.Status != 200 || r.JSON["archived"] != false || r.JSON["archived_at"] != nil {
			t.Fatalf("restore: %d %s", r.Status, r.Raw)
		}
	})
}

func TestResources_BadInputIsAProblemAndChangesNothing(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		guest := env.AddMember(t, a.account, "guest@a.example", "guest", equipe.MemberActive)
		r := call(t, env.Client(), "POST", a.url("/resources"), map[string]any{"type": "location", "name": "Sud"}, bearer(a.admin)...)
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		one := a.url("/resources/" + r.JSON["id"].(string))
		before := storetest_dump(t, env)
		for _, tt := range []struct {
			name, method, url string
			body              any
			by                string
			status            int
			code              string
			fields            map[string]string
		}{
			{"an unknown type", "POST", a.url("/resources"), map[string]any{"type": "planet", "name": "Mars"}, a.admin, 422,
				"error.fields", map[string]string{"type": "resource.type_unknown"}},
			{"an empty name", "POST", a.url("/resources"), map[string]any{"type": "location", "name": " "}, a.admin, 422,
				"error.fields", map[string]string{"name": "name.required"}},
			{"a name too long", "PATCH", one, map[string]any{"name": strings.Repeat("x", 101)}, a.admin, 422,
				"error.fields", map[string]string{"name": "name.too_long"}},
			{"an external ID too long", "PATCH", one, map[string]any{"external_id": strings.Repeat("x", 201)}, a.admin, 422,
				"error.fields", map[string]string{"external_id": "name.too_long"}},
			{"a name the type has", "POST", a.url("/resources"), map[string]any{"type": "location", "name": "SUD"}, a.admin, 409,
				"resource.name_taken", map[string]string{"name": "resource.name_taken"}},
			{"a type changed", "PATCH", one, map[string]any{"type": "product"}, a.admin, 400, "request.unknown_field", nil},
			{"a resource in use restored", "POST", one + "/restore", nil, a.admin, 409, "resource.not_archived", nil},
			{"a resource nobody has", "POST", a.url("/resources/" + equipe.NewID().String() + "/archive"), nil, a.admin, 404, "error.not_found", nil},
			{"a guest archiving", "POST", one + "/archive", nil, guest.Token, 403, "access.permission_required", nil},
			{"a bad filter", "GET", a.url("/resources?archived=maybe"), nil, a.admin, 422, "error.fields",
				map[string]string{"archived": "resource.archived_filter_invalid"}},
			{"a type filter unknown", "GET", a.url("/resources?type=planet"), nil, a.admin, 422, "error.fields",
				map[string]string{"type": "resource.type_unknown"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := call(t, env.Client(), tt.method, tt.url, tt.body, bearer(tt.by)...)
				if r.Status != tt.status || r.code() != tt.code {
					t.Fatalf("%d %s, want %d %s", r.Status, r.Raw, tt.status, tt.code)
				}
				for f, c := range tt.fields {
					if got := r.fieldCodes()[f]; got != c {
						t.Errorf("field %s: %q, want %q (%s)", f, got, c, r.Raw)
					}
				}
			})
		}
		if after := storetest_dump(t, env); after != before {
			t.Errorf("refusals changed the store:\n%s\n→\n%s", before, after)
		}
	})
}

func TestCheck_AnArchivedResourceIsDeniedWithItsOwnReason(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		m := env.AddMember(t, a.account, "m@a.example", "manager", equipe.MemberActive)
		key := a.key(t, "admin")
		r := call(t, env.Client(), "POST", a.url("/resources"), map[string]any{"type": "location", "name": "Nord"}, bearer(a.admin)...)
		id := r.JSON["id"].(string)
		q := map[string]any{"user_id": m.User.ID.String(), "account_id": a.account.String(), "permission": "records.view", "resource_id": id}
		if r := checkAs(t, env, key, q); r.JSON["allowed"] != true {
			t.Fatalf("in use: %s", r.Raw)
		}
		if r := call(t, env.Client(), "POST", a.url("/resources/"+id+"/archive"), nil, bearer(a.admin)...); r.Status != 200 {
			t.Fatalf("archive: %d %s", r.Status, r.Raw)
		}
		if r := checkAs(t, env, key, q); r.JSON["allowed"] != false || r.JSON["reason"] != "denied_resource_archived" {
			t.Errorf("archived: %s", r.Raw)
		}
		batch := call(t, env.Client(), "POST", env.URL+"/api/v1/check/batch", map[string]any{"checks": []any{q,
			map[string]any{"user_id": m.User.ID.String(), "account_id": a.account.String(), "permission": "records.view"}}}, bearer(key)...)
		results, _ := batch.JSON["results"].([]any)
		if batch.Status != 200 || len(results) != 2 || results[0].(map[string]any)["reason"] != "denied_resource_archived" ||
			results[1].(map[string]any)["allowed"] != true {
			t.Errorf("batch: %d %s", batch.Status, batch.Raw)
		}
		if r := call(t, env.Client(), "POST", a.url("/resources/"+id+"/restore"), nil, bearer(a.admin)...); r.Status != 200 {
			t.Fatalf("restore: %d %s", r.Status, r.Raw)
		}
		if r := checkAs(t, env, key, q); r.JSON["allowed"] != true {
			t.Errorf("restored: %s", r.Raw)
		}
	})
}

func TestCheck_AnArchivedResourceIsDeniedInEveryProcess(t *testing.T) {
	first := apptest.Start(t, store.Postgres, apptest.Options{})
	second := apptest.Start(t, store.Postgres, apptest.Options{Share: first})
	a := newTenant(t, first, "owner@a.example")
	m := first.AddMember(t, a.account, "m@a.example", "manager", equipe.MemberActive)
	key := a.key(t, "admin")
	r := call(t, first.Client(), "POST", a.url("/resources"), map[string]any{"type": "location", "name": "Nord"}, bearer(a.admin)...)
	id := r.JSON["id"].(string)
	q := map[string]any{"user_id": m.User.ID.String(), "account_id": a.account.String(), "permission": "records.view", "resource_id": id}
	// The second process learnt of the resource and holds the account.
	account := store.AccountKey(a.account)
	if r := checkAs(t, second, key, q); r.JSON["allowed"] != true {
		t.Fatalf("before: %s", r.Raw)
	}
	heard := second.Heard(account)
	if r := call(t, first.Client(), "POST", a.url("/resources/"+id+"/archive"), nil, bearer(a.admin)...); r.Status != 200 {
		t.Fatalf("archive: %d %s", r.Status, r.Raw)
	}
	second.AwaitHeard(t, account, heard)
	if r := checkAs(t, second, key, q); r.JSON["allowed"] != false || r.JSON["reason"] != "denied_resource_archived" {
		t.Fatalf("the second process, once it heard of the archiving: %s", r.Raw)
	}
	heard = second.Heard(account)
	if r := call(t, first.Client(), "POST", a.url("/resources/"+id+"/restore"), nil, bearer(a.admin)...); r.Status != 200 {
		t.Fatalf("restore: %d %s", r.Status, r.Raw)
	}
	second.AwaitHeard(t, account, heard)
	if r := checkAs(t, second, key, q); r.JSON["allowed"] != true {
		t.Fatalf("the second process, once it heard of the restoring: %s", r.Raw)
	}
}

// A restricted member keeps exactly their resource while the account's
// resources in use move around it: a resource archived before theirs, then
// restored. The cache holds the member's resources as bits over the
// account's resources in use (team/cache_members.go), which those moves
// shift.
func TestCheck_ARestrictedMemberKeepsTheirResourceWhileTheAccountsMove(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		collab := env.AddMember(t, a.account, "collab@a.example", "collaborator", equipe.MemberActive)
		key := a.key(t, "admin")
		var ids []string
		for _, name := range []string{"Nord", "Sud", "Est"} {
			r := call(t, env.Client(), "POST", a.url("/resources"), map[string]any{"type": "location", "name": name}, bearer(a.admin)...)
			if r.Status != 201 {
				t.Fatalf("create %s: %d %s", name, r.Status, r.Raw)
			}
			ids = append(ids, r.JSON["id"].(string))
		}
		// IDs compare as the cache sorts them: the first sorts before the
		// member's, the last.
		slices.Sort(ids)
		first, middle, theirs := ids[0], ids[1], ids[2]
		if r := call(t, env.Client(), "PATCH", a.url("/members/"+collab.User.ID.String()), map[string]any{"resources": []string{theirs}},
			bearer(a.admin)...); r.Status != 200 {
			t.Fatalf("assign: %d %s", r.Status, r.Raw)
		}
		reasons := func(when string, want map[string]string) {
			t.Helper()
			for _, round := range []string{"read", "cached"} {
				for id, reason := range want {
					q := map[string]any{"user_id": collab.User.ID.String(), "account_id": a.account.String(),
						"permission": "members.view", "resource_id": id}
					if r := checkAs(t, env, key, q); r.Status != 200 || r.JSON["reason"] != reason {
						t.Errorf("%s (%s), resource %s: %d %s, want %s", when, round, id, r.Status, r.Raw, reason)
					}
				}
			}
		}
		reasons("assigned", map[string]string{first: "denied_resource_not_assigned", middle: "denied_resource_not_assigned", theirs: "allowed"})

		if r := call(t, env.Client(), "POST", a.url("/resources/"+first+"/archive"), nil, bearer(a.admin)...); r.Status != 200 {
			t.Fatalf("archive: %d %s", r.Status, r.Raw)
		}
		reasons("one before theirs archived", map[string]string{first: "denied_resource_archived", middle: "denied_resource_not_assigned", theirs: "allowed"})

		if r := call(t, env.Client(), "POST", a.url("/resources/"+first+"/restore"), nil, bearer(a.admin)...); r.Status != 200 {
			t.Fatalf("restore: %d %s", r.Status, r.Raw)
		}
		reasons("restored", map[string]string{first: "denied_resource_not_assigned", middle: "denied_resource_not_assigned", theirs: "allowed"})
	})
}
