package api_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/passkeytest"
	"github.com/equipe-dev/equipe/store/storetest"
)

func changeEmail(t *testing.T, env *apptest.Env, token, newEmail, password string) response {
	t.Helper()
	return call(t, env.Client(), "POST", env.URL+"/api/v1/me/email",
		map[string]any{"new_email": newEmail, "current_password": password}, bearer(token)...)
}

func emailChangeLink(t *testing.T, env *apptest.Env, to, template, under string) string {
	t.Helper()
	return apptest.Secret(apptest.Link(t, env.Mail(t, to, template), under))
}

func TestEmailChange_API_RefusesAWrongPasswordAndBadAddresses(t *testing.T) {
	tests := []struct {
		name, newEmail, password string
		field, code              string
	}{
		{"a wrong password", "ada@example.net", "not the password at all", "current_password", "email_change.password_wrong"},
		{"no password", "ada@example.net", "", "current_password", "email_change.password_required"},
		{"a malformed address", "ada at example", goodPassword, "new_email", "email.invalid"},
		{"the same address", "ADA@example.com", goodPassword, "new_email", "email_change.same"},
	}
	each(t, func(t *testing.T, env *apptest.Env) {
		token := signUp(t, env, "ada@example.com")
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := changeEmail(t, env, token, tt.newEmail, tt.password)
				if r.Status != 422 || r.code() != "error.fields" || r.fieldCodes()[tt.field] != tt.code {
					t.Fatalf("%d %s", r.Status, r.Raw)
				}
				me := call(t, env.Client(), "GET", env.URL+"/api/v1/me/email", nil, bearer(token)...)
				if me.Status != 200 || me.JSON["email"] != "ada@example.com" || me.JSON["pending"] != nil {
					t.Fatalf("after a refusal: %d %s", me.Status, me.Raw)
				}
			})
		}
		if got := env.Outbox(t, "email_change_notice"); len(got) != 0 {
			t.Fatalf("notices sent: %v", got)
		}
	})
}

func TestEmailChange_API_ConfirmedFromTheNewAddress(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		token := signUp(t, env, "ada@example.com")
		r := changeEmail(t, env, token, "Ada@Example.NET", goodPassword)
		pending, _ := r.JSON["pending"].(map[string]any)
		if r.Status != 202 || r.JSON["email"] != "ada@example.com" || pending["new_email"] != "Ada@example.net" {
			t.Fatalf("request: %d %s", r.Status, r.Raw)
		}
		if me := call(t, env.Client(), "GET", env.URL+"/api/v1/me/email", nil, bearer(token)...); me.JSON["pending"] == nil {
			t.Fatalf("no pending change: %s", me.Raw)
		}
		env.Mail(t, "ada@example.com", "email_change_notice")
		secret := emailChangeLink(t, env, "Ada@example.net", "email_change_requested", "/email-change/confirm/")
		// Opening the link's page consumes nothing.
		if p := call(t, env.Client(), "GET", env.URL+"/email-change/confirm/"+secret, nil); p.Status != 200 {
			t.Fatalf("page: %d", p.Status)
		}
		c := call(t, env.Client(), "POST", env.URL+"/api/v1/email-change/confirm", map[string]any{"token": secret})
		user, _ := c.JSON["user"].(map[string]any)
		if c.Status != 200 || user["email"] != "Ada@example.net" || user["email_verified"] != true {
			t.Fatalf("confirm: %d %s", c.Status, c.Raw)
		}
		// The session goes on; the new address logs in, the old one no longer does.
		if me := call(t, env.Client(), "GET", env.URL+"/api/v1/me", nil, bearer(token)...); me.Status != 200 || me.JSON["email"] != "Ada@example.net" {
			t.Fatalf("me: %d %s", me.Status, me.Raw)
		}
		for email, want := range map[string]int{"ada@example.net": 200, "ada@example.com": 401} {
			if r := call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": email, "password": goodPassword}); r.Status != want {
				t.Errorf("log in as %s: %d, want %d", email, r.Status, want)
			}
		}
		changed := env.Mail(t, "ada@example.com", "email_changed")
		if !strings.Contains(changed.Text, "Ada@example.net") {
			t.Errorf("the old address is not told the new one:\n%s", changed.Text)
		}
		if c := call(t, env.Client(), "POST", env.URL+"/api/v1/email-change/confirm", map[string]any{"token": secret}); c.Status != 404 || c.code() != "link.used" {
			t.Fatalf("reuse: %d %s", c.Status, c.Raw)
		}
	})
}

