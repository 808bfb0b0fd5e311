package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/servicetest"
	"github.com/equipe-dev/equipe/store/storetest"
)

func TestSignUpVerifyLogInLogOut(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		c := env.Client()
		r := call(t, c, "POST", env.URL+"/api/v1/signup", signupBody(" Ada@EXAMPLE.com "))
		if r.Status != 201 {
			t.Fatalf("signup: %d %s", r.Status, r.Raw)
		}
		user := r.JSON["user"].(map[string]any)
		account := r.JSON["account"].(map[string]any)
		if user["email"] != "Ada@example.com" || user["email_verified"] != false || account["name"] != "Analytical Engines" {
			t.Fatalf("signup answer: %s", r.Raw)
		}
		if _, leaked := user["password_hash"]; leaked {
			t.Fatal("the answer holds the password hash")
		}

		// The verification email, in the user's language, to the stored address.
		m := env.Mail(t, "Ada@example.com", "verify_email")
		link := apptest.Link(t, m, "/verify-email/")
		if !strings.HasPrefix(link, env.URL+"/verify-email/") {
			t.Fatalf("link %q is not under the public URL", link)
		}
		// Opening the link (a GET, as a mail scanner would) verifies nothing.
		if res := call(t, c, "GET", link, nil); res.Status != 200 {
			t.Fatalf("GET link: %d", res.Status)
		}
		r = call(t, c, "POST", env.URL+"/api/v1/verify-email", map[string]any{"token": apptest.Secret(link)})
		if r.Status != 204 {
			t.Fatalf("verify: %d %s", r.Status, r.Raw)
		}
		if r = call(t, c, "POST", env.URL+"/api/v1/verify-email", map[string]any{"token": apptest.Secret(link)}); r.Status != 404 || r.code() != "link.used" {
			t.Fatalf("second verify: %d %s", r.Status, r.Raw)
		}

		r = call(t, c, "POST", env.URL+"/api/v1/session", map[string]any{"email": "ada@example.COM", "password": goodPassword})
		if r.Status != 200 || r.JSON["consent_required"] != true {
			t.Fatalf("login: %d %s", r.Status, r.Raw)
		}
		token := r.JSON["token"].(string)
		if !strings.Contains(r.Header.Get("Set-Cookie"), "HttpOnly") || !strings.Contains(r.Header.Get("Set-Cookie"), "SameSite=Lax") {
			t.Fatalf("session cookie: %q", r.Header.Get("Set-Cookie"))
		}
		api := env.Client() // a client without cookies: bearer only

		// Before consent, everything but /me and the consent itself answers 403.
		r = call(t, api, "GET", env.URL+"/api/v1/me/accounts", nil, bearer(token)...)
		if r.Status != 403 || r.JSON["type"] != "urn:equipe:problem:consent-required" {
			t.Fatalf("accounts before consent: %d %s", r.Status, r.Raw)
		}
		r = call(t, api, "GET", env.URL+"/api/v1/me", nil, bearer(token)...)
		if r.Status != 200 || r.JSON["email_verified"] != true || r.JSON["consent"].(map[string]any)["required"] != true {
			t.Fatalf("me: %d %s", r.Status, r.Raw)
		}
		r = call(t, api, "POST", env.URL+"/api/v1/me/consent", map[string]any{"accept_privacy_policy": false}, bearer(token)...)
		if r.Status != 422 || r.fieldCodes()["accept_privacy_policy"] != "consent.must_accept" {
			t.Fatalf("consent false: %d %s", r.Status, r.Raw)
		}
		r = call(t, api, "POST", env.URL+"/api/v1/me/consent", map[string]any{"accept_privacy_policy": true, "version": "2026-11"}, bearer(token)...)
		if r.Status != 200 {
			t.Fatalf("consent: %d %s", r.Status, r.Raw)
		}
		r = call(t, api, "GET", env.URL+"/api/v1/me/accounts", nil, bearer(token)...)
		items, _ := r.JSON["items"].([]any)
		if r.Status != 200 || len(items) != 1 || items[0].(map[string]any)["role"] != "admin" ||
			items[0].(map[string]any)["id"] != account["id"] {
			t.Fatalf("accounts: %d %s", r.Status, r.Raw)
		}

		if r = call(t, api, "DELETE", env.URL+"/api/v1/session", nil, bearer(token)...); r.Status != 204 {
			t.Fatalf("logout: %d %s", r.Status, r.Raw)
		}
		if r = call(t, api, "GET", env.URL+"/api/v1/me", nil, bearer(token)...); r.Status != 401 || r.code() != "session.invalid" {
			t.Fatalf("me after logout: %d %s", r.Status, r.Raw)
		}
	})
}

