package api_test

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store/storetest"
)

// clocked runs fn on a fresh service per engine whose clock stands still
// until the test moves it: codes of an authenticator app depend on the
// time, and a test must be able to wait for the next one without sleeping.
func totpClocked(t *testing.T, fn func(t *testing.T, env *apptest.Env, clock *apptest.Clock)) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			// Mid-step, so that a step boundary is never crossed by accident.
			start := time.Now().UTC().Truncate(30 * time.Second).Add(10 * time.Second)
			clock := apptest.NewClock(start)
			fn(t, apptest.Start(t, e, apptest.Options{Now: clock.Now}), clock)
		})
	}
}

// code returns the code an authenticator app shows for secret at the
// clock's time.
func totpCode(t testing.TB, secret string, clock *apptest.Clock) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrolled signs someone up and sets up their authenticator app; it
// returns their session, the app's secret and their recovery codes. The
// clock is moved to the next step, so that the confirmation's code is
// spent.
func totpEnrolled(t *testing.T, env *apptest.Env, clock *apptest.Clock, email string) (token, secret string, recovery []string) {
	t.Helper()
	c := env.Client()
	token = signUp(t, env, email)
	r := call(t, c, "POST", env.URL+"/api/v1/me/totp", nil, bearer(token)...)
	if r.Status != 201 {
		t.Fatalf("start: %d %s", r.Status, r.Raw)
	}
	secret = r.JSON["secret"].(string)
	r = call(t, c, "POST", env.URL+"/api/v1/me/totp/confirm", map[string]any{"code": totpCode(t, secret, clock)}, bearer(token)...)
	if r.Status != 200 {
		t.Fatalf("confirm: %d %s", r.Status, r.Raw)
	}
	for _, c := range r.JSON["recovery_codes"].([]any) {
		recovery = append(recovery, c.(string))
	}
	clock.Advance(30 * time.Second)
	return token, secret, recovery
}

// challenge logs in with the password and returns the challenge of the
// second step.
func loginChallenge(t *testing.T, env *apptest.Env, email, password string) response {
	t.Helper()
	r := call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": email, "password": password})
	if r.Status != 202 || r.JSON["second_factor_required"] != true || r.JSON["token"] != nil {
		t.Fatalf("login with a second factor: %d %s", r.Status, r.Raw)
	}
	return r
}

func answerSecondStep(t *testing.T, env *apptest.Env, challenge, code string) response {
	t.Helper()
	return call(t, env.Client(), "POST", env.URL+"/api/v1/session/second-factor", map[string]any{"challenge": challenge, "code": code})
}

