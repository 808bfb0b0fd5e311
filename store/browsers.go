package store

import (
	"context"
	"fmt"
	"time"

	"github.com/equipe-dev/equipe"
)

// BrowserStanding is what a login reads about the browser it comes from:
// when the person last logged in from it (zero: never), whether they logged
// in from any browser before, and whether they want an email on a login
// from a new one.
type BrowserStanding struct {
	SeenAt time.Time
	Any    bool
	Alerts bool
}

// Known reports whether the person logged in from the browser before.
func (b BrowserStanding) Known() bool { return !b.SeenAt.IsZero() }

// BrowserStanding reads, in one query, the standing of the browser whose
// cookie hashes to hash (nil: a browser without the cookie) for the user.
func (q Queries) BrowserStanding(ctx context.Context, userID equipe.ID, hash []byte) (BrowserStanding, error) {
	var b BrowserStanding
	if hash == nil {
		hash = []byte{}
	}
	err := q.q.QueryRowContext(ctx, `SELECT u.new_browser_alerts,
		(SELECT last_seen_at FROM known_browsers WHERE user_id = $1 AND hash = $2),
		EXISTS (SELECT 1 FROM known_browsers WHERE user_id = $1)
		FROM users u WHERE u.id = $1`, userID, hash).Scan(&b.Alerts, ts(&b.SeenAt), &b.Any)
	return b, wrap(err)
}

// userForLoginQuery is UserForLogin's, written once. It returns one row
// whether or not a user has the key (every column of the user NULL when
// none has), so that it can run in a batch, where a statement that finds
// no row would fail the batch.
var userForLoginQuery = `SELECT ` + prefixed("u.", userColumns) + `, COALESCE(u.new_browser_alerts, false),
		(SELECT last_seen_at FROM known_browsers WHERE user_id = u.id AND hash = $2),
		EXISTS (SELECT 1 FROM known_browsers WHERE user_id = u.id),
		COALESCE(t.confirmed_at, 0) > 0, t.secret, COALESCE(t.key_id, ''), COALESCE(t.created_at, 0),
		COALESCE(t.confirmed_at, 0), COALESCE(t.last_step, 0),
		(SELECT COUNT(*) FROM passkeys WHERE user_id = u.id),
		(SELECT COUNT(*) FROM recovery_codes WHERE user_id = u.id AND used_at = 0)
		FROM (SELECT 1 AS one) AS q LEFT JOIN users u ON u.email_key = $1
		LEFT JOIN totp_factors t ON t.user_id = u.id`

// LoginRead is what a login reads before it checks the password: the user
// whose login email has the key (Found false, and User zero, when none
// has), the standing of the login's browser, the summary of the user's
// second factors and their authenticator app when it is confirmed
// (Factors.TOTP), which the login's second step checks a code against (its
// UserID is left zero: the person is User).
type LoginRead struct {
	Found   bool
	User    equipe.User
	Browser BrowserStanding
	Factors FactorSummary
	TOTP    TOTPFactor
}

// UserForLogin reads into r, in one query, the user whose login email has
// the comparison key key, the standing of the browser whose cookie hashes
// to hash (nil: a browser without the cookie) and the summary of the
// user's second factors. In a batch it runs with the batch's writes, in
// the same round trip, and r is filled once the batch has run: a login
// counts its attempts and reads the person in one round trip. No user with
// the key is no error: r.Found is false.
func (w Writes) UserForLogin(ctx context.Context, key string, hash []byte, r *LoginRead) error {
	if hash == nil {
		hash = []byte{}
	}
	u, b, f, t := &r.User, &r.Browser, &r.Factors, &r.TOTP
	// Every column of the user may be NULL (no user has the key): each
	// is scanned by a scanner that takes NULL as the zero value, and
	// Found is the ID read.
	return w.queryRow(ctx, userForLoginQuery, []any{key, hash},
		foundID{&u.ID, &r.Found}, nstr(&u.Email), nstr(&u.EmailKey), nstr(&u.FirstName), nstr(&u.LastName), nstr(&u.Locale),
		nstr(&u.NotificationEmail), ts(&u.EmailVerifiedAt), nstr(&u.PasswordHash), ts(&u.PasswordChangedAt),
		nbool(&u.InstanceAdmin), ts(&u.DisabledAt), ts(&u.LastLoginAt), ts(&u.CreatedAt), nstr(&u.TimeZone),
		nstr(&u.ExternalID), &b.Alerts, ts(&b.SeenAt), &b.Any, &f.TOTP, &t.Secret, &t.KeyID, orNever(&t.CreatedAt),
		orNever(&t.ConfirmedAt), &t.LastStep, &f.Passkeys, &f.RecoveryCodes)
}

