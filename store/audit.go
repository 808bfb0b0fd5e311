package store

import (
	"context"
	"fmt"

	"github.com/equipe-dev/equipe"
)

// eventColumns are the columns of an event as RecordAudit writes it, and
// eventParams their values, in its arguments' order.
const (
	eventColumns = `id, account_id, actor_type, actor_id, actor_name, action, target_type, target_id, before, after, ip, at`
	eventParams  = `$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12`
	eventInsert  = `INSERT INTO audit_events (` + eventColumns + `) VALUES (` + eventParams + `)`
)

// eventWrite writes an event and its webhook deliveries on PostgreSQL, in
// one statement: no round trip more, and the endpoints are read in the
// transaction itself.
const eventWrite = `WITH ev AS (` + eventInsert + `), d AS (` + deliveriesOf + ` RETURNING 1) SELECT COUNT(*) FROM d`

// numberedEventWrite is eventWrite numbering the event too: for a batch
// whose one event it is, written last, where the counter's row would be
// locked from the statement that numbers it after all the same (see
// RunBatch).
const numberedEventWrite = `WITH s AS (UPDATE event_sequence SET last = last + 1 WHERE one = 1 RETURNING last),
	ev AS (INSERT INTO audit_events (` + eventColumns + `, seq) VALUES (` + eventParams + `, (SELECT last FROM s))),
	d AS (` + deliveriesOf + ` RETURNING 1) SELECT COUNT(*) FROM d`

// RecordAudit appends a change event to the audit log, and queues its
// webhook deliveries in the same writes: one for every enabled endpoint
// subscribed to its type, of its account or of the instance (see
// queueDeliveries). The event is numbered for the change stream when the
// transaction commits (see sequenceEvents). Events are never updated.
func (w Writes) RecordAudit(ctx context.Context, e *equipe.AuditEvent) error {
	args := []any{e.ID, idv(e.AccountID), e.ActorType, idv(e.ActorID), e.ActorName, e.Action, e.TargetType, e.TargetID,
		e.Before, e.After, e.IP, micros(e.At)}
	if d := w.deferring(); d != nil {
		d.add(eventsRecorded, "", args...)
		w.x.recorded(e.ID)
		return nil
	}
	if w.d.engine == Postgres {
		var n int
		if err := w.queryRow(ctx, eventWrite, append(args, aboutMember(args[1], e.Action, e.TargetType, e.TargetID)), &n); err != nil {
			return err
		}
		if n > 0 {
			w.x.queue()
		}
		w.x.recorded(e.ID)
		return nil
	}
	if t, ok := w.x.(txWriter); ok {
		// Numbered as it is inserted (see nextSeq).
		seq, err := t.nextSeq(ctx)
		if err != nil {
			return err
		}
		if _, err := w.exec(ctx, `INSERT INTO audit_events (`+eventColumns+`, seq) VALUES (`+eventParams+`, $13)`,
			append(args, seq)...); err != nil {
			return err
		}
	} else {
		if _, err := w.exec(ctx, eventInsert, args...); err != nil {
			return err
		}
		w.x.recorded(e.ID)
	}
	return w.queueDeliveries(ctx, e)
}

// eventsRecorded is RecordAudit deferred: one statement writes the events,
// another their webhook deliveries (on SQLite, only when an endpoint
// subscribes to one of them).
var eventsRecorded = &deferredKind{name: "audit_events", write: func(ctx context.Context, w Writes, q querier, rows [][]any) error {
	insert := insertValues(`INSERT INTO audit_events (`+eventColumns+`) VALUES`, nil)
	if err := insert(ctx, w, q, rows); err != nil {
		return err
	}
	var ids []any
	queued := false
	// deliver runs a statement that queues deliveries, and notes whether
	// it queued any.
	deliver := func(query string, args ...any) error {
		res, err := q.ExecContext(ctx, query, args...)
		if err != nil {
			return wrap(err)
		}
		c, err := res.RowsAffected()
		queued = queued || c > 0
		return wrap(err)
	}
	for _, r := range rows {
		action := r[5].(string)
		member := aboutMember(r[1], action, r[6].(string), r[7].(string))
		if w.d.engine == SQLite {
			var account *equipe.ID
			if a, ok := r[1].(string); ok {
				id, err := equipe.ParseID(a)
				if err != nil {
					return err
				}
				account = &id
			}
			if ok, err := w.subs.anyFor(ctx, q, account, action, member != nil); err != nil {
				return err
			} else if !ok {
				continue
			}
		}
		ids = append(ids, r[0])
		if member != nil {
			if err := deliver(fmt.Sprintf(memberDeliveries, w.d.contains(`' ' || types || ' '`, `' ' || $2 || ' '`)),
				r[0], action, r[11], member); err != nil {
				return err
			}
		}
	}
	for len(ids) > 0 {
		n := min(len(ids), maxParams)
		if err := deliver(`INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, status, attempts,
			next_attempt_at, created_at)
			SELECT w.id, e.id, e.action, 'queued', 0, e.at, e.at FROM audit_events e JOIN webhook_endpoints w
			ON w.enabled AND (w.account_id IS NULL OR w.account_id = e.account_id)
			AND (w.types = '*' OR `+w.d.contains(`' ' || w.types || ' '`, `' ' || e.action || ' '`)+`)
			WHERE e.id IN (`+params(1, n)+`) ORDER BY e.id, w.id`, ids[:n]...); err != nil {
			return err
		}
		ids = ids[n:]
	}
	if queued {
		w.x.queue()
	}
	return nil
}}

// AuditFilter selects audit events. Zero fields select everything.
type AuditFilter struct {
	AccountID *equipe.ID
	ActorID   *equipe.ID
	Action    string
	TargetID  string     // events about this object (a user's ID for members)
	Before    *equipe.ID // the cursor: events older than this one
	Limit     int        // the most events returned (default 50)
}

// AuditEvents returns the events that f selects, newest first: f.Limit of
// them at most.
func (q Queries) AuditEvents(ctx context.Context, f AuditFilter) ([]equipe.AuditEvent, error) {
	query := `SELECT id, account_id, actor_type, actor_id, actor_name, action, target_type, target_id, before, after, ip, at
		FROM audit_events WHERE 1 = 1`
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + itoa(len(args))
	}
	if f.AccountID != nil {
		query += " AND account_id = " + arg(*f.AccountID)
	}
	if f.ActorID != nil {
		query += " AND actor_id = " + arg(*f.ActorID)
	}
	if f.Action != "" {
		query += " AND action = " + arg(f.Action)
	}
	if f.TargetID != "" {
		query += " AND target_id = " + arg(f.TargetID)
	}
	if f.Before != nil {
		query += " AND id < " + arg(*f.Before)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	query += " ORDER BY id DESC LIMIT " + arg(limit)
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []equipe.AuditEvent
	for rows.Next() {
		var e equipe.AuditEvent
		if err := rows.Scan(&e.ID, idp(&e.AccountID), &e.ActorType, idp(&e.ActorID), &e.ActorName, &e.Action,
			&e.TargetType, &e.TargetID, &e.Before, &e.After, &e.IP, ts(&e.At)); err != nil {
			return nil, wrap(err)
		}
		out = append(out, e)
	}
	return out, wrap(rows.Err())
}
