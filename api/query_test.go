package api_test

import (
	"strings"
	"testing"

	"github.com/equipe-dev/equipe/app/apptest"
)

// TestAPI_AQueryThatDoesNotParseOrRepeatsAParameterIsRefused: a pair of the
// query string that does not parse was dropped in silence (a malformed
// cursor read the first page again; ?token=abc%zz passed the guard
// against credentials in URLs), and a parameter given twice was read
// first-wins. Both answer 400, on every route; a list parameter (the
// users of access-state) may repeat.
func TestAPI_AQueryThatDoesNotParseOrRepeatsAParameterIsRefused(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		key := a.key(t, "admin")
		for _, c := range []struct {
			url, token, code, field string
		}{
			{env.URL + "/api/v1/me?token=abc%zz", a.admin, "request.query_invalid", ""},
			{env.URL + "/api/v1/me?password=hunter2;", a.admin, "request.query_invalid", ""},
			{env.URL + "/api/v1/me?session=x", a.admin, "request.secret_in_url", ""},
			{a.url("/members?cursor=%zz"), a.admin, "request.query_invalid", ""},
			{a.url("/members?limit=1;cursor=x"), a.admin, "request.query_invalid", ""},
			{a.url("/members?limit=1&limit=2"), a.admin, "request.query_repeated", "limit"},
			{a.url("/members?sort=name&cursor=x&sort=-name"), a.admin, "request.query_repeated", "sort"},
			{a.url("/audit?cursor=a&cursor=b"), a.admin, "request.query_repeated", "cursor"},
			{env.URL + "/api/v1/changes?after=a&after=b", key, "request.query_repeated", "after"},
			{env.URL + "/api/v1/changes?after=%zz", key, "request.query_invalid", ""},
			{a.url("/member-imports?dry_run=true&dry_run=false"), a.admin, "request.query_repeated", "dry_run"},
		} {
			var r response
			if strings.Contains(c.url, "member-imports") {
				r = call(t, env.Client(), "POST", c.url, "email\nx@b.example\n", append(bearer(c.token), "Content-Type", "text/csv")...)
			} else {
				r = call(t, env.Client(), "GET", c.url, nil, bearer(c.token)...)
			}
			if r.Status != 400 || r.code() != c.code || r.JSON["type"] != "urn:equipe:problem:bad-request" {
				t.Errorf("%s: %d %s, want 400 %s", c.url, r.Status, r.Raw, c.code)
				continue
			}
			if c.field != "" && (r.fieldCodes()[c.field] != c.code || !strings.Contains(r.JSON["detail"].(string), c.field)) {
				t.Errorf("%s: %s, want the field %s named", c.url, r.Raw, c.field)
			}
		}
		// A list is given once per element.
		me := a.adminID.String()
		if r := call(t, env.Client(), "GET", a.url("/access-state?user="+me+"&user="+me), nil, bearer(key)...); r.Status != 200 {
			t.Errorf("access-state with two users: %d %s", r.Status, r.Raw)
		}
	})
}
