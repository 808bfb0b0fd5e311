package openid_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/openid"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// The tests of this file play someone who tries to get what the provider
// must not give: another person's code, scopes a client was not registered
// for, a code past its time or its session.

// TestCallback_AnswersOnlyTheBrowserThatLoggedIn plays an attacker who
// starts an authorization request (learning its id from the redirect to
// the login page), has a logged-in person open that login page (a
// first-party client's request completes there at once), then follows the
// callback from another browser, to receive the person's code with the
// attacker's state and PKCE verifier. Only the browser whose session
// completed the request gets the code; any other (no session, or another
// session of the same person) gets a page that says why, in its language,
// and the request is left as it was.
func TestCallback_AnswersOnlyTheBrowserThatLoggedIn(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	victim := signUp(t, env, "victim@example.com")
	p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", FirstParty: true, RedirectURIs: []string{redirect},
		Scopes: []string{"email"}})
	attacker := env.Client()
	verifier := oauth2.GenerateVerifier()
	r := send(t, attacker, "GET", p.oauth.AuthCodeURL("attacker-state", oauth2.S256ChallengeOption(verifier)), nil)
	login := r.Header.Get("Location")
	u, err := url.Parse(login)
	if err != nil || u.Path != "/login/oidc" || u.Query().Get("id") == "" {
		t.Fatalf("authorize: %d %q", r.StatusCode, login)
	}
	// The person opens the link: the request completes with their session.
	if r := send(t, victim.browser, "GET", env.URL+login, nil); !strings.Contains(r.Header.Get("Refresh"), "/oidc/authorize/callback") {
		t.Fatalf("the login page did not complete the request: %d %q", r.StatusCode, r.Header.Get("Refresh"))
	}
	callback := env.URL + "/oidc/authorize/callback?id=" + url.QueryEscape(u.Query().Get("id"))

	elsewhere := logIn(t, env, "victim@example.com") // the same person, another session
	for _, c := range []struct {
		name    string
		browser *http.Client
		lang    string
		says    string
	}{
		{"no session", attacker, "", "Cette connexion a été faite dans un autre navigateur"},
		{"no session, in English", attacker, "en", "This sign-in was completed in another browser"},
		{"another session", elsewhere, "", "Cette connexion a été faite dans un autre navigateur"},
	} {
		req, _ := http.NewRequest("GET", callback, nil)
		if c.lang != "" {
			req.Header.Set("Accept-Language", c.lang)
		}
		res, err := c.browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page := body(res)
		res.Body.Close()
		if res.StatusCode != 403 || res.Header.Get("Location") != "" || !strings.Contains(page, c.says) {
			t.Errorf("%s: %d %q %.300s", c.name, res.StatusCode, res.Header.Get("Location"), page)
		}
	}

	// The request was left as it was: the browser that logged in gets its
	// code (with the state of whoever started it, which that client's own
	// check of state refuses in this browser).
	r = send(t, victim.browser, "GET", callback, nil)
	to, _ := url.Parse(r.Header.Get("Location"))
	if r.StatusCode != 302 || !strings.HasPrefix(to.String(), redirect) || to.Query().Get("code") == "" {
		t.Fatalf("the browser that logged in: %d %q", r.StatusCode, to)
	}
	// Opened again (reloaded, the back button), the callback gives no
	// second code: the client is told in the protocol's words, nothing of
	// the service's own.
	r = send(t, victim.browser, "GET", callback, nil)
	again, _ := url.Parse(r.Header.Get("Location"))
	if q := again.Query(); r.StatusCode != 302 || !strings.HasPrefix(again.String(), redirect) || q.Get("code") != "" ||
		q.Get("error") != "invalid_request" || strings.Contains(q.Get("error_description"), "not_found") {
		t.Fatalf("the callback opened again: %d %q", r.StatusCode, again)
	}
}

