package store

import (
	"context"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
)

const accountColumns = `id, name, locale, parent_id, created_by_account_id, requires_activation, invitation_ttl_hours, created_at,
	notify_adder, time_zone, mfa_required_at, mfa_grace_hours, scim_enabled`

func scanAccount(row interface{ Scan(...any) error }, a *equipe.Account) error {
	return row.Scan(&a.ID, &a.Name, &a.Locale, idp(&a.ParentID), idp(&a.CreatedByAccountID), &a.RequiresActivation,
		&a.InvitationTTLHours, ts(&a.CreatedAt), &a.NotifyAdder, &a.TimeZone, orNever(&a.MFARequiredAt),
		&a.MFAGraceHours, &a.SCIMEnabled)
}

// CreateAccount inserts a; with no NotifyAdder, the default. A client
// account names its firm: the firm's staff reach it from now on, and the
// lists of the accounts they reach change.
func (w Writes) CreateAccount(ctx context.Context, a *equipe.Account) error {
	if a.NotifyAdder == "" {
		a.NotifyAdder = equipe.DefaultNotifyAdder
	}
	if a.ParentID != nil {
		w.x.touch(AccountKey(*a.ParentID))
	}
	_, err := w.exec(ctx, `INSERT INTO accounts (`+accountColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		a.ID, a.Name, a.Locale, idv(a.ParentID), idv(a.CreatedByAccountID), a.RequiresActivation,
		a.InvitationTTLHours, micros(a.CreatedAt), a.NotifyAdder, a.TimeZone, zeroNever(a.MFARequiredAt), a.MFAGraceHours,
		a.SCIMEnabled)
	return err
}

// AccountByID returns the account with id, or ENOTFOUND.
func (q Queries) AccountByID(ctx context.Context, id equipe.ID) (equipe.Account, error) {
	var a equipe.Account
	err := scanAccount(q.q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id), &a)
	return a, wrap(err)
}

const resourceColumns = `id, account_id, type, name, external_id, created_at, archived_at`

func scanResource(row interface{ Scan(...any) error }, r *equipe.Resource) error {
	return row.Scan(&r.ID, &r.AccountID, &r.Type, &r.Name, nstr(&r.ExternalID), ts(&r.CreatedAt), ts(&r.ArchivedAt))
}

