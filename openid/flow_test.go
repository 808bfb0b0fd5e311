package openid_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// The tests of this file drive the provider as a vendor's application
// would, with coreos/go-oidc and golang.org/x/oauth2 as the relying party,
// over real HTTP against a running service; the person's browser is an
// HTTP client with cookies that logs in through equipe's pages.

const redirect = "http://127.0.0.1:9/callback"

// rp is a relying party: a registered client and its configuration.
type rp struct {
	t        testing.TB
	env      *apptest.Env
	client   equipe.OIDCClient
	oauth    oauth2.Config
	provider *gooidc.Provider
	verifier *gooidc.IDTokenVerifier
}

func newRP(t testing.TB, env *apptest.Env, in team.OIDCClientInput) *rp {
	t.Helper()
	c, secret, err := env.App.Team.CreateOIDCClient(t.Context(), team.Actor{Operator: true}, in)
	if err != nil {
		t.Fatal(err)
	}
	p, err := gooidc.NewProvider(t.Context(), env.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return &rp{t: t, env: env, client: c, provider: p,
		oauth: oauth2.Config{ClientID: c.ID.String(), ClientSecret: secret, RedirectURL: redirect, Endpoint: p.Endpoint(),
			Scopes: append([]string{gooidc.ScopeOpenID}, in.Scopes...)},
		verifier: p.Verifier(&gooidc.Config{ClientID: c.ID.String()})}
}

// person is someone who signed up (with an account of their own) and is
// logged in on browser.
type person struct {
	browser *http.Client
	id      equipe.ID
	account equipe.ID
}

func signUp(t testing.TB, env *apptest.Env, email string) person {
	t.Helper()
	c := env.Client()
	form := url.Values{"first_name": {"Ada"}, "last_name": {"Lovelace"}, "email": {email},
		"password": {apptest.TestPassword}, "account_name": {"Analytical Engines " + email}, "resource_type": {"location"},
		"resource_name": {""}, "locale": {"fr"}}
	if r := send(t, c, "POST", env.URL+"/signup", form); r.StatusCode != 303 {
		t.Fatalf("sign-up: %d", r.StatusCode)
	}
	if r := send(t, c, "POST", env.URL+"/consent", url.Values{"version": {"2026-11"}, "next": {"/"}, "accept": {"yes"}}); r.StatusCode != 303 {
		t.Fatalf("consent: %d", r.StatusCode)
	}
	u, err := env.App.DB.UserByEmailKey(t.Context(), strings.ToLower(email))
	if err != nil {
		t.Fatal(err)
	}
	as, err := env.App.Identity.Accounts(t.Context(), u.ID)
	if err != nil || len(as) != 1 {
		t.Fatalf("accounts: %v %v", as, err)
	}
	return person{browser: c, id: u.ID, account: as[0].Account.ID}
}

func send(t testing.TB, c *http.Client, method, u string, form url.Values) *http.Response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return do(t, c, req)
}

// do sends req on c and returns the answer with its body read, to be read
// again.
func do(t testing.TB, c *http.Client, req *http.Request) *http.Response {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(strings.NewReader(string(b)))
	return res
}

func body(r *http.Response) string { b, _ := io.ReadAll(r.Body); return string(b) }

func random(t testing.TB) string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// exchange redeems the code of q, the client's redirect query, with
// verifier, and returns the tokens with their ID token verified.
func (p *rp) exchange(t testing.TB, q url.Values, verifier string) (*oauth2.Token, *gooidc.IDToken) {
	t.Helper()
	tok, err := p.oauth.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	idt, err := p.verifier.Verify(t.Context(), tok.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	return tok, idt
}

// authorize follows the browser from the authorization URL through the
// login page, choosing account (nil: none) and allowing, to the client's
// redirect URI, and returns that URI's query.
func (p *rp) authorize(t testing.TB, browser *http.Client, authURL string, account *equipe.ID) url.Values {
	t.Helper()
	return p.authorizeTo(t, browser, authURL, account).Query()
}

// authorizeTo is authorize, answering the whole redirect URI the browser
// was sent to.
func (p *rp) authorizeTo(t testing.TB, browser *http.Client, authURL string, account *equipe.ID) *url.URL {
	t.Helper()
	u := authURL
	for range 8 {
		if strings.HasPrefix(u, p.oauth.RedirectURL) {
			got, _ := url.Parse(u)
			return got
		}
		if !strings.HasPrefix(u, "http") {
			u = p.env.URL + u
		}
		r := send(t, browser, "GET", u, nil)
		if to, ok := strings.CutPrefix(r.Header.Get("Refresh"), "0;url="); ok {
			u = to
			continue
		}
		if r.StatusCode == 200 {
			page := body(r)
			m := regexp.MustCompile(`name="id" value="([^"]+)"`).FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("a page with no request: %s", page)
			}
			form := url.Values{"id": {m[1]}, "decision": {"allow"}}
			if account != nil {
				form.Set("account", account.String())
			}
			r = send(t, browser, "POST", p.env.URL+"/login/oidc", form)
			if to, ok := strings.CutPrefix(r.Header.Get("Refresh"), "0;url="); ok {
				u = to
				continue
			}
		}
		if r.StatusCode != 302 && r.StatusCode != 303 {
			t.Fatalf("%s: %d %s", u, r.StatusCode, body(r))
		}
		u = r.Header.Get("Location")
	}
	t.Fatalf("no way to the client from %s", authURL)
	return nil
}

