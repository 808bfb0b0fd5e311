package store

import (
	"context"
	"database/sql"
	"runtime"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"modernc.org/libc"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// freshSQLite opens a fresh SQLite database in a directory of the test's,
// closed when the test ends.
func freshSQLite(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestSQLite_DurabilitySettingsHoldOnEveryConnection(t *testing.T) {
	db := freshSQLite(t)
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
	if got := readerPageCacheKiB(16) * 16; got != ReaderPageCacheKiB {
		t.Errorf("16 readers hold %d KiB of pages, want %d", got, ReaderPageCacheKiB)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// Foreign keys are enforced: a member of no account is refused.
	err := db.Write(ctx, func(tx *Tx) error {
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

// TestSQLite_PageCachesStayWithinTheirPool reads far more pages than the
// connections may cache on every connection at once, then adds up what
// their page caches hold (sqlite3_db_status): in modernc's build the
// caches form one pool as large as the connections' cache_size add up to,
// so a connection left at SQLite's default would let the others grow. The
// pages come from the slots the store set up for them (sqlite3_status),
// not each from a block of its own twice its size (see setUpPageCache).
func TestSQLite_PageCachesStayWithinTheirPool(t *testing.T) {
	db := freshSQLite(t)
	ctx := context.Background()
	// The slots are cut for pages of the size the store's databases have.
	var pageSize int
	if err := db.w.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil || pageSize != sqlitePageSize {
		t.Fatalf("page_size is %d (%v), want %d", pageSize, err, sqlitePageSize)
	}
	// 12 MiB of rows, four times the pool.
	if _, err := db.w.ExecContext(ctx, `CREATE TABLE scratch (k INTEGER PRIMARY KEY, v BLOB)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.ExecContext(ctx, `WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 3000)
		INSERT INTO scratch (k, v) SELECT k, randomblob(4000) FROM n`); err != nil {
		t.Fatal(err)
	}
	readers := max(8, 4*runtime.GOMAXPROCS(0))
	var conns []*sql.Conn
	for range readers {
		c, err := db.r.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	w, err := db.w.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	conns = append(conns, w)
	// Twice over, so that every connection reads after the others filled
	// the pool.
	for range 2 {
		for _, c := range conns {
			var n int64
			if err := c.QueryRowContext(ctx, `SELECT sum(length(v)) FROM scratch`).Scan(&n); err != nil || n != 3000*4000 {
				t.Fatalf("read %d bytes (%v)", n, err)
			}
		}
	}
	var held, most int
	for _, c := range conns {
		err := c.Raw(func(dc any) error {
			s, ok := dc.(sqlite.DBStatus)
			if !ok {
				t.Fatalf("the driver's connection %T does not report its status", dc)
			}
			cur, _, err := s.Status(sqlite.DBStatusCacheUsed, false)
			held += cur
			most = max(most, cur)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Each connection also counts its pager and one page buffer, some
	// 8 KiB, beside its cached pages.
	pool := (ReaderPageCacheKiB + WriterPageCacheKiB) << 10
	if limit := pool*11/10 + len(conns)*(8<<10); held > limit {
		t.Errorf("the page caches of %d connections hold %d KiB, more than the pool of %d KiB", len(conns), held>>10, pool>>10)
	}
	// The pool was filled: the bound above was reached, not missed.
	if held < pool/2 {
		t.Errorf("the page caches hold %d KiB after reading 12 MiB, want at least half the pool of %d KiB", held>>10, pool>>10)
	}
	// The pages are in the slots: the slots in use hold at least half the
	// pool, and next to nothing was allocated on its own (a few pages may
	// be, if the first database this process opened had fewer readers and
	// so fewer slots for their buffers).
	used, overflow := pageCacheStatus()
	if pageCacheSlots == 0 || used < int64(pool/2/pageSize) {
		t.Errorf("%d of %d page cache slots in use after filling the pool, want at least %d", used, pageCacheSlots, pool/2/pageSize)
	}
	if overflow > int64(pool/32) {
		t.Errorf("%d KiB of pages found no slot among %d (%d in use)", overflow>>10, pageCacheSlots, used)
	}
	t.Logf("%d connections hold %d KiB of pages (the most, one connection: %d KiB); %d of %d slots in use, %d bytes beside them",
		len(conns), held>>10, most>>10, used, pageCacheSlots, overflow)
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
	db := freshSQLite(t)
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

// pageCacheStatus returns how many of the page cache's slots are in use and
// how many bytes of pages found no free slot and were allocated on their
// own (sqlite3_status, for the whole process).
func pageCacheStatus() (used, overflow int64) {
	tls := libc.NewTLS()
	defer tls.Close()
	p := libc.Xmalloc(tls, 16)
	if p == 0 {
		return -1, -1
	}
	defer libc.Xfree(tls, p)
	cur, hi := p, p+8
	if sqlite3.Xsqlite3_status64(tls, sqlite3.SQLITE_STATUS_PAGECACHE_USED, cur, hi, 0) == sqlite3.SQLITE_OK {
		used = libc.AtomicLoadPInt64(cur)
	}
	if sqlite3.Xsqlite3_status64(tls, sqlite3.SQLITE_STATUS_PAGECACHE_OVERFLOW, cur, hi, 0) == sqlite3.SQLITE_OK {
		overflow = libc.AtomicLoadPInt64(cur)
	}
	return used, overflow
}