// TestProvider_AClientGetsOnlyTheScopesItWasRegisteredFor has clients ask
// for more than they were registered for: a refresh token, the email, the
// profile, scopes equipe does not know. The scopes not registered are
// dropped from the request (openid is always kept): no refresh token, no
// claims of theirs, the consent page does not list them, and the token
// response's scope says what was granted.
func TestProvider_AClientGetsOnlyTheScopesItWasRegisteredFor(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			ada := signUp(t, env, "ada@example.com")
			ctx := t.Context()
			asked := []string{"openid", "offline_access", "email", "profile", "phone", "address", "accounts"}

			// A first-party client registered for accounts alone.
			p := newRP(t, env, team.OIDCClientInput{Name: "Limited app", FirstParty: true, RedirectURIs: []string{redirect},
				Scopes: []string{"accounts"}})
			p.oauth.Scopes = asked
			verifier := oauth2.GenerateVerifier()
			q := p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
			tok, idt := p.exchange(t, q, verifier)
			if scope, _ := tok.Extra("scope").(string); scope != "openid accounts" || tok.RefreshToken != "" {
				t.Errorf("granted scope %q, refresh token %t", scope, tok.RefreshToken != "")
			}
			var claims map[string]any
			idt.Claims(&claims)
			for _, c := range []string{"email", "email_verified", "name", "given_name", "family_name", "locale"} {
				if _, ok := claims[c]; ok {
					t.Errorf("the ID token has %s: %v", c, claims)
				}
			}
			if claims["account_id"] != ada.account.String() {
				t.Errorf("the registered scope's claims are missing: %v", claims)
			}
			ui, err := p.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatal(err)
			}
			var info map[string]any
			ui.Claims(&info)
			if info["sub"] != ada.id.String() || info["email"] != nil || info["name"] != nil {
				t.Errorf("userinfo %v", info)
			}

			// A client that is not first-party, registered for profile: the
			// consent page lists what it will get, the consent keeps it.
			other := newRP(t, env, team.OIDCClientInput{Name: "Other app", RedirectURIs: []string{redirect},
				Scopes: []string{"profile"}})
			other.oauth.Scopes = asked
			r := send(t, ada.browser, "GET", other.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
			r = send(t, ada.browser, "GET", env.URL+r.Header.Get("Location"), nil)
			page := body(r)
			if r.StatusCode != 200 || !strings.Contains(page, "nom et langue") || strings.Contains(page, "adresse e-mail") ||
				strings.Contains(page, "jetons de rafraîchissement") || strings.Contains(page, "oidc_clients.scope") {
				t.Errorf("consent page: %d %s", r.StatusCode, page)
			}
			q = other.authorize(t, ada.browser, other.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
			tok, err = other.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			if scope, _ := tok.Extra("scope").(string); scope != "openid profile" || tok.RefreshToken != "" {
				t.Errorf("granted scope %q, refresh token %t", scope, tok.RefreshToken != "")
			}
			agreed, err := env.App.DB.OIDCConsentScopes(ctx, ada.id, other.client.ID)
			if err != nil || strings.Join(agreed, " ") != "openid profile" {
				t.Errorf("consent %v %v", agreed, err)
			}
		})
	}
}

// TestGrant_AClientGetsNoScopeItIsNoLongerRegisteredFor: a grant keeps the
// scopes of its request, but what it gives is read against the client's
// registration of the moment. Once the registration drops email, the
// access token already issued no longer reads the address (userinfo,
// introspection), and the next refresh gives tokens without it. Once it
// drops offline_access, the refresh token is refused.
func TestGrant_AClientGetsNoScopeItIsNoLongerRegisteredFor(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			ada := signUp(t, env, "ada@example.com")
			ctx := t.Context()
			p := newRP(t, env, team.OIDCClientInput{Name: "App", FirstParty: true, RedirectURIs: []string{redirect},
				Scopes: []string{"offline_access", "email", "accounts"}})
			verifier := oauth2.GenerateVerifier()
			q := p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
			tok, _ := p.exchange(t, q, verifier)
			if scope, _ := tok.Extra("scope").(string); scope != "openid offline_access email accounts" || tok.RefreshToken == "" {
				t.Fatalf("granted scope %q, refresh token %t", scope, tok.RefreshToken != "")
			}
			userinfo := func(tok *oauth2.Token) map[string]any {
				t.Helper()
				ui, err := p.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
				if err != nil {
					t.Fatal(err)
				}
				var info map[string]any
				ui.Claims(&info)
				return info
			}
			if info := userinfo(tok); info["email"] != "ada@example.com" {
				t.Fatalf("userinfo before the change: %v", info)
			}
			narrow := func(scopes ...string) {
				t.Helper()
				if _, err := env.App.Team.UpdateOIDCClient(ctx, team.Actor{Operator: true}, p.client.ID,
					team.OIDCClientChange{Scopes: &scopes}); err != nil {
					t.Fatal(err)
				}
			}
			narrow("offline_access", "accounts")

			if info := userinfo(tok); info["email"] != nil || info["sub"] != ada.id.String() {
				t.Errorf("userinfo of the token issued before: %v", info)
			}
			var disco struct {
				Intro string `json:"introspection_endpoint"`
			}
			p.provider.Claims(&disco)
			var in map[string]any
			postAsClient(t, p, disco.Intro, url.Values{"token": {tok.AccessToken}}, &in)
			if in["active"] != true || in["scope"] != "openid offline_access accounts" || in["email"] != nil {
				t.Errorf("introspection of the token issued before: %v", in)
			}
			next, err := p.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			if err != nil {
				t.Fatal(err)
			}
			if scope, _ := next.Extra("scope").(string); scope != "openid offline_access accounts" {
				t.Errorf("refreshed scope %q", scope)
			}
			raw, _ := next.Extra("id_token").(string)
			idt, err := p.verifier.Verify(ctx, raw)
			if err != nil {
				t.Fatal(err)
			}
			var claims map[string]any
			idt.Claims(&claims)
			if claims["email"] != nil || claims["account_id"] != ada.account.String() {
				t.Errorf("the refreshed ID token: %v", claims)
			}
			if info := userinfo(next); info["email"] != nil {
				t.Errorf("userinfo of the refreshed token: %v", info)
			}

			narrow("accounts")
			if _, err := p.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: next.RefreshToken}).Token(); oauthError(err) != "invalid_grant" {
				t.Errorf("a refresh once offline_access is dropped: %v", err)
			}
		})
	}
}

