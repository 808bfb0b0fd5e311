package api_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// pagedList is a list route of the API, with more items than the test's
// page, and who reads it.
type pagedList struct {
	name  string
	path  string // from env.URL, with its filters
	token string
	id    string // the member of an item that names it; "" for the item as a whole
	min   int    // the test made at least this many
}

// TestPagination_EveryListWalksItsPagesAndRefusesBadLimitsAndCursors: on
// every list route, pages of two items, followed by their cursors, give the
// list's items once each and in the order of one large page; limit 0, 201,
// -1 and abc, a cursor that is no cursor and another list's cursor are
// refused with a 400 naming the field.
func TestPagination_EveryListWalksItsPagesAndRefusesBadLimitsAndCursors(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{Configure: loopbackHooks})
			lists := pagedLists(t, env)
			// Each route is listed once: every GET route that answers a list.
			routes := map[string]bool{}
			for _, l := range lists {
				routes[strings.Split(strings.Fields(l.name)[0], "?")[0]] = true
			}
			prev, prevRoute := "", "" // a cursor of the list before: foreign to the next
			for _, l := range lists {
				t.Run(l.name, func(t *testing.T) {
					whole := pageOf(t, env, l, "limit=200")
					if len(whole.items) < l.min || whole.next != "" {
						t.Fatalf("one large page: %d items (at least %d made), next %q", len(whole.items), l.min, whole.next)
					}
					var walked []string
					cursor, first := "", ""
					for pages := 1; ; pages++ {
						q := "limit=2"
						if cursor != "" {
							q += "&cursor=" + url.QueryEscape(cursor)
						}
						p := pageOf(t, env, l, q)
						if len(p.items) > 2 || (p.next != "" && len(p.items) != 2) {
							t.Fatalf("page %d: %d items, next %q", pages, len(p.items), p.next)
						}
						walked = append(walked, p.items...)
						if p.next == "" {
							break
						}
						if first == "" {
							first = p.next
						}
						cursor = p.next
						if pages > len(whole.items) {
							t.Fatalf("more pages than items")
						}
					}
					if !slices.Equal(walked, whole.items) {
						t.Fatalf("pages of two give\n%v\none page gives\n%v", walked, whole.items)
					}
					seen := map[string]bool{}
					for _, it := range walked {
						// Items without an identifier (the firm's staff as a
						// client sees them) may look alike.
						if seen[it] && l.id != "" {
							t.Fatalf("%s appears twice", it)
						}
						seen[it] = true
					}
					for _, bad := range []string{"limit=0", "limit=201", "limit=-1", "limit=abc", "limit=1.5"} {
						refused(t, env, l, bad, "limit", "request.limit_invalid")
					}
					refused(t, env, l, "cursor=not-a-cursor", "cursor", "request.cursor_invalid")
					refused(t, env, l, "cursor="+url.QueryEscape(equipe.Cursor("another-list", "x")), "cursor", "request.cursor_invalid")
					// The list before is another list, unless it is this one
					// filtered otherwise.
					route := strings.Split(strings.Fields(l.name)[0], "?")[0]
					if prev != "" && route != prevRoute {
						refused(t, env, l, "cursor="+url.QueryEscape(prev), "cursor", "request.cursor_invalid")
					}
					prev, prevRoute = first, route
				})
			}
			if !t.Failed() {
				checkEveryListRoute(t, env, routes)
			}
		})
	}
}

// url is the list's address with query added to its own.
func (l pagedList) url(env *apptest.Env, query string) string {
	if strings.Contains(l.path, "?") {
		return env.URL + l.path + "&" + query
	}
	return env.URL + l.path + "?" + query
}

type walkedPage struct {
	items []string
	next  string
}

// pageOf reads a page of the list: each item by its identifier (or whole),
// and the next cursor.
func pageOf(t *testing.T, env *apptest.Env, l pagedList, query string) walkedPage {
	t.Helper()
	r := call(t, env.Client(), "GET", l.url(env, query), nil, bearer(l.token)...)
	if r.Status != 200 {
		t.Fatalf("GET %s: %d %s", l.url(env, query), r.Status, r.Raw)
	}
	if _, ok := r.JSON["next_cursor"]; !ok {
		t.Fatalf("no next_cursor: %s", r.Raw)
	}
	var p walkedPage
	p.next, _ = r.JSON["next_cursor"].(string)
	for _, it := range r.JSON["items"].([]any) {
		m := it.(map[string]any)
		if l.id != "" {
			p.items = append(p.items, fmt.Sprint(m[l.id]))
			continue
		}
		b, _ := json.Marshal(m, json.Deterministic(true))
		p.items = append(p.items, string(b))
	}
	return p
}

// refused checks that the list answers 400 to query, naming field.
func refused(t *testing.T, env *apptest.Env, l pagedList, query, field, code string) {
	t.Helper()
	r := call(t, env.Client(), "GET", l.url(env, query), nil, bearer(l.token)...)
	if r.Status != 400 || r.fieldCodes()[field] != code {
		t.Errorf("%s: %d %s", query, r.Status, r.Raw)
	}
}

