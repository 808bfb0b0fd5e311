package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/equipe-dev/equipe"
)

// Batch queues writes that do not depend on one another's results, for
// DB.RunBatch to run in one transaction: on PostgreSQL in a single round
// trip instead of one per statement, which is what the login path's few
// statements cost most. Values a queued statement returns are scanned when
// the batch runs. A statement that must change exactly one row (a
// single-use code or challenge) is checked inside the transaction: when it
// changes none, the whole batch takes no effect and RunBatch answers
// ENOTFOUND, as the statement would in a transaction.
type Batch struct {
	Writes
	q *batchQueue
	// relaxed: see Relaxed.
	relaxed bool
}

// Relaxed marks the batch as writes whose loss in a crash of the machine
// or of the database server is harmless: throttle counts, or a login's
// challenge (the person types their password again). On PostgreSQL its
// commit does not wait for the write-ahead log to reach the disk
// (synchronous_commit off for this transaction only; on SQLite,
// synchronous NORMAL for this transaction only), which saves a disk flush
// on the login path. A crash may forget the last such batches, each whole;
// it never breaks consistency, and the next ordinary commit makes them
// durable with its own. The events a relaxed batch records are written
// with it but not numbered: they reach the change stream when a commit
// that waits for the disk numbers them (see pendingEvents), so that no
// number a reader may have seen is lost.
func (b *Batch) Relaxed() { b.relaxed = true }

type batchQueue struct {
	items   []batchItem
	touched []string
	events  []equipe.ID // recorded events, numbered at the end of the batch
}

func (b *batchQueue) touch(keys ...string) { b.touched = append(b.touched, keys...) }

func (b *batchQueue) recorded(id equipe.ID) { b.events = append(b.events, id) }

func (b *batchQueue) queue() {}

type batchItem struct {
	query string
	args  []any
	dest  []any
	one   bool // the statement must change exactly one row
}

func (b *batchQueue) exec(_ context.Context, query string, args ...any) (int64, error) {
	b.items = append(b.items, batchItem{query: query, args: args})
	return 0, nil
}

func (b *batchQueue) execOne(_ context.Context, query string, args ...any) error {
	b.items = append(b.items, batchItem{query: query, args: args, one: true})
	return nil
}

// errNotOne is the error PostgreSQL raises for a batched statement that
// changed no row (see RunBatch): a division by zero, SQLSTATE 22012.
const errNotOne = "22012"

// mustChangeOne wraps a data-changing statement so that PostgreSQL fails
// it when it changes no row, which aborts the batch's transaction.
func mustChangeOne(query string) string {
	return `WITH changed AS (` + query + ` RETURNING 1) SELECT 1 / COUNT(*) FROM changed`
}

func (b *batchQueue) queryRow(_ context.Context, query string, args []any, dest ...any) error {
	b.items = append(b.items, batchItem{query: query, args: args, dest: dest})
	return nil
}

func (b *batchQueue) queryRowAside(ctx context.Context, query string, args []any, dest ...any) error {
	return b.queryRow(ctx, query, args, dest...)
}

// NewBatch returns an empty batch.
func (db *DB) NewBatch() *Batch {
	q := &batchQueue{}
	return &Batch{Writes: Writes{x: q, d: db.d, subs: db.subs}, q: q}
}

// RunBatchDetached runs the batch b as RunBatch does, but after returning:
// for writes whose caller's answer does not depend on them, which it must
// not keep waiting (a login's password step recording its challenge and
// its event, which the second step does not need: see identity's sealed
// challenges). It fails only as RunBatch would, and then only in the log:
// no one waits for it. Close waits for the detached batches still running,
// and WaitDetached for those started before it.
func (db *DB) RunBatchDetached(b *Batch) {
	db.detached.add(1)
	db.detachedBatches.Add(1)
	hold := db.detachedHold
	go func() {
		defer db.detached.add(-1)
		if hold != nil {
			<-hold
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.RunBatch(ctx, b); err != nil {
			db.log.Error("a detached batch", "err", err)
		}
	}()
}

// HoldDetachedForTest makes the batches RunBatchDetached starts from now
// wait until hold is closed (nil: run at once), so that a test sees what
// happens before they commit. Not for concurrent use with RunBatchDetached.
func (db *DB) HoldDetachedForTest(hold <-chan struct{}) { db.detachedHold = hold }

// WaitDetached waits until no batch RunBatchDetached started runs.
func (db *DB) WaitDetached() { db.detached.wait() }

// running counts goroutines at work, and lets one wait until none is:
// unlike a sync.WaitGroup, one may start while another waits.
type running struct {
	mu   sync.Mutex
	n    int
	idle *sync.Cond
}

func (r *running) add(d int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n += d
	if r.n == 0 && r.idle != nil {
		r.idle.Broadcast()
	}
}

func (r *running) wait() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.idle == nil {
		r.idle = sync.NewCond(&r.mu)
	}
	for r.n > 0 {
		r.idle.Wait()
	}
}