// TestCode_IsRedeemableForAMinuteAndItsReuseStillEndsTheGrantAfter lets a
// code wait: past CodeLifetime it is refused (invalid_grant). A code
// redeemed in time and presented again minutes later is refused too, and
// ends the grant it gave, though its minute has passed.
func TestCode_IsRedeemableForAMinuteAndItsReuseStillEndsTheGrantAfter(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			clock := apptest.NewClock(time.Now().UTC().Truncate(time.Microsecond))
			env := apptest.Start(t, e, apptest.Options{Now: clock.Now})
			ada := signUp(t, env, "ada@example.com")
			p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", FirstParty: true, RedirectURIs: []string{redirect},
				Scopes: []string{"offline_access"}})
			ctx := t.Context()

			verifier := oauth2.GenerateVerifier()
			q := p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
			clock.Advance(openid.CodeLifetime + time.Second)
			if _, err := p.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); oauthError(err) != "invalid_grant" {
				t.Errorf("a code redeemed past its lifetime: %v", err)
			}

			q = p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
			clock.Advance(openid.CodeLifetime - time.Second)
			tok, err := p.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("a code redeemed within its lifetime: %v", err)
			}
			// Minutes later, after the housekeeping that deletes what expired.
			clock.Advance(5 * time.Minute)
			if err := env.App.SignIn.Cleanup(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := p.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); oauthError(err) != "invalid_grant" {
				t.Errorf("a code redeemed twice: %v", err)
			}
			if _, err := p.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); oauthError(err) != "invalid_grant" {
				t.Errorf("the grant of a code redeemed twice still refreshes: %v", err)
			}
		})
	}
}

// oauthError returns the OAuth error code of a token endpoint's answer, ""
// for none.
func oauthError(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return ""
}

