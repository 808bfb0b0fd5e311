package store

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
)

// LoginChallenge is a login waiting for its second step. Its secret is
// never stored (identity seals it).
type LoginChallenge struct {
	ID        equipe.ID
	UserID    equipe.ID
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero until a second step finishes it
	Method    string    // what finished it
	IP        string
	UserAgent string
}

const challengeColumns = `id, user_id, created_at, expires_at, used_at, method, ip, user_agent`

// CreateLoginChallenge records c, unless the challenge is recorded already
// (its second step, which records it too, came first).
func (w Writes) CreateLoginChallenge(ctx context.Context, c *LoginChallenge) error {
	_, err := w.exec(ctx, `INSERT INTO login_challenges (`+challengeColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (id) DO NOTHING`,
		c.ID, c.UserID, micros(c.CreatedAt), micros(c.ExpiresAt), int64(0), "", c.IP, c.UserAgent)
	return err
}

// LoginChallenge returns the challenge recorded under id, used or not, or
// ENOTFOUND.
func (q Queries) LoginChallenge(ctx context.Context, id equipe.ID) (LoginChallenge, error) {
	var c LoginChallenge
	err := q.q.QueryRowContext(ctx, `SELECT `+challengeColumns+` FROM login_challenges WHERE id = $1`, id).Scan(
		&c.ID, &c.UserID, ts(&c.CreatedAt), ts(&c.ExpiresAt), orNever(&c.UsedAt), &c.Method, &c.IP, &c.UserAgent)
	return c, wrap(err)
}

// UseLoginChallenge records the challenge c finished by method at at, if it
// is unexpired then, not used or revoked already, and began no earlier
// than its user's password last changed; ENOTFOUND otherwise: of two
// concurrent uses exactly one succeeds. The challenge needs no row
// beforehand (the password step records it without waiting: see
// identity's sealed challenges); a row written after its use changes
// nothing (CreateLoginChallenge). The password's change is compared
// because a reset (or a change) revokes the challenges recorded when it
// commits, and one whose record was still on its way would escape it.
func (w Writes) UseLoginChallenge(ctx context.Context, c *LoginChallenge, method string, at time.Time) error {
	return w.execOne(ctx, `INSERT INTO login_challenges (`+challengeColumns+`)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE CAST($4 AS bigint) > CAST($5 AS bigint)
			AND CAST($3 AS bigint) >= COALESCE((SELECT password_changed_at FROM users WHERE id = $2), 0)
		ON CONFLICT (id) DO UPDATE SET used_at = excluded.used_at, method = excluded.method
		WHERE login_challenges.used_at = 0 AND login_challenges.expires_at > excluded.used_at`,
		c.ID, c.UserID, micros(c.CreatedAt), micros(c.ExpiresAt), micros(at), method, c.IP, c.UserAgent)
}

// RevokeLoginChallenges makes every unused challenge of the user unusable
// (used at at, by "revoked"): their second step can no longer finish.
func (w Writes) RevokeLoginChallenges(ctx context.Context, userID equipe.ID, at time.Time) error {
	_, err := w.exec(ctx, `UPDATE login_challenges SET used_at = $2, method = 'revoked' WHERE user_id = $1 AND used_at = 0`,
		userID, micros(at))
	return err
}

// DeleteStaleLoginChallenges deletes challenges that expired before before.
func (db *DB) DeleteStaleLoginChallenges(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM login_challenges WHERE expires_at < $1`, micros(before))
	if err != nil {
		return 0, wrap(err)
	}
	return res.RowsAffected()
}

// TOTPFactor is a person's authenticator app. Secret is the seed sealed
// under the instance key KeyID; it is never stored in clear.
type TOTPFactor struct {
	UserID      equipe.ID
	Secret      []byte
	KeyID       string
	CreatedAt   time.Time
	ConfirmedAt time.Time // zero while the enrolment waits for a first code
	LastStep    int64     // the last 30-second step accepted
}

// TOTPFactor returns the user's authenticator app, confirmed or not, or
// ENOTFOUND.
func (q Queries) TOTPFactor(ctx context.Context, userID equipe.ID) (TOTPFactor, error) {
	var f TOTPFactor
	err := q.q.QueryRowContext(ctx, `SELECT user_id, secret, key_id, created_at, confirmed_at, last_step
		FROM totp_factors WHERE user_id = $1`, userID).Scan(&f.UserID, &f.Secret, &f.KeyID, ts(&f.CreatedAt),
		orNever(&f.ConfirmedAt), &f.LastStep)
	return f, wrap(err)
}

