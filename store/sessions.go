package store

import (
	"context"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
)

const sessionColumns = `id, hash, user_id, account_id, created_at, last_seen_at, expires_at, ip, user_agent, amr, authenticated_at`

func scanSession(row interface{ Scan(...any) error }, s *equipe.Session) error {
	var amr string
	err := row.Scan(&s.ID, &s.Hash, &s.UserID, idp(&s.AccountID), ts(&s.CreatedAt), ts(&s.LastSeenAt), ts(&s.ExpiresAt),
		&s.IP, &s.UserAgent, &amr, ts(&s.AuthenticatedAt))
	s.AMR = strings.Fields(amr)
	return err
}

// CreateSession inserts s. A session without an authentication time was
// authenticated when it was created.
func (w Writes) CreateSession(ctx context.Context, s *equipe.Session) error {
	if s.AuthenticatedAt.IsZero() {
		s.AuthenticatedAt = s.CreatedAt
	}
	_, err := w.exec(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		s.ID, s.Hash, s.UserID, idv(s.AccountID), micros(s.CreatedAt), micros(s.LastSeenAt), micros(s.ExpiresAt),
		s.IP, s.UserAgent, strings.Join(s.AMR, " "), micros(s.AuthenticatedAt))
	return err
}

// ReauthenticateSession records that the person of the session id proved
// who they are again at at (they confirmed their password). A time earlier
// than the one recorded changes nothing.
func (w Writes) ReauthenticateSession(ctx context.Context, id equipe.ID, at time.Time) error {
	_, err := w.exec(ctx, `UPDATE sessions SET authenticated_at = $2 WHERE id = $1 AND authenticated_at < $2`, id, micros(at))
	return err
}

// SessionByHash returns the session whose secret hashes to hash, or
// ENOTFOUND. It does not check lifetimes: the caller does, with its clock.
func (q Queries) SessionByHash(ctx context.Context, hash []byte) (equipe.Session, error) {
	var s equipe.Session
	err := scanSession(q.q.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE hash = $1`, hash), &s)
	return s, wrap(err)
}

// LockSession returns the session id, locked until the transaction ends:
// ending it meanwhile waits for the transaction, then sees what it wrote.
// Returns ENOTFOUND when it has ended. It does not check lifetimes: the
// caller does, with its clock.
func (tx *Tx) LockSession(ctx context.Context, id equipe.ID) (equipe.Session, error) {
	var s equipe.Session
	err := scanSession(tx.q.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = $1`+tx.Queries.d.forUpdate, id), &s)
	return s, wrap(err)
}

// Sessions returns the user's sessions, newest first.
func (q Queries) Sessions(ctx context.Context, userID equipe.ID) ([]equipe.Session, error) {
	out, _, err := q.SessionPage(ctx, userID, SessionFilter{}, equipe.Page{})
	return out, err
}

// SessionFilter keeps the sessions that still work: those that expire
// after Now and were seen since IdleSince, and the Current one whatever
// its times. The zero filter keeps every session.
type SessionFilter struct {
	Current        equipe.ID
	Now, IdleSince time.Time
}

// SessionPage returns a page of the user's sessions that f keeps, newest
// first, with the cursor of the next page ("" after the last).
func (q Queries) SessionPage(ctx context.Context, userID equipe.ID, f SessionFilter, p equipe.Page) ([]equipe.Session, string, error) {
	const list = "sessions"
	pos, err := after(p, list, number, id)
	if err != nil {
		return nil, "", err
	}
	args := []any{userID}
	query := `SELECT ` + sessionColumns + ` FROM sessions WHERE user_id = $1`
	if !f.Now.IsZero() {
		args = append(args, f.Current, micros(f.Now), micros(f.IdleSince))
		n := len(args)
		query += ` AND (id = $` + itoa(n-2) + ` OR (expires_at > $` + itoa(n-1) + ` AND last_seen_at > $` + itoa(n) + `))`
	}
	rows, err := q.q.QueryContext(ctx, query+keyset(&args, []string{"created_at", "id"}, true, pos, readRows(p)), args...)
	if err != nil {
		return nil, "", wrap(err)
	}
	defer rows.Close()
	var out []equipe.Session
	for rows.Next() {
		var s equipe.Session
		if err := scanSession(rows, &s); err != nil {
			return nil, "", wrap(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(err)
	}
	out, next := equipe.Cut(out, p, list, func(s equipe.Session) []string { return []string{keyTime(s.CreatedAt), keyID(s.ID)} })
	return out, next, nil
}

// TouchSession records activity on the session at at.
func (db *DB) TouchSession(ctx context.Context, id equipe.ID, at time.Time) error {
	_, err := db.w.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2`,
		id, micros(at))
	return wrap(err)
}

// SetSessionAccount remembers the current account of the session.
func (w Writes) SetSessionAccount(ctx context.Context, id equipe.ID, accountID *equipe.ID) error {
	return w.execOne(ctx, `UPDATE sessions SET account_id = $2 WHERE id = $1`, id, idv(accountID))
}

// DeleteSession ends the session with id; ending an ended session is not an
// error.
func (w Writes) DeleteSession(ctx context.Context, id equipe.ID) error {
	_, err := w.exec(ctx, `DELETE FROM sessions WHERE id = $1`, id)
	return err
}

// DeleteUserSessions ends every session of the user. Returns how many.
func (w Writes) DeleteUserSessions(ctx context.Context, userID equipe.ID) (int64, error) {
	return w.exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID)
}

// DeleteStaleSessions deletes sessions past their absolute end at now or idle
// since before idleSince. Returns how many. In the same transaction the
// clients of the grants those sessions began are told, by queued
// back-channel logout notices, as when a session is ended by a person
// (LogOutEndedSessions): a session that lapses logs out of its clients too.
func (db *DB) DeleteStaleSessions(ctx context.Context, now, idleSince time.Time) (int64, error) {
	var n int64
	err := db.Write(ctx, func(tx *Tx) error {
		if err := tx.logOutStaleSessions(ctx, now, idleSince); err != nil {
			return err
		}
		var err error
		n, err = tx.exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at < $2`,
			micros(now), micros(idleSince))
		return err
	})
	return n, err
}

// DeleteSessionOf ends the user's session id. Returns how many ended: 0
// when id is no session of the user's.
func (w Writes) DeleteSessionOf(ctx context.Context, userID, id equipe.ID) (int64, error) {
	return w.exec(ctx, `DELETE FROM sessions WHERE id = $1 AND user_id = $2`, id, userID)
}

// DeleteOtherSessions ends every session of the user but keep. Returns how
// many.
func (w Writes) DeleteOtherSessions(ctx context.Context, userID, keep equipe.ID) (int64, error) {
	return w.exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id <> $2`, userID, keep)
}