// adaWithOfflineApp signs ada up and takes her through a client that may
// ask for offline_access: the query it got back (its code) and the code's
// verifier.
func adaWithOfflineApp(t testing.TB, env *apptest.Env) (person, *rp, url.Values, string) {
	t.Helper()
	ada := signUp(t, env, "ada@example.com")
	p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", RedirectURIs: []string{redirect},
		Scopes: []string{"offline_access"}})
	verifier := oauth2.GenerateVerifier()
	q := p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
	return ada, p, q, verifier
}

func TestProvider_CodeWithPKCERefreshRevocationAndTheAccountClaims(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			ada := signUp(t, env, "ada@example.com")
			p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", RedirectURIs: []string{redirect},
				Scopes: []string{"profile", "email", "offline_access", "accounts", "permissions"}})
			ctx := t.Context()

			// Discovery names the endpoints, ES256 and S256.
			var disco struct {
				Algs    []string `json:"id_token_signing_alg_values_supported"`
				PKCE    []string `json:"code_challenge_methods_supported"`
				JWKS    string   `json:"jwks_uri"`
				Revoke  string   `json:"revocation_endpoint"`
				Intro   string   `json:"introspection_endpoint"`
				Session string   `json:"end_session_endpoint"`
			}
			if err := p.provider.Claims(&disco); err != nil || !slices.Contains(disco.Algs, "ES256") ||
				!slices.Contains(disco.PKCE, "S256") || disco.JWKS != env.URL+"/oidc/keys" || disco.Revoke == "" || disco.Intro == "" {
				t.Fatalf("discovery %+v %v", disco, err)
			}

			// A redirect URI not registered is refused before any login.
			bad := p.oauth
			bad.RedirectURL = "http://127.0.0.1:9/elsewhere"
			r := send(t, ada.browser, "GET", bad.AuthCodeURL("s"), nil)
			if loc := r.Header.Get("Location"); strings.HasPrefix(loc, "http://127.0.0.1:9/elsewhere") {
				t.Fatalf("an unregistered redirect URI was used: %s", loc)
			}

			// The code flow with PKCE.
			verifier, state, nonce := oauth2.GenerateVerifier(), random(t), random(t)
			q := p.authorize(t, ada.browser, p.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), gooidc.Nonce(nonce)), nil)
			if q.Get("state") != state || q.Get("code") == "" {
				t.Fatalf("callback %v", q)
			}
			// A wrong verifier is refused.
			if _, err := p.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
				t.Fatal("a wrong verifier was accepted")
			}
			q = p.authorize(t, ada.browser, p.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), gooidc.Nonce(nonce)), nil)
			code := q.Get("code")
			tok, err := p.oauth.Exchange(ctx, code, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := tok.Extra("id_token").(string)
			idt, err := p.verifier.Verify(ctx, raw)
			if err != nil || idt.Nonce != nonce || idt.Subject != ada.id.String() {
				t.Fatalf("id token %+v %v", idt, err)
			}
			var claims struct {
				Email       string              `json:"email"`
				Accounts    []map[string]string `json:"accounts"`
				AccountID   string              `json:"account_id"`
				Role        string              `json:"role"`
				Permissions []string            `json:"permissions"`
			}
			if err := idt.Claims(&claims); err != nil || claims.Email != "ada@example.com" || len(claims.Accounts) != 1 ||
				claims.AccountID != ada.account.String() || claims.Role != "admin" || !slices.Contains(claims.Permissions, "members.view") {
				t.Fatalf("claims %+v %v", claims, err)
			}
			// The access token carries the account and role too.
			parts := strings.Split(tok.AccessToken, ".")
			if len(parts) != 3 {
				t.Fatalf("access token is no JWT: %s", tok.AccessToken)
			}
			payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
			var at map[string]any
			json.Unmarshal(payload, &at)
			if at["account_id"] != ada.account.String() || at["role"] != "admin" {
				t.Errorf("access token claims %v", at)
			}
			ui, err := p.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			if err != nil || ui.Subject != ada.id.String() || ui.Email != "ada@example.com" {
				t.Fatalf("userinfo %+v %v", ui, err)
			}

			// Refresh rotates; reusing a refresh token ends the whole grant.
			first := tok.RefreshToken
			if first == "" {
				t.Fatal("no refresh token")
			}
			next, err := p.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: first}).Token()
			if err != nil || next.RefreshToken == "" || next.RefreshToken == first {
				t.Fatalf("refresh: %+v %v", next, err)
			}
			if _, err := p.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: first}).Token(); err == nil {
				t.Fatal("a used refresh token was accepted")
			}
			if _, err := p.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: next.RefreshToken}).Token(); err == nil {
				t.Fatal("the grant survived a reused refresh token")
			}
			if _, err := p.provider.UserInfo(ctx, oauth2.StaticTokenSource(next)); err == nil {
				t.Error("userinfo answers an access token of an ended grant")
			}

			// A reused code is refused, and ends the tokens it gave.
			if _, err := p.oauth.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err == nil {
				t.Fatal("a code was redeemed twice")
			}

			// Revocation and introspection.
			q = p.authorize(t, ada.browser, p.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), nil)
			tok, err = p.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			if active := introspect(t, p, tok.AccessToken); !active {
				t.Fatal("a fresh access token is inactive")
			}
			if status := postAsClient(t, p, disco.Revoke, url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}, nil); status != 200 {
				t.Fatalf("revoke: %d", status)
			}
			if introspect(t, p, tok.AccessToken) {
				t.Error("the access token of a revoked grant is active")
			}
			if _, err := p.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
				t.Error("a revoked refresh token was accepted")
			}

			// A public client must use PKCE with S256.
			pub := newRP(t, env, team.OIDCClientInput{Name: "SPA", Public: true, RedirectURIs: []string{redirect}})
			r = send(t, ada.browser, "GET", pub.oauth.AuthCodeURL("s"), nil)
			if loc := r.Header.Get("Location"); !strings.Contains(loc, "error=invalid_request") {
				t.Errorf("a public client without PKCE: %d %s", r.StatusCode, loc)
			}
			if err := env.App.SignIn.Cleanup(ctx); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		})
	}
}

