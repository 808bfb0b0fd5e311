package store

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
)

// PendingSignup is a sign-up waiting for its address to be confirmed: what
// the person gave (their password only as its hash), under the token of
// the link that confirms it.
type PendingSignup struct {
	TokenID      equipe.ID
	PasswordHash string
	FirstName    string
	LastName     string
	Locale       string
	AccountName  string
	ResourceType string
	ResourceName string
	CreatedAt    time.Time
}

// CreatePendingSignup stores p.
func (w Writes) CreatePendingSignup(ctx context.Context, p *PendingSignup) error {
	_, err := w.exec(ctx, `INSERT INTO pending_signups (token_id, password_hash, first_name, last_name, locale, account_name,
		resource_type, resource_name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		p.TokenID, p.PasswordHash, p.FirstName, p.LastName, p.Locale, p.AccountName, p.ResourceType, p.ResourceName,
		micros(p.CreatedAt))
	return err
}

// PendingSignup returns the sign-up waiting under the token, or ENOTFOUND.
func (q Queries) PendingSignup(ctx context.Context, token equipe.ID) (PendingSignup, error) {
	var p PendingSignup
	err := q.q.QueryRowContext(ctx, `SELECT token_id, password_hash, first_name, last_name, locale, account_name,
		resource_type, resource_name, created_at FROM pending_signups WHERE token_id = $1`, token).
		Scan(&p.TokenID, &p.PasswordHash, &p.FirstName, &p.LastName, &p.Locale, &p.AccountName, &p.ResourceType,
			&p.ResourceName, ts(&p.CreatedAt))
	return p, wrap(err)
}

// SetUserIdentity gives a user who has never logged in the names and
// language they chose when they took their identity over, at at (and the sort keys
// of the memberships that show them).
func (w Writes) SetUserIdentity(ctx context.Context, userID equipe.ID, first, last, locale string, at time.Time) error {
	if err := w.touchNamesShown(ctx, userID, first, last, at); err != nil {
		return err
	}
	if err := w.execOne(ctx, `UPDATE users SET first_name = $2, last_name = $3, locale = $4 WHERE id = $1`,
		userID, first, last, locale); err != nil {
		return err
	}
	return w.RefreshMemberKeys(ctx, userID)
}
