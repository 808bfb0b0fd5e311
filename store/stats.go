package store

import (
	"context"
	"database/sql"
	"time"
)

// OutboxBacklog returns how many emails wait to be sent (queued, or being
// sent) and when the oldest of them was queued (zero when none waits).
func (q Queries) OutboxBacklog(ctx context.Context) (int, time.Time, error) {
	var n int
	var oldest sql.NullInt64
	err := q.q.QueryRowContext(ctx, `SELECT count(*), min(created_at) FROM outbox
		WHERE status IN ('queued', 'processing')`).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, wrap(err)
	}
	if !oldest.Valid {
		return n, time.Time{}, nil
	}
	return n, time.UnixMicro(oldest.Int64).UTC(), nil
}

// Pool is a connection pool of the database and its figures.
type Pool struct {
	Name  string // "writer" or "readers" on SQLite, "pool" on PostgreSQL
	Stats sql.DBStats
}

// Pools returns the database's connection pools and their figures.
func (db *DB) Pools() []Pool {
	if db.w == db.r {
		return []Pool{{"pool", db.w.Stats()}}
	}
	return []Pool{{"writer", db.w.Stats()}, {"readers", db.r.Stats()}}
}
