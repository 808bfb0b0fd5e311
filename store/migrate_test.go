package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// TestMigrate_ConcurrentMigratorsOnAFreshDatabaseBehaveAsOne starts five
// migrations at once on an empty database, each through a handle of its
// own (as five processes would), and checks that all succeed, that one of
// them applies every migration and the others find nothing to do.
func TestMigrate_ConcurrentMigratorsOnAFreshDatabaseBehaveAsOne(t *testing.T) {
	const migrators, rounds = 5, 5
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			ms, err := store.Migrations(engine)
			if err != nil {
				t.Fatal(err)
			}
			for round := range rounds {
				cfg := storetest.Config(t, engine)
				handles := make([]*store.DB, migrators)
				for i := range handles {
					db, err := store.Open(ctx, cfg)
					if err != nil {
						t.Fatalf("round %d: open: %v", round, err)
					}
					t.Cleanup(func() { db.Close() })
					handles[i] = db
				}
				applied := make([][]int, migrators)
				errs := make([]error, migrators)
				var wg sync.WaitGroup
				for i, db := range handles {
					wg.Go(func() { applied[i], errs[i] = db.Migrate(context.Background()) })
				}
				wg.Wait()

				total := 0
				for i := range handles {
					if errs[i] != nil {
						t.Errorf("round %d: migrator %d: %v", round, i, errs[i])
					}
					if n := len(applied[i]); n != 0 && n != len(ms) {
						t.Errorf("round %d: migrator %d applied %v: the migrations were split between migrators", round, i, applied[i])
					}
					total += len(applied[i])
				}
				if total != len(ms) {
					t.Errorf("round %d: %d migrations applied in all, want each of the %d once", round, total, len(ms))
				}
				storetest.AssertMigratedOnce(t, cfg)
			}
		})
	}
}

// TestSchemaVersion_ReadsAnEmptyDatabaseWithoutWritingToIt checks that
// asking for the version creates nothing: only Migrate, under its lock,
// creates the migrations table.
func TestSchemaVersion_ReadsAnEmptyDatabaseWithoutWritingToIt(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			cfg := storetest.Config(t, engine)
			db, err := store.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			v, err := db.SchemaVersion(ctx)
			if err != nil || v != 0 {
				t.Fatalf("SchemaVersion = %d, %v; want 0, nil", v, err)
			}
			if tables := storetest.Tables(t, storetest.Raw(t, cfg)); len(tables) != 0 {
				t.Errorf("SchemaVersion created %v", tables)
			}
		})
	}
}
