package store

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
)

const userColumns = `id, email, email_key, first_name, last_name, locale, notification_email,
	email_verified_at, password_hash, password_changed_at, instance_admin, disabled_at, last_login_at, created_at, time_zone, external_id`

func scanUser(row interface{ Scan(...any) error }, u *equipe.User) error {
	return row.Scan(&u.ID, &u.Email, &u.EmailKey, &u.FirstName, &u.LastName, &u.Locale, nstr(&u.NotificationEmail),
		ts(&u.EmailVerifiedAt), nstr(&u.PasswordHash), ts(&u.PasswordChangedAt), &u.InstanceAdmin, ts(&u.DisabledAt),
		ts(&u.LastLoginAt), ts(&u.CreatedAt), &u.TimeZone, nstr(&u.ExternalID))
}

// CreateUser inserts u. Returns ECONFLICT with key "email.taken" when a
// user already has u's email key.
func (w Writes) CreateUser(ctx context.Context, u *equipe.User) error {
	args := []any{u.ID, u.Email, u.EmailKey, u.FirstName, u.LastName, u.Locale, str(u.NotificationEmail),
		tv(u.EmailVerifiedAt), str(u.PasswordHash), tv(u.PasswordChangedAt), u.InstanceAdmin, tv(u.DisabledAt),
		tv(u.LastLoginAt), micros(u.CreatedAt), u.TimeZone, str(u.ExternalID)}
	if d := w.deferring(); d != nil {
		d.add(usersCreated, "", args...)
		return nil
	}
	_, err := w.exec(ctx, `INSERT INTO users (`+userColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`, args...)
	return userConflict(err)
}

// usersCreated is CreateUser deferred.
var usersCreated = &deferredKind{name: "users", write: insertValues(`INSERT INTO users (`+userColumns+`) VALUES`, userConflict)}

// userConflict names the constraint that writing a user broke: another
// user with its external ID ("user.external_id_taken"), else with its
// address ("email.taken").
func userConflict(err error) error {
	if isConflict(err) {
		if conflictOn(err, "external_id") {
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "user.external_id_taken", Err: err}
		}
		return &equipe.Error{Code: equipe.ECONFLICT, Key: "email.taken", Err: err}
	}
	return err
}

// UserByExternalID returns the user whose external ID is id (compared
// exactly), or ENOTFOUND.
func (q Queries) UserByExternalID(ctx context.Context, id string) (equipe.User, error) {
	var u equipe.User
	err := scanUser(q.q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE external_id = $1`, id), &u)
	return u, wrap(err)
}

// SetUserExternalID sets the user's external ID ("" clears it). Returns
// ECONFLICT "user.external_id_taken" when another user has it, ENOTFOUND for
// an unknown user.
func (w Writes) SetUserExternalID(ctx context.Context, userID equipe.ID, id string) error {
	err := w.execOne(ctx, `UPDATE users SET external_id = $2 WHERE id = $1`, userID, str(id))
	if isConflict(err) {
		return &equipe.Error{Code: equipe.ECONFLICT, Key: "user.external_id_taken", Err: err}
	}
	return err
}

// UserByID returns the user with id, or ENOTFOUND.
func (q Queries) UserByID(ctx context.Context, id equipe.ID) (equipe.User, error) {
	var u equipe.User
	err := scanUser(q.q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id), &u)
	return u, wrap(err)
}

