package api_test

import (
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/api"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store/storetest"
)

// bodies are valid request bodies per route, so that a refusal comes from
// the tenant boundary and not from the input.
var bodies = map[string]any{
	"POST /api/v1/accounts/{account}/clients":                map[string]any{"name": "Intruder Ltd", "locale": "fr"},
	"POST /api/v1/accounts/{account}/clients/{client}/staff": map[string]any{"user_id": equipe.NewID().String()},
	"POST /api/v1/accounts/{account}/contacts":               map[string]any{"last_name": "Intruder", "email": "i@evil.example", "kinds": []string{"billing"}},
	"PATCH /api/v1/accounts/{account}/contacts/{contact}":    map[string]any{"last_name": "Intruder", "email": "i@evil.example", "kinds": []string{"billing"}},
	"POST /api/v1/accounts/{account}/resources":              map[string]any{"type": "location", "name": "Intruder"},
	"PATCH /api/v1/accounts/{account}":                       map[string]any{"name": "Taken over"},
	"POST /api/v1/accounts/{account}/members":                map[string]any{"email": "intruder@c.example", "first_name": "In", "last_name": "Truder", "role": "admin", "send_invitation": true},
	"PATCH /api/v1/accounts/{account}/members/{user}":        map[string]any{"title": "Intruder", "role": "guest"},
	"POST /api/v1/accounts/{account}/roles":                  map[string]any{"key": "intruder", "label_fr": "Intrus", "label_en": "Intruder"},
	"PATCH /api/v1/accounts/{account}/roles/{role}":          map[string]any{"label_fr": "Intrus"},
	"POST /api/v1/accounts/{account}/api-keys":               map[string]any{"name": "intruder", "role": "admin"},
	"POST /api/v1/accounts/{account}/members/bulk":           map[string]any{"action": "remove", "filter": map[string]any{}},
	"POST /api/v1/accounts/{account}/webhooks":               map[string]any{"url": "https://evil.example/hook", "types": []string{"*"}},
	"PATCH /api/v1/accounts/{account}/webhooks/{webhook}":    map[string]any{"url": "https://evil.example/hook"},
}

// TestIsolation_EveryAccountRouteAnswersNotFoundAcrossTenants walks every
// route that names an account: an administrator of A (by session, and A's
// administrator API key) using B's identifiers — B's account with B's
// objects, and A's account with B's objects — gets 404, and B's data is
// unchanged.
func TestIsolation_EveryAccountRouteAnswersNotFoundAcrossTenants(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		b := newTenant(t, env, "owner@b.example")
		bMember := env.AddMember(t, b.account, "member@b.example", "manager", equipe.MemberActive)
		if r := call(t, env.Client(), "POST", b.url("/roles"), map[string]any{"key": "secret_role", "label_fr": "S", "label_en": "S"}, bearer(b.admin)...); r.Status != 201 {
			t.Fatalf("role in B: %d %s", r.Status, r.Raw)
		}
		bKey := call(t, env.Client(), "POST", b.url("/api-keys"), map[string]any{"name": "b backend", "role": "admin"}, bearer(b.admin)...)
		bKeyID := bKey.JSON["id"].(string)
		bClient := call(t, env.Client(), "POST", b.url("/clients"), map[string]any{"name": "B's client", "locale": "fr"}, bearer(b.admin)...)
		bContact := call(t, env.Client(), "POST", b.url("/contacts"), map[string]any{"last_name": "Comptable", "email": "c@b.example",
			"kinds": []string{"billing"}}, bearer(b.admin)...)
		bHook := call(t, env.Client(), "POST", b.url("/webhooks"), map[string]any{"url": "https://hooks.b.example/equipe",
			"types": []string{"*"}}, bearer(b.admin)...)
		if bClient.Status != 201 || bContact.Status != 201 || bHook.Status != 201 {
			t.Fatalf("B's client %d, contact %d, webhook %d", bClient.Status, bContact.Status, bHook.Status)
		}
		bDelivery := call(t, env.Client(), "POST", b.url("/webhooks/"+bHook.JSON["id"].(string)+"/test"), nil, bearer(b.admin)...)
		if bDelivery.Status != 202 {
			t.Fatalf("B's test delivery: %d %s", bDelivery.Status, bDelivery.Raw)
		}
		aKey := a.key(t, "admin")

		raw := storetest.Raw(t, env.DB)
		snapshot := func() string {
			var s strings.Builder
			for _, q := range []string{
				"SELECT user_id, role, status, title, overrides FROM members ORDER BY user_id",
				"SELECT account_id, key, label_fr, grants FROM roles ORDER BY key",
				"SELECT id, name, role, revoked_at FROM api_keys ORDER BY id",
				"SELECT id, name, parent_id FROM accounts ORDER BY id",
				"SELECT id, last_name, email, kinds FROM contacts ORDER BY id",
				"SELECT id, name FROM resources ORDER BY id",
				"SELECT client_id, user_id FROM client_staff ORDER BY client_id, user_id",
				"SELECT id, url, description, types, enabled, secret, previous_secret FROM webhook_endpoints ORDER BY id",
				"SELECT endpoint_id, event_id, event_type FROM webhook_deliveries WHERE event_type = 'webhook.test' ORDER BY event_id",
			} {
				rows, err := raw.Query(q)
				if err != nil {
					t.Fatal(err)
				}
				cols, _ := rows.Columns()
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				for rows.Next() {
					rows.Scan(ptrs...)
					for _, v := range vals {
						if b, ok := v.([]byte); ok {
							v = string(b)
						}
						s.WriteString(strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(toString(v), "\n", " "), "\t", " ")) + "|")
					}
					s.WriteString("\n")
				}
				rows.Close()
			}
			return s.String()
		}
		before := snapshot()

		walked := 0
		for _, rt := range api.Routes() {
			if !strings.Contains(rt.Path, "{account}") {
				continue
			}
			for _, accountOf := range []tenant{b, a} {
				path := strings.NewReplacer(
					"{account}", accountOf.account.String(),
					"{user}", bMember.User.ID.String(),
					"{role}", "secret_role",
					"{key}", bKeyID,
					"{client}", bClient.JSON["id"].(string),
					"{contact}", bContact.JSON["id"].(string),
					"{webhook}", bHook.JSON["id"].(string),
					"{delivery}", bDelivery.JSON["id"].(string),
				).Replace(rt.Path)
				if accountOf.account == a.account && !strings.ContainsAny(strings.TrimPrefix(rt.Path, "/api/v1/accounts/{account}"), "{") {
					continue // A's own account with no object of B: A's business
				}
				for _, who := range []struct{ name, token string }{{"session", a.admin}, {"api key", aKey}} {
					r := call(t, env.Client(), rt.Method, env.URL+path, bodies[rt.Method+" "+rt.Path], bearer(who.token)...)
					if r.Status == 403 && r.code() == "api_key.not_for_route" {
						continue // sessions only
					}
					if r.Status != 404 {
						t.Errorf("%s %s as A's %s: %d %s, want 404", rt.Method, path, who.name, r.Status, r.Raw)
					}
					walked++
				}
			}
		}
		if walked < 20 {
			t.Fatalf("only %d requests walked: the route list is not what this test expects", walked)
		}
		if after := snapshot(); after != before {
			t.Fatalf("B's data changed:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
}

func toString(v any) string {
	if v == nil {
		return "NULL"
	}
	return strings.TrimSpace(strings.ReplaceAll(fmtAny(v), "\r", ""))
}
