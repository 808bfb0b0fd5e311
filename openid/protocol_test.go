package openid_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// TestProtocol_ASinglePageApplicationGetsItsTokensFromAnotherSite: a public
// client's script on another site redeems its code, refreshes and revokes
// with fetch (an Origin header, a cross-site request): the answers carry
// CORS headers without credentials, and tokens are never cached.
func TestProtocol_ASinglePageApplicationGetsItsTokensFromAnotherSite(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			ada := signUp(t, env, "ada@example.com")
			p := newRP(t, env, team.OIDCClientInput{Name: "SPA", RedirectURIs: []string{redirect}, Public: true,
				Scopes: []string{"offline_access"}})
			verifier := oauth2.GenerateVerifier()
			q := p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
			fetch := func(path string, form url.Values) (*http.Response, map[string]any) {
				t.Helper()
				req, _ := http.NewRequest("POST", env.URL+path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Origin", "https://spa.example.com")
				req.Header.Set("Sec-Fetch-Site", "cross-site")
				req.Header.Set("Sec-Fetch-Mode", "cors")
				res := do(t, http.DefaultClient, req)
				var out map[string]any
				json.Unmarshal([]byte(body(res)), &out)
				if res.Header.Get("Access-Control-Allow-Origin") != "https://spa.example.com" || res.Header.Get("Access-Control-Allow-Credentials") != "" {
					t.Errorf("%s: CORS %v", path, res.Header)
				}
				return res, out
			}
			res, tok := fetch("/oidc/token", url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
				"redirect_uri": {redirect}, "client_id": {p.oauth.ClientID}, "code_verifier": {verifier}})
			if res.StatusCode != 200 || tok["access_token"] == nil || tok["refresh_token"] == nil {
				t.Fatalf("the code: %d %v", res.StatusCode, tok)
			}
			if res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("Pragma") != "no-cache" {
				t.Errorf("the tokens may be cached: %v", res.Header)
			}
			res, next := fetch("/oidc/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)},
				"client_id": {p.oauth.ClientID}})
			if res.StatusCode != 200 || next["refresh_token"] == nil {
				t.Fatalf("the refresh: %d %v", res.StatusCode, next)
			}
			if res, _ := fetch("/oidc/revoke", url.Values{"token": {next["refresh_token"].(string)}, "client_id": {p.oauth.ClientID}}); res.StatusCode != 200 {
				t.Fatalf("the revocation: %d", res.StatusCode)
			}
			// The preflight says the same.
			req, _ := http.NewRequest("OPTIONS", env.URL+"/oidc/token", nil)
			req.Header.Set("Origin", "https://spa.example.com")
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "content-type")
			if res := do(t, http.DefaultClient, req); res.Header.Get("Access-Control-Allow-Origin") != "https://spa.example.com" ||
				res.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("preflight: %d %v", res.StatusCode, res.Header)
			}
		})
	}
}

// TestProtocol_ANarrowedTokenActsWithItsOwnScopes: an access token from a
// refresh that asked for fewer scopes is answered at userinfo and
// introspection with those scopes alone (RFC 6749 6, RFC 7662).
func TestProtocol_ANarrowedTokenActsWithItsOwnScopes(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			ada := signUp(t, env, "ada@example.com")
			p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", RedirectURIs: []string{redirect},
				Scopes: []string{"profile", "email", "offline_access", "accounts"}})
			verifier := oauth2.GenerateVerifier()
			q := p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
			tok, _ := p.exchange(t, q, verifier)
			userinfo := func(access string) map[string]any {
				t.Helper()
				req, _ := http.NewRequest("GET", env.URL+"/oidc/userinfo", nil)
				req.Header.Set("Authorization", "Bearer "+access)
				res := do(t, http.DefaultClient, req)
				var out map[string]any
				if err := json.Unmarshal([]byte(body(res)), &out); err != nil || res.StatusCode != 200 {
					t.Fatalf("userinfo: %d %v", res.StatusCode, err)
				}
				return out
			}
			introspect := func(access string) map[string]any {
				t.Helper()
				var out map[string]any
				if status := postAsClient(t, p, env.URL+"/oidc/introspect", url.Values{"token": {access}}, &out); status != 200 || out["active"] != true {
					t.Fatalf("introspection: %d %v", status, out)
				}
				return out
			}
			if full := userinfo(tok.AccessToken); full["email"] == nil || full["accounts"] == nil {
				t.Fatalf("the first token's userinfo: %v", full)
			}
			// The token in the URL is refused (RFC 6750 2.3, 3.1), by GET
			// and by POST, whatever else the request holds.
			for _, method := range []string{"GET", "POST"} {
				req, _ := http.NewRequest(method, env.URL+"/oidc/userinfo?access_token="+url.QueryEscape(tok.AccessToken), nil)
				res := do(t, http.DefaultClient, req)
				var out map[string]string
				if err := json.Unmarshal([]byte(body(res)), &out); err != nil || res.StatusCode != 400 || out["error"] != "invalid_request" ||
					!strings.Contains(res.Header.Get("WWW-Authenticate"), `error="invalid_request"`) {
					t.Errorf("%s with the token in the URL: %d %v %q", method, res.StatusCode, out, res.Header.Get("WWW-Authenticate"))
				}
			}
			for _, c := range []struct {
				scope string
				has   []string
				not   []string
			}{
				{"offline_access", nil, []string{"email", "name", "accounts"}},
				{"offline_access email", []string{"email"}, []string{"name", "accounts"}},
				{"openid offline_access accounts", []string{"accounts"}, []string{"email", "name"}},
			} {
				status, out := refreshScope(t, env, p, tok.RefreshToken, c.scope)
				if status != 200 {
					t.Fatalf("%s: refresh %d %+v", c.scope, status, out)
				}
				tok.RefreshToken = out.RefreshToken
				info, in := userinfo(out.AccessToken), introspect(out.AccessToken)
				for _, claim := range c.has {
					if info[claim] == nil || in[claim] == nil {
						t.Errorf("%s: %s missing: userinfo %v, introspection %v", c.scope, claim, info, in)
					}
				}
				for _, claim := range c.not {
					if info[claim] != nil || in[claim] != nil {
						t.Errorf("%s: %s given: userinfo %v, introspection %v", c.scope, claim, info, in)
					}
				}
				want := strings.Fields(c.scope)
				got := strings.Fields(in["scope"].(string))
				slices.Sort(want)
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("%s: introspection's scope %v", c.scope, got)
				}
			}
		})
	}
}

