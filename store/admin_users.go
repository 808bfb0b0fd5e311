package store

import (
	"context"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
)

// UserFilter selects a page of the instance's users for its administrators.
type UserFilter struct {
	// Search keeps the users in whose names or login email every word
	// appears (folded: case and accents ignored where the names are kept
	// folded, that is for members of an account; the login email is kept
	// in lower case).
	Search string
	// After is the login email key of the previous page's last user (""
	// for the first page): the page starts after it, even when that user
	// has since changed their address or been erased.
	After string
	Limit int
}

// ListUsers returns a page of the instance's users ordered by login email.
// Each word of the search must appear in the user's login email, in their
// names (lower-cased), or in the folded names of one of their memberships.
// An instance administrator's page: it reads the users table in email
// order and filters it, which suits the tens of thousands of people an
// instance holds.
func (q Queries) ListUsers(ctx context.Context, f UserFilter) ([]equipe.User, error) {
	query := `SELECT ` + prefixed("u.", userColumns) + ` FROM users u WHERE 1 = 1`
	var args []any
	for _, w := range strings.Fields(Fold(f.Search)) {
		args = append(args, "%"+likeEscaper.Replace(w)+"%")
		n := "$" + itoa(len(args))
		query += ` AND (u.email_key LIKE ` + n + q.d.likeEscape +
			` OR LOWER(u.first_name || ' ' || u.last_name) LIKE ` + n + q.d.likeEscape +
			` OR EXISTS (SELECT 1 FROM members m WHERE m.user_id = u.id AND (m.first_key || ' ' || m.last_key) LIKE ` + n + q.d.likeEscape + `))`
	}
	if f.After != "" {
		args = append(args, f.After)
		query += ` AND u.email_key > $` + itoa(len(args))
	}
	args = append(args, f.Limit)
	query += ` ORDER BY u.email_key LIMIT $` + itoa(len(args))
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []equipe.User
	for rows.Next() {
		var u equipe.User
		if err := scanUser(rows, &u); err != nil {
			return nil, wrap(err)
		}
		out = append(out, u)
	}
	return out, wrap(rows.Err())
}

// CountSessions returns how many sessions of the user still work at now:
// before their absolute end, and seen since idleSince.
func (q Queries) CountSessions(ctx context.Context, userID equipe.ID, now, idleSince time.Time) (int, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND expires_at > $2
		AND last_seen_at >= $3`, userID, micros(now), micros(idleSince)).Scan(&n)
	return n, wrap(err)
}
