package api_test

import (
	"encoding/json"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/passkeytest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// onLocalhost runs the service with the public URL http://localhost:{port},
// where passkeys work (a relying party needs a host name).
func onLocalhost() apptest.Options {
	return apptest.Options{Configure: func(c *app.Config) {
		_, port, _ := net.SplitHostPort(c.Addr)
		c.PublicURL, _ = url.Parse("http://localhost:" + port)
	}}
}

// registerPasskey registers a passkey named name for the person of the
// session token, as the page's ceremony does, with a software authenticator.
func registerPasskey(t *testing.T, env *apptest.Env, token, name string) store.Passkey {
	t.Helper()
	auth, err := env.App.Identity.Authenticate(t.Context(), token)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := env.App.Identity.BeginPasskeyRegistration(t.Context(), auth, name, "", equipeOrigin)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(opts)
	answer, err := passkeytest.New(env.Origin).Create(raw)
	if err != nil {
		t.Fatal(err)
	}
	k, err := env.App.Identity.FinishPasskeyRegistration(t.Context(), auth, answer, equipeOrigin)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// equipeOrigin is where the ceremonies of these tests come from.
var equipeOrigin = equipe.Origin{IP: "192.0.2.1", UserAgent: "test"}

// TestMyPasskeys_ListRenameRemoveAndNeverAnotherPersons: a person lists
// their passkeys, renames one (a bad name is refused beside its field),
// removes one with their password (a wrong password is refused); another
// person's passkey is not found and stays as it is.
func TestMyPasskeys_ListRenameRemoveAndNeverAnotherPersons(t *testing.T) {
	eachWith(t, onLocalhost, func(t *testing.T, env *apptest.Env) {
		ada, grace := signUp(t, env, "ada@a.example"), signUp(t, env, "grace@b.example")
		r := call(t, env.Client(), "GET", env.URL+"/api/v1/me/passkeys", nil, bearer(ada)...)
		if r.Status != 200 || string(r.Raw) != `{"items":[],"next_cursor":null}` {
			t.Fatalf("no passkeys yet: %d %s", r.Status, r.Raw)
		}
		phone := registerPasskey(t, env, ada, "Phone")
		laptop := registerPasskey(t, env, ada, "Laptop")
		theirs := registerPasskey(t, env, grace, "Grace's")

		r = call(t, env.Client(), "GET", env.URL+"/api/v1/me/passkeys", nil, bearer(ada)...)
		items, _ := r.JSON["items"].([]any)
		if r.Status != 200 || len(items) != 2 {
			t.Fatalf("list: %d %s", r.Status, r.Raw)
		}
		first := items[0].(map[string]any)
		if first["id"] != phone.ID.String() || first["name"] != "Phone" || first["last_used_at"] != nil || first["created_at"] == nil {
			t.Fatalf("the first passkey: %s", r.Raw)
		}

		for _, c := range []struct {
			name         string
			method, id   string
			body         any
			status       int
			code, fields string
		}{
			{"rename another person's", "PATCH", theirs.ID.String(), map[string]any{"name": "Mine"}, 404, "error.not_found", ""},
			{"remove another person's", "DELETE", theirs.ID.String(), map[string]any{"password": goodPassword}, 404, "error.not_found", ""},
			{"rename one that is not", "PATCH", "00000000-0000-7000-8000-000000000000", map[string]any{"name": "Mine"}, 404, "error.not_found", ""},
			{"rename with markup", "PATCH", phone.ID.String(), map[string]any{"name": "<i>"}, 422, "error.fields", "name.markup"},
			{"rename with nothing", "PATCH", phone.ID.String(), map[string]any{"name": " "}, 422, "error.fields", "name.required"},
			{"rename with an unknown member", "PATCH", phone.ID.String(), map[string]any{"name": "A", "label": "B"}, 400, "", ""},
			{"remove with a wrong password", "DELETE", laptop.ID.String(), map[string]any{"password": "not the password at all"}, 422, "error.fields", "password.wrong"},
			{"remove without a password", "DELETE", laptop.ID.String(), map[string]any{}, 422, "error.fields", "password.confirm_required"},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := call(t, env.Client(), c.method, env.URL+"/api/v1/me/passkeys/"+c.id, c.body, bearer(ada)...)
				if r.Status != c.status || (c.code != "" && r.code() != c.code) {
					t.Fatalf("%d %s", r.Status, r.Raw)
				}
				if c.fields != "" {
					var field string
					for _, code := range r.fieldCodes() {
						field = code
					}
					if field != c.fields {
						t.Fatalf("field problems %v", r.fieldCodes())
					}
				}
			})
		}
		keys, _, _ := env.App.Identity.Passkeys(t.Context(), theirs.UserID, equipe.Page{})
		if len(keys) != 1 || keys[0].Name != "Grace's" {
			t.Fatalf("grace's passkeys changed: %+v", keys)
		}

		r = call(t, env.Client(), "PATCH", env.URL+"/api/v1/me/passkeys/"+phone.ID.String(), map[string]any{"name": " Work phone "}, bearer(ada)...)
		if r.Status != 200 || r.JSON["name"] != "Work phone" || r.JSON["id"] != phone.ID.String() {
			t.Fatalf("rename: %d %s", r.Status, r.Raw)
		}
		r = call(t, env.Client(), "DELETE", env.URL+"/api/v1/me/passkeys/"+laptop.ID.String(), map[string]any{"password": goodPassword}, bearer(ada)...)
		if r.Status != 204 {
			t.Fatalf("remove: %d %s", r.Status, r.Raw)
		}
		r = call(t, env.Client(), "GET", env.URL+"/api/v1/me/passkeys", nil, bearer(ada)...)
		if items, _ := r.JSON["items"].([]any); len(items) != 1 || items[0].(map[string]any)["name"] != "Work phone" {
			t.Fatalf("after: %s", r.Raw)
		}
		if r := call(t, env.Client(), "GET", env.URL+"/api/v1/me/passkeys", nil); r.Status != 401 {
			t.Fatalf("without a session: %d", r.Status)
		}
	})
}