// foundID scans an optional ID: the zero ID and found false for NULL.
type foundID struct {
	id    *equipe.ID
	found *bool
}

func (s foundID) Scan(v any) error {
	*s.id, *s.found = equipe.ID{}, false
	if v == nil {
		return nil
	}
	if err := s.id.Scan(v); err != nil {
		return err
	}
	*s.found = true
	return nil
}

// nbool scans an optional boolean into *b (false for NULL).
func nbool(b *bool) *boolScanner { return &boolScanner{b} }

type boolScanner struct{ b *bool }

func (s *boolScanner) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*s.b = false
	case bool:
		*s.b = v
	case int64:
		*s.b = v != 0
	default:
		return fmt.Errorf("store: boolean column holds %T", v)
	}
	return nil
}

// RememberBrowser records that the user logged in at at from the browser
// whose cookie hashes to hash.
func (w Writes) RememberBrowser(ctx context.Context, userID equipe.ID, hash []byte, at time.Time) error {
	_, err := w.exec(ctx, `INSERT INTO known_browsers (user_id, hash, created_at, last_seen_at) VALUES ($1, $2, $3, $3)
		ON CONFLICT (user_id, hash) DO UPDATE SET last_seen_at = excluded.last_seen_at`, userID, hash, micros(at))
	return err
}

// KnownBrowser is a browser a person logged in from, without its cookie's
// hash.
type KnownBrowser struct {
	FirstSeenAt, LastSeenAt time.Time
}

// KnownBrowsers returns the browsers the user logged in from, the most
// recently used first.
func (q Queries) KnownBrowsers(ctx context.Context, userID equipe.ID) ([]KnownBrowser, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT created_at, last_seen_at FROM known_browsers WHERE user_id = $1
		ORDER BY last_seen_at DESC, created_at DESC`, userID)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []KnownBrowser
	for rows.Next() {
		var b KnownBrowser
		if err := rows.Scan(ts(&b.FirstSeenAt), ts(&b.LastSeenAt)); err != nil {
			return nil, wrap(err)
		}
		out = append(out, b)
	}
	return out, wrap(rows.Err())
}

// NewBrowserAlerts reports whether the user wants an email on a login from
// a new browser.
func (q Queries) NewBrowserAlerts(ctx context.Context, userID equipe.ID) (bool, error) {
	var on bool
	err := q.q.QueryRowContext(ctx, `SELECT new_browser_alerts FROM users WHERE id = $1`, userID).Scan(&on)
	return on, wrap(err)
}

// SetNewBrowserAlerts turns the user's new-browser emails on or off.
func (w Writes) SetNewBrowserAlerts(ctx context.Context, userID equipe.ID, on bool) error {
	return w.execOne(ctx, `UPDATE users SET new_browser_alerts = $2 WHERE id = $1`, userID, on)
}

// DeleteStaleBrowsers forgets the browsers not used to log in since before.
// Returns how many.
func (db *DB) DeleteStaleBrowsers(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM known_browsers WHERE last_seen_at < $1`, micros(before))
	if err != nil {
		return 0, wrap(err)
	}
	return res.RowsAffected()
}
