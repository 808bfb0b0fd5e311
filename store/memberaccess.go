package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/equipe-dev/equipe"
)

// MemberAccess is what deciding a member's access takes, read in one
// statement: their membership's role, status, overrides and join time,
// whether their user is disabled, the account's custom role their role
// names (if it names one), and their assigned resources.
type MemberAccess struct {
	UserID       equipe.ID
	Role         string
	Status       equipe.MemberStatus
	Overrides    []equipe.Override
	JoinedAt     time.Time
	UserDisabled bool
	// CustomRole is the account's role of key Role, nil when the account
	// has none of that key.
	CustomRole *equipe.CustomRole
	Resources  []equipe.ID
}

// memberAccessColumns are read from members m, roles ro and
// member_resources mr, joined by memberAccessJoins: one row per assigned
// resource, or one with a NULL resource for a member who holds none. Whether
// the member's identity is disabled is read from the index of disabled
// identities (%[1]s: the dialect's disabledUsers), not from the identities'
// table: a member's row says their identity exists.
const memberAccessColumns = `m.user_id, EXISTS (SELECT 1 FROM users d%[1]s WHERE d.id = m.user_id AND d.disabled_at IS NOT NULL),
	m.role, m.status, m.overrides, m.joined_at, ro.label_fr, ro.label_en, ro.grants, ro.restricted, mr.resource_id`

const memberAccessJoins = `LEFT JOIN roles ro ON ro.account_id = m.account_id AND ro.key = m.role
	LEFT JOIN member_resources mr ON mr.account_id = m.account_id AND mr.user_id = m.user_id`

// memberAccessQueries are the statements of MemberAccess and
// AccountMembersAccess in each dialect.
var memberAccessQueries = func() map[*dialect][2]string {
	qs := map[*dialect][2]string{}
	for _, d := range dialects {
		cols := fmt.Sprintf(memberAccessColumns, d.disabledUsers)
		qs[d] = [2]string{
			// The member's rows, or, when the user is no member, one row
			// of the identity alone (with a NULL role), or none when
			// there is no such identity. The identities' table is looked
			// into only when there is no member (the key sought is NULL
			// otherwise, which finds nothing without reading a page): the
			// member's own pages, just read, answer whether there is.
			`SELECT ` + cols + ` FROM members m ` + memberAccessJoins + `
			WHERE m.account_id = $1 AND m.user_id = $2
			UNION ALL SELECT u.id, u.disabled_at IS NOT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
			FROM users u WHERE u.id = CASE WHEN EXISTS (SELECT 1 FROM members m WHERE m.account_id = $1 AND m.user_id = $2)
				THEN NULL ELSE $2 END
			ORDER BY 11`,
			`SELECT ` + cols + `
			FROM (SELECT account_id, user_id, role, status, overrides, joined_at FROM members WHERE account_id = $1 LIMIT $2) m
			` + memberAccessJoins + `
			ORDER BY m.user_id, mr.resource_id`,
		}
	}
	return qs
}()

// memberAccessRows folds rows of memberAccessColumns, ordered by user, into
// one MemberAccess a user, and calls each with it.
func memberAccessRows(rows *sql.Rows, each func(MemberAccess)) error {
	defer rows.Close()
	var cur MemberAccess
	started := false
	for rows.Next() {
		var m MemberAccess
		var status, labelFR, labelEN string
		var grants []equipe.Grant
		var restricted sql.NullBool
		var resource *equipe.ID
		if err := rows.Scan(&m.UserID, &m.UserDisabled, nstr(&m.Role), nstr(&status), jsonOf(&m.Overrides), ts(&m.JoinedAt),
			nstr(&labelFR), nstr(&labelEN), jsonOf(&grants), &restricted, idp(&resource)); err != nil {
			return wrap(err)
		}
		if !started || m.UserID != cur.UserID {
			if started {
				each(cur)
			}
			m.Status = equipe.MemberStatus(status)
			if restricted.Valid {
				m.CustomRole = &equipe.CustomRole{Key: m.Role, LabelFR: labelFR, LabelEN: labelEN, Grants: grants,
					Restricted: restricted.Bool}
			}
			cur, started = m, true
		}
		if resource != nil {
			cur.Resources = append(cur.Resources, *resource)
		}
	}
	if err := rows.Err(); err != nil {
		return wrap(err)
	}
	if started {
		each(cur)
	}
	return nil
}

// MemberAccess returns what deciding the user's access to the account
// takes, in one statement. user says whether the user exists, member
// whether they are a member of the account (ma is then filled).
func (q Queries) MemberAccess(ctx context.Context, accountID, userID equipe.ID) (ma MemberAccess, user, member bool, err error) {
	rows, err := q.q.QueryContext(ctx, memberAccessQueries[q.d][0], accountID, userID)
	if err != nil {
		return MemberAccess{}, false, false, wrap(err)
	}
	err = memberAccessRows(rows, func(m MemberAccess) { ma, user = m, true })
	if err != nil || ma.Role == "" {
		return MemberAccess{UserDisabled: ma.UserDisabled}, user, false, err
	}
	return ma, true, true, nil
}

// AccountMembersAccess returns what deciding the access of each member of
// the account takes (see MemberAccess), in one statement, ordered by user
// ID, when the account has at most max members; complete is false (and
// the list to be ignored) when it has more.
func (q Queries) AccountMembersAccess(ctx context.Context, accountID equipe.ID, max int) (ms []MemberAccess, complete bool, err error) {
	rows, err := q.q.QueryContext(ctx, memberAccessQueries[q.d][1], accountID, max+1)
	if err != nil {
		return nil, false, wrap(err)
	}
	if err := memberAccessRows(rows, func(m MemberAccess) { ms = append(ms, m) }); err != nil {
		return nil, false, err
	}
	if len(ms) > max {
		return nil, false, nil
	}
	return ms, true, nil
}

// AccountAccess is what deciding access in an account takes of the account
// itself (see AccountAccess).
type AccountAccess struct {
	ParentID      *equipe.ID
	MFARequiredAt time.Time
	MFAGraceHours int
	// Members is how many members the account has.
	Members             int
	Resources, Archived []equipe.ID
}

// AccountAccess returns the account's parent, second-factor rule, number of
// members and the IDs of its resources in use and archived, in one
// statement, or ENOTFOUND.
func (q Queries) AccountAccess(ctx context.Context, id equipe.ID) (AccountAccess, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT a.parent_id, a.mfa_required_at, a.mfa_grace_hours, c.n,
		r.id, r.archived_at IS NOT NULL
		FROM accounts a
		CROSS JOIN (SELECT COALESCE(SUM(n), 0) AS n FROM member_counts WHERE account_id = $1) c
		LEFT JOIN resources r ON r.account_id = a.id
		WHERE a.id = $1`, id)
	if err != nil {
		return AccountAccess{}, wrap(err)
	}
	defer rows.Close()
	var a AccountAccess
	found := false
	for rows.Next() {
		var resource *equipe.ID
		var archived sql.NullBool
		if err := rows.Scan(idp(&a.ParentID), orNever(&a.MFARequiredAt), &a.MFAGraceHours, &a.Members,
			idp(&resource), &archived); err != nil {
			return AccountAccess{}, wrap(err)
		}
		found = true
		switch {
		case resource == nil:
		case archived.Bool:
			a.Archived = append(a.Archived, *resource)
		default:
			a.Resources = append(a.Resources, *resource)
		}
	}
	if err := rows.Err(); err != nil {
		return AccountAccess{}, wrap(err)
	}
	if !found {
		return AccountAccess{}, wrap(sql.ErrNoRows)
	}
	return a, nil
}
