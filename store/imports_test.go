package store_test

import (
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// TestImport_UnfinishedHasNoFinishTime: finished_at is stored as 0 until
// the last row is done; it reads as the zero time (null in the API), not
// as the Unix epoch.
func TestImport_UnfinishedHasNoFinishTime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := &equipe.Account{ID: equipe.NewID(), Name: "A", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0}
		m := &store.MemberImport{ID: equipe.NewID(), AccountID: a.ID, Actor: `{}`, Status: "planned", Total: 2, CreatedAt: t0}
		rows := []store.ImportRow{{Line: 2, Data: `{}`}, {Line: 3, Data: `{}`}}
		write(t, db, func(tx *store.Tx) error {
			if err := tx.CreateAccount(ctx, a); err != nil {
				return err
			}
			if err := tx.CreateImport(ctx, m, rows); err != nil {
				return err
			}
			return tx.StartImport(ctx, a.ID, m.ID)
		})
		read := func(want string) store.MemberImport {
			t.Helper()
			got, err := db.Import(ctx, a.ID, m.ID)
			if err != nil || got.Status != want {
				t.Fatalf("import: %+v %v, want %s", got, err, want)
			}
			return got
		}
		if got := read("running"); !got.FinishedAt.IsZero() {
			t.Fatalf("a running import finished at %v", got.FinishedAt)
		}
		write(t, db, func(tx *store.Tx) error {
			return tx.RecordImportRows(ctx, m.ID, []store.ImportRow{{Line: 2, Outcome: "added"}}, false, t0)
		})
		if got := read("running"); !got.FinishedAt.IsZero() || got.Processed != 1 {
			t.Fatalf("an import half done: processed %d, finished at %v", got.Processed, got.FinishedAt)
		}
		write(t, db, func(tx *store.Tx) error {
			return tx.RecordImportRows(ctx, m.ID, []store.ImportRow{{Line: 3, Outcome: "added"}}, true, t0)
		})
		if got := read("done"); !got.FinishedAt.Equal(t0) {
			t.Fatalf("a done import finished at %v, want %v", got.FinishedAt, t0)
		}
	})
}