// StartTOTPFactor stores an enrolment waiting for its first code, in place
// of an earlier unconfirmed one. It changes nothing and answers ECONFLICT
// when the user has a confirmed authenticator app.
func (w Writes) StartTOTPFactor(ctx context.Context, f *TOTPFactor) error {
	if _, err := w.exec(ctx, `DELETE FROM totp_factors WHERE user_id = $1 AND confirmed_at = 0`, f.UserID); err != nil {
		return err
	}
	_, err := w.exec(ctx, `INSERT INTO totp_factors (user_id, secret, key_id, created_at) VALUES ($1, $2, $3, $4)`,
		f.UserID, f.Secret, f.KeyID, micros(f.CreatedAt))
	return err
}

// AcceptTOTPStep records that the code of step was accepted (confirming the
// enrolment at at if it was not), if no code of that step or a later one
// was and the user's seed is still the one sealed as checked, against
// which the code was checked: ENOTFOUND otherwise, so that a code is
// accepted once, even by two concurrent requests, and never into a seed
// that replaced the one it was made with. When secret is not nil the seed
// is stored again, sealed under keyID (a seed sealed under a previous key
// moves to the current one when it is used).
func (w Writes) AcceptTOTPStep(ctx context.Context, userID equipe.ID, checked []byte, step int64, at time.Time, secret []byte, keyID string) error {
	if secret != nil {
		return w.execOne(ctx, `UPDATE totp_factors SET last_step = $2,
			confirmed_at = CASE WHEN confirmed_at = 0 THEN $3 ELSE confirmed_at END, secret = $4, key_id = $5
			WHERE user_id = $1 AND last_step < $2 AND secret = $6`, userID, step, micros(at), secret, keyID, checked)
	}
	return w.execOne(ctx, `UPDATE totp_factors SET last_step = $2,
		confirmed_at = CASE WHEN confirmed_at = 0 THEN $3 ELSE confirmed_at END
		WHERE user_id = $1 AND last_step < $2 AND secret = $4`, userID, step, micros(at), checked)
}

// DeleteTOTPFactor removes the user's authenticator app. Returns how many
// rows went (0 or 1).
func (w Writes) DeleteTOTPFactor(ctx context.Context, userID equipe.ID) (int64, error) {
	return w.exec(ctx, `DELETE FROM totp_factors WHERE user_id = $1`, userID)
}