// TestProtocol_DiscoveryListsWhatTheProviderDoesAndTheEndpointsAnswerAsTheRFCsSay:
// discovery lists the code flow alone, no device flow, no JWT client
// authentication, and the claims issued, each once; the token endpoint
// takes POST only; a Basic authentication that fails is challenged; the
// userinfo endpoint answers 401 with a Bearer challenge without a token,
// with invalid_token for one that does not verify or no longer acts.
func TestProtocol_DiscoveryListsWhatTheProviderDoesAndTheEndpointsAnswerAsTheRFCsSay(t *testing.T) {
	env := apptest.Start(t, storetest.Engines()[0], apptest.Options{})
	res := do(t, http.DefaultClient, mustRequest(t, "GET", env.URL+"/.well-known/openid-configuration"))
	var d map[string]any
	if err := json.Unmarshal([]byte(body(res)), &d); err != nil {
		t.Fatal(err)
	}
	list := func(k string) []string {
		var out []string
		for _, v := range d[k].([]any) {
			out = append(out, v.(string))
		}
		return out
	}
	if got := list("response_types_supported"); !slices.Equal(got, []string{"code"}) {
		t.Errorf("response types %v", got)
	}
	if got := list("grant_types_supported"); !slices.Equal(got, []string{"authorization_code", "refresh_token"}) {
		t.Errorf("grant types %v", got)
	}
	for _, k := range []string{"device_authorization_endpoint", "token_endpoint_auth_signing_alg_values_supported",
		"introspection_endpoint_auth_signing_alg_values_supported", "revocation_endpoint_auth_signing_alg_values_supported"} {
		if d[k] != nil {
			t.Errorf("%s: %v", k, d[k])
		}
	}
	claims := list("claims_supported")
	if c := slices.Compact(slices.Sorted(slices.Values(claims))); len(c) != len(claims) || slices.Contains(claims, "acr") ||
		slices.Contains(claims, "phone_number") || !slices.Contains(claims, "accounts") {
		t.Errorf("claims %v", claims)
	}
	if !slices.Contains(list("token_endpoint_auth_methods_supported"), "client_secret_basic") || slices.Contains(list("token_endpoint_auth_methods_supported"), "private_key_jwt") {
		t.Errorf("token endpoint auth methods %v", d["token_endpoint_auth_methods_supported"])
	}

	ada := signUp(t, env, "ada@example.com")
	p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", RedirectURIs: []string{redirect}})
	verifier := oauth2.GenerateVerifier()
	q := p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
	get := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {redirect},
		"client_id": {p.oauth.ClientID}, "client_secret": {p.oauth.ClientSecret}, "code_verifier": {verifier}}
	if res := do(t, http.DefaultClient, mustRequest(t, "GET", env.URL+"/oidc/token?"+get.Encode())); res.StatusCode != 405 ||
		res.Header.Get("Allow") != "POST" || !strings.Contains(body(res), "invalid_request") {
		t.Errorf("a GET of the token endpoint: %d %v", res.StatusCode, res.Header)
	}
	req, _ := http.NewRequest("POST", env.URL+"/oidc/token", strings.NewReader(url.Values{"grant_type": {"authorization_code"},
		"code": {q.Get("code")}, "redirect_uri": {redirect}, "code_verifier": {verifier}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(p.oauth.ClientID), "wrong")
	if res := do(t, http.DefaultClient, req); res.StatusCode != 401 || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("a wrong secret: %d %v %s", res.StatusCode, res.Header, body(res))
	}
	tok, _ := p.exchange(t, q, verifier)

	// Introspection by a caller that is not a client: RFC 7662 2.3 and RFC
	// 6749 5.2, a JSON error, with the challenge of the scheme tried.
	for _, basic := range []bool{false, true} {
		req, _ := http.NewRequest("POST", env.URL+"/oidc/introspect", strings.NewReader(url.Values{"token": {tok.AccessToken}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if basic {
			req.SetBasicAuth(url.QueryEscape(p.oauth.ClientID), "wrong")
		}
		res := do(t, http.DefaultClient, req)
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		b := body(res)
		if err := json.Unmarshal([]byte(b), &e); err != nil || res.StatusCode != 401 || e.Error != "invalid_client" || e.Description == "" ||
			res.Header.Get("Content-Type") != "application/json" || strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic") != basic {
			t.Errorf("introspection, Basic %v: %d %v %q", basic, res.StatusCode, res.Header, b)
		}
	}

	userinfo := func(auth string) *http.Response {
		req := mustRequest(t, "GET", env.URL+"/oidc/userinfo")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		return do(t, http.DefaultClient, req)
	}
	if res := userinfo("Bearer " + tok.AccessToken); res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("userinfo: %d %v", res.StatusCode, res.Header)
	}
	if res := userinfo(""); res.StatusCode != 401 || res.Header.Get("WWW-Authenticate") != `Bearer realm="equipe"` {
		t.Errorf("no token: %d %v", res.StatusCode, res.Header)
	}
	if res := userinfo("Bearer garbage"); res.StatusCode != 401 || !strings.Contains(res.Header.Get("WWW-Authenticate"), `error="invalid_token"`) ||
		!strings.Contains(body(res), "invalid_token") {
		t.Errorf("a garbage token: %d %v", res.StatusCode, res.Header)
	}
	if status := postAsClient(t, p, env.URL+"/oidc/revoke", url.Values{"token": {tok.AccessToken}}, nil); status != 200 {
		t.Fatalf("revoke: %d", status)
	}
	if res := userinfo("Bearer " + tok.AccessToken); res.StatusCode != 401 || !strings.Contains(res.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("a revoked token: %d %v", res.StatusCode, res.Header)
	}
}

func mustRequest(t testing.TB, method, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestProtocol_WhatTheProviderDoesNotDoIsRefusedAtTheClient: an
// authorization request that asks for a response mode other than query or
// fragment, a response type other than code (RFC 6749 4.1.2.1), passes
// itself by reference (request_uri), or has a max_age that is no number of
// seconds, is answered at the client's redirect URI, in the query (in the
// fragment the client asked for, for max_age), with the error that says so; a
// code verifier that is not one (RFC 7636 4.1) redeems nothing.
func TestProtocol_WhatTheProviderDoesNotDoIsRefusedAtTheClient(t *testing.T) {
	env := apptest.Start(t, storetest.Engines()[0], apptest.Options{})
	ada := signUp(t, env, "ada@example.com")
	p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", RedirectURIs: []string{redirect}})
	verifier := oauth2.GenerateVerifier()
	for _, c := range []struct {
		param, value, error string
	}{
		{"response_mode", "form_post", "invalid_request"},
		{"response_mode", "query.jwt", "invalid_request"},
		{"request_uri", "https://app.example.com/request.jwt", "request_uri_not_supported"},
		{"response_type", "token", "unsupported_response_type"},
		{"response_type", "id_token", "unsupported_response_type"},
		{"response_type", "code id_token", "unsupported_response_type"},
		{"response_type", "foo", "unsupported_response_type"},
		{"max_age", "soon", "invalid_request"},
		{"max_age", "-1", "invalid_request"},
		{"max_age", "1.5", "invalid_request"},
	} {
		q := p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s1", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam(c.param, c.value)), nil)
		if q.Get("error") != c.error || q.Get("state") != "s1" || q.Get("code") != "" || !strings.Contains(q.Get("error_description"), c.param) {
			t.Errorf("%s=%s: %v", c.param, c.value, q)
		}
	}
	to := p.authorizeTo(t, ada.browser, p.oauth.AuthCodeURL("s3", oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("max_age", "-60"), oauth2.SetAuthURLParam("response_mode", "fragment")), nil)
	if f, err := url.ParseQuery(to.Fragment); err != nil || f.Get("error") != "invalid_request" || f.Get("state") != "s3" || to.RawQuery != "" {
		t.Errorf("max_age=-60 with response_mode=fragment: %s", to)
	}
	short := "abcde"
	q := p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s2", oauth2.S256ChallengeOption(short)), nil)
	var out map[string]any
	form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {redirect}, "code_verifier": {short}}
	if status := postAsClient(t, p, env.URL+"/oidc/token", form, &out); status != 400 || out["error"] != "invalid_grant" {
		t.Errorf("a verifier of 5 characters: %d %v", status, out)
	}
}

// TestProtocol_ANativeApplicationComesBackToAnyPortOfItsLoopbackURI: a
// public client registered with a loopback redirect URI gets its code at
// whatever port its local server took (RFC 8252 7.3), and redeems it; the
// scheme, the loopback IP, the path and the query must still match, a
// registered name (localhost) matches exactly, and so does a confidential
// client's URI.
func TestProtocol_ANativeApplicationComesBackToAnyPortOfItsLoopbackURI(t *testing.T) {
	env := apptest.Start(t, storetest.Engines()[0], apptest.Options{})
	ada := signUp(t, env, "ada@example.com")
	native := newRP(t, env, team.OIDCClientInput{Name: "CLI", RedirectURIs: []string{redirect}, Public: true})
	verifier := oauth2.GenerateVerifier()
	native.oauth.RedirectURL = "http://127.0.0.1:51789/callback"
	q := native.authorize(t, ada.browser, native.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
	if q.Get("code") == "" {
		t.Fatalf("another port: %v", q)
	}
	if _, err := native.oauth.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("the code of another port: %v", err)
	}
	named := newRP(t, env, team.OIDCClientInput{Name: "CLI by name", RedirectURIs: []string{"http://localhost:9/callback"}, Public: true})
	for name, c := range map[string]struct {
		p  *rp
		to string
	}{
		"another path":           {native, "http://127.0.0.1:51789/other"},
		"a confidential client":  {newRP(t, env, team.OIDCClientInput{Name: "Web", RedirectURIs: []string{redirect}}), "http://127.0.0.1:51789/callback"},
		"another loopback IP":    {native, "http://127.0.0.2:51789/callback"},
		"localhost":              {native, "http://localhost:51789/callback"},
		"the IPv6 loopback":      {native, "http://[::1]:51789/callback"},
		"https":                  {native, "https://127.0.0.1:51789/callback"},
		"a user":                 {native, "http://x@127.0.0.1:51789/callback"},
		"another port of a name": {named, "http://localhost:51789/callback"},
		"another query":          {native, "http://127.0.0.1:51789/callback?x=1"},
	} {
		c.p.oauth.RedirectURL = c.to
		res := send(t, ada.browser, "GET", c.p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
		if res.StatusCode != 400 || res.Header.Get("Location") != "" {
			t.Errorf("%s: %d %s", name, res.StatusCode, res.Header.Get("Location"))
		}
	}
	// A registered name is matched exactly.
	named.oauth.RedirectURL = "http://localhost:9/callback"
	if q := named.authorize(t, ada.browser, named.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil); q.Get("code") == "" {
		t.Errorf("localhost as registered: %v", q)
	}
}

// TestProtocol_ALogoutThatNamesNoClientGoesToTheLoginPage: RP-initiated
// logout without a client or a redirect URI ends at equipe's login page,
// with the state given, not at a path of the provider's.
func TestProtocol_ALogoutThatNamesNoClientGoesToTheLoginPage(t *testing.T) {
	env := apptest.Start(t, storetest.Engines()[0], apptest.Options{})
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res := do(t, c, mustRequest(t, "GET", env.URL+"/oidc/end_session?state=s1"))
	to, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != 302 || err != nil || to.Path != "/login" || to.Query().Get("done") != "logout" || to.Query().Get("state") != "s1" {
		t.Errorf("%d %s", res.StatusCode, res.Header.Get("Location"))
	}
}

// TestProtocol_EveryAuthorizationResponseSaysItsIssuer: the code, in the
// query or the fragment, and the errors of the authorization endpoint
// carry iss (RFC 9207), which discovery says.
func TestProtocol_EveryAuthorizationResponseSaysItsIssuer(t *testing.T) {
	env := apptest.Start(t, storetest.Engines()[0], apptest.Options{})
	ada := signUp(t, env, "ada@example.com")
	p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", RedirectURIs: []string{redirect}})
	verifier := oauth2.GenerateVerifier()
	if q := p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil); q.Get("code") == "" || q.Get("iss") != env.URL {
		t.Errorf("a code: %v", q)
	}
	to := p.authorizeTo(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("response_mode", "fragment")), nil)
	if f, err := url.ParseQuery(to.Fragment); err != nil || f.Get("code") == "" || f.Get("iss") != env.URL || to.Query().Has("iss") {
		t.Errorf("a code in the fragment: %s", to)
	}
	if q := p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.SetAuthURLParam("code_challenge", "x"), oauth2.SetAuthURLParam("code_challenge_method", "plain")), nil); q.Get("error") == "" || q.Get("iss") != env.URL {
		t.Errorf("an error of the library's: %v", q)
	}
	res := do(t, http.DefaultClient, mustRequest(t, "GET", env.URL+"/.well-known/openid-configuration"))
	var d map[string]any
	if err := json.Unmarshal([]byte(body(res)), &d); err != nil || d["authorization_response_iss_parameter_supported"] != true || d["issuer"] != env.URL {
		t.Errorf("discovery: %v %v", d["authorization_response_iss_parameter_supported"], err)
	}
}

