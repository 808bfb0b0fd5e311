package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/equipe-dev/equipe"
)

// Deferred writes. A unit that writes many rows alike (a batch of an
// import: per row a user, a member, its resources, an event, and for some an
// invitation and its email) would otherwise pay a statement per write: on
// PostgreSQL a round trip each, and the server's work of starting each
// statement. Tx.Defer makes the writes that answer nothing the caller needs
// wait, and writes them together, one multi-row statement per kind of write
// (INSERT … VALUES (…), (…), or an UPDATE … WHERE user_id IN (…)), before
// the transaction's next other statement, its next savepoint, or its
// commit. Their statements are the same on both engines, but only
// PostgreSQL defers them (see Tx.Defer).
//
// Writes of one kind are merged into the statement of the first of them,
// so a deferred write must not need a write of another kind made after it
// in the unit: true of rows that each concern their own member, as an
// import's do (its file holds each address once).

// deferral is the deferred writes of a transaction.
type deferral struct {
	on    bool
	items []deferred
	// err is a flush that failed: the transaction can only roll back, and
	// its commit fails with it.
	err error
	// created indexes the pending member inserts by account and user, for
	// an invitation recorded after to change the row to insert instead of
	// updating it once written (see RecordInvitation).
	created map[[2]equipe.ID]int
	// q runs the merged statements: the transaction itself, not through the
	// statement cache (merged texts vary with the number of rows).
	q querier
	w Writes
}

// deferred is one deferred write: its kind's writer and this write's
// values.
type deferred struct {
	kind *deferredKind
	// group is written together: the writes of a kind with the same group
	// (an UPDATE's shared values) are merged into one statement.
	group string
	args  []any
}

// deferredKind is a kind of deferred write and how many of them are
// written in one statement.
type deferredKind struct {
	name string
	// write writes the rows (each a write's values) of one group in one
	// statement or a few.
	write func(ctx context.Context, w Writes, q querier, rows [][]any) error
}

// Defer makes the transaction's deferrable writes (users, members and
// their resources, events, tokens, emails, invitations recorded) wait, to
// be written together before the next other statement of the transaction,
// savepoint or commit, or at Flush. Their errors (a constraint broken)
// come then, from the statement that flushed them, without saying which
// write broke it: a caller that must know does the writes again without
// deferring them.
//
// On SQLite, which runs in the process, there is no round trip to save,
// and running a prepared single-row statement per write costs less than
// parsing the merged one (measured over an import: the merged statements'
// parsing alone took a third of its time): Defer does nothing there.
func (tx *Tx) Defer() { tx.def.on = tx.Queries.d.engine == Postgres }

// Flush writes the deferred writes now, and stops deferring.
func (tx *Tx) Flush(ctx context.Context) error {
	err := tx.def.flush(ctx)
	tx.def.on = false
	return err
}

// deferring returns the deferral of w's transaction when it defers writes.
func (w Writes) deferring() *deferral {
	if t, ok := w.x.(txWriter); ok && t.def != nil && t.def.on {
		return t.def
	}
	return nil
}

func (d *deferral) add(kind *deferredKind, group string, args ...any) {
	d.items = append(d.items, deferred{kind: kind, group: group, args: args})
}

// pendingMember returns the values of the member of the account not
// written yet, or nil.
func (d *deferral) pendingMember(account, user equipe.ID) []any {
	if i, ok := d.created[[2]equipe.ID{account, user}]; ok {
		return d.items[i].args
	}
	return nil
}

// flush writes the deferred writes: per kind and group, in the order of
// their first write, one statement.
func (d *deferral) flush(ctx context.Context) error {
	if d == nil || d.err != nil {
		if d != nil {
			return d.err
		}
		return nil
	}
	if len(d.items) == 0 {
		return nil
	}
	type key struct {
		kind  *deferredKind
		group string
	}
	var order []key
	rows := map[key][][]any{}
	for _, it := range d.items {
		k := key{it.kind, it.group}
		if _, ok := rows[k]; !ok {
			order = append(order, k)
		}
		rows[k] = append(rows[k], it.args)
	}
	d.items = d.items[:0]
	clear(d.created)
	for _, k := range order {
		if err := k.kind.write(ctx, d.w, d.q, rows[k]); err != nil {
			d.err = err
			return err
		}
	}
	return nil
}

// flushing runs a transaction's statements after its deferred writes.
type flushing struct {
	querier
	def *deferral
}

func (f flushing) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := f.def.flush(ctx); err != nil {
		return nil, err
	}
	return f.querier.ExecContext(ctx, query, args...)
}

func (f flushing) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := f.def.flush(ctx); err != nil {
		return nil, err
	}
	return f.querier.QueryContext(ctx, query, args...)
}

// QueryRowContext cannot answer the flush's error (a Row carries the
// query's own): the error stays in the deferral, and the commit answers it.
func (f flushing) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	f.def.flush(ctx)
	return f.querier.QueryRowContext(ctx, query, args...)
}

// maxParams bounds the parameters of a merged statement (PostgreSQL takes
// 65,535, SQLite 32,766).
const maxParams = 30_000

// insertValues writes rows with the INSERT head ("INSERT INTO t (…)
// VALUES"), a row a tuple, as many rows a statement as the parameters
// allow; fail maps a statement's error.
func insertValues(head string, fail func(error) error) func(context.Context, Writes, querier, [][]any) error {
	return func(ctx context.Context, _ Writes, q querier, rows [][]any) error {
		for len(rows) > 0 {
			width := len(rows[0])
			n := min(len(rows), maxParams/width)
			var b strings.Builder
			args := make([]any, 0, n*width)
			b.WriteString(head)
			for i, r := range rows[:n] {
				if i > 0 {
					b.WriteString(",")
				}
				b.WriteString(" (")
				for j, v := range r {
					if j > 0 {
						b.WriteString(", ")
					}
					args = append(args, v)
					b.WriteString("$" + itoa(len(args)))
				}
				b.WriteString(")")
			}
			if _, err := q.ExecContext(ctx, b.String(), args...); err != nil {
				err = wrap(err)
				if fail != nil {
					err = fail(err)
				}
				return err
			}
			rows = rows[n:]
		}
		return nil
	}
}

// params returns "$from, $from+1, …" for n parameters.
func params(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + itoa(from+i))
	}
	return b.String()
}

// execAll runs query, whose last parameters are ids (after the shared
// ones), in as many statements as the parameters allow, and checks that it
// changed want rows in all (-1: any number); fewer answer missing.
func execAll(ctx context.Context, q querier, query func(in string) string, shared []any, ids []any, want int, missing error) error {
	changed := 0
	for len(ids) > 0 {
		n := min(len(ids), maxParams-len(shared))
		args := append(append([]any{}, shared...), ids[:n]...)
		res, err := q.ExecContext(ctx, query(params(len(shared)+1, n)), args...)
		if err != nil {
			return wrap(err)
		}
		c, err := res.RowsAffected()
		if err != nil {
			return wrap(err)
		}
		changed += int(c)
		ids = ids[n:]
	}
	if want >= 0 && changed != want {
		return missing
	}
	return nil
}

// errDeferredNotFound is what a deferred write that had to change a row
// answers when it changed none.
var errDeferredNotFound = equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
