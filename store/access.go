package store

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
)

// UpdateMember writes the member's role, status, title, overrides,
// notification email, external ID and the time a directory saw them change
// (UpdatedAt, set by equipe.Member.Touch; never moved back).
// Returns ENOTFOUND when the user is not a member of the account, ECONFLICT
// "member.external_id_taken" when another member of the account has the
// external ID.
func (w Writes) UpdateMember(ctx context.Context, m *equipe.Member) error {
	w.x.touch(MemberKey(m.AccountID, m.UserID))
	err := w.execOne(ctx, `UPDATE members SET role = $3, status = $4, title = $5, overrides = $6, notification_email = $7,
		external_id = $8, updated_at = CASE WHEN updated_at < $9 THEN $9 ELSE updated_at END
		WHERE account_id = $1 AND user_id = $2`, m.AccountID, m.UserID, m.Role, m.Status, m.Title,
		jsonText(m.Overrides), m.NotificationEmail, str(m.ExternalID), micros(m.UpdatedAt))
	if isConflict(err) {
		return memberConflict(err)
	}
	return err
}

// SetMemberResources replaces the member's assigned resources with ids. Every
// resource must belong to the member's account: one that does not (or does
// not exist) answers ENOTFOUND "resource.unknown" and, the transaction being
// rolled back by the caller, changes nothing.
func (w Writes) SetMemberResources(ctx context.Context, accountID, userID equipe.ID, ids []equipe.ID) error {
	if _, err := w.exec(ctx, `DELETE FROM member_resources WHERE account_id = $1 AND user_id = $2`, accountID, userID); err != nil {
		return err
	}
	return w.AssignNewMember(ctx, accountID, userID, ids)
}