// UserByEmailKey returns the user whose login email has the comparison key
// key, or ENOTFOUND.
func (q Queries) UserByEmailKey(ctx context.Context, key string) (equipe.User, error) {
	var u equipe.User
	err := scanUser(q.q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email_key = $1`, key), &u)
	return u, wrap(err)
}

// SetPassword stores a new password hash for the user. Returns ENOTFOUND for
// an unknown user.
func (w Writes) SetPassword(ctx context.Context, userID equipe.ID, hash string, at time.Time) error {
	return w.execOne(ctx, `UPDATE users SET password_hash = $2, password_changed_at = $3 WHERE id = $1`,
		userID, hash, micros(at))
}

// SetFirstPassword stores the password hash of a user who has none yet.
// Returns ENOTFOUND when the user has one (set meanwhile) or is unknown: of
// two first passwords set at once, exactly one is kept.
func (w Writes) SetFirstPassword(ctx context.Context, userID equipe.ID, hash string, at time.Time) error {
	return w.execOne(ctx, `UPDATE users SET password_hash = $2, password_changed_at = $3 WHERE id = $1 AND password_hash IS NULL`,
		userID, hash, micros(at))
}

// UpgradePasswordHash replaces the hash of the user's unchanged password (new
// parameters), only if the stored hash is still old: a password changed in
// the meantime is left alone.
func (w Writes) UpgradePasswordHash(ctx context.Context, userID equipe.ID, old, hash string) error {
	_, err := w.exec(ctx, `UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2`, userID, old, hash)
	return err
}

// SetLastLogin records a successful login.
func (w Writes) SetLastLogin(ctx context.Context, userID equipe.ID, at time.Time) error {
	_, err := w.exec(ctx, `UPDATE users SET last_login_at = $2 WHERE id = $1`, userID, micros(at))
	return err
}

// SetLastLoginIfActive is SetLastLogin for a user who must not be disabled:
// ENOTFOUND when they are, or are gone (a batch then takes no effect), so
// that a login finished from what was read before cannot start a session
// of a person disabled meanwhile.
func (w Writes) SetLastLoginIfActive(ctx context.Context, userID equipe.ID, at time.Time) error {
	return w.execOne(ctx, `UPDATE users SET last_login_at = $2 WHERE id = $1 AND disabled_at IS NULL`, userID, micros(at))
}

// MarkEmailVerified records that the user proved they receive mail at their
// login email; an earlier verification time is kept.
func (w Writes) MarkEmailVerified(ctx context.Context, userID equipe.ID, at time.Time) error {
	return w.execOne(ctx, `UPDATE users SET email_verified_at = COALESCE(email_verified_at, $2) WHERE id = $1`,
		userID, micros(at))
}

// SetProfile stores the user's names, language and time zone, changed at
// at. Returns ENOTFOUND for an unknown user.
func (w Writes) SetProfile(ctx context.Context, u *equipe.User, at time.Time) error {
	// Member lists show and sort by the names.
	w.x.touch(UserKey(u.ID))
	if err := w.touchNamesShown(ctx, u.ID, u.FirstName, u.LastName, at); err != nil {
		return err
	}
	return w.execOne(ctx, `UPDATE users SET first_name = $2, last_name = $3, locale = $4, time_zone = $5 WHERE id = $1`,
		u.ID, u.FirstName, u.LastName, u.Locale, u.TimeZone)
}

// EmailReservedBy returns the identity that an address, by its key, is kept
// for at now — the one whose login email was changed away from it, while
// the link that gives it back works — or ENOTFOUND.
func (q Queries) EmailReservedBy(ctx context.Context, key string, now time.Time) (equipe.ID, error) {
	var id equipe.ID
	err := q.q.QueryRowContext(ctx, `SELECT user_id FROM tokens WHERE kind = 'email_change_cancel' AND lower(email) = $1
		AND used_at IS NULL AND superseded_at IS NULL AND expires_at > $2 ORDER BY created_at DESC LIMIT 1`, key, micros(now)).Scan(&id)
	return id, wrap(err)
}

// SetLocaleIfNone gives the user the language locale unless they chose one.
func (w Writes) SetLocaleIfNone(ctx context.Context, userID equipe.ID, locale string) error {
	_, err := w.exec(ctx, `UPDATE users SET locale = $2 WHERE id = $1 AND locale = ''`, userID, locale)
	return err
}

// SetNotificationEmail stores the user's notification email, "" for none
// (notifications go to the login email). Returns ENOTFOUND for an unknown
// user.
func (w Writes) SetNotificationEmail(ctx context.Context, userID equipe.ID, email string) error {
	return w.execOne(ctx, `UPDATE users SET notification_email = $2 WHERE id = $1`, userID, str(email))
}

// SetInstanceAdmin grants or withdraws instance administration.
func (w Writes) SetInstanceAdmin(ctx context.Context, userID equipe.ID, admin bool) error {
	// The instance keys the user made follow them.
	w.x.touch(UserKey(userID))
	return w.execOne(ctx, `UPDATE users SET instance_admin = $2 WHERE id = $1`, userID, admin)
}

// CountUsers returns how many users exist.
func (q Queries) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, wrap(err)
}

// SetEmail changes the user's login email (and its comparison key) and
// records it verified at at: it changes only once the address proved it
// receives mail. Returns ECONFLICT with key "email.taken" when another user
// has the key, ENOTFOUND for an unknown user.
func (w Writes) SetEmail(ctx context.Context, userID equipe.ID, email, key string, at time.Time) error {
	// Every account shows the login email.
	if _, err := w.exec(ctx, `UPDATE members SET updated_at = $2 WHERE user_id = $1 AND updated_at < $2
		AND EXISTS (SELECT 1 FROM users u WHERE u.id = $1 AND u.email <> $3)`, userID, micros(at), email); err != nil {
		return err
	}
	err := w.execOne(ctx, `UPDATE users SET email = $2, email_key = $3, email_verified_at = $4 WHERE id = $1`,
		userID, email, key, micros(at))
	if isConflict(err) {
		return &equipe.Error{Code: equipe.ECONFLICT, Key: "email.taken", Err: err}
	}
	return err
}

// UsersByEmailKeys returns the users whose login email has one of the
// comparison keys, by key; a key of nobody is absent. It reads them in one
// query (an import's batch of addresses).
func (q Queries) UsersByEmailKeys(ctx context.Context, keys []string) (map[string]equipe.User, error) {
	out := make(map[string]equipe.User, len(keys))
	for len(keys) > 0 {
		n := min(len(keys), maxParams)
		args := make([]any, n)
		for i, k := range keys[:n] {
			args[i] = k
		}
		rows, err := q.q.QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE email_key IN (`+params(1, n)+`)`, args...)
		if err != nil {
			return nil, wrap(err)
		}
		for rows.Next() {
			var u equipe.User
			if err := scanUser(rows, &u); err != nil {
				rows.Close()
				return nil, wrap(err)
			}
			out[u.EmailKey] = u
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap(err)
		}
		keys = keys[n:]
	}
	return out, nil
}

// touchNamesShown notes, before the user's names change to first and last
// at at, that the memberships showing them (those joined: see
// equipe.Member.ShownNames) change for their accounts' directories
// (equipe.Member.UpdatedAt), when the names are other than the user's.
func (w Writes) touchNamesShown(ctx context.Context, userID equipe.ID, first, last string, at time.Time) error {
	_, err := w.exec(ctx, `UPDATE members SET updated_at = $2 WHERE user_id = $1 AND joined_at IS NOT NULL
		AND updated_at < $2 AND EXISTS (SELECT 1 FROM users u WHERE u.id = $1 AND (u.first_name <> $3 OR u.last_name <> $4))`,
		userID, micros(at), first, last)
	return err
}
