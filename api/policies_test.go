package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store/storetest"
)

func TestPrivacyPolicies_AnAdministratorPublishesAVersionThatIsAskedFromItsDate(t *testing.T) {
	eachPolicyScene(t, func(t *testing.T, sc policyScene) {
		clk, env, c, token, admin, path := sc.clk, sc.env, sc.c, sc.token, sc.admin, sc.path

		// Someone who is no instance administrator neither lists nor publishes.
		if r := call(t, c, "GET", path, nil, bearer(token)...); r.Status != 404 {
			t.Errorf("a member's list: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "POST", path, map[string]any{"label": "Mine", "texts": map[string]any{"en": "x"}}, bearer(token)...); r.Status != 404 {
			t.Errorf("a member's publication: %d %s", r.Status, r.Raw)
		}
		// Bad input is refused, field by field, and publishes nothing.
		r := call(t, c, "POST", path, map[string]any{"label": "", "url": "ftp://example.com/p"}, bearer(admin)...)
		if r.Status != 422 || r.fieldCodes()["label"] != "name.required" || r.fieldCodes()["url"] != "policy.url_invalid" {
			t.Fatalf("bad input: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "POST", path, map[string]any{"label": "Empty"}, bearer(admin)...); r.Status != 422 || r.fieldCodes()["texts"] != "policy.text_or_url_required" {
			t.Fatalf("no text: %d %s", r.Status, r.Raw)
		}
		// A text in a language the service does not speak is said under
		// its own name, and alone.
		if r := call(t, c, "POST", path, map[string]any{"label": "German", "texts": map[string]any{"de": "Datenschutz."}}, bearer(admin)...); r.Status != 422 ||
			r.fieldCodes()["texts.de"] != "locale.invalid" || len(r.fieldCodes()) != 1 {
			t.Fatalf("a text in German: %d %s", r.Status, r.Raw)
		}

		// A version effective in half an hour is not asked before its date.
		later := clk.Now().Add(30 * time.Minute)
		r = call(t, c, "POST", path, map[string]any{"version": "2027-01", "label": "January 2027 edition",
			"texts": map[string]any{"en": "The new policy.", "fr": "La nouvelle politique."}, "effective_at": later}, bearer(admin)...)
		if r.Status != 201 || r.JSON["current"] != false || r.JSON["label"] != "January 2027 edition" {
			t.Fatalf("publish: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "POST", path, map[string]any{"version": "2027-01", "label": "Again", "texts": map[string]any{"en": "x"}}, bearer(admin)...); r.Status != 409 || r.code() != "policy.version_exists" {
			t.Fatalf("the same version again: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", env.URL+"/api/v1/me/accounts", nil, bearer(token)...); r.Status != 200 {
			t.Fatalf("before the date: %d %s", r.Status, r.Raw)
		}
		r = call(t, c, "GET", path, nil, bearer(admin)...)
		items := r.JSON["items"].([]any)
		if r.Status != 200 || len(items) != 2 || items[0].(map[string]any)["version"] != "2027-01" ||
			items[1].(map[string]any)["current"] != true || items[1].(map[string]any)["acceptances"] != 2.0 {
			t.Fatalf("list: %d %s", r.Status, r.Raw)
		}

		// From its date, everyone is asked again on their next request.
		clk.Advance(30*time.Minute + time.Second)
		r = call(t, c, "GET", env.URL+"/api/v1/me/accounts", nil, bearer(token)...)
		if r.Status != 403 || r.code() != "consent.required" {
			t.Fatalf("after the date: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", env.URL+"/api/v1/privacy-policy", nil); r.JSON["version"] != "2027-01" || r.JSON["texts"].(map[string]any)["en"] != "The new policy." {
			t.Fatalf("the policy shown: %s", r.Raw)
		}
		if r := call(t, c, "POST", env.URL+"/api/v1/me/consent", map[string]any{"accept_privacy_policy": true, "version": "2027-01"}, bearer(token)...); r.Status != 200 {
			t.Fatalf("accept: %d %s", r.Status, r.Raw)
		}

		// The administrator is asked too.
		clk.Advance(time.Second)
		if r := call(t, c, "POST", env.URL+"/api/v1/me/consent", map[string]any{"accept_privacy_policy": true, "version": "2027-01"}, bearer(admin)...); r.Status != 200 {
			t.Fatalf("the administrator's acceptance: %d %s", r.Status, r.Raw)
		}

		// The acceptances of the version, page by page, in the order they were made.
		r = call(t, c, "GET", path+"/2027-01/acceptances?limit=1", nil, bearer(admin)...)
		if r.Status != 200 || r.JSON["next_cursor"] == nil {
			t.Fatalf("acceptances: %d %s", r.Status, r.Raw)
		}
		got := r.JSON["items"].([]any)
		if len(got) != 1 || got[0].(map[string]any)["email"] != "augusta@example.com" || got[0].(map[string]any)["ip"] != "127.0.0.1" {
			t.Fatalf("acceptances: %s", r.Raw)
		}
		r = call(t, c, "GET", path+"/2027-01/acceptances?limit=1&cursor="+r.JSON["next_cursor"].(string), nil, bearer(admin)...)
		got = r.JSON["items"].([]any)
		if r.Status != 200 || len(got) != 1 || got[0].(map[string]any)["email"] == "augusta@example.com" || r.JSON["next_cursor"] != nil {
			t.Fatalf("second page: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", path+"/2027-01/acceptances?cursor=garbage", nil, bearer(admin)...); r.Status != 400 || r.fieldCodes()["cursor"] != "request.cursor_invalid" {
			t.Errorf("a bad cursor: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", path+"/nothing/acceptances", nil, bearer(admin)...); r.Status != 404 {
			t.Errorf("an unknown version: %d", r.Status)
		}
		if r := call(t, c, "GET", path+"/2027-01/acceptances", nil, bearer(token)...); r.Status != 404 {
			t.Errorf("a member's look at acceptances: %d", r.Status)
		}
	})
}

// TestPrivacyPolicies_AVersionIsWithdrawnBeforeItsDateOnly: DELETE withdraws
// a version yet to take effect (nobody is asked to accept it); one in
// effect answers 409, an unknown one and anyone but an instance
// administrator 404.
func TestPrivacyPolicies_AVersionIsWithdrawnBeforeItsDateOnly(t *testing.T) {
	eachPolicyScene(t, func(t *testing.T, sc policyScene) {
		clk, env, c, token, admin, path := sc.clk, sc.env, sc.c, sc.token, sc.admin, sc.path
		r := call(t, c, "POST", path, map[string]any{"version": "2027-01", "label": "January 2027 edition",
			"texts": map[string]any{"en": "The new policy."}, "effective_at": clk.Now().Add(20 * time.Minute)}, bearer(admin)...)
		if r.Status != 201 {
			t.Fatalf("publish: %d %s", r.Status, r.Raw)
		}
		current := call(t, c, "GET", env.URL+"/api/v1/privacy-policy", nil).JSON["version"].(string)
		for _, tt := range []struct {
			name, version, token string
			status               int
			code                 string
		}{
			{"by a member", "2027-01", token, 404, "error.not_found"},
			{"an unknown version", "2027-02", admin, 404, "error.not_found"},
			{"the version in effect", current, admin, 409, "policy.in_effect"},
		} {
			if r := call(t, c, "DELETE", path+"/"+tt.version, nil, bearer(tt.token)...); r.Status != tt.status || r.code() != tt.code {
				t.Errorf("%s: %d %s", tt.name, r.Status, r.Raw)
			}
		}
		if r := call(t, c, "DELETE", path+"/2027-01", nil, bearer(admin)...); r.Status != 204 {
			t.Fatalf("withdraw: %d %s", r.Status, r.Raw)
		}
		r = call(t, c, "GET", path, nil, bearer(admin)...)
		if items := r.JSON["items"].([]any); len(items) != 1 || items[0].(map[string]any)["version"] != current {
			t.Fatalf("after: %s", r.Raw)
		}
		clk.Advance(30 * time.Minute)
		if r := call(t, c, "GET", env.URL+"/api/v1/me/accounts", nil, bearer(token)...); r.Status != 200 {
			t.Fatalf("past the withdrawn version's date: %d %s", r.Status, r.Raw)
		}
	})
}

// policyScene is the stage of the policies' tests: a clock, the service, a
// member's session and an instance administrator's.
type policyScene struct {
	clk          *apptest.Clock
	env          *apptest.Env
	c            *http.Client
	token, admin string
	path         string // the versions' collection
}

func eachPolicyScene(t *testing.T, fn func(t *testing.T, sc policyScene)) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			clk := apptest.NewClock(time.Now().UTC().Truncate(time.Second))
			env := apptest.Start(t, e, apptest.Options{Now: clk.Now})
			token, _ := person(t, env, "augusta@example.com", "Augusta", "Byronique")
			_, admin := instanceAdminSession(t, env)
			fn(t, policyScene{clk: clk, env: env, c: env.Client(), token: token, admin: admin, path: env.URL + "/api/v1/privacy-policies"})
		})
	}
}
