package store

import (
	"context"
	"time"
)

// Throttle is the state of one rate limit: how many attempts counted since
// WindowStart, and until when further attempts are refused. The rules that
// move it live with the use cases; the store only keeps it, so that limits
// hold across restarts and across processes.
type Throttle struct {
	Key          string
	Count        int
	WindowStart  time.Time
	BlockedUntil time.Time
	LastAt       time.Time
}

// LockThrottle returns the throttle with key, locked until the transaction
// ends, so that concurrent attempts are counted one after the other. A key
// never seen returns a zero Throttle with that key.
func (tx *Tx) LockThrottle(ctx context.Context, key string, now time.Time) (Throttle, error) {
	// Insert first: SELECT ... FOR UPDATE does not lock a row that does not
	// exist yet, and two first attempts would both start from zero.
	if _, err := tx.exec(ctx, `INSERT INTO throttles (key, count, window_start, blocked_until, last_at)
		VALUES ($1, 0, $2, 0, $2) ON CONFLICT (key) DO NOTHING`, key, micros(now)); err != nil {
		return Throttle{}, err
	}
	t := Throttle{Key: key}
	var blocked int64
	err := tx.q.QueryRowContext(ctx, `SELECT count, window_start, blocked_until, last_at FROM throttles
		WHERE key = $1`+tx.d.forUpdate, key).Scan(&t.Count, ts(&t.WindowStart), &blocked, ts(&t.LastAt))
	if blocked > 0 {
		t.BlockedUntil = time.UnixMicro(blocked).UTC()
	}
	return t, wrap(err)
}

// SaveThrottle stores t.
func (tx *Tx) SaveThrottle(ctx context.Context, t Throttle) error {
	var blocked int64
	if !t.BlockedUntil.IsZero() {
		blocked = t.BlockedUntil.UnixMicro()
	}
	_, err := tx.exec(ctx, `UPDATE throttles SET count = $2, window_start = $3, blocked_until = $4, last_at = $5
		WHERE key = $1`, t.Key, t.Count, micros(t.WindowStart), blocked, micros(t.LastAt))
	return err
}

// DeleteThrottle forgets the throttle with key.
func (tx *Tx) DeleteThrottle(ctx context.Context, key string) error {
	_, err := tx.exec(ctx, `DELETE FROM throttles WHERE key = $1`, key)
	return err
}

// DeleteStaleThrottles forgets throttles with no attempt since before and no
// block in force at before. Returns how many.
func (db *DB) DeleteStaleThrottles(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM throttles WHERE last_at < $1 AND blocked_until < $1`, micros(before))
	if err != nil {
		return 0, wrap(err)
	}
	return res.RowsAffected()
}