// RunBatch runs the batch's statements in order in one transaction and
// scans what they return. If one fails, none takes effect.
func (db *DB) RunBatch(ctx context.Context, b *Batch) (err error) {
	defer func() {
		if equipe.ErrorCode(err) == equipe.ENOTFOUND {
			db.refused.Add(1)
		}
	}()
	if len(b.q.touched) > 0 {
		// Access changes go through Write, which notifies other processes.
		return errors.New("store: a batch cannot change access")
	}
	relaxed := b.relaxed
	if relaxed && len(b.q.events) > 0 {
		// Written unnumbered (see pendingEvents).
		b.q.events = nil
		defer func() {
			if err == nil {
				db.relaxedEvents()
			}
		}()
	}
	if len(b.q.events) > 0 {
		// The batch's events are numbered at its end, in its transaction,
		// as a transaction's are before it commits, after those that
		// relaxed batches left unnumbered (earlier events: a login's
		// user.second_step_required comes before the user.logged_in of
		// its second step); the change stream is woken once it has run.
		pending := db.pending.n.Load()
		if pending > 0 {
			// Those and the batch's own, unnumbered alike, are numbered
			// together in the order of their IDs, which is the order they
			// were recorded in (NewID's are monotonic): three statements
			// rather than five.
			b.q.items = append(b.q.items, db.d.catchUp(true)...)
		} else if last := len(b.q.items) - 1; db.engine == Postgres && len(b.q.events) == 1 && last >= 0 && b.q.items[last].query == eventWrite {
			// The batch's one event, written last, is numbered by the
			// statement that writes it: one statement fewer, the counter
			// locked from the same point of the transaction.
			b.q.items[last].query = numberedEventWrite
		} else {
			for _, st := range sequenceEvents(db.engine, b.q.events) {
				b.q.items = append(b.q.items, batchItem{query: st.query, args: st.args})
			}
		}
		if db.engine == Postgres {
			b.q.items = append(b.q.items, batchItem{query: "SELECT pg_notify($1, $2)", args: []any{notifyChannel, EventsKey()}})
		}
		b.q.events = nil
		defer func() {
			if err == nil {
				if pending > 0 {
					db.pending.n.CompareAndSwap(pending, 0)
				}
				db.changed([]string{EventsKey()})
			}
		}()
	}
	if !relaxed {
		return db.runGrouped(ctx, b.q.items)
	}
	if db.engine != Postgres {
		return db.writeRetrying(ctx, func(tx *Tx) error { return runItems(ctx, tx, b.q.items) }, relaxed)
	}
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return wrap(err)
	}
	defer conn.Close()
	err = wrap(conn.Raw(func(driverConn any) error {
		pc := driverConn.(*stdlib.Conn).Conn()
		// The statements sent together before one Sync are one implicit
		// transaction, which a failing statement undoes whole: no BEGIN
		// and COMMIT to send and run. set_config's setting lasts until it
		// ends, and its commit is the Sync's.
		pb := &pgx.Batch{}
		pb.Queue("SELECT set_config('synchronous_commit', 'off', true)")
		for _, it := range b.q.items {
			queueItem(pb, it)
		}
		br := pc.SendBatch(ctx, pb)
		items := append([]batchItem{{}}, b.q.items...)
		for _, it := range items {
			if err := readItem(br, it); err != nil {
				br.Close()
				return err
			}
		}
		return br.Close()
	}))
	if err == nil {
		db.commits.Add(1)
		db.relaxedCommits.Add(1)
	}
	return err
}

