package api_test

import (
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
