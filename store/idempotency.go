package store

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
)

// IdempotentRequest is a request made with an Idempotency-Key, as stored:
// claimed while it runs (Done false), then with its answer.
type IdempotentRequest struct {
	Scope, Key  string
	Fingerprint []byte
	Done        bool
	Status      int
	Header      string // the answer's kept header fields, a JSON object
	Body        []byte
	CreatedAt   time.Time
	LockedUntil time.Time
}

const idempotencyColumns = `scope, key, fingerprint, state, status, header, body, created_at, locked_until`

func scanIdempotent(row interface{ Scan(...any) error }, r *IdempotentRequest) error {
	var state string
	err := row.Scan(&r.Scope, &r.Key, &r.Fingerprint, &state, &r.Status, &r.Header, &r.Body, ts(&r.CreatedAt), ts(&r.LockedUntil))
	r.Done = state == "done"
	return wrap(err)
}

// ClaimIdempotencyKey claims the key of scope for the request whose
// fingerprint is fp, at now until lockedUntil, and reports whether it got
// the claim. It gets it when the key is new, when the key's row is older
// than expiredBefore (kept past its time, not yet deleted), or when the
// same request claimed it and its claim ran out (the process that held it
// stopped). Otherwise it returns the stored row: an answer, a claim still
// held, or another request's fingerprint. The claim is one statement, so
// concurrent requests with one key get it once.
func (db *DB) ClaimIdempotencyKey(ctx context.Context, scope, key string, fp []byte, now, lockedUntil, expiredBefore time.Time) (IdempotentRequest, bool, error) {
	var r IdempotentRequest
	for range 3 {
		row := db.w.QueryRowContext(ctx, `INSERT INTO idempotency_keys (`+idempotencyColumns+`)
			VALUES ($1, $2, $3, 'processing', 0, '{}', $4, $5, $6)
			ON CONFLICT (scope, key) DO UPDATE SET fingerprint = excluded.fingerprint, state = 'processing',
				status = 0, header = '{}', body = excluded.body, created_at = excluded.created_at, locked_until = excluded.locked_until
			WHERE idempotency_keys.created_at < $7
				OR (idempotency_keys.state = 'processing' AND idempotency_keys.locked_until <= $5
					AND idempotency_keys.fingerprint = excluded.fingerprint)
			RETURNING `+idempotencyColumns,
			scope, key, fp, []byte{}, micros(now), micros(lockedUntil), micros(expiredBefore))
		err := scanIdempotent(row, &r)
		if err == nil {
			return r, true, nil
		}
		if equipe.ErrorCode(err) != equipe.ENOTFOUND {
			return r, false, err
		}
		err = scanIdempotent(db.w.QueryRowContext(ctx, `SELECT `+idempotencyColumns+` FROM idempotency_keys
			WHERE scope = $1 AND key = $2`, scope, key), &r)
		if err == nil {
			return r, false, nil
		}
		if equipe.ErrorCode(err) != equipe.ENOTFOUND {
			return r, false, err
		}
		// Deleted between the two statements: claim it again.
	}
	return r, false, equipe.Errorf(equipe.EUNAVAILABLE, "error.unavailable")
}

// FinishIdempotencyKey stores the answer of the request that holds the
// claim r (the claim it got from ClaimIdempotencyKey). It changes nothing
// if another request took the claim over meanwhile.
func (db *DB) FinishIdempotencyKey(ctx context.Context, r IdempotentRequest) error {
	_, err := db.w.ExecContext(ctx, `UPDATE idempotency_keys SET state = 'done', status = $3, header = $4, body = $5
		WHERE scope = $1 AND key = $2 AND state = 'processing' AND locked_until = $6`,
		r.Scope, r.Key, r.Status, r.Header, r.Body, micros(r.LockedUntil))
	return wrap(err)
}

// ReleaseIdempotencyKey deletes the claim r, so that the key may be used
// again (the request failed in a way a retry may mend).
func (db *DB) ReleaseIdempotencyKey(ctx context.Context, r IdempotentRequest) error {
	_, err := db.w.ExecContext(ctx, `DELETE FROM idempotency_keys
		WHERE scope = $1 AND key = $2 AND state = 'processing' AND locked_until = $3`, r.Scope, r.Key, micros(r.LockedUntil))
	return wrap(err)
}

// DeleteExpiredIdempotencyKeys deletes the keys first used before before.
// Returns how many.
func (db *DB) DeleteExpiredIdempotencyKeys(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, micros(before))
	if err != nil {
		return 0, wrap(err)
	}
	return res.RowsAffected()
}
