package store

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
)

// ConsentRecord is a person's acceptance of a version of the privacy
// policy, with the version's label.
type ConsentRecord struct {
	Version     string
	Label       string
	PublishedAt time.Time
	AcceptedAt  time.Time
	IP          string
}

// Consents returns every acceptance of the privacy policy by the user,
// oldest first.
func (q Queries) Consents(ctx context.Context, userID equipe.ID) ([]ConsentRecord, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT c.policy_version, p.label, p.published_at, c.accepted_at, c.ip
		FROM consents c JOIN privacy_policies p ON p.version = c.policy_version
		WHERE c.user_id = $1 ORDER BY c.accepted_at, c.policy_version`, userID)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []ConsentRecord
	for rows.Next() {
		var c ConsentRecord
		if err := rows.Scan(&c.Version, &c.Label, ts(&c.PublishedAt), ts(&c.AcceptedAt), &c.IP); err != nil {
			return nil, wrap(err)
		}
		out = append(out, c)
	}
	return out, wrap(rows.Err())
}

// FactorRecord is one second factor of a person, without its secret: kind
// "totp" (an authenticator app), "passkey" or "recovery_codes" (Count
// codes not used yet).
type FactorRecord struct {
	Kind        string
	Name        string
	CreatedAt   time.Time
	ConfirmedAt time.Time
	LastUsedAt  time.Time
	Count       int
}

// FactorRecords returns the user's second factors, without their secrets:
// the authenticator app, the passkeys, and the recovery codes left.
func (q Queries) FactorRecords(ctx context.Context, userID equipe.ID) ([]FactorRecord, error) {
	var out []FactorRecord
	rows, err := q.q.QueryContext(ctx, `SELECT 'totp', '', created_at, confirmed_at, 0, 0 FROM totp_factors WHERE user_id = $1
		UNION ALL SELECT 'passkey', name, created_at, 0, last_used_at, 0 FROM passkeys WHERE user_id = $1
		UNION ALL SELECT 'recovery_codes', '', MIN(created_at), 0, MAX(used_at), SUM(CASE WHEN used_at = 0 THEN 1 ELSE 0 END)
			FROM recovery_codes WHERE user_id = $1 HAVING COUNT(*) > 0`, userID)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	for rows.Next() {
		var f FactorRecord
		var confirmed, used int64
		if err := rows.Scan(&f.Kind, &f.Name, ts(&f.CreatedAt), &confirmed, &used, &f.Count); err != nil {
			return nil, wrap(err)
		}
		if confirmed > 0 {
			f.ConfirmedAt = time.UnixMicro(confirmed).UTC()
		}
		if used > 0 {
			f.LastUsedAt = time.UnixMicro(used).UTC()
		}
		out = append(out, f)
	}
	return out, wrap(rows.Err())
}

// EventsOfUser returns the audit events the user made or that are about
// them (as a member or a person), and those whose states name them by
// their user ID (their assignments to a firm's clients, whose subject is
// the client), oldest first.
func (q Queries) EventsOfUser(ctx context.Context, userID equipe.ID) ([]equipe.AuditEvent, error) {
	// As the states hold it: a JSON string, quotes included, so that only
	// a whole value matches.
	quoted := `"` + userID.String() + `"`
	rows, err := q.q.QueryContext(ctx, `SELECT id, account_id, actor_type, actor_id, actor_name, action, target_type,
		target_id, before, after, ip, at FROM audit_events
		WHERE actor_id = $1 OR (target_type = 'user' AND target_id = $2)
		OR `+q.d.contains("before", "$3")+` OR `+q.d.contains("after", "$3")+` ORDER BY id`, userID, userID.String(), quoted)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []equipe.AuditEvent
	for rows.Next() {
		var e equipe.AuditEvent
		if err := rows.Scan(&e.ID, idp(&e.AccountID), &e.ActorType, idp(&e.ActorID), &e.ActorName, &e.Action,
			&e.TargetType, &e.TargetID, &e.Before, &e.After, &e.IP, ts(&e.At)); err != nil {
			return nil, wrap(err)
		}
		out = append(out, e)
	}
	return out, wrap(rows.Err())
}

// KeysCreatedBy returns every API key the user created, revoked or not,
// oldest first.
func (q Queries) KeysCreatedBy(ctx context.Context, user equipe.ID) ([]equipe.APIKey, error) {
	return q.apiKeys(ctx, `WHERE created_by = $1 ORDER BY created_at, id`, user)
}

// AccountsHeldAlone returns the accounts of which the user is the only
// active administrator, ordered by name.
func (q Queries) AccountsHeldAlone(ctx context.Context, userID equipe.ID) ([]equipe.Account, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT a.id, a.name FROM members m JOIN accounts a ON a.id = m.account_id
		WHERE m.user_id = $1 AND m.role = 'admin' AND m.status = 'active'
		AND NOT EXISTS (SELECT 1 FROM members o WHERE o.account_id = m.account_id AND o.user_id <> m.user_id
			AND o.role = 'admin' AND o.status = 'active')
		ORDER BY a.name, a.id`, userID)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []equipe.Account
	for rows.Next() {
		var a equipe.Account
		if err := rows.Scan(&a.ID, &a.Name); err != nil {
			return nil, wrap(err)
		}
		out = append(out, a)
	}
	return out, wrap(rows.Err())
}