// AssignNewMember gives a member just created (who holds no resource yet)
// the resources ids: SetMemberResources without the statement that clears
// what they held. An unknown resource answers as SetMemberResources does.
func (w Writes) AssignNewMember(ctx context.Context, accountID, userID equipe.ID, ids []equipe.ID) error {
	w.x.touch(MemberKey(accountID, userID))
	seen := map[equipe.ID]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if d := w.deferring(); d != nil {
			d.add(resourcesAssigned, accountID.String(), accountID, userID, id)
			continue
		}
		err := w.execOne(ctx, `INSERT INTO member_resources (account_id, user_id, resource_id)
			SELECT $1, $2, r.id FROM resources r WHERE r.id = $3 AND r.account_id = $1`, accountID, userID, id)
		if equipe.ErrorCode(err) == equipe.ENOTFOUND {
			return &equipe.Error{Code: equipe.ENOTFOUND, Key: "resource.unknown", Args: map[string]any{"id": id.String()}}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// resourcesAssigned is AssignNewMember deferred: for the members of an
// account, one statement checks that the resources are the account's (if
// one is not, ENOTFOUND "resource.unknown", without naming it), another
// assigns them all.
var resourcesAssigned = &deferredKind{name: "member_resources", write: func(ctx context.Context, w Writes, q querier, rows [][]any) error {
	var ids []any
	for _, r := range rows {
		if !slices.Contains(ids, r[2]) {
			ids = append(ids, r[2])
		}
	}
	var n int
	if err := wrap(q.QueryRowContext(ctx, `SELECT COUNT(*) FROM resources WHERE account_id = $1 AND id IN (`+
		params(2, len(ids))+`)`, append([]any{rows[0][0]}, ids...)...).Scan(&n)); err != nil {
		return err
	}
	if n != len(ids) {
		return &equipe.Error{Code: equipe.ENOTFOUND, Key: "resource.unknown"}
	}
	return insertValues(`INSERT INTO member_resources (account_id, user_id, resource_id) VALUES`, nil)(ctx, w, q, rows)
}}

// DeleteMember removes the user from the account (their identity and other
// accounts stay). Returns ENOTFOUND when they were not a member.
func (w Writes) DeleteMember(ctx context.Context, accountID, userID equipe.ID) error {
	w.x.touch(MemberKey(accountID, userID))
	return w.execOne(ctx, `DELETE FROM members WHERE account_id = $1 AND user_id = $2`, accountID, userID)
}

// LockActiveAdmins returns the account's active administrators, locked until
// the transaction ends: of two transactions that each demote an
// administrator, the second waits for the first and then sees what it left,
// so an account never loses its last administrator to a race.
func (tx *Tx) LockActiveAdmins(ctx context.Context, accountID equipe.ID) ([]equipe.ID, error) {
	return queryIDs(ctx, tx.q, `SELECT user_id FROM members
		WHERE account_id = $1 AND role = 'admin' AND status = 'active' ORDER BY user_id`+tx.Queries.d.forUpdate, accountID)
}

// LockInstanceAdmins returns the instance's administrators whose identity
// is not disabled, locked until the transaction ends, so that two
// deletions at once cannot leave the instance with none.
func (tx *Tx) LockInstanceAdmins(ctx context.Context) ([]equipe.ID, error) {
	return instanceAdmins(ctx, tx.q, tx.Queries.d.forUpdate)
}

// EnabledInstanceAdmins returns the instance's administrators whose
// identity is not disabled, without locking them (for answering what a
// reader may do; a change locks them with LockInstanceAdmins).
func (q Queries) EnabledInstanceAdmins(ctx context.Context) ([]equipe.ID, error) {
	return instanceAdmins(ctx, q.q, "")
}

func instanceAdmins(ctx context.Context, q querier, lock string) ([]equipe.ID, error) {
	return queryIDs(ctx, q, `SELECT id FROM users WHERE instance_admin AND disabled_at IS NULL ORDER BY id`+lock)
}

// CountActiveAdmins returns how many active administrators the account has,
// without locking them (for answering what a reader may do; a change locks
// them with LockActiveAdmins).
func (q Queries) CountActiveAdmins(ctx context.Context, accountID equipe.ID) (int, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM members WHERE account_id = $1 AND role = 'admin' AND status = 'active'`,
		accountID).Scan(&n)
	return n, wrap(err)
}

// AdminsElsewhere returns which of users are active administrators of an
// account other than except in which actor (nil: nobody) is not an active
// administrator.
func (q Queries) AdminsElsewhere(ctx context.Context, users []equipe.ID, actor *equipe.ID, except equipe.ID) (map[equipe.ID]bool, error) {
	out := map[equipe.ID]bool{}
	if len(users) == 0 {
		return out, nil
	}
	args := []any{except, idv(actor)}
	in := make([]string, 0, len(users))
	for _, u := range users {
		args = append(args, u)
		in = append(in, "$"+itoa(len(args)))
	}
	rows, err := q.q.QueryContext(ctx, `SELECT DISTINCT m.user_id FROM members m
		WHERE m.user_id IN (`+strings.Join(in, ", ")+`) AND m.role = 'admin' AND m.status = 'active' AND m.account_id <> $1
		AND NOT EXISTS (SELECT 1 FROM members a WHERE a.account_id = m.account_id AND a.user_id = $2
			AND a.role = 'admin' AND a.status = 'active')`, args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id equipe.ID
		if err := rows.Scan(&id); err != nil {
			return nil, wrap(err)
		}
		out[id] = true
	}
	return out, wrap(rows.Err())
}

// CountPendingAdmins returns how many administrators of the account have yet
// to join (created or invited).
func (q Queries) CountPendingAdmins(ctx context.Context, accountID equipe.ID) (int, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM members WHERE account_id = $1 AND role = 'admin'
		AND status IN ('created', 'invited')`, accountID).Scan(&n)
	return n, wrap(err)
}

// LockMember returns the user's membership of the account, locked until the
// transaction ends, or ENOTFOUND.
func (tx *Tx) LockMember(ctx context.Context, accountID, userID equipe.ID) (equipe.Member, error) {
	var m equipe.Member
	err := tx.q.QueryRowContext(ctx, `SELECT `+memberColumns+` FROM members m
		WHERE m.account_id = $1 AND m.user_id = $2`+tx.Queries.d.forUpdate, accountID, userID).Scan(memberDest(&m)...)
	return m, wrap(err)
}

// Members returns the account's members ordered by user ID (the team page
// comes with its own query).
func (q Queries) Members(ctx context.Context, accountID equipe.ID) ([]equipe.Member, error) {
	return q.members(ctx, `SELECT `+memberColumns+` FROM members m WHERE m.account_id = $1
		ORDER BY m.user_id`, accountID)
}

// members returns the members a query of memberColumns reads.
func (q Queries) members(ctx context.Context, query string, args ...any) ([]equipe.Member, error) {
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []equipe.Member
	for rows.Next() {
		var m equipe.Member
		if err := rows.Scan(memberDest(&m)...); err != nil {
			return nil, wrap(err)
		}
		out = append(out, m)
	}
	return out, wrap(rows.Err())
}

// CountMembersWithRole returns how many members of the account hold role.
func (q Queries) CountMembersWithRole(ctx context.Context, accountID equipe.ID, role string) (int, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM members WHERE account_id = $1 AND role = $2`, accountID, role).Scan(&n)
	return n, wrap(err)
}

// RoleHoldersBeyond returns the members of the account who hold one of
// roles and may hold more than those roles grant: those with overrides, and,
// when limited, those assigned a resource that is not in reach. A holder
// not returned holds their role's grants and nothing more, within reach:
// whoever may give the role holds at least what they hold, and ranking them
// needs no read of their own. Ordered by user.
func (q Queries) RoleHoldersBeyond(ctx context.Context, accountID equipe.ID, roles []string, limited bool, reach []equipe.ID) ([]equipe.Member, error) {
	if len(roles) == 0 {
		return nil, nil
	}
	args := []any{accountID}
	in := func(n int, arg func(int) any) string {
		ps := make([]string, n)
		for i := range n {
			args = append(args, arg(i))
			ps[i] = "$" + itoa(len(args))
		}
		return strings.Join(ps, ", ")
	}
	query := `SELECT ` + memberColumns + ` FROM members m WHERE m.account_id = $1
		AND m.role IN (` + in(len(roles), func(i int) any { return roles[i] }) + `)
		AND (m.overrides <> '[]'`
	if limited {
		query += ` OR EXISTS (SELECT 1 FROM member_resources mr
			WHERE mr.account_id = m.account_id AND mr.user_id = m.user_id`
		if len(reach) > 0 {
			query += ` AND mr.resource_id NOT IN (` + in(len(reach), func(i int) any { return reach[i] }) + `)`
		}
		query += `)`
	}
	return q.members(ctx, query+`) ORDER BY m.user_id`, args...)
}

// CountMembersByRole returns how many members of the account hold each role.
func (q Queries) CountMembersByRole(ctx context.Context, accountID equipe.ID) (map[string]int, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT role, COUNT(*) FROM members WHERE account_id = $1 GROUP BY role`, accountID)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var role string
		var n int
		if err := rows.Scan(&role, &n); err != nil {
			return nil, wrap(err)
		}
		out[role] = n
	}
	return out, wrap(rows.Err())
}