func TestEmailChange_API_ATakenAddressGetsTheSameAnswer(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		signUp(t, env, "grace@example.com")
		token := signUp(t, env, "ada@example.com")
		free := changeEmail(t, env, token, "free@example.com", goodPassword)
		taken := changeEmail(t, env, token, "grace@example.com", goodPassword)
		// The two answers differ in the address and the times alone.
		shape := func(r response) map[string]any {
			p, _ := r.JSON["pending"].(map[string]any)
			if p == nil {
				return r.JSON
			}
			p["new_email"], p["requested_at"], p["expires_at"] = "", "", ""
			return r.JSON
		}
		// The addresses' lengths differ, and so do the bodies'.
		free.Header.Del("Content-Length")
		taken.Header.Del("Content-Length")
		if free.Status != 202 || taken.Status != free.Status || !sameHeaders(free.Header, taken.Header) ||
			taken.JSON["pending"].(map[string]any)["new_email"] != "grace@example.com" ||
			!reflect.DeepEqual(shape(free), shape(taken)) {
			t.Fatalf("free %d %s; taken %d %s", free.Status, free.Raw, taken.Status, taken.Raw)
		}
		env.Mail(t, "grace@example.com", "email_change_attempt")
		env.Delivered(t)
		if n := env.Mails("grace@example.com", "email_change_requested"); n != 0 {
			t.Fatalf("%d confirmation links to the taken address", n)
		}
		if got := env.Outbox(t, "email_change_notice"); !slices.Equal(got, []string{"ada@example.com", "ada@example.com"}) {
			t.Fatalf("notices: %v", got)
		}
	})
}

func TestEmailChange_API_CancelFromTheOldAddressEndsEverySession(t *testing.T) {
	tests := []struct {
		name      string
		confirmed bool
	}{
		{"before confirmation", false},
		{"after confirmation", true},
	}
	each(t, func(t *testing.T, env *apptest.Env) {
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				old := []string{"ada@example.com", "bob@example.com"}[i]
				want := old
				token := signUp(t, env, old)
				second := call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": old, "password": goodPassword})
				newEmail := "new." + old
				if r := changeEmail(t, env, token, newEmail, goodPassword); r.Status != 202 {
					t.Fatalf("request: %d %s", r.Status, r.Raw)
				}
				cancel := emailChangeLink(t, env, old, "email_change_notice", "/email-change/cancel/")
				if tt.confirmed {
					secret := emailChangeLink(t, env, newEmail, "email_change_requested", "/email-change/confirm/")
					if r := call(t, env.Client(), "POST", env.URL+"/api/v1/email-change/confirm", map[string]any{"token": secret}); r.Status != 200 {
						t.Fatalf("confirm: %d %s", r.Status, r.Raw)
					}
				}
				r := call(t, env.Client(), "POST", env.URL+"/api/v1/email-change/cancel", map[string]any{"token": cancel})
				if r.Status != 200 || r.JSON["email"] != want || r.JSON["restored"] != tt.confirmed || r.JSON["sessions_ended"] != 2.0 {
					t.Fatalf("cancel: %d %s", r.Status, r.Raw)
				}
				for _, tok := range []string{token, second.JSON["token"].(string)} {
					if me := call(t, env.Client(), "GET", env.URL+"/api/v1/me", nil, bearer(tok)...); me.Status != 401 {
						t.Fatalf("a session survived: %d", me.Status)
					}
				}
				if r := call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": want, "password": goodPassword}); r.Status != 200 {
					t.Fatalf("log in as %s: %d", want, r.Status)
				}
				if r := call(t, env.Client(), "POST", env.URL+"/api/v1/email-change/cancel", map[string]any{"token": cancel}); r.Status != 404 || r.code() != "link.used" {
					t.Fatalf("reuse: %d %s", r.Status, r.Raw)
				}
			})
		}
	})
}

