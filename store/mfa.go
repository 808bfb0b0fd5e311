package store

import (
	"context"
	"time"

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

// DeleteSecondFactors deletes every second factor of the user — their
// authenticator app (confirmed or not), passkeys and recovery codes — and
// revokes at at the logins of theirs waiting for a second step, which
// nothing could answer any more; it returns what they had.
func (w Writes) DeleteSecondFactors(ctx context.Context, userID equipe.ID, at time.Time) (FactorSummary, error) {
	var f FactorSummary
	if err := w.RevokeLoginChallenges(ctx, userID, at); err != nil {
		return f, err
	}
	n, err := w.exec(ctx, `DELETE FROM totp_factors WHERE user_id = $1`, userID)
	if err != nil {
		return f, err
	}
	f.TOTP = n > 0
	n, err = w.exec(ctx, `DELETE FROM passkeys WHERE user_id = $1`, userID)
	if err != nil {
		return f, err
	}
	f.Passkeys = int(n)
	n, err = w.exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID)
	f.RecoveryCodes = int(n)
	return f, err
}
