package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store"
)

// TestAdminReset_AnAdministratorOfAnotherAccountResetsTheirOwnPassword: an
// account may not send a password-reset link to a member who administers
// an account its actor does not administer; one the actor administers too
// does not stop it.
func TestAdminReset_AnAdministratorOfAnotherAccountResetsTheirOwnPassword(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		b := newTenant(t, env, "owner@b.example")
		// The owner of b is also a member of a.
		if err := env.App.DB.Write(t.Context(), func(tx *store.Tx) error {
			now := time.Now()
			return tx.CreateMember(t.Context(), &equipe.Member{AccountID: a.account, UserID: b.adminID, Role: "manager",
				Status: equipe.MemberActive, CreatedAt: now, JoinedAt: now})
		}); err != nil {
			t.Fatal(err)
		}
		member := a.url("/members/" + b.adminID.String())
		if r := call(t, env.Client(), "GET", member, nil, bearer(a.admin)...); !strings.Contains(string(r.Raw),
			`"reset_password":{"allowed":false,"code":"member.reset_admin_elsewhere"}`) {
			t.Fatalf("the member's actions: %s", r.Raw)
		}
		before := len(env.Outbox(t, "admin_reset"))
		r := call(t, env.Client(), "POST", member+"/password-reset", nil, bearer(a.admin)...)
		if r.Status != 403 || r.code() != "member.reset_admin_elsewhere" {
			t.Fatalf("reset of another account's administrator: %d %s", r.Status, r.Raw)
		}
		if len(env.Outbox(t, "admin_reset")) != before {
			t.Fatal("a refused reset queued an email")
		}

		// Once a's owner administers b too, nothing stands in the way, and
		// the email names the account and who asked.
		if err := env.App.DB.Write(t.Context(), func(tx *store.Tx) error {
			now := time.Now()
			return tx.CreateMember(t.Context(), &equipe.Member{AccountID: b.account, UserID: a.adminID, Role: "admin",
				Status: equipe.MemberActive, CreatedAt: now, JoinedAt: now})
		}); err != nil {
			t.Fatal(err)
		}
		if r := call(t, env.Client(), "POST", member+"/password-reset", nil, bearer(a.admin)...); r.Status != 202 {
			t.Fatalf("reset by an administrator of both: %d %s", r.Status, r.Raw)
		}
		m := env.Mail(t, "owner@b.example", "admin_reset")
		for _, want := range []string{"Analytical Engines", "Ada Lovelace", "ignore this email and nothing changes"} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("the email lacks %q:\n%s", want, m.Text)
			}
		}
	})
}