func TestTOTP_EnrolmentShowsTheSecretAndTheQRCodeAndNeedsACode(t *testing.T) {
	totpClocked(t, func(t *testing.T, env *apptest.Env, clock *apptest.Clock) {
		c := env.Client()
		token := signUp(t, env, "ada@example.com")
		if r := call(t, c, "POST", env.URL+"/api/v1/me/totp/confirm", map[string]any{"code": "123456"}, bearer(token)...); r.Status != 404 || r.code() != "totp.not_started" {
			t.Fatalf("confirm before start: %d %s", r.Status, r.Raw)
		}
		r := call(t, c, "POST", env.URL+"/api/v1/me/totp", nil, bearer(token)...)
		if r.Status != 201 {
			t.Fatalf("start: %d %s", r.Status, r.Raw)
		}
		secret := r.JSON["secret"].(string)
		u, err := url.Parse(r.JSON["otpauth_url"].(string))
		if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Query().Get("secret") != secret ||
			!strings.Contains(u.Path, "ada@example.com") {
			t.Fatalf("otpauth URL %q", r.JSON["otpauth_url"])
		}
		b, err := base64.StdEncoding.DecodeString(r.JSON["qr_png"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if img, err := png.Decode(bytes.NewReader(b)); err != nil || img.Bounds().Dx() < 100 {
			t.Fatalf("QR code: %v", err)
		}
		// Not a factor until confirmed: a login still starts a session.
		if r := call(t, c, "POST", env.URL+"/api/v1/session", map[string]any{"email": "ada@example.com", "password": goodPassword}); r.Status != 200 {
			t.Fatalf("login during enrolment: %d %s", r.Status, r.Raw)
		}
		wrong := "000000"
		if wrong == totpCode(t, secret, clock) {
			wrong = "000001"
		}
		r = call(t, c, "POST", env.URL+"/api/v1/me/totp/confirm", map[string]any{"code": wrong}, bearer(token)...)
		if r.Status != 422 || r.fieldCodes()["code"] != "second_factor.invalid" {
			t.Fatalf("wrong code: %d %s", r.Status, r.Raw)
		}
		r = call(t, c, "POST", env.URL+"/api/v1/me/totp/confirm", map[string]any{"code": totpCode(t, secret, clock)}, bearer(token)...)
		if r.Status != 200 || len(r.JSON["recovery_codes"].([]any)) != 10 {
			t.Fatalf("confirm: %d %s", r.Status, r.Raw)
		}
		env.Mail(t, "ada@example.com", "second_factor_added")
		r = call(t, c, "GET", env.URL+"/api/v1/me/second-factors", nil, bearer(token)...)
		if r.Status != 200 || r.JSON["totp"] != true || r.JSON["recovery_codes"] != float64(10) {
			t.Fatalf("second factors: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "POST", env.URL+"/api/v1/me/totp", nil, bearer(token)...); r.Status != 409 || r.code() != "totp.already_enabled" {
			t.Fatalf("second enrolment: %d %s", r.Status, r.Raw)
		}
	})
}

func TestSecondStep_ACodeLogsInOnceAndIsNotAcceptedTwice(t *testing.T) {
	totpClocked(t, func(t *testing.T, env *apptest.Env, clock *apptest.Clock) {
		_, secret, _ := totpEnrolled(t, env, clock, "ada@example.com")
		ch := loginChallenge(t, env, "ada@example.com", goodPassword)
		if m := ch.JSON["methods"].([]any); !slices.Equal(m, []any{"totp", "recovery_code"}) {
			t.Errorf("methods %v", m)
		}
		// The code of the confirmation's step was spent by it.
		clock.Advance(-30 * time.Second)
		if r := answerSecondStep(t, env, ch.JSON["challenge"].(string), totpCode(t, secret, clock)); r.Status != 422 || r.fieldCodes()["code"] != "second_factor.replayed" {
			t.Fatalf("replayed code: %d %s", r.Status, r.Raw)
		}
		clock.Advance(30 * time.Second)
		now := totpCode(t, secret, clock)
		r := answerSecondStep(t, env, ch.JSON["challenge"].(string), now)
		if r.Status != 200 || r.JSON["token"] == nil {
			t.Fatalf("second step: %d %s", r.Status, r.Raw)
		}
		if me := call(t, env.Client(), "GET", env.URL+"/api/v1/me", nil, bearer(r.JSON["token"].(string))...); me.Status != 200 {
			t.Fatalf("me: %d %s", me.Status, me.Raw)
		}
		// The challenge is used; the code too, even for a new challenge.
		if r := answerSecondStep(t, env, ch.JSON["challenge"].(string), now); r.Status != 401 || r.code() != "login.challenge_invalid" {
			t.Fatalf("used challenge: %d %s", r.Status, r.Raw)
		}
		again := loginChallenge(t, env, "ada@example.com", goodPassword)
		if r := answerSecondStep(t, env, again.JSON["challenge"].(string), now); r.Status != 422 || r.fieldCodes()["code"] != "second_factor.replayed" {
			t.Fatalf("replayed code on a new challenge: %d %s", r.Status, r.Raw)
		}
		// A wrong password never gets a challenge.
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": "ada@example.com", "password": "not the password at all"}); r.Status != 401 || r.JSON["challenge"] != nil {
			t.Fatalf("wrong password: %d %s", r.Status, r.Raw)
		}
	})
}

func TestSecondStep_ChallengeExpires(t *testing.T) {
	totpClocked(t, func(t *testing.T, env *apptest.Env, clock *apptest.Clock) {
		_, secret, _ := totpEnrolled(t, env, clock, "ada@example.com")
		ch := loginChallenge(t, env, "ada@example.com", goodPassword)
		if exp, err := time.Parse(time.RFC3339, ch.JSON["expires_at"].(string)); err != nil || exp.Sub(clock.Now()) != 5*time.Minute {
			t.Fatalf("expires at %v (%v)", ch.JSON["expires_at"], err)
		}
		clock.Advance(5 * time.Minute)
		if r := answerSecondStep(t, env, ch.JSON["challenge"].(string), totpCode(t, secret, clock)); r.Status != 401 || r.code() != "login.challenge_invalid" {
			t.Fatalf("expired challenge: %d %s", r.Status, r.Raw)
		}
		if r := answerSecondStep(t, env, "not-a-challenge", totpCode(t, secret, clock)); r.Status != 401 || r.code() != "login.challenge_invalid" {
			t.Fatalf("made-up challenge: %d %s", r.Status, r.Raw)
		}
	})
}

func TestSecondStep_WrongCodesAreThrottledPerUserAndTheRightOneWaits(t *testing.T) {
	totpClocked(t, func(t *testing.T, env *apptest.Env, clock *apptest.Clock) {
		_, secret, _ := totpEnrolled(t, env, clock, "ada@example.com")
		ch := loginChallenge(t, env, "ada@example.com", goodPassword)
		wrong := "000000"
		if wrong == totpCode(t, secret, clock) {
			wrong = "000001"
		}
		for i := range 5 {
			if r := answerSecondStep(t, env, ch.JSON["challenge"].(string), wrong); r.Status != 422 {
				t.Fatalf("wrong code %d: %d %s", i+1, r.Status, r.Raw)
			}
		}
		// Five wrong codes block the next attempt: even the right code waits.
		r := answerSecondStep(t, env, ch.JSON["challenge"].(string), totpCode(t, secret, clock))
		if r.Status != 429 || r.JSON["retry_after"] == nil {
			t.Fatalf("right code while throttled: %d %s", r.Status, r.Raw)
		}
		clock.Advance(30 * time.Second)
		if r := answerSecondStep(t, env, ch.JSON["challenge"].(string), totpCode(t, secret, clock)); r.Status != 200 {
			t.Fatalf("right code after the wait: %d %s", r.Status, r.Raw)
		}
	})
}

func TestRecoveryCodes_EachLogsInOnceAndRegeneratingReplacesThem(t *testing.T) {
	totpClocked(t, func(t *testing.T, env *apptest.Env, clock *apptest.Clock) {
		c := env.Client()
		token, _, recovery := totpEnrolled(t, env, clock, "ada@example.com")
		ch := loginChallenge(t, env, "ada@example.com", goodPassword)
		// Typed in capitals and without dashes, it still works.
		typed := strings.ToUpper(strings.ReplaceAll(recovery[0], "-", " "))
		if r := answerSecondStep(t, env, ch.JSON["challenge"].(string), typed); r.Status != 200 {
			t.Fatalf("recovery code: %d %s", r.Status, r.Raw)
		}
		m := env.Mail(t, "ada@example.com", "recovery_code_used")
		if !strings.Contains(m.Text, "9 recovery codes left") {
			t.Errorf("the email does not say 9 are left:\n%s", m.Text)
		}
		ch = loginChallenge(t, env, "ada@example.com", goodPassword)
		if r := answerSecondStep(t, env, ch.JSON["challenge"].(string), recovery[0]); r.Status != 422 || r.fieldCodes()["code"] != "second_factor.invalid" {
			t.Fatalf("reused recovery code: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "POST", env.URL+"/api/v1/me/recovery-codes", map[string]any{"password": "not the password at all"}, bearer(token)...); r.Status != 422 || r.fieldCodes()["password"] != "password.wrong" {
			t.Fatalf("regenerate with a wrong password: %d %s", r.Status, r.Raw)
		}
		r := call(t, c, "POST", env.URL+"/api/v1/me/recovery-codes", map[string]any{"password": goodPassword}, bearer(token)...)
		if r.Status != 201 || len(r.JSON["recovery_codes"].([]any)) != 10 {
			t.Fatalf("regenerate: %d %s", r.Status, r.Raw)
		}
		fresh := r.JSON["recovery_codes"].([]any)[0].(string)
		env.Mail(t, "ada@example.com", "recovery_codes_regenerated")
		if r := answerSecondStep(t, env, ch.JSON["challenge"].(string), recovery[1]); r.Status != 422 {
			t.Fatalf("old recovery code after regeneration: %d %s", r.Status, r.Raw)
		}
		if r := answerSecondStep(t, env, ch.JSON["challenge"].(string), fresh); r.Status != 200 {
			t.Fatalf("new recovery code: %d %s", r.Status, r.Raw)
		}
	})
}

func TestTOTP_DisablingNeedsThePasswordAndACode(t *testing.T) {
	totpClocked(t, func(t *testing.T, env *apptest.Env, clock *apptest.Clock) {
		c := env.Client()
		token, secret, _ := totpEnrolled(t, env, clock, "ada@example.com")
		raw := storetest.Raw(t, env.DB)
		for _, tt := range []struct {
			name, password, code, field, key string
		}{
			{"no code", goodPassword, "", "code", "second_factor.required"},
			{"no password", "", totpCode(t, secret, clock), "password", "password.confirm_required"},
			{"wrong password", "not the password at all", totpCode(t, secret, clock), "password", "password.wrong"},
			{"wrong code", goodPassword, "12345", "code", "second_factor.invalid"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				before := storetest.Counts(t, raw)
				r := call(t, c, "DELETE", env.URL+"/api/v1/me/totp", map[string]any{"password": tt.password, "code": tt.code}, bearer(token)...)
				if r.Status != 422 || r.fieldCodes()[tt.field] != tt.key {
					t.Fatalf("%d %s", r.Status, r.Raw)
				}
				after := storetest.Counts(t, raw)
				for _, table := range []string{"totp_factors", "recovery_codes", "outbox"} {
					if after[table] != before[table] {
						t.Errorf("%s: %d rows, then %d", table, before[table], after[table])
					}
				}
			})
		}
		if r := call(t, c, "DELETE", env.URL+"/api/v1/me/totp", map[string]any{"password": goodPassword, "code": totpCode(t, secret, clock)}, bearer(token)...); r.Status != 204 {
			t.Fatalf("disable: %d %s", r.Status, r.Raw)
		}
		env.Mail(t, "ada@example.com", "second_factor_removed")
		if r := call(t, c, "POST", env.URL+"/api/v1/session", map[string]any{"email": "ada@example.com", "password": goodPassword}); r.Status != 200 {
			t.Fatalf("login without a second factor: %d %s", r.Status, r.Raw)
		}
		counts := storetest.Counts(t, raw)
		if counts["totp_factors"] != 0 || counts["recovery_codes"] != 0 {
			t.Errorf("left behind: %d seeds, %d recovery codes", counts["totp_factors"], counts["recovery_codes"])
		}
	})
}

func TestSecondFactorSecrets_NeverStoredOrLoggedInClear(t *testing.T) {
	totpClocked(t, func(t *testing.T, env *apptest.Env, clock *apptest.Clock) {
		_, secret, recovery := totpEnrolled(t, env, clock, "ada@example.com")
		secrets := map[string]string{"seed": secret, "seed in lower case": strings.ToLower(secret)}
		for i, c := range recovery {
			secrets["recovery code "+c] = c
			secrets["recovery code, as typed "+c] = strings.ReplaceAll(c, "-", "")
			if i == 0 {
				ch := loginChallenge(t, env, "ada@example.com", goodPassword)
				secrets["challenge"] = ch.JSON["challenge"].(string)
				if r := answerSecondStep(t, env, secrets["challenge"], c); r.Status != 200 {
					t.Fatalf("recovery code: %d %s", r.Status, r.Raw)
				}
			}
		}
		env.Delivered(t)
		raw := storetest.Raw(t, env.DB)
		dump := storetest.Dump(t, raw)
		logs := env.Logs()
		if !strings.Contains(dump, "ada@example.com") || !strings.Contains(logs, "/api/v1/session/second-factor") {
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
		var keyID string
		if err := raw.QueryRow(`SELECT key_id FROM totp_factors`).Scan(&keyID); err != nil || keyID != env.App.Identity.Keys.KeyID() {
			t.Errorf("seed sealed under %q, want the instance key %q (%v)", keyID, env.App.Identity.Keys.KeyID(), err)
		}
	})
}