func introspect(t testing.TB, p *rp, token string) bool {
	t.Helper()
	var disco struct {
		Intro string `json:"introspection_endpoint"`
	}
	p.provider.Claims(&disco)
	var out struct {
		Active bool `json:"active"`
	}
	postAsClient(t, p, disco.Intro, url.Values{"token": {token}}, &out)
	return out.Active
}

// postAsClient posts form to one of the provider's endpoints with the
// client's ID and secret, decodes the JSON answer into out unless it is
// nil, and returns the status.
func postAsClient(t testing.TB, p *rp, endpoint string, form url.Values, out any) int {
	t.Helper()
	req, _ := http.NewRequest("POST", endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(p.oauth.ClientID), url.QueryEscape(p.oauth.ClientSecret))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			t.Fatalf("%s: %d, %v", endpoint, res.StatusCode, err)
		}
	}
	return res.StatusCode
}

// joins makes who an active member of the account of owner, with role:
// they are given access, and join with the link of the email.
func joins(t testing.TB, env *apptest.Env, owner person, who person, email, role string) {
	t.Helper()
	ownerUser, err := env.App.DB.UserByID(t.Context(), owner.id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Team.AddMember(t.Context(), team.Actor{User: &ownerUser}, owner.account,
		team.NewMember{Email: email, Role: role, SendInvitation: true}); err != nil {
		t.Fatal(err)
	}
	whoUser, err := env.App.DB.UserByID(t.Context(), who.id)
	if err != nil {
		t.Fatal(err)
	}
	secret := apptest.Secret(apptest.Link(t, env.Mail(t, email, "access_granted"), "/invitations/"))
	if _, _, err := env.App.Identity.AcceptInvitation(t.Context(), secret, identity.Accept{}, &identity.Auth{User: whoUser},
		equipe.Origin{IP: "127.0.0.1"}); err != nil {
		t.Fatalf("join: %v", err)
	}
	if m, err := env.App.DB.Member(t.Context(), owner.account, who.id); err != nil || m.Status != equipe.MemberActive {
		t.Fatalf("membership %+v %v", m, err)
	}
}

func TestProvider_APersonPicksAnAccountAndASuspendedMemberGetsNoToken(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			ada := signUp(t, env, "ada@example.com")
			bob := signUp(t, env, "bob@example.com")
			joins(t, env, bob, ada, "ada@example.com", "admin")
			p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", RedirectURIs: []string{redirect},
				Scopes: []string{"offline_access", "accounts"}})
			ctx := t.Context()
			verifier := oauth2.GenerateVerifier()

			// Two accounts: the page asks which, in French, and names the client.
			r := send(t, ada.browser, "GET", p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
			r = send(t, ada.browser, "GET", env.URL+r.Header.Get("Location"), nil)
			page := body(r)
			if r.StatusCode != 200 || !strings.Contains(page, "Vendor app") || !strings.Contains(page, ada.account.String()) ||
				!strings.Contains(page, bob.account.String()) || !strings.Contains(page, "Le compte dans lequel vous agirez") {
				t.Fatalf("account page: %d %s", r.StatusCode, page)
			}
			id := regexp.MustCompile(`name="id" value="([^"]+)"`).FindStringSubmatch(page)[1]
			// Allowing without choosing is refused beside the field.
			r = send(t, ada.browser, "POST", env.URL+"/login/oidc", url.Values{"id": {id}, "decision": {"allow"}})
			if r.StatusCode != 422 || !strings.Contains(body(r), `id="e-account"`) {
				t.Fatalf("no account chosen: %d", r.StatusCode)
			}
			q := p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), &bob.account)
			tok, idt := p.exchange(t, q, verifier)
			var claims struct {
				Accounts  []map[string]string `json:"accounts"`
				AccountID string              `json:"account_id"`
				Role      string              `json:"role"`
			}
			idt.Claims(&claims)
			if len(claims.Accounts) != 2 || claims.AccountID != bob.account.String() || claims.Role != "admin" {
				t.Fatalf("claims %+v", claims)
			}

			// The client may name the account; one the person is not in is refused.
			q = p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier),
				oauth2.SetAuthURLParam("equipe_account", ada.account.String())), nil)
			named, err := p.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			if idt, _ := p.verifier.Verify(ctx, named.Extra("id_token").(string)); idt != nil {
				idt.Claims(&claims)
				if claims.AccountID != ada.account.String() || claims.Role != "admin" {
					t.Errorf("named account: %+v", claims)
				}
			}
			r = send(t, ada.browser, "GET", p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier),
				oauth2.SetAuthURLParam("equipe_account", equipe.NewID().String())), nil)
			if r = send(t, ada.browser, "GET", env.URL+r.Header.Get("Location"), nil); r.StatusCode != 403 {
				t.Errorf("an account not hers: %d", r.StatusCode)
			}

			// Suspended in bob's account: the refresh grant ends, and no new
			// token names that account.
			bobUser, _ := env.App.DB.UserByID(ctx, bob.id)
			live := func() (n int) {
				if err := storetest.Raw(t, env.DB).QueryRow(`SELECT count(*) FROM oidc_grants WHERE user_id = $1 AND account_id = $2
					AND ended_at IS NULL`, ada.id.String(), bob.account.String()).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			if live() == 0 {
				t.Fatal("no live grant before the suspension")
			}
			if _, err := env.App.Team.Suspend(ctx, team.Actor{User: &bobUser}, bob.account, ada.id); err != nil {
				t.Fatal(err)
			}
			// The suspension ends the grants in its own transaction.
			if n := live(); n != 0 {
				t.Errorf("%d grants live after the suspension", n)
			}
			if _, err := p.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
				t.Error("a suspended member refreshed a token for the account")
			}
			if _, err := p.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
				t.Error("userinfo answers for a suspended member's account")
			}
			r = send(t, ada.browser, "GET", p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier),
				oauth2.SetAuthURLParam("equipe_account", bob.account.String())), nil)
			if r = send(t, ada.browser, "GET", env.URL+r.Header.Get("Location"), nil); r.StatusCode != 403 {
				t.Errorf("a suspended member picked the account: %d", r.StatusCode)
			}
			// Her own account still works, alone now: no choice asked.
			q = p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
			if _, err := p.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); err != nil {
				t.Errorf("her own account: %v", err)
			}
		})
	}
}

