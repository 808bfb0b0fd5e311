package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe/app"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store/storetest"
)

// clocked starts services whose clock the test moves.
func clocked(clock **apptest.Clock) func() apptest.Options {
	return func() apptest.Options {
		*clock = apptest.NewClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
		return apptest.Options{Now: (*clock).Now}
	}
}

func requestReset(t *testing.T, env *apptest.Env, email string, headers ...string) response {
	t.Helper()
	return call(t, env.Client(), "POST", env.URL+"/api/v1/password-reset", map[string]any{"email": email}, headers...)
}

func confirm(t *testing.T, env *apptest.Env, secret, password string) response {
	t.Helper()
	return call(t, env.Client(), "POST", env.URL+"/api/v1/password-reset/confirm", map[string]any{"token": secret, "password": password})
}

func TestReset_KnownAndUnknownEmailsGetTheSameAnswer(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		signUp(t, env, "ada@example.com")
		known := requestReset(t, env, "ada@example.com")
		unknown := requestReset(t, env, "nobody@example.com")
		if known.Status != 202 || unknown.Status != known.Status || string(known.Raw) != string(unknown.Raw) ||
			!sameHeaders(known.Header, unknown.Header) {
			t.Fatalf("known %d %v %s; unknown %d %v %s", known.Status, known.Header, known.Raw, unknown.Status, unknown.Header, unknown.Raw)
		}
		// Both requests are handled after the answer: once the queue is
		// empty, the outbox holds every email they led to.
		env.ResetsHandled(t)
		if got := env.Outbox(t, ""); !slices.Equal(got, []string{"ada@example.com", "ada@example.com"}) {
			t.Fatalf("emails queued: %q, want the sign-up's verification and one reset to ada@example.com only", got)
		}
		env.Mail(t, "ada@example.com", "password_reset")
		// A malformed address is a form error, the same for everyone.
		if r := requestReset(t, env, "not an address"); r.Status != 422 || r.fieldCodes()["email"] != "email.invalid" {
			t.Fatalf("malformed: %d %s", r.Status, r.Raw)
		}
	})
}

func TestReset_LinksIgnoreTheHostHeader(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		signUp(t, env, "ada@example.com")
		r := requestReset(t, env, "ada@example.com", "Host", "evil.test", "X-Forwarded-Host", "evil.test",
			"Forwarded", "host=evil.test;proto=https", "X-Forwarded-Proto", "https")
		if r.Status != 202 {
			t.Fatalf("reset: %d %s", r.Status, r.Raw)
		}
		m := env.Mail(t, "ada@example.com", "password_reset")
		for _, l := range m.Links {
			if !strings.HasPrefix(l, env.URL+"/") && l != env.URL {
				t.Fatalf("link %q is not under the public URL %s", l, env.URL)
			}
		}
		if strings.Contains(m.Text+m.HTML, "evil.test") {
			t.Fatal("the email mentions the forged host")
		}
	})
}

func TestReset_LinkIsSingleUseAndOnlyAPostConsumesIt(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		token := signUp(t, env, "ada@example.com")
		second := call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": "ada@example.com", "password": goodPassword})
		requestReset(t, env, "ada@example.com")
		link := apptest.Link(t, env.Mail(t, "ada@example.com", "password_reset"), "/password-reset/")
		// A mail scanner opens the link, twice, with GET and HEAD: nothing is consumed.
		for _, m := range []string{"GET", "HEAD", "GET"} {
			if r := call(t, env.Client(), m, link, nil); r.Status != 200 {
				t.Fatalf("%s %s: %d", m, link, r.Status)
			}
		}
		// A password that breaks a rule leaves the link usable.
		if r := confirm(t, env, apptest.Secret(link), "password12345678"); r.Status != 422 || r.fieldCodes()["password"] != "password.common" {
			t.Fatalf("weak password: %d %s", r.Status, r.Raw)
		}
		newPassword := "a brand new sentence to remember"
		if r := confirm(t, env, apptest.Secret(link), newPassword); r.Status != 204 {
			t.Fatalf("confirm: %d %s", r.Status, r.Raw)
		}
		if r := confirm(t, env, apptest.Secret(link), "yet another sentence to remember"); r.Status != 404 || r.code() != "link.used" {
			t.Fatalf("reuse: %d %s", r.Status, r.Raw)
		}
		// Every session ended; the old password no longer works, the new one does.
		for _, tok := range []string{token, second.JSON["token"].(string)} {
			if r := call(t, env.Client(), "GET", env.URL+"/api/v1/me", nil, bearer(tok)...); r.Status != 401 {
				t.Fatalf("a session survived the reset: %d", r.Status)
			}
		}
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": "ada@example.com", "password": goodPassword}); r.Status != 401 {
			t.Fatalf("old password: %d", r.Status)
		}
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": "ada@example.com", "password": newPassword}); r.Status != 200 {
			t.Fatalf("new password: %d %s", r.Status, r.Raw)
		}
		env.Mail(t, "ada@example.com", "password_changed")
		// The page of a used link says so.
		if r := call(t, env.Client(), "GET", link, nil); r.Status != 410 || !strings.Contains(string(r.Raw), "déjà été utilisé") {
			t.Fatalf("used link page: %d", r.Status)
		}
	})
}

