package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
)

// TestMySessions_ListEndOneEndOthersAndNeverAnotherPersons: a person lists
// their sessions (public IDs, never tokens; browser and system read from the
// User-Agent), ends one, then all others; another person's session is not
// found and stays.
func TestMySessions_ListEndOneEndOthersAndNeverAnotherPersons(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		bob := env.AddMember(t, a.account, "bob@a.example", "collaborator", equipe.MemberActive)
		login := func(email, password, ua string) string {
			t.Helper()
			r := call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": email, "password": password}, "User-Agent", ua)
			if r.Status != 200 {
				t.Fatalf("login: %d %s", r.Status, r.Raw)
			}
			return r.JSON["token"].(string)
		}
		phone := login("owner@a.example", goodPassword, safariUA)
		laptop := login("owner@a.example", goodPassword, firefoxUA)

		r := call(t, env.Client(), "GET", env.URL+"/api/v1/me/sessions", nil, bearer(laptop)...)
		if r.Status != 200 {
			t.Fatalf("list: %d %s", r.Status, r.Raw)
		}
		items := r.JSON["items"].([]any)
		if len(items) != 3 {
			t.Fatalf("three sessions (the sign-up's login, the phone, the laptop): %s", r.Raw)
		}
		first := items[0].(map[string]any)
		if first["current"] != true || first["browser"] != "Firefox 133" || first["system"] != "Windows" ||
			first["user_agent"] != firefoxUA || first["ip"] != "127.0.0.1" {
			t.Fatalf("the current session: %s", r.Raw)
		}
		for _, secret := range []string{phone, laptop, a.admin} {
			if strings.Contains(string(r.Raw), secret) {
				t.Fatal("the list shows a session's token")
			}
		}
		var phoneID string
		for _, it := range items[1:] {
			m := it.(map[string]any)
			if m["current"] != false {
				t.Fatalf("two current sessions: %s", r.Raw)
			}
			if m["browser"] == "Safari 17" && m["system"] == "iOS" {
				phoneID = m["id"].(string)
			}
		}
		if phoneID == "" {
			t.Fatalf("no phone session: %s", r.Raw)
		}

		// Bob's session is not the owner's to end.
		bobs := call(t, env.Client(), "GET", env.URL+"/api/v1/me/sessions", nil, bearer(bob.Token)...)
		bobID := bobs.JSON["items"].([]any)[0].(map[string]any)["id"].(string)
		for _, id := range []string{bobID, equipe.NewID().String(), "not-an-id"} {
			if r := call(t, env.Client(), "DELETE", env.URL+"/api/v1/me/sessions/"+id, nil, bearer(laptop)...); r.Status != 404 {
				t.Fatalf("end %s: %d %s", id, r.Status, r.Raw)
			}
		}
		if r := call(t, env.Client(), "GET", env.URL+"/api/v1/me", nil, bearer(bob.Token)...); r.Status != 200 {
			t.Fatalf("bob's session: %d", r.Status)
		}

		if r := call(t, env.Client(), "DELETE", env.URL+"/api/v1/me/sessions/"+phoneID, nil, bearer(laptop)...); r.Status != 204 {
			t.Fatalf("end the phone's: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", env.URL+"/api/v1/me", nil, bearer(phone)...); r.Status != 401 {
			t.Fatalf("the phone after its end: %d", r.Status)
		}
		r = call(t, env.Client(), "DELETE", env.URL+"/api/v1/me/sessions", nil, bearer(laptop)...)
		if r.Status != 200 || r.JSON["sessions_ended"] != 1.0 {
			t.Fatalf("end the others: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", env.URL+"/api/v1/me", nil, bearer(a.admin)...); r.Status != 401 {
			t.Fatalf("the sign-up's session after ending the others: %d", r.Status)
		}
		r = call(t, env.Client(), "GET", env.URL+"/api/v1/me/sessions", nil, bearer(laptop)...)
		if items := r.JSON["items"].([]any); len(items) != 1 || items[0].(map[string]any)["current"] != true {
			t.Fatalf("left: %s", r.Raw)
		}
		if r := call(t, env.Client(), "GET", env.URL+"/api/v1/me", nil, bearer(bob.Token)...); r.Status != 200 {
			t.Fatalf("bob's session after the owner ended her others: %d", r.Status)
		}

		// Ending the current session is a logout.
		laptopID := r.JSON["items"].([]any)[0].(map[string]any)["id"].(string)
		if r := call(t, env.Client(), "DELETE", env.URL+"/api/v1/me/sessions/"+laptopID, nil, bearer(laptop)...); r.Status != 204 {
			t.Fatalf("end the current one: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", env.URL+"/api/v1/me/sessions", nil, bearer(laptop)...); r.Status != 401 {
			t.Fatalf("after ending the current one: %d", r.Status)
		}
	})
}

const (
	firefoxUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
	safariUA  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

// TestNewBrowserAlert_SentOncePerNewBrowserAndNotWhenOff: the sign-up's
// first login teaches its browser; a login from another browser emails
// once, and that browser (keeping its cookie) is known from then on; with
// new_browser_alerts off through PATCH /api/v1/me, nothing is sent.
func TestNewBrowserAlert_SentOncePerNewBrowserAndNotWhenOff(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		const email = "ada@example.com"
		first := env.Client()
		if r := call(t, first, "POST", env.URL+"/api/v1/signup", signupBody(email)); r.Status != 201 {
			t.Fatalf("signup: %d %s", r.Status, r.Raw)
		}
		login := func(c *http.Client) response {
			t.Helper()
			r := call(t, c, "POST", env.URL+"/api/v1/session", map[string]any{"email": email, "password": goodPassword}, "User-Agent", safariUA)
			if r.Status != 200 {
				t.Fatalf("login: %d %s", r.Status, r.Raw)
			}
			return r
		}
		token := login(first).JSON["token"].(string)
		call(t, first, "POST", env.URL+"/api/v1/me/consent", map[string]any{"accept_privacy_policy": true}, bearer(token)...)
		login(first)
		if n := len(env.Outbox(t, "new_browser_login")); n != 0 {
			t.Fatalf("the first browser: %d alerts", n)
		}
		phone := env.Client()
		login(phone)
		login(phone)
		if n := len(env.Outbox(t, "new_browser_login")); n != 1 {
			t.Fatalf("a second browser, twice: %d alerts", n)
		}
		m := env.Mail(t, email, "new_browser_login")
		for _, want := range []string{"Safari 17", "iOS", "127.0.0.1", env.URL + "/me/sessions", env.URL + "/me/password"} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("the alert lacks %q:\n%s", want, m.Text)
			}
		}

		if r := call(t, first, "GET", env.URL+"/api/v1/me", nil, bearer(token)...); r.JSON["new_browser_alerts"] != true {
			t.Fatalf("alerts on by default: %s", r.Raw)
		}
		if r := call(t, first, "PATCH", env.URL+"/api/v1/me", map[string]any{"new_browser_alerts": nil}, bearer(token)...); r.Status != 400 ||
			r.fieldCodes()["new_browser_alerts"] != "request.wrong_type" {
			t.Fatalf("null: %d %s", r.Status, r.Raw)
		}
		if r := call(t, first, "PATCH", env.URL+"/api/v1/me", map[string]any{"new_browser_alerts": "no"}, bearer(token)...); r.Status != 400 {
			t.Fatalf("a string: %d %s", r.Status, r.Raw)
		}
		r := call(t, first, "PATCH", env.URL+"/api/v1/me", map[string]any{"new_browser_alerts": false}, bearer(token)...)
		if r.Status != 200 || r.JSON["new_browser_alerts"] != false {
			t.Fatalf("turn them off: %d %s", r.Status, r.Raw)
		}
		login(env.Client())
		if n := len(env.Outbox(t, "new_browser_login")); n != 1 {
			t.Fatalf("a third browser, alerts off: %d alerts", n)
		}
		if r := call(t, first, "PATCH", env.URL+"/api/v1/me", map[string]any{"new_browser_alerts": true}, bearer(token)...); r.JSON["new_browser_alerts"] != true {
			t.Fatalf("turn them on: %d %s", r.Status, r.Raw)
		}
		login(env.Client())
		if n := len(env.Outbox(t, "new_browser_login")); n != 2 {
			t.Fatalf("a fourth browser, alerts on: %d alerts", n)
		}
	})
}