// EventsMentioning returns the audit events that a person's deletion must
// pseudonymise: those they made, those about them, and any other whose
// states hold one of the values (their user ID, their addresses) as a
// whole string: ada@example.com is not found in "grada@example.com".
func (q Queries) EventsMentioning(ctx context.Context, userID equipe.ID, values []string) ([]equipe.AuditEvent, error) {
	query := `SELECT id, account_id, actor_type, actor_id, actor_name, action, target_type,
		target_id, before, after, ip, at FROM audit_events WHERE actor_id = $1 OR target_id = $2`
	args := []any{userID, userID.String()}
	for _, v := range values {
		if v == "" {
			continue
		}
		// As the states hold it: a JSON string, quotes included.
		quoted, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		args = append(args, string(quoted))
		p := "$" + itoa(len(args))
		query += " OR " + q.d.contains("before", p) + " OR " + q.d.contains("after", p)
	}
	rows, err := q.q.QueryContext(ctx, query+" ORDER BY id", args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []equipe.AuditEvent
	for rows.Next() {
		var e equipe.AuditEvent
		if err := rows.Scan(&e.ID, idp(&e.AccountID), &e.ActorType, idp(&e.ActorID), &e.ActorName, &e.Action,
			&e.TargetType, &e.TargetID, &e.Before, &e.After, &e.IP, ts(&e.At)); err != nil {
			return nil, wrap(err)
		}
		out = append(out, e)
	}
	return out, wrap(rows.Err())
}

// RenameInEvents makes every audit event of the user (as its actor or its
// subject) name the pseudonym instead, and drops the address of the
// requests the user made. Events are otherwise never changed: this and
// RewriteStates are the exception, for a person's right to erasure.
func (w Writes) RenameInEvents(ctx context.Context, user, pseudonym equipe.ID) error {
	if _, err := w.exec(ctx, `UPDATE audit_events SET actor_id = $2, ip = '' WHERE actor_id = $1`, user, pseudonym); err != nil {
		return err
	}
	_, err := w.exec(ctx, `UPDATE audit_events SET target_id = $2 WHERE target_id = $1`, user.String(), pseudonym.String())
	return err
}

// RewriteStates replaces the states of an audit event (see RenameInEvents).
func (w Writes) RewriteStates(ctx context.Context, id equipe.ID, before, after string) error {
	return w.execOne(ctx, `UPDATE audit_events SET before = $2, after = $3 WHERE id = $1`, id, before, after)
}

// Forgotten is what erasing a person's identity removed.
type Forgotten struct {
	Sessions int64
	Emails   int64 // outbox rows to their addresses
}

// ForgetUser erases the user's identity and everything that holds their
// personal data: the user row (and with it their memberships, sessions,
// tokens, consents, second factors and assignments), the emails that name
// them (written to them, to an address they asked for, or to someone else
// about them), their throttles and password-reset requests. The security
// log names them by pseudonym from then on. The audit log is rewritten
// apart, event by event (RewriteStates). Returns ENOTFOUND for an unknown
// user.
//
// accounts are those the user is a member of. addresses are the other
// addresses they held (their memberships' notification addresses, login
// emails they had before a change): emails queued before the outbox named
// its people are found by those, and only those.
func (w Writes) ForgetUser(ctx context.Context, u *equipe.User, accounts []equipe.ID, addresses []string, pseudonym equipe.ID) (Forgotten, error) {
	var f Forgotten
	var err error
	for _, a := range accounts {
		w.x.touch(MemberKey(a, u.ID))
	}
	w.x.touch(UserKey(u.ID))
	if f.Sessions, err = w.exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, u.ID); err != nil {
		return f, err
	}
	if _, err := w.exec(ctx, `UPDATE security_events SET actor_id = $2 WHERE actor_id = $1`, u.ID, pseudonym); err != nil {
		return f, err
	}
	addrs := map[string]bool{u.Email: true, u.EmailKey: true}
	for _, a := range append(addresses, u.NotificationEmail) {
		if a != "" {
			addrs[a], addrs[strings.ToLower(a)] = true, true
		}
	}
	// The emails that name them: to them, to an address they asked for, or
	// to someone else about them ("access created for …"). One being
	// delivered at this moment goes too: its worker's record of the
	// delivery then finds no row.
	n, err := w.exec(ctx, `DELETE FROM outbox WHERE person_id = $1 OR other_person_id = $1`, u.ID)
	if err != nil {
		return f, err
	}
	f.Emails += n
	for a := range addrs {
		n, err := w.exec(ctx, `DELETE FROM outbox WHERE recipient = $1 AND person_id IS NULL AND other_person_id IS NULL`, a)
		if err != nil {
			return f, err
		}
		f.Emails += n
	}
	if _, err := w.exec(ctx, `DELETE FROM reset_requests WHERE email_key = $1`, u.EmailKey); err != nil {
		return f, err
	}
	// Throttles end with the address or the ID they count for, after a
	// colon ("login:email:ada@example.com", "code:user:<id>"): only whole
	// ones are theirs, not an address that ends like theirs.
	for _, k := range []string{u.EmailKey, u.ID.String()} {
		if _, err := w.exec(ctx, `DELETE FROM throttles WHERE key LIKE $1 ESCAPE '\'`, "%:"+likeEscape(k)); err != nil {
			return f, err
		}
	}
	return f, w.execOne(ctx, `DELETE FROM users WHERE id = $1`, u.ID)
}

