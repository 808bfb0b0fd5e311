package store

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/equipe-dev/equipe"
)

// Back-channel logout notices (OpenID Connect Back-Channel Logout 1.0): a
// client told that a person's session with it ended. They are queued by the
// writes that end grants or sessions' grants, in the transaction of the
// change, so that no use case can forget them; a worker delivers them.

// Logout is a back-channel logout notice to deliver: the client, the person
// and the session (nil when the grant had none) the logout token names.
type Logout struct {
	ID        int64
	ClientID  equipe.ID
	UserID    equipe.ID
	SessionID *equipe.ID
	Attempts  int // including the one being made
	CreatedAt time.Time
}

// queueLogouts queues a notice for each client with a back-channel logout
// URI that holds a live grant matching cond (on the grants as g, with args
// from $2) and was not told of its session's end yet, one per client,
// person and session, then marks the live grants matching cond logged out
// at now ($1) and sets their ended_at to end (an expression).
func (w Writes) queueLogouts(ctx context.Context, now time.Time, end, cond string, args ...any) error {
	all := append([]any{micros(now)}, args...)
	n, err := w.exec(ctx, `INSERT INTO oidc_logouts (client_id, user_id, session_id, status, attempts, next_attempt_at, created_at)
		SELECT DISTINCT g.client_id, g.user_id, g.session_id, 'queued', 0, CAST($1 AS BIGINT), CAST($1 AS BIGINT)
		FROM oidc_grants g JOIN oidc_clients c ON c.id = g.client_id
		WHERE c.backchannel_logout_uri <> '' AND g.ended_at IS NULL AND g.logged_out_at IS NULL AND `+cond, all...)
	if err != nil {
		return err
	}
	if n > 0 {
		w.x.queue()
	}
	_, err = w.exec(ctx, `UPDATE oidc_grants AS g SET logged_out_at = COALESCE(g.logged_out_at, $1), ended_at = `+end+`
		WHERE g.ended_at IS NULL AND `+cond, all...)
	return err
}

// endUnlessOffline is the ended_at of a grant whose session ended: now ($1),
// but for a grant with offline_access, whose refresh tokens outlive the
// session (Back-Channel Logout 1.0 section 2.7).
func (w Writes) endUnlessOffline() string {
	return `CASE WHEN ` + w.d.position + `(' ' || g.scopes || ' ', ' offline_access ') > 0 THEN NULL ELSE $1 END`
}

// sessionGone is the condition of a grant whose session has ended and whose
// client was not told yet.
const sessionGone = `g.logged_out_at IS NULL AND g.session_id IS NOT NULL
	AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = g.session_id)`

// LogOutEndedSessions tells the clients of the user's grants whose session
// has ended (deleted earlier in the transaction) that it did, by queued
// logout notices; when session is not nil, only that session's. The
// grants end with their session, but those with offline_access, whose
// refresh tokens outlive the session (Back-Channel Logout 1.0 section 2.7).
func (w Writes) LogOutEndedSessions(ctx context.Context, user equipe.ID, session *equipe.ID, now time.Time) error {
	end := w.endUnlessOffline()
	if session != nil {
		return w.queueLogouts(ctx, now, end, `g.session_id = $2 AND `+sessionGone, *session)
	}
	return w.queueLogouts(ctx, now, end, `g.user_id = $2 AND `+sessionGone, user)
}

// logOutStaleSessions queues the notices of the grants whose session is
// past its absolute end at now or idle since before idleSince, before
// DeleteStaleSessions deletes those sessions, and ends those grants as
// LogOutEndedSessions does. A grant is told once: its logged_out_at is set.
func (w Writes) logOutStaleSessions(ctx context.Context, now, idleSince time.Time) error {
	end := w.endUnlessOffline()
	return w.queueLogouts(ctx, now, end, `g.logged_out_at IS NULL AND g.session_id IN
		(SELECT s.id FROM sessions s WHERE s.expires_at <= $1 OR s.last_seen_at < $2)`, micros(idleSince))
}

const logoutColumns = `id, client_id, user_id, session_id, attempts, created_at`