// TestProvider_PromptNoneNamingAnAccountNotThePersonsAnswersTheClient: under
// prompt=none, an equipe_account the person may not act in, or that is no
// account ID, shows no page (OpenID Connect Core 3.1.2.1): the client gets
// account_selection_required at its redirect URI, with its state.
func TestProvider_PromptNoneNamingAnAccountNotThePersonsAnswersTheClient(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	ada := signUp(t, env, "ada@example.com")
	bob := signUp(t, env, "bob@example.com")
	p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", FirstParty: true, RedirectURIs: []string{redirect},
		Scopes: []string{"accounts"}})
	verifier := oauth2.GenerateVerifier()
	for _, account := range []string{bob.account.String(), "not-an-account"} {
		r := send(t, ada.browser, "GET", p.oauth.AuthCodeURL("s1", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "none"),
			oauth2.SetAuthURLParam("equipe_account", account)), nil)
		r = send(t, ada.browser, "GET", env.URL+r.Header.Get("Location"), nil)
		to, _ := url.Parse(strings.TrimPrefix(r.Header.Get("Refresh"), "0;url="))
		if r.StatusCode != 200 || to == nil || !strings.HasPrefix(to.String(), redirect) || to.Query().Get("error") != "account_selection_required" ||
			to.Query().Get("state") != "s1" || to.Query().Get("iss") != env.URL {
			t.Errorf("prompt=none, equipe_account=%s: %d %q", account, r.StatusCode, r.Header.Get("Refresh"))
		}
	}
	// Without prompt=none, the page says why.
	r := send(t, ada.browser, "GET", p.oauth.AuthCodeURL("s2", oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("equipe_account", bob.account.String())), nil)
	if r = send(t, ada.browser, "GET", env.URL+r.Header.Get("Location"), nil); r.StatusCode != 403 {
		t.Errorf("an account not hers, a page: %d", r.StatusCode)
	}
}

