package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/api"
	"github.com/equipe-dev/equipe/app/apptest"
)

// TestRoutes_EveryRouteRefusesAMemberItDoesNotRead: a body with a member
// sent to any route, one that takes no body (POST …/suspend) as one that
// does, answers 400 request.unknown_field naming it, as a problem, and
// changes nothing. The routes are the router's own: a new one is covered.
func TestRoutes_EveryRouteRefusesAMemberItDoesNotRead(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		c, a, collab, path := everyRoute(t, env)
		for _, rt := range api.Routes() {
			path := path(rt)
			r := call(t, c, rt.Method, env.URL+path, map[string]any{"x": 1}, bearer(a.admin)...)
			if strings.HasSuffix(rt.Path, "/member-imports") && rt.Method == "POST" {
				// It takes a CSV file: JSON is refused as such.
				if r.Status != 415 || r.code() != "import.media_type" {
					t.Errorf("%s %s with JSON: %d %s", rt.Method, rt.Path, r.Status, r.Raw)
				}
				continue
			}
			if r.Status != 400 || r.code() != "request.unknown_field" || r.fieldCodes()["x"] != "request.unknown_field" ||
				r.Header.Get("Content-Type") != "application/problem+json" || r.JSON["type"] == nil || r.JSON["title"] == nil {
				t.Errorf("%s %s (body %v) with a member: %d %s", rt.Method, rt.Path, api.TakesBody(rt), r.Status, r.Raw)
			}
		}
		// Nothing was done: the member is still active, the session alive.
		m := call(t, c, "GET", a.url("/members/"+collab.User.ID.String()), nil, bearer(a.admin)...)
		if m.Status != 200 || m.JSON["status"] != "active" {
			t.Errorf("the member after every route refused: %d %s", m.Status, m.Raw)
		}

		// A route that takes no body accepts none, white space or {}. A
		// body of nothing or white space sent as JSON is no JSON, which the
		// document cannot say: those go past its check.
		suspend := a.url("/members/" + collab.User.ID.String() + "/suspend")
		reactivate := a.url("/members/" + collab.User.ID.String() + "/reactivate")
		unchecked := &http.Client{}
		for _, body := range []any{nil, "", " \n", "{}", " { } "} {
			cl := c
			if s, ok := body.(string); ok && strings.TrimSpace(s) == "" {
				cl = unchecked
			}
			if r := call(t, cl, "POST", suspend, body, bearer(a.admin)...); r.Status != 200 || r.JSON["status"] != "suspended" {
				t.Errorf("suspend with %q: %d %s", body, r.Status, r.Raw)
			}
			if r := call(t, cl, "POST", reactivate, body, bearer(a.admin)...); r.Status != 200 || r.JSON["status"] != "active" {
				t.Errorf("reactivate with %q: %d %s", body, r.Status, r.Raw)
			}
		}
		// Any other body is refused as decode refuses it.
		for _, tc := range []struct {
			body, contentType string
			status            int
			code              string
		}{
			{`[]`, "application/json", 400, "request.not_object"},
			{`{,}`, "application/json", 400, "request.malformed"},
			{`{} {}`, "application/json", 400, "request.malformed"},
			{`{"x": 1}`, "text/plain", 415, "request.media_type"},
			{`{"x": "` + strings.Repeat("a", 70<<10) + `"}`, "application/json", 413, "request.too_large"},
		} {
			r := call(t, c, "POST", suspend, tc.body, append(bearer(a.admin), "Content-Type", tc.contentType)...)
			if r.Status != tc.status || r.code() != tc.code {
				t.Errorf("suspend with %.20q (%s): %d %s", tc.body, tc.contentType, r.Status, r.Raw)
			}
		}
		if m := call(t, c, "GET", a.url("/members/"+collab.User.ID.String()), nil, bearer(a.admin)...); m.JSON["status"] != "active" {
			t.Errorf("the member after refused bodies: %s", m.Raw)
		}
	})
}

// TestRoutes_EachRouteSaidToTakeABodyIsARoute: takesBody names routes, not
// patterns that have gone (whose new form would refuse its body).
func TestRoutes_EachRouteSaidToTakeABodyIsARoute(t *testing.T) {
	known := map[string]bool{}
	for _, rt := range api.Routes() {
		known[rt.Method+" "+rt.Path] = true
	}
	for _, k := range api.BodyRoutes() {
		if !known[k] {
			t.Errorf("takesBody names %q, which is no route", k)
		}
	}
}

// everyRoute is the scene of the tests over every route of the router: a
// client, a tenant, one of its collaborators, and each route's path with
// its parameters filled (the collaborator, the tenant's account, an ID that
// is nobody's for the rest). It fails on a parameter it does not fill, so
// that a new route is covered.
func everyRoute(t *testing.T, env *apptest.Env) (*http.Client, tenant, apptest.Member, func(api.Route) string) {
	t.Helper()
	a := newTenant(t, env, "owner@a.example")
	collab := env.AddMember(t, a.account, "collab@a.example", "collaborator", equipe.MemberActive)
	other := equipe.NewID().String()
	params := strings.NewReplacer("{account}", a.account.String(), "{user}", collab.User.ID.String(),
		"{token}", "x", "{version}", "1", "{session}", other, "{client}", other, "{passkey}", other,
		"{import}", other, "{contact}", other, "{resource}", other, "{role}", other, "{key}", other,
		"{webhook}", other, "{delivery}", other)
	if n := len(api.Routes()); n < 100 {
		t.Fatalf("%d routes", n)
	}
	return env.Client(), a, collab, func(rt api.Route) string {
		t.Helper()
		path := params.Replace(rt.Path)
		if strings.Contains(path, "{") {
			t.Fatalf("a parameter the test does not fill: %s", rt.Path)
		}
		return path
	}
}
