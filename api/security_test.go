package api_test

import (
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/team"
)

// TestSecurityLog_RecordsRequestsRefusedAcrossTenantsOncePerMinute: a
// person or a key asking about another account is refused as if it did not
// exist; the instance's administrators read who asked, about which account,
// for what — identifiers only, once a minute per asker and account.
func TestSecurityLog_RecordsRequestsRefusedAcrossTenantsOncePerMinute(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		b := newTenant(t, env, "owner@b.example")
		key := a.key(t, "admin")
		for range 3 {
			if r := call(t, env.Client(), "GET", b.url("/members"), nil, bearer(a.admin)...); r.Status != 404 {
				t.Fatalf("another account's members: %d %s", r.Status, r.Raw)
			}
		}
		q := map[string]any{"user_id": b.adminID.String(), "account_id": b.account.String(), "permission": "members.view"}
		if r := checkAs(t, env, key, q); r.JSON["allowed"] != false {
			t.Fatalf("a key asking about another account: %s", r.Raw)
		}
		// Refusals within an account are a matter of permissions: not logged.
		guest := env.AddMember(t, a.account, "guest@a.example", "guest", equipe.MemberActive)
		if r := call(t, env.Client(), "GET", a.url("/audit"), nil, bearer(guest.Token)...); r.Status != 403 {
			t.Fatalf("a guest reading the audit log: %d %s", r.Status, r.Raw)
		}

		admin := instanceActor(t, env)
		events, _, err := env.App.Team.SecurityLog(t.Context(), admin, equipe.Page{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range events {
			got = append(got, string(e.Actor.Kind)+" "+e.Actor.ID.String()+" "+e.Account.String()+" "+e.What)
		}
		keyID := keyOf(t, a, "backend admin")["id"].(string)
		want := []string{"api_key " + keyID + " " + b.account.String() + " check",
			"user " + a.adminID.String() + " " + b.account.String() + " members.view"}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("the security log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		// Only the instance reads it.
		if _, _, err := env.App.Team.SecurityLog(t.Context(), team.Actor{User: &guest.User}, equipe.Page{Limit: 50}); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("a member reading the security log: %v", err)
		}
		if r := call(t, env.Client(), "GET", env.URL+"/api/v1/security-events", nil, bearer(a.admin)...); r.Status != 404 {
			t.Fatalf("an account's administrator reading the security log: %d %s", r.Status, r.Raw)
		}
	})
}
