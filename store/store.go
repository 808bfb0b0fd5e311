package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/equipe-dev/equipe"
)

// Engine names a database engine.
type Engine string

// Supported engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Config says which database to open.
type Config struct {
	// URL selects the engine: empty for SQLite in DataDir, postgres:// or
	// postgresql:// for PostgreSQL.
	URL string
	// DataDir holds the SQLite file equipe.db. It is created if missing.
	DataDir string
	// MaxConns bounds the PostgreSQL pool and the SQLite reader pool
	// (default: 4 per CPU, at least 8).
	MaxConns int
	Logger   *slog.Logger
	// Beside: the process is a command that runs beside the service on the
	// same database (an import, clients, an administrator made). On SQLite
	// its changes are written down for the service to hear (see Listen);
	// PostgreSQL tells every process of every change.
	Beside bool
}

// DB is an open database. Its read methods (those of Queries) use a pool of
// readers; Write runs a transaction on the writer.
type DB struct {
	Queries
	engine Engine
	w      *sql.DB // the writer: on SQLite a single connection, so writers queue in Go instead of failing busy
	r      *sql.DB // the readers: on PostgreSQL the same pool as w
	path   string  // the SQLite file
	url    string  // the PostgreSQL URL
	log    *slog.Logger
	// On SQLite, prepared statements of the writer and of the readers.
	wcache, rcache *stmtCache

	hooksMu sync.RWMutex
	hooks   []func(keys []string)
	// subs knows which accounts' endpoints subscribe to which event types
	// (SQLite; see RecordAudit); queuedHooks hear that a committed unit
	// queued webhook deliveries.
	subs        *subscriptions
	queuedHooks []func()
	// listenTimes are Listen's delays.
	listenTimes listenTimes
	// noticesFrom, when set, hears the number of the notice after which
	// the SQLite listener reads (a test's wait for it to begin).
	noticesFrom func(int64)
	// beside: Config.Beside, on SQLite.
	beside bool
	// numbered, when set, runs once a transaction's events are numbered,
	// just before it commits (tests hold a transaction there).
	numbered func()
	// commits counts the write transactions committed (see Commits), and
	// relaxedCommits those of them that did not wait for the disk.
	commits, relaxedCommits atomic.Uint64
	// detachedBatches counts the batches RunBatchDetached started.
	detachedBatches atomic.Uint64
	// pending knows of events that relaxed batches left unnumbered.
	pending pendingEvents
	// detached counts the batches RunBatchDetached runs: Close waits for
	// them.
	detached     running
	detachedHold <-chan struct{}
	// group coalesces durable batches run at the same time (see RunBatch).
	group batchGroup
	// reads counts the statements run outside transactions (see Reads).
	reads atomic.Uint64
	// refused counts the batches that took no effect (see RefusedBatches).
	refused atomic.Uint64
}

// Reads returns how many statements this DB ran on its own, outside any
// transaction, since it was opened: what a read costs in round trips to
// the database, for measurements and for tests that hold a path to it.
func (db *DB) Reads() uint64 { return db.reads.Load() }

// countedReads counts the statements q runs.
type countedReads struct {
	q     querier
	reads *atomic.Uint64
}

func (c countedReads) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	c.reads.Add(1)
	return c.q.ExecContext(ctx, query, args...)
}

func (c countedReads) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	c.reads.Add(1)
	return c.q.QueryContext(ctx, query, args...)
}

func (c countedReads) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	c.reads.Add(1)
	return c.q.QueryRowContext(ctx, query, args...)
}

// Commits returns how many write transactions (Write and RunBatch) this DB
// committed since it was opened: what a use case costs in commits, for
// measurements and for tests that hold a path to its count.
func (db *DB) Commits() uint64 { return db.commits.Load() }

// DetachedBatches returns how many batches RunBatchDetached started: their
// commits are among Commits, but no caller waited for them.
func (db *DB) DetachedBatches() uint64 { return db.detachedBatches.Load() }

// RefusedBatches returns how many batches took no effect because one of
// their statements that must change a row changed none (RunBatch answered
// ENOTFOUND): each cost its round trip all the same.
func (db *DB) RefusedBatches() uint64 { return db.refused.Load() }