// likeEscape escapes the pattern characters of s for LIKE … ESCAPE '\'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// GrantRecord is an OpenID Connect client's access for a person (a grant,
// ended or not), with the client's name.
type GrantRecord struct {
	Grant
	ClientName string
}

// GrantRecords returns every grant the user gave an OpenID Connect client,
// ended or not, oldest first.
func (q Queries) GrantRecords(ctx context.Context, userID equipe.ID) ([]GrantRecord, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT c.name, `+prefixed("g.", grantColumns)+` FROM oidc_grants g
		JOIN oidc_clients c ON c.id = g.client_id WHERE g.user_id = $1 ORDER BY g.created_at, g.id`, userID)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []GrantRecord
	for rows.Next() {
		var g GrantRecord
		if err := scanGrant(rows, &g.Grant, &g.ClientName); err != nil {
			return nil, wrap(err)
		}
		out = append(out, g)
	}
	return out, wrap(rows.Err())
}

// AssignmentRecord is a firm's member's assignment to one of the firm's
// client accounts, with both accounts' names.
type AssignmentRecord struct {
	Client, Firm         equipe.ID
	ClientName, FirmName string
	AssignedAt           time.Time
}

// AssignmentRecords returns the user's assignments to client accounts,
// oldest first. An account detached from its firm is nobody's client:
// assignments to it are left out, as AssignmentsOf leaves them.
func (q Queries) AssignmentRecords(ctx context.Context, userID equipe.ID) ([]AssignmentRecord, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT s.client_id, c.name, f.id, f.name, s.assigned_at FROM client_staff s
		JOIN accounts c ON c.id = s.client_id JOIN accounts f ON f.id = c.parent_id
		WHERE s.user_id = $1 ORDER BY s.assigned_at, s.client_id`, userID)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []AssignmentRecord
	for rows.Next() {
		var a AssignmentRecord
		if err := rows.Scan(&a.Client, &a.ClientName, &a.Firm, &a.FirmName, ts(&a.AssignedAt)); err != nil {
			return nil, wrap(err)
		}
		out = append(out, a)
	}
	return out, wrap(rows.Err())
}
