package openid_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/openid"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// TestIntrospection_AnAccessTokenIsAnsweredWithWhatItHolds: the active
// answer carries the token's own claims (RFC 7662 2.2), as the signed
// token holds them: exp, iat, iss, aud, jti, sub, client_id, scope and
// token_type Bearer.
func TestIntrospection_AnAccessTokenIsAnsweredWithWhatItHolds(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			_, p, q, verifier := adaWithOfflineApp(t, env)
			tok, _ := p.exchange(t, q, verifier)
			jwt := jwtClaims(t, tok.AccessToken)

			var out map[string]any
			if status := postAsClient(t, p, env.URL+"/oidc/introspect", url.Values{"token": {tok.AccessToken}}, &out); status != 200 || out["active"] != true {
				t.Fatalf("introspection: %d %v", status, out)
			}
			for _, claim := range []string{"exp", "iat", "iss", "jti", "sub", "client_id"} {
				if out[claim] == nil || out[claim] != jwt[claim] {
					t.Errorf("%s: introspection %v, token %v", claim, out[claim], jwt[claim])
				}
			}
			if out["iss"] != env.URL || out["client_id"] != p.oauth.ClientID || out["token_type"] != "Bearer" ||
				out["scope"] != "openid offline_access" {
				t.Errorf("introspection: %v", out)
			}
			if aud := fmt.Sprint(out["aud"]); !strings.Contains(aud, p.oauth.ClientID) {
				t.Errorf("aud: %v", out["aud"])
			}
		})
	}
}

// TestIntrospection_ARefreshTokenIsActiveToItsOwnClientWhileItIsGood: a
// refresh token introspects active to its client, with or without
// token_type_hint (RFC 7662 2.1: the server looks in every kind), with its
// exp, iat, scope, client_id and sub; to another client it is inactive, and
// so it is to its own once used, and its access token with the hint
// refresh_token is still found.
func TestIntrospection_ARefreshTokenIsActiveToItsOwnClientWhileItIsGood(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			ada, p, q, verifier := adaWithOfflineApp(t, env)
			other := newRP(t, env, team.OIDCClientInput{Name: "Other app", RedirectURIs: []string{redirect}, Scopes: []string{"offline_access"}})
			tok, _ := p.exchange(t, q, verifier)
			introspect := func(c *rp, form url.Values) map[string]any {
				t.Helper()
				var out map[string]any
				if status := postAsClient(t, c, env.URL+"/oidc/introspect", form, &out); status != 200 {
					t.Fatalf("introspection: %d %v", status, out)
				}
				return out
			}
			for _, hint := range []string{"", "refresh_token", "access_token"} {
				form := url.Values{"token": {tok.RefreshToken}}
				if hint != "" {
					form.Set("token_type_hint", hint)
				}
				out := introspect(p, form)
				if out["active"] != true || out["client_id"] != p.oauth.ClientID || out["sub"] != ada.id.String() ||
					out["scope"] != "openid offline_access" || out["iss"] != env.URL || out["token_type"] != nil {
					t.Errorf("hint %q: %v", hint, out)
				}
				exp, _ := out["exp"].(float64)
				iat, _ := out["iat"].(float64)
				if iat == 0 || exp-iat != openid.RefreshTokenLifetime.Seconds() {
					t.Errorf("hint %q: iat %v exp %v", hint, out["iat"], out["exp"])
				}
				if out := introspect(other, form); out["active"] != false || len(out) != 1 {
					t.Errorf("hint %q, another client: %v", hint, out)
				}
			}
			if out := introspect(p, url.Values{"token": {tok.AccessToken}, "token_type_hint": {"refresh_token"}}); out["active"] != true || out["token_type"] != "Bearer" {
				t.Errorf("the access token hinted refresh_token: %v", out)
			}

			next, err := p.oauth.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			if err != nil {
				t.Fatal(err)
			}
			if out := introspect(p, url.Values{"token": {tok.RefreshToken}}); out["active"] != false || len(out) != 1 {
				t.Errorf("a used refresh token: %v", out)
			}
			if out := introspect(p, url.Values{"token": {next.RefreshToken}}); out["active"] != true {
				t.Errorf("the next refresh token: %v", out)
			}
		})
	}
}