// RelaxedCommits returns how many of the Commits did not wait for the disk
// (relaxed batches, see Batch.Relaxed).
func (db *DB) RelaxedCommits() uint64 { return db.relaxedCommits.Load() }

// Open opens the database that cfg names, checks the engine's settings and
// returns it. It does not migrate: call Migrate.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	conns := cfg.MaxConns
	if conns <= 0 {
		conns = max(8, 4*runtime.GOMAXPROCS(0))
	}
	switch {
	case cfg.URL == "":
		return openSQLite(ctx, cfg, conns)
	case strings.HasPrefix(cfg.URL, "postgres://"), strings.HasPrefix(cfg.URL, "postgresql://"):
		return openPostgres(ctx, cfg, conns)
	}
	return nil, fmt.Errorf("database URL must start with postgres:// or postgresql:// (or be empty for SQLite)")
}

func openSQLite(ctx context.Context, cfg Config, conns int) (*DB, error) {
	dir := cfg.DataDir
	if dir == "" {
		dir = "equipe-data"
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if fs, bad := networkFilesystem(dir); bad {
		// SQLite's locking and WAL need a local filesystem; on NFS or SMB
		// they corrupt the database under concurrent access.
		return nil, fmt.Errorf("data directory %s is on a network filesystem (%s); SQLite needs a local disk: use PostgreSQL instead", dir, fs)
	}
	path := filepath.Join(dir, "equipe.db")
	if err := createDatabaseFile(path); err != nil {
		return nil, err
	}
	if err := checkWritable(path); err != nil {
		return nil, err
	}
	setUpPageCache(conns, cfg.Logger)
	// The busy timeout comes first: the pragmas run in order, and switching a
	// fresh file to WAL waits for the lock another process holds while it
	// migrates, rather than failing at once with SQLITE_BUSY.
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)"
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + pragmas
	// BEGIN IMMEDIATE takes the write lock at the start of a transaction, so a
	// transaction that reads then writes cannot fail half-way with SQLITE_BUSY.
	w, err := sql.Open("sqlite", dsn+"&_txlock=immediate"+fmt.Sprintf("&_pragma=cache_size(%d)", -WriterPageCacheKiB))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)"+fmt.Sprintf("&_pragma=cache_size(%d)", -readerPageCacheKiB(conns)))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(conns)
	r.SetMaxIdleConns(conns)
	r.SetConnMaxIdleTime(0)
	db := &DB{engine: SQLite, w: w, r: r, path: path, log: cfg.Logger, beside: cfg.Beside, wcache: newStmtCache(w), rcache: newStmtCache(r),
		listenTimes: listenTimes{poll: noticesPoll},
		subs:        newSubscriptions()}
	db.OnChange(db.subs.heard)
	db.Queries = Queries{q: countedReads{cachedDB{r, db.rcache}, &db.reads}, d: dialects[SQLite]}
	// A connection's first statement may find the file busy without the
	// busy timeout being consulted: while the last process to close it
	// checkpoints and removes its write-ahead log, or runs its recovery.
	// That lasts a moment: try again, within the busy timeout.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := db.checkSQLite(ctx)
		if err == nil {
			return db, nil
		}
		if !retryable(err) || time.Now().After(deadline) {
			db.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			db.Close()
			return nil, err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ReaderPageCacheKiB is the memory, in KiB, that the page caches of the
// SQLite readers share: each connection keeps its own cache of the pages it
// read, by default 2 MiB, so a pool of 64 readers (16 CPUs) could hold
// 128 MiB of copies of the same pages. The pages also stay in the
// operating system's file cache, so a page a reader no longer holds costs a
// read from memory, not from the disk. 2 MiB rather than 16: on 2 CPUs (8
// readers of 256 KiB) the process held 23 MiB less at 4 MiB after checks
// over 1,000,000 members, at the same rate of checks, and some 6 MiB less
// again at 2 MiB with the writer's cache bounded (docs/performance.md, "A
// million members").
const ReaderPageCacheKiB = 2 << 10

// WriterPageCacheKiB is the page cache of the SQLite writer, in KiB. It is
// set rather than left at SQLite's default of 2 MiB because the caches of
// all the connections form one pool in modernc's build of SQLite (built
// with SQLITE_ENABLE_MEMORY_MANAGEMENT, so pcache1 keeps one group of
// pages for the process): that pool holds as many pages as the connections'
// cache_size add up to, and a reader may fill what the writer does not use.
// With the writer at its default, the readers held 6 MiB of pages, not
// their 4, and each 4 KiB page takes an 8 KiB block of modernc's allocator.
// A write transaction larger than this spills its pages to the write-ahead
// log before it commits, which changes nothing in what it writes.
const WriterPageCacheKiB = 1 << 10

// minPageCacheKiB is the least page cache a reader keeps: the pages of the
// indexes a check and a members page walk.
const minPageCacheKiB = 128

// readerPageCacheKiB is the page cache of each of conns readers (PRAGMA
// cache_size, in KiB).
func readerPageCacheKiB(conns int) int {
	return max(ReaderPageCacheKiB/max(conns, 1), minPageCacheKiB)
}

// checkSQLite asserts the settings durability depends on, on both pools.
func (db *DB) checkSQLite(ctx context.Context) error {
	for _, p := range []*sql.DB{db.w, db.r} {
		var mode string
		var sync, fk int
		if err := p.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			return fmt.Errorf("open %s: %w", db.path, err)
		}
		if err := p.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
			return fmt.Errorf("open %s: %w", db.path, err)
		}
		if err := p.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
			return fmt.Errorf("open %s: %w", db.path, err)
		}
		if mode != "wal" || sync != 2 || fk != 1 {
			return fmt.Errorf("sqlite %s: journal_mode=%s synchronous=%d foreign_keys=%d, want wal, 2 (FULL) and 1", db.path, mode, sync, fk)
		}
	}
	return nil
}

