package store

import (
	"context"
	"strings"

	"github.com/equipe-dev/equipe"
)

const contactColumns = `id, account_id, first_name, last_name, email, phone, kinds, created_at, updated_at`

func scanContact(row interface{ Scan(...any) error }, c *equipe.Contact) error {
	return row.Scan(&c.ID, &c.AccountID, &c.FirstName, &c.LastName, &c.Email, &c.Phone, jsonOf(&c.Kinds), ts(&c.CreatedAt), ts(&c.UpdatedAt))
}

// contactSortKey is what contacts are listed by: the last name, else the
// first name, else the email, folded (Fold), then the first name when the
// last one led. Folded, "Émile" sorts beside "emile" and "Zed", not after
// every unaccented name; the separator sorts below every character, so
// that "Dupont" precedes "Dupontel" whatever their first names.
func contactSortKey(c equipe.Contact) string {
	switch {
	case strings.TrimSpace(c.LastName) != "":
		return Fold(c.LastName) + "\x01" + Fold(c.FirstName)
	case strings.TrimSpace(c.FirstName) != "":
		return Fold(c.FirstName)
	}
	return Fold(c.Email)
}

// CreateContact inserts c.
func (w Writes) CreateContact(ctx context.Context, c *equipe.Contact) error {
	_, err := w.exec(ctx, `INSERT INTO contacts (`+contactColumns+`, sort_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		c.ID, c.AccountID, c.FirstName, c.LastName, c.Email, c.Phone, jsonText(c.Kinds), micros(c.CreatedAt), micros(c.UpdatedAt),
		contactSortKey(*c))
	return err
}

// UpdateContact writes c. The contact must belong to c.AccountID: one of
// another account answers ENOTFOUND.
func (w Writes) UpdateContact(ctx context.Context, c *equipe.Contact) error {
	return w.execOne(ctx, `UPDATE contacts SET first_name = $3, last_name = $4, email = $5, phone = $6, kinds = $7,
		updated_at = $8, sort_key = $9 WHERE id = $1 AND account_id = $2`, c.ID, c.AccountID, c.FirstName, c.LastName, c.Email, c.Phone,
		jsonText(c.Kinds), micros(c.UpdatedAt), contactSortKey(*c))
}

// DeleteContact deletes the account's contact with id, or answers ENOTFOUND.
func (w Writes) DeleteContact(ctx context.Context, account, id equipe.ID) error {
	return w.execOne(ctx, `DELETE FROM contacts WHERE id = $1 AND account_id = $2`, id, account)
}

// Contact returns the account's contact with id, or ENOTFOUND.
func (q Queries) Contact(ctx context.Context, account, id equipe.ID) (equipe.Contact, error) {
	var c equipe.Contact
	err := scanContact(q.q.QueryRowContext(ctx, `SELECT `+contactColumns+` FROM contacts WHERE id = $1 AND account_id = $2`, id, account), &c)
	return c, wrap(err)
}

// Contacts returns a page of the account's contacts by contactSortKey and
// ID, with the cursor of the next page ("" after the last).
func (q Queries) Contacts(ctx context.Context, account equipe.ID, p equipe.Page) ([]equipe.Contact, string, error) {
	// Each account's contacts are a list of their own: another's cursor is
	// refused, not read as a position.
	list := "contacts/" + account.String()
	pos, err := after(p, list, text, id)
	if err != nil {
		return nil, "", err
	}
	args := []any{account}
	query := `SELECT ` + contactColumns + ` FROM contacts WHERE account_id = $1` +
		keyset(&args, []string{"sort_key" + q.d.binary, "id"}, false, pos, readRows(p))
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", wrap(err)
	}
	defer rows.Close()
	var out []equipe.Contact
	for rows.Next() {
		var c equipe.Contact
		if err := scanContact(rows, &c); err != nil {
			return nil, "", wrap(err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(err)
	}
	out, next := equipe.Cut(out, p, list, func(c equipe.Contact) []string { return []string{contactSortKey(c), keyID(c.ID)} })
	return out, next, nil
}

// ClientAccount is a client account of a firm, with the firm staff assigned
// to it.
type ClientAccount struct {
	Account equipe.Account
	Staff   []equipe.ID
}

// Clients returns a page of the firm's client accounts by name and ID,
// with their assigned staff and the cursor of the next page ("" after the
// last). With staff non-nil, only the clients that user is assigned to.
func (q Queries) Clients(ctx context.Context, firm equipe.ID, staff *equipe.ID, p equipe.Page) ([]ClientAccount, string, error) {
	list := "clients/" + firm.String()
	pos, err := after(p, list, text, id)
	if err != nil {
		return nil, "", err
	}
	query := `SELECT ` + accountColumns + ` FROM accounts WHERE parent_id = $1`
	args := []any{firm}
	if staff != nil {
		query += ` AND id IN (SELECT client_id FROM client_staff WHERE user_id = $2)`
		args = append(args, *staff)
	}
	rows, err := q.q.QueryContext(ctx, query+keyset(&args, []string{"name", "id"}, false, pos, readRows(p)), args...)
	if err != nil {
		return nil, "", wrap(err)
	}
	var out []ClientAccount
	for rows.Next() {
		var c ClientAccount
		if err := scanAccount(rows, &c.Account); err != nil {
			rows.Close()
			return nil, "", wrap(err)
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, "", wrap(err)
	}
	out, next := equipe.Cut(out, p, list, func(c ClientAccount) []string { return []string{c.Account.Name, keyID(c.Account.ID)} })
	if len(out) == 0 {
		return out, next, nil
	}
	// The staff of this page's clients only.
	index := map[equipe.ID]int{}
	ids := make([]string, len(out))
	sargs := make([]any, len(out))
	for i, c := range out {
		index[c.Account.ID] = i
		sargs[i] = c.Account.ID
		ids[i] = "$" + itoa(i+1)
	}
	srows, err := q.q.QueryContext(ctx, `SELECT client_id, user_id FROM client_staff
		WHERE client_id IN (`+strings.Join(ids, ", ")+`) ORDER BY client_id, user_id`, sargs...)
	if err != nil {
		return nil, "", wrap(err)
	}
	defer srows.Close()
	for srows.Next() {
		var c, u equipe.ID
		if err := srows.Scan(&c, &u); err != nil {
			return nil, "", wrap(err)
		}
		if i, ok := index[c]; ok {
			out[i].Staff = append(out[i].Staff, u)
		}
	}
	if err := srows.Err(); err != nil {
		return nil, "", wrap(err)
	}
	return out, next, nil
}

// StaffClients returns the client accounts a firm member reaches: those of
// firms where they are a member, all of them for the firm's administrators,
// else those they are assigned to. Each comes with the firm's ID.
func (q Queries) StaffClients(ctx context.Context, user equipe.ID) ([]equipe.Account, error) {
	return q.StaffClientsAfter(ctx, user, nil, 0)
}

// StaffClientsAfter is StaffClients from after on (the name and ID of the
// previous page's last account; nil for the first page), n at most (0:
// every one).
func (q Queries) StaffClientsAfter(ctx context.Context, user equipe.ID, after []any, n int) ([]equipe.Account, error) {
	args := []any{user}
	rows, err := q.q.QueryContext(ctx, `SELECT `+prefixed("c.", accountColumns)+` FROM accounts c
		JOIN members fm ON fm.account_id = c.parent_id AND fm.user_id = $1 AND fm.status = 'active'
		WHERE (fm.role = 'admin' OR EXISTS (SELECT 1 FROM client_staff s WHERE s.client_id = c.id AND s.user_id = $1))
		AND NOT EXISTS (SELECT 1 FROM members own WHERE own.account_id = c.id AND own.user_id = $1)`+
		keyset(&args, []string{"c.name", "c.id"}, false, after, n), args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []equipe.Account
	for rows.Next() {
		var a equipe.Account
		if err := scanAccount(rows, &a); err != nil {
			return nil, wrap(err)
		}
		out = append(out, a)
	}
	return out, wrap(rows.Err())
}

// HasClients reports whether the account has client accounts: whether it
// is a firm.
func (q Queries) HasClients(ctx context.Context, firm equipe.ID) (bool, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM accounts WHERE parent_id = $1 LIMIT 1) c`, firm).Scan(&n)
	return n > 0, wrap(err)
}