// TestProtocol_AnErrorComesBackInTheFragmentWhenTheCodeWould: a request
// with response_mode=fragment that equipe's pages refuse (prompt=none with
// no session, the person declining) is answered in the fragment, with its
// state and iss, as its code would be; without it, in the query.
func TestProtocol_AnErrorComesBackInTheFragmentWhenTheCodeWould(t *testing.T) {
	env := apptest.Start(t, storetest.Engines()[0], apptest.Options{})
	ada := signUp(t, env, "ada@example.com")
	p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", RedirectURIs: []string{redirect}})
	verifier := oauth2.GenerateVerifier()
	// refused follows browser from the authorization URL to the page that
	// sends it back to the client, declining on the consent page, and
	// returns where it is sent.
	refused := func(browser *http.Client, opts ...oauth2.AuthCodeOption) *url.URL {
		t.Helper()
		r := send(t, browser, "GET", p.oauth.AuthCodeURL("s1", append(opts, oauth2.S256ChallengeOption(verifier))...), nil)
		r = send(t, browser, "GET", env.URL+r.Header.Get("Location"), nil)
		if r.Header.Get("Refresh") == "" {
			m := regexp.MustCompile(`name="id" value="([^"]+)"`).FindStringSubmatch(body(r))
			if m == nil {
				t.Fatalf("no consent page: %d", r.StatusCode)
			}
			r = send(t, browser, "POST", env.URL+"/login/oidc", url.Values{"id": {m[1]}, "decision": {"deny"}})
		}
		to, err := url.Parse(strings.TrimPrefix(r.Header.Get("Refresh"), "0;url="))
		if err != nil || !strings.HasPrefix(to.String(), redirect) {
			t.Fatalf("not sent back to the client: %d %q", r.StatusCode, r.Header.Get("Refresh"))
		}
		return to
	}
	fragment := oauth2.SetAuthURLParam("response_mode", "fragment")
	for _, c := range []struct {
		name    string
		browser *http.Client
		opts    []oauth2.AuthCodeOption
		error   string
	}{
		{"prompt=none logged out", env.Client(), []oauth2.AuthCodeOption{fragment, oauth2.SetAuthURLParam("prompt", "none")}, "login_required"},
		{"declined", ada.browser, []oauth2.AuthCodeOption{fragment}, "access_denied"},
	} {
		to := refused(c.browser, c.opts...)
		f, err := url.ParseQuery(to.Fragment)
		if err != nil || f.Get("error") != c.error || f.Get("state") != "s1" || f.Get("iss") != env.URL || to.RawQuery != "" {
			t.Errorf("%s: %s", c.name, to)
		}
	}
	if to := refused(env.Client(), oauth2.SetAuthURLParam("prompt", "none")); to.Query().Get("error") != "login_required" || to.Fragment != "" {
		t.Errorf("in the query: %s", to)
	}
}