func TestEmailChange_API_APasswordResetWithdrawsThePendingChange(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		token := signUp(t, env, "ada@example.com")
		changeEmail(t, env, token, "ada@example.net", goodPassword)
		secret := emailChangeLink(t, env, "ada@example.net", "email_change_requested", "/email-change/confirm/")
		requestReset(t, env, "ada@example.com")
		reset := apptest.Secret(apptest.Link(t, env.Mail(t, "ada@example.com", "password_reset"), "/password-reset/"))
		if r := confirm(t, env, reset, "a brand new sentence to remember"); r.Status != 204 {
			t.Fatalf("reset: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/email-change/confirm", map[string]any{"token": secret}); r.Status != 404 || r.code() != "link.used" {
			t.Fatalf("confirm after a reset: %d %s", r.Status, r.Raw)
		}
		r := call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": "ada@example.com", "password": "a brand new sentence to remember"})
		if me := call(t, env.Client(), "GET", env.URL+"/api/v1/me/email", nil, bearer(r.JSON["token"].(string))...); me.JSON["pending"] != nil || me.JSON["email"] != "ada@example.com" {
			t.Fatalf("after the reset: %s", me.Raw)
		}
	})
}

func TestEmailChange_API_WithdrawnResentAndExpired(t *testing.T) {
	var clock *apptest.Clock
	eachWith(t, clocked(&clock), func(t *testing.T, env *apptest.Env) {
		token := signUp(t, env, "ada@example.com")
		if r := call(t, env.Client(), "DELETE", env.URL+"/api/v1/me/email", nil, bearer(token)...); r.Status != 404 || r.code() != "email_change.none" {
			t.Fatalf("withdraw nothing: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/me/email/resend", nil, bearer(token)...); r.Status != 404 || r.code() != "email_change.none" {
			t.Fatalf("resend nothing: %d %s", r.Status, r.Raw)
		}
		changeEmail(t, env, token, "ada@example.net", goodPassword)
		first := emailChangeLink(t, env, "ada@example.net", "email_change_requested", "/email-change/confirm/")
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/me/email/resend", nil, bearer(token)...); r.Status != 202 {
			t.Fatalf("resend: %d %s", r.Status, r.Raw)
		}
		env.Delivered(t)
		second := emailChangeLink(t, env, "ada@example.net", "email_change_requested", "/email-change/confirm/")
		if second == first {
			t.Fatal("the resend sent the same link")
		}
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/email-change/confirm", map[string]any{"token": first}); r.Status != 404 || r.code() != "link.used" {
			t.Fatalf("replaced link: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "DELETE", env.URL+"/api/v1/me/email", nil, bearer(token)...); r.Status != 204 {
			t.Fatalf("withdraw: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/email-change/confirm", map[string]any{"token": second}); r.Status != 404 || r.code() != "link.used" {
			t.Fatalf("withdrawn link: %d %s", r.Status, r.Raw)
		}
		// A new request's link works 24 hours.
		changeEmail(t, env, token, "ada@example.org", goodPassword)
		third := emailChangeLink(t, env, "ada@example.org", "email_change_requested", "/email-change/confirm/")
		clock.Advance(24 * time.Hour)
		token = call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": "ada@example.com", "password": goodPassword}).JSON["token"].(string)
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/email-change/confirm", map[string]any{"token": third}); r.Status != 404 || r.code() != "link.expired" {
			t.Fatalf("expired link: %d %s", r.Status, r.Raw)
		}
		if me := call(t, env.Client(), "GET", env.URL+"/api/v1/me/email", nil, bearer(token)...); me.JSON["pending"] != nil {
			t.Fatalf("an expired change is pending: %s", me.Raw)
		}
	})
}

func TestEmailChange_API_APersonWithAnAuthenticatorAppGivesACode(t *testing.T) {
	totpClocked(t, func(t *testing.T, env *apptest.Env, clock *apptest.Clock) {
		token, secret, recovery := totpEnrolled(t, env, clock, "ada@example.com")
		ask := func(code string) response {
			body := map[string]any{"new_email": "ada@example.net", "current_password": goodPassword}
			if code != "" {
				body["code"] = code
			}
			return call(t, env.Client(), "POST", env.URL+"/api/v1/me/email", body, bearer(token)...)
		}
		if r := ask(""); r.Status != 422 || r.fieldCodes()["code"] != "email_change.code_required" {
			t.Fatalf("no code: %d %s", r.Status, r.Raw)
		}
		// A wrong password is refused before the code is looked at.
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/me/email", map[string]any{"new_email": "ada@example.net",
			"current_password": "not the password at all", "code": "000000"}, bearer(token)...); r.Status != 422 ||
			r.fieldCodes()["current_password"] != "email_change.password_wrong" || r.fieldCodes()["code"] != "" {
			t.Fatalf("wrong password: %d %s", r.Status, r.Raw)
		}
		wrong := "000000"
		if wrong == totpCode(t, secret, clock) {
			wrong = "111111"
		}
		if r := ask(wrong); r.Status != 422 || r.fieldCodes()["code"] != "second_factor.invalid" {
			t.Fatalf("wrong code: %d %s", r.Status, r.Raw)
		}
		if n := len(env.Outbox(t, "email_change_requested")); n != 0 {
			t.Fatalf("%d links sent without the code", n)
		}
		code := totpCode(t, secret, clock)
		if r := ask(code); r.Status != 202 {
			t.Fatalf("right code: %d %s", r.Status, r.Raw)
		}
		if r := ask(code); r.Status != 422 || r.fieldCodes()["code"] != "second_factor.replayed" {
			t.Fatalf("replayed code: %d %s", r.Status, r.Raw)
		}
		if r := ask(recovery[0]); r.Status != 202 {
			t.Fatalf("recovery code: %d %s", r.Status, r.Raw)
		}
		env.Mail(t, "ada@example.com", "recovery_code_used")
	})
}

