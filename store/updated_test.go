package store_test

import (
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// A member's UpdatedAt (what a directory sees of them last changed) is
// written with the member, moves with the writes that change what they
// show — their role, whether suspended, their title, external ID, the
// names shown and the login email — and never moves back; the holders of a
// role are noted changed whenever a member takes it, leaves it or goes.
func TestMembers_UpdatedAtFollowsWhatADirectorySees(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
		account, joined, pending := equipe.NewID(), equipe.NewID(), equipe.NewID()
		write(t, db, func(tx *store.Tx) error {
			if err := tx.CreateAccount(ctx, &equipe.Account{ID: account, Name: "A", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0}); err != nil {
				return err
			}
			for _, u := range []equipe.ID{joined, pending} {
				if err := tx.CreateUser(ctx, &equipe.User{ID: u, Email: u.String() + "@example.com", EmailKey: u.String() + "@example.com",
					FirstName: "Ada", LastName: "Lovelace", Locale: "fr", CreatedAt: t0}); err != nil {
					return err
				}
			}
			if err := tx.CreateMember(ctx, &equipe.Member{AccountID: account, UserID: joined, Role: "admin",
				Status: equipe.MemberActive, JoinedAt: t0, CreatedAt: t0}); err != nil {
				return err
			}
			return tx.CreateMember(ctx, &equipe.Member{AccountID: account, UserID: pending, Role: "guest",
				Status: equipe.MemberInvited, FirstName: "Ada", LastName: "Lovelace", CreatedAt: t0})
		})
		updated := func(user equipe.ID) time.Time {
			t.Helper()
			m, err := db.Member(ctx, account, user)
			if err != nil {
				t.Fatal(err)
			}
			return m.UpdatedAt
		}
		expect := func(what string, user equipe.ID, want time.Time) {
			t.Helper()
			if got := updated(user); !got.Equal(want) {
				t.Errorf("%s: updated at %v, want %v", what, got, want)
			}
		}
		held := func(what, role string, want time.Time) {
			t.Helper()
			got, err := db.RolesMembersChanged(ctx, account)
			if err != nil {
				t.Fatal(err)
			}
			if !got[role].Equal(want) {
				t.Errorf("%s: holders of %s changed at %v, want %v", what, role, got[role], want)
			}
		}
		expect("created", joined, t0)
		held("created", "admin", t0)
		held("created", "guest", t0)

		// A change a directory sees.
		write(t, db, func(tx *store.Tx) error {
			m, err := tx.Member(ctx, account, joined)
			if err != nil {
				return err
			}
			before := m
			m.Title = "Analyst"
			m.Touch(before, at(1))
			return tx.UpdateMember(ctx, &m)
		})
		expect("title", joined, at(1))
		held("title", "admin", t0)
		// One it does not (a notification address), or an earlier time: kept.
		write(t, db, func(tx *store.Tx) error {
			m, err := tx.Member(ctx, account, joined)
			if err != nil {
				return err
			}
			before := m
			m.NotificationEmail = "other@example.com"
			m.Touch(before, at(2))
			if err := tx.UpdateMember(ctx, &m); err != nil {
				return err
			}
			m.Title, m.UpdatedAt = "Engineer", t0
			return tx.UpdateMember(ctx, &m)
		})
		expect("unseen change and earlier time", joined, at(1))

		// The identity's names: shown by the joined membership only.
		write(t, db, func(tx *store.Tx) error { return tx.SetUserNames(ctx, joined, "Ada", "Lovelace", at(3)) })
		expect("same names", joined, at(1))
		write(t, db, func(tx *store.Tx) error { return tx.SetUserNames(ctx, joined, "Ada", "King", at(3)) })
		expect("names", joined, at(3))
		write(t, db, func(tx *store.Tx) error {
			return tx.SetProfile(ctx, &equipe.User{ID: pending, FirstName: "Augusta", LastName: "King", Locale: "fr"}, at(4))
		})
		expect("names of someone not joined", pending, t0)
		write(t, db, func(tx *store.Tx) error {
			return tx.SetProfile(ctx, &equipe.User{ID: joined, FirstName: "Augusta", LastName: "King", Locale: "en"}, at(4))
		})
		expect("profile", joined, at(4))
		// The login email: every membership shows it.
		write(t, db, func(tx *store.Tx) error {
			return tx.SetEmail(ctx, pending, "ada@example.com", "ada@example.com", at(5))
		})
		expect("email", pending, at(5))
		// Joining shows the identity's names instead of those added under.
		write(t, db, func(tx *store.Tx) error { return tx.JoinMember(ctx, account, pending, at(6)) })
		expect("joined under other names", pending, at(6))

		// Holders: a role given to all, then a member removed.
		write(t, db, func(tx *store.Tx) error {
			_, err := tx.ReplaceRole(ctx, account, "guest", "manager", at(7))
			return err
		})
		expect("role replaced", pending, at(7))
		held("role replaced", "guest", at(7))
		held("role replaced", "manager", at(7))
		before := time.Now().Add(-time.Second)
		write(t, db, func(tx *store.Tx) error { return tx.DeleteMember(ctx, account, pending) })
		got, err := db.RolesMembersChanged(ctx, account)
		if err != nil {
			t.Fatal(err)
		}
		if got["manager"].Before(before) {
			t.Errorf("removal: holders of manager changed at %v, want %v or later", got["manager"], before)
		}
	})
}