func openPostgres(ctx context.Context, cfg Config, conns int) (*DB, error) {
	p, err := sql.Open("pgx", cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	p.SetMaxOpenConns(conns)
	p.SetMaxIdleConns(conns)
	p.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.PingContext(pctx); err != nil {
		p.Close()
		return nil, connectFailed(cfg.URL, err)
	}
	db := &DB{engine: Postgres, w: p, r: p, url: cfg.URL, log: cfg.Logger, subs: newSubscriptions(),
		listenTimes: listenTimes{quiet: listenQuiet, answer: listenAnswer, connect: listenConnect}}
	db.Queries = Queries{q: countedReads{p, &db.reads}, d: dialects[Postgres]}
	return db, nil
}

// Engine returns the engine of db.
func (db *DB) Engine() Engine { return db.engine }

// Close numbers the events this process's relaxed batches left
// unnumbered (see pendingEvents), then closes the pools.
func (db *DB) Close() error {
	db.detached.wait()
	perr := db.stopPending()
	if db.wcache != nil {
		db.wcache.close()
		db.rcache.close()
	}
	err := errors.Join(perr, db.w.Close())
	if db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	return err
}

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.w.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return wrap(err)
	}
	return nil
}

// Write runs fn in a transaction on the writer and commits it if fn returns
// nil. A transaction that fails on a passing conflict (PostgreSQL
// serialization failure or deadlock, SQLite busy) is run again, up to three
// times, so fn must not have effects outside the transaction.
func (db *DB) Write(ctx context.Context, fn func(tx *Tx) error) error {
	return db.writeRetrying(ctx, fn, false)
}

// writeRetrying is Write; relaxed commits without waiting for the disk (see
// Batch.Relaxed).
func (db *DB) writeRetrying(ctx context.Context, fn func(tx *Tx) error, relaxed bool) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = db.write(ctx, fn, relaxed)
		if !retryable(err) {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 20 * time.Millisecond)
	}
	return err
}

