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
	"github.com/equipe-dev/equipe/openid"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

var regexpID = regexp.MustCompile(`name="id" value="([^"]+)"`)

// asked reports whether the authorization request of scopes puts a page
// to the person (the consent page), rather than going straight back to the
// client.
func (p *rp) asked(t *testing.T, browser *http.Client, scopes ...string) bool {
	t.Helper()
	_, ok := p.page(t, browser, nil, scopes...)
	return ok
}

// page returns the page the authorization request of scopes, with the
// parameters given, shows the person, and whether it shows one rather than
// going straight back to the client (then the redirect URI is returned).
func (p *rp) page(t *testing.T, browser *http.Client, params url.Values, scopes ...string) (string, bool) {
	t.Helper()
	c := p.oauth
	c.Scopes = append([]string{"openid"}, scopes...)
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(oauth2.GenerateVerifier())}
	for k := range params {
		opts = append(opts, oauth2.SetAuthURLParam(k, params.Get(k)))
	}
	u := c.AuthCodeURL("s", opts...)
	for range 8 {
		if strings.HasPrefix(u, redirect) {
			return u, false
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
			return body(r), true
		}
		u = r.Header.Get("Location")
	}
	t.Fatalf("no end to the redirects of %v", scopes)
	return "", false
}

// TestProvider_PromptConsentAsksThePersonEvenForAFirstPartyClient: a
// first-party client goes straight back, unless it asks prompt=consent
// (OpenID Connect Core 3.1.2.1): the person is then asked, and may decline.
// A client not first-party that the person allowed is asked again alike.
func TestProvider_PromptConsentAsksThePersonEvenForAFirstPartyClient(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			ada := signUp(t, env, "ada@example.com")
			own := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", FirstParty: true, RedirectURIs: []string{redirect},
				Scopes: []string{"profile"}})
			consent := url.Values{"prompt": {"consent"}}
			if own.asked(t, ada.browser, "profile") {
				t.Error("a first-party client was asked about without prompt=consent")
			}
			page, ok := own.page(t, ada.browser, consent, "profile")
			if !ok || !strings.Contains(page, `name="decision" value="allow"`) || !strings.Contains(page, "Vendor app") ||
				!strings.Contains(page, `<ul class="scopes">`) {
				t.Fatalf("prompt=consent to a first-party client: asked %v\n%s", ok, page)
			}
			// The person may decline.
			id := regexpID.FindStringSubmatch(page)
			if id == nil {
				t.Fatalf("no request id in\n%s", page)
			}
			r := send(t, ada.browser, "POST", env.URL+"/login/oidc", url.Values{"id": {id[1]}, "decision": {"deny"}})
			if to := r.Header.Get("Location") + strings.TrimPrefix(r.Header.Get("Refresh"), "0;url="); !strings.Contains(to, "error=access_denied") {
				t.Errorf("declined: %d %v", r.StatusCode, r.Header)
			}
			// Under prompt=none the first-party client still goes straight back.
			if to, ok := own.page(t, ada.browser, url.Values{"prompt": {"none"}}, "profile"); ok || !strings.Contains(to, "code=") {
				t.Errorf("prompt=none to a first-party client: %v %s", ok, to)
			}

			other := newRP(t, env, team.OIDCClientInput{Name: "Partner app", RedirectURIs: []string{redirect},
				Scopes: []string{"profile"}})
			other.oauth.Scopes = []string{"openid", "profile"}
			other.authorize(t, ada.browser, other.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), nil)
			if other.asked(t, ada.browser, "profile") {
				t.Error("a consent given was asked again without prompt=consent")
			}
			if page, ok := other.page(t, ada.browser, consent, "profile"); !ok || !strings.Contains(page, `<ul class="scopes">`) {
				t.Errorf("prompt=consent to a client allowed before: asked %v", ok)
			}
		})
	}
}