func TestReset_ANewerLinkSupersedesTheOlder(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		signUp(t, env, "ada@example.com")
		requestReset(t, env, "ada@example.com")
		first := apptest.Link(t, env.Mail(t, "ada@example.com", "password_reset"), "/password-reset/")
		requestReset(t, env, "ada@example.com")
		env.ResetsHandled(t)
		env.Delivered(t)
		second := apptest.Link(t, env.Mail(t, "ada@example.com", "password_reset"), "/password-reset/")
		if second == first || env.Mails("ada@example.com", "password_reset") != 2 {
			t.Fatalf("no second link: %d reset emails", env.Mails("ada@example.com", "password_reset"))
		}
		if r := confirm(t, env, apptest.Secret(first), "a brand new sentence to remember"); r.Status != 404 || r.code() != "link.used" {
			t.Fatalf("superseded link: %d %s", r.Status, r.Raw)
		}
		if r := confirm(t, env, apptest.Secret(second), "a brand new sentence to remember"); r.Status != 204 {
			t.Fatalf("newest link: %d %s", r.Status, r.Raw)
		}
	})
}

func TestReset_LinkExpiresAfterOneHour(t *testing.T) {
	var clock *apptest.Clock
	eachWith(t, clocked(&clock), func(t *testing.T, env *apptest.Env) {
		signUp(t, env, "ada@example.com")
		requestReset(t, env, "ada@example.com")
		link := apptest.Link(t, env.Mail(t, "ada@example.com", "password_reset"), "/password-reset/")
		clock.Advance(59 * time.Minute)
		if r := call(t, env.Client(), "GET", link, nil); r.Status != 200 {
			t.Fatalf("after 59 min: %d", r.Status)
		}
		clock.Advance(time.Minute)
		if r := confirm(t, env, apptest.Secret(link), "a brand new sentence to remember"); r.Status != 404 || r.code() != "link.expired" {
			t.Fatalf("after 60 min: %d %s", r.Status, r.Raw)
		}
	})
}

func TestReset_RequestsAreThrottledPerAddress(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		signUp(t, env, "ada@example.com")
		for range 6 {
			if r := requestReset(t, env, "ada@example.com"); r.Status != 202 {
				t.Fatalf("request: %d %s", r.Status, r.Raw)
			}
		}
		env.ResetsHandled(t)
		if n := len(env.Outbox(t, "password_reset")); n != 3 {
			t.Fatalf("%d reset emails for 6 requests, want 3 (the hourly cap)", n)
		}
	})
}

func TestReset_GuessedTokensAreThrottledPerAddress(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	codes := map[int]int{}
	for i := range 40 {
		r := confirm(t, env, strings.Repeat("A", 42)+string(rune('A'+i%26)), "a brand new sentence to remember")
		codes[r.Status]++
	}
	if codes[404] != 30 || codes[429] != 10 {
		t.Fatalf("answers to 40 guesses: %v, want 30 × 404 then 429", codes)
	}
}

