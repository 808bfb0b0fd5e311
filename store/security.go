package store

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
)

// SecurityEvent is a request refused across tenants: an actor (a user or a
// key, by ID) asked about an account out of their reach, for what (a
// permission or an operation), when.
type SecurityEvent struct {
	ID        equipe.ID
	Kind      string
	ActorType string
	ActorID   *equipe.ID
	AccountID *equipe.ID
	What      string
	At        time.Time
}

// RecordSecurityEvent appends e to the security log.
func (db *DB) RecordSecurityEvent(ctx context.Context, e *SecurityEvent) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO security_events (id, kind, actor_type, actor_id, account_id, what, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, e.ID, e.Kind, e.ActorType, idv(e.ActorID), idv(e.AccountID), e.What, micros(e.At))
	return wrap(err)
}

// SecurityEvents returns up to limit events of the security log older than
// before (nil: the newest), newest first.
func (q Queries) SecurityEvents(ctx context.Context, before *equipe.ID, limit int) ([]SecurityEvent, error) {
	query := `SELECT id, kind, actor_type, actor_id, account_id, what, at FROM security_events`
	args := []any{}
	if before != nil {
		args = append(args, *before)
		query += " WHERE id < $1"
	}
	args = append(args, limit)
	query += " ORDER BY id DESC LIMIT $" + itoa(len(args))
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []SecurityEvent
	for rows.Next() {
		var e SecurityEvent
		if err := rows.Scan(&e.ID, &e.Kind, &e.ActorType, idp(&e.ActorID), idp(&e.AccountID), &e.What, ts(&e.At)); err != nil {
			return nil, wrap(err)
		}
		out = append(out, e)
	}
	return out, wrap(rows.Err())
}
