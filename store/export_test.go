package store

import "context"

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
