package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/i18n"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// outcome is what the cross-site checks make of a request.
type outcome string

const (
	passes         outcome = ""
	crossOrigin    outcome = "request.cross_origin"    // refused by Go's check
	originRequired outcome = "request.origin_required" // refused for a session cookie without the site's origin
)

// origin is what a request says of where it comes from.
type origin struct {
	name    string
	headers func(env *apptest.Env) []string
	// anonymous is the outcome without a session or with a bearer token,
	// withCookie the outcome with the session cookie.
	anonymous, withCookie outcome
}

var origins = []origin{
	{"Origin of the public URL", func(env *apptest.Env) []string { return []string{"Origin", env.Origin} }, passes, passes},
	{"foreign Origin", func(*apptest.Env) []string { return []string{"Origin", "https://evil.test"} }, crossOrigin, crossOrigin},
	// Go's check compares an Origin with the request's Host and lets this
	// one through; the public URL's origin differs by its scheme.
	{"Origin of the same host over https", func(env *apptest.Env) []string {
		return []string{"Origin", strings.Replace(env.Origin, "http://", "https://", 1)}
	}, passes, originRequired},
	{"Sec-Fetch-Site same-origin", func(*apptest.Env) []string { return []string{"Sec-Fetch-Site", "same-origin"} }, passes, passes},
	{"Sec-Fetch-Site same-site", func(*apptest.Env) []string { return []string{"Sec-Fetch-Site", "same-site"} }, crossOrigin, crossOrigin},
	{"Sec-Fetch-Site cross-site", func(*apptest.Env) []string { return []string{"Sec-Fetch-Site", "cross-site"} }, crossOrigin, crossOrigin},
	{"neither Origin nor Sec-Fetch-Site", func(*apptest.Env) []string { return nil }, passes, originRequired},
}

// credential is how a request authenticates.
type credential string

const (
	cookie credential = "cookie"
	bearer credential = "bearer"
	none   credential = "none"
)

// subject is one row's own account and its administrator, logged in.
type subject struct {
	account equipe.ID
	member  apptest.Member
}

// target is a request and the change it makes when it goes through.
type target struct {
	name         string
	method, path string // path under the account's ID with {account}
	api          bool
	body         func(row string) (contentType, body string)
	ok           int // the status when the request goes through with a session
	anonymous    int // the status without a session
	// changed reports whether the request made its change.
	changed func(t *testing.T, env *apptest.Env, s subject, row string) bool
}

func renamed(row string) string { return "Renamed " + row }

func nameChanged(t *testing.T, env *apptest.Env, s subject, row string) bool {
	t.Helper()
	a, err := env.App.Team.Account(context.Background(), team.Actor{User: &s.member.User}, s.account)
	if err != nil {
		t.Fatal(err)
	}
	return a.Name == renamed(row)
}

func loggedOut(t *testing.T, env *apptest.Env, s subject, _ string) bool {
	t.Helper()
	_, err := env.App.Identity.Authenticate(context.Background(), s.member.Token)
	switch equipe.ErrorCode(err) {
	case "":
		return false
	case equipe.EUNAUTHORIZED:
		return true
	}
	t.Fatal(err)
	return false
}

func nothing(*testing.T, *apptest.Env, subject, string) bool { return false }

var targets = []target{
	{name: "API PATCH account", method: "PATCH", path: "/api/v1/accounts/{account}", api: true,
		body: func(row string) (string, string) {
			b, _ := json.Marshal(map[string]string{"name": renamed(row)})
			return "application/json", string(b)
		}, ok: 200, anonymous: 401, changed: nameChanged},
	{name: "API DELETE session", method: "DELETE", path: "/api/v1/session", api: true,
		ok: 204, anonymous: 401, changed: loggedOut},
	{name: "API GET accounts", method: "GET", path: "/api/v1/me/accounts", api: true,
		ok: 200, anonymous: 401, changed: nothing},
	{name: "page POST settings", method: "POST", path: "/accounts/{account}/settings",
		body: func(row string) (string, string) {
			return "application/x-www-form-urlencoded", url.Values{"name": {renamed(row)}, "locale": {"en"},
				"invitation_ttl": {"7"}, "invitation_ttl_unit": {"days"}}.Encode()
		}, ok: 303, anonymous: 303, changed: nameChanged},
	{name: "page POST logout", method: "POST", path: "/logout",
		body: func(string) (string, string) { return "application/x-www-form-urlencoded", "" },
		ok:   303, anonymous: 303, changed: loggedOut},
	{name: "page GET settings", method: "GET", path: "/accounts/{account}/settings",
		ok: 200, anonymous: 303, changed: nothing},
}