func (db *DB) write(ctx context.Context, fn func(tx *Tx) error, relaxed bool) (err error) {
	var stx *sql.Tx
	var conn *sql.Conn // the writer's connection, held for a relaxed transaction
	if relaxed && db.engine == SQLite {
		if conn, err = db.relaxedWriter(ctx); err != nil {
			return err
		}
		// Deferred first, so that it runs after the transaction has ended.
		defer func() {
			if conn != nil {
				db.endRelaxed(ctx, conn)
			}
		}()
		if stx, err = conn.BeginTx(ctx, nil); err != nil {
			return wrap(err)
		}
	} else {
		stx, err = db.w.BeginTx(ctx, nil)
		if err != nil {
			return wrap(err)
		}
	}
	var q querier = stx
	if db.wcache != nil {
		q = cachedTx{stx, db.wcache}
	}
	var touched []string
	var events []equipe.ID
	var queued bool
	var seq insertSeq
	def := &deferral{q: stx}
	fq := flushing{q, def}
	tx := &Tx{Queries: Queries{q: fq, d: db.d}, Writes: Writes{x: txWriter{fq, &touched, &events, &seq, &queued, def, q}, d: db.d,
		subs: db.subs}, tx: stx, def: def}
	def.w = tx.Writes
	defer func() {
		if p := recover(); p != nil {
			stx.Rollback()
			panic(p)
		}
		if err != nil {
			stx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = def.flush(ctx); err != nil {
		return err
	}
	// Events that relaxed batches left unnumbered are numbered by the next
	// transaction that numbers its own and waits for the disk (see
	// pendingEvents); pending is read before, so that a relaxed batch
	// committed meanwhile keeps its events noted.
	pending := db.pending.n.Load()
	caughtUp := false
	if !relaxed && (len(events) > 0 || seq.n > 0 || tx.catchUp) {
		// Last, so that the counter's row stays locked only until the
		// commit (see sequenceEvents). Events numbered as they were
		// inserted (SQLite, see nextSeq) move the counter past them first.
		if seq.n > 0 {
			if _, err = q.ExecContext(ctx, `UPDATE event_sequence SET last = last + $1 WHERE one = 1`, seq.n); err != nil {
				return wrap(err)
			}
		}
		for _, st := range sequenceEvents(db.engine, events) {
			if _, err = stx.ExecContext(ctx, st.query, st.args...); err != nil {
				return wrap(err)
			}
		}
		if pending > 0 || tx.catchUp {
			for _, st := range db.d.catchUp(len(events) == 0 && seq.n == 0) {
				if _, err = q.ExecContext(ctx, st.query, st.args...); err != nil {
					return wrap(err)
				}
			}
			caughtUp = true
		}
		touched = append(touched, EventsKey())
		if db.numbered != nil {
			db.numbered()
		}
	}
	if len(touched) > 1 {
		// A unit that changes many members (an import's batch) names each
		// several times: each key is sent and heard once.
		slices.Sort(touched)
		touched = slices.Compact(touched)
	}
	if err = db.notify(ctx, stx, touched); err != nil {
		return err
	}
	if err = stx.Commit(); err != nil {
		return wrap(err)
	}
	db.commits.Add(1)
	if relaxed {
		db.relaxedCommits.Add(1)
	}
	if caughtUp {
		db.pending.n.CompareAndSwap(pending, 0)
	}
	if conn != nil {
		// Before the statement cache's flush, which prepares on the
		// writer's one connection.
		db.endRelaxed(ctx, conn)
		conn = nil
	}
	db.changed(touched)
	if db.wcache != nil {
		db.wcache.flush(ctx)
	}
	if queued {
		db.deliveriesQueued()
	}
	return nil
}

// relaxedWriter returns the SQLite writer's connection set to commit
// without waiting for the disk: in WAL mode, synchronous NORMAL skips the
// flush of the log at commit (the next checkpoint, or the next commit in
// FULL, flushes it). The database stays consistent whatever happens; what a
// crash of the machine (not of the process) may lose is the last such
// commits. endRelaxed sets the connection back to FULL.
func (db *DB) relaxedWriter(ctx context.Context) (*sql.Conn, error) {
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return nil, wrap(err)
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = NORMAL"); err != nil {
		db.endRelaxed(ctx, conn)
		return nil, wrap(err)
	}
	return conn, nil
}

// endRelaxed sets the writer's connection back to synchronous FULL and
// hands it back to the pool; a connection that cannot be set back is
// discarded, so no later transaction commits relaxed by mistake.
func (db *DB) endRelaxed(ctx context.Context, conn *sql.Conn) {
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous = FULL"); err != nil {
		conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	conn.Close()
}

// Tx is a write transaction. It reads through the same transaction, so it
// sees its own changes.
type Tx struct {
	Queries
	Writes
	tx         *sql.Tx
	savepoints int // how many were made, to name the next
	def        *deferral
	// catchUp numbers the events relaxed batches left unnumbered, even if
	// the transaction records none (NumberPendingEvents).
	catchUp bool
}

// Savepoint is a point in a transaction that its writes since can be undone
// to, the rest of the transaction kept: a unit that applies many changes
// (an import's batch of rows) undoes the one the rules refuse. On
// PostgreSQL a failed statement aborts the whole transaction unless it is
// undone to a savepoint.
type Savepoint struct {
	tx       *Tx
	name     string
	events   int
	numbered int // events numbered at their insert (insertSeq.n)
}

// Savepoint marks the transaction's current point. Savepoints nest: undo
// or release the latest first.
func (tx *Tx) Savepoint(ctx context.Context) (*Savepoint, error) {
	w := tx.Writes.x.(txWriter)
	tx.savepoints++
	if err := tx.def.flush(ctx); err != nil {
		return nil, err
	}
	sp := &Savepoint{tx: tx, name: "sp" + itoa(tx.savepoints), events: len(*w.events), numbered: w.seq.n}
	if _, err := tx.tx.ExecContext(ctx, "SAVEPOINT "+sp.name); err != nil {
		return nil, wrap(err)
	}
	return sp, nil
}

// Rollback undoes the transaction's writes since the savepoint, and ends it.
func (sp *Savepoint) Rollback(ctx context.Context) error {
	// The writes deferred since are undone with the rest: none is written,
	// and a failed writing of them is forgotten.
	sp.tx.def.items, sp.tx.def.err = sp.tx.def.items[:0], nil
	clear(sp.tx.def.created)
	if _, err := sp.tx.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+sp.name); err != nil {
		return wrap(err)
	}
	// The events recorded since are undone: they are not numbered.
	// Changed keys stay: hearing of a change that did not happen costs a
	// cache entry, no more.
	w := sp.tx.Writes.x.(txWriter)
	*w.events = (*w.events)[:sp.events]
	w.seq.n = sp.numbered
	return sp.Release(ctx)
}