// TestProtocol_EmailVerifiedIsSentWhetherTrueOrFalse: with the email
// scope, the ID token, userinfo and introspection say email_verified false
// for an address not verified yet, not nothing (OpenID Connect Core 5.4),
// and true once it is.
func TestProtocol_EmailVerifiedIsSentWhetherTrueOrFalse(t *testing.T) {
	env := apptest.Start(t, storetest.Engines()[0], apptest.Options{})
	ada := signUp(t, env, "ada@example.com")
	p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", FirstParty: true, RedirectURIs: []string{redirect},
		Scopes: []string{"email"}})
	verifier := oauth2.GenerateVerifier()
	claims := func() (idToken, userinfo, introspection map[string]any) {
		t.Helper()
		tok, idt := p.exchange(t, p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil), verifier)
		idt.Claims(&idToken)
		req := mustRequest(t, "GET", env.URL+"/oidc/userinfo")
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		json.Unmarshal([]byte(body(do(t, http.DefaultClient, req))), &userinfo)
		postAsClient(t, p, env.URL+"/oidc/introspect", url.Values{"token": {tok.AccessToken}}, &introspection)
		return idToken, userinfo, introspection
	}
	for _, verified := range []bool{false, true} {
		if verified {
			link := apptest.Link(t, env.Mail(t, "ada@example.com", "verify_email"), "/verify-email/")
			req, _ := http.NewRequest("POST", env.URL+"/api/v1/verify-email", strings.NewReader(`{"token":"`+apptest.Secret(link)+`"}`))
			req.Header.Set("Content-Type", "application/json")
			if res := do(t, http.DefaultClient, req); res.StatusCode != 204 {
				t.Fatalf("verify: %d %s", res.StatusCode, body(res))
			}
		}
		idToken, userinfo, introspection := claims()
		for name, c := range map[string]map[string]any{"ID token": idToken, "userinfo": userinfo, "introspection": introspection} {
			if v, ok := c["email_verified"]; !ok || v != verified || c["email"] != "ada@example.com" {
				t.Errorf("verified %t, %s: %v", verified, name, c)
			}
		}
	}
}

