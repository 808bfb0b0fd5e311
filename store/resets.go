package store

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
)

// ResetRequest is a password-reset request waiting to be looked up: the
// address as its comparison key, where it came from, when.
type ResetRequest struct {
	ID        equipe.ID
	EmailKey  string
	IP        string
	CreatedAt time.Time
}

// QueueResetRequest queues r.
func (w Writes) QueueResetRequest(ctx context.Context, r *ResetRequest) error {
	_, err := w.exec(ctx, `INSERT INTO reset_requests (id, email_key, ip, created_at) VALUES ($1, $2, $3, $4)`,
		r.ID, r.EmailKey, r.IP, micros(r.CreatedAt))
	return err
}

// TakeResetRequest removes the oldest waiting request and returns it, or
// ENOTFOUND when none waits. The removal is part of the transaction: a
// request is taken by one transaction only (others skip it on PostgreSQL;
// SQLite has one writer), and comes back if the transaction does not
// commit.
func (tx *Tx) TakeResetRequest(ctx context.Context) (ResetRequest, error) {
	var r ResetRequest
	err := tx.q.QueryRowContext(ctx, `DELETE FROM reset_requests WHERE id = (SELECT id FROM reset_requests
		ORDER BY id LIMIT 1`+tx.Queries.d.skipLocked+`) RETURNING id, email_key, ip, created_at`).
		Scan(&r.ID, &r.EmailKey, &r.IP, ts(&r.CreatedAt))
	return r, wrap(err)
}

// CountResetRequests returns how many requests wait.
func (q Queries) CountResetRequests(ctx context.Context) (int, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM reset_requests`).Scan(&n)
	return n, wrap(err)
}
