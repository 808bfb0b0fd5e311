package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/browsertest"
)

// TestBrowser_TOTPEnrolmentThenLoginWithACodeAndWithARecoveryCode sets up
// an authenticator app on /me/security as a person would, reading the
// secret the page shows (the test plays the app: it computes the codes),
// keeps the recovery codes, then logs in with a code and, from the start
// again, with a recovery code.
func TestBrowser_TOTPEnrolmentThenLoginWithACodeAndWithARecoveryCode(t *testing.T) {
	ctx := browsertest.New(t)
	// The service's clock stands still, so the test moves to the next
	// code's step instead of waiting for it.
	clock := apptest.NewClock(time.Now().UTC().Truncate(30 * time.Second).Add(10 * time.Second))
	env := apptest.Start(t, "sqlite", apptest.Options{Now: clock.Now})
	b := &browser{t: t, ctx: ctx, env: env}
	code := func(secret string) string {
		c, err := totp.GenerateCode(secret, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	const email, password = "camille@boulangerie.example", "une baguette bien croustillante"

	b.do("sign up", chromedp.Navigate(env.URL+"/signup"), chromedp.WaitVisible(chromedp.CSS("#f-first_name")),
		b.fill(map[string]string{"first_name": "Camille", "last_name": "Durand", "email": email,
			"password": password, "account_name": "Boulangerie Durand", "resource_name": "Boutique"}),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))
	b.at("/consent")
	b.do("accept the privacy policy", chromedp.Click(chromedp.CSS("#f-accept")), chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))
	b.at("/")

	b.do("open the two-factor page", chromedp.Navigate(env.URL+"/me/security"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/me/security/totp"] button.primary`)))
	if cur := b.text(`nav.subnav a[aria-current="page"]`); cur != "Double authentification" {
		t.Errorf("current tab %q", cur)
	}
	b.do("start the setup", chromedp.Click(chromedp.CSS(`form[action="/me/security/totp"] button.primary`)),
		chromedp.WaitVisible(chromedp.CSS("#totp-secret")))
	if w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelector("img.qr").naturalWidth`)); err != nil || w < 100 {
		t.Fatalf("the QR code is not drawn (width %d, %v)", w, err)
	}
	browsertest.Screenshot(t, ctx, "me-security-setup")
	secret := strings.ReplaceAll(b.text("#totp-secret"), " ", "")

	b.do("type a wrong code", b.fill(map[string]string{"code": "000000"}),
		chromedp.Click(chromedp.CSS(`form[action="/me/security/totp/confirm"] button.primary`)), chromedp.WaitVisible(chromedp.CSS("#e-code")))
	if code(secret) == "000000" {
		t.Skip("the right code is 000000 this time")
	}
	if msg := b.text("#e-code"); !strings.Contains(msg, "Ce code n’est pas correct") {
		t.Fatalf("wrong code message %q", msg)
	}
	b.do("type the app's code", b.fill(map[string]string{"code": code(secret)}),
		chromedp.Click(chromedp.CSS(`form[action="/me/security/totp/confirm"] button.primary`)),
		chromedp.WaitVisible(chromedp.CSS("ol.recovery-codes")))
	codes, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("ol.recovery-codes code")].map(c => c.textContent)`))
	if err != nil || len(codes) != 10 {
		t.Fatalf("recovery codes %v (%v)", codes, err)
	}
	browsertest.Screenshot(t, ctx, "me-security-codes")
	env.Mail(t, email, "second_factor_added")
	b.do("keep the codes", chromedp.Click(chromedp.CSS(`a.button[href="/me/security"]`)), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if n := b.text(`main .notice`); !strings.Contains(n, "application d’authentification est configurée") {
		t.Fatalf("after setup: %q", n)
	}

	// Logging in now takes a code, once the password is right.
	clock.Advance(30 * time.Second)
	b.do("log out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)))
	b.at("/login")
	b.do("log in with the password", b.fill(map[string]string{"email": email, "password": password}),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))
	b.at("/login/second-factor")
	b.do("see the second step", chromedp.WaitVisible(chromedp.CSS("#f-code")))
	browsertest.Screenshot(t, ctx, "login-second-factor")
	b.do("type the app's code", b.fill(map[string]string{"code": code(secret)}), chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))
	b.at("/")
	b.do("see the home page", chromedp.WaitVisible(chromedp.CSS(".accounts")))

	// Without the phone: a recovery code, once.
	b.do("log out again", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)))
	b.at("/login")
	b.do("log in with the password again", b.fill(map[string]string{"email": email, "password": password}),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))
	b.at("/login/second-factor")
	b.do("choose a recovery code", chromedp.Click(chromedp.CSS(`a[href^="/login/second-factor?method=recovery_code"]`)))
	b.at("/login/second-factor?method=recovery_code")
	b.do("see the recovery code's field", chromedp.WaitVisible(chromedp.CSS("#f-code")))
	if l := b.text(`label[for="f-code"]`); l != "Code de secours" {
		t.Fatalf("label %q", l)
	}
	b.do("type a recovery code", b.fill(map[string]string{"code": codes[0]}), chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))
	b.at("/")
	b.do("see the home page again", chromedp.WaitVisible(chromedp.CSS(".accounts")))
	env.Mail(t, email, "recovery_code_used")
}
