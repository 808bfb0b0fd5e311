package openid_test

import (
	"net/http"
	"testing"

	"golang.org/x/oauth2"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/team"
)

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