// ReplaceRole gives every member of the account who holds role from the role
// to instead, changed at at. Returns how many members changed.
func (w Writes) ReplaceRole(ctx context.Context, accountID equipe.ID, from, to string, at time.Time) (int64, error) {
	w.x.touch(AccountKey(accountID))
	return w.exec(ctx, `UPDATE members SET role = $3, updated_at = CASE WHEN updated_at < $4 THEN $4 ELSE updated_at END
		WHERE account_id = $1 AND role = $2`, accountID, from, to, micros(at))
}

// KeysWithRole returns the IDs of the account's API keys that are not
// revoked and hold role. A key whose creator is suspended is one: it acts
// again when they are reactivated.
func (q Queries) KeysWithRole(ctx context.Context, accountID equipe.ID, role string) ([]equipe.ID, error) {
	return queryIDs(ctx, q.q, `SELECT id FROM api_keys WHERE account_id = $1 AND role = $2
		AND revoked_at IS NULL ORDER BY id`, accountID, role)
}

// ReplaceKeyRole gives the account's API keys ids, as KeysWithRole read
// them in the same transaction, the role to instead of from. Revoked keys
// keep the role they held, as their history. Returns how many keys changed.
func (w Writes) ReplaceKeyRole(ctx context.Context, accountID equipe.ID, ids []equipe.ID, from, to string) (int64, error) {
	for _, id := range ids {
		// Every process keeps a key with its role: each must read it again.
		w.x.touch(KeyKey(id))
	}
	return w.exec(ctx, `UPDATE api_keys SET role = $3 WHERE account_id = $1 AND role = $2 AND revoked_at IS NULL`,
		accountID, from, to)
}

