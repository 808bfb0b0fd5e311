package store

import (
	"context"

	"github.com/equipe-dev/equipe"
)

const contactColumns = `id, account_id, first_name, last_name, email, phone, kinds, created_at, updated_at`

func scanContact(row interface{ Scan(...any) error }, c *equipe.Contact) error {
	return row.Scan(&c.ID, &c.AccountID, &c.FirstName, &c.LastName, &c.Email, &c.Phone, jsonOf(&c.Kinds), ts(&c.CreatedAt), ts(&c.UpdatedAt))
}

// CreateContact inserts c.
func (w Writes) CreateContact(ctx context.Context, c *equipe.Contact) error {
	_, err := w.exec(ctx, `INSERT INTO contacts (`+contactColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		c.ID, c.AccountID, c.FirstName, c.LastName, c.Email, c.Phone, jsonText(c.Kinds), micros(c.CreatedAt), micros(c.UpdatedAt))
	return err
}

// UpdateContact writes c. The contact must belong to c.AccountID: one of
// another account answers ENOTFOUND.
func (w Writes) UpdateContact(ctx context.Context, c *equipe.Contact) error {
	return w.execOne(ctx, `UPDATE contacts SET first_name = $3, last_name = $4, email = $5, phone = $6, kinds = $7,
		updated_at = $8 WHERE id = $1 AND account_id = $2`, c.ID, c.AccountID, c.FirstName, c.LastName, c.Email, c.Phone,
		jsonText(c.Kinds), micros(c.UpdatedAt))
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

// Contacts returns the account's contacts by name.
func (q Queries) Contacts(ctx context.Context, account equipe.ID) ([]equipe.Contact, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+contactColumns+` FROM contacts WHERE account_id = $1
		ORDER BY last_name, first_name, id`, account)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []equipe.Contact
	for rows.Next() {
		var c equipe.Contact
		if err := scanContact(rows, &c); err != nil {
			return nil, wrap(err)
		}
		out = append(out, c)
	}
	return out, wrap(rows.Err())
}

// ClientAccount is a client account of a firm, with the firm staff assigned
// to it.
type ClientAccount struct {
	Account equipe.Account
	Staff   []equipe.ID
}

// Clients returns the firm's client accounts by name, with their assigned
// staff. With staff non-nil, only the clients that user is assigned to.
func (q Queries) Clients(ctx context.Context, firm equipe.ID, staff *equipe.ID) ([]ClientAccount, error) {
	query := `SELECT ` + accountColumns + ` FROM accounts WHERE parent_id = $1`
	args := []any{firm}
	if staff != nil {
		query += ` AND id IN (SELECT client_id FROM client_staff WHERE user_id = $2)`
		args = append(args, *staff)
	}
	rows, err := q.q.QueryContext(ctx, query+` ORDER BY name, id`, args...)
	if err != nil {
		return nil, wrap(err)
	}
	var out []ClientAccount
	index := map[equipe.ID]int{}
	for rows.Next() {
		var c ClientAccount
		if err := scanAccount(rows, &c.Account); err != nil {
			rows.Close()
			return nil, wrap(err)
		}
		index[c.Account.ID] = len(out)
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(err)
	}
	if len(out) == 0 {
		return out, nil
	}
	srows, err := q.q.QueryContext(ctx, `SELECT s.client_id, s.user_id FROM client_staff s
		JOIN accounts a ON a.id = s.client_id WHERE a.parent_id = $1 ORDER BY s.client_id, s.user_id`, firm)
	if err != nil {
		return nil, wrap(err)
	}
	defer srows.Close()
	for srows.Next() {
		var c, u equipe.ID
		if err := srows.Scan(&c, &u); err != nil {
			return nil, wrap(err)
		}
		if i, ok := index[c]; ok {
			out[i].Staff = append(out[i].Staff, u)
		}
	}
	return out, wrap(srows.Err())
}

// StaffClients returns the client accounts a firm member reaches: those of
// firms where they are a member, all of them for the firm's administrators,
// else those they are assigned to. Each comes with the firm's ID.
func (q Queries) StaffClients(ctx context.Context, user equipe.ID) ([]equipe.Account, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+prefixed("c.", accountColumns)+` FROM accounts c
		JOIN members fm ON fm.account_id = c.parent_id AND fm.user_id = $1 AND fm.status = 'active'
		WHERE (fm.role = 'admin' OR EXISTS (SELECT 1 FROM client_staff s WHERE s.client_id = c.id AND s.user_id = $1))
		AND NOT EXISTS (SELECT 1 FROM members own WHERE own.account_id = c.id AND own.user_id = $1)
		ORDER BY c.name, c.id`, user)
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
