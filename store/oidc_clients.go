package store

import (
	"context"
	"strings"

	"github.com/equipe-dev/equipe"
)

const oidcClientColumns = `id, name, redirect_uris, post_logout_uris, backchannel_logout_uri, public, first_party,
	scopes, secret_hash, secret_prefix, created_at, updated_at`

func scanOIDCClient(row interface{ Scan(...any) error }, c *equipe.OIDCClient) error {
	var scopes string
	err := row.Scan(&c.ID, &c.Name, jsonOf(&c.RedirectURIs), jsonOf(&c.PostLogoutURIs), &c.BackchannelLogoutURI,
		&c.Public, &c.FirstParty, &scopes, &c.SecretHash, &c.SecretPrefix, ts(&c.CreatedAt), ts(&c.UpdatedAt))
	c.Scopes = strings.Fields(scopes)
	return err
}

// CreateOIDCClient writes a new OpenID Connect client.
func (w Writes) CreateOIDCClient(ctx context.Context, c *equipe.OIDCClient) error {
	_, err := w.exec(ctx, `INSERT INTO oidc_clients (`+oidcClientColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		c.ID, c.Name, jsonText(c.RedirectURIs), jsonText(c.PostLogoutURIs), c.BackchannelLogoutURI, c.Public,
		c.FirstParty, strings.Join(c.Scopes, " "), c.SecretHash, c.SecretPrefix, micros(c.CreatedAt), micros(c.UpdatedAt))
	return err
}

// SetOIDCClientSecret replaces the secret of a confidential client.
// Returns ENOTFOUND when there is no such client.
func (w Writes) SetOIDCClientSecret(ctx context.Context, c *equipe.OIDCClient) error {
	return w.execOne(ctx, `UPDATE oidc_clients SET secret_hash = $2, secret_prefix = $3, updated_at = $4
		WHERE id = $1 AND NOT public`, c.ID, c.SecretHash, c.SecretPrefix, micros(c.UpdatedAt))
}

// UpdateOIDCClient writes a client's name, URIs, first-party mark and
// scopes (never its kind or secret). Returns ENOTFOUND when there is none.
func (w Writes) UpdateOIDCClient(ctx context.Context, c *equipe.OIDCClient) error {
	return w.execOne(ctx, `UPDATE oidc_clients SET name = $2, redirect_uris = $3, post_logout_uris = $4,
		backchannel_logout_uri = $5, first_party = $6, scopes = $7, updated_at = $8 WHERE id = $1`,
		c.ID, c.Name, jsonText(c.RedirectURIs), jsonText(c.PostLogoutURIs), c.BackchannelLogoutURI, c.FirstParty,
		strings.Join(c.Scopes, " "), micros(c.UpdatedAt))
}

// DeleteOIDCClient deletes a client. Returns ENOTFOUND when there is none.
func (w Writes) DeleteOIDCClient(ctx context.Context, id equipe.ID) error {
	return w.execOne(ctx, `DELETE FROM oidc_clients WHERE id = $1`, id)
}

// OIDCClient returns the client id, or ENOTFOUND.
func (q Queries) OIDCClient(ctx context.Context, id equipe.ID) (equipe.OIDCClient, error) {
	var c equipe.OIDCClient
	err := scanOIDCClient(q.q.QueryRowContext(ctx, `SELECT `+oidcClientColumns+` FROM oidc_clients WHERE id = $1`, id), &c)
	return c, wrap(err)
}

// OIDCClients returns every client, oldest first.
func (q Queries) OIDCClients(ctx context.Context) ([]equipe.OIDCClient, error) {
	out, _, err := q.OIDCClientPage(ctx, equipe.Page{})
	return out, err
}

// OIDCClientPage returns a page of the registered clients, oldest first,
// with the cursor of the next page ("" after the last).
func (q Queries) OIDCClientPage(ctx context.Context, p equipe.Page) ([]equipe.OIDCClient, string, error) {
	const list = "oidc_clients"
	pos, err := after(p, list, number, id)
	if err != nil {
		return nil, "", err
	}
	var args []any
	rows, err := q.q.QueryContext(ctx, `SELECT `+oidcClientColumns+` FROM oidc_clients WHERE 1 = 1`+
		keyset(&args, []string{"created_at", "id"}, false, pos, readRows(p)), args...)
	if err != nil {
		return nil, "", wrap(err)
	}
	defer rows.Close()
	var out []equipe.OIDCClient
	for rows.Next() {
		var c equipe.OIDCClient
		if err := scanOIDCClient(rows, &c); err != nil {
			return nil, "", wrap(err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(err)
	}
	out, next := equipe.Cut(out, p, list, func(c equipe.OIDCClient) []string { return []string{keyTime(c.CreatedAt), keyID(c.ID)} })
	return out, next, nil
}