// ResourceIDs returns the IDs of the account's resources in use, and of
// those archived.
func (q Queries) ResourceIDs(ctx context.Context, accountID equipe.ID) (active, archived []equipe.ID, err error) {
	rows, err := q.q.QueryContext(ctx, `SELECT id, archived_at IS NOT NULL FROM resources WHERE account_id = $1`, accountID)
	if err != nil {
		return nil, nil, wrap(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id equipe.ID
		var gone bool
		if err := rows.Scan(&id, &gone); err != nil {
			return nil, nil, wrap(err)
		}
		if gone {
			archived = append(archived, id)
		} else {
			active = append(active, id)
		}
	}
	return active, archived, wrap(rows.Err())
}

// SetUserDisabled suspends (at a non-zero time) or restores a user in every
// account.
func (w Writes) SetUserDisabled(ctx context.Context, userID equipe.ID, at time.Time) error {
	w.x.touch(UserKey(userID))
	return w.execOne(ctx, `UPDATE users SET disabled_at = $2 WHERE id = $1`, userID, tv(at))
}

const roleColumns = `account_id, key, label_fr, label_en, grants, restricted, created_at, updated_at`

func scanRole(row interface{ Scan(...any) error }, r *equipe.CustomRole) error {
	return row.Scan(&r.AccountID, &r.Key, &r.LabelFR, &r.LabelEN, jsonOf(&r.Grants), &r.Restricted, ts(&r.CreatedAt), ts(&r.UpdatedAt))
}

// CreateRole inserts a custom role. Returns ECONFLICT "role.exists" when the
// account has a role with that key.
func (w Writes) CreateRole(ctx context.Context, r *equipe.CustomRole) error {
	_, err := w.exec(ctx, `INSERT INTO roles (`+roleColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		r.AccountID, r.Key, r.LabelFR, r.LabelEN, jsonText(r.Grants), r.Restricted, micros(r.CreatedAt), micros(r.UpdatedAt))
	if isConflict(err) {
		return &equipe.Error{Code: equipe.ECONFLICT, Key: "role.exists", Err: err}
	}
	return err
}

// UpdateRole writes a custom role's labels, grants and restriction. Every
// member holding it is affected. Returns ENOTFOUND for an unknown role.
func (w Writes) UpdateRole(ctx context.Context, r *equipe.CustomRole) error {
	w.x.touch(AccountKey(r.AccountID))
	return w.execOne(ctx, `UPDATE roles SET label_fr = $3, label_en = $4, grants = $5, restricted = $6, updated_at = $7
		WHERE account_id = $1 AND key = $2`, r.AccountID, r.Key, r.LabelFR, r.LabelEN, jsonText(r.Grants), r.Restricted,
		micros(r.UpdatedAt))
}

// DeleteRole deletes a custom role. Returns ENOTFOUND for an unknown role.
func (w Writes) DeleteRole(ctx context.Context, accountID equipe.ID, key string) error {
	w.x.touch(AccountKey(accountID))
	return w.execOne(ctx, `DELETE FROM roles WHERE account_id = $1 AND key = $2`, accountID, key)
}

// Role returns the account's custom role with key, or ENOTFOUND.
func (q Queries) Role(ctx context.Context, accountID equipe.ID, key string) (equipe.CustomRole, error) {
	var r equipe.CustomRole
	err := scanRole(q.q.QueryRowContext(ctx, `SELECT `+roleColumns+` FROM roles WHERE account_id = $1 AND key = $2`, accountID, key), &r)
	return r, wrap(err)
}

// Roles returns the account's custom roles ordered by key.
func (q Queries) Roles(ctx context.Context, accountID equipe.ID) ([]equipe.CustomRole, error) {
	return q.RolesAfter(ctx, accountID, "", 0)
}

// RolesAfter returns at most limit (0: every one) of the account's custom
// roles whose key follows after (all for ""), ordered by key.
func (q Queries) RolesAfter(ctx context.Context, accountID equipe.ID, after string, limit int) ([]equipe.CustomRole, error) {
	args := []any{accountID}
	var pos []any
	if after != "" {
		pos = []any{after}
	}
	rows, err := q.q.QueryContext(ctx, `SELECT `+roleColumns+` FROM roles WHERE account_id = $1`+
		keyset(&args, []string{"key"}, false, pos, limit), args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []equipe.CustomRole
	for rows.Next() {
		var r equipe.CustomRole
		if err := scanRole(rows, &r); err != nil {
			return nil, wrap(err)
		}
		out = append(out, r)
	}
	return out, wrap(rows.Err())
}

const apiKeyColumns = `id, account_id, name, prefix, hash, role, created_by, created_at, last_used_at, revoked_at,
	revoked_reason, purpose`

func scanAPIKey(row interface{ Scan(...any) error }, k *equipe.APIKey) error {
	return row.Scan(&k.ID, idp(&k.AccountID), &k.Name, &k.Prefix, &k.Hash, &k.Role, idp(&k.CreatedBy), ts(&k.CreatedAt),
		ts(&k.LastUsedAt), ts(&k.RevokedAt), &k.RevokedReason, &k.Purpose)
}

// CreateAPIKey inserts k.
func (w Writes) CreateAPIKey(ctx context.Context, k *equipe.APIKey) error {
	_, err := w.exec(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		k.ID, idv(k.AccountID), k.Name, k.Prefix, k.Hash, k.Role, idv(k.CreatedBy), micros(k.CreatedAt),
		tv(k.LastUsedAt), tv(k.RevokedAt), k.RevokedReason, k.Purpose)
	return err
}

// RevokeAPIKey revokes the key with id at at, for reason (empty when a
// person revoked it). account scopes the lookup: an account's key is
// revoked only through its account, an instance key (nil) only as one. A
// key already revoked, or of another account, answers ENOTFOUND.
func (w Writes) RevokeAPIKey(ctx context.Context, account *equipe.ID, id equipe.ID, at time.Time, reason string) error {
	w.x.touch(KeyKey(id))
	return w.execOne(ctx, `UPDATE api_keys SET revoked_at = $3, revoked_reason = $4
		WHERE id = $1 AND revoked_at IS NULL AND (account_id = $2 OR ($2 IS NULL AND account_id IS NULL))`,
		id, idv(account), micros(at), reason)
}

// ActiveKeysCreatedBy returns the keys the user created that are not
// revoked, in every account and the instance's, newest first.
func (q Queries) ActiveKeysCreatedBy(ctx context.Context, user equipe.ID) ([]equipe.APIKey, error) {
	return q.apiKeys(ctx, `WHERE created_by = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC`, user)
}

// apiKeys returns the keys that the query's condition and order select.
func (q Queries) apiKeys(ctx context.Context, where string, args ...any) ([]equipe.APIKey, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys `+where, args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []equipe.APIKey
	for rows.Next() {
		var k equipe.APIKey
		if err := scanAPIKey(rows, &k); err != nil {
			return nil, wrap(err)
		}
		out = append(out, k)
	}
	return out, wrap(rows.Err())
}

// APIKeyByHash returns the key whose secret hashes to hash, revoked or not,
// or ENOTFOUND.
func (q Queries) APIKeyByHash(ctx context.Context, hash []byte) (equipe.APIKey, error) {
	var k equipe.APIKey
	err := scanAPIKey(q.q.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = $1`, hash), &k)
	return k, wrap(err)
}