func scanLogout(row interface{ Scan(...any) error }, l *Logout) error {
	return row.Scan(&l.ID, &l.ClientID, &l.UserID, idp(&l.SessionID), &l.Attempts, ts(&l.CreatedAt))
}

// ClaimLogouts claims up to limit logout notices due at now for the worker
// whose claim is claim, until now+lease, as ClaimWebhookDeliveries does for
// webhooks, in one statement: queued ones whose next attempt has come and
// ones whose previous claim lapsed, but those to the clients busy. The
// claim counts as an attempt. Oldest first.
func (db *DB) ClaimLogouts(ctx context.Context, now time.Time, lease time.Duration, limit int, claim string, busy ...equipe.ID) ([]Logout, error) {
	var out []Logout
	except, exceptArgs := notAmong("client_id", 5, busy)
	err := db.Write(ctx, func(tx *Tx) error {
		out = out[:0]
		rows, err := tx.q.QueryContext(ctx, tx.Queries.d.claimStatement("oidc_logouts", "id", except, ", attempts = attempts + 1",
			logoutColumns), append([]any{micros(now), limit, claim, micros(now.Add(lease))}, exceptArgs...)...)
		if err != nil {
			return wrap(err)
		}
		defer rows.Close()
		for rows.Next() {
			var l Logout
			if err := scanLogout(rows, &l); err != nil {
				return wrap(err)
			}
			out = append(out, l)
		}
		return wrap(rows.Err())
	})
	// The claim's statement returns its rows in no set order.
	slices.SortFunc(out, func(a, b Logout) int { return cmp.Compare(a.ID, b.ID) })
	return out, err
}

// LogoutOutcome is the result of an attempt to deliver a logout notice:
// delivered at At, or failed with Error and then queued again for Next, or
// abandoned.
type LogoutOutcome struct {
	ID        int64
	Delivered bool
	Abandoned bool
	Error     string
	At, Next  time.Time
}

// logoutOutcomeRow is a LogoutOutcome as RecordLogoutOutcomes passes it to
// the database (jsonRows).
type logoutOutcomeRow struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
	Next   int64  `json:"next_at"`
	At     int64  `json:"at"`
	Error  string `json:"error"`
}

var logoutOutcomeColumns = [][2]string{{"id", "bigint"}, {"status", "text"}, {"next_at", "bigint"}, {"at", "bigint"},
	{"error", "text"}}

// RecordLogoutOutcomes records, in one statement, the outcomes of attempts
// on notices the worker whose claim is claim still holds.
func (db *DB) RecordLogoutOutcomes(ctx context.Context, claim string, outcomes []LogoutOutcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	rows := make([]logoutOutcomeRow, len(outcomes))
	for i, o := range outcomes {
		r := logoutOutcomeRow{ID: o.ID, Status: "queued", Next: micros(o.Next), At: micros(o.At), Error: o.Error}
		switch {
		case o.Delivered:
			r.Status, r.Next = "delivered", micros(o.At)
		case o.Abandoned:
			r.Status, r.Next = "abandoned", micros(o.At)
		}
		rows[i] = r
	}
	param, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	_, err = db.w.ExecContext(ctx, db.d.recordStatement("oidc_logouts", logoutOutcomeColumns, "oidc_logouts.id = v.id", ""),
		param, claim)
	return wrap(err)
}

// LogoutStatus returns the status of the notices to client about user
// ("queued", "processing", "delivered", "abandoned"), oldest first.
func (q Queries) LogoutStatus(ctx context.Context, client, user equipe.ID) ([]string, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT status FROM oidc_logouts WHERE client_id = $1 AND user_id = $2 ORDER BY id`,
		client, user)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, wrap(err)
		}
		out = append(out, s)
	}
	return out, wrap(rows.Err())
}

// DeleteDoneLogouts deletes the notices delivered or abandoned before
// before.
func (w Writes) DeleteDoneLogouts(ctx context.Context, before time.Time) error {
	_, err := w.exec(ctx, `DELETE FROM oidc_logouts WHERE status IN ('delivered', 'abandoned') AND next_attempt_at <= $1`,
		micros(before))
	return err
}