// TestCrossSiteRequests_ChangesWithASessionCookieMustComeFromTheSite sends
// every kind of request, with every credential and every sign of origin, to
// the whole service, and checks the answer and that a refused request
// changed nothing at all.
func TestCrossSiteRequests_ChangesWithASessionCookieMustComeFromTheSite(t *testing.T) {
	cat := i18n.MustLoad()
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			// A stopped clock: a session's last-seen time is not written,
			// so a refused request leaves the database exactly as it was.
			clock := apptest.NewClock(time.Now())
			env := apptest.Start(t, e, apptest.Options{Now: clock.Now})
			db := storetest.Raw(t, env.DB)
			c := &http.Client{Timeout: 30 * time.Second,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			n := 0
			for _, cred := range []credential{cookie, bearer, none} {
				for _, tg := range targets {
					for _, o := range origins {
						n++
						row := fmt.Sprint(n)
						t.Run(fmt.Sprintf("%s/%s/%s", cred, tg.name, o.name), func(t *testing.T) {
							s := newSubject(t, env, row)
							want := o.anonymous
							if cred == cookie {
								want = o.withCookie
							}
							if tg.method == "GET" {
								want = passes
							}
							req := newRequest(t, env, tg, s, row)
							switch cred {
							case cookie:
								req.AddCookie(&http.Cookie{Name: "equipe_session", Value: s.member.Token})
							case bearer:
								req.Header.Set("Authorization", "Bearer "+s.member.Token)
							}
							h := o.headers(env)
							for i := 0; i+1 < len(h); i += 2 {
								req.Header.Set(h[i], h[i+1])
							}
							before := storetest.Dump(t, db)
							res, err := c.Do(req)
							if err != nil {
								t.Fatal(err)
							}
							body, _ := io.ReadAll(res.Body)
							res.Body.Close()

							if want != passes {
								if res.StatusCode != 403 {
									t.Fatalf("status %d, want 403 %s: %s", res.StatusCode, want, body)
								}
								checkRefusal(t, cat, env, tg, want, res, body)
								if after := storetest.Dump(t, db); after != before {
									t.Fatalf("a refused request changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
								}
								if tg.changed(t, env, s, row) {
									t.Fatal("a refused request made its change")
								}
								return
							}
							status := tg.ok
							if cred == none {
								status = tg.anonymous
							}
							if res.StatusCode != status {
								t.Fatalf("status %d, want %d: %s", res.StatusCode, status, body)
							}
							if cred == none {
								if after := storetest.Dump(t, db); after != before {
									t.Fatalf("a request without a session changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
								}
								return
							}
							if tg.method != "GET" && !tg.changed(t, env, s, row) {
								t.Fatal("the request went through without making its change")
							}
						})
					}
				}
			}
			for _, code := range []outcome{crossOrigin, originRequired} {
				if !strings.Contains(env.Logs(), `"msg":"cross-origin request refused"`) ||
					!strings.Contains(env.Logs(), `"code":"`+string(code)+`"`) {
					t.Errorf("no log line for a request refused with %s", code)
				}
			}
		})
	}
}

// newSubject creates the row's own account and its administrator, logged in
// and past the privacy policy.
func newSubject(t *testing.T, env *apptest.Env, row string) subject {
	t.Helper()
	ctx := context.Background()
	account := equipe.NewID()
	err := env.App.DB.Write(ctx, func(tx *store.Tx) error {
		return tx.CreateAccount(ctx, &equipe.Account{ID: account, Name: "Row " + row, Locale: "en",
			InvitationTTLHours: equipe.DefaultInvitationTTLHours, CreatedAt: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	m := env.AddMember(t, account, "admin-"+row+"@origin.example", "admin", equipe.MemberActive)
	return subject{account: account, member: m}
}

func newRequest(t *testing.T, env *apptest.Env, tg target, s subject, row string) *http.Request {
	t.Helper()
	var rd io.Reader
	var contentType string
	if tg.body != nil {
		var b string
		contentType, b = tg.body(row)
		rd = strings.NewReader(b)
	}
	req, err := http.NewRequest(tg.method, env.URL+strings.ReplaceAll(tg.path, "{account}", s.account.String()), rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	// The reader's language: the user's own (English) when the session is
	// known, else the browser's.
	req.Header.Set("Accept-Language", "fr")
	return req
}

// checkRefusal checks that a refusal says why, in the reader's language: a
// problem document on the API, the refusal page elsewhere.
func checkRefusal(t *testing.T, cat *i18n.Catalog, env *apptest.Env, tg target, code outcome, res *http.Response, body []byte) {
	t.Helper()
	// Go's check runs before the session is known: its refusals follow the
	// browser's language; the session's check, the user's (English).
	locale := "fr"
	if code == originRequired {
		locale = "en"
	}
	message := cat.T(locale, string(code), map[string]any{"origin": env.Origin})
	if tg.api {
		if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("Content-Type %q", ct)
		}
		var p struct {
			Type, Title, Code, Detail string
			Status                    int
		}
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatalf("problem %s: %v", body, err)
		}
		if p.Type != "urn:equipe:problem:forbidden" || p.Status != 403 || p.Code != string(code) || p.Detail != message ||
			p.Title != cat.T(locale, "error.forbidden", nil) {
			t.Fatalf("problem %+v, want code %s and detail %q", p, code, message)
		}
		return
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	page := string(body)
	if !strings.Contains(page, `<html lang="`+locale+`">`) || !strings.Contains(page, html.EscapeString(message)) {
		t.Fatalf("the page does not say %q in %s:\n%s", message, locale, page)
	}
}
