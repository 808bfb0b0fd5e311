package store

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
)

// MemberImport is an import of members from a file, with its progress.
type MemberImport struct {
	ID        equipe.ID
	AccountID equipe.ID
	Actor     string // who runs it, as the use case wrote it
	Status    string // planned, running, done
	Total     int
	Processed int
	Added     int
	Updated   int
	Unchanged int
	Skipped   int
	CreatedAt time.Time
	// FinishedAt is when the last row was done (zero until then; stored
	// as 0, see orNever).
	FinishedAt time.Time
}

// ImportRow is one row of an import: its line in the file, what to do
// (Data, as the use case wrote it), and what was done.
type ImportRow struct {
	Line    int
	Data    string
	Outcome string // "" until done; added, updated, unchanged, skipped
	Reason  string // why a row was skipped: a message key
}

const importColumns = `id, account_id, actor, status, total, processed, added, updated, unchanged, skipped, created_at, finished_at`

func scanImport(row interface{ Scan(...any) error }, m *MemberImport) error {
	return wrap(row.Scan(&m.ID, &m.AccountID, &m.Actor, &m.Status, &m.Total, &m.Processed, &m.Added, &m.Updated,
		&m.Unchanged, &m.Skipped, ts(&m.CreatedAt), orNever(&m.FinishedAt)))
}

