package authzen_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
)

// The tests of this file follow the examples of the specification
// (OpenID AuthZEN Authorization API 1.0), request for request, with
// equipe's people in place of the examples' Alice and Bob.

// TestMetadata_NamesEveryEndpointUnderThePDP: GET
// /.well-known/authzen-configuration answers the policy decision point's
// identifier (the public URL) and the five endpoints, without credentials.
func TestMetadata_NamesEveryEndpointUnderThePDP(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		req, _ := http.NewRequest("GET", env.URL+"/.well-known/authzen-configuration", nil)
		r := do(t, env, req)
		want := map[string]any{
			"policy_decision_point":       env.URL,
			"access_evaluation_endpoint":  env.URL + "/access/v1/evaluation",
			"access_evaluations_endpoint": env.URL + "/access/v1/evaluations",
			"search_subject_endpoint":     env.URL + "/access/v1/search/subject",
			"search_resource_endpoint":    env.URL + "/access/v1/search/resource",
			"search_action_endpoint":      env.URL + "/access/v1/search/action",
		}
		if r.Status != 200 || r.Header.Get("Content-Type") != "application/json" || !reflect.DeepEqual(r.JSON, want) {
			t.Fatalf("metadata: %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Raw)
		}
		req, _ = http.NewRequest("POST", env.URL+"/.well-known/authzen-configuration", nil)
		if r := do(t, env, req); r.Status != 405 {
			t.Errorf("POST on the metadata: %d", r.Status)
		}
	})
}

// TestEvaluation_TheSpecificationsExampleRequest: the example request
// ("can Alice read account 123?") is answered with a decision, the request
// identifier echoed; a denial is a 200 too.
func TestEvaluation_TheSpecificationsExampleRequest(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		tn := newTenant(t, env)
		alice := tn.member(t, "alice", "collaborator")
		body := obj{
			"subject":  user(alice.Email),
			"resource": obj{"type": "account", "id": tn.account.String()},
			"action":   obj{"name": "can_read", "properties": obj{"method": "GET"}},
			"context":  obj{"time": "1985-10-26T01:22-07:00"},
		}
		r := post(t, env, "/access/v1/evaluation", tn.key, body, "X-Request-ID", "bfe9eb29-ab87-4ca3-be83-a1d5d8305716")
		if r.Status != 200 || r.JSON["decision"] != true || r.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("can_read: %d %s", r.Status, r.Raw)
		}
		if got := r.Header.Get("X-Request-ID"); got != "bfe9eb29-ab87-4ca3-be83-a1d5d8305716" {
			t.Errorf("request identifier: %q", got)
		}
		ctx, _ := r.JSON["context"].(map[string]any)
		if ctx["reason"] != "allowed_scope_owned_or_unassigned" {
			t.Errorf("reason: %s", r.Raw)
		}
		body["action"] = act("members.manage")
		if r := post(t, env, "/access/v1/evaluation", tn.key, body); r.Status != 200 || r.JSON["decision"] != false {
			t.Fatalf("a denial: %d %s", r.Status, r.Raw)
		}
		if r := post(t, env, "/access/v1/evaluation", tn.key, body); r.Header.Get("X-Request-ID") != "" {
			t.Errorf("an identifier answered to a request without one: %q", r.Header.Get("X-Request-ID"))
		}
		// Every answer echoes it: refusals of the method or the path, and
		// the metadata.
		for _, c := range []struct {
			method, path string
			status       int
		}{
			{"GET", "/access/v1/evaluation", 405}, {"PUT", "/access/v1/evaluations", 405},
			{"POST", "/access/v1/search/foo", 404}, {"GET", "/.well-known/authzen-configuration", 200},
			{"POST", "/.well-known/authzen-configuration", 405},
		} {
			req, err := http.NewRequest(c.method, env.URL+c.path, strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tn.key)
			req.Header.Set("X-Request-ID", "req-42")
			if r := do(t, env, req); r.Status != c.status || r.Header.Get("X-Request-ID") != "req-42" {
				t.Errorf("%s %s: %d, X-Request-ID %q", c.method, c.path, r.Status, r.Header.Get("X-Request-ID"))
			}
		}
		// Whatever is not an API key is answered as no key: no session is
		// taken here.
		for _, auth := range []string{"Bearer equipe_short", "Bearer not-a-key", "Basic YTpi"} {
			req, _ := http.NewRequest("POST", env.URL+"/access/v1/evaluation", strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", auth)
			req.Header.Set("Accept", "application/problem+json")
			if r := do(t, env, req); r.Status != 401 || strings.Contains(string(r.Raw), "session") {
				t.Errorf("%s: %d %s", auth, r.Status, r.Raw)
			}
		}
	})
}

