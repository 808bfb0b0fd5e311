package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/internal/testenv"
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
	// The pool drops its broken connections as it meets them.
	testenv.Await(t, 10*time.Second, testenv.Every(20*time.Millisecond), "the database reachable once the proxy was restored",
		func() bool { return db.Ping(ctx) == nil })
	warm()
}

func TestListen_ForgetsEverythingWhenItsConnectionStopsAnswering(t *testing.T) {
	cfg := storetest.Config(t, store.Postgres)
	proxy := storetest.NewProxy(t, cfg.URL)
	direct := storetest.Raw(t, cfg) // another process, sending changes
	via := cfg
	via.URL = proxy.URL(cfg.URL)
	db, err := store.Open(ctx, via)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A quiet spell of 20 ms, so that the listener pings between every two
	// changes below.
	db.SetListenTimesForTest(20*time.Millisecond, 200*time.Millisecond, time.Second)
	heard := make(chan string, 1000)
	db.OnChange(func(keys []string) {
		for _, k := range keys {
			heard <- k
		}
	})
	lctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { db.Listen(lctx); close(done) }()
	defer func() { stop(); <-done }()
	// await returns once the listener heard key, failing the test if it
	// forgot everything first. Other keys are other tests' changes: the
	// channel is the database's, whatever the schema.
	await := func(what, key string) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case k := <-heard:
				if k == key {
					return
				}
				if k == store.AllKey() {
					t.Fatalf("%s: the listener forgot everything, want %q", what, key)
				}
			case <-deadline:
				t.Fatalf("%s: %q not heard within 10 s", what, key)
			}
		}
	}
	send := func(key string) {
		t.Helper()
		if _, err := direct.Exec("SELECT pg_notify('equipe_access', $1)", key); err != nil {
			t.Fatal(err)
		}
	}
	await("listening", store.AllKey())
	// Pings on a connection that answers change nothing: every change is
	// heard, and nothing is forgotten.
	for range 20 {
		key := store.KeyKey(equipe.NewID())
		send(key)
		await("a change", key)
	}
	proxy.Freeze()
	await("the connection stopped answering", store.AllKey())
	proxy.Thaw()
	// Listening again, the listener forgets once more what it may have
	// missed meanwhile, then hears changes again: a change is sent every
	// 100 ms until one of them is heard. Any of them will do: the changes
	// sent before it listened again are lost, and what it forgets arrives
	// among the others, so the last one sent may be heard after the next
	// is sent.
	sent := map[string]bool{}
	var others int
	deadline := time.Now().Add(10 * time.Second)
	for {
		key := store.KeyKey(equipe.NewID())
		sent[key] = true
		send(key)
		wait := time.After(100 * time.Millisecond)
	drain:
		for {
			select {
			case k := <-heard:
				if sent[k] {
					return
				}
				others++
			case <-wait:
				break drain
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("none of the %d changes sent heard within 10 s of the connection answering again (%d other keys heard)", len(sent), others)
		}
	}
}
