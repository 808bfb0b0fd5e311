package store

import (
	"context"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/equipe-dev/equipe"
)

// MemberFilter selects members of an account for the team page.
type MemberFilter struct {
	Account  equipe.ID
	Status   equipe.MemberStatus // "" for every status
	Role     string              // "" for every role
	Resource *equipe.ID          // members assigned to this resource
	Client   *equipe.ID          // the firm's staff assigned to this client account (client_staff)
	Search   string              // words each found in some part of the first name, last name or email
	Sort     MemberSort          // "" for SortName
	Desc     bool                // the sort reversed
	After    string              // the cursor of the last row of the previous page
	Limit    int                 // default 50, at most 200
}

// MemberSort is an order of the team page.
type MemberSort string

// The orders of the team page. Each is an index of the account's members,
// and ties fall back to the name, then to the user's ID, so that the order
// is total and pages neither repeat nor skip anyone.
const (
	SortName      MemberSort = "name"       // last name, first name
	SortRole      MemberSort = "role"       // the role's key, then the name
	SortStatus    MemberSort = "status"     // the status's key (active, created, invited, suspended), then the name
	SortLastLogin MemberSort = "last_login" // the last login to the account (never first), then the name
)

// MemberRow is one line of the team page.
type MemberRow struct {
	Member    equipe.Member
	Email     string
	FirstName string
	LastName  string
	// LastLoginAt is the member's last login to this account (zero: never).
	LastLoginAt time.Time
	Resources   []equipe.ID
	// Undelivered: the member has not joined, and the last email to their
	// login email since they were last invited could not be delivered.
	Undelivered bool
	// UserDisabled: the instance disabled the person's identity (no login,
	// every check about them denied, in every account).
	UserDisabled bool
}

// cursor is the position after a row: its sort key.
type cursor struct {
	Key   string // the role or status, for those orders
	Login int64  // the last login, for that order
	Last  string
	First string
	User  equipe.ID
}

// membersList names the team list's cursors (equipe.Cursor) made under
// the filter f: its account, its order and direction, and a hash of what it
// selects, so that a cursor given back in another account's list or under
// another sort or other filters, where its
// position means nothing, is refused (equipe.ErrCursor) rather than read
// as an arbitrary place in the list. The hash keeps a search's words out of
// the cursor, which URLs and logs carry.
func membersList(f MemberFilter) string {
	sort, dir := f.Sort, "asc"
	if sort == "" {
		sort = SortName
	}
	if f.Desc {
		dir = "desc"
	}
	h := fnv.New64a()
	resource := ""
	if f.Resource != nil {
		resource = f.Resource.String()
	}
	client := ""
	if f.Client != nil {
		client = f.Client.String()
	}
	for _, part := range []string{string(f.Status), f.Role, resource, client, strings.Join(strings.Fields(Fold(f.Search)), " ")} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return "members/" + f.Account.String() + "/" + string(sort) + "/" + dir + "/" + strconv.FormatUint(h.Sum64(), 36)
}

func encodeCursor(f MemberFilter, c cursor) string {
	return equipe.Cursor(membersList(f), c.Key, strconv.FormatInt(c.Login, 10), c.Last, c.First, keyID(c.User))
}

func decodeCursor(f MemberFilter, s string) (cursor, error) {
	k, err := equipe.Page{After: s}.Key(membersList(f), 5)
	if err != nil {
		return cursor{}, err
	}
	login, err := equipe.CursorInt(k[1])
	if err != nil {
		return cursor{}, err
	}
	user, err := equipe.CursorID(k[4])
	if err != nil {
		return cursor{}, err
	}
	return cursor{Key: k[0], Login: login, Last: k[2], First: k[3], User: user}, nil
}

// MaxMemberPage is the most members a page of the team list shows.
const MaxMemberPage = equipe.MaxPage

// searchCandidates is the most members a search reads through the trigram
// index before it gives the index up: a search that finds more than this
// finds them often enough that reading the list in order and keeping the
// matches fills a page sooner than sorting every match would.
const searchCandidates = 1000

// minTrigram is the length from which a word is found through the trigram
// index: a shorter one has no trigram to look up.
const minTrigram = 3