// TestEvaluations_DefaultsOverridesAndTheThreeSemantics: the batch examples
// of the specification: three full evaluations; defaults at the top level
// that an evaluation's own entities override; execute_all (the default)
// answers every evaluation in order, deny_on_first_deny stops at the first
// denial and says so, permit_on_first_permit at the first permission.
func TestEvaluations_DefaultsOverridesAndTheThreeSemantics(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		tn := newTenant(t, env)
		alice := tn.member(t, "alice", "collaborator") // records: owned_or_unassigned
		bob := tn.member(t, "bob", "collaborator")
		gina := tn.member(t, "gina", "guest") // records.view: all, no records.edit
		doc := func(id string, owner any) obj { return res("document", id, "ownerID", owner) }
		ctx := obj{"time": "2024-05-31T15:22-07:00"}

		// Three evaluations, no defaults.
		var full []obj
		for _, id := range []string{"boxcarring.md", "subject-search.md", "resource-search.md"} {
			full = append(full, obj{"subject": user(gina.Email), "action": act("can_read"), "resource": doc(id, nil), "context": ctx})
		}
		if got := decisions(t, post(t, env, "/access/v1/evaluations", tn.key, obj{"evaluations": full})); !reflect.DeepEqual(got, []bool{true, true, true}) {
			t.Errorf("full evaluations: %v", got)
		}
		// One subject and context; a default action the third overrides.
		r := post(t, env, "/access/v1/evaluations", tn.key, obj{
			"subject": user(gina.Email), "context": ctx, "action": act("can_read"),
			"evaluations": []obj{
				{"resource": doc("boxcarring.md", nil)},
				{"resource": doc("subject-search.md", nil)},
				{"action": act("can_edit"), "resource": doc("resource-search.md", nil)},
			}})
		if got := decisions(t, r); !reflect.DeepEqual(got, []bool{true, true, false}) {
			t.Errorf("defaults and an override: %v %s", got, r.Raw)
		}

		// Documents 1 (Alice's), 2 (Bob's) and 3 (nobody's), read by Alice.
		three := func(semantic string) response {
			body := obj{"subject": user(alice.ID.String()), "action": act("read"),
				"evaluations": []obj{{"resource": doc("1", alice.ID.String())}, {"resource": doc("2", bob.ID.String())},
					{"resource": doc("3", nil)}}}
			body["action"] = act("records.view")
			if semantic != "" {
				body["options"] = obj{"evaluations_semantic": semantic, "another_option": "value"}
			}
			return post(t, env, "/access/v1/evaluations", tn.key, body)
		}
		for _, s := range []string{"", "execute_all"} {
			if got := decisions(t, three(s)); !reflect.DeepEqual(got, []bool{true, false, true}) {
				t.Errorf("%q: %v", s, got)
			}
		}
		r = three("deny_on_first_deny")
		if got := decisions(t, r); !reflect.DeepEqual(got, []bool{true, false}) {
			t.Fatalf("deny_on_first_deny: %v", got)
		}
		second := r.JSON["evaluations"].([]any)[1].(map[string]any)["context"].(map[string]any)
		if second["code"] != "200" || second["reason"] != "deny_on_first_deny" || second["cause"] != "denied_scope" {
			t.Errorf("the denial that ends the batch: %v", second)
		}
		if got := decisions(t, three("permit_on_first_permit")); !reflect.DeepEqual(got, []bool{true}) {
			t.Errorf("permit_on_first_permit: %v", got)
		}
		if r := three("all_of_them"); r.Status != 400 || !strings.Contains(string(r.Raw), "evaluations_semantic") {
			t.Errorf("an unknown semantic: %d %s", r.Status, r.Raw)
		}

		// Without evaluations (absent or empty), the request is one
		// evaluation, answered as one.
		for _, evs := range []any{nil, []obj{}} {
			body := obj{"subject": user(alice.Email), "action": act("can_read"), "resource": doc("1", alice.ID.String())}
			if evs != nil {
				body["evaluations"] = evs
			}
			r := post(t, env, "/access/v1/evaluations", tn.key, body)
			if r.Status != 200 || r.JSON["decision"] != true || r.JSON["evaluations"] != nil {
				t.Errorf("no evaluations (%v): %d %s", evs, r.Status, r.Raw)
			}
		}
		// An evaluation without a resource, and none at the top level:
		// the request as a whole is refused, nothing evaluated.
		r = post(t, env, "/access/v1/evaluations", tn.key, obj{"subject": user(alice.Email), "action": act("can_read"),
			"evaluations": []obj{{"resource": doc("1", nil)}, {"action": act("can_edit")}}})
		if r.Status != 400 || !strings.Contains(string(r.Raw), "evaluations[1]") || !strings.Contains(string(r.Raw), "resource") {
			t.Errorf("a resource missing: %d %s", r.Status, r.Raw)
		}
		// An error of one evaluation (an instance key that names no
		// account) is in its context; the others are answered.
		ik := instanceKey(t, env)
		r = post(t, env, "/access/v1/evaluations", ik, obj{"subject": user(alice.Email), "action": act("can_read"),
			"evaluations": []obj{{"resource": res("document", "1", "account_id", tn.account.String(), "ownerID", nil)}, {"resource": doc("2", nil)},
				{"resource": doc("3", nil), "context": obj{"account_id": tn.account.String()}}}})
		if got := decisions(t, r); !reflect.DeepEqual(got, []bool{true, false, true}) {
			t.Fatalf("an error in one evaluation: %v %s", got, r.Raw)
		}
		e := r.JSON["evaluations"].([]any)[1].(map[string]any)["context"].(map[string]any)["error"].(map[string]any)
		if e["status"] != 400.0 || !strings.Contains(e["message"].(string), "account_id") {
			t.Errorf("the error: %v", e)
		}
	})
}