// Release keeps the transaction's writes since the savepoint, and ends it.
func (sp *Savepoint) Release(ctx context.Context) error {
	if err := sp.tx.def.flush(ctx); err != nil {
		return err
	}
	_, err := sp.tx.tx.ExecContext(ctx, "RELEASE SAVEPOINT "+sp.name)
	return wrap(err)
}

// Queries holds the read methods, run against the reader pool (on DB) or a
// transaction (on Tx).
type Queries struct {
	q querier
	d *dialect
}

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queryIDs runs query, whose rows are one ID each, and returns them in
// their order.
func queryIDs(ctx context.Context, q querier, query string, args ...any) ([]equipe.ID, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var ids []equipe.ID
	for rows.Next() {
		var id equipe.ID
		if err := rows.Scan(&id); err != nil {
			return nil, wrap(err)
		}
		ids = append(ids, id)
	}
	return ids, wrap(rows.Err())
}

// dialect holds what differs between the engines' SQL.
type dialect struct {
	engine Engine
	// forUpdate locks the selected rows until the transaction ends; SQLite
	// needs nothing, its writer holds the database lock already.
	forUpdate string
	// skipLocked claims rows no other transaction holds.
	skipLocked string
	// binary makes a text column compare byte by byte (SQLite's default).
	binary string
	// likeEscape names the escape character of LIKE patterns (PostgreSQL's
	// default is already the backslash).
	likeEscape string
	// position is the function that finds a text in another (or 0).
	position string
	// migrationTableExists reads whether schema_migrations exists, without
	// creating it.
	migrationTableExists string
	// disabledUsers names the index of disabled identities for a lookup
	// by ID that must read it rather than the table's primary key (SQLite
	// prefers a unique index to a partial one; PostgreSQL weighs their
	// sizes).
	disabledUsers string
	// membersSeq names the index of the events about members
	// (memberKinds) for a change stream's statement, for the same reason.
	membersSeq string
}