func TestProvider_PromptMaxAgeAndLoginHintAreHonoured(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	ada := signUp(t, env, "ada@example.com")
	p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", FirstParty: true, RedirectURIs: []string{redirect}})
	verifier := oauth2.GenerateVerifier()
	follow := func(c *http.Client, u string) *http.Response {
		r := send(t, c, "GET", u, nil)
		return send(t, c, "GET", env.URL+r.Header.Get("Location"), nil)
	}

	// prompt=none without a session: login_required, back at the client.
	r := follow(env.Client(), p.oauth.AuthCodeURL("s1", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "none")))
	if to := r.Header.Get("Refresh"); !strings.Contains(to, redirect) || !strings.Contains(to, "error=login_required") ||
		!strings.Contains(to, "state=s1") {
		t.Errorf("prompt=none, logged out: %d %q", r.StatusCode, to)
	}
	// prompt=none with a session, a first-party client and one account: the code comes back at once.
	r = follow(ada.browser, p.oauth.AuthCodeURL("s2", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "none")))
	if to := r.Header.Get("Refresh"); !strings.Contains(to, "/oidc/authorize/callback") {
		t.Errorf("prompt=none, logged in: %d %q", r.StatusCode, to)
	}

	// login_hint fills the login form; ui_locales chooses its language.
	r = follow(env.Client(), p.oauth.AuthCodeURL("s3", oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("login_hint", "grace@example.com"), oauth2.SetAuthURLParam("ui_locales", "en")))
	if to := r.Header.Get("Location"); !strings.HasPrefix(to, "/login?") || !strings.Contains(to, "login_hint=grace%40example.com") ||
		!strings.Contains(to, "lang=en") {
		t.Errorf("login hint: %d %q", r.StatusCode, to)
	}
	c := env.Client()
	r = send(t, c, "GET", env.URL+"/login?login_hint=grace%40example.com", nil)
	if b := body(r); !strings.Contains(b, `value="grace@example.com"`) {
		t.Errorf("the login form does not hold the hint")
	}
}

