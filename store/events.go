package store

import (
	"context"
	"strings"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
)

// Every event gets a sequence number when the transaction that recorded it
// commits: the change stream serves events in that order, and a reader that
// has seen number n has seen every event numbered below n that still
// exists.
//
// The numbers come from a one-row counter (event_sequence), incremented as
// the last statements of the transaction. On SQLite one writer at a time
// makes the order of the increments the order of the commits. On
// PostgreSQL the increment locks the counter's row until the transaction
// ends, so two transactions that record events take their numbers and
// commit one after the other: a transaction becomes visible to others
// before it releases its locks, so by the time number n+1 can be taken,
// number n is visible to every new snapshot. A plain sequence would not do:
// its values are handed out when asked, not at commit, so a reader could
// see n+1 committed while n, taken earlier by a slower transaction, is not
// yet, move its cursor past n and never see it. The lock is held for the
// one statement per 200 events and the commit itself: transactions that record
// events commit one at a time (docs/changes.md says what that costs).

// sequenceEvents returns the statements that number the events ids, in the
// order they were recorded, on engine: for up to sequenceChunk events, the
// counter moved past them all, then each event numbered by its place, so
// that a unit recording many events (an import's batch) does not pay two
// round trips per event while it holds the counter's lock. On PostgreSQL
// that is one statement (the counter's update in a WITH, whose RETURNING
// gives the numbers: a transaction's round trip fewer); SQLite, which has
// no update in a WITH, takes two.
func sequenceEvents(engine Engine, ids []equipe.ID) []batchItem {
	var out []batchItem
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), sequenceChunk)]
		ids = ids[len(chunk):]
		var cases, in strings.Builder
		args := make([]any, len(chunk))
		for i, id := range chunk {
			p := "$" + itoa(i+1)
			cases.WriteString(" WHEN " + p + " THEN " + itoa(i+1))
			if i > 0 {
				in.WriteString(", ")
			}
			in.WriteString(p)
			args[i] = id
		}
		n := itoa(len(chunk))
		if engine == Postgres {
			out = append(out, batchItem{query: `WITH s AS (UPDATE event_sequence SET last = last + ` + n +
				` WHERE one = 1 RETURNING last) UPDATE audit_events SET seq = s.last - ` + n +
				` + CASE id` + cases.String() + ` END FROM s WHERE id IN (` + in.String() + `)`, args: args})
			continue
		}
		out = append(out,
			batchItem{query: `UPDATE event_sequence SET last = last + ` + n + ` WHERE one = 1`},
			batchItem{query: `UPDATE audit_events SET seq = (SELECT last FROM event_sequence WHERE one = 1) - ` + n +
				` + CASE id` + cases.String() + ` END WHERE id IN (` + in.String() + `)`, args: args})
	}
	return out
}

// On SQLite an event is numbered by the statement that inserts it instead:
// the writer's transactions hold the database from their BEGIN (they are
// immediate), so no other transaction can take a number between the
// counter's read, at the transaction's first event, and its commit, which
// moves the counter past the transaction's events. Numbering them after
// the fact rewrote each event's row and moved it in both indexes of seq, and
// parsed a statement whose text grew with the number of events: it was a
// third of the CPU time of writing events 100 to a transaction
// (BenchmarkRecordBurst).

// insertSeq is what a transaction numbered as it inserted events.
type insertSeq struct {
	base int64 // the counter, read at the first
	read bool
	n    int // events numbered so far: base+1 … base+n
}

// nextSeq returns the number of the transaction's next event (SQLite).
func (t txWriter) nextSeq(ctx context.Context) (int64, error) {
	s := t.seq
	if !s.read {
		if err := t.q.QueryRowContext(ctx, `SELECT last FROM event_sequence WHERE one = 1`).Scan(&s.base); err != nil {
			return 0, wrap(err)
		}
		s.read = true
	}
	s.n++
	return s.base + int64(s.n), nil
}

// sequenceChunk is the most events one statement numbers.
const sequenceChunk = 200

