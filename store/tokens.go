package store

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
)

const tokenColumns = `id, kind, hash, user_id, account_id, email, created_at, expires_at, used_at, superseded_at`

func scanToken(row interface{ Scan(...any) error }, t *equipe.Token) error {
	return row.Scan(&t.ID, &t.Kind, &t.Hash, &t.UserID, idp(&t.AccountID), &t.Email, ts(&t.CreatedAt),
		ts(&t.ExpiresAt), ts(&t.UsedAt), ts(&t.SupersededAt))
}

// CreateToken inserts t after superseding every still-usable token of the
// same kind for the same user (and account, when t has one): only the newest
// link works.
func (w Writes) CreateToken(ctx context.Context, t *equipe.Token) error {
	if d := w.deferring(); d != nil {
		group := string(t.Kind) + " " + idGroup(t.AccountID) + " " + itoa(int(micros(t.CreatedAt)))
		d.add(tokensSuperseded, group, t.Kind, idv(t.AccountID), micros(t.CreatedAt), t.UserID)
		d.add(tokensCreated, "", t.ID, t.Kind, t.Hash, t.UserID, idv(t.AccountID), t.Email, micros(t.CreatedAt),
			micros(t.ExpiresAt), tv(t.UsedAt), tv(t.SupersededAt))
		return nil
	}
	_, err := w.exec(ctx, `UPDATE tokens SET superseded_at = $4
		WHERE user_id = $1 AND kind = $2 AND (account_id = $3 OR ($3 IS NULL AND account_id IS NULL))
		AND used_at IS NULL AND superseded_at IS NULL`,
		t.UserID, t.Kind, idv(t.AccountID), micros(t.CreatedAt))
	if err != nil {
		return err
	}
	_, err = w.exec(ctx, `INSERT INTO tokens (`+tokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		t.ID, t.Kind, t.Hash, t.UserID, idv(t.AccountID), t.Email, micros(t.CreatedAt), micros(t.ExpiresAt),
		tv(t.UsedAt), tv(t.SupersededAt))
	return err
}

// tokensSuperseded is CreateToken's first statement deferred: for tokens
// of one kind, account and time, one statement supersedes the users'.
var tokensSuperseded = &deferredKind{name: "tokens superseded", write: func(ctx context.Context, _ Writes, q querier, rows [][]any) error {
	users := make([]any, len(rows))
	for i, r := range rows {
		users[i] = r[3]
	}
	return execAll(ctx, q, func(in string) string {
		return `UPDATE tokens SET superseded_at = $3 WHERE kind = $1 AND (account_id = $2 OR ($2 IS NULL AND account_id IS NULL))
			AND used_at IS NULL AND superseded_at IS NULL AND user_id IN (` + in + `)`
	}, rows[0][:3], users, -1, nil)
}}

// tokensCreated is CreateToken's insert deferred.
var tokensCreated = &deferredKind{name: "tokens", write: insertValues(`INSERT INTO tokens (`+tokenColumns+`) VALUES`, nil)}

// idGroup is an optional ID as part of a group of deferred writes.
func idGroup(id *equipe.ID) string {
	if id == nil {
		return "-"
	}
	return id.String()
}

// TokenByHash returns the token whose secret hashes to hash, usable or not,
// or ENOTFOUND.
func (q Queries) TokenByHash(ctx context.Context, hash []byte) (equipe.Token, error) {
	var t equipe.Token
	err := scanToken(q.q.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = $1`, hash), &t)
	return t, wrap(err)
}

// UseToken consumes the token at at if it is still usable then. Returns
// ENOTFOUND when it is not (used, superseded, expired or unknown): of two
// concurrent uses, exactly one succeeds.
func (w Writes) UseToken(ctx context.Context, id equipe.ID, at time.Time) error {
	return w.execOne(ctx, `UPDATE tokens SET used_at = $2
		WHERE id = $1 AND used_at IS NULL AND superseded_at IS NULL AND expires_at > $2`, id, micros(at))
}

// SupersedeTokens makes every usable token of the kind for the user unusable,
// for example every reset link once the password has changed.
func (w Writes) SupersedeTokens(ctx context.Context, userID equipe.ID, kind equipe.TokenKind, at time.Time) error {
	_, err := w.exec(ctx, `UPDATE tokens SET superseded_at = $3
		WHERE user_id = $1 AND kind = $2 AND used_at IS NULL AND superseded_at IS NULL`, userID, kind, micros(at))
	return err
}

// DeleteExpiredTokens deletes tokens that expired before before. Returns how
// many it deleted.
func (db *DB) DeleteExpiredTokens(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM tokens WHERE expires_at < $1`, micros(before))
	if err != nil {
		return 0, wrap(err)
	}
	return res.RowsAffected()
}

// AddToken inserts t without superseding any other token: a link that must
// keep working whatever comes after it (the link that cancels a login email
// change, sent to the old address) is not replaced by a newer one.
func (w Writes) AddToken(ctx context.Context, t *equipe.Token) error {
	_, err := w.exec(ctx, `INSERT INTO tokens (`+tokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		t.ID, t.Kind, t.Hash, t.UserID, idv(t.AccountID), t.Email, micros(t.CreatedAt), micros(t.ExpiresAt),
		tv(t.UsedAt), tv(t.SupersededAt))
	return err
}

// UsableToken returns the user's newest token of kind still usable at now,
// or ENOTFOUND.
func (q Queries) UsableToken(ctx context.Context, userID equipe.ID, kind equipe.TokenKind, now time.Time) (equipe.Token, error) {
	var t equipe.Token
	err := scanToken(q.q.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens
		WHERE user_id = $1 AND kind = $2 AND used_at IS NULL AND superseded_at IS NULL AND expires_at > $3
		ORDER BY created_at DESC, id DESC LIMIT 1`, userID, kind, micros(now)), &t)
	return t, wrap(err)
}

// SupersedeTokensSince makes unusable the user's usable tokens of kind
// created at or after since, other than except: those a use of except
// undoes.
func (w Writes) SupersedeTokensSince(ctx context.Context, userID equipe.ID, kind equipe.TokenKind, since time.Time, except equipe.ID, at time.Time) error {
	_, err := w.exec(ctx, `UPDATE tokens SET superseded_at = $5
		WHERE user_id = $1 AND kind = $2 AND created_at >= $3 AND id <> $4 AND used_at IS NULL AND superseded_at IS NULL`,
		userID, kind, micros(since), except, micros(at))
	return err
}