var dialects = map[Engine]*dialect{
	SQLite: {engine: SQLite, forUpdate: "", skipLocked: "", binary: "", likeEscape: ` ESCAPE '\'`, position: "instr",
		migrationTableExists: `SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations')`,
		disabledUsers:        " INDEXED BY users_disabled", membersSeq: " INDEXED BY audit_events_members_seq"},
	Postgres: {engine: Postgres, forUpdate: " FOR UPDATE", skipLocked: " FOR UPDATE SKIP LOCKED", binary: ` COLLATE "C"`, position: "strpos",
		migrationTableExists: `SELECT to_regclass('schema_migrations') IS NOT NULL`},
}

// Writes holds the write methods. On a Tx they run at once; on a Batch
// they are queued and run together by DB.RunBatch.
type Writes struct {
	x    writer
	d    *dialect
	subs *subscriptions
}

// writer runs a statement now (in a transaction) or later (in a batch).
type writer interface {
	// exec runs or queues a statement and returns the rows it changed
	// (always 0 in a batch, where it is not known yet).
	exec(ctx context.Context, query string, args ...any) (int64, error)
	// execOne runs a statement that must change exactly one row.
	execOne(ctx context.Context, query string, args ...any) error
	// queryRow runs or queues a statement returning one row, scanned into
	// dest (in a batch: when the batch runs).
	queryRow(ctx context.Context, query string, args []any, dest ...any) error
	// queryRowAside is queryRow for a statement on rows that no deferred
	// write touches (throttle counts): in a transaction that defers writes
	// (Tx.Defer), it runs without writing them first.
	queryRowAside(ctx context.Context, query string, args []any, dest ...any) error
	// touch notes that the write changes who may do what (see Changed).
	touch(keys ...string)
	// recorded notes that the write recorded the event id, to be numbered
	// when the transaction commits (see sequenceEvents).
	recorded(id equipe.ID)
	// queue notes that the write queued webhook deliveries (a transaction
	// only: a batch's worker finds them at its next poll).
	queue()
}

func (w Writes) exec(ctx context.Context, query string, args ...any) (int64, error) {
	return w.x.exec(ctx, query, args...)
}

func (w Writes) execOne(ctx context.Context, query string, args ...any) error {
	return w.x.execOne(ctx, query, args...)
}

func (w Writes) queryRow(ctx context.Context, query string, args []any, dest ...any) error {
	return w.x.queryRow(ctx, query, args, dest...)
}

// txWriter runs statements at once in a transaction.
type txWriter struct {
	q       querier
	touched *[]string
	events  *[]equipe.ID // to be numbered at the commit
	seq     *insertSeq   // events numbered as they were inserted
	queued  *bool
	def     *deferral
	// aside runs statements on rows no deferred write touches (throttle
	// counts) without writing the deferred writes first.
	aside querier
}

func (t txWriter) touch(keys ...string) { *t.touched = append(*t.touched, keys...) }

func (t txWriter) recorded(id equipe.ID) { *t.events = append(*t.events, id) }

func (t txWriter) queue() { *t.queued = true }

func (t txWriter) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := t.q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, wrap(err)
	}
	n, err := res.RowsAffected()
	return n, wrap(err)
}

func (t txWriter) execOne(ctx context.Context, query string, args ...any) error {
	n, err := t.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
	}
	return nil
}

func (t txWriter) queryRow(ctx context.Context, query string, args []any, dest ...any) error {
	return wrap(t.q.QueryRowContext(ctx, query, args...).Scan(dest...))
}