// CreateResource inserts r. Returns ECONFLICT "resource.name_taken" when a
// resource of the same type in the account has the same name (see Fold).
func (w Writes) CreateResource(ctx context.Context, r *equipe.Resource) error {
	w.x.touch(AccountKey(r.AccountID))
	_, err := w.exec(ctx, `INSERT INTO resources (id, account_id, type, name, external_id, created_at, archived_at, name_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		r.ID, r.AccountID, r.Type, r.Name, str(r.ExternalID), micros(r.CreatedAt), tv(r.ArchivedAt), Fold(r.Name))
	return resourceConflict(err)
}

func resourceConflict(err error) error {
	if isConflict(err) {
		return &equipe.Error{Code: equipe.ECONFLICT, Key: "resource.name_taken", Err: err,
			Fields: []equipe.FieldError{{Field: "name", Key: "resource.name_taken"}}}
	}
	return err
}

// UpdateResource writes r's name and external ID. Returns ENOTFOUND when
// the account has no such resource, ECONFLICT "resource.name_taken" as
// CreateResource does. A name says nothing of who may do what: no change
// key.
func (w Writes) UpdateResource(ctx context.Context, r *equipe.Resource) error {
	err := w.execOne(ctx, `UPDATE resources SET name = $3, external_id = $4, name_key = $5
		WHERE account_id = $1 AND id = $2`, r.AccountID, r.ID, r.Name, str(r.ExternalID), Fold(r.Name))
	return resourceConflict(err)
}

// SetResourceArchived archives the resource at a non-zero time, or restores
// it at the zero time. Its assignments stay. Checks in the account change:
// every process forgets the account. Returns ENOTFOUND when the account has
// no such resource.
func (w Writes) SetResourceArchived(ctx context.Context, accountID, id equipe.ID, at time.Time) error {
	w.x.touch(AccountKey(accountID))
	return w.execOne(ctx, `UPDATE resources SET archived_at = $3 WHERE account_id = $1 AND id = $2`, accountID, id, tv(at))
}

// Resource returns the account's resource id, or ENOTFOUND.
func (q Queries) Resource(ctx context.Context, accountID, id equipe.ID) (equipe.Resource, error) {
	var r equipe.Resource
	err := scanResource(q.q.QueryRowContext(ctx, `SELECT `+resourceColumns+` FROM resources
		WHERE account_id = $1 AND id = $2`, accountID, id), &r)
	return r, wrap(err)
}

// Resources returns the account's resources, archived ones included,
// ordered by type and name.
func (q Queries) Resources(ctx context.Context, accountID equipe.ID) ([]equipe.Resource, error) {
	rs, _, err := q.ResourcePage(ctx, ResourceFilter{Account: accountID}, equipe.Page{})
	return rs, err
}

// ResourceFilter selects an account's resources.
type ResourceFilter struct {
	Account  equipe.ID
	Type     string // a resource type's key; "" for every type
	Archived *bool  // only archived (true) or only in use (false); nil for both
}

// ResourcePage returns a page of the resources f selects, by type, name
// and ID, with the cursor of the next page ("" after the last).
func (q Queries) ResourcePage(ctx context.Context, f ResourceFilter, p equipe.Page) ([]equipe.Resource, string, error) {
	list := "resources/" + f.Account.String()
	pos, err := after(p, list, text, text, id)
	if err != nil {
		return nil, "", err
	}
	args := []any{f.Account}
	query := `SELECT ` + resourceColumns + ` FROM resources WHERE account_id = $1`
	if f.Type != "" {
		args = append(args, f.Type)
		query += ` AND type = $` + itoa(len(args))
	}
	if f.Archived != nil {
		if *f.Archived {
			query += ` AND archived_at IS NOT NULL`
		} else {
			query += ` AND archived_at IS NULL`
		}
	}
	query += keyset(&args, []string{"type", "name", "id"}, false, pos, readRows(p))
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", wrap(err)
	}
	defer rows.Close()
	var rs []equipe.Resource
	for rows.Next() {
		var r equipe.Resource
		if err := scanResource(rows, &r); err != nil {
			return nil, "", wrap(err)
		}
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(err)
	}
	rs, next := equipe.Cut(rs, p, list, func(r equipe.Resource) []string { return []string{r.Type, r.Name, keyID(r.ID)} })
	return rs, next, nil
}

// ResourceMember is a member assigned to a resource, under the names the
// account shows them.
type ResourceMember struct {
	Resource  equipe.ID
	UserID    equipe.ID
	FirstName string
	LastName  string
	Email     string
	Status    equipe.MemberStatus
}

// ResourceMembers returns the members assigned to the account's resources
// (to resource only, when not nil), by resource, then in the team page's
// order.
func (q Queries) ResourceMembers(ctx context.Context, accountID equipe.ID, resource *equipe.ID) ([]ResourceMember, error) {
	if resource != nil {
		return q.MembersOfResources(ctx, accountID, []equipe.ID{*resource})
	}
	return q.MembersOfResources(ctx, accountID, nil)
}

// MembersOfResources returns the members assigned to the given resources of
// the account (to every resource, for nil), by resource, then in the team
// page's order.
func (q Queries) MembersOfResources(ctx context.Context, accountID equipe.ID, resources []equipe.ID) ([]ResourceMember, error) {
	bin := q.d.binary
	query := `SELECT mr.resource_id, m.user_id,
		CASE WHEN m.joined_at IS NULL THEN m.first_name ELSE u.first_name END,
		CASE WHEN m.joined_at IS NULL THEN m.last_name ELSE u.last_name END,
		u.email, m.status
		FROM member_resources mr
		JOIN members m ON m.account_id = mr.account_id AND m.user_id = mr.user_id
		JOIN users u ON u.id = m.user_id
		WHERE mr.account_id = $1`
	args := []any{accountID}
	if resources != nil {
		if len(resources) == 0 {
			return nil, nil
		}
		ps := make([]string, len(resources))
		for i, r := range resources {
			args = append(args, r)
			ps[i] = "$" + itoa(len(args))
		}
		query += ` AND mr.resource_id IN (` + strings.Join(ps, ", ") + `)`
	}
	query += ` ORDER BY mr.resource_id, m.last_key` + bin + `, m.first_key` + bin + `, m.user_id`
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []ResourceMember
	for rows.Next() {
		var r ResourceMember
		if err := rows.Scan(&r.Resource, &r.UserID, &r.FirstName, &r.LastName, &r.Email, &r.Status); err != nil {
			return nil, wrap(err)
		}
		out = append(out, r)
	}
	return out, wrap(rows.Err())
}

const memberColumns = `m.account_id, m.user_id, m.role, m.status, m.title, m.overrides, m.notification_email,
	m.first_name, m.last_name, m.locale, m.invited_by, m.invitations_sent, m.last_invited_at, m.joined_at, m.created_at,
	m.last_login_at, m.external_id, m.updated_at`

func memberDest(m *equipe.Member) []any {
	return []any{&m.AccountID, &m.UserID, &m.Role, &m.Status, &m.Title, jsonOf(&m.Overrides), &m.NotificationEmail,
		&m.FirstName, &m.LastName, &m.Locale, idp(&m.InvitedBy), &m.InvitationsSent, ts(&m.LastInvitedAt), ts(&m.JoinedAt),
		ts(&m.CreatedAt), orNever(&m.LastLoginAt), nstr(&m.ExternalID), orNever(&m.UpdatedAt)}
}

// CreateMember inserts m, with the sort and search keys of the names it is
// shown under (equipe.Member.ShownNames) and of the email. Returns ECONFLICT
// with key "error.member_exists" when the user is already a member of the
// account.
func (w Writes) CreateMember(ctx context.Context, m *equipe.Member) error {
	var u equipe.User
	if err := w.queryRow(ctx, `SELECT first_name, last_name, email_key FROM users WHERE id = $1`, []any{m.UserID},
		&u.FirstName, &u.LastName, &u.EmailKey); err != nil {
		return err
	}
	return w.CreateMemberOf(ctx, m, u)
}

// CreateMemberOf is CreateMember for the user u as the caller read it (its
// names and address key), which saves reading it again.
func (w Writes) CreateMemberOf(ctx context.Context, m *equipe.Member, u equipe.User) error {
	first, last, email := u.FirstName, u.LastName, u.EmailKey
	if m.JoinedAt.IsZero() {
		first, last = m.ShownNames(u)
	}
	if m.UpdatedAt.IsZero() {
		m.UpdatedAt = m.CreatedAt
	}
	args := []any{m.AccountID, m.UserID, m.Role, m.Status, m.Title, jsonText(m.Overrides), m.NotificationEmail, m.FirstName,
		m.LastName, m.Locale, idv(m.InvitedBy), m.InvitationsSent, tv(m.LastInvitedAt), tv(m.JoinedAt), micros(m.CreatedAt),
		Fold(first), Fold(last), email, str(m.ExternalID), micros(m.UpdatedAt)}
	if d := w.deferring(); d != nil {
		if d.created == nil {
			d.created = map[[2]equipe.ID]int{}
		}
		d.created[[2]equipe.ID{m.AccountID, m.UserID}] = len(d.items)
		d.add(membersCreated, "", args...)
		w.x.touch(MemberKey(m.AccountID, m.UserID))
		return nil
	}
	_, err := w.exec(ctx, insertMembers+` ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
		$17, $18, $19, $20)`, args...)
	if err == nil {
		w.x.touch(MemberKey(m.AccountID, m.UserID))
	}
	if isConflict(err) {
		return memberConflict(err)
	}
	return err
}

const insertMembers = `INSERT INTO members (account_id, user_id, role, status, title, overrides, notification_email,
		first_name, last_name, locale, invited_by, invitations_sent, last_invited_at, joined_at, created_at, first_key,
		last_key, email_key, external_id, updated_at) VALUES`

// The places in a member's values (CreateMemberOf's) of those an
// invitation changes.
const (
	memberStatusArg      = 3
	memberInvitedByArg   = 10
	memberInvitationsArg = 11
	memberLastInvitedArg = 12
)

// membersCreated is CreateMemberOf deferred.
var membersCreated = &deferredKind{name: "members", write: insertValues(insertMembers, func(err error) error {
	if isConflict(err) {
		return memberConflict(err)
	}
	return err
})}

// memberConflict names the constraint that writing m broke: another member
// of the account with m's external ID ("member.external_id_taken"), else
// the user already a member ("error.member_exists").
func memberConflict(err error) error {
	if conflictOn(err, "external_id") {
		return &equipe.Error{Code: equipe.ECONFLICT, Key: "member.external_id_taken", Err: err}
	}
	return &equipe.Error{Code: equipe.ECONFLICT, Key: "error.member_exists", Err: err}
}

// MemberByExternalID returns the ID of the member of the account that the
// vendor's identifier id names: the member whose own external ID it is,
// else the member whose user's external ID it is (compared exactly), or
// ENOTFOUND. Only the account's members are found: the identifier of
// someone in another account names no one here.
func (q Queries) MemberByExternalID(ctx context.Context, accountID equipe.ID, id string) (equipe.ID, error) {
	var user equipe.ID
	err := q.q.QueryRowContext(ctx, `SELECT m.user_id FROM members m WHERE m.account_id = $1 AND m.external_id = $2
		UNION ALL
		SELECT m.user_id FROM users u JOIN members m ON m.user_id = u.id AND m.account_id = $1 WHERE u.external_id = $2
		LIMIT 1`, accountID, id).Scan(&user)
	return user, wrap(err)
}

// MemberByEmailKey returns the ID of the member of the account whose login
// email has the comparison key key, or ENOTFOUND.
func (q Queries) MemberByEmailKey(ctx context.Context, accountID equipe.ID, key string) (equipe.ID, error) {
	var user equipe.ID
	err := q.q.QueryRowContext(ctx, `SELECT m.user_id FROM users u JOIN members m ON m.user_id = u.id AND m.account_id = $1
		WHERE u.email_key = $2`, accountID, key).Scan(&user)
	return user, wrap(err)
}

// Member returns the user's membership of the account, or ENOTFOUND.
func (q Queries) Member(ctx context.Context, accountID, userID equipe.ID) (equipe.Member, error) {
	var m equipe.Member
	err := q.q.QueryRowContext(ctx, `SELECT `+memberColumns+` FROM members m
		WHERE m.account_id = $1 AND m.user_id = $2`, accountID, userID).Scan(memberDest(&m)...)
	return m, wrap(err)
}

// AssignResource assigns a resource of the member's account to the member.
// The resource must belong to the same account: one of another account
// answers ENOTFOUND and changes nothing.
func (w Writes) AssignResource(ctx context.Context, accountID, userID, resourceID equipe.ID) error {
	w.x.touch(MemberKey(accountID, userID))
	return w.execOne(ctx, `INSERT INTO member_resources (account_id, user_id, resource_id)
		SELECT $1, $2, r.id FROM resources r WHERE r.id = $3 AND r.account_id = $1
		ON CONFLICT DO NOTHING`, accountID, userID, resourceID)
}

// MemberResources returns the IDs of the resources assigned to the member.
func (q Queries) MemberResources(ctx context.Context, accountID, userID equipe.ID) ([]equipe.ID, error) {
	return queryIDs(ctx, q.q, `SELECT resource_id FROM member_resources
		WHERE account_id = $1 AND user_id = $2 ORDER BY resource_id`, accountID, userID)
}

// AccountsOfUser returns the accounts the user is a member of, with the
// membership, ordered by account name.
func (q Queries) AccountsOfUser(ctx context.Context, userID equipe.ID) ([]equipe.MemberAccount, error) {
	return q.AccountsOfUserAfter(ctx, userID, nil, 0)
}

// AccountsOfUserAfter is AccountsOfUser from after on (the name and ID of
// the previous page's last account; nil for the first page), n at most (0:
// every one).
func (q Queries) AccountsOfUserAfter(ctx context.Context, userID equipe.ID, after []any, n int) ([]equipe.MemberAccount, error) {
	args := []any{userID}
	rows, err := q.q.QueryContext(ctx, `SELECT `+memberColumns+`, a.id, a.name, a.locale, a.parent_id,
		a.created_by_account_id, a.requires_activation, a.invitation_ttl_hours, a.created_at, a.notify_adder
		FROM members m JOIN accounts a ON a.id = m.account_id
		WHERE m.user_id = $1`+keyset(&args, []string{"a.name", "a.id"}, false, after, n), args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []equipe.MemberAccount
	for rows.Next() {
		var ma equipe.MemberAccount
		a := &ma.Account
		dest := append(memberDest(&ma.Member), &a.ID, &a.Name, &a.Locale, idp(&a.ParentID),
			idp(&a.CreatedByAccountID), &a.RequiresActivation, &a.InvitationTTLHours, ts(&a.CreatedAt), &a.NotifyAdder)
		if err := rows.Scan(dest...); err != nil {
			return nil, wrap(err)
		}
		out = append(out, ma)
	}
	return out, wrap(rows.Err())
}

// UpdateAccount writes the account's name, locale and settings. The
// account's cached form carries its second-factor requirement, checked on
// every request in it: the change is named so that caches forget it.
func (w Writes) UpdateAccount(ctx context.Context, a *equipe.Account) error {
	w.x.touch(AccountKey(a.ID))
	return w.execOne(ctx, `UPDATE accounts SET name = $2, locale = $3, requires_activation = $4, invitation_ttl_hours = $5,
		notify_adder = $6, time_zone = $7, mfa_required_at = $8, mfa_grace_hours = $9, scim_enabled = $10 WHERE id = $1`,
		a.ID, a.Name, a.Locale, a.RequiresActivation, a.InvitationTTLHours, a.NotifyAdder, a.TimeZone,
		zeroNever(a.MFARequiredAt), a.MFAGraceHours, a.SCIMEnabled)
}

// DeleteAccount deletes the account and everything in it — its members,
// resources, roles, contacts, keys, webhook endpoints, one-time links and
// log — which go with it by their foreign keys; the identities of its
// members stay, as after a removal. The OpenID Connect grants of people
// signed in to it end, their clients told. A firm's account, which its
// clients name, is refused by the database. Returns ENOTFOUND for an
// unknown account.
func (w Writes) DeleteAccount(ctx context.Context, id equipe.ID, now time.Time) error {
	w.x.touch(AccountKey(id))
	if err := w.queueLogouts(ctx, now, `$1`, `g.account_id = $2`, id); err != nil {
		return err
	}
	return w.execOne(ctx, `DELETE FROM accounts WHERE id = $1`, id)
}

// MemberEntry is a member with their identity's login email and own names.
type MemberEntry struct {
	Member    equipe.Member
	Email     string
	FirstName string
	LastName  string
}

// MembersFrom returns at most limit members of the account from the
// offset-th on (0 the first), in the order of their user IDs: the order of
// the members' primary key, which the query reads from offset on.
func (q Queries) MembersFrom(ctx context.Context, account equipe.ID, offset, limit int) ([]MemberEntry, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+memberColumns+`, u.email, u.first_name, u.last_name
		FROM members m JOIN users u ON u.id = m.user_id WHERE m.account_id = $1
		ORDER BY m.user_id LIMIT $2 OFFSET $3`, account, limit, offset)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []MemberEntry
	for rows.Next() {
		var e MemberEntry
		if err := rows.Scan(append(memberDest(&e.Member), &e.Email, &e.FirstName, &e.LastName)...); err != nil {
			return nil, wrap(err)
		}
		out = append(out, e)
	}
	return out, wrap(rows.Err())
}

// MembersWithRole returns the user IDs of the account's members whose role
// is role, in order.
func (q Queries) MembersWithRole(ctx context.Context, account equipe.ID, role string) ([]equipe.ID, error) {
	return queryIDs(ctx, q.q, `SELECT m.user_id FROM members m WHERE m.account_id = $1 AND m.role = $2
		ORDER BY m.user_id`, account, role)
}

// MembersAmong returns the memberships of the account of those of the
// users who are members, by user, read in one query.
func (q Queries) MembersAmong(ctx context.Context, accountID equipe.ID, users []equipe.ID) (map[equipe.ID]equipe.Member, error) {
	out := make(map[equipe.ID]equipe.Member, len(users))
	for len(users) > 0 {
		n := min(len(users), maxParams-1)
		args := make([]any, 0, n+1)
		args = append(args, accountID)
		for _, u := range users[:n] {
			args = append(args, u)
		}
		rows, err := q.q.QueryContext(ctx, `SELECT `+memberColumns+` FROM members m
			WHERE m.account_id = $1 AND m.user_id IN (`+params(2, n)+`)`, args...)
		if err != nil {
			return nil, wrap(err)
		}
		for rows.Next() {
			var m equipe.Member
			if err := rows.Scan(memberDest(&m)...); err != nil {
				rows.Close()
				return nil, wrap(err)
			}
			out[m.UserID] = m
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap(err)
		}
		users = users[n:]
	}
	return out, nil
}
