package web_test

import (
	"github.com/equipe-dev/equipe"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/equipe-dev/equipe/app"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/browsertest"
	"github.com/equipe-dev/equipe/store"
)

// startOnLocalhost runs the service with the public URL
// http://localhost:{port}: a WebAuthn relying party needs a host name, and
// browsers offer WebAuthn on http:// only for localhost. The browser must
// open the pages at the returned base URL.
func startOnLocalhost(t *testing.T, engine store.Engine) (*apptest.Env, string) {
	t.Helper()
	var base string
	env := apptest.Start(t, engine, apptest.Options{Configure: func(c *app.Config) {
		_, port, _ := net.SplitHostPort(c.Addr)
		base = "http://localhost:" + port
		c.PublicURL, _ = url.Parse(base)
	}})
	if !env.App.Identity.PasskeysAvailable() {
		t.Fatalf("passkeys unavailable on %s: %v", base, env.App.Identity.PasskeysOff)
	}
	return env, base
}

// virtualAuthenticator gives the browser a platform authenticator (CTAP2.1,
// internal transport) that keeps discoverable credentials and verifies the
// user at once, through the DevTools WebAuthn domain. The page must be open.
func virtualAuthenticator(t *testing.T, b *browser) webauthn.AuthenticatorID {
	t.Helper()
	if _, err := chromedp.Call(b.ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("enable WebAuthn: %v", err)
	}
	res, err := chromedp.Call(b.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
			Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
			IsUserVerified: true, AutomaticPresenceSimulation: true,
		}})
	if err != nil {
		t.Fatalf("add a virtual authenticator: %v", err)
	}
	return res.AuthenticatorID
}

// TestBrowser_RegisterAPasskeyAndLogInWithItAlone: a person adds a passkey
// on their own page (the browser's virtual authenticator makes it), logs
// out, and logs back in with the passkey alone: no email typed. Then their
// password alone no longer logs them in: the passkey answers the second
// step.
func TestBrowser_RegisterAPasskeyAndLogInWithItAlone(t *testing.T) {
	ctx := browsertest.New(t)
	env, base := startOnLocalhost(t, "sqlite")
	b := &browser{t: t, ctx: ctx, env: env}
	signUpOwner(t, env, "ada@example.com")
	env.URL = base // the browser opens the public URL's pages

	b.do("open the login page", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS("#f-email")))
	authenticator := virtualAuthenticator(t, b)
	b.do("log in with the password",
		b.fill(map[string]string{"email": "ada@example.com", "password": "lovelace rode the number engine"}),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))
	b.at("/")

	b.do("open the passkeys page", chromedp.Navigate(base+"/me/passkeys"), chromedp.WaitVisible(chromedp.CSS("#f-name")))
	if h := b.text("h1"); h != "Clés d'accès" {
		t.Fatalf("passkeys page title %q", h)
	}
	b.do("add a passkey without a name", chromedp.Click(chromedp.CSS(`#passkey-new button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#e-name")))
	if msg := b.text("#e-name"); !strings.Contains(msg, "obligatoire") {
		t.Fatalf("the empty name's problem: %q", msg)
	}
	b.do("add a passkey named", b.fill(map[string]string{"name": "Ordinateur portable"}),
		chromedp.Click(chromedp.CSS(`#passkey-new button[type=submit]`)))
	b.at("/me/passkeys?done=added")
	b.do("see the notice", chromedp.WaitVisible(chromedp.CSS(".notice")))
	if n := b.text(".notice"); n != "La clé d'accès est ajoutée." {
		t.Fatalf("notice %q", n)
	}
	if row := b.text("table.passkeys tbody tr"); !strings.Contains(row, "Ordinateur portable") || !strings.Contains(row, "jamais") {
		t.Fatalf("the passkeys' list: %q", row)
	}
	browsertest.Screenshot(t, ctx, "passkeys")
	creds, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: authenticator})
	if err != nil || len(creds.Credentials) != 1 || !creds.Credentials[0].IsResidentCredential {
		t.Fatalf("the authenticator holds %+v (%v)", creds, err)
	}

	b.do("log out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)))
	b.at("/login")
	b.do("see the passkey button", chromedp.WaitVisible(chromedp.CSS("#passkey-login")))
	browsertest.Screenshot(t, ctx, "login-passkey")
	b.do("log in with the passkey", chromedp.Click(chromedp.CSS("#passkey-login")))
	b.at("/")
	b.do("see the home page", chromedp.WaitVisible(chromedp.CSS(".accounts")))
	if h := b.text("h1"); h != "Bonjour Ada" {
		t.Fatalf("home title %q", h)
	}
	keys, _, err := env.App.Identity.Passkeys(t.Context(), mustUserID(t, env, "ada@example.com"), equipe.Page{})
	if err != nil || len(keys) != 1 || keys[0].LastUsedAt.IsZero() {
		t.Fatalf("the passkey after the login: %+v %v", keys, err)
	}
	env.Mail(t, "ada@example.com", "second_factor_added")

	// The password alone no longer logs in: the passkey is the second step.
	b.do("log out again", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)))
	b.at("/login")
	b.do("log in with the password",
		b.fill(map[string]string{"email": "ada@example.com", "password": "lovelace rode the number engine"}),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))
	b.at("/login/second-factor")
	b.do("see the passkey button", chromedp.WaitVisible(chromedp.CSS("#passkey-second-factor")))
	if p := b.text("main p"); !strings.Contains(p, "clés d'accès") {
		t.Fatalf("the second step says %q", p)
	}
	browsertest.Screenshot(t, ctx, "login-second-factor-passkey")
	b.do("confirm with the passkey", chromedp.Click(chromedp.CSS("#passkey-second-factor")))
	b.at("/")
	b.do("see the home page", chromedp.WaitVisible(chromedp.CSS(".accounts")))
}

