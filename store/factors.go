package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/equipe-dev/equipe"
)

// FactorSummary is what second factors a person has, without their secrets.
type FactorSummary struct {
	TOTP          bool // an authenticator app, confirmed
	Passkeys      int
	RecoveryCodes int // recovery codes not used yet
}

// Any reports whether the person has a second factor. Recovery codes alone
// are not one: they come with a factor and stand in for it.
func (f FactorSummary) Any() bool { return f.TOTP || f.Passkeys > 0 }

// Factors returns the summary of the user's second factors.
func (q Queries) Factors(ctx context.Context, userID equipe.ID) (FactorSummary, error) {
	var f FactorSummary
	err := q.q.QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM totp_factors WHERE user_id = $1 AND confirmed_at > 0),
		(SELECT COUNT(*) FROM passkeys WHERE user_id = $1),
		(SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at = 0)`, userID).
		Scan(&f.TOTP, &f.Passkeys, &f.RecoveryCodes)
	return f, wrap(err)
}

// UsersWithFactor returns which of the users have a second factor (a
// confirmed authenticator app or a passkey), for a page of members.
func (q Queries) UsersWithFactor(ctx context.Context, users []equipe.ID) (map[equipe.ID]bool, error) {
	has := make(map[equipe.ID]bool, len(users))
	if len(users) == 0 {
		return has, nil
	}
	in := make([]string, len(users))
	args := make([]any, len(users))
	for i, id := range users {
		in[i] = fmt.Sprintf("$%d", i+1)
		args[i] = id
	}
	list := strings.Join(in, ", ")
	rows, err := q.q.QueryContext(ctx, `SELECT user_id FROM totp_factors WHERE confirmed_at > 0 AND user_id IN (`+list+`)
		UNION SELECT user_id FROM passkeys WHERE user_id IN (`+list+`)`, args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id equipe.ID
		if err := rows.Scan(&id); err != nil {
			return nil, wrap(err)
		}
		has[id] = true
	}
	return has, wrap(rows.Err())
}