// TestPasskeys_ChallengesNeverStoredOrLoggedInClear: the challenges of
// WebAuthn ceremonies under way, finished or not, and the session a passkey
// login opens, are in neither the database nor the logs (the check of
// TestSecrets_NeverStoredOrLoggedInClear, for passkeys: they need a public
// URL with a host name).
func TestPasskeys_ChallengesNeverStoredOrLoggedInClear(t *testing.T) {
	eachWith(t, onLocalhost, func(t *testing.T, env *apptest.Env) {
		c := env.Client()
		signUp(t, env, "ada@example.com")
		if r := call(t, c, "POST", env.URL+"/api/v1/session", map[string]any{"email": "ada@example.com", "password": goodPassword}); r.Status != 200 {
			t.Fatalf("login: %d %s", r.Status, r.Raw)
		}
		secrets := map[string]string{}
		challenge := func(r response) string {
			t.Helper()
			pk, _ := r.JSON["publicKey"].(map[string]any)
			ch, _ := pk["challenge"].(string)
			if r.Status != 200 || len(ch) < 43 {
				t.Fatalf("options: %d %s", r.Status, r.Raw)
			}
			return ch
		}
		dev := passkeytest.New(env.Origin)
		r := call(t, c, "POST", env.URL+"/me/passkeys/options", map[string]any{"name": "Phone"})
		secrets["registration challenge"] = challenge(r)
		answer, err := dev.Create(r.Raw)
		if err != nil {
			t.Fatal(err)
		}
		if r := call(t, c, "POST", env.URL+"/me/passkeys/register", answer); r.Status != 201 {
			t.Fatalf("register: %d %s", r.Status, r.Raw)
		}
		secrets["pending registration challenge"] = challenge(call(t, c, "POST", env.URL+"/me/passkeys/options", map[string]any{"name": "Laptop"}))

		login := env.Client()
		r = call(t, login, "POST", env.URL+"/login/passkey/options", map[string]any{})
		secrets["login challenge"] = challenge(r)
		answer, err = dev.Get(r.Raw)
		if err != nil {
			t.Fatal(err)
		}
		if r := call(t, login, "POST", env.URL+"/login/passkey", answer); r.Status != 200 {
			t.Fatalf("passkey login: %d %s", r.Status, r.Raw)
		}
		u, _ := url.Parse(env.URL)
		for _, ck := range login.Jar.Cookies(u) {
			secrets["passkey session"] = ck.Value
		}
		if secrets["passkey session"] == "" {
			t.Fatal("the passkey login set no cookie")
		}
		secrets["pending login challenge"] = challenge(call(t, env.Client(), "POST", env.URL+"/login/passkey/options", map[string]any{}))

		dump := storetest.Dump(t, storetest.Raw(t, env.DB))
		logs := env.Logs()
		if !strings.Contains(dump, "webauthn_ceremonies") || !strings.Contains(logs, "/login/passkey") {
			t.Fatal("the dump or the logs miss the ceremonies: the test would prove nothing")
		}
		for name, s := range secrets {
			if strings.Contains(dump, s) {
				t.Errorf("the database holds the %s in clear", name)
			}
			if strings.Contains(logs, s) {
				t.Errorf("the logs hold the %s", name)
			}
		}
	})
}