// ListMembers returns a page of the account's members in the order f.Sort
// asks for, with the cursor of the next page ("" when this one is the last).
// Each order follows an index of the account's members: the first page and a
// page deep into 100,000 members cost the same.
//
// A search keeps the members in whom each of its words (folded: case and
// accents ignored) is part of the first name, the last name or the email.
// It first looks for at most searchCandidates matches: through the trigram
// index (pg_trgm on PostgreSQL, FTS5 on SQLite) when a word has three
// characters or more, else by reading the account's keys (trigrams need
// three characters). Few matches are then sorted; more are found by reading
// the list in order and keeping the matches, which fills a page quickly
// since matches are common.
func (q Queries) ListMembers(ctx context.Context, f MemberFilter) ([]MemberRow, string, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, MaxMemberPage)
	bin := q.d.binary
	// Until a member joins, the names they were added under are shown.
	query := `SELECT ` + memberColumns + `, u.email,
		CASE WHEN m.joined_at IS NULL THEN m.first_name ELSE u.first_name END,
		CASE WHEN m.joined_at IS NULL THEN m.last_name ELSE u.last_name END,
		m.last_key, m.first_key, m.joined_at IS NOT NULL AND u.disabled_at IS NOT NULL
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
	if f.Client != nil {
		query += ` AND EXISTS (SELECT 1 FROM client_staff cs WHERE cs.client_id = ` + arg(*f.Client) + `
			AND cs.user_id = m.user_id)`
	}
	if words := strings.Fields(Fold(f.Search)); len(words) > 0 {
		ids, found, err := q.searchCandidates(ctx, f.Account, words)
		if err != nil {
			return nil, "", err
		}
		if found {
			if len(ids) == 0 {
				return nil, "", nil
			}
			in := make([]string, len(ids))
			for i, id := range ids {
				in[i] = arg(id)
			}
			query += " AND m.user_id IN (" + strings.Join(in, ", ") + ")"
		}
		// Each word is part of a key; a word holds no space, so it cannot
		// span two keys. The test is exact: it also checks the candidates.
		for _, w := range words {
			query += " AND " + q.d.contains("m.first_key || ' ' || m.last_key || ' ' || m.email_key", arg(w))
		}
	}
	// The sort's columns, and whether each compares byte by byte.
	type col struct {
		expr string
		bin  bool
	}
	var cols []col
	switch f.Sort {
	case SortRole:
		cols = append(cols, col{"m.role", true})
	case SortStatus:
		// Statuses are lower-case ASCII: every collation orders them alike, and
		// members_account_status serves the order as it is.
		cols = append(cols, col{"m.status", false})
	case SortLastLogin:
		cols = append(cols, col{"m.last_login_at", false})
	case "", SortName:
	default:
		return nil, "", &equipe.Error{Code: equipe.EINVALID, Key: "error.fields",
			Fields: []equipe.FieldError{{Field: "sort", Key: "request.sort_invalid"}}}
	}
	cols = append(cols, col{"m.last_key", true}, col{"m.first_key", true}, col{"m.user_id", false})
	var order []string
	for _, c := range cols {
		e := c.expr
		if c.bin {
			e += bin
		}
		if f.Desc {
			e += " DESC"
		}
		order = append(order, e)
	}
	if f.After != "" {
		c, err := decodeCursor(f, f.After)
		if err != nil {
			return nil, "", err
		}
		var lhs, rhs []string
		for _, cl := range cols {
			e := cl.expr
			if cl.bin {
				e += bin
			}
			lhs = append(lhs, e)
		}
		switch f.Sort {
		case SortRole, SortStatus:
			rhs = append(rhs, arg(c.Key))
		case SortLastLogin:
			rhs = append(rhs, arg(c.Login))
		}
		rhs = append(rhs, arg(c.Last), arg(c.First), arg(c.User))
		op := " > "
		if f.Desc {
			op = " < "
		}
		query += " AND (" + strings.Join(lhs, ", ") + ")" + op + "(" + strings.Join(rhs, ", ") + ")"
	}
	query += " ORDER BY " + strings.Join(order, ", ") + " LIMIT " + arg(limit+1)
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
		dest := append(memberDest(&r.Member), &r.Email, &r.FirstName, &r.LastName, &c.Last, &c.First, &r.UserDisabled)
		if err := rows.Scan(dest...); err != nil {
			return nil, "", wrap(err)
		}
		r.LastLoginAt = r.Member.LastLoginAt
		c.User = r.Member.UserID
		switch f.Sort {
		case SortRole:
			c.Key = r.Member.Role
		case SortStatus:
			c.Key = string(r.Member.Status)
		case SortLastLogin:
			if !r.LastLoginAt.IsZero() {
				c.Login = r.LastLoginAt.UnixMicro()
			}
		}
		out = append(out, r)
		keys = append(keys, c)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = encodeCursor(f, keys[limit-1])
	}
	if err := q.attachResources(ctx, f.Account, out); err != nil {
		return nil, "", err
	}
	if err := q.attachDelivery(ctx, out); err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// likeEscaper escapes the characters LIKE gives a meaning to, with the
// escape character both engines are told to use (likeEscape).
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// searchCandidates returns the account's members in whose keys each word
// appears, and found = true; or found = false when more than
// searchCandidates members match, and the caller should read the list in
// order instead, keeping the matches. When a word has three characters or
// more, the trigram index finds the candidates (which the caller checks
// against every word); otherwise the account's keys are read, in no order,
// until enough match: the only search that reads every member of the
// account is one of short words that finds few.
func (q Queries) searchCandidates(ctx context.Context, account equipe.ID, words []string) ([]equipe.ID, bool, error) {
	var long []string
	for _, w := range words {
		if utf8.RuneCountInString(w) >= minTrigram {
			long = append(long, w)
		}
	}
	var query string
	args := []any{account}
	switch {
	case len(long) > 0 && q.d.engine == SQLite:
		// A quoted phrase of the trigram tokenizer matches where it is a
		// substring.
		var phrases []string
		for _, w := range long {
			phrases = append(phrases, `"`+strings.ReplaceAll(w, `"`, `""`)+`"`)
		}
		args = append(args, strings.Join(phrases, " AND "))
		query = `SELECT k.user_id FROM member_search s JOIN member_search_keys k ON k.id = s.rowid
			WHERE member_search MATCH $2 AND k.account_id = $1`
	case len(long) > 0:
		// The expression is the one members_search indexes.
		query = `SELECT user_id FROM members WHERE account_id = $1`
		for _, w := range long {
			args = append(args, "%"+likeEscaper.Replace(w)+"%")
			query += ` AND (first_key || ' ' || last_key || ' ' || email_key) LIKE $` + itoa(len(args)) + q.d.likeEscape
		}
	default:
		// The narrowest copy of the keys: on SQLite, a covering index.
		query = `SELECT user_id FROM members WHERE account_id = $1`
		keys := "first_key || ' ' || last_key || ' ' || email_key"
		if q.d.engine == SQLite {
			query, keys = `SELECT user_id FROM member_search_keys WHERE account_id = $1`, "words"
		}
		for _, w := range words {
			args = append(args, w)
			query += " AND " + q.d.contains(keys, "$"+itoa(len(args)))
		}
	}
	return q.candidates(ctx, query, args)
}

