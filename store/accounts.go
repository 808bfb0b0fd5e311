package store

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
)

const accountColumns = `id, name, locale, parent_id, created_by_account_id, requires_activation, invitation_ttl_hours, created_at,
	time_zone`

func scanAccount(row interface{ Scan(...any) error }, a *equipe.Account) error {
	return row.Scan(&a.ID, &a.Name, &a.Locale, idp(&a.ParentID), idp(&a.CreatedByAccountID), &a.RequiresActivation,
		&a.InvitationTTLHours, ts(&a.CreatedAt), &a.TimeZone)
}

// CreateAccount inserts a.
func (w Writes) CreateAccount(ctx context.Context, a *equipe.Account) error {
	_, err := w.exec(ctx, `INSERT INTO accounts (`+accountColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		a.ID, a.Name, a.Locale, idv(a.ParentID), idv(a.CreatedByAccountID), a.RequiresActivation,
		a.InvitationTTLHours, micros(a.CreatedAt), a.TimeZone)
	return err
}

// AccountByID returns the account with id, or ENOTFOUND.
func (q Queries) AccountByID(ctx context.Context, id equipe.ID) (equipe.Account, error) {
	var a equipe.Account
	err := scanAccount(q.q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id), &a)
	return a, wrap(err)
}

// CreateResource inserts r.
func (w Writes) CreateResource(ctx context.Context, r *equipe.Resource) error {
	w.x.touch(AccountKey(r.AccountID))
	_, err := w.exec(ctx, `INSERT INTO resources (id, account_id, type, name, external_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		r.ID, r.AccountID, r.Type, r.Name, str(r.ExternalID), micros(r.CreatedAt))
	return err
}

// Resources returns the account's resources ordered by type and name.
func (q Queries) Resources(ctx context.Context, accountID equipe.ID) ([]equipe.Resource, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT id, account_id, type, name, external_id, created_at
		FROM resources WHERE account_id = $1 ORDER BY type, name, id`, accountID)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var rs []equipe.Resource
	for rows.Next() {
		var r equipe.Resource
		if err := rows.Scan(&r.ID, &r.AccountID, &r.Type, &r.Name, nstr(&r.ExternalID), ts(&r.CreatedAt)); err != nil {
			return nil, wrap(err)
		}
		rs = append(rs, r)
	}
	return rs, wrap(rows.Err())
}

const memberColumns = `m.account_id, m.user_id, m.role, m.status, m.title, m.overrides, m.notification_email,
	m.first_name, m.last_name, m.locale, m.invited_by, m.invitations_sent, m.last_invited_at, m.joined_at, m.created_at,
	m.last_login_at`

func memberDest(m *equipe.Member) []any {
	return []any{&m.AccountID, &m.UserID, &m.Role, &m.Status, &m.Title, jsonOf(&m.Overrides), &m.NotificationEmail,
		&m.FirstName, &m.LastName, &m.Locale, idp(&m.InvitedBy), &m.InvitationsSent, ts(&m.LastInvitedAt), ts(&m.JoinedAt),
		ts(&m.CreatedAt), orNever(&m.LastLoginAt)}
}

// CreateMember inserts m, with the sort and search keys of the names it is
// shown under (m's own, else the user's) and of the email. Returns ECONFLICT
// with key "error.member_exists" when the user is already a member of the
// account.
func (w Writes) CreateMember(ctx context.Context, m *equipe.Member) error {
	var first, last, email string
	if err := w.queryRow(ctx, `SELECT first_name, last_name, email_key FROM users WHERE id = $1`, []any{m.UserID},
		&first, &last, &email); err != nil {
		return err
	}
	if m.FirstName != "" || m.LastName != "" {
		first, last = m.FirstName, m.LastName
	}
	_, err := w.exec(ctx, `INSERT INTO members (account_id, user_id, role, status, title, overrides, notification_email,
		first_name, last_name, locale, invited_by, invitations_sent, last_invited_at, joined_at, created_at, first_key,
		last_key, email_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		m.AccountID, m.UserID, m.Role, m.Status, m.Title, jsonText(m.Overrides), m.NotificationEmail, m.FirstName,
		m.LastName, m.Locale, idv(m.InvitedBy), m.InvitationsSent, tv(m.LastInvitedAt), tv(m.JoinedAt), micros(m.CreatedAt),
		Fold(first), Fold(last), email)
	if err == nil {
		w.x.touch(MemberKey(m.AccountID, m.UserID))
	}
	if isConflict(err) {
		return &equipe.Error{Code: equipe.ECONFLICT, Key: "error.member_exists", Err: err}
	}
	return err
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
	rows, err := q.q.QueryContext(ctx, `SELECT resource_id FROM member_resources
		WHERE account_id = $1 AND user_id = $2 ORDER BY resource_id`, accountID, userID)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var ids []equipe.ID
	for rows.Next() {
		var id equipe.ID
		if err := rows.Scan(&id); err != nil {
			return nil, wrap(err)
		}
		ids = append(ids, id)
	}
	return ids, wrap(rows.Err())
}

// AccountsOfUser returns the accounts the user is a member of, with the
// membership, ordered by account name.
func (q Queries) AccountsOfUser(ctx context.Context, userID equipe.ID) ([]equipe.MemberAccount, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+memberColumns+`, a.id, a.name, a.locale, a.parent_id,
		a.created_by_account_id, a.requires_activation, a.invitation_ttl_hours, a.created_at
		FROM members m JOIN accounts a ON a.id = m.account_id
		WHERE m.user_id = $1 ORDER BY a.name, a.id`, userID)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []equipe.MemberAccount
	for rows.Next() {
		var ma equipe.MemberAccount
		a := &ma.Account
		dest := append(memberDest(&ma.Member), &a.ID, &a.Name, &a.Locale, idp(&a.ParentID),
			idp(&a.CreatedByAccountID), &a.RequiresActivation, &a.InvitationTTLHours, ts(&a.CreatedAt))
		if err := rows.Scan(dest...); err != nil {
			return nil, wrap(err)
		}
		out = append(out, ma)
	}
	return out, wrap(rows.Err())
}

// ActivateMember marks the member active and joined at at.
func (w Writes) ActivateMember(ctx context.Context, accountID, userID equipe.ID, at time.Time) error {
	w.x.touch(MemberKey(accountID, userID))
	return w.execOne(ctx, `UPDATE members SET status = 'active', joined_at = COALESCE(joined_at, $3)
		WHERE account_id = $1 AND user_id = $2`, accountID, userID, micros(at))
}

// UpdateAccount writes the account's name, locale and settings.
func (w Writes) UpdateAccount(ctx context.Context, a *equipe.Account) error {
	return w.execOne(ctx, `UPDATE accounts SET name = $2, locale = $3, requires_activation = $4, invitation_ttl_hours = $5,
		time_zone = $6 WHERE id = $1`, a.ID, a.Name, a.Locale, a.RequiresActivation, a.InvitationTTLHours, a.TimeZone)
}