// TestBrowser_AnEmailChangeAsksTheDeviceForAPasskey: a person whose only
// second factor is a passkey asks to change their login email; sending
// the form has the browser ask the (virtual) authenticator for the passkey,
// and the change waits for the new address's confirmation. With a wrong
// password the page says so beside the field, and the passkey's answer
// given then is not kept.
func TestBrowser_AnEmailChangeAsksTheDeviceForAPasskey(t *testing.T) {
	ctx := browsertest.New(t)
	env, base := startOnLocalhost(t, "sqlite")
	b := &browser{t: t, ctx: ctx, env: env}
	signUpOwner(t, env, "ada@example.com")
	env.URL = base

	b.do("open the login page", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS("#f-email")))
	authenticator := virtualAuthenticator(t, b)
	b.do("log in with the password",
		b.fill(map[string]string{"email": "ada@example.com", "password": "lovelace rode the number engine"}),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))
	b.at("/")
	b.do("open the passkeys page", chromedp.Navigate(base+"/me/passkeys"), chromedp.WaitVisible(chromedp.CSS("#f-name")))
	b.do("add a passkey", b.fill(map[string]string{"name": "Téléphone"}), chromedp.Click(chromedp.CSS(`#passkey-new button[type=submit]`)))
	b.at("/me/passkeys?done=added")

	b.do("open the login email tab", chromedp.Navigate(base+"/me/email"), chromedp.WaitVisible(chromedp.CSS("#f-new_email")))
	if hint := b.text("#f-passkey .hint"); !strings.Contains(hint, "clé d’accès") {
		t.Fatalf("the page says %q about the passkey", hint)
	}
	b.do("ask with a wrong password",
		b.fill(map[string]string{"new_email": "ada@nouvelle.example", "current_password": "pas le bon mot de passe"}),
		submit(), chromedp.WaitVisible(chromedp.CSS("#e-current_password")))
	if msg := b.text("#e-current_password"); msg != "Ce n’est pas votre mot de passe actuel." {
		t.Fatalf("password problem %q", msg)
	}
	b.do("ask with the password",
		b.fill(map[string]string{"current_password": "lovelace rode the number engine"}),
		submit(), chromedp.WaitVisible(chromedp.CSS(".pending-change")))
	b.at("/me/email?done=requested")
	if n := b.text(".notice"); !strings.Contains(n, "ada@nouvelle.example") {
		t.Fatalf("notice %q", n)
	}
	browsertest.Screenshot(t, ctx, "me-email-passkey")
	env.Mail(t, "ada@nouvelle.example", "email_change_requested")
	keys, _, err := env.App.Identity.Passkeys(t.Context(), mustUserID(t, env, "ada@example.com"), equipe.Page{})
	if err != nil || len(keys) != 1 || keys[0].LastUsedAt.IsZero() {
		t.Fatalf("the passkey was not used: %+v %v", keys, err)
	}
	creds, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: authenticator})
	if err != nil || len(creds.Credentials) != 1 || creds.Credentials[0].SignCount < 1 {
		t.Fatalf("the authenticator signed nothing: %+v (%v)", creds, err)
	}
}