// TestCode_RedeemedAfterItsLoginEndedGivesNothing has a client redeem its
// code only after the person logged out, or after they withdrew their
// consent to it: the exchange answers invalid_grant, as a grant made then
// would never end with the session or the consent it came from.
func TestCode_RedeemedAfterItsLoginEndedGivesNothing(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			ada := signUp(t, env, "ada@example.com")
			ctx := t.Context()
			verifier := oauth2.GenerateVerifier()

			// Logged out between the code and its exchange.
			first := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", FirstParty: true, RedirectURIs: []string{redirect},
				Scopes: []string{"offline_access"}})
			q := first.authorize(t, ada.browser, first.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
			if r := send(t, ada.browser, "POST", env.URL+"/logout", nil); r.StatusCode != 303 {
				t.Fatalf("logout: %d", r.StatusCode)
			}
			if _, err := first.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); oauthError(err) != "invalid_grant" {
				t.Errorf("a code redeemed after its session ended: %v", err)
			}

			// The consent withdrawn between the code and its exchange.
			browser := logIn(t, env, "ada@example.com")
			other := newRP(t, env, team.OIDCClientInput{Name: "Other app", RedirectURIs: []string{redirect},
				Scopes: []string{"profile"}})
			q = other.authorize(t, browser, other.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
			if _, err := other.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); err != nil {
				t.Fatalf("a code redeemed at once: %v", err)
			}
			q = other.authorize(t, browser, other.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
			if r := send(t, browser, "DELETE", env.URL+"/api/v1/me/oidc-consents/"+other.client.ID.String(), nil); r.StatusCode != 204 {
				t.Fatalf("withdraw: %d %s", r.StatusCode, body(r))
			}
			if _, err := other.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); oauthError(err) != "invalid_grant" {
				t.Errorf("a code redeemed after the consent was withdrawn: %v", err)
			}
			var live int
			if err := storetest.Raw(t, env.DB).QueryRow(`SELECT count(*) FROM oidc_grants WHERE user_id = $1 AND ended_at IS NULL`,
				ada.id.String()).Scan(&live); err != nil || live != 0 {
				t.Errorf("%d grants live, %v", live, err)
			}
		})
	}
}

// TestCode_OfExchangesRacingWithOneCodeOneSucceeds: a code gives tokens
// once, even to exchanges that read it at the same time; the others are
// refused, and get no token for the grant they could not make.
func TestCode_OfExchangesRacingWithOneCodeOneSucceeds(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			_, p, q, verifier := adaWithOfflineApp(t, env)
			form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {redirect},
				"code_verifier": {verifier}}
			exactlyOnce(t, "exchanges of one code", func() int { return postAsClient(t, p, p.oauth.Endpoint.TokenURL, form, nil) })
		})
	}
}

// TestProvider_AnUnknownClientIsInvalidClient names clients that do not
// exist (not an ID, an ID of none) at the token endpoint's refresh grant
// and at end_session, where op passes the client's lookup error on as it
// is: each answers invalid_client, never server_error.
func TestProvider_AnUnknownClientIsInvalidClient(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", RedirectURIs: []string{redirect}})
	for _, id := range []string{"nope", equipe.NewID().String()} {
		for _, basic := range []bool{true, false} {
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}}
			req, _ := http.NewRequest("POST", p.oauth.Endpoint.TokenURL, nil)
			if basic {
				req.SetBasicAuth(id, "secret")
			} else {
				form.Set("client_id", id)
				form.Set("client_secret", "secret")
			}
			req.Body = io.NopCloser(strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if status, code := oauthAnswer(t, req); status != 401 || code != "invalid_client" {
				t.Errorf("refresh as %q (basic %t): %d %q", id, basic, status, code)
			}
		}
		req, _ := http.NewRequest("GET", env.URL+"/oidc/end_session?client_id="+id, nil)
		if status, code := oauthAnswer(t, req); status != 401 || code != "invalid_client" {
			t.Errorf("end_session for %q: %d %q", id, status, code)
		}
	}
}

// exactlyOnce sends eight requests at the same time with send, which
// returns the status of its answer, and fails the test unless exactly one
// succeeds (200) and the others are refused (400); what names them.
func exactlyOnce(t *testing.T, what string, send func() int) {
	t.Helper()
	const racers = 8
	statuses := make([]int, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() { statuses[i] = send() })
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		if s == 200 {
			ok++
		} else if s != 400 {
			t.Errorf("one of the %s refused with %d", what, s)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d %s succeeded: %v", ok, racers, what, statuses)
	}
}

// oauthAnswer sends req and returns the status and the OAuth error code of
// the answer.
func oauthAnswer(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var answer struct {
		Error string `json:"error"`
	}
	json.NewDecoder(res.Body).Decode(&answer)
	return res.StatusCode, answer.Error
}