func TestSignUp_SecondSignUpWithTheSameEmailIsRefusedWithoutDetail(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		c := env.Client()
		if r := call(t, c, "POST", env.URL+"/api/v1/signup", signupBody("ada@example.com")); r.Status != 201 {
			t.Fatalf("first signup: %d %s", r.Status, r.Raw)
		}
		raw := storetest.Raw(t, env.DB)
		before := storetest.Counts(t, raw)
		other := signupBody(" ADA@Example.COM")
		other["first_name"], other["last_name"], other["account_name"] = "Eve", "Mallory", "Other Business"
		r := call(t, c, "POST", env.URL+"/api/v1/signup", other)
		if r.Status != 409 || r.code() != "signup.email_unavailable" || r.fieldCodes()["email"] != "signup.email_unavailable" {
			t.Fatalf("duplicate: %d %s", r.Status, r.Raw)
		}
		for _, secret := range []string{"Ada", "Lovelace", "Analytical"} {
			if strings.Contains(string(r.Raw), secret) {
				t.Fatalf("the refusal reveals %q: %s", secret, r.Raw)
			}
		}
		// The owner of the address is told, once an hour at most. The notice
		// is queued in the request's transaction: the outbox holds it, or
		// not, by the time the answer comes.
		env.Mail(t, "ada@example.com", "signup_attempt")
		if r := call(t, c, "POST", env.URL+"/api/v1/signup", other); r.Status != 409 {
			t.Fatalf("second duplicate: %d %s", r.Status, r.Raw)
		}
		if got := servicetest.Templates(t, raw, "ada@example.com"); !slices.Equal(got, []string{"verify_email", "signup_attempt"}) {
			t.Fatalf("emails to the address's owner: %v, want the verification and one sign-up notice", got)
		}
		after := storetest.Counts(t, raw)
		for _, table := range []string{"users", "accounts", "members", "resources", "tokens", "sessions"} {
			if after[table] != before[table] {
				t.Errorf("%s: %d rows before the refused sign-ups, %d after", table, before[table], after[table])
			}
		}
	})
}

func TestSignUp_BadInputsAreRefusedAndWriteNothing(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		c := env.Client()
		valid, _ := json.Marshal(signupBody("ada@example.com"))
		with := func(field string, v any) map[string]any {
			b := signupBody("ada@example.com")
			b[field] = v
			return b
		}
		tests := []struct {
			name        string
			body        any
			contentType string
			status      int
			code        string
			field       string
		}{
			{"malformed JSON", `{"email": "ada@example.com",`, "", 400, "request.malformed", ""},
			{"trailing data", string(valid) + `{}`, "", 400, "request.malformed", ""},
			{"not an object", `["ada@example.com"]`, "", 400, "request.not_object", ""},
			{"null", `null`, "", 400, "request.not_object", ""},
			{"empty body", ``, "", 400, "request.not_object", ""},
			{"oversized body", `{"email":"` + strings.Repeat("a", 200<<10) + `"}`, "", 413, "request.too_large", ""},
			{"text/plain", string(valid), "text/plain", 415, "request.media_type", ""},
			{"form encoded", "email=ada%40example.com", "application/x-www-form-urlencoded", 415, "request.media_type", ""},
			{"unknown field", with("is_admin", true), "", 400, "request.unknown_field", "is_admin"},
			{"field in other case", with("Role", "admin"), "", 400, "request.unknown_field", "Role"},
			{"duplicate key", `{"email":"a@example.com","email":"b@example.com"}`, "", 400, "request.duplicate_field", "email"},
			{"wrong type", with("email", 42), "", 400, "request.wrong_type", "email"},
			{"nested wrong type", with("first_resource", map[string]any{"type": 1}), "", 400, "request.wrong_type", "first_resource.type"},
			{"invalid email", with("email", "ada-at-example.com"), "", 422, "error.fields", "email"},
			{"email with CR/LF", with("email", "ada@example.com\r\nBcc: eve@evil.test"), "", 422, "error.fields", "email"},
			{"look-alike domain", with("email", "ada@exаmple.com"), "", 422, "error.fields", "email"},
			{"over-long email", with("email", strings.Repeat("a", 60)+"@"+strings.Repeat("b", 200)+".com"), "", 422, "error.fields", "email"},
			{"short password", with("password", "short pw"), "", 422, "error.fields", "password"},
			{"common password", with("password", "password12345678"), "", 422, "error.fields", "password"},
			{"password of names", with("password", "Ada Lovelace 1815!"), "", 422, "error.fields", "password"},
			{"HTML in first name", with("first_name", "<script>alert(1)</script>"), "", 422, "error.fields", "first_name"},
			{"HTML in account name", with("account_name", `"><img src=x onerror=alert(1)>`), "", 422, "error.fields", "account_name"},
			{"control character in name", with("last_name", "Love\u202elace"), "", 422, "error.fields", "last_name"},
			{"over-long name", with("last_name", strings.Repeat("é", 101)), "", 422, "error.fields", "last_name"},
			{"missing names", with("first_name", ""), "", 422, "error.fields", "first_name"},
			{"bad locale", with("locale", "de"), "", 422, "error.fields", "locale"},
			{"unknown resource type", with("first_resource", map[string]any{"type": "spaceship"}), "", 422, "error.fields", "first_resource.type"},
		}
		for _, tt := range tests {
			headers := []string{}
			if tt.contentType != "" {
				headers = []string{"Content-Type", tt.contentType}
			}
			r := call(t, c, "POST", env.URL+"/api/v1/signup", tt.body, headers...)
			if r.Status != tt.status || r.code() != tt.code {
				t.Errorf("%s: %d %s, want %d %s", tt.name, r.Status, r.Raw, tt.status, tt.code)
				continue
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("%s: Content-Type %q", tt.name, ct)
			}
			if r.JSON["type"] == nil || r.JSON["title"] == nil || r.JSON["status"] != float64(tt.status) {
				t.Errorf("%s: not a problem document: %s", tt.name, r.Raw)
			}
			if tt.field != "" {
				if _, ok := r.fieldCodes()[tt.field]; !ok {
					t.Errorf("%s: no error for field %q in %s", tt.name, tt.field, r.Raw)
				}
			}
		}
		counts := storetest.Counts(t, storetest.Raw(t, env.DB))
		for table, n := range counts {
			if n != 0 && table != "privacy_policies" && table != "audit_events" && table != "throttles" && table != "event_sequence" {
				t.Errorf("%s holds %d rows after refused sign-ups", table, n)
			}
		}
		if len(env.App.Mailbox.Messages()) != 0 {
			t.Errorf("%d emails after refused sign-ups", len(env.App.Mailbox.Messages()))
		}
	})
}

