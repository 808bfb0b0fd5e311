package store

import (
	"context"

	"github.com/equipe-dev/equipe"
)

// HasSecondFactor reports whether the user has a second factor (a
// confirmed authenticator app or a passkey): Factors(...).Any() in one
// indexed lookup, for the check that runs on every request in an account
// requiring one.
func (q Queries) HasSecondFactor(ctx context.Context, userID equipe.ID) (bool, error) {
	var has bool
	err := q.q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM totp_factors WHERE user_id = $1 AND confirmed_at > 0)
		OR EXISTS (SELECT 1 FROM passkeys WHERE user_id = $1)`, userID).Scan(&has)
	return has, wrap(err)
}
