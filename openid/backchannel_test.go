package openid_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/openid"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// receiver is a relying party's back-channel logout endpoint: it keeps the
// logout tokens posted to it.
func receiver(t testing.TB) (string, <-chan string) {
	got := make(chan string, 8)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "a form POST is expected", http.StatusBadRequest)
			return
		}
		got <- r.PostFormValue("logout_token")
	}))
	t.Cleanup(s.Close)
	return s.URL + "/backchannel-logout", got
}

// logoutToken waits for the next logout token and checks it as a relying
// party must (Back-Channel Logout 1.0 section 2.6): signed by a key of the
// provider's key set, for this client, typ logout+jwt, with the event, a
// jti and an iat, no nonce; and that it names the person and the session.
func (p *rp) logoutToken(t *testing.T, got <-chan string, sub equipe.ID, sid string) {
	t.Helper()
	var raw string
	select {
	case raw = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no logout token came")
	}
	// go-oidc checks the signature against the JWKS, iss, aud and exp.
	tok, err := p.provider.Verifier(&gooidc.Config{ClientID: p.client.ID.String()}).Verify(t.Context(), raw)
	if err != nil {
		t.Fatalf("logout token: %v", err)
	}
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if typ := jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType]; typ != openid.LogoutTokenType {
		t.Errorf("typ %v", typ)
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	events, _ := claims["events"].(map[string]any)
	if ev, ok := events[openid.BackchannelLogoutEvent].(map[string]any); !ok || len(ev) != 0 {
		t.Errorf("events %v", claims["events"])
	}
	if claims["sub"] != sub.String() || claims["sid"] != sid || sid == "" {
		t.Errorf("sub %v sid %v, want %s %s", claims["sub"], claims["sid"], sub, sid)
	}
	if _, ok := claims["nonce"]; ok {
		t.Error("a logout token carries a nonce")
	}
	if claims["jti"] == "" || claims["jti"] == nil || claims["iat"] == nil {
		t.Errorf("jti %v iat %v", claims["jti"], claims["iat"])
	}
}

// signIn runs the code flow on browser and returns the tokens and the ID
// token's sid.
func (p *rp) signIn(t *testing.T, browser *http.Client) (*oauth2.Token, string) {
	t.Helper()
	verifier, nonce := oauth2.GenerateVerifier(), random(t)
	q := p.authorize(t, browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), gooidc.Nonce(nonce)), nil)
	tok, id := p.exchange(t, q, verifier)
	var c struct {
		SID string   `json:"sid"`
		AMR []string `json:"amr"`
	}
	if err := id.Claims(&c); err != nil || c.SID == "" {
		t.Fatalf("the ID token has no sid: %v", err)
	}
	// The person logged in with their password (RFC 8176's pwd).
	if !slices.Equal(c.AMR, []string{"pwd"}) {
		t.Errorf("amr %v", c.AMR)
	}
	return tok, c.SID
}

func TestProvider_BackchannelLogoutTokensOnLogoutAndRPInitiatedLogout(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{Configure: func(c *app.Config) { c.WebhooksAllowHTTPLoopback = true }})
			uri, got := receiver(t)
			ada := signUp(t, env, "ada@example.com")
			p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", FirstParty: true, RedirectURIs: []string{redirect},
				PostLogoutURIs: []string{"http://127.0.0.1:9/bye"}, BackchannelLogoutURI: uri, Scopes: []string{"offline_access"}})
			var disco struct {
				Supported  bool   `json:"backchannel_logout_supported"`
				Session    bool   `json:"backchannel_logout_session_supported"`
				EndSession string `json:"end_session_endpoint"`
			}
			if err := p.provider.Claims(&disco); err != nil || !disco.Supported || !disco.Session {
				t.Fatalf("discovery %+v %v", disco, err)
			}

			// Logging out of equipe tells the client, naming the session
			// of the ID token; the grant has offline_access: its refresh
			// token outlives the session.
			tok, sid := p.signIn(t, ada.browser)
			if r := send(t, ada.browser, "POST", env.URL+"/logout", url.Values{}); r.StatusCode != 303 {
				t.Fatalf("logout: %d", r.StatusCode)
			}
			p.logoutToken(t, got, ada.id, sid)
			if _, err := p.oauth.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
				t.Errorf("an offline grant ended with the session: %v", err)
			}

			// RP-initiated logout tells it too.
			browser := logIn(t, env, "ada@example.com")
			tok, sid = p.signIn(t, browser)
			u := disco.EndSession + "?" + url.Values{"id_token_hint": {tok.Extra("id_token").(string)},
				"post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}}.Encode()
			if r := send(t, browser, "GET", u, nil); r.StatusCode != 302 && r.StatusCode != 303 {
				t.Fatalf("end session: %d %s", r.StatusCode, body(r))
			}
			p.logoutToken(t, got, ada.id, sid)

			// Ending a session from the sessions page, and a password
			// change that ends the others, tell it as well.
			browser = logIn(t, env, "ada@example.com")
			_, sid = p.signIn(t, browser)
			other := logIn(t, env, "ada@example.com")
			if r := send(t, other, "POST", env.URL+"/me/sessions/"+sid+"/end", url.Values{}); r.StatusCode != 303 {
				t.Fatalf("end a session: %d %s", r.StatusCode, body(r))
			}
			p.logoutToken(t, got, ada.id, sid)

			select {
			case raw := <-got:
				t.Fatalf("one logout too many: %s", raw)
			default:
			}
		})
	}
}

