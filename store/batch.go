package store

import (
	"context"
	"database/sql"
	"errors"

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

// RunBatch runs the batch's statements in order in one transaction and
// scans what they return. If one fails, none takes effect.
func (db *DB) RunBatch(ctx context.Context, b *Batch) (err error) {
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
			b.q.items = append(b.q.items, db.d.catchUp(true, b.q.events)...)
		}
		for _, st := range sequenceEvents(b.q.events) {
			b.q.items = append(b.q.items, batchItem{query: st.query, args: st.args})
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
	if db.engine != Postgres {
		return db.writeRetrying(ctx, func(tx *Tx) error {
			for _, it := range b.q.items {
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
		}, relaxed)
	}
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return wrap(err)
	}
	defer conn.Close()
	err = wrap(conn.Raw(func(driverConn any) error {
		pc := driverConn.(*stdlib.Conn).Conn()
		// Statements of a batch run in one implicit transaction.
		pb := &pgx.Batch{}
		items := b.q.items
		if relaxed {
			pb.Queue("BEGIN")
			pb.Queue("SET LOCAL synchronous_commit TO OFF")
		}
		for _, it := range items {
			q := it.query
			if it.one {
				q = mustChangeOne(q)
			}
			pb.Queue(q, it.args...)
		}
		if relaxed {
			pb.Queue("COMMIT")
			items = append(append([]batchItem{{}, {}}, items...), batchItem{})
		}
		br := pc.SendBatch(ctx, pb)
		for _, it := range items {
			var err error
			if it.dest != nil {
				err = br.QueryRow().Scan(it.dest...)
			} else {
				_, err = br.Exec()
			}
			if err != nil {
				br.Close()
				if errors.Is(err, pgx.ErrNoRows) {
					return sql.ErrNoRows
				}
				var pe *pgconn.PgError
				if errors.As(err, &pe) && pe.Code == errNotOne {
					return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
				}
				return err
			}
		}
		return br.Close()
	}))
	if err == nil {
		db.commits.Add(1)
		if relaxed {
			db.relaxedCommits.Add(1)
		}
	}
	return err
}