// TestProtocol_IntrospectionTakesTheSecretAsTheTokenEndpointDoesAndRequiresAToken:
// a client authenticates at introspection by HTTP Basic or in the form
// (client_secret_post), as at the token endpoint and as discovery says; a
// wrong secret either way answers 401 invalid_client; a request without a
// token answers 400 invalid_request once its client authenticated (RFC
// 7662 2.1), 401 otherwise.
func TestProtocol_IntrospectionTakesTheSecretAsTheTokenEndpointDoesAndRequiresAToken(t *testing.T) {
	env := apptest.Start(t, storetest.Engines()[0], apptest.Options{})
	ada := signUp(t, env, "ada@example.com")
	p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", FirstParty: true, RedirectURIs: []string{redirect}})
	verifier := oauth2.GenerateVerifier()
	tok, _ := p.exchange(t, p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil), verifier)

	var d struct {
		Methods []string `json:"introspection_endpoint_auth_methods_supported"`
	}
	json.Unmarshal([]byte(body(do(t, http.DefaultClient, mustRequest(t, "GET", env.URL+"/.well-known/openid-configuration")))), &d)
	if !slices.Equal(d.Methods, []string{"client_secret_basic", "client_secret_post"}) {
		t.Errorf("discovery: %v", d.Methods)
	}
	introspect := func(form url.Values) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("POST", env.URL+"/oidc/introspect", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res := do(t, http.DefaultClient, req)
		var out map[string]any
		if err := json.Unmarshal([]byte(body(res)), &out); err != nil || res.Header.Get("WWW-Authenticate") != "" {
			t.Fatalf("%v: %d %v %v", form, res.StatusCode, res.Header, err)
		}
		return res.StatusCode, out
	}
	id, secret := p.oauth.ClientID, p.oauth.ClientSecret
	for _, c := range []struct {
		name   string
		form   url.Values
		status int
		key    string
		want   any
	}{
		{"the secret in the form", url.Values{"token": {tok.AccessToken}, "client_id": {id}, "client_secret": {secret}}, 200, "active", true},
		{"a wrong secret in the form", url.Values{"token": {tok.AccessToken}, "client_id": {id}, "client_secret": {"wrong"}}, 401, "error", "invalid_client"},
		{"no token", url.Values{"client_id": {id}, "client_secret": {secret}}, 400, "error", "invalid_request"},
		{"no token and a wrong secret", url.Values{"client_id": {id}, "client_secret": {"wrong"}}, 401, "error", "invalid_client"},
		{"no token and no client", url.Values{}, 401, "error", "invalid_client"},
	} {
		if status, out := introspect(c.form); status != c.status || out[c.key] != c.want {
			t.Errorf("%s: %d %v", c.name, status, out)
		}
	}
	var out map[string]any
	if status := postAsClient(t, p, env.URL+"/oidc/introspect", url.Values{}, &out); status != 400 || out["error"] != "invalid_request" {
		t.Errorf("no token, Basic: %d %v", status, out)
	}
}