// TestProvider_BadInputIsNeverAServerError sends the provider's endpoints
// what a careless or hostile client would: unknown clients, codes and
// tokens, malformed parameters, grants it does not support, credentials
// missing or wrong, with and without a session. Every answer is a client
// error (or a redirect), never a 5xx.
func TestProvider_BadInputIsNeverAServerError(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	ada := signUp(t, env, "ada@example.com")
	p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", RedirectURIs: []string{redirect},
		Scopes: []string{"offline_access", "accounts"}})
	pub := newRP(t, env, team.OIDCClientInput{Name: "SPA", Public: true, RedirectURIs: []string{redirect}})
	verifier := oauth2.GenerateVerifier()
	code := p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil).Get("code")

	authorize := "/oidc/authorize?client_id=" + p.oauth.ClientID + "&redirect_uri=" + redirect + "&response_type=code&scope=openid"
	for _, path := range []string{
		"/oidc/authorize?client_id=nope&redirect_uri=" + redirect + "&response_type=code&scope=openid",
		"/oidc/authorize?client_id=" + p.oauth.ClientID + "&redirect_uri=" + redirect + "&response_type=token&scope=openid",
		authorize + "&max_age=abc", authorize + "&max_age=-5", authorize + "&max_age=99999999999999999999",
		authorize + "&prompt=bogus", authorize + "&request=abc.def.ghi", authorize + "&ui_locales=%%%",
		authorize + "&equipe_account=garbage", authorize + "&id_token_hint=garbage", authorize + "%00x",
		authorize + "&state=%00%ff", authorize + "&nonce=" + strings.Repeat("n", 100000), authorize + "&login_hint=%ff%fe",
		authorize + "&code_challenge=x&code_challenge_method=S256&response_mode=form_post", authorize + "&response_mode=bogus",
		"/oidc/authorize/callback?id=nope", "/oidc/authorize/callback", "/oidc/userinfo", "/oidc/keys",
		"/oidc/end_session?id_token_hint=garbage", "/oidc/end_session?id_token_hint=a.b.c&post_logout_redirect_uri=http://x",
		"/oidc/end_session?client_id=" + p.oauth.ClientID + "&post_logout_redirect_uri=http://127.0.0.1:9/bye",
		"/oidc/end_session?client_id=nope", "/login/oidc?id=nope", "/login/oidc",
	} {
		for _, c := range []*http.Client{env.Client(), ada.browser} {
			if r := send(t, c, "GET", env.URL+path, nil); r.StatusCode >= 500 {
				t.Errorf("GET %.160s: %d %.300s", path, r.StatusCode, body(r))
			}
		}
	}

	post := func(endpoint string, form url.Values, user, secret string) {
		t.Helper()
		req, _ := http.NewRequest("POST", env.URL+endpoint, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if user != "" || secret != "" {
			req.SetBasicAuth(user, secret)
		}
		apptest.NoServerError(t, req, fmt.Sprintf("POST %s %v as %q", endpoint, form, user))
	}
	credentials := [][2]string{{"", ""}, {p.oauth.ClientID, "wrong"}, {p.oauth.ClientID, p.oauth.ClientSecret}, {"nope", "x"},
		{pub.oauth.ClientID, ""}}
	for _, form := range []url.Values{
		{"grant_type": {"authorization_code"}},
		{"grant_type": {"authorization_code"}, "code": {"nope"}, "redirect_uri": {redirect}},
		{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}},
		{"grant_type": {"refresh_token"}},
		{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}},
		{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}, "scope": {"accounts"}},
		{"grant_type": {"client_credentials"}},
		{"grant_type": {"password"}, "username": {"a"}, "password": {"b"}},
		{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {"a.b.c"}},
		{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {"x"}},
		{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {"x"}},
		{"grant_type": {"authorization_code"}, "code": {"x"}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion": {"a.b.c"}},
		{"grant_type": {"bogus"}},
		{},
	} {
		for _, c := range credentials {
			post("/oidc/token", form, c[0], c[1])
			inForm := url.Values{}
			for k, v := range form {
				inForm[k] = v
			}
			inForm.Set("client_id", c[0])
			if c[1] != "" {
				inForm.Set("client_secret", c[1])
			}
			post("/oidc/token", inForm, "", "")
		}
	}
	for _, endpoint := range []string{"/oidc/introspect", "/oidc/revoke"} {
		for _, form := range []url.Values{{}, {"token": {"x"}}, {"token": {"a.b.c"}, "token_type_hint": {"access_token"}},
			{"token": {"x"}, "token_type_hint": {"refresh_token"}}, {"token": {"x"}, "token_type_hint": {"bogus"}}} {
			for _, c := range credentials {
				post(endpoint, form, c[0], c[1])
			}
		}
	}
	for _, form := range []url.Values{{"id": {"nope"}, "decision": {"allow"}}, {"id": {"nope"}, "decision": {"deny"}},
		{"decision": {"allow"}}, {"id": {"nope"}, "decision": {"allow"}, "account": {"garbage"}}} {
		if r := send(t, ada.browser, "POST", env.URL+"/login/oidc", form); r.StatusCode >= 500 {
			t.Errorf("POST /login/oidc %v: %d %.300s", form, r.StatusCode, body(r))
		}
	}
	for _, auth := range []string{"Bearer garbage", "Bearer a.b.c", "Basic xx", "Bearer " + strings.Repeat("a", 10000)} {
		req, _ := http.NewRequest("GET", env.URL+"/oidc/userinfo", nil)
		req.Header.Set("Authorization", auth)
		apptest.NoServerError(t, req, fmt.Sprintf("userinfo with %.30s", auth))
	}
}

