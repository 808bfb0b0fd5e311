package store

import (
	"context"

	"github.com/equipe-dev/equipe"
)

// ExecForTest runs a statement in the transaction, for tests that need to
// put the database in a state no method produces.
func (tx *Tx) ExecForTest(ctx context.Context, query string) error {
	_, err := tx.q.ExecContext(ctx, query)
	return wrap(err)
}

// MigrateToForTest brings the schema to version last only, for tests of a
// migration on data written before it.
func (db *DB) MigrateToForTest(ctx context.Context, last int) ([]int, error) {
	return db.migrateTo(ctx, last)
}

// OnNumberedForTest makes fn run in every transaction that recorded events,
// once they are numbered and before it commits.
func (db *DB) OnNumberedForTest(fn func()) { db.numbered = fn }

// QueryRowForTest reads one row of a query on the reader pool.
func (db *DB) QueryRowForTest(ctx context.Context, query string, dest ...any) error {
	return wrap(db.r.QueryRowContext(ctx, query).Scan(dest...))
}

// RecordAuditAloneForTest writes an event as RecordAudit did before
// webhooks: the event's row alone, for benchmarks to compare with.
func (w Writes) RecordAuditAloneForTest(ctx context.Context, e *equipe.AuditEvent) error {
	_, err := w.exec(ctx, `INSERT INTO audit_events (id, account_id, actor_type, actor_id, actor_name, action,
		target_type, target_id, before, after, ip, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		e.ID, idv(e.AccountID), e.ActorType, idv(e.ActorID), e.ActorName, e.Action, e.TargetType, e.TargetID,
		e.Before, e.After, e.IP, micros(e.At))
	return err
}

// DeferAlwaysForTest makes the transaction defer its writes as Defer does
// on PostgreSQL, on SQLite too: the merged statements are the same on both
// engines, and their tests run on both.
func (tx *Tx) DeferAlwaysForTest() { tx.def.on = true }

// ReadForTest queues a statement that reads one row into dest, run where
// the batch runs: what a setting is inside its transaction.
func (b *Batch) ReadForTest(query string, dest ...any) {
	b.q.items = append(b.q.items, batchItem{query: query, dest: dest})
}

// OnBatchGroupForTest has fn called each time a batch queues, or a group
// takes the queue or ends.
// A nil fn removes it.
func (db *DB) OnBatchGroupForTest(fn func()) {
	if fn == nil {
		db.group.moved.Store(nil)
		return
	}
	db.group.moved.Store(&fn)
}

// BatchGroupForTest returns how many durable batches wait for the next
// group, and whether a group is running.
func (db *DB) BatchGroupForTest() (queued int, running bool) {
	db.group.mu.Lock()
	defer db.group.mu.Unlock()
	return len(db.group.queue), db.group.running
}

// StatementsForTest returns how many statements the batch holds: once it
// ran, with those RunBatch added (its events' numbering).
func (b *Batch) StatementsForTest() int { return len(b.q.items) }
