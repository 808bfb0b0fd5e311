package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
)

// MemberFilter selects members of an account for the team page.
type MemberFilter struct {
	Account  equipe.ID
	Status   equipe.MemberStatus // "" for every status
	Role     string              // "" for every role
	Resource *equipe.ID          // members assigned to this resource
	Search   string              // words each matching the start of the first name, last name or email
	After    string              // the cursor of the last row of the previous page
	Limit    int                 // default 50, at most 200
}

// MemberRow is one line of the team page.
type MemberRow struct {
	Member      equipe.Member
	Email       string
	FirstName   string
	LastName    string
	LastLoginAt time.Time
	Resources   []equipe.ID
	// Undelivered: the member has not joined, and the last email to their
	// login email since they were last invited could not be delivered.
	Undelivered bool
}

// cursor is the position after a row: its sort key.
type cursor struct {
	Last  string    `json:"l"`
	First string    `json:"f"`
	User  equipe.ID `json:"u"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		return c, &equipe.Error{Code: equipe.EINVALID, Key: "error.fields",
			Fields: []equipe.FieldError{{Field: "cursor", Key: "request.cursor_invalid"}}}
	}
	return c, nil
}

// prefixHigh follows every string that starts with a prefix: prefix ≤ s <
// prefix+prefixHigh bounds a prefix search as an index range.
const prefixHigh = "\U0010FFFF"

// MaxMemberPage is the most members a page of the team list shows.
const MaxMemberPage = 200

// Members returns a page of the account's members in the order of the team
// page (last name, first name), with the cursor of the next page ("" when
// this one is the last). Every filter narrows an indexed range: the first
// page and a page deep into 100,000 members cost the same.
func (q Queries) ListMembers(ctx context.Context, f MemberFilter) ([]MemberRow, string, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, MaxMemberPage)
	bin := q.d.binary
	// Until a member joins, the names they were added under are shown, and
	// their identity's activity elsewhere (last login) is not.
	query := `SELECT ` + memberColumns + `, u.email,
		CASE WHEN m.joined_at IS NULL AND (m.first_name <> '' OR m.last_name <> '') THEN m.first_name ELSE u.first_name END,
		CASE WHEN m.joined_at IS NULL AND (m.first_name <> '' OR m.last_name <> '') THEN m.last_name ELSE u.last_name END,
		CASE WHEN m.joined_at IS NULL THEN NULL ELSE u.last_login_at END, m.last_key, m.first_key
		FROM members m JOIN users u ON u.id = m.user_id WHERE m.account_id = $1`
	args := []any{f.Account}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + itoa(len(args))
	}
	if f.Status != "" {
		query += " AND m.status = " + arg(string(f.Status))
	}
	if f.Role != "" {
		query += " AND m.role = " + arg(f.Role)
	}
	if f.Resource != nil {
		query += ` AND EXISTS (SELECT 1 FROM member_resources mr WHERE mr.account_id = m.account_id
			AND mr.user_id = m.user_id AND mr.resource_id = ` + arg(*f.Resource) + `)`
	}
	// A search matches a member when the whole of it starts their last
	// name, first name or email ("de la" finds "de la Tour"), or when each of
	// its words does ("marc d" finds Marc Dupont). Each test is an index range.
	if words := strings.Fields(Fold(f.Search)); len(words) > 0 {
		starts := func(prefix string) string {
			lo, hi := arg(prefix), arg(prefix+prefixHigh)
			var any []string
			for _, col := range []string{"m.last_key", "m.first_key", "m.email_key"} {
				any = append(any, "("+col+bin+" >= "+lo+" AND "+col+bin+" < "+hi+")")
			}
			return "(" + strings.Join(any, " OR ") + ")"
		}
		// The first word leads: every match starts with it somewhere (a
		// phrase that starts a key starts it with its first word), so its
		// three ranges bound the rows read; the rest only filters them.
		cond := starts(words[0])
		if len(words) > 1 {
			var rest []string
			for _, w := range words[1:] {
				rest = append(rest, starts(w))
			}
			cond += " AND (" + starts(strings.Join(words, " ")) + " OR (" + strings.Join(rest, " AND ") + "))"
		}
		query += " AND " + cond
	}
	if f.After != "" {
		c, err := decodeCursor(f.After)
		if err != nil {
			return nil, "", err
		}
		query += " AND (m.last_key" + bin + ", m.first_key" + bin + ", m.user_id) > (" + arg(c.Last) + ", " + arg(c.First) + ", " + arg(c.User) + ")"
	}
	query += " ORDER BY m.last_key" + bin + ", m.first_key" + bin + ", m.user_id LIMIT " + arg(limit+1)
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", wrap(err)
	}
	defer rows.Close()
	var out []MemberRow
	var keys []cursor
	for rows.Next() {
		var r MemberRow
		var c cursor
		dest := append(memberDest(&r.Member), &r.Email, &r.FirstName, &r.LastName, ts(&r.LastLoginAt), &c.Last, &c.First)
		if err := rows.Scan(dest...); err != nil {
			return nil, "", wrap(err)
		}
		c.User = r.Member.UserID
		out = append(out, r)
		keys = append(keys, c)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = encodeCursor(keys[limit-1])
	}
	if err := q.attachResources(ctx, f.Account, out); err != nil {
		return nil, "", err
	}
	if err := q.attachDelivery(ctx, out); err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// attachResources fills the assigned resources of the rows, in one query.
func (q Queries) attachResources(ctx context.Context, account equipe.ID, rows []MemberRow) error {
	if len(rows) == 0 {
		return nil
	}
	byUser := map[equipe.ID]*MemberRow{}
	args := []any{account}
	var in []string
	for i := range rows {
		byUser[rows[i].Member.UserID] = &rows[i]
		args = append(args, rows[i].Member.UserID)
		in = append(in, "$"+itoa(len(args)))
	}
	rs, err := q.q.QueryContext(ctx, `SELECT user_id, resource_id FROM member_resources
		WHERE account_id = $1 AND user_id IN (`+strings.Join(in, ", ")+`) ORDER BY user_id, resource_id`, args...)
	if err != nil {
		return wrap(err)
	}
	defer rs.Close()
	for rs.Next() {
		var u, r equipe.ID
		if err := rs.Scan(&u, &r); err != nil {
			return wrap(err)
		}
		if row := byUser[u]; row != nil {
			row.Resources = append(row.Resources, r)
		}
	}
	return wrap(rs.Err())
}

// attachDelivery marks the rows of members invited and not joined whose
// last email since the invitation was abandoned by the mail worker: the
// newest abandoned email to the address is newer than the invitation and
// than the newest email delivered to it.
func (q Queries) attachDelivery(ctx context.Context, rows []MemberRow) error {
	byEmail := map[string][]*MemberRow{}
	var args []any
	var in []string
	for i := range rows {
		r := &rows[i]
		if !r.Member.JoinedAt.IsZero() || r.Member.LastInvitedAt.IsZero() {
			continue
		}
		if byEmail[r.Email] == nil {
			args = append(args, r.Email)
			in = append(in, "$"+itoa(len(args)))
		}
		byEmail[r.Email] = append(byEmail[r.Email], r)
	}
	if len(args) == 0 {
		return nil
	}
	rs, err := q.q.QueryContext(ctx, `SELECT recipient,
		MAX(CASE WHEN status = 'abandoned' THEN created_at END), MAX(CASE WHEN status = 'sent' THEN created_at END)
		FROM outbox WHERE recipient IN (`+strings.Join(in, ", ")+`) AND status IN ('abandoned', 'sent')
		GROUP BY recipient`, args...)
	if err != nil {
		return wrap(err)
	}
	defer rs.Close()
	for rs.Next() {
		var email string
		var abandoned, sent time.Time
		if err := rs.Scan(&email, ts(&abandoned), ts(&sent)); err != nil {
			return wrap(err)
		}
		for _, r := range byEmail[email] {
			r.Undelivered = !abandoned.IsZero() && !abandoned.Before(r.Member.LastInvitedAt) && abandoned.After(sent)
		}
	}
	return wrap(rs.Err())
}

// RefreshMemberKeys recomputes the sort and search keys of the user's
// memberships that show the user's own names (joined, or added without
// names of their own), after their name or login email changed.
func (w Writes) RefreshMemberKeys(ctx context.Context, userID equipe.ID) error {
	var first, last, email string
	if err := w.queryRow(ctx, `SELECT first_name, last_name, email_key FROM users WHERE id = $1`, []any{userID},
		&first, &last, &email); err != nil {
		return err
	}
	_, err := w.exec(ctx, `UPDATE members SET first_key = $2, last_key = $3, email_key = $4
		WHERE user_id = $1 AND (joined_at IS NOT NULL OR (first_name = '' AND last_name = ''))`,
		userID, Fold(first), Fold(last), email)
	return err
}

// RecordInvitation notes that an invitation (or activation) email was sent to
// the member at at by the user by: the member becomes invited if they were
// only created, the count of invitations goes up.
func (w Writes) RecordInvitation(ctx context.Context, accountID, userID equipe.ID, at time.Time, by *equipe.ID) error {
	w.x.touch(MemberKey(accountID, userID))
	return w.execOne(ctx, `UPDATE members SET status = CASE WHEN status = 'created' THEN 'invited' ELSE status END,
		invitations_sent = invitations_sent + 1, last_invited_at = $3, invited_by = COALESCE($4, invited_by)
		WHERE account_id = $1 AND user_id = $2`, accountID, userID, micros(at), idv(by))
}

// SupersedeAccountTokens makes the user's usable tokens of kind for the
// account unusable (a revoked invitation, a removed member's links).
func (w Writes) SupersedeAccountTokens(ctx context.Context, userID, accountID equipe.ID, kind equipe.TokenKind, at time.Time) error {
	_, err := w.exec(ctx, `UPDATE tokens SET superseded_at = $4
		WHERE user_id = $1 AND account_id = $2 AND kind = $3 AND used_at IS NULL AND superseded_at IS NULL`,
		userID, accountID, kind, micros(at))
	return err
}

// SharesAccount reports whether user a already sees user b's own names: a
// is an active member of an account that b has joined. A membership b never
// accepted (one a may have made up) does not count.
func (q Queries) SharesAccount(ctx context.Context, a, b equipe.ID) (bool, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM members x JOIN members y ON y.account_id = x.account_id
		WHERE x.user_id = $1 AND x.status = 'active' AND y.user_id = $2 AND y.joined_at IS NOT NULL`, a, b).Scan(&n)
	return n > 0, wrap(err)
}

