package store_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// The claim and record statements that webhook deliveries and back-channel
// logout notices share (claims.go), on the notices: a claim holds its
// batch under a lease, a lapsed lease makes it due again, and only the
// worker that still holds a notice records its outcome.
func TestClaims_LogoutNoticesAreClaimedUnderALeaseAndRecordedByTheirHolder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var users []*equipe.User
		c := &equipe.OIDCClient{ID: equipe.NewID(), Name: "Vendor app", RedirectURIs: []string{"https://app.example.com/cb"},
			BackchannelLogoutURI: "https://app.example.com/logout", Scopes: []string{"openid"}, CreatedAt: t0, UpdatedAt: t0}
		const n = 5
		write(t, db, func(tx *store.Tx) error {
			if err := tx.CreateOIDCClient(ctx, c); err != nil {
				return err
			}
			for i := range n {
				u := newUser(fmt.Sprintf("p%d@example.com", i))
				users = append(users, u)
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
				if err := tx.CreateGrant(ctx, &store.Grant{ID: fmt.Sprintf("g%d", i), ClientID: c.ID, UserID: u.ID,
					Scopes: []string{"openid"}, AuthTime: t0, CreatedAt: t0}); err != nil {
					return err
				}
			}
			return nil
		})
		// Each person's grant ends: a notice each, oldest first.
		for _, u := range users {
			write(t, db, func(tx *store.Tx) error { return tx.EndGrantsOf(ctx, u.ID, nil, nil, t0) })
		}
		statuses := func() []string {
			var out []string
			for _, u := range users {
				st, err := db.LogoutStatus(ctx, c.ID, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, st...)
			}
			return out
		}

		first, err := db.ClaimLogouts(ctx, t0, time.Minute, 3, "w1")
		if err != nil || len(first) != 3 {
			t.Fatalf("first claim: %d (%v), want 3", len(first), err)
		}
		rest, err := db.ClaimLogouts(ctx, t0, time.Minute, 10, "w2")
		if err != nil || len(rest) != n-3 {
			t.Fatalf("second claim: %d (%v), want %d", len(rest), err, n-3)
		}
		ids := func(ls []store.Logout) []int64 {
			var out []int64
			for _, l := range ls {
				out = append(out, l.ID)
				if l.Attempts != 1 && l.Attempts != 2 {
					t.Errorf("notice %d: attempts %d", l.ID, l.Attempts)
				}
			}
			return out
		}
		if !slices.IsSorted(ids(first)) || slices.ContainsFunc(ids(rest), func(id int64) bool { return slices.Contains(ids(first), id) }) {
			t.Fatalf("claims overlap or out of order: %v %v", ids(first), ids(rest))
		}
		// Leased, nothing is due.
		if ls, _ := db.ClaimLogouts(ctx, t0.Add(30*time.Second), time.Minute, 10, "w3"); len(ls) != 0 {
			t.Fatalf("%d notices claimed while leased", len(ls))
		}
		// w2's lease lapses: w3 takes its notices, which count a second
		// attempt, and w2's outcomes change nothing.
		taken, err := db.ClaimLogouts(ctx, t0.Add(2*time.Minute), time.Minute, 10, "w3")
		all := ids(append(slices.Clone(first), rest...))
		slices.Sort(all)
		if err != nil || !slices.Equal(ids(taken), all) || taken[0].Attempts != 2 {
			// w1's lease lapsed too: every notice is w3's now.
			t.Fatalf("after the leases lapsed: %v (%v)", ids(taken), err)
		}
		var stale []store.LogoutOutcome
		for _, l := range rest {
			stale = append(stale, store.LogoutOutcome{ID: l.ID, Delivered: true, At: t0.Add(2 * time.Minute)})
		}
		if err := db.RecordLogoutOutcomes(ctx, "w2", stale); err != nil {
			t.Fatal(err)
		}
		if st := statuses(); slices.Contains(st, "delivered") {
			t.Fatalf("a lapsed claim recorded outcomes: %v", st)
		}
		// w3 records a batch: one delivered, one to retry, the rest
		// abandoned.
		at := t0.Add(3 * time.Minute)
		var outs []store.LogoutOutcome
		for i, l := range taken {
			o := store.LogoutOutcome{ID: l.ID, At: at, Error: "answered 503"}
			switch i {
			case 0:
				o.Delivered, o.Error = true, ""
			case 1:
				o.Next = at.Add(5 * time.Minute)
			default:
				o.Abandoned = true
			}
			outs = append(outs, o)
		}
		if err := db.RecordLogoutOutcomes(ctx, "w3", outs); err != nil {
			t.Fatal(err)
		}
		st := statuses()
		if want := []string{"delivered", "queued", "abandoned", "abandoned", "abandoned"}; !slices.Equal(st, want) {
			t.Fatalf("statuses %v, want %v", st, want)
		}
		// The retry is due at its time, not before.
		if ls, _ := db.ClaimLogouts(ctx, at.Add(4*time.Minute), time.Minute, 10, "w4"); len(ls) != 0 {
			t.Fatalf("a retry claimed early: %d", len(ls))
		}
		if ls, _ := db.ClaimLogouts(ctx, at.Add(5*time.Minute), time.Minute, 10, "w4"); len(ls) != 1 || ls[0].ID != taken[1].ID || ls[0].Attempts != 3 {
			t.Fatalf("the retry: %+v", ls)
		}
	})
}
