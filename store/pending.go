package store

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Events of relaxed batches. A relaxed batch (Batch.Relaxed) commits
// without waiting for the disk, so a crash of the machine or of the
// database server may forget it; everything it wrote is forgotten together,
// its events with the rows they describe. What must never be forgotten is
// an event's number in the change stream once a reader may have seen it:
// the number would be given again to another event, which a reader past it
// would skip. So a relaxed batch writes its events unnumbered (seq NULL),
// out of the change stream's reach, and the next commit that waits for the
// disk and records events numbers them with its own (before them in a
// batch, after them in a transaction of Write): the numbers
// become visible only when that commit is on disk, and on both engines a
// commit that reaches the disk takes every earlier commit with it (one
// write-ahead log, written in order). In this process that is the next
// transaction that records events, or at the latest a transaction of their
// own pendingDelay after the relaxed batch (numberPendingLater); events
// left by a process that stopped first are numbered by the next
// NumberPendingEvents (identity's periodic cleanup).
//
// A webhook delivery of such an event is queued by the relaxed batch
// itself, but it is sent only once claimed, and a claim is a commit that
// waits for the disk (DB.ClaimWebhookDeliveries): no event leaves equipe
// before it is on disk either way.

// pendingDelay is the longest that an event of a relaxed batch waits to
// be numbered (and to reach the change stream) when no other transaction
// that records events comes first.
const pendingDelay = time.Second

// pendingEvents knows whether this process committed relaxed batches whose
// events may not be numbered yet.
type pendingEvents struct {
	// n counts the relaxed batches with events committed since the last
	// commit that numbered the events left unnumbered.
	n      atomic.Uint64
	mu     sync.Mutex
	timer  *time.Timer // numberPendingLater, armed while n > 0
	closed bool
}

// catchUp returns the statements that number the events left unnumbered —
// by relaxed batches, and by the transaction itself if it has not numbered
// its own — in the order of their IDs (the order they were recorded in),
// and move the counter past them. lock takes the counter's lock first, for
// a transaction that has not numbered events of its own yet (PostgreSQL:
// the events must be read once the lock is held, so that no other
// transaction numbers them at the same time).
func (d *dialect) catchUp(lock bool) []batchItem {
	var out []batchItem
	greatest := "max"
	if d.engine == Postgres {
		greatest = "GREATEST"
		if lock {
			out = append(out, batchItem{query: `UPDATE event_sequence SET last = last WHERE one = 1`})
		}
	}
	// seq IS NULL is read through the index of seq, which holds NULLs on
	// both engines: a statement that finds nothing costs an index probe.
	return append(out,
		batchItem{query: `UPDATE audit_events SET seq = (SELECT last FROM event_sequence WHERE one = 1) + p.n
			FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM audit_events WHERE seq IS NULL) AS p
			WHERE audit_events.id = p.id AND audit_events.seq IS NULL`},
		batchItem{query: `UPDATE event_sequence SET last = ` + greatest +
			`(last, (SELECT COALESCE(MAX(seq), 0) FROM audit_events)) WHERE one = 1`})
}

// relaxedEvents notes that a relaxed batch committed unnumbered events,
// and makes sure they are numbered within pendingDelay.
func (db *DB) relaxedEvents() {
	db.pending.n.Add(1)
	db.armPending()
}

// armPending makes numberPendingLater run pendingDelay from now, unless it
// is due already or the DB is closing.
func (db *DB) armPending() {
	p := &db.pending
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.timer == nil && !p.closed {
		p.timer = time.AfterFunc(pendingDelay, db.numberPendingLater)
	}
}

// numberPendingLater numbers the events that relaxed batches left
// unnumbered, unless a transaction did it meanwhile; if it fails (the
// database unreachable), it tries again pendingDelay later.
func (db *DB) numberPendingLater() {
	p := &db.pending
	p.mu.Lock()
	p.timer = nil
	p.mu.Unlock()
	if p.n.Load() == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.NumberPendingEvents(ctx); err != nil {
		db.log.Error("number the events of relaxed commits", "err", err)
		db.armPending()
	}
}

// stopPending stops numberPendingLater, and numbers what this process
// left unnumbered, for a DB being closed.
func (db *DB) stopPending() error {
	p := &db.pending
	p.mu.Lock()
	p.closed = true
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	p.mu.Unlock()
	if p.n.Load() == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return db.NumberPendingEvents(ctx)
}

// NumberPendingEvents numbers the events that relaxed batches left
// unnumbered, of this process or of another that stopped before it did
// (see Batch.Relaxed), in a transaction that waits for the disk. When there
// are none it writes nothing.
func (db *DB) NumberPendingEvents(ctx context.Context) error {
	n := db.pending.n.Load()
	var any bool
	if err := db.q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM audit_events WHERE seq IS NULL)`).Scan(&any); err != nil {
		return wrap(err)
	}
	if !any {
		db.pending.n.CompareAndSwap(n, 0)
		return nil
	}
	return db.Write(ctx, func(tx *Tx) error {
		tx.catchUp = true
		return nil
	})
}

// PendingEvents returns how many events are recorded and not numbered yet:
// written by relaxed batches and waiting for a commit that numbers them
// (for tests and measurements).
func (q Queries) PendingEvents(ctx context.Context) (int, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events WHERE seq IS NULL`).Scan(&n)
	return n, wrap(err)
}
