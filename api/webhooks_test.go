package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/equipe-dev/equipe/app"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/webhook"
)

// hookReceiver is a webhook receiver on 127.0.0.1 that keeps what it is
// sent and answers with status.
type hookReceiver struct {
	*httptest.Server
	status atomic.Int32
	mu     sync.Mutex
	got    []hookMessage
}

type hookMessage struct {
	header http.Header
	body   []byte
}

func newHookReceiver(t *testing.T) *hookReceiver {
	rc := &hookReceiver{}
	rc.status.Store(http.StatusOK)
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, hookMessage{r.Header.Clone(), b})
		rc.mu.Unlock()
		w.WriteHeader(int(rc.status.Load()))
		fmt.Fprint(w, `{"thanks":true}`)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *hookReceiver) messages() []hookMessage {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hookMessage(nil), rc.got...)
}

// loopbackHooks lets endpoints be http:// on 127.0.0.1, where the tests'
// receivers listen.
func loopbackHooks(c *app.Config) { c.WebhooksAllowHTTPLoopback = true }

func TestWebhooks_AnAccountsEndpointReceivesSignedEventsTestsAndRedeliveries(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{Configure: loopbackHooks})
			c := env.Client()
			a := newTenant(t, env, "owner@a.example")
			rc := newHookReceiver(t)

			// Bad input: a problem for each field, and nothing made.
			r := call(t, c, "POST", a.url("/webhooks"), map[string]any{"url": "http://hooks.example.com/", "types": []string{"user.logged_in"}}, bearer(a.admin)...)
			if r.Status != 422 || r.fieldCodes()["url"] != "webhook.url_https" || r.fieldCodes()["types"] != "webhook.type_unknown" {
				t.Errorf("bad endpoint: %d %s", r.Status, r.Raw)
			}
			r = call(t, c, "POST", a.url("/webhooks"), map[string]any{"url": "https://10.0.0.1/", "types": []string{"*"}}, bearer(a.admin)...)
			if r.Status != 422 || r.fieldCodes()["url"] != "webhook.url_forbidden" {
				t.Errorf("private address: %d %s", r.Status, r.Raw)
			}
			if r := call(t, c, "POST", a.url("/webhooks"), map[string]any{"url": rc.URL, "types": []string{"*"}, "secret": "mine"}, bearer(a.admin)...); r.Status != 400 {
				t.Errorf("unknown member: %d %s", r.Status, r.Raw)
			}
			if r := call(t, c, "GET", a.url("/webhooks"), nil, bearer(a.admin)...); len(r.JSON["items"].([]any)) != 0 {
				t.Fatalf("refused endpoints were made: %s", r.Raw)
			}

			r = call(t, c, "POST", a.url("/webhooks"), map[string]any{"url": rc.URL + "/equipe", "description": "CRM",
				"types": []string{"contact.created"}}, bearer(a.admin)...)
			if r.Status != 201 || r.JSON["enabled"] != true || r.Header.Get("Location") == "" {
				t.Fatalf("create: %d %s", r.Status, r.Raw)
			}
			secret, _ := r.JSON["secret"].(string)
			id := r.JSON["id"].(string)
			hook := a.url("/webhooks/" + id)
			if g := call(t, c, "GET", hook, nil, bearer(a.admin)...); g.Status != 200 || g.JSON["secret"] != nil ||
				g.JSON["actions"].(map[string]any)["test"].(map[string]any)["allowed"] != true {
				t.Errorf("read: %d %s", g.Status, g.Raw)
			}

			// An event reaches the receiver, signed.
			if r := call(t, c, "POST", a.url("/contacts"), map[string]any{"last_name": "Comptable", "email": "c@a.example",
				"kinds": []string{"billing"}}, bearer(a.admin)...); r.Status != 201 {
				t.Fatalf("contact: %d %s", r.Status, r.Raw)
			}
			env.AwaitWork(t, "the event delivered", func() bool { return len(rc.messages()) == 1 })
			wh, _ := standardwebhooks.NewWebhook(secret)
			m := rc.messages()[0]
			if err := wh.Verify(m.body, m.header); err != nil {
				t.Errorf("verify: %v", err)
			}
			var msg map[string]any
			json.Unmarshal(m.body, &msg)
			if msg["type"] != "contact.created" {
				t.Errorf("message %s", m.body)
			}

			// A test message, then the log.
			r = call(t, c, "POST", hook+"/test", nil, bearer(a.admin)...)
			if r.Status != 202 || r.JSON["type"] != "webhook.test" || r.JSON["status"] != "queued" {
				t.Fatalf("test: %d %s", r.Status, r.Raw)
			}
			testID := r.JSON["id"].(string)
			env.AwaitWork(t, "the test delivered", func() bool { return len(rc.messages()) == 2 })
			if err := wh.Verify(rc.messages()[1].body, rc.messages()[1].header); err != nil {
				t.Errorf("verify the test: %v", err)
			}
			var log response
			env.AwaitWork(t, "both deliveries recorded", func() bool {
				log = call(t, c, "GET", hook+"/deliveries?limit=1", nil, bearer(a.admin)...)
				items, _ := log.JSON["items"].([]any)
				return len(items) == 1 && items[0].(map[string]any)["status"] == "delivered"
			})
			if log.JSON["items"].([]any)[0].(map[string]any)["id"] != testID || log.JSON["next_cursor"] == nil {
				t.Errorf("log page: %s", log.Raw)
			}
			next := call(t, c, "GET", hook+"/deliveries?limit=1&cursor="+log.JSON["next_cursor"].(string), nil, bearer(a.admin)...)
			if items := next.JSON["items"].([]any); len(items) != 1 || items[0].(map[string]any)["type"] != "contact.created" {
				t.Errorf("second page: %s", next.Raw)
			}
			d := call(t, c, "GET", hook+"/deliveries/"+testID, nil, bearer(a.admin)...)
			att := d.JSON["attempt_log"].([]any)
			if d.Status != 200 || len(att) != 1 || att[0].(map[string]any)["response_code"] != 200.0 ||
				att[0].(map[string]any)["response"] != `{"thanks":true}` {
				t.Errorf("delivery: %d %s", d.Status, d.Raw)
			}
			if r := call(t, c, "GET", hook+"/deliveries?limit=0", nil, bearer(a.admin)...); r.Status != 400 || r.fieldCodes()["limit"] != "request.limit_invalid" {
				t.Errorf("limit 0: %d %s", r.Status, r.Raw)
			}

			// A re-delivery carries the same webhook-id; until its attempt
			// succeeds, the delivery no longer shows as delivered.
			if r := call(t, c, "POST", hook+"/deliveries/"+testID+"/redeliver", nil, bearer(a.admin)...); r.Status != 202 ||
				r.JSON["status"] != "delivered" && r.JSON["delivered_at"] != nil {
				t.Fatalf("redeliver: %d %s", r.Status, r.Raw)
			}
			env.AwaitWork(t, "the re-delivery", func() bool { return len(rc.messages()) == 3 })
			if got := rc.messages()[2].header.Get("webhook-id"); got != testID {
				t.Errorf("re-delivery's webhook-id %q, want %q", got, testID)
			}

			// A rotation: a new secret, both sign for a day.
			r = call(t, c, "POST", hook+"/rotate-secret", nil, bearer(a.admin)...)
			newSecret, _ := r.JSON["secret"].(string)
			if r.Status != 200 || newSecret == "" || newSecret == secret || r.JSON["rotating"] != true {
				t.Fatalf("rotate: %d %s", r.Status, r.Raw)
			}
			call(t, c, "POST", hook+"/test", nil, bearer(a.admin)...)
			env.AwaitWork(t, "a test after the rotation", func() bool { return len(rc.messages()) == 4 })
			for _, s := range []string{secret, newSecret} {
				wh, _ := standardwebhooks.NewWebhook(s)
				if err := wh.Verify(rc.messages()[3].body, rc.messages()[3].header); err != nil {
					t.Errorf("during the rotation: %v", err)
				}
			}

			// Disabled: no test; deleted: gone.
			if r := call(t, c, "PATCH", hook, map[string]any{"enabled": false}, bearer(a.admin)...); r.Status != 200 || r.JSON["enabled"] != false {
				t.Fatalf("disable: %d %s", r.Status, r.Raw)
			}
			if r := call(t, c, "POST", hook+"/test", nil, bearer(a.admin)...); r.Status != 409 || r.code() != "webhook.already_disabled" {
				t.Errorf("test of a disabled endpoint: %d %s", r.Status, r.Raw)
			}
			if r := call(t, c, "DELETE", hook, nil, bearer(a.admin)...); r.Status != 204 {
				t.Fatalf("delete: %d %s", r.Status, r.Raw)
			}
			if r := call(t, c, "GET", hook, nil, bearer(a.admin)...); r.Status != 404 {
				t.Errorf("deleted, read: %d", r.Status)
			}
			// The instance's endpoints are not an account administrator's.
			if r := call(t, c, "GET", env.URL+"/api/v1/webhooks", nil, bearer(a.admin)...); r.Status != 403 || r.code() != "webhook.instance_admin_only" {
				t.Errorf("instance endpoints by an account's administrator: %d %s", r.Status, r.Raw)
			}
		})
	}
}

