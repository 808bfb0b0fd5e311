package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// storeOps are the ways the service reaches the database: a read on the
// reader pool, a transaction on the writer, a batch (one round trip on
// PostgreSQL, through the driver's own connection) and the readiness ping.
var storeOps = []struct {
	name string
	run  func(ctx context.Context, db *store.DB) error
}{
	{"read", func(ctx context.Context, db *store.DB) error {
		_, err := db.UserByID(ctx, equipe.NewID())
		if equipe.ErrorCode(err) == equipe.ENOTFOUND {
			return nil
		}
		return err
	}},
	{"write", func(ctx context.Context, db *store.DB) error {
		return db.Write(ctx, func(tx *store.Tx) error {
			return tx.DeleteThrottle(ctx, "outage:"+equipe.NewID().String())
		})
	}},
	{"batch", func(ctx context.Context, db *store.DB) error {
		b := db.NewBatch()
		b.DeleteThrottle(ctx, "outage:"+equipe.NewID().String())
		return db.RunBatch(ctx, b)
	}},
	{"ping", func(ctx context.Context, db *store.DB) error { return db.Ping(ctx) }},
}

// assertUnavailable fails the test unless err says the store cannot be
// reached: EUNAVAILABLE "service.unavailable", never an internal error.
func assertUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	e := equipe.AsError(err)
	if err == nil || e.Code != equipe.EUNAVAILABLE || e.Key != "service.unavailable" {
		t.Errorf("%s: %v (code %q, key %q), want unavailable service.unavailable", what, err, e.Code, e.Key)
	}
}

func TestStore_AClosedSQLiteDatabaseIsUnavailable(t *testing.T) {
	// A closed database is what requests still running meet when the
	// process closes it at shutdown; a file-backed SQLite has no network to
	// cut.
	db := storetest.Open(t, store.SQLite)
	for _, op := range storeOps {
		if err := op.run(ctx, db); err != nil {
			t.Fatalf("%s before closing: %v", op.name, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, op := range storeOps {
		assertUnavailable(t, op.name, op.run(ctx, db))
	}
}

func TestStore_AnUnreachablePostgreSQLIsUnavailableUntilItIsBack(t *testing.T) {
	cfg := storetest.Config(t, store.Postgres)
	proxy := storetest.NewProxy(t, cfg.URL)
	cfg.URL = proxy.URL(cfg.URL)
	db, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// Several rounds, so that the pool holds connections both fresh (the
	// driver reuses them without a check) and idle (it pings them first).
	warm := func() {
		for range 3 {
			for _, op := range storeOps {
				if err := op.run(ctx, db); err != nil {
					t.Fatalf("%s: %v", op.name, err)
				}
			}
		}
	}
	warm()
	proxy.Cut()
	for round := range 3 {
		for _, op := range storeOps {
			assertUnavailable(t, fmt.Sprintf("%s, round %d", op.name, round), op.run(ctx, db))
		}
	}
	proxy.Restore(t)
	deadline := time.Now().Add(10 * time.Second)
	for db.Ping(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the database is still unreachable 10 s after the proxy was restored")
		}
		time.Sleep(20 * time.Millisecond)
	}
	warm()
}