func TestProvider_TheLibraryLogsToTheServiceLoggerAtInfoForAClientsError(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", RedirectURIs: []string{redirect}, Scopes: []string{"offline_access"}})
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"no-such-token"},
		"client_id": {p.oauth.ClientID}, "client_secret": {p.oauth.ClientSecret}}
	if r := send(t, env.Client(), "POST", env.URL+"/oidc/token", form); r.StatusCode != 400 {
		t.Fatalf("token: %d %s", r.StatusCode, body(r))
	}
	var line map[string]any
	for l := range strings.SplitSeq(env.Logs(), "\n") {
		if strings.Contains(l, `"msg":"request error"`) {
			json.Unmarshal([]byte(l), &line)
		}
	}
	if line == nil || line["component"] != "oidc" || line["level"] != "INFO" {
		t.Fatalf("the library's line in the service's log: %v\n%s", line, env.Logs())
	}
}

func TestProvider_ASessionThatLapsesLogsOutOfItsClientsOnceWithTheSameJTIOnRetry(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			clock := apptest.NewClock(time.Now().UTC().Truncate(time.Microsecond))
			env := apptest.Start(t, e, apptest.Options{Now: clock.Now,
				Configure: func(c *app.Config) { c.WebhooksAllowHTTPLoopback = true }})
			// The receiver fails its first request, as a relying party that
			// is restarting: the notice is tried again.
			var mu sync.Mutex
			var tokens []string
			got := make(chan string, 8)
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				tokens = append(tokens, r.PostFormValue("logout_token"))
				n := len(tokens)
				mu.Unlock()
				if n == 1 {
					http.Error(w, "restarting", http.StatusServiceUnavailable)
					got <- ""
					return
				}
				got <- r.PostFormValue("logout_token")
			}))
			t.Cleanup(s.Close)
			ada := signUp(t, env, "ada@example.com")
			p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", FirstParty: true, RedirectURIs: []string{redirect},
				BackchannelLogoutURI: s.URL + "/backchannel-logout"})
			_, sid := p.signIn(t, ada.browser)

			// The session stays idle past its time, and the sweep that
			// deletes it tells the client.
			clock.Advance(env.App.Identity.Config.SessionIdle + time.Minute)
			if err := env.App.Identity.Cleanup(t.Context()); err != nil {
				t.Fatal(err)
			}
			select {
			case <-got:
			case <-time.After(10 * time.Second):
				t.Fatal("no logout was attempted")
			}
			// The failure recorded (its retry is timed from it), the
			// retry, once due, sends the same logout: the same jti,
			// signed again (the first token's two minutes have passed).
			env.AwaitWork(t, "the failed attempt recorded", func() bool {
				st, err := env.App.DB.LogoutStatus(t.Context(), p.client.ID, ada.id)
				return err == nil && len(st) == 1 && st[0] == "queued"
			})
			clock.Advance(openid.LogoutTokenLifetime + time.Second)
			env.App.Logouts.Wake()
			p.logoutToken(t, got, ada.id, sid)
			mu.Lock()
			first, second := jwtClaims(t, tokens[0]), jwtClaims(t, tokens[1])
			mu.Unlock()
			if first["jti"] != second["jti"] || first["jti"] == nil {
				t.Errorf("jti %v then %v", first["jti"], second["jti"])
			}
			if first["iat"] == second["iat"] {
				t.Errorf("the retry was not signed again: iat %v", second["iat"])
			}
			env.AwaitWork(t, "the notice recorded delivered", func() bool {
				st, err := env.App.DB.LogoutStatus(t.Context(), p.client.ID, ada.id)
				return err == nil && slices.Equal(st, []string{"delivered"})
			})

			// Once: another sweep queues nothing more.
			if err := env.App.Identity.Cleanup(t.Context()); err != nil {
				t.Fatal(err)
			}
			st, err := env.App.DB.LogoutStatus(t.Context(), p.client.ID, ada.id)
			if err != nil || !slices.Equal(st, []string{"delivered"}) {
				t.Errorf("notices %v %v", st, err)
			}
		})
	}
}

// jwtClaims returns the claims of a JWT, unchecked.
func jwtClaims(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}