// APIKey returns the key of the account (nil: of the instance) with the
// ID, revoked or not, or ENOTFOUND.
func (q Queries) APIKey(ctx context.Context, account *equipe.ID, id equipe.ID) (equipe.APIKey, error) {
	var k equipe.APIKey
	err := scanAPIKey(q.q.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
		WHERE id = $1 AND (account_id = $2 OR ($2 IS NULL AND account_id IS NULL))`, id, idv(account)), &k)
	return k, wrap(err)
}

// APIKeys returns a page of the keys of an account (or the instance's, for
// nil), newest first, revoked ones included, with the cursor of the next
// page ("" after the last).
func (q Queries) APIKeys(ctx context.Context, account *equipe.ID, p equipe.Page) ([]equipe.APIKey, string, error) {
	// Each account's keys are a list of their own, and the instance's
	// another: a cursor of another's is refused, not read as a position.
	list := "instance_api_keys"
	if account != nil {
		list = "api_keys/" + account.String()
	}
	pos, err := after(p, list, number, id)
	if err != nil {
		return nil, "", err
	}
	args := []any{idv(account)}
	keys, err := q.apiKeys(ctx, `WHERE (account_id = $1 OR ($1 IS NULL AND account_id IS NULL))`+
		keyset(&args, []string{"created_at", "id"}, true, pos, readRows(p)), args...)
	if err != nil {
		return nil, "", err
	}
	keys, next := equipe.Cut(keys, p, list, func(k equipe.APIKey) []string { return []string{keyTime(k.CreatedAt), keyID(k.ID)} })
	return keys, next, nil
}

// TouchAPIKey records that the key was used at at.
func (db *DB) TouchAPIKey(ctx context.Context, id equipe.ID, at time.Time) error {
	_, err := db.w.ExecContext(ctx, `UPDATE api_keys SET last_used_at = $2 WHERE id = $1`, id, micros(at))
	return wrap(err)
}

// AssignClientStaff lets a member of a firm act in one of its client
// accounts. It reports whether the assignment is new: false when the user
// was assigned already, which leaves it as it was.
func (w Writes) AssignClientStaff(ctx context.Context, clientID, userID equipe.ID, at time.Time) (bool, error) {
	w.x.touch(MemberKey(clientID, userID))
	n, err := w.exec(ctx, `INSERT INTO client_staff (client_id, user_id, assigned_at) VALUES ($1, $2, $3)
		ON CONFLICT (client_id, user_id) DO NOTHING`, clientID, userID, micros(at))
	return n > 0, err
}

// UnassignClientStaff takes that right back. Returns ENOTFOUND when the user
// was not assigned.
func (w Writes) UnassignClientStaff(ctx context.Context, clientID, userID equipe.ID) error {
	w.x.touch(MemberKey(clientID, userID))
	return w.execOne(ctx, `DELETE FROM client_staff WHERE client_id = $1 AND user_id = $2`, clientID, userID)
}

// UnassignClientStaffOf takes back every assignment to the client account:
// detached, it is no firm's client, and whom a firm assigned to it is no
// longer anything to keep.
func (w Writes) UnassignClientStaffOf(ctx context.Context, clientID equipe.ID) error {
	w.x.touch(AccountKey(clientID))
	_, err := w.exec(ctx, `DELETE FROM client_staff WHERE client_id = $1`, clientID)
	return err
}

// Assignment is a firm's member's assignment to one of its client accounts.
type Assignment struct {
	Firm, Client equipe.ID
}

// AssignmentsOf returns the user's assignments to client accounts, of
// firm's clients only unless firm is nil, by client. An account detached
// from its firm is nobody's client: assignments to it are left out.
func (q Queries) AssignmentsOf(ctx context.Context, user equipe.ID, firm *equipe.ID) ([]Assignment, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT c.parent_id, s.client_id FROM client_staff s JOIN accounts c ON c.id = s.client_id
		WHERE s.user_id = $1 AND c.parent_id IS NOT NULL AND (c.parent_id = $2 OR $2 IS NULL) ORDER BY s.client_id`, user, idv(firm))
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []Assignment
	for rows.Next() {
		var a Assignment
		if err := rows.Scan(&a.Firm, &a.Client); err != nil {
			return nil, wrap(err)
		}
		out = append(out, a)
	}
	return out, wrap(rows.Err())
}