// SetUserNames changes a user's names (and the keys of the memberships that
// show them).
func (w Writes) SetUserNames(ctx context.Context, userID equipe.ID, first, last string) error {
	if err := w.execOne(ctx, `UPDATE users SET first_name = $2, last_name = $3 WHERE id = $1`, userID, first, last); err != nil {
		return err
	}
	return w.RefreshMemberKeys(ctx, userID)
}

// JoinMember makes the member active, joined at at, shown under their
// identity's names from now on.
func (w Writes) JoinMember(ctx context.Context, accountID, userID equipe.ID, at time.Time) error {
	w.x.touch(MemberKey(accountID, userID))
	if err := w.execOne(ctx, `UPDATE members SET status = 'active', joined_at = COALESCE(joined_at, $3),
		first_name = '', last_name = '', locale = '' WHERE account_id = $1 AND user_id = $2`, accountID, userID, micros(at)); err != nil {
		return err
	}
	return w.RefreshMemberKeys(ctx, userID)
}

// AccountTokens returns the user's tokens of kind for the account, newest first.
func (q Queries) AccountTokens(ctx context.Context, userID, accountID equipe.ID, kind equipe.TokenKind) ([]equipe.Token, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+tokenColumns+` FROM tokens
		WHERE user_id = $1 AND account_id = $2 AND kind = $3 ORDER BY created_at DESC, id DESC`, userID, accountID, kind)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []equipe.Token
	for rows.Next() {
		var t equipe.Token
		if err := scanToken(rows, &t); err != nil {
			return nil, wrap(err)
		}
		out = append(out, t)
	}
	return out, wrap(rows.Err())
}

// RemovedAt returns when the user was last removed from the account, as its
// audit log remembers (the membership itself is deleted), or ENOTFOUND.
func (q Queries) RemovedAt(ctx context.Context, accountID, userID equipe.ID) (time.Time, error) {
	var at int64
	err := q.q.QueryRowContext(ctx, `SELECT at FROM audit_events
		WHERE account_id = $1 AND target_id = $2 AND action = 'member.removed' ORDER BY id DESC LIMIT 1`,
		accountID, userID.String()).Scan(&at)
	if err != nil {
		return time.Time{}, wrap(err)
	}
	return time.UnixMicro(at).UTC(), nil
}