// TestIntrospection_AnswersATokenOnlyToTheClientItWasIssuedTo has another
// registered client introspect a person's access token: it is told the
// token is inactive, and nothing of the person (RFC 7662 4: the token
// cannot be used at that client); the token's own client is told it is
// active, with its claims.
func TestIntrospection_AnswersATokenOnlyToTheClientItWasIssuedTo(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			ada := signUp(t, env, "ada@example.com")
			p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", FirstParty: true, RedirectURIs: []string{redirect},
				Scopes: []string{"email", "accounts", "permissions"}})
			other := newRP(t, env, team.OIDCClientInput{Name: "Other app", RedirectURIs: []string{redirect}})
			verifier := oauth2.GenerateVerifier()
			tok, _ := p.exchange(t, p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil), verifier)

			var out map[string]any
			if status := postAsClient(t, other, env.URL+"/oidc/introspect", url.Values{"token": {tok.AccessToken}}, &out); status != 200 ||
				out["active"] != false || len(out) != 1 {
				t.Errorf("another client's token: %d %v", status, out)
			}
			out = nil
			if status := postAsClient(t, p, env.URL+"/oidc/introspect", url.Values{"token": {tok.AccessToken}}, &out); status != 200 ||
				out["active"] != true || out["email"] != "ada@example.com" || out["client_id"] != p.oauth.ClientID {
				t.Errorf("the client's own token: %d %v", status, out)
			}
		})
	}
}

