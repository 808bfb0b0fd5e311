package team_test

import (
	"fmt"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// TestAddMember_IsThrottledPerAccountWhetherOrNotAnEmailGoesOut: an account
// adds at most AddsPerHour members an hour, emails or not; beyond, the
// answer says to wait and nothing is written.
func TestAddMember_IsThrottledPerAccountWhetherOrNotAnEmailGoesOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.add("admin", "admin", equipe.MemberActive)
		w.s.AddsPerHour = 3
		add := func(i int) error {
			_, err := w.s.AddMember(ctx, w.actor("admin"), w.account, team.NewMember{Email: fmt.Sprintf("p%d@example.com", i),
				FirstName: "P", LastName: fmt.Sprint(i), Role: "guest", Resources: []equipe.ID{w.res[2].ID}})
			return err
		}
		for i := range 3 {
			if err := add(i); err != nil {
				t.Fatalf("add %d: %v", i, err)
			}
		}
		before, err := db.Members(ctx, w.account)
		if err != nil {
			t.Fatal(err)
		}
		err = add(3)
		if e := equipe.AsError(err); e.Code != equipe.ERATELIMITED || e.Key != "member.add_throttled" || e.RetryAfter <= 0 {
			t.Fatalf("the fourth add in the hour: %v", err)
		}
		if after, _ := db.Members(ctx, w.account); len(after) != len(before) {
			t.Fatalf("%d members after a throttled add, %d before", len(after), len(before))
		}
		if _, err := db.UserByEmailKey(ctx, "p3@example.com"); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("a throttled add left an identity: %v", err)
		}
	})
}
