package openid_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// refreshWith sends a refresh grant with the client's ID and secret, and
// returns the status, the error code and the next refresh token.
func refreshWith(t testing.TB, env *apptest.Env, id, secret, token string) (int, string, string) {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}
	req, _ := http.NewRequest("POST", env.URL+"/oidc/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Error        string `json:"error"`
		RefreshToken string `json:"refresh_token"`
	}
	json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out.Error, out.RefreshToken
}

// TestRefresh_AClientChangedInAnotherProcessTakesEffectAtTheNextRefresh: the
// clients that refresh grants authenticate are held in memory, yet a secret
// rotated by another process of the deployment (or `equipe clients` beside
// a SQLite server) stops working at the service's next refresh, the new one
// works at once, and a client deleted there refreshes nothing more.
func TestRefresh_AClientChangedInAnotherProcessTakesEffectAtTheNextRefresh(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			other := apptest.Start(t, e, apptest.Options{Share: env})
			ada := signUp(t, env, "ada@example.com")
			p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", RedirectURIs: []string{redirect},
				Scopes: []string{"offline_access", "accounts"}})
			ctx := t.Context()
			verifier := oauth2.GenerateVerifier()
			q := p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
			tok, err := p.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil || tok.RefreshToken == "" {
				t.Fatalf("first tokens: %v", err)
			}
			id, old := p.oauth.ClientID, p.oauth.ClientSecret
			// Twice, so that the client is held.
			rt := tok.RefreshToken
			for range 2 {
				status, code, next := refreshWith(t, env, id, old, rt)
				if status != 200 {
					t.Fatalf("refresh: %d %s", status, code)
				}
				rt = next
			}

			_, secret, err := other.App.Team.RotateOIDCClientSecret(ctx, team.Actor{Operator: true}, p.client.ID)
			if err != nil {
				t.Fatal(err)
			}
			if status, code, _ := refreshWith(t, env, id, old, rt); status != 401 || code != "invalid_client" {
				t.Errorf("the secret rotated in another process: %d %s", status, code)
			}
			status, code, next := refreshWith(t, env, id, secret, rt)
			if status != 200 {
				t.Fatalf("the new secret: %d %s", status, code)
			}
			// Rotated here as well: the same.
			_, third, err := env.App.Team.RotateOIDCClientSecret(ctx, team.Actor{Operator: true}, p.client.ID)
			if err != nil {
				t.Fatal(err)
			}
			if status, code, _ := refreshWith(t, env, id, secret, next); status != 401 || code != "invalid_client" {
				t.Errorf("the secret rotated in this process: %d %s", status, code)
			}
			if status, code, next = refreshWith(t, env, id, third, next); status != 200 {
				t.Fatalf("the third secret: %d %s", status, code)
			}

			if err := other.App.Team.DeleteOIDCClient(ctx, team.Actor{Operator: true}, p.client.ID); err != nil {
				t.Fatal(err)
			}
			if status, code, _ := refreshWith(t, env, id, third, next); status == 200 {
				t.Errorf("a client deleted in another process refreshed: %d %s", status, code)
			}
		})
	}
}

// TestRefresh_OfRefreshesRacingWithOneTokenOneSucceeds: a refresh token is
// spent once, even by requests that read it at the same time; the others
// are refused.
func TestRefresh_OfRefreshesRacingWithOneTokenOneSucceeds(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			_, p, q, verifier := adaWithOfflineApp(t, env)
			tok, err := p.oauth.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil || tok.RefreshToken == "" {
				t.Fatalf("first tokens: %v", err)
			}
			exactlyOnce(t, "refreshes with one token", func() int {
				status, _, _ := refreshWith(t, env, p.oauth.ClientID, p.oauth.ClientSecret, tok.RefreshToken)
				return status
			})
		})
	}
}