// checkEveryListRoute fails when a GET route of the API's document answers
// a list (an object with items) that the table does not walk.
func checkEveryListRoute(t *testing.T, env *apptest.Env, walked map[string]bool) {
	t.Helper()
	r := call(t, env.Client(), "GET", env.URL+"/api/openapi.json", nil)
	schemas := r.JSON["components"].(map[string]any)["schemas"].(map[string]any)
	for path, item := range r.JSON["paths"].(map[string]any) {
		op, _ := item.(map[string]any)["get"].(map[string]any)
		if op == nil || path == "/api/v1/changes" { // changes: a stream of its own, read after a position
			continue
		}
		ok, _ := op["responses"].(map[string]any)["200"].(map[string]any)
		content, _ := ok["content"].(map[string]any)
		body, _ := content["application/json"].(map[string]any)
		schema, _ := body["schema"].(map[string]any)
		if ref, _ := schema["$ref"].(string); ref != "" {
			schema, _ = schemas[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
		}
		props, _ := schema["properties"].(map[string]any)
		if props["items"] != nil && !walked[path] {
			t.Errorf("%s answers a list the pagination test does not walk", path)
		}
	}
}

// pagedLists makes more items than a page of two in every list, and
// returns the lists with their readers.
func pagedLists(t *testing.T, env *apptest.Env) []pagedList {
	t.Helper()
	ctx := t.Context()
	c := env.Client()
	post := func(token, path string, body map[string]any) map[string]any {
		t.Helper()
		r := call(t, c, "POST", env.URL+path, body, bearer(token)...)
		if r.Status != 201 && r.Status != 202 {
			t.Fatalf("POST %s: %d %s", path, r.Status, r.Raw)
		}
		return r.JSON
	}
	a := newTenant(t, env, "owner@a.example")
	acct := "/api/v1/accounts/" + a.account.String()
	_, admin := instanceAdminSession(t, env)
	rc := newHookReceiver(t)

	// Members, some of them the firm's staff of a client.
	var staff []equipe.ID
	for i := range 4 {
		m := env.AddMember(t, a.account, fmt.Sprintf("m%d@a.example", i), "collaborator", equipe.MemberActive)
		staff = append(staff, m.User.ID)
	}
	var clients []string
	for _, name := range []string{"Garage", "Boulangerie", "Atelier"} {
		clients = append(clients, post(a.admin, acct+"/clients", map[string]any{"name": name, "locale": "fr",
			"first_resource": map[string]any{"type": "company", "name": name}})["id"].(string))
	}
	for _, u := range staff {
		if r := call(t, c, "POST", env.URL+acct+"/clients/"+clients[0]+"/staff", map[string]any{"user_id": u.String()}, bearer(a.admin)...); r.Status != 204 {
			t.Fatalf("assign: %d %s", r.Status, r.Raw)
		}
	}
	client := "/api/v1/accounts/" + clients[0]
	// A key of the client, which learns the firm's staff's roles, not who
	// they are.
	clientKey := post(a.admin, client+"/api-keys", map[string]any{"name": "client key", "role": "admin"})["secret"].(string)

	// The owner is a member of other accounts too.
	for i := range 3 {
		b := newTenant(t, env, fmt.Sprintf("owner@b%d.example", i))
		// Refused across accounts: the security log notes it.
		if r := call(t, c, "GET", b.url("/members"), nil, bearer(a.admin)...); r.Status != 404 {
			t.Fatalf("another account's members: %d", r.Status)
		}
		if err := env.App.DB.Write(ctx, func(tx *store.Tx) error {
			return tx.CreateMember(ctx, &equipe.Member{AccountID: b.account, UserID: a.adminID, Role: "guest",
				Status: equipe.MemberActive, CreatedAt: time.Now(), JoinedAt: time.Now()})
		}); err != nil {
			t.Fatal(err)
		}
	}

	var instanceHook string
	for i := range 3 {
		post(a.admin, acct+"/roles", map[string]any{"key": fmt.Sprintf("role%d", i), "label_fr": "Rôle", "label_en": "Role",
			"permissions": map[string]any{"members.view": true}})
		post(a.admin, acct+"/api-keys", map[string]any{"name": fmt.Sprintf("key %d", i), "role": "guest"})
		post(admin, "/api/v1/api-keys", map[string]any{"name": fmt.Sprintf("instance key %d", i)})
		post(a.admin, acct+"/resources", map[string]any{"type": "location", "name": fmt.Sprintf("Site %d", i)})
		instanceHook = post(admin, "/api/v1/webhooks", map[string]any{"url": rc.URL + "/instance", "types": []string{"*"}})["id"].(string)
		post(admin, "/api/v1/privacy-policies", map[string]any{"version": fmt.Sprintf("2099-0%d", i+1), "label": "Future",
			"texts": map[string]any{"en": "Later."}, "effective_at": time.Now().Add(time.Duration(i+1) * 24 * time.Hour)})
	}
	var oidcClients []string
	for i := range 3 {
		oidcClients = append(oidcClients, post(admin, "/api/v1/oidc-clients", map[string]any{"name": fmt.Sprintf("App %d", i),
			"redirect_uris": []string{"https://app.example.com/cb"}, "scopes": []string{"accounts"}})["id"].(string))
	}
	hook := post(a.admin, acct+"/webhooks", map[string]any{"url": rc.URL + "/a", "types": []string{"*"}})["id"].(string)
	post(a.admin, acct+"/webhooks", map[string]any{"url": rc.URL + "/b", "types": []string{"contact.created"}})
	post(a.admin, acct+"/webhooks", map[string]any{"url": rc.URL + "/c", "types": []string{"contact.created"}})
	// Contacts with the same names: the ID breaks the tie.
	for i := range 5 {
		post(a.admin, acct+"/contacts", map[string]any{"first_name": "Jeanne", "last_name": fmt.Sprintf("Compta %d", i%2),
			"email": fmt.Sprintf("c%d@a.example", i), "kinds": []string{"billing"}})
	}

	// A person with several sessions and passkeys.
	p := env.AddMember(t, a.account, "many@a.example", "guest", equipe.MemberActive)
	for range 3 {
		if _, _, err := env.App.Identity.LogIn(ctx, "many@a.example", apptest.TestPassword, equipe.Origin{IP: "127.0.0.1"}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		if _, err := storetest.Raw(t, env.DB).ExecContext(ctx, `INSERT INTO passkeys (id, user_id, credential_id, name, credential, created_at)
			VALUES ($1, $2, $3, $4, '{}', 1)`, equipe.NewID(), p.User.ID, []byte(fmt.Sprintf("cred%d", i)), fmt.Sprintf("Key %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	// Their consents to the clients, two given at the same time.
	for i, id := range oidcClients {
		giveOIDCConsent(t, env, p.User.ID, equipe.MustParse(id), time.UnixMicro(int64(1+i/2)), "openid", "accounts")
	}
	current := call(t, c, "GET", env.URL+"/api/v1/privacy-policy", nil).JSON["version"].(string)

	return []pagedList{
		{"/api/v1/accounts/{account}/members", acct + "/members", a.admin, "user_id", 6},
		{"/api/v1/accounts/{account}/audit", acct + "/audit", a.admin, "id", 10},
		{"/api/v1/accounts/{account}/roles", acct + "/roles", a.admin, "key", 6},
		{"/api/v1/accounts/{account}/api-keys", acct + "/api-keys", a.admin, "id", 3},
		{"/api/v1/api-keys", "/api/v1/api-keys", admin, "id", 3},
		{"/api/v1/accounts/{account}/contacts", acct + "/contacts", a.admin, "id", 5},
		{"/api/v1/accounts/{account}/clients", acct + "/clients", a.admin, "id", 3},
		{"/api/v1/accounts/{account}/firm-staff", client + "/firm-staff", a.admin, "user_id", 5},
		{"/api/v1/accounts/{account}/firm-staff (anonymous)", client + "/firm-staff", clientKey, "", 5},
		{"/api/v1/accounts/{account}/resources", acct + "/resources", a.admin, "id", 3},
		{"/api/v1/accounts/{account}/webhooks", acct + "/webhooks", a.admin, "id", 3},
		{"/api/v1/accounts/{account}/webhooks/{webhook}/deliveries", acct + "/webhooks/" + hook + "/deliveries", a.admin, "id", 5},
		{"/api/v1/webhooks", "/api/v1/webhooks", admin, "id", 3},
		{"/api/v1/webhooks/{webhook}/deliveries", "/api/v1/webhooks/" + instanceHook + "/deliveries", admin, "id", 5},
		{"/api/v1/users", "/api/v1/users", admin, "id", 10},
		{"/api/v1/oidc-clients", "/api/v1/oidc-clients", admin, "id", 3},
		{"/api/v1/users?q", "/api/v1/users?q=example", admin, "id", 10},
		{"/api/v1/privacy-policies", "/api/v1/privacy-policies", admin, "version", 4},
		{"/api/v1/privacy-policies/{version}/acceptances", "/api/v1/privacy-policies/" + current + "/acceptances", admin, "user_id", 5},
		{"/api/v1/security-events", "/api/v1/security-events", admin, "id", 3},
		{"/api/v1/me/accounts", "/api/v1/me/accounts", a.admin, "id", 7},
		{"/api/v1/me/sessions", "/api/v1/me/sessions", p.Token, "id", 4},
		{"/api/v1/me/passkeys", "/api/v1/me/passkeys", p.Token, "id", 3},
		{"/api/v1/me/oidc-consents", "/api/v1/me/oidc-consents", p.Token, "client_id", 3},
	}
}