// TestPasskeyCeremonies_ThroughTheAPI: a client without the pages registers
// a passkey (options, then the device's answer), logs in with it alone, and
// answers a password login's second step with it, on both engines. Bad
// answers are refused beside their field and change nothing; an answer
// serves once.
func TestPasskeyCeremonies_ThroughTheAPI(t *testing.T) {
	eachWith(t, onLocalhost, func(t *testing.T, env *apptest.Env) {
		ada := signUp(t, env, "ada@a.example")
		dev := passkeytest.New(env.Origin)
		c := env.Client()

		// Registration: a bad name, then a missing and a forged answer,
		// add nothing.
		if r := call(t, c, "POST", env.URL+"/api/v1/me/passkeys/options", map[string]any{"name": " "}, bearer(ada)...); r.Status != 422 || r.fieldCodes()["name"] != "name.required" {
			t.Fatalf("options without a name: %d %s", r.Status, r.Raw)
		}
		r := call(t, c, "POST", env.URL+"/api/v1/me/passkeys/options", map[string]any{"name": "Phone"}, bearer(ada)...)
		if r.Status != 200 || r.JSON["publicKey"] == nil {
			t.Fatalf("registration options: %d %s", r.Status, r.Raw)
		}
		answer, err := dev.Create(r.Raw)
		if err != nil {
			t.Fatal(err)
		}
		if r := call(t, c, "POST", env.URL+"/api/v1/me/passkeys", map[string]any{}, bearer(ada)...); r.Status != 422 || r.fieldCodes()["passkey"] != "passkey.answer_required" {
			t.Fatalf("registration without an answer: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "POST", env.URL+"/api/v1/me/passkeys", map[string]any{"passkey": map[string]any{"id": "forged"}}, bearer(ada)...); r.Status != 422 || r.code() != "passkey.refused" {
			t.Fatalf("a forged answer: %d %s", r.Status, r.Raw)
		}
		r = call(t, c, "POST", env.URL+"/api/v1/me/passkeys", `{"passkey":`+string(answer)+`}`, bearer(ada)...)
		if r.Status != 201 || r.JSON["name"] != "Phone" || r.Header.Get("Location") != "/api/v1/me/passkeys/"+r.JSON["id"].(string) {
			t.Fatalf("registration: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "POST", env.URL+"/api/v1/me/passkeys", `{"passkey":`+string(answer)+`}`, bearer(ada)...); r.Status < 400 {
			t.Fatalf("the same answer twice: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", env.URL+"/api/v1/me/passkeys", nil, bearer(ada)...); len(r.JSON["items"].([]any)) != 1 {
			t.Fatalf("passkeys after one registration: %s", r.Raw)
		}

		// A login with the passkey alone, from a client with no cookie.
		anon := env.Client()
		r = call(t, anon, "POST", env.URL+"/api/v1/session/passkey/options", nil)
		if r.Status != 200 || r.JSON["publicKey"] == nil {
			t.Fatalf("login options: %d %s", r.Status, r.Raw)
		}
		login, err := dev.Get(r.Raw)
		if err != nil {
			t.Fatal(err)
		}
		r = call(t, anon, "POST", env.URL+"/api/v1/session/passkey", `{"passkey":`+string(login)+`}`)
		token, _ := r.JSON["token"].(string)
		if r.Status != 200 || token == "" {
			t.Fatalf("passkey login: %d %s", r.Status, r.Raw)
		}
		if r := call(t, anon, "GET", env.URL+"/api/v1/me", nil, bearer(token)...); r.Status != 200 || r.JSON["email"] != "ada@a.example" {
			t.Fatalf("the passkey's session: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/session/passkey", `{"passkey":`+string(login)+`}`); r.Status != 401 || r.code() != "passkey.login_failed" {
			t.Fatalf("the same login answer again: %d %s", r.Status, r.Raw)
		}

		// The passkey as the second step of a password login.
		c2 := env.Client()
		r = call(t, c2, "POST", env.URL+"/api/v1/session", map[string]any{"email": "ada@a.example", "password": goodPassword})
		challenge, _ := r.JSON["challenge"].(string)
		if r.Status != 202 || challenge == "" || !strings.Contains(string(r.Raw), `"passkey"`) {
			t.Fatalf("password step: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c2, "POST", env.URL+"/api/v1/session/second-factor/passkey/options", map[string]any{"challenge": "not-a-challenge"}); r.Status != 401 || r.code() != "login.challenge_invalid" {
			t.Fatalf("options for an unknown challenge: %d %s", r.Status, r.Raw)
		}
		r = call(t, c2, "POST", env.URL+"/api/v1/session/second-factor/passkey/options", map[string]any{"challenge": challenge})
		if r.Status != 200 || r.JSON["publicKey"] == nil {
			t.Fatalf("second step options: %d %s", r.Status, r.Raw)
		}
		second, err := dev.Get(r.Raw)
		if err != nil {
			t.Fatal(err)
		}
		both := `{"challenge":"` + challenge + `","code":"123456","passkey":` + string(second) + `}`
		if r := call(t, c2, "POST", env.URL+"/api/v1/session/second-factor", both); r.Status != 422 || r.fieldCodes()["passkey"] != "second_step.code_or_passkey" {
			t.Fatalf("a code and a passkey: %d %s", r.Status, r.Raw)
		}
		r = call(t, c2, "POST", env.URL+"/api/v1/session/second-factor", `{"challenge":"`+challenge+`","passkey":`+string(second)+`}`)
		if r.Status != 200 || r.JSON["token"] == nil {
			t.Fatalf("second step with the passkey: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c2, "POST", env.URL+"/api/v1/session/second-factor", `{"challenge":"`+challenge+`","passkey":`+string(second)+`}`); r.Status != 401 {
			t.Fatalf("the used challenge again: %d %s", r.Status, r.Raw)
		}
	})
}
