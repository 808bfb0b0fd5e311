package store

import (
	"context"
	"time"
)

// SigningKey is a signing key of the OpenID Connect provider as stored: its
// private key sealed.
type SigningKey struct {
	ID        string
	Sealed    []byte
	SealKeyID string
	CreatedAt time.Time
	SignsFrom time.Time
	ExpiresAt time.Time // zero while it is the newest
}

const signingKeyColumns = `id, private_key, seal_key_id, created_at, signs_from, expires_at`

// CreateSigningKey writes a new signing key.
func (w Writes) CreateSigningKey(ctx context.Context, k *SigningKey) error {
	_, err := w.exec(ctx, `INSERT INTO oidc_signing_keys (`+signingKeyColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		k.ID, k.Sealed, k.SealKeyID, micros(k.CreatedAt), micros(k.SignsFrom), tv(k.ExpiresAt))
	return err
}

// ExpireSigningKeys sets when every key still without an end leaves the
// key set (a newer key replaces them), but the key id.
func (w Writes) ExpireSigningKeys(ctx context.Context, except string, at time.Time) error {
	_, err := w.exec(ctx, `UPDATE oidc_signing_keys SET expires_at = $2 WHERE expires_at IS NULL AND id <> $1`, except, micros(at))
	return err
}

// ResealSigningKey replaces the sealed private key of a key (sealed again
// under another secret key).
func (w Writes) ResealSigningKey(ctx context.Context, k *SigningKey) error {
	return w.execOne(ctx, `UPDATE oidc_signing_keys SET private_key = $2, seal_key_id = $3 WHERE id = $1`, k.ID, k.Sealed, k.SealKeyID)
}

// DeleteExpiredSigningKeys deletes the keys whose end has passed.
func (w Writes) DeleteExpiredSigningKeys(ctx context.Context, now time.Time) error {
	_, err := w.exec(ctx, `DELETE FROM oidc_signing_keys WHERE expires_at IS NOT NULL AND expires_at <= $1`, micros(now))
	return err
}

// SigningKeys returns the signing keys that have not expired at now, the
// newest first.
func (q Queries) SigningKeys(ctx context.Context, now time.Time) ([]SigningKey, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+signingKeyColumns+` FROM oidc_signing_keys
		WHERE expires_at IS NULL OR expires_at > $1 ORDER BY signs_from DESC, id`, micros(now))
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []SigningKey
	for rows.Next() {
		var k SigningKey
		if err := rows.Scan(&k.ID, &k.Sealed, &k.SealKeyID, ts(&k.CreatedAt), ts(&k.SignsFrom), ts(&k.ExpiresAt)); err != nil {
			return nil, wrap(err)
		}
		out = append(out, k)
	}
	return out, wrap(rows.Err())
}