func TestProvider_ConsentIsRememberedForTheSameOrFewerScopesAndWithdrawnEndsTheGrants(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			ada := signUp(t, env, "ada@example.com")
			p := newRP(t, env, team.OIDCClientInput{Name: "Vendor app", RedirectURIs: []string{redirect},
				Scopes: []string{"profile", "email", "offline_access"}})

			// The first request is put to the person; they allow it.
			if !p.asked(t, ada.browser, "profile", "offline_access") {
				t.Fatal("a client not first-party was not asked about")
			}
			p.oauth.Scopes = []string{"openid", "profile", "offline_access"}
			verifier := oauth2.GenerateVerifier()
			q := p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
			tok, err := p.oauth.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil || tok.RefreshToken == "" {
				t.Fatalf("tokens: %v", err)
			}
			// The same scopes, or fewer, are not asked again; more are.
			if p.asked(t, ada.browser, "profile", "offline_access") || p.asked(t, ada.browser, "profile") {
				t.Error("the person was asked again for what they allowed")
			}
			if !p.asked(t, ada.browser, "profile", "email") {
				t.Error("a scope not allowed yet was not asked about")
			}

			// The person sees the consent, and withdraws it.
			r := send(t, ada.browser, "GET", env.URL+"/api/v1/me/oidc-consents", nil)
			var list struct {
				Items []struct {
					ClientID   string   `json:"client_id"`
					ClientName string   `json:"client_name"`
					Scopes     []string `json:"scopes"`
				} `json:"items"`
			}
			if err := json.NewDecoder(r.Body).Decode(&list); err != nil || r.StatusCode != 200 || len(list.Items) != 1 ||
				list.Items[0].ClientID != p.client.ID.String() || list.Items[0].ClientName != "Vendor app" ||
				!slices.Contains(list.Items[0].Scopes, "offline_access") || slices.Contains(list.Items[0].Scopes, "email") {
				t.Fatalf("consents: %d %+v %v", r.StatusCode, list, err)
			}
			if r := send(t, ada.browser, "DELETE", env.URL+"/api/v1/me/oidc-consents/"+p.client.ID.String(), nil); r.StatusCode != 204 {
				t.Fatalf("withdraw: %d %s", r.StatusCode, body(r))
			}
			if _, err := p.oauth.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
				t.Error("a refresh token outlived the consent's withdrawal")
			}
			if !p.asked(t, ada.browser, "profile") {
				t.Error("the person was not asked again after withdrawing")
			}
			if r := send(t, ada.browser, "DELETE", env.URL+"/api/v1/me/oidc-consents/"+p.client.ID.String(), nil); r.StatusCode != 404 {
				t.Errorf("withdraw again: %d", r.StatusCode)
			}

			// Allowed again, the consent is on the sessions page, which
			// withdraws it too.
			p.oauth.Scopes = []string{"openid", "profile"}
			p.authorize(t, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), nil)
			action := "/me/oidc-consents/" + p.client.ID.String() + "/withdraw"
			page := body(send(t, ada.browser, "GET", env.URL+"/me/sessions", nil))
			for _, want := range []string{"Applications que vous avez autorisées", "<th scope=\"row\">Vendor app</th>", `action="` + action + `"`} {
				if !strings.Contains(page, want) {
					t.Errorf("the sessions page lacks %s", want)
				}
			}
			if r := send(t, ada.browser, "POST", env.URL+action, url.Values{}); r.StatusCode != 303 ||
				r.Header.Get("Location") != "/me/sessions?done=consent_withdrawn" {
				t.Fatalf("withdraw from the page: %d %s", r.StatusCode, r.Header.Get("Location"))
			}
			if !p.asked(t, ada.browser, "profile") {
				t.Error("the person was not asked again after withdrawing from the page")
			}
		})
	}
}

func TestLogin_AskConsent(t *testing.T) {
	for _, tc := range []struct {
		l    openid.Login
		want bool
	}{
		{openid.Login{}, true},
		{openid.Login{Consented: true}, false},
		{openid.Login{FirstParty: true}, false},
		{openid.Login{FirstParty: true, PromptConsent: true}, true},
		{openid.Login{Consented: true, PromptConsent: true}, true},
	} {
		if got := tc.l.AskConsent(); got != tc.want {
			t.Errorf("%+v: AskConsent %v, want %v", tc.l, got, tc.want)
		}
	}
}
