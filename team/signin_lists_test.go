package team_test

import (
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/team"
)

// TestSignInAccounts_ServedFromMemoryUntilAnythingInItChanges: a person's
// accounts for OpenID Connect tokens are read once, then answered without
// reading the store, and every change to what the list holds is seen by
// the next call: a renamed account, a new client account of the firm, a
// suspension, a reactivation.
func TestSignInAccounts_ServedFromMemoryUntilAnythingInItChanges(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		admin := s.users["admin"]
		m := s.joined("m", "collaborator")
		list := func(u *equipe.User) map[equipe.ID]team.SignInAccount {
			t.Helper()
			as, err := s.s.SignInAccounts(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			out := map[equipe.ID]team.SignInAccount{}
			for _, a := range as {
				out[a.ID] = a
			}
			return out
		}
		if got := list(m); len(got) != 1 || got[s.account].Role != "collaborator" {
			t.Fatalf("member's accounts %+v", got)
		}
		before := b.st.DB.Reads()
		if got := list(m); len(got) != 1 {
			t.Fatalf("member's accounts again %+v", got)
		}
		if n := b.st.DB.Reads() - before; n != 0 {
			t.Errorf("the same list again read the store %d times", n)
		}

		name := "Renamed " + s.account.String()[:8]
		if _, err := s.s.UpdateAccount(ctx, s.admin(), s.account, team.AccountChange{Name: &name}); err != nil {
			t.Fatal(err)
		}
		if got := list(m); got[s.account].Name != name {
			t.Errorf("after a rename: %+v", got)
		}

		list(admin)
		c, err := s.s.CreateClient(ctx, s.admin(), s.account, team.NewAccount{Name: "Boulangerie", Locale: "fr"})
		if err != nil {
			t.Fatal(err)
		}
		if got := list(admin); len(got) != 2 || got[c.ID].Name != "Boulangerie" {
			t.Errorf("the firm's administrator after a new client: %+v", got)
		}

		s.suspend(m)
		if got := list(m); len(got) != 0 {
			t.Errorf("a suspended member's accounts: %+v", got)
		}
		if _, err := s.s.Reactivate(ctx, s.admin(), s.account, m.ID); err != nil {
			t.Fatal(err)
		}
		if got := list(m); len(got) != 1 {
			t.Errorf("a reactivated member's accounts: %+v", got)
		}
	})
}