// TestProtocol_DiscoveryListsEveryClaimTheTokensCarry: each claim of an ID
// token and of a userinfo answer given every scope is among discovery's
// claims_supported, which lists what the provider issues.
func TestProtocol_DiscoveryListsEveryClaimTheTokensCarry(t *testing.T) {
	env := apptest.Start(t, storetest.Engines()[0], apptest.Options{})
	ada := signUp(t, env, "ada@example.com")
	p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", FirstParty: true, RedirectURIs: []string{redirect},
		Scopes: []string{"profile", "email", "offline_access", "accounts", "permissions"}})
	verifier := oauth2.GenerateVerifier()
	tok, idt := p.exchange(t, p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("nonce", "n")), nil), verifier)
	var d struct {
		Claims []string `json:"claims_supported"`
	}
	json.Unmarshal([]byte(body(do(t, http.DefaultClient, mustRequest(t, "GET", env.URL+"/.well-known/openid-configuration")))), &d)
	var idToken, userinfo map[string]any
	idt.Claims(&idToken)
	req := mustRequest(t, "GET", env.URL+"/oidc/userinfo")
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	json.Unmarshal([]byte(body(do(t, http.DefaultClient, req))), &userinfo)
	for name, claims := range map[string]map[string]any{"ID token": idToken, "userinfo": userinfo} {
		if len(claims) < 10 {
			t.Fatalf("%s: %v", name, claims)
		}
		for k := range claims {
			if !slices.Contains(d.Claims, k) {
				t.Errorf("%s carries %s, not in claims_supported %v", name, k, d.Claims)
			}
		}
	}
}