// TestCode_AReplayByAnyoneButItsClientEndsNothing plays someone who read a
// code already redeemed (in a log, a Referer) and presents it again: with
// no credentials, with the client's ID alone, with a wrong secret, as
// another client, as the client without the PKCE verifier. Each is refused,
// and the grant the code gave lives on; only the code's own client,
// authenticated and with its verifier, ends that grant by presenting it
// again (RFC 6749 4.1.2, 4.1.3). A caller that is no client, or fails to
// authenticate as one, gets 401 invalid_client whatever the code (RFC 6749
// 5.2).
func TestCode_AReplayByAnyoneButItsClientEndsNothing(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			_, p, q, verifier := adaWithOfflineApp(t, env)
			other := newRP(t, env, team.OIDCClientInput{Name: "Other app", RedirectURIs: []string{redirect}})
			tok, _ := p.exchange(t, q, verifier)

			token := func(form url.Values, user, secret string) (int, string) {
				t.Helper()
				req, _ := http.NewRequest("POST", env.URL+"/oidc/token", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if user != "" {
					req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(secret))
				}
				return oauthAnswer(t, req)
			}
			codeForm := func(code, verifier string, more ...string) url.Values {
				f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {verifier}}
				for i := 0; i+1 < len(more); i += 2 {
					f.Set(more[i], more[i+1])
				}
				return f
			}
			code := q.Get("code")
			for _, c := range []struct {
				name         string
				form         url.Values
				user, secret string
				status       int
				error        string
			}{
				{"no credentials", codeForm(code, verifier), "", "", 401, "invalid_client"},
				{"the client's ID alone", codeForm(code, verifier, "client_id", p.oauth.ClientID), "", "", 401, "invalid_client"},
				{"a wrong secret", codeForm(code, verifier), p.oauth.ClientID, "wrong", 401, "invalid_client"},
				{"a wrong secret in the form", codeForm(code, verifier, "client_id", p.oauth.ClientID, "client_secret", "wrong"), "", "", 401, "invalid_client"},
				{"another client", codeForm(code, verifier), other.oauth.ClientID, other.oauth.ClientSecret, 400, "invalid_grant"},
				{"the client without the verifier", codeForm(code, oauth2.GenerateVerifier()), p.oauth.ClientID, p.oauth.ClientSecret, 400, "invalid_grant"},
				{"an unknown client and code", codeForm("nope", verifier, "client_id", "nope"), "", "", 401, "invalid_client"},
				{"a client of no registration and a code", codeForm("nope", verifier), equipe.NewID().String(), "x", 401, "invalid_client"},
				{"no client and an unknown code", codeForm("nope", verifier), "", "", 401, "invalid_client"},
				{"a wrong secret and an unknown code", codeForm("nope", verifier), p.oauth.ClientID, "wrong", 401, "invalid_client"},
			} {
				if status, code := token(c.form, c.user, c.secret); status != c.status || code != c.error {
					t.Errorf("%s: %d %q", c.name, status, code)
				}
				if !introspect(t, p, tok.AccessToken) {
					t.Fatalf("%s: the grant ended", c.name)
				}
			}

			if status, code := token(codeForm(code, verifier), p.oauth.ClientID, p.oauth.ClientSecret); status != 400 || code != "invalid_grant" {
				t.Errorf("the client itself: %d %q", status, code)
			}
			if introspect(t, p, tok.AccessToken) {
				t.Error("the code's own client presented it again, and its grant lives on")
			}
			if _, err := p.oauth.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); oauthError(err) != "invalid_grant" {
				t.Errorf("the grant of a code its client redeemed twice still refreshes: %v", err)
			}

			// A public client names itself (in the form, or by HTTP Basic
			// with an empty secret, as some libraries send it); its
			// verifier is its proof: a replay without it ends nothing.
			ada := logIn(t, env, "ada@example.com")
			spa := newRP(t, env, team.OIDCClientInput{Name: "SPA", Public: true, FirstParty: true, RedirectURIs: []string{redirect}})
			q = spa.authorize(t, ada, spa.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
			if status, code := token(codeForm(q.Get("code"), verifier), spa.oauth.ClientID, ""); status != 200 {
				t.Fatalf("a public client by HTTP Basic: %d %q", status, code)
			}
			grants := func() (n int) {
				if err := storetest.Raw(t, env.DB).QueryRow(`SELECT count(*) FROM oidc_grants WHERE client_id = $1 AND ended_at IS NULL`,
					spa.oauth.ClientID).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			if status, code := token(codeForm(q.Get("code"), oauth2.GenerateVerifier(), "client_id", spa.oauth.ClientID), "", ""); status != 400 ||
				code != "invalid_grant" || grants() != 1 {
				t.Errorf("a public client's code without its verifier: %d %q, %d grants live", status, code, grants())
			}
			if status, code := token(codeForm(q.Get("code"), verifier, "client_id", spa.oauth.ClientID), "", ""); status != 400 ||
				code != "invalid_grant" || grants() != 0 {
				t.Errorf("a public client's code again with its verifier: %d %q, %d grants live", status, code, grants())
			}
		})
	}
}

// TestRevocation_AnotherClientsTokenIsRefusedAndRevokesNothing has another
// registered client revoke a person's access and refresh tokens: each is
// refused with invalid_grant (RFC 7009 2.1: the token was issued to
// another client; the caller authenticated, so not invalid_client and no
// challenge), and the grant lives on.
func TestRevocation_AnotherClientsTokenIsRefusedAndRevokesNothing(t *testing.T) {
	env := apptest.Start(t, storetest.Engines()[0], apptest.Options{})
	_, p, q, verifier := adaWithOfflineApp(t, env)
	other := newRP(t, env, team.OIDCClientInput{Name: "Other app", RedirectURIs: []string{redirect}})
	tok, _ := p.exchange(t, q, verifier)
	for name, token := range map[string]string{"access": tok.AccessToken, "refresh": tok.RefreshToken} {
		req, _ := http.NewRequest("POST", env.URL+"/oidc/revoke", strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(other.oauth.ClientID), url.QueryEscape(other.oauth.ClientSecret))
		res := do(t, http.DefaultClient, req)
		var e struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal([]byte(body(res)), &e); err != nil || res.StatusCode != 400 || e.Error != "invalid_grant" ||
			res.Header.Get("WWW-Authenticate") != "" {
			t.Errorf("%s token: %d %v %s", name, res.StatusCode, res.Header, body(res))
		}
		if !introspect(t, p, tok.AccessToken) {
			t.Fatalf("%s token: another client revoked it", name)
		}
	}
	if _, err := p.oauth.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
		t.Errorf("the refresh token after another client's revocation: %v", err)
	}
}