func TestWebhooks_AnEndpointFailingForADayIsDisabledAndItsAdministratorEmailed(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			clk := apptest.NewClock(time.Now().UTC().Truncate(time.Second))
			env := apptest.Start(t, e, apptest.Options{Now: clk.Now, Configure: loopbackHooks})
			c := env.Client()
			a := newTenant(t, env, "owner@fail.example")
			rc := newHookReceiver(t)
			rc.status.Store(http.StatusInternalServerError)
			r := call(t, c, "POST", a.url("/webhooks"), map[string]any{"url": rc.URL, "types": []string{"*"}}, bearer(a.admin)...)
			if r.Status != 201 {
				t.Fatalf("create: %d %s", r.Status, r.Raw)
			}
			hook := a.url("/webhooks/" + r.JSON["id"].(string))
			tr := call(t, c, "POST", hook+"/test", nil, bearer(a.admin)...)
			delivery := hook + "/deliveries/" + tr.JSON["id"].(string)
			// A key reads the log: a session would end, idle, within the day.
			key := a.key(t, "admin")
			for i, wait := range append([]time.Duration{0}, webhook.Schedule...) {
				clk.Advance(wait)
				env.App.Webhooks.Wake()
				env.AwaitWork(t, fmt.Sprintf("attempt %d", i+1), func() bool {
					d := call(t, c, "GET", delivery, nil, bearer(key)...)
					n, _ := d.JSON["attempts"].(float64)
					return int(n) == i+1
				})
			}
			d := call(t, c, "GET", delivery, nil, bearer(key)...)
			if d.JSON["status"] != "abandoned" || d.JSON["response_code"] != 500.0 {
				t.Errorf("after the last attempt: %s", d.Raw)
			}
			m := env.Mail(t, "owner@fail.example", "webhook_disabled")
			if !strings.Contains(m.Text, rc.URL) {
				t.Errorf("the email does not name the endpoint:\n%s", m.Text)
			}
			h := call(t, c, "GET", hook, nil, bearer(key)...)
			if h.JSON["enabled"] != false || h.JSON["disabled_reason"] != "webhook.failing" {
				t.Errorf("endpoint: %s", h.Raw)
			}
		})
	}
}