// TestProtocol_KeysThatDoNotOpenAreLoggedNotTold: a process whose secret
// key does not open the signing keys (another EQUIPE_SECRET_KEY than the one
// that sealed them) answers the key set with the protocol's server_error,
// which says nothing of the cause, and logs the cause for the operator.
func TestProtocol_KeysThatDoNotOpenAreLoggedNotTold(t *testing.T) {
	env := apptest.Start(t, storetest.Engines()[0], apptest.Options{})
	if res := do(t, http.DefaultClient, mustRequest(t, "GET", env.URL+"/oidc/keys")); res.StatusCode != 200 {
		t.Fatalf("keys: %d %s", res.StatusCode, body(res))
	}
	// The keys sealed under another secret key: what a process given
	// another EQUIPE_SECRET_KEY finds.
	if _, err := storetest.Raw(t, env.DB).Exec(`UPDATE oidc_signing_keys SET seal_key_id = 'another'`); err != nil {
		t.Fatal(err)
	}
	other := apptest.Start(t, env.Engine, apptest.Options{Share: env})
	res := do(t, http.DefaultClient, mustRequest(t, "GET", other.URL+"/oidc/keys"))
	b := body(res)
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(b), &e); err != nil || res.StatusCode != 500 || e.Error != "server_error" ||
		strings.Contains(b, "SECRET_KEY") || strings.Contains(b, "signing key") {
		t.Errorf("keys that do not open: %d %s", res.StatusCode, b)
	}
	if logs := other.Logs(); !strings.Contains(logs, "does not open") {
		t.Errorf("the cause is not logged:\n%s", logs)
	}
}

// TestProtocol_AnAuthorizationRequestThatCannotGoBackIsExplainedInThePersonsLanguage:
// a request whose client or redirect URI is unknown cannot be answered at
// the client (RFC 6749 4.1.2.1: the person is told, not redirected). The
// person gets equipe's page, in their language, saying what to do and
// what was wrong, rather than a line of plain text in English.
func TestProtocol_AnAuthorizationRequestThatCannotGoBackIsExplainedInThePersonsLanguage(t *testing.T) {
	env := apptest.Start(t, storetest.Engines()[0], apptest.Options{})
	ada := signUp(t, env, "ada@example.com")
	p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", RedirectURIs: []string{redirect}})
	native := newRP(t, env, team.OIDCClientInput{Name: "CLI", RedirectURIs: []string{"http://127.0.0.1/callback"}, Public: true})
	base := env.URL + "/oidc/authorize?response_type=code&scope=openid&state=s"
	for name, u := range map[string]string{
		"an unknown client":      base + "&client_id=nope&redirect_uri=" + url.QueryEscape(redirect),
		"no client":              base + "&redirect_uri=" + url.QueryEscape(redirect),
		"no redirect URI":        base + "&client_id=" + p.oauth.ClientID,
		"a redirect URI not its": base + "&client_id=" + p.oauth.ClientID + "&redirect_uri=" + url.QueryEscape("https://evil.example/cb"),
		"a loopback URI not its": base + "&client_id=" + native.oauth.ClientID + "&redirect_uri=" + url.QueryEscape("http://localhost:5000/callback"),
	} {
		r := send(t, ada.browser, "GET", u, nil)
		page := body(r)
		if r.StatusCode != 400 || r.Header.Get("Location") != "" || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(page, "Revenez à l’application") || !strings.Contains(page, `<html lang="fr"`) ||
			strings.Contains(page, "If you have any questions") {
			t.Errorf("%s, in French: %d %v\n%.2000s", name, r.StatusCode, r.Header, page)
		}
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Accept-Language", "en")
		r = do(t, env.Client(), req)
		if page := body(r); r.StatusCode != 400 || !strings.Contains(page, "Go back to the application") {
			t.Errorf("%s, in English: %d %.2000s", name, r.StatusCode, page)
		}
	}
	// What was wrong is said, for whoever debugs the application.
	r := send(t, ada.browser, "GET", base+"&client_id="+p.oauth.ClientID+"&redirect_uri="+url.QueryEscape("https://evil.example/cb"), nil)
	if page := body(r); !strings.Contains(page, "(The requested redirect_uri is missing in the client configuration)") {
		t.Errorf("the detail: %.2000s", page)
	}
}