// StaffRow is a firm's member who reaches one of its clients.
type StaffRow struct {
	UserID   equipe.ID
	Name     string // their names, else their email
	Role     string
	Assigned bool // false: a firm administrator
}

// StaffOrder is an order of FirmStaff.
type StaffOrder int

// The orders of FirmStaff, each ending with the user's ID.
const (
	StaffByName StaffOrder = iota // the name, then the role
	StaffByRole                   // the role alone
)

// FirmStaff returns, in the order asked, at most n (0: every one) of the
// firm's active members who reach its client without being among the
// client's members: the firm's administrators, and the members assigned to
// the client. after is the order's key of the previous page's last row
// (nil for the first page): the name, the role and the user's ID, or the
// role and the user's ID.
func (q Queries) FirmStaff(ctx context.Context, firm, client equipe.ID, order StaffOrder, after []any, n int) ([]StaffRow, error) {
	bin := q.d.binary
	name := `CASE WHEN u.first_name = '' AND u.last_name = '' THEN u.email
		WHEN u.first_name = '' THEN u.last_name WHEN u.last_name = '' THEN u.first_name
		ELSE u.first_name || ' ' || u.last_name END`
	query := `SELECT m.user_id, ` + name + `, m.role FROM members m JOIN users u ON u.id = m.user_id
		WHERE m.account_id = $1 AND m.status = 'active'
		AND (m.role = '` + string(equipe.RoleAdmin) + `' OR EXISTS (SELECT 1 FROM client_staff s WHERE s.client_id = $2 AND s.user_id = m.user_id))
		AND NOT EXISTS (SELECT 1 FROM members own WHERE own.account_id = $2 AND own.user_id = m.user_id)`
	args := []any{firm, client}
	cols := []string{"(" + name + ")" + bin, "m.role" + bin, "m.user_id"}
	if order == StaffByRole {
		cols = cols[1:]
	}
	rows, err := q.q.QueryContext(ctx, query+keyset(&args, cols, false, after, n), args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []StaffRow
	for rows.Next() {
		var r StaffRow
		if err := rows.Scan(&r.UserID, &r.Name, &r.Role); err != nil {
			return nil, wrap(err)
		}
		r.Assigned = r.Role != string(equipe.RoleAdmin)
		out = append(out, r)
	}
	return out, wrap(rows.Err())
}