// SequencedEvent is an event with its sequence number.
type SequencedEvent struct {
	Seq   int64
	Event equipe.AuditEvent
}

// StreamFilter selects the events of the change stream. Zero fields select
// everything.
type StreamFilter struct {
	After int64 // events numbered above this
	// Account, when set, selects the events of this account's log, and of
	// the logs of the clients of the firm it is (Clients).
	Account *equipe.ID
	Clients bool
	// Members, with Account, also selects the events of a person's own
	// identity that concern the members of the selected accounts who
	// joined them (event.MemberTypes).
	Members bool
	Types   []string // events of these kinds
	Limit   int      // the most events returned (default 100)
}

// StreamEvents returns the events f selects, in the order of their numbers.
func (q Queries) StreamEvents(ctx context.Context, f StreamFilter) ([]SequencedEvent, error) {
	args := []any{f.After}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + itoa(len(args))
	}
	var types string
	if len(f.Types) > 0 {
		ps := make([]string, len(f.Types))
		for i, t := range f.Types {
			ps[i] = arg(t)
		}
		types = " AND action IN (" + strings.Join(ps, ", ") + ")"
	}
	// One part per index that finds the events (an account's own, its
	// clients', its members'), merged in the order of their numbers: a
	// condition joining them with OR would read every event after the
	// cursor, every account's, on PostgreSQL.
	const events = `SELECT seq, id, account_id, actor_type, actor_id, actor_name, action, target_type, target_id, before,
		after, ip, at FROM audit_events`
	parts := []string{events + " WHERE seq > $1" + types}
	if f.Account != nil {
		a := arg(*f.Account)
		accounts, clients := "m.account_id = "+a, "SELECT id FROM accounts WHERE parent_id = "+a
		parts[0] = events + " WHERE account_id = " + a + " AND seq > $1" + types
		if f.Clients {
			parts = append(parts, events+" WHERE account_id IN ("+clients+") AND seq > $1"+types)
			accounts = "(" + accounts + " OR m.account_id IN (" + clients + "))"
		}
		if f.Members {
			// From their own index (migration 0042), which the planner
			// takes only when the statement states its condition word for
			// word, and names it on SQLite (which prefers the sequence's
			// unique index).
			parts = append(parts, events+q.d.membersSeq+" WHERE "+memberKinds+` AND seq > $1 AND account_id IS NULL
				AND EXISTS (SELECT 1 FROM members m WHERE `+accounts+` AND CAST(m.user_id AS TEXT) = target_id
				AND m.joined_at IS NOT NULL)`+types)
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	query := strings.Join(parts, " UNION ALL ") + " ORDER BY seq LIMIT " + arg(limit)
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []SequencedEvent
	for rows.Next() {
		var s SequencedEvent
		e := &s.Event
		if err := rows.Scan(&s.Seq, &e.ID, idp(&e.AccountID), &e.ActorType, idp(&e.ActorID), &e.ActorName, &e.Action,
			&e.TargetType, &e.TargetID, &e.Before, &e.After, &e.IP, ts(&e.At)); err != nil {
			return nil, wrap(err)
		}
		out = append(out, s)
	}
	return out, wrap(rows.Err())
}

// LastEventSeq returns the number of the last event recorded (0 for none).
func (q Queries) LastEventSeq(ctx context.Context) (int64, error) {
	var n int64
	err := q.q.QueryRowContext(ctx, `SELECT last FROM event_sequence WHERE one = 1`).Scan(&n)
	return n, wrap(err)
}

// memberTypes are the kinds of events that an account hears of about its
// members (event.MemberTypes), and memberKinds the condition that selects
// them, as the index audit_events_members_seq states it.
var (
	memberTypes = func() []string {
		var out []string
		for _, t := range event.MemberTypes() {
			out = append(out, string(t))
		}
		return out
	}()
	memberKinds = "action IN ('" + strings.Join(memberTypes, "', '") + "')"
)