// rawCall sends body as it is (no JSON encoding) and reports an answer 5xx.
func rawCall(t *testing.T, method, u, body, token string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	apptest.NoServerError(t, req, fmt.Sprintf("%s %s %.200s", method, u, body))
}

// badBodies are request bodies of the wrong shape or holding strange URLs.
var badBodies = []string{``, `null`, `[]`, `{"url": 5}`, `{"url": "https://[::1"}`, `{"url": "https://%zz"}`,
	`{"url": "https://a.example/", "types": "x"}`, `{"url": "https://a.example/", "types": [null]}`,
	`{"url": "https://a.example/", "types": ["*"], "enabled": "yes"}`,
	`{"url": "https://` + strings.Repeat("a", 3000) + `.example/", "types": ["*"]}`,
	`{"url": "https://a.example/", "types": ["*"], "description": "` + strings.Repeat("d", 100000) + `"}`,
	`{"url": "https://a.example/\u0000", "types": ["*"]}`, `{"url": "https://a.example:99999/", "types": ["*"]}`,
	`{"url": "https://[fe80::1%25eth0]/", "types": ["*"]}`, `{"url": "https://0x7f.1/", "types": ["*"]}`,
	`{"name": 5}`, `{"name": "x", "redirect_uris": "https://a.example/"}`, `{"name": "x", "redirect_uris": [null]}`,
	`{"name": "x", "redirect_uris": ["https://[::1"]}`, `{"name": "x", "redirect_uris": ["https://a.example/"], "scopes": [5]}`,
	`{"name": "x", "redirect_uris": ["https://a.example/"], "public": "yes"}`}

