package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// TestExample_SignsInShowsTheAccountAndGuardsThePage runs the example
// against a running equipe, as its README does, with a registered client
// and an instance API key: a person's browser (an HTTP client with cookies,
// not following redirects by itself) signs in through equipe's own login
// page, the home page then shows the account and role from the ID token,
// the guarded page lets a member with members.view in, and refuses them
// once an administrator suspends them, as soon as the Checker hears of it.
func TestExample_SignsInShowsTheAccountAndGuardsThePage(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			ctx := t.Context()
			account := signUp(t, env, "ada@example.com")
			bob := env.AddMember(t, account, "bob@example.com", "manager", equipe.MemberActive)

			// The example listens first: its callback is registered with the client.
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			base := "http://" + l.Addr().String()
			c, secret, err := env.App.Team.CreateOIDCClient(ctx, team.Actor{Operator: true}, team.OIDCClientInput{
				Name: "Vendor example", FirstParty: true, RedirectURIs: []string{base + "/callback"},
				Scopes: []string{"profile", "email", "accounts"}})
			if err != nil {
				t.Fatal(err)
			}
			// The instance API key, made by an instance administrator.
			env.ConfirmAddress(t, "ada@example.com")
			admin, err := env.App.DB.UserByEmailKey(ctx, "ada@example.com")
			if err != nil {
				t.Fatal(err)
			}
			if err := env.App.DB.Write(ctx, func(tx *store.Tx) error { return tx.SetInstanceAdmin(ctx, admin.ID, true) }); err != nil {
				t.Fatal(err)
			}
			admin.InstanceAdmin = true
			_, key, err := env.App.Team.CreateKey(ctx, team.Actor{User: &admin}, nil, team.NewKey{Name: "Vendor example", Purpose: equipe.KeyAPI})
			if err != nil {
				t.Fatal(err)
			}
			a, err := newApp(ctx, config{Issuer: env.URL, RedirectURL: base + "/callback", ClientID: c.ID.String(),
				ClientSecret: secret, APIKey: key})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(a.Close)
			srv := httptest.NewUnstartedServer(a)
			srv.Listener.Close()
			srv.Listener = l
			srv.Start()
			t.Cleanup(srv.Close)

			browser := env.Client()
			if r := get(t, browser, base+"/"); !strings.Contains(r, "Sign in with equipe") {
				t.Fatalf("the home page before signing in: %s", r)
			}
			// Sign in: from the example to equipe's login page, then back.
			u, page := follow(t, browser, base+"/login", base)
			if !strings.HasPrefix(u, env.URL+"/login") {
				t.Fatalf("the sign-in did not reach equipe's login page but %s: %s", u, page)
			}
			form := url.Values{"email": {"bob@example.com"}, "password": {apptest.TestPassword}}
			for _, name := range []string{"next", "csrf", "lang"} {
				if m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(page); m != nil {
					form.Set(name, htmlUnescape(m[1]))
				}
			}
			r := post(t, browser, env.URL+"/login", form)
			if r.StatusCode != http.StatusSeeOther {
				t.Fatalf("login: %d %s", r.StatusCode, read(r))
			}
			u, page = follow(t, browser, resolve(env.URL, r.Header.Get("Location")), base)
			if u != base+"/" {
				t.Fatalf("the sign-in ended at %s: %s", u, page)
			}
			for _, want := range []string{"Signed in as Test bob (bob@example.com)", "Account: <b>Analytical Engines</b> (" + account.String() + ")",
				"role <b>manager</b>", "<li>Analytical Engines — manager</li>"} {
				if !strings.Contains(page, want) {
					t.Errorf("the home page does not show %q: %s", want, page)
				}
			}

			// The guarded page, decided in process by the Checker.
			if r := get(t, browser, base+"/team"); !strings.Contains(r, "You may view the members of Analytical Engines.") {
				t.Fatalf("the team page refused a manager: %s", r)
			}
			if _, err := env.App.Team.Suspend(ctx, team.Actor{User: &admin}, account, bob.User.ID); err != nil {
				t.Fatal(err)
			}
			// The suspension reaches the Checker through the change stream:
			// each refusal-free answer waits for the stream's next change.
			deadline := time.After(10 * time.Second)
			for {
				applied := a.checker.Applied()
				res, err := browser.Get(base + "/team")
				if err != nil {
					t.Fatal(err)
				}
				body := read(res)
				if res.StatusCode == http.StatusForbidden && strings.Contains(body, "Refused:") {
					break
				}
				if res.StatusCode != http.StatusOK {
					t.Fatalf("after the suspension, the team page answers %d: %s", res.StatusCode, body)
				}
				select {
				case <-applied:
				case <-deadline:
					t.Fatalf("10 s after the suspension, the team page still lets the member in: %s", body)
				}
			}
		})
	}
}

// signUp makes an account through equipe's sign-up page and returns it.
func signUp(t *testing.T, env *apptest.Env, email string) equipe.ID {
	t.Helper()
	c := env.Client()
	form := url.Values{"first_name": {"Ada"}, "last_name": {"Lovelace"}, "email": {email},
		"password": {apptest.TestPassword}, "account_name": {"Analytical Engines"}, "resource_type": {"location"},
		"resource_name": {""}, "locale": {"en"}}
	if r := post(t, c, env.URL+"/signup", form); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-up: %d %s", r.StatusCode, read(r))
	}
	u, err := env.App.DB.UserByEmailKey(t.Context(), email)
	if err != nil {
		t.Fatal(err)
	}
	as, err := env.App.Identity.Accounts(t.Context(), u.ID)
	if err != nil || len(as) != 1 {
		t.Fatalf("accounts: %v %v", as, err)
	}
	return as[0].Account.ID
}

// follow goes from u along redirects (Location, or a Refresh of 0 seconds)
// until a page answers 200, and returns its URL and body. Past stop (the
// example's own origin) it stops at the first page too.
func follow(t *testing.T, c *http.Client, u, stop string) (string, string) {
	t.Helper()
	for range 12 {
		res, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body := read(res)
		next := res.Header.Get("Location")
		if to, ok := strings.CutPrefix(res.Header.Get("Refresh"), "0;url="); ok {
			next = to
		}
		switch {
		case res.StatusCode == http.StatusOK && next == "":
			return u, body
		case next == "":
			t.Fatalf("%s: %d %s", u, res.StatusCode, body)
		}
		u = resolve(u, next)
	}
	t.Fatalf("too many redirects from %s", u)
	return "", ""
}

func resolve(base, ref string) string {
	b, err := url.Parse(base)
	if err != nil {
		return ref
	}
	r, err := b.Parse(ref)
	if err != nil {
		return ref
	}
	return r.String()
}

func get(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	return read(res)
}

func post(t *testing.T, c *http.Client, u string, form url.Values) *http.Response {
	t.Helper()
	res, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func read(res *http.Response) string {
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

var htmlUnescape = strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#39;", "'", "&quot;", `"`, "&lt;", "<", "&gt;", ">").Replace
