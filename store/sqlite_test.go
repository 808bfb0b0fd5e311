package store

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
)

func TestSQLite_DurabilitySettingsHoldOnEveryConnection(t *testing.T) {
	db, err := Open(context.Background(), Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	// Several readers at once, so that more than one connection is checked.
	for _, p := range []querier{db.w, db.r, db.r, db.r} {
		var mode string
		var sync, fk int
		p.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode)
		p.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync)
		p.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk)
		if mode != "wal" || sync != 2 || fk != 1 {
			t.Fatalf("journal_mode=%s synchronous=%d foreign_keys=%d", mode, sync, fk)
		}
	}
	// The readers' page caches share ReaderPageCacheKiB.
	for range 3 {
		var kib int
		db.r.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&kib)
		if want := -readerPageCacheKiB(max(8, 4*runtime.GOMAXPROCS(0))); kib != want {
			t.Fatalf("a reader's cache_size is %d, want %d (KiB)", kib, want)
		}
	}
	if got := readerPageCacheKiB(32) * 32; got != ReaderPageCacheKiB {
		t.Errorf("32 readers hold %d KiB of pages, want %d", got, ReaderPageCacheKiB)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// Foreign keys are enforced: a member of no account is refused.
	err = db.Write(ctx, func(tx *Tx) error {
		return tx.CreateMember(ctx, &equipe.Member{AccountID: equipe.NewID(), UserID: equipe.NewID(), Role: "admin",
			Status: equipe.MemberActive, CreatedAt: time.Now()})
	})
	if err == nil {
		t.Fatal("a member of a missing account was written")
	}
	// The readers cannot write.
	if _, err := db.r.ExecContext(ctx, "DELETE FROM users"); err == nil {
		t.Fatal("a reader connection wrote")
	}
}

func TestFilesystemKind_RefusesNetworkFilesystems(t *testing.T) {
	for magic, network := range map[uint32]bool{0x6969: true, 0xFF534D42: true, 0xFE534D42: true, 0x517B: true,
		0xEF53: false, 0x58465342: false, 0x01021994: false} {
		if _, got := filesystemKind(magic); got != network {
			t.Errorf("magic %#x: network %v, want %v", magic, got, network)
		}
	}
}

// TestSQLite_RelaxedBatchCommitsWithoutFlushAndOnlyItself checks that a
// relaxed batch runs with synchronous NORMAL (its commit does not wait for
// the disk) and that the writer is back to FULL for every other
// transaction, after a relaxed batch that commits and after one that fails;
// and that a batch recording events is relaxed too when asked (its events
// wait unnumbered, see pendingEvents) and waits for the disk otherwise.
func TestSQLite_RelaxedBatchCommitsWithoutFlushAndOnlyItself(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	syncIn := func(relaxed, fail bool, events ...equipe.ID) int {
		t.Helper()
		var sync int
		b := db.NewBatch()
		if relaxed {
			b.Relaxed()
		}
		b.q.events = events
		b.q.items = append(b.q.items, batchItem{query: "PRAGMA synchronous", dest: []any{&sync}})
		if fail {
			b.q.items = append(b.q.items, batchItem{query: "UPDATE users SET email = email WHERE 1 = 0", one: true})
		}
		err := db.RunBatch(ctx, b)
		if fail != (err != nil) {
			t.Fatalf("relaxed=%v fail=%v: %v", relaxed, fail, err)
		}
		return sync
	}
	writerSync := func() int {
		t.Helper()
		var sync int
		if err := db.Write(ctx, func(tx *Tx) error {
			return tx.tx.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync)
		}); err != nil {
			t.Fatal(err)
		}
		return sync
	}
	const normal, full = 1, 2
	if got := syncIn(true, false); got != normal {
		t.Fatalf("relaxed batch ran with synchronous=%d, want NORMAL (1)", got)
	}
	if got := writerSync(); got != full {
		t.Fatalf("after a relaxed batch, a transaction ran with synchronous=%d, want FULL (2)", got)
	}
	if got := syncIn(false, false); got != full {
		t.Fatalf("ordinary batch ran with synchronous=%d, want FULL (2)", got)
	}
	syncIn(true, true)
	if got := syncIn(true, false, equipe.NewID()); got != normal {
		t.Fatalf("relaxed batch recording an event ran with synchronous=%d, want NORMAL (1)", got)
	}
	if got := syncIn(false, false, equipe.NewID()); got != full {
		t.Fatalf("ordinary batch recording an event ran with synchronous=%d, want FULL (2)", got)
	}
	if got := writerSync(); got != full {
		t.Fatalf("after a failed relaxed batch, a transaction ran with synchronous=%d, want FULL (2)", got)
	}
}