// TestWebhooks_BadInputIsNeverAServerError sends an account's webhook API
// bodies of the wrong shape, strange URLs, unknown IDs and bad paging: every
// answer is a client error, never a 5xx.
func TestWebhooks_BadInputIsNeverAServerError(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{Configure: loopbackHooks})
	a := newTenant(t, env, "owner@a.example")
	rc := newHookReceiver(t)
	r := call(t, env.Client(), "POST", a.url("/webhooks"), map[string]any{"url": rc.URL + "/x", "types": []string{"*"}}, bearer(a.admin)...)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	id := r.JSON["id"].(string)
	for _, b := range badBodies {
		rawCall(t, "POST", a.url("/webhooks"), b, a.admin)
		rawCall(t, "PATCH", a.url("/webhooks/"+id), b, a.admin)
	}
	for _, p := range []string{"/webhooks/nope", "/webhooks/" + id + "/deliveries?limit=-1", "/webhooks/" + id + "/deliveries?limit=abc",
		"/webhooks/" + id + "/deliveries?cursor=garbage", "/webhooks/" + id + "/deliveries?limit=100000",
		"/webhooks/" + id + "/deliveries/nope", "/webhooks/" + id + "/deliveries/00000000-0000-0000-0000-000000000000",
		"/webhooks?limit=0", "/webhooks?cursor=%ff"} {
		rawCall(t, "GET", a.url(p), "", a.admin)
	}
	for _, p := range []string{"/webhooks/nope/test", "/webhooks/" + id + "/deliveries/nope/redeliver",
		"/webhooks/" + id + "/deliveries/00000000-0000-0000-0000-000000000000/redeliver", "/webhooks/nope/rotate-secret"} {
		rawCall(t, "POST", a.url(p), "", a.admin)
	}
	rawCall(t, "DELETE", a.url("/webhooks/nope"), "", a.admin)
}

// action returns the answer for the action name in an answer's actions.
func action(r response, name string) map[string]any {
	as, _ := r.JSON["actions"].(map[string]any)
	a, _ := as[name].(map[string]any)
	return a
}