// TestProtocol_ARevocationWithoutATokenIsRefused: RFC 7009 2.1 requires
// the token parameter. A client that names it otherwise (refresh_token=…)
// or forgets it is told so (400 invalid_request, RFC 7009 2.2.1), not
// answered 200 as if the token were revoked, while it still works. A
// client that does not authenticate is still answered 401 first.
func TestProtocol_ARevocationWithoutATokenIsRefused(t *testing.T) {
	env := apptest.Start(t, storetest.Engines()[0], apptest.Options{})
	ada := signUp(t, env, "ada@example.com")
	p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", RedirectURIs: []string{redirect}, Scopes: []string{"offline_access"}})
	verifier := oauth2.GenerateVerifier()
	q := p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
	tok, err := p.oauth.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("tokens: %v", err)
	}
	for _, form := range []url.Values{{}, {"refresh_token": {tok.RefreshToken}}, {"token": {""}, "token_type_hint": {"refresh_token"}}} {
		var out map[string]any
		if status := postAsClient(t, p, env.URL+"/oidc/revoke", form, &out); status != 400 || out["error"] != "invalid_request" {
			t.Errorf("revoke %v: %d %v", form, status, out)
		}
	}
	// The refresh token still works: nothing was revoked.
	if _, err := p.oauth.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
		t.Errorf("the refresh token after refused revocations: %v", err)
	}
	stranger := *p
	stranger.oauth.ClientSecret = "wrong"
	if status := postAsClient(t, &stranger, env.URL+"/oidc/revoke", url.Values{}, nil); status != 401 {
		t.Errorf("a client that does not authenticate: %d", status)
	}
}

// TestProtocol_ALogoutRequestThatCannotBeAnsweredIsExplainedOnAPage: the
// end-session endpoint is where a browser is sent; a request it refuses (a
// post-logout URI the client did not register, an ID token it did not
// issue, an unknown client) is explained on equipe's page in the person's
// language, not answered with JSON, and logs nobody out.
func TestProtocol_ALogoutRequestThatCannotBeAnsweredIsExplainedOnAPage(t *testing.T) {
	env := apptest.Start(t, storetest.Engines()[0], apptest.Options{})
	ada := signUp(t, env, "ada@example.com")
	p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", RedirectURIs: []string{redirect},
		PostLogoutURIs: []string{"http://127.0.0.1:9/bye"}})
	for name, q := range map[string]string{
		"a post-logout URI not registered": "client_id=" + p.oauth.ClientID + "&post_logout_redirect_uri=" + url.QueryEscape("https://evil.example/"),
		"an ID token not issued":           "id_token_hint=garbage",
		"an unknown client":                "client_id=nope&post_logout_redirect_uri=" + url.QueryEscape("http://127.0.0.1:9/bye"),
	} {
		for _, c := range []*http.Client{ada.browser, env.Client()} {
			req := mustRequest(t, "GET", env.URL+"/oidc/end_session?"+q)
			req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
			r := do(t, c, req)
			if c == ada.browser && strings.HasPrefix(r.Header.Get("Location"), "/logout/confirm") {
				continue // asked first: nothing was refused yet
			}
			page := body(r)
			if r.StatusCode != 400 || r.Header.Get("Location") != "" || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") ||
				!strings.Contains(page, "Revenez à l’application") && !strings.Contains(page, "Go back to the application") {
				t.Errorf("%s: %d %v\n%.1500s", name, r.StatusCode, r.Header, page)
			}
		}
		// A program that asks no page gets the protocol's JSON error.
		r := send(t, env.Client(), "GET", env.URL+"/oidc/end_session?"+q, nil)
		if r.StatusCode < 400 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || !strings.Contains(body(r), `"error"`) {
			t.Errorf("%s, no page asked: %d %v", name, r.StatusCode, r.Header)
		}
	}
	if r := send(t, ada.browser, "GET", env.URL+"/api/v1/me", nil); r.StatusCode != 200 {
		t.Errorf("the session after refused logouts: %d", r.StatusCode)
	}
}

// TestProtocol_TheAuthorizationServerMetadataIsServedToo: OAuth 2.0
// clients that discover the server by RFC 8414 (its well-known URI,
// oauth-authorization-server) find the same document as OpenID Connect
// Discovery's, which RFC 8414 says it may be.
func TestProtocol_TheAuthorizationServerMetadataIsServedToo(t *testing.T) {
	env := apptest.Start(t, storetest.Engines()[0], apptest.Options{})
	oidcDoc := body(do(t, http.DefaultClient, mustRequest(t, "GET", env.URL+"/.well-known/openid-configuration")))
	res := do(t, http.DefaultClient, mustRequest(t, "GET", env.URL+"/.well-known/oauth-authorization-server"))
	doc := body(res)
	var d map[string]any
	if err := json.Unmarshal([]byte(doc), &d); err != nil || res.StatusCode != 200 ||
		!strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || d["issuer"] != env.URL ||
		d["token_endpoint"] != env.URL+"/oidc/token" || doc != oidcDoc {
		t.Errorf("RFC 8414 metadata: %d %v %.500s", res.StatusCode, err, doc)
	}
}