func TestSessions_EndWhenIdleOrTooOld(t *testing.T) {
	var clock *apptest.Clock
	eachWith(t, clocked(&clock), func(t *testing.T, env *apptest.Env) {
		token := signUp(t, env, "ada@example.com")
		me := func() int { return call(t, env.Client(), "GET", env.URL+"/api/v1/me", nil, bearer(token)...).Status }
		// Used every 50 minutes, the session lives until its absolute end (12 h).
		for range 14 {
			clock.Advance(50 * time.Minute)
			if s := me(); s != 200 {
				t.Fatalf("at %s: %d", clock.Now().Format(time.Kitchen), s)
			}
		}
		clock.Advance(50 * time.Minute) // 12 h 30 after login
		if s := me(); s != 401 {
			t.Fatalf("past the absolute lifetime: %d", s)
		}
		token = signUp(t, env, "bob@example.com")
		clock.Advance(61 * time.Minute)
		if s := me(); s != 401 {
			t.Fatalf("after 61 idle minutes: %d", s)
		}
	})
}

func TestSecrets_NeverStoredOrLoggedInClear(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		c := env.Client()
		secrets := map[string]string{"password": goodPassword}
		call(t, c, "POST", env.URL+"/api/v1/signup", signupBody("ada@example.com"))
		verify := apptest.Link(t, env.Mail(t, "ada@example.com", "verify_email"), "/verify-email/")
		secrets["verify link"] = apptest.Secret(verify)
		call(t, c, "GET", verify, nil)
		r := call(t, c, "POST", env.URL+"/api/v1/session", map[string]any{"email": "ada@example.com", "password": goodPassword})
		secrets["session"] = r.JSON["token"].(string)
		// The cookie that recognises the browser at its next logins.
		for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
			if ck.Name == "equipe_browser" {
				secrets["browser cookie"] = ck.Value
			}
		}
		if secrets["browser cookie"] == "" {
			t.Fatal("the login gave the browser no cookie")
		}
		call(t, c, "GET", env.URL+"/api/v1/me", nil, bearer(secrets["session"])...)
		call(t, c, "POST", env.URL+"/api/v1/password-reset", map[string]any{"email": "ada@example.com"})
		reset := apptest.Link(t, env.Mail(t, "ada@example.com", "password_reset"), "/password-reset/")
		secrets["reset link"] = apptest.Secret(reset)
		call(t, c, "GET", reset, nil)
		secrets["new password"] = "a brand new sentence to remember"
		confirm(t, env, secrets["reset link"], secrets["new password"])
		r = call(t, c, "POST", env.URL+"/api/v1/session", map[string]any{"email": "ada@example.com", "password": secrets["new password"]})
		secrets["second session"] = r.JSON["token"].(string)
		call(t, c, "POST", env.URL+"/api/v1/me/consent", map[string]any{"accept_privacy_policy": true}, bearer(secrets["second session"])...)
		// A wrong password is a secret too: someone's other password, perhaps.
		secrets["typo"] = "lovelace rode the number engines"
		call(t, c, "POST", env.URL+"/api/v1/session", map[string]any{"email": "ada@example.com", "password": secrets["typo"]})
		env.Mail(t, "ada@example.com", "password_changed")
		// An invitation, accepted with a password, and an API key, used.
		accts := call(t, c, "GET", env.URL+"/api/v1/me/accounts", nil, bearer(secrets["second session"])...)
		base := env.URL + "/api/v1/accounts/" + accts.JSON["items"].([]any)[0].(map[string]any)["id"].(string)
		if r := call(t, c, "POST", base+"/members", newMemberBody("grace@example.com"), bearer(secrets["second session"])...); r.Status != 201 {
			t.Fatalf("add: %d %s", r.Status, r.Raw)
		}
		secrets["invitation link"] = apptest.Secret(apptest.Link(t, env.Mail(t, "grace@example.com", "invitation"), "/invitations/"))
		secrets["invitee password"] = "grace wrote the first compiler"
		call(t, env.Client(), "GET", env.URL+"/invitations/"+secrets["invitation link"], nil)
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/invitations/"+secrets["invitation link"]+"/accept",
			map[string]any{"password": secrets["invitee password"], "accept_privacy_policy": true}); r.Status != 200 {
			t.Fatalf("accept: %d %s", r.Status, r.Raw)
		} else {
			secrets["invitee session"] = r.JSON["token"].(string)
		}
		k := call(t, c, "POST", base+"/api-keys", map[string]any{"name": "backend", "role": "guest"}, bearer(secrets["second session"])...)
		if k.Status != 201 {
			t.Fatalf("key: %d %s", k.Status, k.Raw)
		}
		secrets["api key"] = k.JSON["secret"].(string)
		call(t, c, "GET", base+"/members", nil, bearer(secrets["api key"])...)

		// A login email change: the link to the new address and the one to
		// the old, both opened.
		if r := call(t, c, "POST", env.URL+"/api/v1/me/email", map[string]any{"new_email": "ada@example.net",
			"current_password": secrets["new password"]}, bearer(secrets["second session"])...); r.Status != 202 {
			t.Fatalf("email change: %d %s", r.Status, r.Raw)
		}
		secrets["email change link"] = apptest.Secret(apptest.Link(t, env.Mail(t, "ada@example.net", "email_change_requested"), "/email-change/confirm/"))
		secrets["email cancel link"] = apptest.Secret(apptest.Link(t, env.Mail(t, "ada@example.com", "email_change_notice"), "/email-change/cancel/"))
		call(t, c, "GET", env.URL+"/email-change/confirm/"+secrets["email change link"], nil)
		call(t, c, "GET", env.URL+"/email-change/cancel/"+secrets["email cancel link"], nil)

		// Once the outbox has delivered everything, bodies are emptied.
		env.Delivered(t)
		raw := storetest.Raw(t, env.DB)
		var unsent int
		if err := raw.QueryRow(`SELECT COUNT(*) FROM outbox WHERE status <> 'sent'`).Scan(&unsent); err != nil || unsent != 0 {
			t.Fatalf("%d emails not sent (%v)", unsent, err)
		}
		dump := storetest.Dump(t, raw)
		logs := env.Logs()
		if !strings.Contains(dump, "ada@example.com") || !strings.Contains(logs, "/password-reset/") ||
			!strings.Contains(logs, "/email-change/cancel/") {
			t.Fatal("the dump or the logs are empty: the test would prove nothing")
		}
		for name, s := range secrets {
			if strings.Contains(dump, s) {
				t.Errorf("the database holds the %s in clear", name)
			}
			if strings.Contains(logs, s) {
				t.Errorf("the logs hold the %s", name)
			}
		}
		if !strings.Contains(dump, "$argon2id$") {
			t.Error("no argon2id hash in the database")
		}
	})
}

