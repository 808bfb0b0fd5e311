package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/identity"
)

// totpEnrolled sets up an authenticator app for the person at email with
// the use cases, and returns its secret and recovery codes; the clock is
// then moved to the next step, the confirmation's code being spent.
// adaWithAnApp starts the service on a clock ten seconds into a TOTP step,
// has ada@example.com sign up and set up an authenticator app, and returns
// the service, its clock, the app's secret and its recovery codes.
func adaWithAnApp(t *testing.T) (*apptest.Env, *apptest.Clock, string, []string) {
	t.Helper()
	clock := apptest.NewClock(time.Now().UTC().Truncate(30 * time.Second).Add(10 * time.Second))
	env := apptest.Start(t, "sqlite", apptest.Options{Now: clock.Now})
	post(t, env.Client(), env.URL+"/signup", signupForm("ada@example.com"))
	secret, recovery := totpEnrolled(t, env, clock, "ada@example.com")
	return env, clock, secret, recovery
}

func totpEnrolled(t *testing.T, env *apptest.Env, clock *apptest.Clock, email string) (string, []string) {
	t.Helper()
	ctx := t.Context()
	_, _, err := env.App.Identity.LogIn(ctx, email, "lovelace rode the number engine", equipe.Origin{IP: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := env.App.DB.UserByEmailKey(ctx, identity.EmailKey(email))
	if err != nil {
		t.Fatal(err)
	}
	auth := identity.Auth{User: u}
	setup, err := env.App.Identity.StartTOTP(ctx, auth, "lovelace rode the number engine", equipe.Origin{IP: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(setup.Secret, clock.Now())
	codes, err := env.App.Identity.ConfirmTOTP(ctx, auth, code, equipe.Origin{IP: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(30 * time.Second)
	return setup.Secret, codes
}

func cookie(c *http.Client, base, name string) string {
	u, _ := url.Parse(base)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

func TestLoginSecondStep_AsksForACodeOrARecoveryCodeAndThenLogsIn(t *testing.T) {
	env, clock, secret, recovery := adaWithAnApp(t)

	c := env.Client()
	login := url.Values{"email": {"ada@example.com"}, "password": {"lovelace rode the number engine"}, "next": {"/privacy"}}
	p := post(t, c, env.URL+"/login", login)
	if p.Status != 303 || p.Header.Get("Location") != "/login/second-factor?next=%2Fprivacy" {
		t.Fatalf("login: %d %q", p.Status, p.Header.Get("Location"))
	}
	if cookie(c, env.URL, "equipe_session") != "" || cookie(c, env.URL, "equipe_login") == "" {
		t.Fatal("the password alone gave a session, or no challenge")
	}
	if strings.Contains(p.Header.Get("Location"), cookie(c, env.URL, "equipe_login")) {
		t.Fatal("the challenge is in the URL")
	}
	p = get(t, c, env.URL+"/login/second-factor?next=%2Fprivacy")
	if p.Status != 200 || !strings.Contains(p.Body, "Code de votre application d’authentification") ||
		!strings.Contains(p.Body, `autocomplete="one-time-code"`) || !strings.Contains(p.Body, "Utiliser un code de secours") {
		t.Fatalf("second step page: %d\n%s", p.Status, p.Body)
	}
	p = post(t, c, env.URL+"/login/second-factor", url.Values{"code": {" "}, "method": {"totp"}, "next": {"/privacy"}})
	if p.Status != 422 || !strings.Contains(p.Body, "Saisissez un code de votre application d’authentification") ||
		!strings.Contains(p.Body, `aria-invalid="true"`) {
		t.Fatalf("no code: %d\n%s", p.Status, p.Body)
	}
	p = post(t, c, env.URL+"/login/second-factor", url.Values{"code": {"12345"}, "method": {"totp"}, "next": {"/privacy"}})
	if p.Status != 422 || !strings.Contains(p.Body, "Ce code n’est pas correct.") || !strings.Contains(p.Body, `aria-invalid="true"`) {
		t.Fatalf("wrong code: %d\n%s", p.Status, p.Body)
	}
	code, _ := totp.GenerateCode(secret, clock.Now())
	p = post(t, c, env.URL+"/login/second-factor", url.Values{"code": {code}, "method": {"totp"}, "next": {"/privacy"}})
	if p.Status != 303 || p.Header.Get("Location") != "/privacy" {
		t.Fatalf("right code: %d %q\n%s", p.Status, p.Header.Get("Location"), p.Body)
	}
	if cookie(c, env.URL, "equipe_session") == "" || cookie(c, env.URL, "equipe_login") != "" {
		t.Fatal("no session after the second step, or the challenge's cookie stayed")
	}
	// Logged in: the next gate is the privacy policy, not the login.
	if p := get(t, c, env.URL+"/"); p.Status != 303 || !strings.HasPrefix(p.Header.Get("Location"), "/consent") {
		t.Fatalf("home after login: %d %q", p.Status, p.Header.Get("Location"))
	}

	// With a recovery code, from another browser.
	other := env.Client()
	post(t, other, env.URL+"/login", login)
	p = get(t, other, env.URL+"/login/second-factor?method=recovery_code")
	if p.Status != 200 || !strings.Contains(p.Body, "Code de secours") || !strings.Contains(p.Body, "Utiliser un code de votre application") {
		t.Fatalf("recovery code page: %d\n%s", p.Status, p.Body)
	}
	p = post(t, other, env.URL+"/login/second-factor", url.Values{"code": {recovery[0]}, "method": {"recovery_code"}})
	if p.Status != 303 || p.Header.Get("Location") != "/" {
		t.Fatalf("recovery code: %d %q\n%s", p.Status, p.Header.Get("Location"), p.Body)
	}

	// Without a login waiting, the page sends back to the login.
	p = get(t, env.Client(), env.URL+"/login/second-factor")
	if p.Status != 303 || p.Header.Get("Location") != "/login?done=expired" {
		t.Fatalf("no challenge: %d %q", p.Status, p.Header.Get("Location"))
	}
	late := env.Client()
	post(t, late, env.URL+"/login", login)
	clock.Advance(5 * time.Minute)
	code, _ = totp.GenerateCode(secret, clock.Now())
	p = post(t, late, env.URL+"/login/second-factor", url.Values{"code": {code}})
	if p.Status != 303 || p.Header.Get("Location") != "/login?done=expired" {
		t.Fatalf("expired challenge: %d %q", p.Status, p.Header.Get("Location"))
	}
	if p := get(t, late, env.URL+"/login?done=expired"); !strings.Contains(p.Body, "Votre connexion a pris trop de temps") {
		t.Fatalf("expired notice missing:\n%s", p.Body)
	}
}

// TestLoginSecondStep_APersonLoggingInAgainAnswersItAndTheNewSessionReplacesTheOld
// has a logged-in person with an authenticator app log in again, as an
// application's prompt=login asks: the second step is put to them though
// the browser has a session, and once it is answered the new session
// replaces the old one, whose cookie no longer logs in.
func TestLoginSecondStep_APersonLoggingInAgainAnswersItAndTheNewSessionReplacesTheOld(t *testing.T) {
	env, clock, secret, _ := adaWithAnApp(t)
	c := env.Client()
	login := url.Values{"email": {"ada@example.com"}, "password": {"lovelace rode the number engine"}, "next": {"/privacy"}}
	logIn := func() {
		t.Helper()
		if p := post(t, c, env.URL+"/login", login); p.Status != 303 || p.Header.Get("Location") != "/login/second-factor?next=%2Fprivacy" {
			t.Fatalf("login: %d %q", p.Status, p.Header.Get("Location"))
		}
		if p := get(t, c, env.URL+"/login/second-factor?next=%2Fprivacy"); p.Status != 200 || !strings.Contains(p.Body, `autocomplete="one-time-code"`) {
			t.Fatalf("second step page: %d %q\n%s", p.Status, p.Header.Get("Location"), p.Body)
		}
		code, _ := totp.GenerateCode(secret, clock.Now())
		if p := post(t, c, env.URL+"/login/second-factor", url.Values{"code": {code}, "method": {"totp"}, "next": {"/privacy"}}); p.Status != 303 ||
			p.Header.Get("Location") != "/privacy" {
			t.Fatalf("second step: %d %q\n%s", p.Status, p.Header.Get("Location"), p.Body)
		}
		clock.Advance(30 * time.Second)
	}
	logIn()
	old := cookie(c, env.URL, "equipe_session")
	logIn()
	if now := cookie(c, env.URL, "equipe_session"); now == "" || now == old {
		t.Fatalf("no new session: %q, then %q", old, now)
	}
	if p := get(t, c, env.URL+"/"); p.Status != 303 || !strings.HasPrefix(p.Header.Get("Location"), "/consent") {
		t.Errorf("the new session does not log in: %d %q", p.Status, p.Header.Get("Location"))
	}
	if p := get(t, env.Client(), env.URL+"/", "Cookie", "equipe_session="+old); p.Status != 303 ||
		!strings.HasPrefix(p.Header.Get("Location"), "/login") {
		t.Errorf("the replaced session still logs in: %d %q", p.Status, p.Header.Get("Location"))
	}
}

func TestSecurityPage_NewRecoveryCodesAndRemovingTheAppNeedThePasswordAndSaySoBesideTheField(t *testing.T) {
	clock := apptest.NewClock(time.Now().UTC().Truncate(30 * time.Second).Add(10 * time.Second))
	env := apptest.Start(t, "sqlite", apptest.Options{Now: clock.Now})
	c := env.Client()
	post(t, c, env.URL+"/signup", signupForm("ada@example.com"))
	post(t, c, env.URL+"/consent", url.Values{"accept": {"yes"}, "version": {"2026-11"}})
	p := get(t, c, env.URL+"/me/security")
	if p.Status != 200 || !strings.Contains(p.Body, `action="/me/security/totp"`) || !strings.Contains(p.Body, `aria-current="page">Double authentification`) {
		t.Fatalf("page before setup: %d\n%s", p.Status, p.Body)
	}
	secret, _ := totpEnrolled(t, env, clock, "ada@example.com")
	p = get(t, c, env.URL+"/me/security")
	if !strings.Contains(p.Body, "Il reste 10 codes de secours.") || strings.Contains(p.Body, "totp-secret") {
		t.Fatalf("page after setup:\n%s", p.Body)
	}

	p = post(t, c, env.URL+"/me/security/recovery-codes", url.Values{"password": {"not the password at all"}})
	if p.Status != 422 || !strings.Contains(p.Body, `id="e-password"`) || !strings.Contains(p.Body, "Ce n&#39;est pas votre mot de passe.") {
		t.Fatalf("wrong password: %d\n%s", p.Status, p.Body)
	}
	p = post(t, c, env.URL+"/me/security/recovery-codes", url.Values{"password": {"lovelace rode the number engine"}})
	if p.Status != 200 || strings.Count(p.Body, "<li><code>") != 10 {
		t.Fatalf("new codes: %d\n%s", p.Status, p.Body)
	}
	env.Mail(t, "ada@example.com", "recovery_codes_regenerated")

	if p := get(t, c, env.URL+"/me/security/totp/remove"); p.Status != 200 || !strings.Contains(p.Body, `id="f-code"`) {
		t.Fatalf("remove form: %d", p.Status)
	}
	p = post(t, c, env.URL+"/me/security/totp/remove", url.Values{"password": {""}, "code": {""}})
	if p.Status != 422 || !strings.Contains(p.Body, `id="e-password"`) || !strings.Contains(p.Body, `id="e-code"`) ||
		!strings.Contains(p.Body, "Saisissez votre mot de passe pour confirmer.") {
		t.Fatalf("nothing typed: %d\n%s", p.Status, p.Body)
	}
	p = post(t, c, env.URL+"/me/security/totp/remove", url.Values{"password": {"lovelace rode the number engine"}, "code": {"12"}})
	if p.Status != 422 || !strings.Contains(p.Body, `id="e-code"`) {
		t.Fatalf("wrong code: %d\n%s", p.Status, p.Body)
	}
	code, _ := totp.GenerateCode(secret, clock.Now())
	p = post(t, c, env.URL+"/me/security/totp/remove", url.Values{"password": {"lovelace rode the number engine"}, "code": {code}})
	if p.Status != 303 || p.Header.Get("Location") != "/me/security?done=removed" {
		t.Fatalf("remove: %d %q\n%s", p.Status, p.Header.Get("Location"), p.Body)
	}
	env.Mail(t, "ada@example.com", "second_factor_removed")
	if p := get(t, c, env.URL+"/me/security?done=removed"); !strings.Contains(p.Body, "L’application d’authentification a été retirée.") {
		t.Fatalf("after removal:\n%s", p.Body)
	}
}