// TestProvider_ForcedLoginAsksThePasswordAgainAndEndsNothingOnAGET sends a
// person logged in ten minutes ago to the provider with prompt=login, with
// max_age=0 and with max_age=300, as a cross-site navigation (which any site
// can make a browser do): the login form comes, for the request, and their
// session goes on. Once their password is right, the new session replaces
// the old one, the code comes, and its ID token's auth_time is the new
// login's. A max_age the session's login is within asks nothing.
func TestProvider_ForcedLoginAsksThePasswordAgainAndEndsNothingOnAGET(t *testing.T) {
	clock := apptest.NewClock(time.Now().UTC().Truncate(time.Second))
	env := apptest.Start(t, "sqlite", apptest.Options{Now: clock.Now})
	ada := signUp(t, env, "ada@example.com")
	p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", FirstParty: true, RedirectURIs: []string{redirect}})
	ctx := t.Context()
	crossSite := func(u string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Sec-Fetch-Mode", "navigate")
		return do(t, ada.browser, req)
	}
	authTime := func(q url.Values, verifier string) time.Time {
		t.Helper()
		_, idt := p.exchange(t, q, verifier)
		var claims struct {
			AuthTime int64 `json:"auth_time"`
		}
		idt.Claims(&claims)
		return time.Unix(claims.AuthTime, 0).UTC()
	}
	sessionIDs := func() (ids []equipe.ID) {
		t.Helper()
		ss, err := env.App.DB.Sessions(ctx, ada.id)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range ss {
			ids = append(ids, s.ID)
		}
		return ids
	}

	var loggedIn time.Time
	for _, param := range []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("max_age", "0"),
		oauth2.SetAuthURLParam("max_age", "300")} {
		clock.Advance(10 * time.Minute)
		before := sessionIDs()
		verifier := oauth2.GenerateVerifier()
		r := crossSite(p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), param))
		self := r.Header.Get("Location")
		r = crossSite(env.URL + self)
		page := body(r)
		if r.StatusCode != 200 || !strings.Contains(page, `action="/login"`) ||
			!strings.Contains(page, `name="next" value="`+html.EscapeString(self)+`"`) ||
			!strings.Contains(page, `value="ada@example.com"`) || !strings.Contains(page, "Connectez-vous à nouveau pour continuer.") {
			t.Fatalf("%s: not the login form for the request: %d %q %s", self, r.StatusCode, r.Header.Get("Location"), page)
		}
		if r := send(t, ada.browser, "GET", env.URL+"/", nil); r.StatusCode != 200 {
			t.Fatalf("the GET ended the session: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		if got := sessionIDs(); !slices.Equal(got, before) {
			t.Fatalf("sessions %v, then %v", before, got)
		}

		// The person logs in again.
		loggedIn = clock.Now()
		r = send(t, ada.browser, "POST", env.URL+"/login", url.Values{"email": {"ada@example.com"},
			"password": {apptest.TestPassword}, "next": {self}})
		if r.StatusCode != 303 || r.Header.Get("Location") != self {
			t.Fatalf("login: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		after := sessionIDs()
		if len(after) != len(before) || slices.ContainsFunc(before, func(id equipe.ID) bool { return slices.Contains(after, id) }) {
			t.Errorf("the new session did not replace the old: %v, then %v", before, after)
		}
		// A moment later the browser is back at the request: a login since
		// the request was made does for prompt=login and max_age=0 too.
		clock.Advance(time.Second)
		if at := authTime(p.authorize(t, ada.browser, self, nil), verifier); !at.Equal(loggedIn.Truncate(time.Second)) {
			t.Errorf("auth_time %v, logged in at %v", at, loggedIn)
		}
	}

	// Within max_age: no login asked, auth_time is the last login's.
	clock.Advance(10 * time.Minute)
	verifier := oauth2.GenerateVerifier()
	q := p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("max_age", "3600")), nil)
	if at := authTime(q, verifier); !at.Equal(loggedIn.Truncate(time.Second)) {
		t.Errorf("auth_time %v, logged in at %v", at, loggedIn)
	}
}