func TestReset_MailGoesOnlyToTheStoredAddress(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	signUp(t, env, "Mike@example.com")
	for _, typed := range []string{"MIKE@example.com", " mike@EXAMPLE.com "} {
		if r := requestReset(t, env, typed); r.Status != 202 {
			t.Fatalf("%q: %d", typed, r.Status)
		}
	}
	// The dotless-i look-alike is not an address here at all.
	if r := requestReset(t, env, "mıke@example.com"); r.Status != 422 {
		t.Fatalf("dotless i: %d %s", r.Status, r.Raw)
	}
	env.ResetsHandled(t)
	if got := env.Outbox(t, "password_reset"); !slices.Equal(got, []string{"Mike@example.com", "Mike@example.com"}) {
		t.Fatalf("reset links went to %q, want the stored address twice", got)
	}
}

func TestSession_CookieOverHTTPSIsHostOnlyAndSecure(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{Configure: func(c *app.Config) {
		c.PublicURL.Scheme = "https"
	}})
	signUp(t, env, "ada@example.com")
	r := call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": "ada@example.com", "password": goodPassword})
	c := r.Header.Get("Set-Cookie")
	for _, want := range []string{"__Host-equipe_session=", "Path=/", "HttpOnly", "Secure", "SameSite=Lax"} {
		if !strings.Contains(c, want) {
			t.Errorf("Set-Cookie %q lacks %s", c, want)
		}
	}
	if strings.Contains(strings.ToLower(c), "domain=") {
		t.Errorf("Set-Cookie %q names a domain", c)
	}
	if h := r.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(h, "max-age=") {
		t.Errorf("no HSTS over HTTPS: %q", h)
	}
}
