package store

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
)

// Passkey is a person's WebAuthn credential. Credential is the WebAuthn
// library's credential record as JSON (public key, sign count, flags,
// transports): nothing in it is secret.
type Passkey struct {
	ID           equipe.ID
	UserID       equipe.ID
	CredentialID []byte
	Name         string
	Credential   string
	CreatedAt    time.Time
	LastUsedAt   time.Time // zero: never used to log in
}

const passkeyColumns = `id, user_id, credential_id, name, credential, created_at, last_used_at`

func scanPasskey(row interface{ Scan(...any) error }, p *Passkey) error {
	return row.Scan(&p.ID, &p.UserID, &p.CredentialID, &p.Name, &p.Credential, ts(&p.CreatedAt), orNever(&p.LastUsedAt))
}

// CreatePasskey inserts p. A credential already registered (by anyone)
// answers ECONFLICT.
func (w Writes) CreatePasskey(ctx context.Context, p *Passkey) error {
	_, err := w.exec(ctx, `INSERT INTO passkeys (`+passkeyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		p.ID, p.UserID, p.CredentialID, p.Name, p.Credential, micros(p.CreatedAt), neverZero(p.LastUsedAt))
	return err
}

// Passkeys returns the user's passkeys, oldest first.
func (q Queries) Passkeys(ctx context.Context, userID equipe.ID) ([]Passkey, error) {
	out, _, err := q.PasskeyPage(ctx, userID, equipe.Page{})
	return out, err
}

// PasskeyPage returns a page of the user's passkeys, oldest first, with
// the cursor of the next page ("" after the last).
func (q Queries) PasskeyPage(ctx context.Context, userID equipe.ID, pg equipe.Page) ([]Passkey, string, error) {
	const list = "passkeys"
	pos, err := after(pg, list, number, id)
	if err != nil {
		return nil, "", err
	}
	args := []any{userID}
	rows, err := q.q.QueryContext(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE user_id = $1`+
		keyset(&args, []string{"created_at", "id"}, false, pos, readRows(pg)), args...)
	if err != nil {
		return nil, "", wrap(err)
	}
	defer rows.Close()
	var out []Passkey
	for rows.Next() {
		var p Passkey
		if err := scanPasskey(rows, &p); err != nil {
			return nil, "", wrap(err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(err)
	}
	out, next := equipe.Cut(out, pg, list, func(p Passkey) []string { return []string{keyTime(p.CreatedAt), keyID(p.ID)} })
	return out, next, nil
}

// Passkey returns the user's passkey id, or ENOTFOUND (also when it is
// another person's).
func (q Queries) Passkey(ctx context.Context, userID, id equipe.ID) (Passkey, error) {
	var p Passkey
	err := scanPasskey(q.q.QueryRowContext(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE id = $1 AND user_id = $2`,
		id, userID), &p)
	return p, wrap(err)
}

// PasskeyByCredential returns the passkey of a WebAuthn credential ID, or
// ENOTFOUND.
func (q Queries) PasskeyByCredential(ctx context.Context, credentialID []byte) (Passkey, error) {
	var p Passkey
	err := scanPasskey(q.q.QueryRowContext(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE credential_id = $1`,
		credentialID), &p)
	return p, wrap(err)
}

// RenamePasskey names the user's passkey id; ENOTFOUND when the user has no
// such passkey.
func (w Writes) RenamePasskey(ctx context.Context, userID, id equipe.ID, name string) error {
	return w.execOne(ctx, `UPDATE passkeys SET name = $3 WHERE id = $1 AND user_id = $2`, id, userID, name)
}

// DeletePasskey removes the user's passkey id; ENOTFOUND when the user has
// no such passkey.
func (w Writes) DeletePasskey(ctx context.Context, userID, id equipe.ID) error {
	return w.execOne(ctx, `DELETE FROM passkeys WHERE id = $1 AND user_id = $2`, id, userID)
}

// UsePasskey records a login with the passkey id at at, with its credential
// record as updated by the login (its sign count). It answers ENOTFOUND when
// the passkey is gone, or when its record is no longer previous: another
// login with it committed first, so that of two logins with one signature
// count only one counts.
func (w Writes) UsePasskey(ctx context.Context, id equipe.ID, previous, credential string, at time.Time) error {
	return w.execOne(ctx, `UPDATE passkeys SET credential = $3, last_used_at = $4 WHERE id = $1 AND credential = $2`,
		id, previous, credential, micros(at))
}

// Ceremony is a WebAuthn ceremony under way, found by the SHA-256 of its
// challenge. Data is the library's session data without the challenge.
type Ceremony struct {
	Hash      []byte
	Purpose   string // "register", "login" or "second_factor"
	UserID    *equipe.ID
	Data      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CreateCeremony inserts c.
func (w Writes) CreateCeremony(ctx context.Context, c *Ceremony) error {
	_, err := w.exec(ctx, `INSERT INTO webauthn_ceremonies (hash, purpose, user_id, data, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, c.Hash, c.Purpose, idv(c.UserID), c.Data, micros(c.CreatedAt), micros(c.ExpiresAt))
	return err
}

// TakeCeremony removes the ceremony of purpose whose challenge hashes to
// hash and returns it, or ENOTFOUND: of two answers to one challenge, one
// takes it. Whether it expired is the caller's to check, with its clock.
func (tx *Tx) TakeCeremony(ctx context.Context, hash []byte, purpose string) (Ceremony, error) {
	var c Ceremony
	err := tx.q.QueryRowContext(ctx, `DELETE FROM webauthn_ceremonies WHERE hash = $1 AND purpose = $2
		RETURNING hash, purpose, user_id, data, created_at, expires_at`, hash, purpose).
		Scan(&c.Hash, &c.Purpose, idp(&c.UserID), &c.Data, ts(&c.CreatedAt), ts(&c.ExpiresAt))
	return c, wrap(err)
}

// DeleteExpiredCeremonies deletes the ceremonies expired before before, and
// returns how many.
func (db *DB) DeleteExpiredCeremonies(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM webauthn_ceremonies WHERE expires_at < $1`, micros(before))
	if err != nil {
		return 0, wrap(err)
	}
	return res.RowsAffected()
}

// neverZero returns the stored form of a time whose column holds 0 for
// "never".
func neverZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}
