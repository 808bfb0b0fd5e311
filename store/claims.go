package store

import (
	"strconv"
	"strings"

	"github.com/equipe-dev/equipe"
)

// Queues that a worker of package outbox delivers (webhook deliveries,
// back-channel logout notices) share their shape: rows with a status
// ('queued', 'processing', 'delivered', 'abandoned'), next_attempt_at, a
// claim, last_error and delivered_at. While a row is processing,
// next_attempt_at holds the end of its lease: a claim that lapses (its
// worker died) makes the row due again. The statements below claim and
// record such rows, a batch in one statement each.

// claimStatement returns the statement that claims up to $2 rows of table
// due at $1 for the claim $3 until $4, returning returning. key names a
// row (a column, or columns in parentheses); due adds to the condition of a due
// row, set to what a claim sets. Two workers never hold the same row: on
// PostgreSQL the rows are locked with SKIP LOCKED, on SQLite the single
// writer serialises claims.
func (d *dialect) claimStatement(table, key, due, set, returning string) string {
	return `UPDATE ` + table + ` SET status = 'processing', claim = $3, next_attempt_at = $4` + set + `
		WHERE ` + key + ` IN (SELECT ` + strings.Trim(key, "()") + ` FROM ` + table + `
		WHERE status IN ('queued', 'processing') AND next_attempt_at <= $1` + due + `
		ORDER BY next_attempt_at LIMIT $2` + d.skipLocked + `) RETURNING ` + returning
}

// recordStatement returns the statement that records the outcomes of
// attempts, read from the JSON array $1 as the table v (jsonRows, with
// columns status, next_at, at and error at least), on the rows of table
// that the claim $2 still holds, matched by match; set adds to what is
// set. An outcome of a row the worker no longer holds (its lease lapsed
// and another worker took it) changes nothing.
func (d *dialect) recordStatement(table string, columns [][2]string, match, set string) string {
	return `UPDATE ` + table + ` SET status = v.status, next_attempt_at = v.next_at, last_error = v.error, claim = NULL,
		delivered_at = CASE WHEN v.status = 'delivered' THEN v.at ELSE delivered_at END` + set + `
		FROM ` + jsonRows(d, "$1", columns) + ` WHERE ` + match + ` AND ` + table + `.claim = $2
		AND ` + table + `.status = 'processing'`
}

// notAmong returns the condition that column holds none of ids, with
// placeholders from $first on, and its arguments: "" when there are none.
func notAmong(column string, first int, ids []equipe.ID) (string, []any) {
	if len(ids) == 0 {
		return "", nil
	}
	var b strings.Builder
	args := make([]any, len(ids))
	b.WriteString(" AND " + column + " NOT IN (")
	for i, id := range ids {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(first+i))
		args[i] = id
	}
	b.WriteString(")")
	return b.String(), args
}
