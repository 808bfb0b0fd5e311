package api_test

import (
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
)

// TestInstanceWebhooks_AnInstanceAdministratorManagesTheInstancesEndpointsOthersAreRefused
// takes an endpoint of the instance (/api/v1/webhooks) through its life,
// with an instance administrator's session and an instance key: created
// (its secret shown once), listed, read, changed, its secret rotated, a
// test event sent and read in its deliveries, deleted. An account's
// administrator and an account's key are refused at every step, an
// unknown endpoint or an account's endpoint is not found there, and bad
// input is refused field by field; a refusal changes nothing.
func TestInstanceWebhooks_AnInstanceAdministratorManagesTheInstancesEndpointsOthersAreRefused(t *testing.T) {
	eachWith(t, func() apptest.Options { return apptest.Options{Configure: loopbackHooks} }, func(t *testing.T, env *apptest.Env) {
		ctx := t.Context()
		c := env.Client()
		_, admin := instanceAdminSession(t, env)
		_, key, err := env.App.Team.CreateKey(ctx, instanceActor(t, env), nil, teamNewKey("vendor backend"))
		if err != nil {
			t.Fatal(err)
		}
		a := newTenant(t, env, "owner@a.example")
		accountKey := a.key(t, "admin")
		rc := newHookReceiver(t)
		base := env.URL + "/api/v1/webhooks"
		stored := func() []equipe.WebhookEndpoint {
			t.Helper()
			es, _, err := env.App.DB.WebhookEndpoints(ctx, nil, equipe.Page{})
			if err != nil {
				t.Fatal(err)
			}
			return es
		}

		// Refused creations make nothing.
		good := map[string]any{"url": rc.URL + "/vendor", "description": "Vendor", "types": []string{"*"}}
		for _, who := range []struct{ name, token string }{{"an account's administrator", a.admin}, {"an account's key", accountKey}} {
			if r := call(t, c, "POST", base, good, bearer(who.token)...); r.Status != 403 || r.code() != "webhook.instance_admin_only" {
				t.Errorf("create by %s: %d %s", who.name, r.Status, r.Raw)
			}
			if r := call(t, c, "GET", base, nil, bearer(who.token)...); r.Status != 403 || r.code() != "webhook.instance_admin_only" {
				t.Errorf("list by %s: %d %s", who.name, r.Status, r.Raw)
			}
		}
		r := call(t, c, "POST", base, map[string]any{"url": "http://hooks.example.com/", "types": []string{"user.flew"}}, bearer(admin)...)
		if r.Status != 422 || r.fieldCodes()["url"] != "webhook.url_https" || r.fieldCodes()["types"] != "webhook.type_unknown" {
			t.Errorf("bad endpoint: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "POST", base, map[string]any{"url": rc.URL, "types": []string{"*"}, "secret": "mine"}, bearer(admin)...); r.Status != 400 ||
			r.fieldCodes()["secret"] != "request.unknown_field" {
			t.Errorf("unknown member: %d %s", r.Status, r.Raw)
		}
		if es := stored(); len(es) != 0 {
			t.Fatalf("the refusals made endpoints: %+v", es)
		}

		// Created by the session: the secret once, no account.
		r = call(t, c, "POST", base, good, bearer(admin)...)
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		id := r.JSON["id"].(string)
		secret, _ := r.JSON["secret"].(string)
		if !strings.HasPrefix(secret, "whsec_") || r.JSON["account_id"] != nil || r.JSON["url"] != rc.URL+"/vendor" ||
			r.JSON["description"] != "Vendor" || r.JSON["enabled"] != true || r.JSON["rotating"] != false ||
			r.Header.Get("Location") != "/api/v1/webhooks/"+id {
			t.Errorf("create: %s %v", r.Raw, r.Header)
		}
		hook := base + "/" + id
		es := stored()
		if len(es) != 1 || es[0].ID.String() != id || es[0].AccountID != nil || es[0].URL != rc.URL+"/vendor" ||
			len(es[0].Types) != 1 || es[0].Types[0] != "*" || !es[0].Enabled {
			t.Fatalf("stored: %+v", es)
		}

		// Listed and read by the instance key, never with the secret.
		r = call(t, c, "GET", base, nil, bearer(key)...)
		if items, _ := r.JSON["items"].([]any); r.Status != 200 || len(items) != 1 || items[0].(map[string]any)["id"] != id ||
			items[0].(map[string]any)["secret"] != nil {
			t.Errorf("list: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", hook, nil, bearer(key)...); r.Status != 200 || r.JSON["id"] != id || r.JSON["secret"] != nil ||
			r.JSON["description"] != "Vendor" {
			t.Errorf("read: %d %s", r.Status, r.Raw)
		}

		// An account's endpoint is not the instance's, nor the instance's
		// an account's.
		r = call(t, c, "POST", a.url("/webhooks"), map[string]any{"url": rc.URL + "/a", "types": []string{"*"}}, bearer(a.admin)...)
		if r.Status != 201 {
			t.Fatalf("an account's endpoint: %d %s", r.Status, r.Raw)
		}
		accountHook := base + "/" + r.JSON["id"].(string)
		unknown := base + "/" + equipe.NewID().String()
		if r := call(t, c, "GET", a.url("/webhooks/"+id), nil, bearer(a.admin)...); r.Status != 404 || r.code() != "error.not_found" {
			t.Errorf("the instance's endpoint under the account: %d %s", r.Status, r.Raw)
		}

		// Every route of an endpoint: refused to the account's
		// administrator and key, not found for an unknown endpoint or an
		// account's.
		routes := []struct {
			method, path string
			body         any
		}{
			{"GET", "", nil}, {"PATCH", "", map[string]any{"description": "Mine"}}, {"POST", "/rotate-secret", nil},
			{"POST", "/test", nil}, {"GET", "/deliveries", nil}, {"DELETE", "", nil},
		}
		for _, rt := range routes {
			for _, who := range []struct{ name, token string }{{"an account's administrator", a.admin}, {"an account's key", accountKey}} {
				if r := call(t, c, rt.method, hook+rt.path, rt.body, bearer(who.token)...); r.Status != 403 || r.code() != "webhook.instance_admin_only" {
					t.Errorf("%s %s by %s: %d %s", rt.method, rt.path, who.name, r.Status, r.Raw)
				}
			}
			for _, missing := range []string{unknown, accountHook} {
				if r := call(t, c, rt.method, missing+rt.path, rt.body, bearer(admin)...); r.Status != 404 || r.code() != "error.not_found" {
					t.Errorf("%s %s of %s: %d %s", rt.method, rt.path, missing, r.Status, r.Raw)
				}
			}
		}
		if es := stored(); len(es) != 1 || es[0].Description != "Vendor" || es[0].PreviousSecret != nil {
			t.Fatalf("the refusals changed the endpoint: %+v", es)
		}

		// Changed: a bad change changes nothing, a good one what it sends.
		if r := call(t, c, "PATCH", hook, map[string]any{"description": "Renamed", "types": []string{"user.flew"}}, bearer(key)...); r.Status != 422 ||
			r.fieldCodes()["types"] != "webhook.type_unknown" {
			t.Errorf("a bad change: %d %s", r.Status, r.Raw)
		}
		r = call(t, c, "PATCH", hook, map[string]any{"description": "Renamed", "types": []string{"contact.created", "member.added"}}, bearer(key)...)
		if types, _ := r.JSON["types"].([]any); r.Status != 200 || r.JSON["description"] != "Renamed" || len(types) != 2 ||
			r.JSON["url"] != rc.URL+"/vendor" || r.JSON["secret"] != nil {
			t.Errorf("change: %d %s", r.Status, r.Raw)
		}
		if es := stored(); len(es) != 1 || es[0].Description != "Renamed" || len(es[0].Types) != 2 || es[0].URL != rc.URL+"/vendor" {
			t.Errorf("stored after the change: %+v", es)
		}

		// Rotated: a new secret, the old one kept for a while.
		r = call(t, c, "POST", hook+"/rotate-secret", nil, bearer(admin)...)
		if again, _ := r.JSON["secret"].(string); r.Status != 200 || !strings.HasPrefix(again, "whsec_") || again == secret ||
			r.JSON["rotating"] != true || r.JSON["rotation_ends_at"] == nil {
			t.Errorf("rotate: %d %s", r.Status, r.Raw)
		}
		if es := stored(); len(es) != 1 || es[0].PreviousSecret == nil || es[0].PreviousUntil.IsZero() {
			t.Errorf("stored after the rotation: %+v", es)
		}

		// A test event: queued, delivered, in the deliveries.
		r = call(t, c, "POST", hook+"/test", nil, bearer(key)...)
		if r.Status != 202 || r.JSON["type"] != equipe.WebhookTestType || r.JSON["status"] != "queued" {
			t.Fatalf("test: %d %s", r.Status, r.Raw)
		}
		delivery := r.JSON["id"].(string)
		// The instance's endpoint hears every account's events too: the
		// test message is the one with the delivery's webhook-id.
		sent := func() []hookMessage {
			var out []hookMessage
			for _, m := range rc.messages() {
				if m.header.Get("webhook-id") == delivery {
					out = append(out, m)
				}
			}
			return out
		}
		env.AwaitWork(t, "the test event", func() bool { return len(sent()) == 1 })
		if m := sent()[0]; !strings.Contains(string(m.body), `"type":"webhook.test"`) || !strings.Contains(string(m.body), `"account_id":null`) {
			t.Errorf("the test event: %s", m.body)
		}
		var d response
		env.AwaitWork(t, "the delivery noted", func() bool {
			d = call(t, c, "GET", hook+"/deliveries/"+delivery, nil, bearer(admin)...)
			return d.JSON["status"] == "delivered"
		})
		if att, _ := d.JSON["attempt_log"].([]any); d.Status != 200 || d.JSON["id"] != delivery || len(att) != 1 ||
			att[0].(map[string]any)["response_code"] != 200.0 {
			t.Errorf("the delivery: %d %s", d.Status, d.Raw)
		}
		r = call(t, c, "GET", hook+"/deliveries", nil, bearer(key)...)
		var listed map[string]any
		items, _ := r.JSON["items"].([]any)
		for _, it := range items {
			if it.(map[string]any)["id"] == delivery {
				listed = it.(map[string]any)
			}
		}
		if r.Status != 200 || listed == nil || listed["status"] != "delivered" || listed["response_code"] != 200.0 ||
			listed["type"] != equipe.WebhookTestType {
			t.Errorf("deliveries: %d %s", r.Status, r.Raw)
		}
		if n, err := env.App.DB.WebhookDeliveries(ctx, equipe.MustParse(id), nil, 100); err != nil || len(n) != len(items) {
			t.Errorf("stored deliveries: %d of %d listed, %v", len(n), len(items), err)
		}
		// Sent again, with the same webhook-id.
		if r := call(t, c, "POST", hook+"/deliveries/"+delivery+"/redeliver", nil, bearer(admin)...); r.Status != 202 || r.JSON["id"] != delivery {
			t.Fatalf("redeliver: %d %s", r.Status, r.Raw)
		}
		env.AwaitWork(t, "the re-delivery", func() bool { return len(sent()) == 2 })
		for _, who := range []struct{ name, token string }{{"an account's administrator", a.admin}, {"an account's key", accountKey}} {
			if r := call(t, c, "GET", hook+"/deliveries/"+delivery, nil, bearer(who.token)...); r.Status != 403 || r.code() != "webhook.instance_admin_only" {
				t.Errorf("a delivery read by %s: %d %s", who.name, r.Status, r.Raw)
			}
		}
		if r := call(t, c, "GET", hook+"/deliveries/"+equipe.NewID().String(), nil, bearer(admin)...); r.Status != 404 || r.code() != "error.not_found" {
			t.Errorf("an unknown delivery: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", hook+"/deliveries?limit=0", nil, bearer(admin)...); r.Status != 400 || r.fieldCodes()["limit"] != "request.limit_invalid" {
			t.Errorf("a bad page: %d %s", r.Status, r.Raw)
		}

		// Deleted: gone from the store, the list and its path.
		if r := call(t, c, "DELETE", hook, nil, bearer(admin)...); r.Status != 204 || len(r.Raw) != 0 {
			t.Fatalf("delete: %d %s", r.Status, r.Raw)
		}
		if es := stored(); len(es) != 0 {
			t.Errorf("stored after the deletion: %+v", es)
		}
		if r := call(t, c, "GET", base, nil, bearer(key)...); r.Status != 200 || len(r.JSON["items"].([]any)) != 0 {
			t.Errorf("list after the deletion: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", hook, nil, bearer(key)...); r.Status != 404 || r.code() != "error.not_found" {
			t.Errorf("read after the deletion: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "DELETE", hook, nil, bearer(key)...); r.Status != 404 || r.code() != "error.not_found" {
			t.Errorf("deleted again: %d %s", r.Status, r.Raw)
		}
		// The account's endpoint is untouched.
		if r := call(t, c, "GET", a.url("/webhooks"), nil, bearer(a.admin)...); r.Status != 200 || len(r.JSON["items"].([]any)) != 1 {
			t.Errorf("the account's endpoints: %d %s", r.Status, r.Raw)
		}
	})
}