// CreateImport writes a planned import and its rows.
func (w Writes) CreateImport(ctx context.Context, m *MemberImport, rows []ImportRow) error {
	if _, err := w.exec(ctx, `INSERT INTO member_imports (id, account_id, actor, status, total, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, m.ID, m.AccountID, m.Actor, m.Status, m.Total, micros(m.CreatedAt)); err != nil {
		return err
	}
	// Many rows per statement: a file of 10,000 rows is 100 statements.
	const per = 100
	for start := 0; start < len(rows); start += per {
		batch := rows[start:min(len(rows), start+per)]
		var b strings.Builder
		args := make([]any, 0, 3*len(batch))
		b.WriteString(`INSERT INTO member_import_rows (import_id, line, data) VALUES `)
		for i, r := range batch {
			if i > 0 {
				b.WriteString(", ")
			}
			n := len(args)
			b.WriteString("($" + itoa(n+1) + ", $" + itoa(n+2) + ", $" + itoa(n+3) + ")")
			args = append(args, m.ID, r.Line, r.Data)
		}
		if _, err := w.exec(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// KeepNewestPlannedImports deletes the account's planned imports but its
// keep newest, with their rows.
func (w Writes) KeepNewestPlannedImports(ctx context.Context, account equipe.ID, keep int) error {
	_, err := w.exec(ctx, `DELETE FROM member_imports WHERE account_id = $1 AND status = 'planned' AND id NOT IN (
		SELECT id FROM member_imports WHERE account_id = $1 AND status = 'planned' ORDER BY created_at DESC, id DESC LIMIT $2)`,
		account, keep)
	return err
}

// Import returns the account's import id (ENOTFOUND for none).
func (q Queries) Import(ctx context.Context, account, id equipe.ID) (MemberImport, error) {
	var m MemberImport
	err := scanImport(q.q.QueryRowContext(ctx, `SELECT `+importColumns+` FROM member_imports
		WHERE id = $1 AND account_id = $2`, id, account), &m)
	return m, err
}

// StartImport makes a planned import running. Returns ENOTFOUND when it is
// not planned (started already, or unknown).
func (w Writes) StartImport(ctx context.Context, account, id equipe.ID) error {
	return w.execOne(ctx, `UPDATE member_imports SET status = 'running' WHERE id = $1 AND account_id = $2 AND status = 'planned'`,
		id, account)
}

// ClaimImport gives the running import id to the caller until until, if no
// one holds it at now, and reports whether it did.
func (db *DB) ClaimImport(ctx context.Context, id equipe.ID, now, until time.Time) (bool, error) {
	res, err := db.w.ExecContext(ctx, `UPDATE member_imports SET claimed_until = $3
		WHERE id = $1 AND status = 'running' AND claimed_until <= $2`, id, micros(now), micros(until))
	if err != nil {
		return false, wrap(err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap(err)
}

// ReleaseImport lets another process take the import up at once.
func (db *DB) ReleaseImport(ctx context.Context, id equipe.ID) error {
	_, err := db.w.ExecContext(ctx, `UPDATE member_imports SET claimed_until = 0 WHERE id = $1`, id)
	return wrap(err)
}

// StalledImports returns the running imports that no process holds at
// now: those whose process stopped.
func (q Queries) StalledImports(ctx context.Context, now time.Time) ([]equipe.ID, error) {
	return queryIDs(ctx, q.q, `SELECT id FROM member_imports WHERE status = 'running' AND claimed_until <= $1
		ORDER BY created_at`, micros(now))
}

// PendingImportRows returns up to limit rows of the import not done yet,
// in the order of the file.
func (q Queries) PendingImportRows(ctx context.Context, id equipe.ID, limit int) ([]ImportRow, error) {
	return q.importRows(ctx, `SELECT line, data, outcome, reason FROM member_import_rows
		WHERE import_id = $1 AND outcome = '' ORDER BY line LIMIT $2`, id, limit)
}

// SkippedImportRows returns the rows of the import that were skipped, in
// the order of the file, up to limit.
func (q Queries) SkippedImportRows(ctx context.Context, id equipe.ID, limit int) ([]ImportRow, error) {
	return q.importRows(ctx, `SELECT line, data, outcome, reason FROM member_import_rows
		WHERE import_id = $1 AND outcome = 'skipped' ORDER BY line LIMIT $2`, id, limit)
}

func (q Queries) importRows(ctx context.Context, query string, args ...any) ([]ImportRow, error) {
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []ImportRow
	for rows.Next() {
		var r ImportRow
		if err := rows.Scan(&r.Line, &r.Data, &r.Outcome, &r.Reason); err != nil {
			return nil, wrap(err)
		}
		out = append(out, r)
	}
	return out, wrap(rows.Err())
}

// ImportRowMention is a row of an import, of any account, that names a
// person (see ImportRowsMentioning).
type ImportRowMention struct {
	ImportID equipe.ID
	Line     int
	Data     string
}

// ImportRowsMentioning returns the rows of every import whose data holds
// one of the addresses as a whole value, compared without regard to case
// (a file holds them as typed): a person's deletion erases them.
func (q Queries) ImportRowsMentioning(ctx context.Context, addresses []string) ([]ImportRowMention, error) {
	var conds []string
	var args []any
	for _, a := range addresses {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == "" {
			continue
		}
		// As the data holds it: a JSON string, quotes included.
		quoted, err := json.Marshal(a)
		if err != nil {
			return nil, err
		}
		args = append(args, string(quoted))
		conds = append(conds, q.d.contains("LOWER(data)", "$"+itoa(len(args))))
	}
	if len(conds) == 0 {
		return nil, nil
	}
	rows, err := q.q.QueryContext(ctx, `SELECT import_id, line, data FROM member_import_rows WHERE `+
		strings.Join(conds, " OR ")+` ORDER BY import_id, line`, args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []ImportRowMention
	for rows.Next() {
		var r ImportRowMention
		if err := rows.Scan(&r.ImportID, &r.Line, &r.Data); err != nil {
			return nil, wrap(err)
		}
		out = append(out, r)
	}
	return out, wrap(rows.Err())
}

// RewriteImportRow replaces the data of a row of an import (see
// ImportRowsMentioning).
func (w Writes) RewriteImportRow(ctx context.Context, id equipe.ID, line int, data string) error {
	return w.execOne(ctx, `UPDATE member_import_rows SET data = $3 WHERE import_id = $1 AND line = $2`, id, line, data)
}

// ImportRowsTaken is the key of the ECONFLICT of RecordImportRows when a
// row was done already: another process took the import up meanwhile.
const ImportRowsTaken = "import.rows_taken"

// RecordImportRows writes what was done to rows of the import (their
// Outcome and Reason) and counts them in its progress; done finishes the
// import at at. Each row must still be to do (ECONFLICT ImportRowsTaken
// otherwise): in the transaction that applied the rows, this keeps a
// process that lost its claim from applying them a second time.
func (w Writes) RecordImportRows(ctx context.Context, id equipe.ID, rows []ImportRow, done bool, at time.Time) error {
	// One statement per outcome and reason, not per row: a batch is mostly
	// rows added, or updated.
	type result struct{ outcome, reason string }
	lines := map[result][]int{}
	var order []result
	counts := map[string]int{}
	for _, r := range rows {
		k := result{r.Outcome, r.Reason}
		if _, ok := lines[k]; !ok {
			order = append(order, k)
		}
		lines[k] = append(lines[k], r.Line)
		counts[r.Outcome]++
	}
	for _, k := range order {
		var in strings.Builder
		args := []any{id, k.outcome, k.reason}
		for i, line := range lines[k] {
			if i > 0 {
				in.WriteString(", ")
			}
			args = append(args, line)
			in.WriteString("$" + itoa(len(args)))
		}
		n, err := w.exec(ctx, `UPDATE member_import_rows SET outcome = $2, reason = $3 WHERE import_id = $1 AND outcome = ''
			AND line IN (`+in.String()+`)`, args...)
		if err != nil {
			return err
		}
		if n != int64(len(lines[k])) {
			return &equipe.Error{Code: equipe.ECONFLICT, Key: ImportRowsTaken}
		}
	}
	status, finished := "running", zeroNever(time.Time{})
	if done {
		status, finished = "done", zeroNever(at)
	}
	return w.execOne(ctx, `UPDATE member_imports SET processed = processed + $2, added = added + $3, updated = updated + $4,
		unchanged = unchanged + $5, skipped = skipped + $6, status = $7, finished_at = $8 WHERE id = $1`,
		id, len(rows), counts["added"], counts["updated"], counts["unchanged"], counts["skipped"], status, finished)
}

// DeleteStaleImports deletes the planned imports made before before that
// were never started. Returns how many.
func (db *DB) DeleteStaleImports(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM member_imports WHERE status = 'planned' AND created_at < $1`, micros(before))
	if err != nil {
		return 0, wrap(err)
	}
	return res.RowsAffected()
}

// QueryImport reads the import id into m.
func (q Queries) QueryImport(ctx context.Context, id equipe.ID, m *MemberImport) error {
	return scanImport(q.q.QueryRowContext(ctx, `SELECT `+importColumns+` FROM member_imports WHERE id = $1`, id), m)
}

// ClaimImportAgain extends the claim of the running import id to until.
// It reports false when the claim was lost (another process took the
// import up).
func (db *DB) ClaimImportAgain(ctx context.Context, id equipe.ID, until time.Time) (bool, error) {
	res, err := db.w.ExecContext(ctx, `UPDATE member_imports SET claimed_until = $2 WHERE id = $1 AND status = 'running'`,
		id, micros(until))
	if err != nil {
		return false, wrap(err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap(err)
}
