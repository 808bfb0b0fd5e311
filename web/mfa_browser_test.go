package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/browsertest"
	"github.com/equipe-dev/equipe/team"
)

// TestBrowser_EnrolmentForcedByTheAccountPolicy: in an account that
// requires two-factor authentication with no grace, a member without a
// second factor who logs in to reach the team page is sent to enrolment
// first; they set up an authenticator app (the code computed from the
// secret the page shows), keep their recovery codes, and reach the page they
// asked for.
func TestBrowser_EnrolmentForcedByTheAccountPolicy(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	ana := env.AddMember(t, o.account, "ana@example.com", "collaborator", equipe.MemberActive)
	on, none := true, 0
	if _, err := env.App.Team.UpdateAccount(t.Context(), o.actor(), o.account, team.AccountChange{MFARequired: &on, MFAGraceHours: &none}); err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, ctx: ctx, env: env}
	teamPath := o.path("/members")

	b.do("open the team page", chromedp.Navigate(env.URL+teamPath))
	b.at("/login")
	b.do("log in", chromedp.WaitVisible(chromedp.CSS("#f-email")),
		b.fill(map[string]string{"email": ana.User.Email, "password": apptest.TestPassword}),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))
	b.at("/me/security?next=")
	browsertest.Screenshot(t, ctx, "mfa-enrolment-required")

	b.do("start the authenticator app", chromedp.Click(chromedp.CSS(`form[action="/me/security/totp"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#totp-secret")))
	// Shown in groups of four, as people type it.
	secret := strings.ReplaceAll(b.text("#totp-secret"), " ", "")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatalf("secret %q: %v", secret, err)
	}
	b.do("confirm with a code", b.fill(map[string]string{"code": code}),
		chromedp.Click(chromedp.CSS(`form[action="/me/security/totp/confirm"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".recovery-codes")))
	b.do("keep the recovery codes", chromedp.Click(chromedp.CSS(`a.button[href="`+teamPath+`"]`)))
	b.at(teamPath)
	b.wantText("h1", "Team")
	if f, err := env.App.DB.Factors(t.Context(), ana.User.ID); err != nil || !f.TOTP {
		t.Fatalf("ana's factors: %+v %v", f, err)
	}
}
