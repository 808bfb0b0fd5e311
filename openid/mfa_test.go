package openid_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

func TestProvider_AnAccountThatRequiresASecondFactorHasItsMembersSetOneUpFirst(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			clock := apptest.NewClock(time.Now().UTC().Truncate(30 * time.Second).Add(10 * time.Second))
			env := apptest.Start(t, e, apptest.Options{Now: clock.Now})
			ada := signUp(t, env, "ada@example.com")
			p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", FirstParty: true, RedirectURIs: []string{redirect},
				Scopes: []string{"offline_access", "accounts"}})
			ctx := t.Context()
			verifier := oauth2.GenerateVerifier()
			authURL := func(extra ...oauth2.AuthCodeOption) string {
				return p.oauth.AuthCodeURL("s", append(extra, oauth2.S256ChallengeOption(verifier),
					oauth2.SetAuthURLParam("equipe_account", ada.account.String()))...)
			}
			q := p.authorize(t, ada.browser, authURL(), nil)
			before, err := p.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}

			// The account requires a second factor, with no grace.
			u, err := env.App.DB.UserByID(ctx, ada.id)
			if err != nil {
				t.Fatal(err)
			}
			on, none := true, 0
			if _, err := env.App.Team.UpdateAccount(ctx, team.Actor{User: &u}, ada.account,
				team.AccountChange{MFARequired: &on, MFAGraceHours: &none}); err != nil {
				t.Fatal(err)
			}
			// The tokens from before refresh no more.
			if _, err := p.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: before.RefreshToken}).Token(); err == nil ||
				!strings.Contains(err.Error(), "invalid_grant") {
				t.Errorf("a refresh without the second factor the account requires: %v", err)
			}
			// Signing in sends her to set one up, and back to the request;
			// without a page to show (prompt=none), the client is told.
			r := send(t, ada.browser, "GET", authURL(), nil)
			login := r.Header.Get("Location")
			r = send(t, ada.browser, "GET", env.URL+login, nil)
			if r.StatusCode != 303 || r.Header.Get("Location") != "/me/security?next="+url.QueryEscape(login) {
				t.Fatalf("sign-in without a second factor: %d %s", r.StatusCode, r.Header.Get("Location"))
			}
			r = send(t, ada.browser, "GET", authURL(oauth2.SetAuthURLParam("prompt", "none")), nil)
			r = send(t, ada.browser, "GET", env.URL+r.Header.Get("Location"), nil)
			to, _ := url.Parse(strings.TrimPrefix(r.Header.Get("Refresh"), "0;url="))
			if to == nil || to.Query().Get("error") != "interaction_required" {
				t.Errorf("prompt=none without a second factor: %d %s %s", r.StatusCode, r.Header.Get("Location"), r.Header.Get("Refresh"))
			}

			// Once she has one, the same request goes through.
			var secret string
			for _, c := range ada.browser.Jar.Cookies(mustURL(t, env.URL)) {
				if c.Name == "equipe_session" {
					secret = c.Value
				}
			}
			auth, err := env.App.Identity.Authenticate(ctx, secret)
			if err != nil {
				t.Fatal(err)
			}
			setup, err := env.App.Identity.StartTOTP(ctx, auth, "", equipe.Origin{IP: "127.0.0.1"})
			if err != nil {
				t.Fatal(err)
			}
			code, _ := totp.GenerateCode(setup.Secret, clock.Now())
			if _, err := env.App.Identity.ConfirmTOTP(ctx, auth, code, equipe.Origin{IP: "127.0.0.1"}); err != nil {
				t.Fatal(err)
			}
			q = p.authorize(t, ada.browser, env.URL+login, nil)
			if _, err := p.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); err != nil {
				t.Errorf("signing in with the second factor set up: %v", err)
			}
		})
	}
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