// SealedTOTPSeeds returns the users whose seed is sealed under a key other
// than keyID, with their seeds, at most limit, for re-sealing under the
// current key.
func (q Queries) SealedTOTPSeeds(ctx context.Context, notKeyID string, limit int) ([]TOTPFactor, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT user_id, secret, key_id FROM totp_factors WHERE key_id <> $1
		ORDER BY user_id LIMIT `+itoa(limit), notKeyID)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []TOTPFactor
	for rows.Next() {
		var f TOTPFactor
		if err := rows.Scan(&f.UserID, &f.Secret, &f.KeyID); err != nil {
			return nil, wrap(err)
		}
		out = append(out, f)
	}
	return out, wrap(rows.Err())
}

// ResealTOTPSeed replaces the seed sealed under oldKeyID by secret sealed
// under keyID; ENOTFOUND if it changed meanwhile.
func (w Writes) ResealTOTPSeed(ctx context.Context, userID equipe.ID, oldKeyID string, secret []byte, keyID string) error {
	return w.execOne(ctx, `UPDATE totp_factors SET secret = $3, key_id = $4 WHERE user_id = $1 AND key_id = $2`,
		userID, oldKeyID, secret, keyID)
}

// ReplaceRecoveryCodes makes hashes the user's recovery codes, in place of
// every earlier one, used or not.
func (w Writes) ReplaceRecoveryCodes(ctx context.Context, userID equipe.ID, hashes [][]byte, at time.Time) error {
	if _, err := w.exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := w.exec(ctx, `INSERT INTO recovery_codes (user_id, hash, created_at) VALUES ($1, $2, $3)`,
			userID, h, micros(at)); err != nil {
			return err
		}
	}
	return nil
}

// UseRecoveryCode marks the user's unused recovery code with hash used at
// at; ENOTFOUND when there is no such unused code, so that a code is used
// once, even by two concurrent requests.
func (w Writes) UseRecoveryCode(ctx context.Context, userID equipe.ID, hash []byte, at time.Time) error {
	return w.execOne(ctx, `UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND hash = $2 AND used_at = 0`,
		userID, hash, micros(at))
}

// DeleteRecoveryCodes removes every recovery code of the user.
func (w Writes) DeleteRecoveryCodes(ctx context.Context, userID equipe.ID) error {
	_, err := w.exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID)
	return err
}

// aroundScan scans a row into destinations before, a scanner's, then after.
type aroundScan struct {
	row           interface{ Scan(...any) error }
	before, after []any
}

func (a aroundScan) Scan(dest ...any) error {
	all := append(append(append([]any{}, a.before...), dest...), a.after...)
	return a.row.Scan(all...)
}

// SecondStepState is what a login's second step reads at once: whether
// the challenge was used, its user, the user's authenticator app (HasTOTP false without
// one, confirmed or not), the standing of the login's browser, and until
// when the throttles of the second step's codes block attempts.
type SecondStepState struct {
	Challenge    LoginChallenge
	User         equipe.User
	TOTP         TOTPFactor
	HasTOTP      bool
	Browser      BrowserStanding
	BlockedUntil time.Time // the latest block of the two throttles; not after now when none is in force
}

// SecondStepKeys name what SecondStep reads.
type SecondStepKeys struct {
	Challenge equipe.ID // the challenge, recorded yet or not
	User      equipe.ID // its person
	Browser   []byte    // the hash of the browser's cookie; nil for a browser without one
	// The throttles: the one keyed UserThrottle followed by the user's id,
	// and the one keyed OtherThrottle.
	UserThrottle, OtherThrottle string
}

// secondStepQuery is SecondStep's, written once.
var secondStepQuery = `SELECT COALESCE(c.used_at, 0), COALESCE(c.method, ''), ` + prefixed("u.", userColumns) + `,
		t.user_id IS NOT NULL, t.secret, COALESCE(t.key_id, ''), COALESCE(t.created_at, 0), COALESCE(t.confirmed_at, 0),
		COALESCE(t.last_step, 0), u.new_browser_alerts,
		(SELECT last_seen_at FROM known_browsers WHERE user_id = u.id AND hash = $3),
		EXISTS (SELECT 1 FROM known_browsers WHERE user_id = u.id),
		COALESCE((SELECT MAX(blocked_until) FROM throttles
			WHERE key IN (CAST($4 AS text) || CAST(u.id AS text), CAST($5 AS text))), 0)
		FROM users u LEFT JOIN login_challenges c ON c.id = $1 AND c.user_id = u.id
		LEFT JOIN totp_factors t ON t.user_id = u.id
		WHERE u.id = $2`

// SecondStep reads in one query what a login's second step needs (see
// SecondStepState) under the keys k: whether the challenge was used (its
// UsedAt and Method; the rest of Challenge is the caller's), the user
// (ENOTFOUND for none) and the rest. Nothing is counted.
func (q Queries) SecondStep(ctx context.Context, k SecondStepKeys) (SecondStepState, error) {
	var st SecondStepState
	c, u, f, b := &st.Challenge, &st.User, &st.TOTP, &st.Browser
	var until int64
	browser := k.Browser
	if browser == nil {
		browser = []byte{}
	}
	row := q.q.QueryRowContext(ctx, secondStepQuery, k.Challenge, k.User, browser, k.UserThrottle, k.OtherThrottle)
	err := scanUser(aroundScan{row,
		[]any{orNever(&c.UsedAt), &c.Method},
		[]any{&st.HasTOTP, &f.Secret, &f.KeyID, orNever(&f.CreatedAt), orNever(&f.ConfirmedAt), &f.LastStep,
			&b.Alerts, ts(&b.SeenAt), &b.Any, &until}}, u)
	if st.HasTOTP {
		f.UserID = u.ID
	}
	st.BlockedUntil = time.UnixMicro(until).UTC()
	return st, wrap(err)
}