// logIn logs the person in on a new browser.
func logIn(t testing.TB, env *apptest.Env, email string) *http.Client {
	t.Helper()
	c := env.Client()
	if r := send(t, c, "POST", env.URL+"/login", url.Values{"email": {email}, "password": {apptest.TestPassword}}); r.StatusCode != 303 {
		t.Fatalf("login: %d", r.StatusCode)
	}
	return c
}

func TestProvider_RPInitiatedLogoutEndsTheGrantsAndTheSession(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	ada := signUp(t, env, "ada@example.com")
	p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", FirstParty: true, RedirectURIs: []string{redirect},
		PostLogoutURIs: []string{"http://127.0.0.1:9/bye"}, Scopes: []string{"offline_access"}})
	verifier := oauth2.GenerateVerifier()
	q := p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
	tok, err := p.oauth.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	var disco struct {
		EndSession string `json:"end_session_endpoint"`
	}
	p.provider.Claims(&disco)

	// A post-logout URI not registered is not followed.
	bad := disco.EndSession + "?" + url.Values{"id_token_hint": {tok.Extra("id_token").(string)},
		"post_logout_redirect_uri": {"http://127.0.0.1:9/elsewhere"}}.Encode()
	if r := send(t, ada.browser, "GET", bad, nil); strings.HasPrefix(r.Header.Get("Location"), "http://127.0.0.1:9/elsewhere") {
		t.Fatal("an unregistered post-logout URI was followed")
	}
	u := disco.EndSession + "?" + url.Values{"id_token_hint": {tok.Extra("id_token").(string)},
		"post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}, "state": {"st"}}.Encode()
	r := send(t, ada.browser, "GET", u, nil)
	if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, "http://127.0.0.1:9/bye") || !strings.Contains(loc, "state=st") {
		t.Fatalf("end session: %d %q %s", r.StatusCode, loc, body(r))
	}
	if _, err := p.oauth.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Error("a refresh token outlived the logout")
	}
	if r := send(t, ada.browser, "GET", env.URL+"/", nil); r.StatusCode != 303 {
		t.Errorf("the equipe session outlived the logout: %d", r.StatusCode)
	}
}

// TestProvider_ADisabledIdentityKeepsNoGrant: the instance disables a
// person's identity, and every grant of theirs ends in that transaction:
// their refresh token and access token stop working, and stay stopped once
// the identity is enabled again.
func TestProvider_ADisabledIdentityKeepsNoGrant(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			ada, p, q, verifier := adaWithOfflineApp(t, env)
			ctx := t.Context()
			tok, _ := p.exchange(t, q, verifier)
			live := func() (n int) {
				if err := storetest.Raw(t, env.DB).QueryRow(`SELECT count(*) FROM oidc_grants WHERE user_id = $1 AND ended_at IS NULL`,
					ada.id.String()).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			if live() == 0 {
				t.Fatal("no live grant before")
			}
			instance := team.Actor{Key: &equipe.APIKey{ID: equipe.NewID()}}
			for _, disabled := range []bool{true, false} {
				if _, err := env.App.Team.ChangeUser(ctx, instance, ada.id, team.UserChange{Disabled: &disabled}); err != nil {
					t.Fatal(err)
				}
				if n := live(); n != 0 {
					t.Errorf("disabled %v: %d grants live", disabled, n)
				}
				if _, err := p.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
					t.Errorf("disabled %v: the refresh token still works", disabled)
				}
				if _, err := p.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
					t.Errorf("disabled %v: userinfo answers", disabled)
				}
			}
		})
	}
}

