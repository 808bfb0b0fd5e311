package store

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
)

const emailColumns = `id, message_id, recipient, template, locale, subject, body_text, body_html, status, attempts,
	next_attempt_at, claim, last_error, created_at, sent_at`

func scanEmail(row interface{ Scan(...any) error }, e *equipe.Email) error {
	return row.Scan(&e.ID, &e.MessageID, &e.To, &e.Template, &e.Locale, &e.Subject, &e.Text, &e.HTML, &e.Status,
		&e.Attempts, ts(&e.NextAttemptAt), nstr(&e.Claim), &e.LastError, ts(&e.CreatedAt), ts(&e.SentAt))
}

// EnqueueEmail writes e to the outbox as queued, due at e.NextAttemptAt (or
// at once). It belongs in the transaction of the change that causes the
// email, so that both commit or neither does.
func (w Writes) EnqueueEmail(ctx context.Context, e *equipe.Email) error {
	if e.NextAttemptAt.IsZero() {
		e.NextAttemptAt = e.CreatedAt
	}
	e.Status = equipe.EmailQueued
	args := []any{e.ID, e.MessageID, e.To, e.Template, e.Locale, e.Subject, e.Text, e.HTML, e.Status, 0,
		micros(e.NextAttemptAt), micros(e.CreatedAt), someID(e.PersonID), someID(e.OtherPersonID)}
	if d := w.deferring(); d != nil {
		d.add(emailsQueued, "", args...)
		return nil
	}
	_, err := w.exec(ctx, insertOutbox+` ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`, args...)
	return err
}

const insertOutbox = `INSERT INTO outbox (id, message_id, recipient, template, locale, subject, body_text,
		body_html, status, attempts, next_attempt_at, created_at, person_id, other_person_id) VALUES`

// emailsQueued is EnqueueEmail deferred.
var emailsQueued = &deferredKind{name: "outbox", write: insertValues(insertOutbox, nil)}

