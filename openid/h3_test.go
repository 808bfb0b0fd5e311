package openid_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/team"
)

// H3-4: probe the provider's endpoints with bad input and list any 5xx.
func TestH3_BadInputNever500(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	ada := signUp(t, env, "ada@example.com")
	p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", RedirectURIs: []string{redirect},
		Scopes: []string{"offline_access", "accounts"}})
	pub := newRP(t, env, team.OIDCClientInput{Name: "SPA", Public: true, RedirectURIs: []string{redirect}})
	cid := p.oauth.ClientID
	verifier := oauth2.GenerateVerifier()
	q := p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
	code := q.Get("code")
	gets := []string{
		"/oidc/authorize?client_id=nope&redirect_uri=" + redirect + "&response_type=code&scope=openid",
		"/oidc/authorize?client_id=" + cid + "&redirect_uri=" + redirect + "&response_type=token&scope=openid",
		"/oidc/authorize?client_id=" + cid + "&redirect_uri=" + redirect + "&response_type=code&scope=openid&max_age=abc",
		"/oidc/authorize?client_id=" + cid + "&redirect_uri=" + redirect + "&response_type=code&scope=openid&max_age=-5",
		"/oidc/authorize?client_id=" + cid + "&redirect_uri=" + redirect + "&response_type=code&scope=openid&max_age=99999999999999999999",
		"/oidc/authorize?client_id=" + cid + "&redirect_uri=" + redirect + "&response_type=code&scope=openid&prompt=bogus",
		"/oidc/authorize?client_id=" + cid + "&redirect_uri=" + redirect + "&response_type=code&scope=openid&request=abc.def.ghi",
		"/oidc/authorize?client_id=" + cid + "&redirect_uri=" + redirect + "&response_type=code&scope=openid&ui_locales=%%%",
		"/oidc/authorize?client_id=" + cid + "&redirect_uri=" + redirect + "&response_type=code&scope=openid&equipe_account=garbage",
		"/oidc/authorize?client_id=" + cid + "&redirect_uri=" + redirect + "&response_type=code&scope=openid&id_token_hint=garbage",
		"/oidc/authorize?client_id=" + cid + "&redirect_uri=" + redirect + "&response_type=code&scope=openid%00x",
		"/oidc/authorize?client_id=" + cid + "&redirect_uri=" + redirect + "&response_type=code&scope=openid&state=%00%ff",
		"/oidc/authorize?client_id=" + cid + "&redirect_uri=" + redirect + "&response_type=code&scope=openid&nonce=" + strings.Repeat("n", 100000),
		"/oidc/authorize?client_id=" + cid + "&redirect_uri=" + redirect + "&response_type=code&scope=openid&login_hint=%ff%fe",
		"/oidc/authorize?client_id=" + cid + "&redirect_uri=" + redirect + "&response_type=code&scope=openid&code_challenge=x&code_challenge_method=S256&response_mode=form_post",
		"/oidc/authorize?client_id=" + cid + "&redirect_uri=" + redirect + "&response_type=code&scope=openid&response_mode=bogus",
		"/oidc/authorize/callback?id=nope",
		"/oidc/authorize/callback",
		"/oidc/userinfo",
		"/oidc/end_session?id_token_hint=garbage",
		"/oidc/end_session?id_token_hint=a.b.c&post_logout_redirect_uri=http://x",
		"/oidc/end_session?client_id=" + cid + "&post_logout_redirect_uri=http://127.0.0.1:9/bye",
		"/oidc/end_session?client_id=nope",
		"/oidc/keys",
		"/login/oidc?id=nope",
		"/login/oidc",
	}
	for _, g := range gets {
		for _, c := range []*http.Client{env.Client(), ada.browser} {
			r := send(t, c, "GET", env.URL+g, nil)
			if r.StatusCode >= 500 {
				t.Errorf("GET %.160s: %d %.300s", g, r.StatusCode, body(r))
			}
		}
	}
	basic := func(form url.Values, user, pass string) *http.Response {
		req, _ := http.NewRequest("POST", env.URL+"/oidc/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if user != "" || pass != "" {
			req.SetBasicAuth(user, pass)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		res.Body = io.NopCloser(strings.NewReader(string(b)))
		return res
	}
	forms := []url.Values{
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
		{"grant_type": {"authorization_code"}, "code": {"x"}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {"a.b.c"}},
		{"grant_type": {"bogus"}},
		{},
	}
	creds := [][2]string{{"", ""}, {cid, "wrong"}, {cid, p.oauth.ClientSecret}, {"nope", "x"}, {pub.oauth.ClientID, ""}}
	for _, f := range forms {
		for _, cr := range creds {
			r := basic(f, cr[0], cr[1])
			if r.StatusCode >= 500 {
				t.Errorf("POST /oidc/token %v as %q: %d %.300s", f, cr[0], r.StatusCode, body(r))
			}
			f2 := url.Values{}
			for k, v := range f {
				f2[k] = v
			}
			f2.Set("client_id", cr[0])
			if cr[1] != "" {
				f2.Set("client_secret", cr[1])
			}
			r = basic(f2, "", "")
			if r.StatusCode >= 500 {
				t.Errorf("POST /oidc/token (form creds) %v: %d %.300s", f2, r.StatusCode, body(r))
			}
		}
	}
	for _, ep := range []string{"/oidc/introspect", "/oidc/revoke"} {
		for _, f := range []url.Values{{}, {"token": {"x"}}, {"token": {"a.b.c"}, "token_type_hint": {"access_token"}},
			{"token": {"x"}, "token_type_hint": {"refresh_token"}}, {"token": {"x"}, "token_type_hint": {"bogus"}}} {
			for _, cr := range creds {
				req, _ := http.NewRequest("POST", env.URL+ep, strings.NewReader(f.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if cr[0] != "" {
					req.SetBasicAuth(cr[0], cr[1])
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode >= 500 {
					t.Errorf("POST %s %v as %q: %d %.300s", ep, f, cr[0], res.StatusCode, b)
				}
			}
		}
	}
	for _, f := range []url.Values{{"id": {"nope"}, "decision": {"allow"}}, {"id": {"nope"}, "decision": {"deny"}},
		{"decision": {"allow"}}, {"id": {"nope"}, "decision": {"allow"}, "account": {"garbage"}}} {
		r := send(t, ada.browser, "POST", env.URL+"/login/oidc", f)
		if r.StatusCode >= 500 {
			t.Errorf("POST /login/oidc %v: %d %.300s", f, r.StatusCode, body(r))
		}
	}
	for _, auth := range []string{"Bearer garbage", "Bearer a.b.c", "Basic xx", "Bearer " + strings.Repeat("a", 10000)} {
		req, _ := http.NewRequest("GET", env.URL+"/oidc/userinfo", nil)
		req.Header.Set("Authorization", auth)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode >= 500 {
			t.Errorf("userinfo %.30s: %d %.300s", auth, res.StatusCode, b)
		}
	}
}

// H3-6: docs/security.md says no GET changes anything and logout is a POST;
// a cross-site GET navigation to /oidc/authorize with prompt=login ends the
// victim's equipe session.
func TestH3_CrossSiteGETLogsTheVictimOut(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	victim := signUp(t, env, "victim@example.com")
	p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", RedirectURIs: []string{redirect}})
	if r := send(t, victim.browser, "GET", env.URL+"/", nil); r.StatusCode != 200 {
		t.Fatalf("not logged in: %d", r.StatusCode)
	}
	get := func(u string) *http.Response {
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Sec-Fetch-Mode", "navigate")
		req.Header.Del("Origin")
		res, err := victim.browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	r := get(p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "login")))
	r = get(env.URL + r.Header.Get("Location"))
	t.Logf("GET /login/oidc (cross-site): %d → %s", r.StatusCode, r.Header.Get("Location"))
	after := send(t, victim.browser, "GET", env.URL+"/", nil)
	t.Logf("victim's next GET /: %d %s", after.StatusCode, after.Header.Get("Location"))
	if after.StatusCode != 200 {
		t.Error("a cross-site GET ended the victim's session")
	}
}