// passkeyOn registers a passkey named name for the person of the session
// token on the authenticator dev, as the page's ceremony does.
func passkeyOn(t *testing.T, env *apptest.Env, token string, dev *passkeytest.Authenticator, name string) {
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
	answer, err := dev.Create(raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Identity.FinishPasskeyRegistration(t.Context(), auth, answer, equipeOrigin); err != nil {
		t.Fatal(err)
	}
}

// TestEmailChange_API_APersonWithPasskeysOnlyGivesOne: GET /me/email says
// how a change is confirmed; a person whose only second factor is a
// passkey begins a ceremony (POST /me/email/passkey) and sends the
// device's answer with the change. Without it, with another person's
// answer, or with an answer used already, the change is refused beside the
// field passkey and nothing is sent. A person without passkeys has no
// ceremony to begin, and an anonymous client none either.
func TestEmailChange_API_APersonWithPasskeysOnlyGivesOne(t *testing.T) {
	eachWith(t, onLocalhost, func(t *testing.T, env *apptest.Env) {
		c := env.Client()
		ada, grace := signUp(t, env, "ada@a.example"), signUp(t, env, "grace@b.example")
		if r := call(t, c, "GET", env.URL+"/api/v1/me/email", nil, bearer(ada)...); r.Status != 200 || !reflect.DeepEqual(r.JSON["confirm_with"], []any{}) {
			t.Fatalf("before any passkey: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "POST", env.URL+"/api/v1/me/email/passkey", nil, bearer(ada)...); r.Status != 404 || r.code() != "passkey.none" {
			t.Fatalf("a ceremony without a passkey: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "POST", env.URL+"/api/v1/me/email/passkey", nil); r.Status != 401 {
			t.Fatalf("an anonymous ceremony: %d %s", r.Status, r.Raw)
		}
		mine, theirs := passkeytest.New(env.Origin), passkeytest.New(env.Origin)
		passkeyOn(t, env, ada, mine, "Phone")
		passkeyOn(t, env, grace, theirs, "Grace's")
		if r := call(t, c, "GET", env.URL+"/api/v1/me/email", nil, bearer(ada)...); r.Status != 200 || !reflect.DeepEqual(r.JSON["confirm_with"], []any{"passkey"}) {
			t.Fatalf("with a passkey: %d %s", r.Status, r.Raw)
		}
		answer := func(token string, dev *passkeytest.Authenticator) json.RawMessage {
			t.Helper()
			r := call(t, c, "POST", env.URL+"/api/v1/me/email/passkey", nil, bearer(token)...)
			if r.Status != 200 || r.JSON["publicKey"] == nil {
				t.Fatalf("begin: %d %s", r.Status, r.Raw)
			}
			a, err := dev.Get(r.Raw)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		ask := func(passkey json.RawMessage) response {
			body := map[string]any{"new_email": "ada@example.net", "current_password": goodPassword}
			if passkey != nil {
				body["passkey"] = passkey
			}
			return call(t, c, "POST", env.URL+"/api/v1/me/email", body, bearer(ada)...)
		}
		if r := ask(nil); r.Status != 422 || r.fieldCodes()["passkey"] != "email_change.passkey_required" {
			t.Fatalf("without the passkey: %d %s", r.Status, r.Raw)
		}
		if r := ask(answer(grace, theirs)); r.Status != 422 || r.fieldCodes()["passkey"] != "email_change.passkey_failed" {
			t.Fatalf("another person's passkey: %d %s", r.Status, r.Raw)
		}
		if r := ask(json.RawMessage(`{"id":"made up"}`)); r.Status != 422 || r.fieldCodes()["passkey"] != "email_change.passkey_failed" {
			t.Fatalf("a made-up answer: %d %s", r.Status, r.Raw)
		}
		if n := len(env.Outbox(t, "email_change_requested")); n != 0 {
			t.Fatalf("%d links sent without the passkey", n)
		}
		own := answer(ada, mine)
		r := ask(own)
		if r.Status != 202 || r.JSON["pending"] == nil || !reflect.DeepEqual(r.JSON["confirm_with"], []any{"passkey"}) {
			t.Fatalf("with the passkey: %d %s", r.Status, r.Raw)
		}
		env.Mail(t, "ada@example.net", "email_change_requested")
		if r := ask(own); r.Status != 422 || r.fieldCodes()["passkey"] != "email_change.passkey_failed" {
			t.Fatalf("the same answer again: %d %s", r.Status, r.Raw)
		}
		// Grace's own change is hers alone: her answer serves her.
		body := map[string]any{"new_email": "grace@example.net", "current_password": goodPassword, "passkey": answer(grace, theirs)}
		if r := call(t, c, "POST", env.URL+"/api/v1/me/email", body, bearer(grace)...); r.Status != 202 {
			t.Fatalf("grace with her passkey: %d %s", r.Status, r.Raw)
		}
	})
}

// TestEmailChange_API_TheOldAddressStaysTheIdentitysWhileItCanBeGivenBack:
// once a login email is changed, the old address is told with a link that
// gives it back (72 hours). Meanwhile nobody else can take it: a sign-up
// with it, or an invitation of it to another account, is refused as for an
// address someone has, and nothing is created, so that the link still gives
// it back (someone who took over the account and changed its address cannot
// keep its owner out by taking the old one). Once the link has expired the
// address is free.
func TestEmailChange_API_TheOldAddressStaysTheIdentitysWhileItCanBeGivenBack(t *testing.T) {
	var clock *apptest.Clock
	eachWith(t, clocked(&clock), func(t *testing.T, env *apptest.Env) {
		raw := storetest.Raw(t, env.DB)
		identities := func(email string) int {
			t.Helper()
			var n int
			if err := raw.QueryRow(`SELECT count(*) FROM users WHERE email_key = $1`, email).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		changed := func(old, next string) string {
			t.Helper()
			token := signUp(t, env, old)
			if r := changeEmail(t, env, token, next, goodPassword); r.Status != 202 {
				t.Fatalf("request: %d %s", r.Status, r.Raw)
			}
			secret := emailChangeLink(t, env, next, "email_change_requested", "/email-change/confirm/")
			if r := call(t, env.Client(), "POST", env.URL+"/api/v1/email-change/confirm", map[string]any{"token": secret}); r.Status != 200 {
				t.Fatalf("confirm: %d %s", r.Status, r.Raw)
			}
			env.Delivered(t)
			return emailChangeLink(t, env, old, "email_changed", "/email-change/cancel/")
		}
		cancel := changed("ada@example.com", "ada@example.net")

		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/signup", signupBody("ada@example.com")); r.Status != 409 || r.code() != "signup.email_unavailable" {
			t.Errorf("a sign-up with the old address: %d %s", r.Status, r.Raw)
		}
		other := newTenant(t, env, "owner@other.example")
		if r := addMember(t, other, other.admin, newMemberBody("ada@example.com")); r.Status != 409 || r.code() != "email.taken" {
			t.Errorf("an invitation of the old address: %d %s", r.Status, r.Raw)
		}
		if n := identities("ada@example.com"); n != 0 {
			t.Fatalf("%d identities with the old address", n)
		}
		r := call(t, env.Client(), "POST", env.URL+"/api/v1/email-change/cancel", map[string]any{"token": cancel})
		if r.Status != 200 || r.JSON["restored"] != true || r.JSON["email"] != "ada@example.com" {
			t.Fatalf("cancel: %d %s", r.Status, r.Raw)
		}

		// Past the link's 72 hours, the old address is anyone's.
		changed("bob@example.com", "bob@example.net")
		clock.Advance(72*time.Hour + time.Minute)
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/signup", signupBody("bob@example.com")); r.Status != 201 {
			t.Errorf("a sign-up with an old address whose link expired: %d %s", r.Status, r.Raw)
		}
	})
}