func TestLogIn_FiftyParallelWrongPasswordsEvaluateAtMostTheLimit(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		signUp(t, env, "ada@example.com")
		hasher := env.App.Identity.Hasher
		before := hasher.Verifications()
		var wg sync.WaitGroup
		var mu sync.Mutex
		statuses := map[int]int{}
		for i := range 50 {
			wg.Go(func() {
				r := call(t, env.Client(), "POST", env.URL+"/api/v1/session",
					map[string]any{"email": "ada@example.com", "password": fmt.Sprintf("wrong password %d", i)})
				mu.Lock()
				statuses[r.Status]++
				mu.Unlock()
			})
		}
		wg.Wait()
		evaluated := hasher.Verifications() - before
		if evaluated > 5 {
			t.Fatalf("%d passwords evaluated, want at most 5 (statuses %v)", evaluated, statuses)
		}
		if statuses[401] != int(evaluated) || statuses[429] != 50-int(evaluated) {
			t.Fatalf("statuses %v with %d evaluated", statuses, evaluated)
		}
		// While throttled, the right password gets the answer a wrong one gets.
		right := call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": "ada@example.com", "password": goodPassword})
		wrong := call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": "ada@example.com", "password": "still wrong, sorry"})
		if right.Status != 429 || right.Status != wrong.Status || right.code() != wrong.code() || right.Header.Get("Retry-After") == "" {
			t.Fatalf("throttled: right password %d %s, wrong %d %s", right.Status, right.Raw, wrong.Status, wrong.Raw)
		}
		if hasher.Verifications()-before != evaluated {
			t.Fatal("a throttled attempt evaluated a password")
		}
	})
}

func TestLogIn_FailuresAreIndistinguishable(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		signUp(t, env, "ada@example.com")
		wrong := call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": "ada@example.com", "password": "not the password"})
		unknown := call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": "nobody@example.com", "password": "not the password"})
		malformed := call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": "not an email", "password": "x"})
		for _, r := range []response{unknown, malformed} {
			if r.Status != wrong.Status || string(r.Raw) != string(wrong.Raw) || !sameHeaders(r.Header, wrong.Header) {
				t.Fatalf("answers differ:\n%d %v %s\n%d %v %s", wrong.Status, wrong.Header, wrong.Raw, r.Status, r.Header, r.Raw)
			}
		}
		if wrong.Status != 401 || wrong.code() != "login.failed" {
			t.Fatalf("wrong password: %d %s", wrong.Status, wrong.Raw)
		}
	})
}

