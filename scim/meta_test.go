package scim_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store/storetest"
)

// TestMeta_LastModifiedMovesWithWhatTheResourceShows: a User's
// meta.lastModified is its creation until a change it shows (title,
// suspension), and moves with each, never with a request that changes
// nothing; a Group has meta.created (the account's, for a built-in role) and
// a lastModified that moves when a member joins or leaves it.
func TestMeta_LastModifiedMovesWithWhatTheResourceShows(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			clock := apptest.NewClock(time.Now().Add(24 * time.Hour).Truncate(time.Second))
			env := apptest.Start(t, e, apptest.Options{Now: clock.Now})
			tn := newTenant(t, env)
			stamp := func(d time.Duration) string { return clock.Now().Add(d).UTC().Format(time.RFC3339) }
			t0 := stamp(0)
			metaOf := func(r response) (created, modified string) {
				m, _ := r.JSON["meta"].(map[string]any)
				created, _ = m["created"].(string)
				modified, _ = m["lastModified"].(string)
				return
			}
			check := func(what string, r response, created, modified string) {
				t.Helper()
				c, m := metaOf(r)
				if c != created || m != modified {
					t.Errorf("%s: created %q, lastModified %q; want %q, %q: %s", what, c, m, created, modified, r.Raw)
				}
			}
			r := tn.call(t, "POST", "/Users", newUser(map[string]any{"userName": "ada@" + tn.domain, "title": "Analyst"}), http.StatusCreated)
			id, _ := r.JSON["id"].(string)
			check("created", r, t0, t0)

			clock.Advance(time.Hour)
			r = tn.call(t, "PATCH", "/Users/"+id, patchOp(map[string]any{"op": "Replace", "path": "title", "value": "Analyst"}), http.StatusOK)
			check("nothing changed", r, t0, t0)
			r = tn.call(t, "PATCH", "/Users/"+id, patchOp(map[string]any{"op": "Replace", "path": "title", "value": "Engineer"}), http.StatusOK)
			check("title", r, t0, stamp(0))

			clock.Advance(time.Hour)
			r = tn.call(t, "PATCH", "/Users/"+id, patchOp(map[string]any{"op": "Replace", "path": "active", "value": "False"}), http.StatusOK)
			check("suspended", r, t0, stamp(0))
			r = tn.call(t, "GET", "/Users/"+id, nil, http.StatusOK)
			check("read again", r, t0, stamp(0))
			list := resources(t, tn.call(t, "GET", query("/Users", `userName eq "ada@`+tn.domain+`"`), nil, http.StatusOK), 1)
			if m, _ := list[0]["meta"].(map[string]any); m["lastModified"] != stamp(0) {
				t.Errorf("listed: meta %v", m)
			}

			acct, err := env.App.DB.AccountByID(t.Context(), tn.account)
			if err != nil {
				t.Fatal(err)
			}
			accountMade := acct.CreatedAt.UTC().Format(time.RFC3339)
			r = tn.call(t, "GET", "/Groups/guest", nil, http.StatusOK)
			check("guest group", r, accountMade, t0)
			r = tn.call(t, "GET", "/Groups/manager", nil, http.StatusOK)
			check("manager group, never held", r, accountMade, accountMade)

			clock.Advance(time.Hour)
			tn.call(t, "PATCH", "/Groups/manager", patchOp(map[string]any{"op": "Add", "path": "members",
				"value": []any{map[string]any{"value": id}}}), http.StatusNoContent)
			r = tn.call(t, "GET", "/Groups/manager", nil, http.StatusOK)
			check("manager group, joined", r, accountMade, stamp(0))
			r = tn.call(t, "GET", "/Groups/guest", nil, http.StatusOK)
			check("guest group, left", r, accountMade, stamp(0))
			r = tn.call(t, "GET", "/Users/"+id, nil, http.StatusOK)
			check("user in another group", r, t0, stamp(0))
			g := resources(t, tn.call(t, "GET", query("/Groups", `displayName eq "Manager"`)+"&excludedAttributes=members", nil, http.StatusOK), 1)
			if m, _ := g[0]["meta"].(map[string]any); m["lastModified"] != stamp(0) || m["created"] != accountMade {
				t.Errorf("listed group: meta %v", m)
			}
		})
	}
}