// TestErrors_AreStatusesWithAMessage: a request that breaks the protocol
// is refused as a whole, with the specification's statuses and an error
// message string (text/plain, in the caller's language), or the API's
// problem document when the caller asks for it; 401 says how to
// authenticate. Unknown members are ignored, as the specification asks.
func TestErrors_AreStatusesWithAMessage(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		tn := newTenant(t, env)
		ok := obj{"subject": user(tn.admin.User.Email), "action": act("can_read"), "resource": res("account", tn.account.String())}
		for _, tt := range []struct {
			name   string
			key    string
			body   any
			status int
			says   string
		}{
			{"no subject", tn.key, obj{"action": act("can_read"), "resource": res("account", "1")}, 400, "subject is required"},
			{"a subject without an id", tn.key, obj{"subject": obj{"type": "user"}, "action": act("can_read"), "resource": res("account", "1")}, 400, "subject.id is required"},
			{"no action", tn.key, obj{"subject": user("a@b.c"), "resource": res("account", "1")}, 400, "action is required"},
			{"an action without a name", tn.key, obj{"subject": user("a@b.c"), "action": obj{}, "resource": res("account", "1")}, 400, "action.name is required"},
			{"no resource", tn.key, obj{"subject": user("a@b.c"), "action": act("can_read")}, 400, "resource is required"},
			{"a resource without a type", tn.key, obj{"subject": user("a@b.c"), "action": act("can_read"), "resource": obj{"id": "1"}}, 400, "resource.type is required"},
			{"an id that is no string", tn.key, obj{"subject": obj{"type": "user", "id": 7}, "action": act("can_read"), "resource": res("account", "1")}, 400, "subject.id has the wrong type"},
			{"properties that are no object", tn.key, obj{"subject": obj{"type": "user", "id": "x", "properties": "admin"}, "action": act("can_read"), "resource": res("account", "1")}, 400, "subject.properties has the wrong type"},
			{"an unknown id_type", tn.key, obj{"subject": obj{"type": "user", "id": "x", "properties": obj{"id_type": "nickname"}}, "action": act("can_read"), "resource": res("account", "1")}, 400, "id_type must be id, external_id or email"},
			{"not JSON", tn.key, "{nope", 400, "not valid JSON"},
			{"an array", tn.key, "[]", 400, "must be a JSON object"},
			{"a member twice", tn.key, `{"subject":{"type":"user","id":"a"},"subject":{"type":"user","id":"b"},"action":{"name":"x"},"resource":{"type":"account","id":"1"}}`, 400, "more than once"},
			{"no key", "", ok, 401, "API key"},
			{"a bad key", "eqk_nope", ok, 401, ""},
		} {
			r := post(t, env, "/access/v1/evaluation", tt.key, tt.body, "Accept-Language", "en")
			if r.Status != tt.status || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") || !strings.Contains(string(r.Raw), tt.says) {
				t.Errorf("%s: %d %s %q", tt.name, r.Status, r.Header.Get("Content-Type"), r.Raw)
			}
			if tt.status == 401 && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer ") {
				t.Errorf("%s: WWW-Authenticate %q", tt.name, r.Header.Get("WWW-Authenticate"))
			}
		}
		// In French when asked, in English when no language is (a policy
		// point seldom says), with a key or without; a problem document
		// when asked.
		r := post(t, env, "/access/v1/evaluation", tn.key, obj{"action": act("x")}, "Accept-Language", "fr")
		if r.Status != 400 || string(r.Raw) != "subject est obligatoire." {
			t.Errorf("in French: %d %q", r.Status, r.Raw)
		}
		if r := post(t, env, "/access/v1/evaluation", tn.key, obj{"action": act("x")}); r.Status != 400 || string(r.Raw) != "subject is required." {
			t.Errorf("no language asked: %d %q", r.Status, r.Raw)
		}
		if r := post(t, env, "/access/v1/evaluation", "", ok); r.Status != 401 || !strings.Contains(string(r.Raw), "API key") {
			t.Errorf("no key, no language asked: %d %q", r.Status, r.Raw)
		}
		r = post(t, env, "/access/v1/evaluation", tn.key, obj{"action": act("x")}, "Accept", "application/problem+json", "Accept-Language", "en")
		if r.Status != 400 || r.JSON["code"] != "authzen.required" || r.JSON["status"] != 400.0 || r.JSON["detail"] != "subject is required." {
			t.Errorf("a problem document: %d %s", r.Status, r.Raw)
		}
		// Not JSON: 415.
		req, _ := http.NewRequest("POST", env.URL+"/access/v1/evaluation", strings.NewReader("subject=alice"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+tn.key)
		if r := do(t, env, req); r.Status != 415 {
			t.Errorf("a form: %d %s", r.Status, r.Raw)
		}
		// GET on an evaluation endpoint: 405.
		req, _ = http.NewRequest("GET", env.URL+"/access/v1/evaluation", nil)
		if r := do(t, env, req); r.Status != 405 || r.Header.Get("Allow") != "POST" {
			t.Errorf("GET: %d %s", r.Status, r.Header.Get("Allow"))
		}
		// Unknown members anywhere are ignored.
		body := obj{"subject": obj{"type": "user", "id": tn.admin.User.Email, "colour": "blue", "properties": obj{"department": "Sales"}},
			"action": obj{"name": "can_read", "verb": "GET"}, "resource": res("account", tn.account.String(), "library_record", obj{"isbn": "978"}),
			"context": obj{"time": "now"}, "extra": []any{1, 2}}
		if r := post(t, env, "/access/v1/evaluation", tn.key, body); r.Status != 200 || r.JSON["decision"] != true {
			t.Errorf("unknown members: %d %s", r.Status, r.Raw)
		}
		// A session is not an API key.
		if r := post(t, env, "/access/v1/evaluation", tn.admin.Token, ok); r.Status != 401 {
			t.Errorf("a session: %d %s", r.Status, r.Raw)
		}
	})
}

var _ = equipe.NewID
