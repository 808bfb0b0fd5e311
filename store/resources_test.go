package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

func TestResources_NamedOncePerTypeArchivedAndRestoredWithTheirAssignments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		account := equipe.NewID()
		nord := equipe.Resource{ID: equipe.NewID(), AccountID: account, Type: "location", Name: "Établissement Nord", CreatedAt: t0}
		u := &equipe.User{ID: equipe.NewID(), Email: "ana@example.com", EmailKey: "ana@example.com", FirstName: "Ana",
			LastName: "Ávila", Locale: "fr", CreatedAt: t0}
		write(t, db, func(tx *store.Tx) error {
			if err := tx.CreateAccount(ctx, &equipe.Account{ID: account, Name: "A", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0}); err != nil {
				return err
			}
			if err := tx.CreateResource(ctx, &nord); err != nil {
				return err
			}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			if err := tx.CreateMember(ctx, &equipe.Member{AccountID: account, UserID: u.ID, Role: "guest", Status: equipe.MemberActive,
				JoinedAt: t0, CreatedAt: t0}); err != nil {
				return err
			}
			return tx.AssignResource(ctx, account, u.ID, nord.ID)
		})

		// The same name, case and accents aside, in the same type: refused
		// by the database itself; in another type: free.
		err := db.Write(ctx, func(tx *store.Tx) error {
			return tx.CreateResource(ctx, &equipe.Resource{ID: equipe.NewID(), AccountID: account, Type: "location",
				Name: "etablissement  NORD", CreatedAt: t0})
		})
		if e := equipe.AsError(err); e.Code != equipe.ECONFLICT || e.Key != "resource.name_taken" {
			t.Errorf("a name taken: %v", err)
		}
		write(t, db, func(tx *store.Tx) error {
			return tx.CreateResource(ctx, &equipe.Resource{ID: equipe.NewID(), AccountID: account, Type: "service",
				Name: "Établissement Nord", CreatedAt: t0})
		})

		// Renamed, then archived: the assignment stays, and the account's
		// change key is heard.
		var heard []string
		db.OnChange(func(keys []string) { heard = append(heard, keys...) })
		nord.Name, nord.ExternalID = "Nord", "ext-1"
		at := t0.Add(time.Hour)
		write(t, db, func(tx *store.Tx) error {
			if err := tx.UpdateResource(ctx, &nord); err != nil {
				return err
			}
			return tx.SetResourceArchived(ctx, account, nord.ID, at)
		})
		if !slices.Contains(heard, store.AccountKey(account)) {
			t.Errorf("archiving named %v", heard)
		}
		got, err := db.Resource(ctx, account, nord.ID)
		if err != nil || got.Name != "Nord" || got.ExternalID != "ext-1" || !got.ArchivedAt.Equal(at) {
			t.Errorf("archived resource: %+v, %v", got, err)
		}
		active, archived, err := db.ResourceIDs(ctx, account)
		if err != nil || len(active) != 1 || !slices.Equal(archived, []equipe.ID{nord.ID}) {
			t.Errorf("in use %v, archived %v, %v", active, archived, err)
		}
		ms, err := db.ResourceMembers(ctx, account, &nord.ID)
		if err != nil || len(ms) != 1 || ms[0].UserID != u.ID || ms[0].LastName != "Ávila" {
			t.Errorf("assigned: %+v, %v", ms, err)
		}

		write(t, db, func(tx *store.Tx) error { return tx.SetResourceArchived(ctx, account, nord.ID, time.Time{}) })
		if got, _ := db.Resource(ctx, account, nord.ID); got.Archived() {
			t.Errorf("restored resource: %+v", got)
		}
		// Another account's resource is not found from this one.
		if _, err := db.Resource(ctx, equipe.NewID(), nord.ID); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Errorf("from another account: %v", err)
		}
		err = db.Write(ctx, func(tx *store.Tx) error { return tx.SetResourceArchived(ctx, equipe.NewID(), nord.ID, at) })
		if equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Errorf("archived from another account: %v", err)
		}
	})
}