// sameHeaders compares headers but Date.
//
// Two consecutive requests of one caller differ in their RateLimit header's
// counts (the second has one request fewer left, counted alike whatever the
// answer): the limits it names must be the same, the counts are left out.
func sameHeaders(a, b http.Header) bool {
	a, b = a.Clone(), b.Clone()
	a.Del("Date")
	b.Del("Date")
	for _, h := range []http.Header{a, b} {
		if v := h.Get("RateLimit"); v != "" {
			h.Set("RateLimit", rateLimitCounts.ReplaceAllString(v, ""))
		}
	}
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if strings.Join(a.Values(k), ",") != strings.Join(b.Values(k), ",") {
			return false
		}
	}
	return true
}

// rateLimitCounts are the counts of a RateLimit header's items.
var rateLimitCounts = regexp.MustCompile(`;r=\d+;t=\d+`)

func TestAPI_RefusesCredentialsInTheQueryString(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	token := signUp(t, env, "ada@example.com")
	for _, q := range []string{"token", "access_token", "api_key"} {
		r := call(t, env.Client(), "GET", env.URL+"/api/v1/me?"+q+"="+token, nil)
		if r.Status != 400 || r.code() != "request.secret_in_url" {
			t.Errorf("?%s=: %d %s", q, r.Status, r.Raw)
		}
	}
	if r := call(t, env.Client(), "GET", env.URL+"/api/v1/me", nil, "Authorization", "Bearer not-a-token"); r.Status != 401 ||
		!strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("bad bearer: %d %s", r.Status, r.Raw)
	}
	if r := call(t, env.Client(), "GET", env.URL+"/api/v1/signup", nil); r.Status != 405 || r.Header.Get("Allow") != "POST" ||
		r.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("GET on a POST route: %d %v %s", r.Status, r.Header, r.Raw)
	}
	if r := call(t, env.Client(), "GET", env.URL+"/api/v1/nothing-here", nil); r.Status != 404 || r.code() != "error.not_found" {
		t.Errorf("unknown route: %d %s", r.Status, r.Raw)
	}
}

func TestAPI_CrossSiteRequestsAreRefused(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	signUp(t, env, "ada@example.com")
	body := map[string]any{"email": "ada@example.com", "password": goodPassword}
	for _, h := range [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Origin", "https://evil.test"},
		{"Origin", "null"},
	} {
		r := call(t, env.Client(), "POST", env.URL+"/api/v1/session", body, h...)
		if r.Status != 403 {
			t.Errorf("%v: %d %s", h, r.Status, r.Raw)
		}
	}
	// The same request from the site itself, and from a non-browser client, passes.
	for _, h := range [][]string{{"Sec-Fetch-Site", "same-origin"}, {"Origin", env.URL}, {}} {
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/session", body, h...); r.Status != 200 {
			t.Errorf("%v: %d %s", h, r.Status, r.Raw)
		}
	}
}

func TestConsent_ANewPolicyVersionAsksAgain(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	token := signUp(t, env, "ada@example.com")
	c := env.Client()
	if r := call(t, c, "GET", env.URL+"/api/v1/me/accounts", nil, bearer(token)...); r.Status != 200 {
		t.Fatalf("after consent: %d", r.Status)
	}
	p := env.App.Config.Policy
	p.Version, p.Text = "2027-01", "New policy."
	if err := env.App.Identity.PublishPolicy(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	r := call(t, c, "GET", env.URL+"/api/v1/me/accounts", nil, bearer(token)...)
	if r.Status != 403 || r.code() != "consent.required" {
		t.Fatalf("after a new version: %d %s", r.Status, r.Raw)
	}
	// Accepting the version shown before the change is refused.
	r = call(t, c, "POST", env.URL+"/api/v1/me/consent", map[string]any{"accept_privacy_policy": true, "version": "2026-11"}, bearer(token)...)
	if r.Status != 409 || r.code() != "consent.outdated" {
		t.Fatalf("stale version: %d %s", r.Status, r.Raw)
	}
	r = call(t, c, "POST", env.URL+"/api/v1/me/consent", map[string]any{"accept_privacy_policy": true, "version": "2027-01"}, bearer(token)...)
	if r.Status != 200 {
		t.Fatalf("new version: %d %s", r.Status, r.Raw)
	}
	// The acceptance is recorded with version, time and address.
	raw := storetest.Raw(t, env.DB)
	var ip string
	var at int64
	if err := raw.QueryRow(`SELECT ip, accepted_at FROM consents WHERE policy_version = '2027-01'`).Scan(&ip, &at); err != nil || ip != "127.0.0.1" || at == 0 {
		t.Fatalf("consent record: %q %d %v", ip, at, err)
	}
}
