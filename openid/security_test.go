package openid_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/equipe-dev/equipe/app/apptest"
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
}