// TestWebhooks_RoutingTheLogNeedsItsPermissionAndADisabledEndpointHoldsItsQueue
// plays, over HTTP, what the use cases decide: a key with webhooks.manage
// alone routes no event and re-delivers nothing; a failure comes with its
// code; a disabled endpoint's queued delivery announces no attempt and is
// not re-delivered; an empty change writes nothing; a body given to an
// action that takes none is read like any other; a cursor is its own
// account's.
func TestWebhooks_RoutingTheLogNeedsItsPermissionAndADisabledEndpointHoldsItsQueue(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{Configure: loopbackHooks})
			c := env.Client()
			a, b := newTenant(t, env, "owner@a.example"), newTenant(t, env, "owner@b.example")
			rc := newHookReceiver(t)
			rc.status.Store(http.StatusInternalServerError)
			if r := call(t, c, "POST", a.url("/roles"), map[string]any{"key": "hooks", "label_en": "Hook manager",
				"permissions": map[string]any{"webhooks.manage": true}}, bearer(a.admin)...); r.Status != 201 {
				t.Fatalf("role: %d %s", r.Status, r.Raw)
			}
			hooks := a.key(t, "hooks")
			if r := call(t, c, "POST", a.url("/webhooks"), map[string]any{"url": rc.URL + "/mine", "types": []string{"*"}}, bearer(hooks)...); r.Status != 403 || r.code() != "access.permission_required" {
				t.Errorf("create with webhooks.manage alone: %d %s", r.Status, r.Raw)
			}
			if r := call(t, c, "GET", a.url(""), nil, bearer(hooks)...); action(r, "create_webhook")["allowed"] != false || action(r, "manage_webhooks")["allowed"] != true {
				t.Errorf("the account's actions: %s", r.Raw)
			}
			r := call(t, c, "POST", a.url("/webhooks"), map[string]any{"url": rc.URL + "/a", "types": []string{"contact.created"}}, bearer(a.admin)...)
			if r.Status != 201 {
				t.Fatalf("create: %d %s", r.Status, r.Raw)
			}
			hook := a.url("/webhooks/" + r.JSON["id"].(string))
			updated := call(t, c, "GET", hook, nil, bearer(a.admin)...).JSON["updated_at"]
			if r := call(t, c, "POST", a.url("/contacts"), map[string]any{"last_name": "Comptable", "email": "c@a.example",
				"kinds": []string{"billing"}}, bearer(a.admin)...); r.Status != 201 {
				t.Fatalf("contact: %d %s", r.Status, r.Raw)
			}
			var d map[string]any
			env.AwaitWork(t, "the failed attempt recorded", func() bool {
				r := call(t, c, "GET", hook+"/deliveries?limit=10", nil, bearer(a.admin)...)
				items, _ := r.JSON["items"].([]any)
				if len(items) == 1 {
					d = items[0].(map[string]any)
				}
				return d != nil && d["attempts"] == 1.0
			})
			delivery := hook + "/deliveries/" + d["id"].(string)
			one := call(t, c, "GET", delivery, nil, bearer(a.admin)...)
			att := one.JSON["attempt_log"].([]any)[0].(map[string]any)
			if d["last_error_code"] != "webhooks.error_status" || d["last_error"] != "answered 500" || att["error_code"] != "webhooks.error_status" {
				t.Errorf("a failure's code: %v, attempt %v", d, att)
			}

			// webhooks.manage alone: neither the URL, nor the types, nor a re-delivery.
			if r := call(t, c, "GET", hook, nil, bearer(hooks)...); action(r, "route")["allowed"] != false || action(r, "edit")["allowed"] != true {
				t.Errorf("the endpoint's actions for the key: %s", r.Raw)
			}
			for _, body := range []map[string]any{{"url": rc.URL + "/stolen"}, {"types": []string{"*"}}} {
				if r := call(t, c, "PATCH", hook, body, bearer(hooks)...); r.Status != 403 || r.code() != "access.permission_required" {
					t.Errorf("PATCH %v by the key: %d %s", body, r.Status, r.Raw)
				}
			}
			if r := call(t, c, "POST", delivery+"/redeliver", nil, bearer(hooks)...); r.Status != 403 || r.code() != "access.permission_required" {
				t.Errorf("re-delivery by the key: %d %s", r.Status, r.Raw)
			}

			// An empty change changes nothing.
			audit := func() int {
				r := call(t, c, "GET", a.url("/audit?limit=200"), nil, bearer(a.admin)...)
				return len(r.JSON["items"].([]any))
			}
			before := audit()
			for _, body := range []map[string]any{{}, {"url": nil}} {
				if r := call(t, c, "PATCH", hook, body, bearer(a.admin)...); r.Status != 200 || r.JSON["updated_at"] != updated {
					t.Errorf("PATCH %v: %d %s", body, r.Status, r.Raw)
				}
			}
			if after := audit(); after != before {
				t.Errorf("an empty change recorded %d events", after-before)
			}

			// Disabled: the queued delivery waits with no attempt due, and is not re-delivered.
			if r := call(t, c, "PATCH", hook, map[string]any{"enabled": false}, bearer(a.admin)...); r.Status != 200 {
				t.Fatalf("disable: %d %s", r.Status, r.Raw)
			}
			one = call(t, c, "GET", delivery, nil, bearer(a.admin)...)
			if one.JSON["status"] != "queued" || one.JSON["next_attempt_at"] != nil || action(one, "redeliver")["allowed"] != false ||
				action(one, "redeliver")["code"] != "webhook.already_disabled" {
				t.Errorf("a delivery of a disabled endpoint: %s", one.Raw)
			}
			if r := call(t, c, "POST", delivery+"/redeliver", nil, bearer(a.admin)...); r.Status != 409 || r.code() != "webhook.already_disabled" {
				t.Errorf("re-delivery to a disabled endpoint: %d %s", r.Status, r.Raw)
			}

			// An action that takes no body refuses a member, as every request does.
			for _, path := range []string{"/rotate-secret", "/test", "/deliveries/" + d["id"].(string) + "/redeliver"} {
				if r := call(t, c, "POST", hook+path, map[string]any{"x": 1}, bearer(a.admin)...); r.Status != 400 || r.code() != "request.unknown_field" {
					t.Errorf("POST %s with a member: %d %s", path, r.Status, r.Raw)
				}
			}
			if r := call(t, c, "POST", hook+"/rotate-secret", map[string]any{}, bearer(a.admin)...); r.Status != 200 {
				t.Errorf("rotate with an empty object: %d %s", r.Status, r.Raw)
			}

			// A cursor of a's endpoints is not b's.
			call(t, c, "POST", a.url("/webhooks"), map[string]any{"url": rc.URL + "/a2", "types": []string{"*"}}, bearer(a.admin)...)
			page := call(t, c, "GET", a.url("/webhooks?limit=1"), nil, bearer(a.admin)...)
			cursor, _ := page.JSON["next_cursor"].(string)
			if cursor == "" {
				t.Fatalf("first page: %s", page.Raw)
			}
			if r := call(t, c, "GET", b.url("/webhooks?limit=1&cursor="+cursor), nil, bearer(b.admin)...); r.Status != 400 || r.fieldCodes()["cursor"] != "request.cursor_invalid" {
				t.Errorf("a's cursor on b's list: %d %s", r.Status, r.Raw)
			}
		})
	}
}