func (t txWriter) queryRowAside(ctx context.Context, query string, args []any, dest ...any) error {
	if t.def != nil && t.def.err != nil {
		return t.def.err
	}
	return wrap(t.aside.QueryRowContext(ctx, query, args...).Scan(dest...))
}

// wrap translates driver errors into equipe errors: not found, unique
// violations, a busy database (EUNAVAILABLE "error.unavailable") and one
// that cannot be reached (EUNAVAILABLE "service.unavailable", see
// unreachable). Other errors pass through.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	var e *equipe.Error
	if errors.As(err, &e) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return &equipe.Error{Code: equipe.ENOTFOUND, Key: "error.not_found", Err: err}
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "error.conflict", Err: err}
		case sqlite3.SQLITE_CONSTRAINT_TRIGGER:
			// A trigger that stands for a unique constraint says so (an
			// address reserved for the identity that had it).
			if strings.Contains(se.Error(), "UNIQUE constraint failed") {
				return &equipe.Error{Code: equipe.ECONFLICT, Key: "error.conflict", Err: err}
			}
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_BUSY_SNAPSHOT:
			return &equipe.Error{Code: equipe.EUNAVAILABLE, Key: "error.unavailable", Err: err}
		}
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "error.conflict", Err: err}
		case "40001", "40P01", "55P03":
			return &equipe.Error{Code: equipe.EUNAVAILABLE, Key: "error.unavailable", Err: err}
		}
	}
	if unreachable(err) {
		return &equipe.Error{Code: equipe.EUNAVAILABLE, Key: "service.unavailable", Err: err}
	}
	if pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return &equipe.Error{Code: equipe.EUNAVAILABLE, Key: "error.unavailable", Err: err}
	}
	return err
}

// unreachable reports whether err says that the database could not be
// reached or that the connection to it was lost: a connection refused or
// timed out, one that broke in the middle of a statement, a PostgreSQL
// server shutting down or not yet accepting connections, a pool closed (as
// at shutdown). Nothing in the request is at fault, and it may succeed once
// the database is back. A request's own deadline or cancellation is not
// among these.
func unreachable(err error) bool {
	var ce *pgconn.ConnectError
	var oe *net.OpError
	if errors.As(err, &ce) || errors.As(err, &oe) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, errDBClosed) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08 is "connection exception"; 57P01 to 57P03 are an
		// administrator's or a crash's shutdown and "cannot connect now"
		// (starting up or in recovery).
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	return false
}

// errDBClosed is the error database/sql returns from a pool that is
// closed. The package does not export it, so it is taken from a pool closed
// for the purpose: errors.Is then finds the very value, wrapped or not,
// without matching its message.
var errDBClosed = func() error {
	db := sql.OpenDB(noConnector{})
	db.Close()
	return db.Ping()
}()

// noConnector is the driver of the pool errDBClosed comes from, which is
// closed before it connects.
type noConnector struct{}

func (noConnector) Connect(context.Context) (driver.Conn, error) {
	return nil, errors.New("store: no connection")
}

func (noConnector) Driver() driver.Driver { return nil }

// retryable reports whether a transaction failed on a passing conflict that
// running it again may resolve.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_BUSY || se.Code() == sqlite3.SQLITE_BUSY_SNAPSHOT
	}
	return false
}

// isConflict reports whether err is a unique violation.
func isConflict(err error) bool { return equipe.ErrorCode(err) == equipe.ECONFLICT }

// conflictOn reports whether err is a unique violation that involves column
// (or an index named after it): the drivers name it in the message (SQLite
// "UNIQUE constraint failed: members.account_id, members.external_id",
// PostgreSQL `violates unique constraint "members_external_id"`). Asking the
// database which row conflicts is not possible: PostgreSQL refuses every
// statement of a transaction after a failed one.
func conflictOn(err error, column string) bool {
	return isConflict(err) && strings.Contains(err.Error(), column)
}

// contains is the condition that the text param is part of the text expr:
// a test of bytes, with no pattern characters to escape.
func (d *dialect) contains(expr, param string) string {
	return d.position + "(" + expr + ", " + param + ") > 0"
}