// IsClientStaff reports whether the user is assigned to the client account.
func (q Queries) IsClientStaff(ctx context.Context, clientID, userID equipe.ID) (bool, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM client_staff WHERE client_id = $1 AND user_id = $2`, clientID, userID).Scan(&n)
	return n > 0, wrap(err)
}

// SetAccountParent attaches the account to a firm (or detaches it, with nil).
// The new firm is named too: its staff reach the account from now on.
func (w Writes) SetAccountParent(ctx context.Context, accountID equipe.ID, parent *equipe.ID) error {
	w.x.touch(AccountKey(accountID))
	if parent != nil {
		w.x.touch(AccountKey(*parent))
	}
	return w.execOne(ctx, `UPDATE accounts SET parent_id = $2 WHERE id = $1`, accountID, idv(parent))
}

// RolesMembersChanged returns, by role, when the holders of each role of the
// account last changed (a member added with it, given it, taken off it or
// removed); a role none ever held since this was kept is absent.
func (q Queries) RolesMembersChanged(ctx context.Context, accountID equipe.ID) (map[string]time.Time, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT role, at FROM role_members_changed WHERE account_id = $1`, accountID)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var role string
		var at time.Time
		if err := rows.Scan(&role, orNever(&at)); err != nil {
			return nil, wrap(err)
		}
		out[role] = at
	}
	return out, wrap(rows.Err())
}

// RolesRenamed notes, at at, that the names the account's roles keys are
// shown under changed (a custom role renamed, or the account's language,
// which names every role): for a directory, their holders' groups
// (equipe.Member.UpdatedAt) and the roles' own groups, whose time of change
// role_members_changed keeps beside their holders'. Never moves back.
func (w Writes) RolesRenamed(ctx context.Context, accountID equipe.ID, keys []string, at time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	args := []any{accountID, micros(at)}
	for _, k := range keys {
		args = append(args, k)
	}
	if _, err := w.exec(ctx, `UPDATE members SET updated_at = $2 WHERE account_id = $1 AND updated_at < $2
		AND role IN (`+params(3, len(keys))+`)`, args...); err != nil {
		return err
	}
	for _, k := range keys {
		if _, err := w.exec(ctx, `INSERT INTO role_members_changed (account_id, role, at) VALUES ($1, $2, $3)
			ON CONFLICT (account_id, role) DO UPDATE SET at = CASE WHEN role_members_changed.at < excluded.at
				THEN excluded.at ELSE role_members_changed.at END`,
			accountID, k, micros(at)); err != nil {
			return err
		}
	}
	return nil
}
