package openid_test

import (
	"net/url"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// tokenAnswer is the token endpoint's answer, or its error.
type tokenAnswer struct {
	Error        string `json:"error"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	Scope        string `json:"scope"`
	ExpiresIn    int    `json:"expires_in"`
}

// refreshScope sends a refresh grant with the client's ID and secret and,
// unless scope is empty, a scope parameter.
func refreshScope(t testing.TB, env *apptest.Env, p *rp, token, scope string) (int, tokenAnswer) {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}
	if scope != "" {
		form.Set("scope", scope)
	}
	var out tokenAnswer
	status := postAsClient(t, p, env.URL+"/oidc/token", form, &out)
	return status, out
}

// TestRefresh_AScopeWithoutOpenIDGivesAnAccessTokenWithoutIDToken: a
// refresh that asks for scopes without openid gets a signed access token
// with the account claims and the next refresh token, but no ID token
// (OpenID Connect Core 12.2); one without a scope parameter, or with
// openid, gets an ID token as before. Scopes beyond the grant's are
// refused, and the spent token's reuse still ends the grant.
func TestRefresh_AScopeWithoutOpenIDGivesAnAccessTokenWithoutIDToken(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			ada := signUp(t, env, "ada@example.com")
			p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", RedirectURIs: []string{redirect},
				Scopes: []string{"offline_access", "accounts"}})
			verifier := oauth2.GenerateVerifier()
			q := p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
			tok, err := p.oauth.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil || tok.RefreshToken == "" {
				t.Fatalf("first tokens: %v", err)
			}

			status, out := refreshScope(t, env, p, tok.RefreshToken, "offline_access accounts")
			if status != 200 || out.IDToken != "" || out.AccessToken == "" || out.RefreshToken == "" ||
				out.Scope != "offline_access accounts" || out.ExpiresIn <= 0 {
				t.Fatalf("access-only refresh: %d %+v", status, out)
			}
			at, err := p.provider.Verifier(&gooidc.Config{ClientID: p.oauth.ClientID}).Verify(t.Context(), out.AccessToken)
			if err != nil {
				t.Fatalf("the access token does not verify: %v", err)
			}
			var claims struct {
				Subject   string `json:"sub"`
				AccountID string `json:"account_id"`
				Role      string `json:"role"`
				Accounts  []any  `json:"accounts"`
			}
			if err := at.Claims(&claims); err != nil || claims.Subject != ada.id.String() || claims.AccountID != ada.account.String() ||
				claims.Role != "admin" || len(claims.Accounts) != 1 {
				t.Errorf("access token claims %+v %v", claims, err)
			}
			spent := tok.RefreshToken

			// Without a scope parameter, and with openid, an ID token comes.
			status, out = refreshScope(t, env, p, out.RefreshToken, "")
			if status != 200 || out.IDToken == "" {
				t.Fatalf("refresh without scope: %d %+v", status, out)
			}
			if _, err := p.verifier.Verify(t.Context(), out.IDToken); err != nil {
				t.Fatalf("ID token: %v", err)
			}
			status, out = refreshScope(t, env, p, out.RefreshToken, "openid accounts")
			if status != 200 || out.IDToken == "" {
				t.Fatalf("refresh with openid: %d %+v", status, out)
			}

			// A scope the grant does not hold is refused, and the token
			// stays unspent.
			if status, bad := refreshScope(t, env, p, out.RefreshToken, "offline_access profile"); status != 400 || bad.Error != "invalid_scope" {
				t.Fatalf("a scope beyond the grant's: %d %+v", status, bad)
			}
			status, out = refreshScope(t, env, p, out.RefreshToken, "accounts")
			if status != 200 || out.IDToken != "" || out.Scope != "accounts" {
				t.Fatalf("after a refused scope: %d %+v", status, out)
			}

			// A token spent by an access-only refresh, used again, ends the grant.
			if status, bad := refreshScope(t, env, p, spent, "accounts"); status != 400 || bad.Error != "invalid_grant" {
				t.Fatalf("reuse: %d %+v", status, bad)
			}
			if status, bad := refreshScope(t, env, p, out.RefreshToken, "accounts"); status != 400 || bad.Error != "invalid_grant" {
				t.Fatalf("the grant's latest token after a reuse: %d %+v", status, bad)
			}
		})
	}
}
