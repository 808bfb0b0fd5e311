package store

import (
	"context"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
)

// OIDCConsent is what a person agreed that a client may ask.
type OIDCConsent struct {
	ClientID   equipe.ID
	ClientName string
	Scopes     []string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// SaveOIDCConsent records that the user agreed that the client may ask
// scopes (all it may ask from then on).
func (w Writes) SaveOIDCConsent(ctx context.Context, user, client equipe.ID, scopes []string, now time.Time) error {
	_, err := w.exec(ctx, `INSERT INTO oidc_consents (user_id, client_id, scopes, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $4)
		ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`,
		user, client, strings.Join(scopes, " "), micros(now))
	return err
}

// OIDCConsentScopes returns the scopes the user agreed the client may ask,
// or ENOTFOUND.
func (q Queries) OIDCConsentScopes(ctx context.Context, user, client equipe.ID) ([]string, error) {
	var s string
	err := q.q.QueryRowContext(ctx, `SELECT scopes FROM oidc_consents WHERE user_id = $1 AND client_id = $2`, user, client).Scan(&s)
	return strings.Fields(s), wrap(err)
}

// LockOIDCConsentScopes returns the scopes the user agreed the client may
// ask, locked until the transaction ends: a withdrawal meanwhile waits for
// it, then sees what it wrote. Returns ENOTFOUND when there is no consent.
func (tx *Tx) LockOIDCConsentScopes(ctx context.Context, user, client equipe.ID) ([]string, error) {
	var s string
	err := tx.q.QueryRowContext(ctx, `SELECT scopes FROM oidc_consents WHERE user_id = $1 AND client_id = $2`+tx.Queries.d.forUpdate,
		user, client).Scan(&s)
	return strings.Fields(s), wrap(err)
}

// OIDCConsents returns a page of the user's consents, newest first, with
// the cursor of the next page ("" after the last).
func (q Queries) OIDCConsents(ctx context.Context, user equipe.ID, p equipe.Page) ([]OIDCConsent, string, error) {
	const list = "oidc-consents"
	pos, err := after(p, list, number, id)
	if err != nil {
		return nil, "", err
	}
	args := []any{user}
	query := `SELECT o.client_id, c.name, o.scopes, o.created_at, o.updated_at
		FROM oidc_consents o JOIN oidc_clients c ON c.id = o.client_id WHERE o.user_id = $1`
	rows, err := q.q.QueryContext(ctx, query+keyset(&args, []string{"o.updated_at", "o.client_id"}, true, pos, readRows(p)), args...)
	if err != nil {
		return nil, "", wrap(err)
	}
	defer rows.Close()
	out := []OIDCConsent{}
	for rows.Next() {
		var c OIDCConsent
		var scopes string
		if err := rows.Scan(&c.ClientID, &c.ClientName, &scopes, ts(&c.CreatedAt), ts(&c.UpdatedAt)); err != nil {
			return nil, "", wrap(err)
		}
		c.Scopes = strings.Fields(scopes)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(err)
	}
	out, next := equipe.Cut(out, p, list, func(c OIDCConsent) []string { return []string{keyTime(c.UpdatedAt), keyID(c.ClientID)} })
	return out, next, nil
}

// DeleteOIDCConsent withdraws the user's consent to the client, and
// returns how many it withdrew (0 or 1).
func (w Writes) DeleteOIDCConsent(ctx context.Context, user, client equipe.ID) (int64, error) {
	return w.exec(ctx, `DELETE FROM oidc_consents WHERE user_id = $1 AND client_id = $2`, user, client)
}

// DeleteOIDCConsentsOf withdraws every consent of the user.
func (w Writes) DeleteOIDCConsentsOf(ctx context.Context, user equipe.ID) error {
	_, err := w.exec(ctx, `DELETE FROM oidc_consents WHERE user_id = $1`, user)
	return err
}