// TestProvider_ALogoutWithoutAnIDTokenAsksThePerson: an application that
// sends the person to the end-session endpoint with its client_id but no ID
// token gets them asked, on equipe's page in their language, whether to
// log out of equipe too; only their confirmation, posted from that page,
// ends the session and the grants and sends them on to the application.
// The same confirmation posted from another site's page ends nothing.
func TestProvider_ALogoutWithoutAnIDTokenAsksThePerson(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	ada := signUp(t, env, "ada@example.com")
	const bye = "http://127.0.0.1:9/bye"
	p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", FirstParty: true, RedirectURIs: []string{redirect},
		PostLogoutURIs: []string{bye}, Scopes: []string{"offline_access"}})
	verifier := oauth2.GenerateVerifier()
	q := p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
	tok, err := p.oauth.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	params := url.Values{"client_id": {p.oauth.ClientID}, "post_logout_redirect_uri": {bye}, "state": {"st"}}
	r := send(t, ada.browser, "GET", env.URL+"/oidc/end_session?"+params.Encode(), nil)
	ask := r.Header.Get("Location")
	if r.StatusCode != 303 || !strings.HasPrefix(ask, "/logout/confirm?") {
		t.Fatalf("no question: %d %q", r.StatusCode, ask)
	}
	page := send(t, ada.browser, "GET", env.URL+ask, nil)
	html := body(page)
	if page.StatusCode != 200 || !strings.Contains(html, "<h1>Vous déconnecter d") || !strings.Contains(html, `name="logout_confirmed"`) ||
		!strings.Contains(html, `name="state" value="st"`) || !strings.Contains(html, `name="client_id" value="`+p.oauth.ClientID+`"`) {
		t.Fatalf("the page: %d %s", page.StatusCode, html)
	}
	loggedIn := func() bool { return send(t, ada.browser, "GET", env.URL+"/", nil).StatusCode == 200 }
	if !loggedIn() {
		t.Fatal("asking logged the person out")
	}
	confirm := url.Values{"logout_confirmed": {"yes"}}
	for k, v := range params {
		confirm[k] = v
	}
	req, _ := http.NewRequest("POST", env.URL+"/oidc/end_session", strings.NewReader(confirm.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://elsewhere.example")
	req.Header.Set("Sec-Fetch-Site", "same-site")
	if r := do(t, ada.browser, req); r.StatusCode != 303 || !loggedIn() {
		t.Fatalf("a confirmation from another site: %d %q, logged in %v", r.StatusCode, r.Header.Get("Location"), loggedIn())
	}
	r = send(t, ada.browser, "POST", env.URL+"/oidc/end_session", confirm)
	if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, bye) || !strings.Contains(loc, "state=st") {
		t.Fatalf("the confirmation: %d %q %s", r.StatusCode, loc, body(r))
	}
	if loggedIn() {
		t.Error("the equipe session outlived the confirmed logout")
	}
	if _, err := p.oauth.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Error("a refresh token outlived the logout")
	}
}

// TestProvider_AnIDTokenHintOfAnotherPersonIsNotAnsweredForTheOneLoggedIn:
// a client that checks silently (prompt=none) that the person it knows by
// their ID token is still logged in gets login_required when someone else
// is logged in on the browser (OpenID Connect Core 3.1.2.1, id_token_hint),
// not a code for that other person; asked with a page, the login form
// comes (without the hinted person's address, which the hint does not
// tell). The person the hint names gets their code at once.
func TestProvider_AnIDTokenHintOfAnotherPersonIsNotAnsweredForTheOneLoggedIn(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	ada := signUp(t, env, "ada@example.com")
	bob := signUp(t, env, "bob@example.com")
	p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", FirstParty: true, RedirectURIs: []string{redirect}})
	verifier := oauth2.GenerateVerifier()
	q := p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
	tok, err := p.oauth.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	hint, _ := tok.Extra("id_token").(string)
	follow := func(c *http.Client, u string) *http.Response {
		r := send(t, c, "GET", u, nil)
		if loc := r.Header.Get("Location"); strings.HasPrefix(loc, "/") {
			return send(t, c, "GET", env.URL+loc, nil)
		}
		return r
	}
	silent := func(state string) string {
		return p.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "none"),
			oauth2.SetAuthURLParam("id_token_hint", hint))
	}
	r := follow(bob.browser, silent("s1"))
	to := r.Header.Get("Location") + strings.TrimPrefix(r.Header.Get("Refresh"), "0;url=")
	if !strings.HasPrefix(to, redirect) || !strings.Contains(to, "error=login_required") || !strings.Contains(to, "state=s1") {
		t.Errorf("prompt=none, another person logged in: %d %q", r.StatusCode, to)
	}
	if r := follow(ada.browser, silent("s2")); !strings.Contains(r.Header.Get("Refresh"), "/oidc/authorize/callback") {
		t.Errorf("prompt=none, the hinted person logged in: %d %v", r.StatusCode, r.Header)
	}
	r = follow(bob.browser, p.oauth.AuthCodeURL("s3", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("id_token_hint", hint)))
	if page := body(r); r.StatusCode != 200 || !strings.Contains(page, `name="password"`) || strings.Contains(page, "ada@example.com") {
		t.Errorf("with a page, another person logged in: %d %v\n%.3000s", r.StatusCode, r.Header, page)
	}
}