// ClaimEmails claims up to limit emails that are due at now for the worker
// whose claim is claim: queued ones whose next attempt has come, and ones
// whose previous claim lapsed (a worker that died while sending). A claimed
// email is processing until its lease ends; the claim counts as an attempt.
// Two workers never hold the same email at once: on PostgreSQL the rows are
// locked with SKIP LOCKED, on SQLite the single writer serialises claims.
func (db *DB) ClaimEmails(ctx context.Context, now time.Time, lease time.Duration, limit int, claim string) ([]equipe.Email, error) {
	var out []equipe.Email
	err := db.Write(ctx, func(tx *Tx) error {
		out = out[:0]
		rows, err := tx.q.QueryContext(ctx, `SELECT id FROM outbox
			WHERE status IN ('queued', 'processing') AND next_attempt_at <= $1
			ORDER BY next_attempt_at, id LIMIT $2`+tx.Queries.d.skipLocked, micros(now), limit)
		if err != nil {
			return wrap(err)
		}
		var ids []equipe.ID
		for rows.Next() {
			var id equipe.ID
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return wrap(err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap(err)
		}
		for _, id := range ids {
			// While processing, next_attempt_at holds the end of the lease: a
			// claim that lapses makes the email due again.
			var e equipe.Email
			err := scanEmail(tx.q.QueryRowContext(ctx, `UPDATE outbox SET status = 'processing', claim = $2,
				claimed_until = $3, next_attempt_at = $3, attempts = attempts + 1
				WHERE id = $1 RETURNING `+emailColumns, id, claim, micros(now.Add(lease))), &e)
			if err != nil {
				return wrap(err)
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// RenewEmailClaims extends to until the lease of the emails the worker
// whose claim is claim still holds, and returns how many it holds. An email
// whose lease lapsed and that another worker has claimed since is no
// longer held: renewing never takes an email back. A lapsed lease that
// nobody took over is extended, since its worker is alive after all.
func (db *DB) RenewEmailClaims(ctx context.Context, claim string, until time.Time) (int, error) {
	res, err := db.w.ExecContext(ctx, `UPDATE outbox SET claimed_until = $2, next_attempt_at = $2
		WHERE claim = $1 AND status = 'processing'`, claim, micros(until))
	if err != nil {
		return 0, wrap(err)
	}
	n, err := res.RowsAffected()
	return int(n), wrap(err)
}

// MarkEmailSent records that the email was delivered at at, if the worker
// still holds it under claim. The bodies are emptied: they may carry one-time
// links, which must not outlive their delivery in the database.
//
// The notice that a person's identity was erased (ErasedRecipientTemplate)
// loses its recipient too: it was the last trace of their address.
func (db *DB) MarkEmailSent(ctx context.Context, id equipe.ID, claim string, at time.Time) error {
	_, err := db.w.ExecContext(ctx, `UPDATE outbox SET status = 'sent', sent_at = $3, claim = NULL,
		claimed_until = NULL, body_text = '', body_html = '', last_error = '',
		recipient = CASE WHEN template = $4 THEN '' ELSE recipient END
		WHERE id = $1 AND claim = $2 AND status = 'processing'`, id, claim, micros(at), ErasedRecipientTemplate)
	return wrap(err)
}

// MarkEmailFailed records a failed delivery attempt of the email held under
// claim: it is queued again for next, or abandoned (bodies emptied, error
// kept) when abandon is true.
func (db *DB) MarkEmailFailed(ctx context.Context, id equipe.ID, claim, lastError string, next time.Time, abandon bool) error {
	if abandon {
		_, err := db.w.ExecContext(ctx, `UPDATE outbox SET status = 'abandoned', claim = NULL, claimed_until = NULL,
			last_error = $3, body_text = '', body_html = '',
			recipient = CASE WHEN template = $4 THEN '' ELSE recipient END
			WHERE id = $1 AND claim = $2 AND status = 'processing'`, id, claim, lastError, ErasedRecipientTemplate)
		return wrap(err)
	}
	_, err := db.w.ExecContext(ctx, `UPDATE outbox SET status = 'queued', claim = NULL, claimed_until = NULL,
		last_error = $3, next_attempt_at = $4
		WHERE id = $1 AND claim = $2 AND status = 'processing'`, id, claim, lastError, micros(next))
	return wrap(err)
}

// ErasedRecipientTemplate is the email template (mail.TemplateIdentityDeleted)
// whose recipient is erased once delivered or abandoned: it goes to the
// address of a person whose identity was erased.
const ErasedRecipientTemplate = "identity_deleted"

// EmailByID returns the outbox email with id, or ENOTFOUND.
func (q Queries) EmailByID(ctx context.Context, id equipe.ID) (equipe.Email, error) {
	var e equipe.Email
	err := scanEmail(q.q.QueryRowContext(ctx, `SELECT `+emailColumns+` FROM outbox WHERE id = $1`, id), &e)
	return e, wrap(err)
}

// Emails returns outbox emails, newest first, of the given status (all when
// empty), at most limit.
func (q Queries) Emails(ctx context.Context, status equipe.EmailStatus, limit int) ([]equipe.Email, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+emailColumns+` FROM outbox
		WHERE status = $1 OR $1 = '' ORDER BY id DESC LIMIT $2`, string(status), limit)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []equipe.Email
	for rows.Next() {
		var e equipe.Email
		if err := scanEmail(rows, &e); err != nil {
			return nil, wrap(err)
		}
		out = append(out, e)
	}
	return out, wrap(rows.Err())
}

// EmailCounts returns how many outbox emails are in each status.
func (q Queries) EmailCounts(ctx context.Context) (map[equipe.EmailStatus]int, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT status, COUNT(*) FROM outbox GROUP BY status`)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	out := map[equipe.EmailStatus]int{}
	for rows.Next() {
		var s equipe.EmailStatus
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, wrap(err)
		}
		out[s] = n
	}
	return out, wrap(rows.Err())
}

// NextEmailDue returns when the earliest queued or processing email is due,
// and false when there is none.
func (q Queries) NextEmailDue(ctx context.Context) (time.Time, bool, error) {
	var t time.Time
	err := q.q.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM outbox
		WHERE status IN ('queued', 'processing')`).Scan(ts(&t))
	if err != nil {
		return time.Time{}, false, wrap(err)
	}
	return t, !t.IsZero(), nil
}