// runItems runs a batch's statements in a transaction.
func runItems(ctx context.Context, tx *Tx, items []batchItem) error {
	for _, it := range items {
		var err error
		if it.dest != nil {
			err = tx.queryRow(ctx, it.query, it.args, it.dest...)
		} else if it.one {
			err = tx.execOne(ctx, it.query, it.args...)
		} else {
			_, err = tx.exec(ctx, it.query, it.args...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// queueItem queues a batch's statement in a PostgreSQL batch.
func queueItem(pb *pgx.Batch, it batchItem) {
	q := it.query
	if it.one {
		q = mustChangeOne(q)
	} else if it.dest != nil {
		q = mustReturnOne(q)
	}
	pb.Queue(q, it.args...)
}

// mustReturnOne wraps a statement whose row a batch reads so that
// PostgreSQL fails it when it returns none. A batch's statements are sent
// together and run whatever the client makes of their answers: a read that
// found nothing, noticed by the client alone, would leave the rest of the
// batch committed while its caller is told it failed (and a group of
// batches run again without it, twice). Failing in the server aborts the
// transaction, as the read does in a transaction on SQLite. Only a
// statement that begins with SELECT, INSERT, UPDATE or DELETE is wrapped:
// a WITH cannot be nested when it changes data, and SHOW cannot be either;
// such a read in a batch must return a row whatever the data, as an
// aggregate or SHOW does.
func mustReturnOne(query string) string {
	q := strings.TrimSpace(query)
	if i := strings.IndexAny(q, " \t\n"); i > 0 {
		q = q[:i]
	}
	switch strings.ToUpper(q) {
	case "SELECT", "INSERT", "UPDATE", "DELETE":
	default:
		return query
	}
	return `WITH r AS (` + query + `) SELECT r.* FROM (SELECT 1 / COUNT(*) AS one FROM r) AS c LEFT JOIN r ON c.one = 1`
}

// readItem reads the result of a statement queued by queueItem, scanning
// what it returns.
func readItem(br pgx.BatchResults, it batchItem) error {
	var err error
	if it.dest != nil {
		err = br.QueryRow().Scan(it.dest...)
	} else {
		_, err = br.Exec()
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return sql.ErrNoRows
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == errNotOne {
		if it.dest != nil {
			return sql.ErrNoRows
		}
		return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
	}
	return err
}

// batchGroup coalesces the durable batches that callers run at the same
// time into one transaction, committed once (group commit): on SQLite,
// where writes are serialized anyway, one commit and one flush of the log
// for the lot instead of one each; on PostgreSQL one round trip, one
// commit and one flush of the write-ahead log. A caller whose batch is
// ready while a group runs waits for it to end; the first of those then
// runs the next group with every batch queued meanwhile, its own among
// them. Each batch keeps its own outcome: one that fails takes no effect
// and its caller gets its error, the others commit (on SQLite each batch
// runs in a savepoint and is undone to it; on PostgreSQL, where a failed
// statement aborts the whole transaction, the group runs again without
// it). Durability is unchanged: a caller returns only once the commit
// that holds its batch has returned.
type batchGroup struct {
	mu      sync.Mutex
	queue   []*groupedBatch
	running bool // a caller is running a group
	// sizes counts the groups run and the batches in them (see
	// DB.BatchGroups).
	groups, batches atomic.Uint64
	// moved, when set (tests), is told each time a batch queues or a group
	// takes the queue or ends.
	moved atomic.Pointer[func()]
}

// tell calls the moved hook, if any.
func (q *batchGroup) tell() {
	if f := q.moved.Load(); f != nil {
		(*f)()
	}
}

// groupedBatch is a caller's batch in a group.
type groupedBatch struct {
	ctx   context.Context
	items []batchItem
	err   error
	// done is sent false once the batch has run (err is its outcome), or
	// true when its caller is to run the next group, its batch not run yet.
	done chan bool
}

// BatchGroups returns how many groups of durable batches this DB has
// committed, and how many batches they held: how much group commit
// saves, for measurements and tests.
func (db *DB) BatchGroups() (groups, batches uint64) {
	return db.group.groups.Load(), db.group.batches.Load()
}

// runGrouped runs a durable batch's statements in the next group.
func (db *DB) runGrouped(ctx context.Context, items []batchItem) error {
	g := &groupedBatch{ctx: ctx, items: items, done: make(chan bool, 1)}
	q := &db.group
	q.mu.Lock()
	q.queue = append(q.queue, g)
	lead := !q.running
	q.running = true
	q.mu.Unlock()
	q.tell()
	// The caller waits for its batch's outcome even if its context ends
	// meanwhile: the batch may be committing.
	if !lead && !<-g.done {
		return g.err
	}
	q.mu.Lock()
	group := q.queue
	q.queue = nil
	q.mu.Unlock()
	q.tell()
	db.runGroup(group)
	q.mu.Lock()
	if len(q.queue) > 0 {
		// The first caller that queued meanwhile runs the next group.
		q.queue[0].done <- true
	} else {
		q.running = false
	}
	q.mu.Unlock()
	q.tell()
	for _, o := range group {
		if o != g {
			o.done <- false
		}
	}
	return g.err
}

// runGroup runs the batches of a group in one transaction and sets each
// one's outcome.
func (db *DB) runGroup(group []*groupedBatch) {
	live := make([]*groupedBatch, 0, len(group))
	for _, g := range group {
		if err := g.ctx.Err(); err != nil {
			g.err = err
			continue
		}
		live = append(live, g)
	}
	if len(live) == 0 {
		return
	}
	// The group is not one caller's: the end of the context of the caller
	// that runs it does not end the others' batches.
	ctx := context.WithoutCancel(live[0].ctx)
	var err error
	if db.engine == Postgres {
		live, err = db.runGroupPostgres(ctx, live)
	} else {
		live, err = db.runGroupSQLite(ctx, live)
	}
	for _, g := range live {
		if g.err == nil {
			g.err = err
		}
	}
	if err == nil {
		n := 0
		for _, g := range live {
			if g.err == nil {
				n++
			}
		}
		db.group.groups.Add(1)
		db.group.batches.Add(uint64(n))
	}
}

// ownError reports whether err, from a batch's statement, is the batch's
// own (a constraint, a row that must change and did not) rather than the
// transaction's (a passing conflict, a lost connection): the group goes on
// without the batch.
func ownError(err error) bool {
	return err != nil && !retryable(err) && !unreachable(err)
}

// runGroupSQLite runs the group in one transaction, each batch in a
// savepoint (unless it is alone). It returns the batches it ran and the
// transaction's error, each batch's own in its err.
func (db *DB) runGroupSQLite(ctx context.Context, live []*groupedBatch) ([]*groupedBatch, error) {
	if len(live) == 1 {
		return live, db.writeRetrying(ctx, func(tx *Tx) error { return runItems(ctx, tx, live[0].items) }, false)
	}
	return live, db.writeRetrying(ctx, func(tx *Tx) error {
		for _, g := range live {
			g.err = nil
			sp, err := tx.Savepoint(ctx)
			if err != nil {
				return err
			}
			if err := runItems(ctx, tx, g.items); err != nil {
				if !ownError(err) {
					return err
				}
				g.err = err
				if err := sp.Rollback(ctx); err != nil {
					return err
				}
				continue
			}
			if err := sp.Release(ctx); err != nil {
				return err
			}
		}
		return nil
	}, false)
}

// runGroupPostgres runs the group's statements in one round trip, in the
// implicit transaction of one pipeline. A statement that fails aborts the
// transaction: its batch gets the error, and the group runs again without
// it. A passing conflict runs the group again, up to three times.
func (db *DB) runGroupPostgres(ctx context.Context, live []*groupedBatch) ([]*groupedBatch, error) {
	ran := slices.Clone(live)
	for attempt := 0; ; {
		failed, err := db.pipeline(ctx, live)
		if failed != nil {
			failed.err = err
			live = slices.DeleteFunc(live, func(g *groupedBatch) bool { return g == failed })
			if len(live) == 0 {
				return ran, nil
			}
			continue
		}
		if retryable(err) && attempt < 2 {
			attempt++
			time.Sleep(time.Duration(attempt) * 20 * time.Millisecond)
			continue
		}
		if err == nil {
			db.commits.Add(1)
		} else {
			for _, g := range live {
				g.err = err
			}
		}
		return ran, err
	}
}

// pipeline sends the statements of the batches in one round trip. When a
// batch's own statement fails, it returns that batch and its error.
func (db *DB) pipeline(ctx context.Context, live []*groupedBatch) (*groupedBatch, error) {
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return nil, wrap(err)
	}
	defer conn.Close()
	var failed *groupedBatch
	err = wrap(conn.Raw(func(driverConn any) error {
		pc := driverConn.(*stdlib.Conn).Conn()
		// Statements of a batch run in one implicit transaction.
		pb := &pgx.Batch{}
		for _, g := range live {
			for _, it := range g.items {
				queueItem(pb, it)
			}
		}
		br := pc.SendBatch(ctx, pb)
		for _, g := range live {
			for _, it := range g.items {
				if err := readItem(br, it); err != nil {
					br.Close()
					var pe *pgconn.PgError
					if errors.Is(err, sql.ErrNoRows) || equipe.ErrorCode(err) == equipe.ENOTFOUND ||
						errors.As(err, &pe) && ownError(err) {
						failed = g
					}
					return err
				}
			}
		}
		return br.Close()
	}))
	return failed, err
}