// candidates runs a search's query of user IDs, reading one more than
// searchCandidates to tell whether there are too many.
func (q Queries) candidates(ctx context.Context, query string, args []any) ([]equipe.ID, bool, error) {
	rows, err := q.q.QueryContext(ctx, query+" LIMIT "+itoa(searchCandidates+1), args...)
	if err != nil {
		return nil, false, wrap(err)
	}
	defer rows.Close()
	var ids []equipe.ID
	for rows.Next() {
		var id equipe.ID
		if err := rows.Scan(&id); err != nil {
			return nil, false, wrap(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, false, wrap(err)
	}
	if len(ids) > searchCandidates {
		return nil, false, nil
	}
	return ids, true, nil
}

// MemberCounts are the numbers of an account's members, in all and by status.
type MemberCounts struct {
	Total    int
	ByStatus map[equipe.MemberStatus]int
}

// CountMembers counts the account's members by status. The counts are kept
// by triggers on members (migration 13) in the transaction of each change:
// reading them costs four rows, where counting 100,000 members cost tens of
// milliseconds on every view of the team page.
func (q Queries) CountMembers(ctx context.Context, account equipe.ID) (MemberCounts, error) {
	out := MemberCounts{ByStatus: map[equipe.MemberStatus]int{}}
	rows, err := q.q.QueryContext(ctx, `SELECT status, n FROM member_counts WHERE account_id = $1 AND n <> 0`, account)
	if err != nil {
		return out, wrap(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s equipe.MemberStatus
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return out, wrap(err)
		}
		out.ByStatus[s] = n
		out.Total += n
	}
	return out, wrap(rows.Err())
}

// SetMemberLogin records that the user logged in to the account at at: they
// logged in with it current, or switched to it. Nothing happens when the
// user is not a member of it (firm staff in a client).
func (w Writes) SetMemberLogin(ctx context.Context, accountID, userID equipe.ID, at time.Time) error {
	_, err := w.exec(ctx, `UPDATE members SET last_login_at = $3 WHERE account_id = $1 AND user_id = $2`,
		accountID, userID, micros(at))
	return err
}

// SetSoleMemberLogin records a login of the user at at to the only account
// they are an active member of, when there is exactly one: that account is
// the one they enter. Someone with several chooses one, and SetMemberLogin
// records it then. A login recorded later than at is kept: the record may
// be written after its login's commit, and a switch may come first.
func (w Writes) SetSoleMemberLogin(ctx context.Context, userID equipe.ID, at time.Time) error {
	_, err := w.exec(ctx, `UPDATE members SET last_login_at = $2 WHERE user_id = $1 AND status = 'active'
		AND last_login_at < $2
		AND (SELECT COUNT(*) FROM members o WHERE o.user_id = $1 AND o.status = 'active') = 1`, userID, micros(at))
	return err
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
// memberships, after their name or login email changed: the address's in
// every one, the names' in those that show the user's own names (joined);
// until they join, a membership keeps the names it was added under
// (equipe.Member.ShownNames).
func (w Writes) RefreshMemberKeys(ctx context.Context, userID equipe.ID) error {
	var first, last, email string
	if err := w.queryRow(ctx, `SELECT first_name, last_name, email_key FROM users WHERE id = $1`, []any{userID},
		&first, &last, &email); err != nil {
		return err
	}
	_, err := w.exec(ctx, `UPDATE members SET email_key = $4,
		first_key = CASE WHEN joined_at IS NULL THEN first_key ELSE $2 END,
		last_key = CASE WHEN joined_at IS NULL THEN last_key ELSE $3 END
		WHERE user_id = $1`,
		userID, Fold(first), Fold(last), email)
	return err
}

// RecordInvitation notes that an invitation (or activation) email was sent to
// the member at at by the user by: the member becomes invited if they were
// only created, the count of invitations goes up.
func (w Writes) RecordInvitation(ctx context.Context, accountID, userID equipe.ID, at time.Time, by *equipe.ID) error {
	w.x.touch(MemberKey(accountID, userID))
	if d := w.deferring(); d != nil {
		if m := d.pendingMember(accountID, userID); m != nil {
			// The member is not written yet: the row to insert says it
			// (the columns of CreateMemberOf), which saves updating it.
			if m[memberStatusArg] == equipe.MemberCreated {
				m[memberStatusArg] = equipe.MemberInvited
			}
			m[memberInvitationsArg] = m[memberInvitationsArg].(int) + 1
			m[memberLastInvitedArg] = micros(at)
			if by != nil {
				m[memberInvitedByArg] = idv(by)
			}
			return nil
		}
		d.add(invitationsRecorded, accountID.String()+" "+itoa(int(micros(at)))+" "+idGroup(by),
			accountID, micros(at), idv(by), userID)
		return nil
	}
	return w.execOne(ctx, `UPDATE members SET status = CASE WHEN status = 'created' THEN 'invited' ELSE status END,
		invitations_sent = invitations_sent + 1, last_invited_at = $3, invited_by = COALESCE($4, invited_by)
		WHERE account_id = $1 AND user_id = $2`, accountID, userID, micros(at), idv(by))
}

// invitationsRecorded is RecordInvitation deferred: for invitations of
// one account, time and sender, one statement records them; a member
// missing answers ENOTFOUND.
var invitationsRecorded = &deferredKind{name: "invitations", write: func(ctx context.Context, _ Writes, q querier, rows [][]any) error {
	users := make([]any, len(rows))
	for i, r := range rows {
		users[i] = r[3]
	}
	return execAll(ctx, q, func(in string) string {
		return `UPDATE members SET status = CASE WHEN status = 'created' THEN 'invited' ELSE status END,
			invitations_sent = invitations_sent + 1, last_invited_at = $2, invited_by = COALESCE($3, invited_by)
			WHERE account_id = $1 AND user_id IN (` + in + `)`
	}, rows[0][:3], users, len(rows), errDeferredNotFound)
}}

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

// SetUserNames changes a user's names at at (and the keys of the
// memberships that show them).
func (w Writes) SetUserNames(ctx context.Context, userID equipe.ID, first, last string, at time.Time) error {
	if err := w.touchNamesShown(ctx, userID, first, last, at); err != nil {
		return err
	}
	if err := w.execOne(ctx, `UPDATE users SET first_name = $2, last_name = $3 WHERE id = $1`, userID, first, last); err != nil {
		return err
	}
	return w.RefreshMemberKeys(ctx, userID)
}

// JoinMember makes the member active, joined at at, shown under their
// identity's names from now on (a change for a directory when those are
// not the names they were shown under).
func (w Writes) JoinMember(ctx context.Context, accountID, userID equipe.ID, at time.Time) error {
	w.x.touch(MemberKey(accountID, userID))
	if err := w.execOne(ctx, `UPDATE members SET status = 'active', joined_at = COALESCE(joined_at, $3),
		updated_at = CASE WHEN joined_at IS NULL AND updated_at < $3 AND EXISTS (SELECT 1 FROM users u
			WHERE u.id = members.user_id AND (u.first_name <> members.first_name OR u.last_name <> members.last_name))
			THEN $3 ELSE updated_at END,
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
