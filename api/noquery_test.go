package api_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/api"
	"github.com/equipe-dev/equipe/app/apptest"
)

// TestRoutes_EveryRouteRefusesAQueryParameterItDoesNotTake: a query
// parameter sent to any route that does not take it (a misspelled filter,
// ?status= on a webhook's deliveries) was ignored in silence, so that the
// list answered everything. It answers 400 request.unknown_parameter
// naming it, as a problem, and changes nothing; each parameter the OpenAPI
// document declares for a route is taken. The routes are the router's
// own: a new one is covered.
func TestRoutes_EveryRouteRefusesAQueryParameterItDoesNotTake(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		c, a, collab, path := everyRoute(t, env)
		declared := 0
		for _, rt := range api.Routes() {
			path := path(rt)
			queries := []string{"unknown=1", "unknown", "unknown=&unknown=2"}
			if taken := api.QueryParams(rt); len(taken) > 0 {
				queries = append(queries, taken[0]+"=x&unknown=1")
			}
			for _, query := range queries {
				r := call(t, c, rt.Method, env.URL+path+"?"+query, nil, bearer(a.admin)...)
				if r.Status != 400 || r.code() != "request.unknown_parameter" || r.fieldCodes()["unknown"] != "request.unknown_parameter" ||
					r.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(r.JSON["detail"].(string), "unknown") {
					t.Errorf("%s %s?%s: %d %s", rt.Method, rt.Path, query, r.Status, r.Raw)
				}
			}
			// Each parameter the route takes is taken (its value may be
			// refused, not its name).
			for _, name := range api.QueryParams(rt) {
				declared++
				value := "x"
				if name == "user" {
					value = a.adminID.String()
				}
				r := call(t, c, rt.Method, env.URL+path+"?"+url.Values{name: {value}}.Encode(), nil, bearer(a.admin)...)
				if r.Status == 400 && r.code() == "request.unknown_parameter" {
					t.Errorf("%s %s?%s=%s: %d %s", rt.Method, rt.Path, name, value, r.Status, r.Raw)
				}
			}
		}
		if declared < 40 {
			t.Errorf("only %d parameters declared over every route", declared)
		}
		// Nothing was done: the member is still active, the session alive.
		m := call(t, c, "GET", a.url("/members/"+collab.User.ID.String()), nil, bearer(a.admin)...)
		if m.Status != 200 || m.JSON["status"] != "active" {
			t.Errorf("the member after every route refused: %d %s", m.Status, m.Raw)
		}

		// An empty query string is none; a name is matched exactly, and the
		// first unknown one, in the query's order, is named.
		for _, u := range []string{env.URL + "/api/v1/me?", a.url("/members?"), a.url("/members?limit=1&sort=name")} {
			if r := call(t, c, "GET", u, nil, bearer(a.admin)...); r.Status != 200 {
				t.Errorf("%s: %d %s", u, r.Status, r.Raw)
			}
		}
		for _, c2 := range []struct{ url, name string }{
			{a.url("/webhooks/" + equipe.NewID().String() + "/deliveries?status=abandoned"), "status"},
			{a.url("/members?Limit=1"), "Limit"},
			{a.url("/members?limit=1&statut=active&rol=admin"), "statut"},
			{a.url("/members?q=a%20b&st%61tus_=x"), "status_"},
		} {
			r := call(t, c, "GET", c2.url, nil, bearer(a.admin)...)
			if r.Status != 400 || r.code() != "request.unknown_parameter" || len(r.fieldCodes()) != 1 || r.fieldCodes()[c2.name] != "request.unknown_parameter" {
				t.Errorf("%s: %d %s, want %s named", c2.url, r.Status, r.Raw, c2.name)
			}
		}
	})
}
