package store

import (
	"context"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
)

// AuthRequest is an OpenID Connect authorization request as stored: what
// the client asked, and once the person has logged in and agreed, who they
// are, the account they chose and the session they logged in with.
type AuthRequest struct {
	ID                  string
	ClientID            equipe.ID
	RedirectURI         string
	Scopes              []string
	State, Nonce        string
	ResponseType        string
	ResponseMode        string
	CodeChallenge       string
	CodeChallengeMethod string
	Prompt              []string
	MaxAge              int64 // seconds; -1 when not asked
	LoginHint           string
	UILocales           string
	AccountHint         string
	UserID              *equipe.ID
	AccountID           *equipe.ID
	SessionID           *equipe.ID
	AuthTime            time.Time
	AMR                 []string // how the person logged in (RFC 8176)
	Done                bool
	GrantID             string // the grant its code gave, once redeemed
	CreatedAt           time.Time
	ExpiresAt           time.Time
}

const authRequestColumns = `id, client_id, redirect_uri, scopes, state, nonce, response_type, response_mode, code_challenge,
	code_challenge_method, prompt, max_age, login_hint, ui_locales, account_hint, user_id, account_id, session_id,
	auth_time, done, grant_id, created_at, expires_at, amr`

func scanAuthRequest(row interface{ Scan(...any) error }, a *AuthRequest) error {
	var scopes, prompt, amr string
	err := row.Scan(&a.ID, &a.ClientID, &a.RedirectURI, &scopes, &a.State, &a.Nonce, &a.ResponseType, &a.ResponseMode,
		&a.CodeChallenge, &a.CodeChallengeMethod, &prompt, &a.MaxAge, &a.LoginHint, &a.UILocales, &a.AccountHint,
		idp(&a.UserID), idp(&a.AccountID), idp(&a.SessionID), ts(&a.AuthTime), &a.Done, nstr(&a.GrantID),
		ts(&a.CreatedAt), ts(&a.ExpiresAt), &amr)
	a.Scopes, a.Prompt, a.AMR = strings.Fields(scopes), strings.Fields(prompt), strings.Fields(amr)
	return err
}

// CreateAuthRequest writes a new authorization request.
func (w Writes) CreateAuthRequest(ctx context.Context, a *AuthRequest) error {
	_, err := w.exec(ctx, `INSERT INTO oidc_auth_requests (`+authRequestColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)`,
		a.ID, a.ClientID, a.RedirectURI, strings.Join(a.Scopes, " "), a.State, a.Nonce, a.ResponseType, a.ResponseMode,
		a.CodeChallenge, a.CodeChallengeMethod, strings.Join(a.Prompt, " "), a.MaxAge, a.LoginHint, a.UILocales,
		a.AccountHint, idv(a.UserID), idv(a.AccountID), idv(a.SessionID), tv(a.AuthTime), a.Done, str(a.GrantID),
		micros(a.CreatedAt), micros(a.ExpiresAt), strings.Join(a.AMR, " "))
	return err
}

// CompleteAuthRequest records who logged in for a request not done yet,
// with which session and account, and marks it done. Returns ENOTFOUND
// when there is no such request waiting.
func (w Writes) CompleteAuthRequest(ctx context.Context, a *AuthRequest) error {
	return w.execOne(ctx, `UPDATE oidc_auth_requests SET user_id = $2, account_id = $3, session_id = $4, auth_time = $5,
		done = $6, amr = $7 WHERE id = $1 AND NOT done`, a.ID, idv(a.UserID), idv(a.AccountID), idv(a.SessionID), tv(a.AuthTime), true,
		strings.Join(a.AMR, " "))
}

// SetAuthRequestCode records the hash of the code issued for a done
// request, redeemable until expires: the request expires then. Returns
// ENOTFOUND when it has one already.
func (w Writes) SetAuthRequestCode(ctx context.Context, id string, hash []byte, expires time.Time) error {
	return w.execOne(ctx, `UPDATE oidc_auth_requests SET code_hash = $2, expires_at = $3 WHERE id = $1 AND done AND code_hash IS NULL`,
		id, hash, micros(expires))
}

// SetAuthRequestGrant records the grant the request's code gave, and keeps
// the request until keep: a second redemption of the code until then finds
// the grant and ends it. Returns ENOTFOUND when the code gave one already.
func (w Writes) SetAuthRequestGrant(ctx context.Context, id, grant string, keep time.Time) error {
	return w.execOne(ctx, `UPDATE oidc_auth_requests SET grant_id = $2, expires_at = $3 WHERE id = $1 AND grant_id IS NULL`,
		id, grant, micros(keep))
}

// DeleteAuthRequests deletes the requests expired at now.
func (w Writes) DeleteAuthRequests(ctx context.Context, now time.Time) error {
	_, err := w.exec(ctx, `DELETE FROM oidc_auth_requests WHERE expires_at <= $1`, micros(now))
	return err
}

// AuthRequest returns a request, or ENOTFOUND.
func (q Queries) AuthRequest(ctx context.Context, id string) (AuthRequest, error) {
	var a AuthRequest
	err := scanAuthRequest(q.q.QueryRowContext(ctx, `SELECT `+authRequestColumns+` FROM oidc_auth_requests WHERE id = $1`, id), &a)
	return a, wrap(err)
}

// AuthRequestByCode returns the request whose code hashes to hash, or
// ENOTFOUND.
func (q Queries) AuthRequestByCode(ctx context.Context, hash []byte) (AuthRequest, error) {
	var a AuthRequest
	err := scanAuthRequest(q.q.QueryRowContext(ctx, `SELECT `+authRequestColumns+` FROM oidc_auth_requests
		WHERE code_hash = $1`, hash), &a)
	return a, wrap(err)
}

// Grant is a client's access for a person, and the account they chose,
// from a redeemed code until it ends.
type Grant struct {
	ID        string
	ClientID  equipe.ID
	UserID    equipe.ID
	AccountID *equipe.ID
	SessionID *equipe.ID
	Scopes    []string
	AuthTime  time.Time
	AMR       []string
	CreatedAt time.Time
	EndedAt   time.Time
}

const grantColumns = `id, client_id, user_id, account_id, session_id, scopes, auth_time, amr, created_at, ended_at`

// scanGrant scans a grant's columns, after those of before when a query
// selects other columns first.
func scanGrant(row interface{ Scan(...any) error }, g *Grant, before ...any) error {
	var scopes, amr string
	err := row.Scan(append(before, &g.ID, &g.ClientID, &g.UserID, idp(&g.AccountID), idp(&g.SessionID), &scopes,
		ts(&g.AuthTime), &amr, ts(&g.CreatedAt), ts(&g.EndedAt))...)
	g.Scopes, g.AMR = strings.Fields(scopes), strings.Fields(amr)
	return err
}

// CreateGrant writes a new grant.
func (w Writes) CreateGrant(ctx context.Context, g *Grant) error {
	_, err := w.exec(ctx, `INSERT INTO oidc_grants (`+grantColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		g.ID, g.ClientID, g.UserID, idv(g.AccountID), idv(g.SessionID), strings.Join(g.Scopes, " "), micros(g.AuthTime),
		strings.Join(g.AMR, " "), micros(g.CreatedAt), tv(g.EndedAt))
	return err
}

// EndGrant ends a grant at now (one ended already stays as it was).
func (w Writes) EndGrant(ctx context.Context, id string, now time.Time) error {
	_, err := w.exec(ctx, `UPDATE oidc_grants SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL`, id, micros(now))
	return err
}

// EndGrantsOf ends the grants of the user: those in the account only
// unless account is nil, of the client only unless client is nil. Each
// client told nothing yet of those grants' end that has a back-channel
// logout URI gets a logout notice, queued with the change.
func (w Writes) EndGrantsOf(ctx context.Context, user equipe.ID, account, client *equipe.ID, now time.Time) error {
	cond, args := `g.user_id = $2`, []any{user}
	if account != nil {
		args = append(args, *account)
		cond += ` AND g.account_id = $` + itoa(len(args)+1)
	}
	if client != nil {
		args = append(args, *client)
		cond += ` AND g.client_id = $` + itoa(len(args)+1)
	}
	return w.queueLogouts(ctx, now, `$1`, cond, args...)
}

// Grant returns a grant, or ENOTFOUND.
func (q Queries) Grant(ctx context.Context, id string) (Grant, error) {
	var g Grant
	err := scanGrant(q.q.QueryRowContext(ctx, `SELECT `+grantColumns+` FROM oidc_grants WHERE id = $1`, id), &g)
	return g, wrap(err)
}

// LiveGrantsOfSession returns the grants not ended that a session's login
// gave.
func (q Queries) LiveGrantsOfSession(ctx context.Context, session equipe.ID) ([]Grant, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+grantColumns+` FROM oidc_grants WHERE session_id = $1 AND ended_at IS NULL`, session)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []Grant
	for rows.Next() {
		var g Grant
		if err := scanGrant(rows, &g); err != nil {
			return nil, wrap(err)
		}
		out = append(out, g)
	}
	return out, wrap(rows.Err())
}

// CreateRefreshToken writes the hash of a new refresh token of a grant.
func (w Writes) CreateRefreshToken(ctx context.Context, hash []byte, grant string, now, expires time.Time) error {
	_, err := w.exec(ctx, `INSERT INTO oidc_refresh_tokens (hash, grant_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		hash, grant, micros(now), micros(expires))
	return err
}

// RefreshToken is a refresh token as stored.
type RefreshToken struct {
	GrantID   string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time
}

// RefreshToken returns the refresh token whose hash is hash, or ENOTFOUND.
func (q Queries) RefreshToken(ctx context.Context, hash []byte) (RefreshToken, error) {
	var t RefreshToken
	err := q.q.QueryRowContext(ctx, `SELECT grant_id, created_at, expires_at, used_at FROM oidc_refresh_tokens WHERE hash = $1`, hash).
		Scan(&t.GrantID, ts(&t.CreatedAt), ts(&t.ExpiresAt), ts(&t.UsedAt))
	return t, wrap(err)
}

// UseRefreshToken marks a refresh token used at now. Returns ENOTFOUND
// when it was used before (or does not exist): the caller ends its grant.
func (w Writes) UseRefreshToken(ctx context.Context, hash []byte, now time.Time) error {
	return w.execOne(ctx, `UPDATE oidc_refresh_tokens SET used_at = $2 WHERE hash = $1 AND used_at IS NULL`, hash, micros(now))
}

// AccessTokenID returns the ID (jti) of a new access token of the grant:
// the grant's ID and a random part. The grant is read from the ID, so that
// issuing an access token writes nothing of its own (one statement fewer in
// each refresh); the JWT's signature vouches for the ID before it is read.
func AccessTokenID(grant, random string) string { return grant + "." + random }

// GrantOfAccessToken returns the grant of an access token by its ID, or
// ENOTFOUND. IDs of the earlier form (a random value kept in
// oidc_access_tokens) are found there until they expire.
func (q Queries) GrantOfAccessToken(ctx context.Context, id string) (Grant, error) {
	if grant, _, ok := strings.Cut(id, "."); ok {
		return q.Grant(ctx, grant)
	}
	var g Grant
	err := scanGrant(q.q.QueryRowContext(ctx, `SELECT `+prefixed("g.", grantColumns)+` FROM oidc_access_tokens t
		JOIN oidc_grants g ON g.id = t.grant_id WHERE t.id = $1`, id), &g)
	return g, wrap(err)
}

// ClientStamp is what a refresh grant's read tells of the grant's client:
// its secret's hash and when it last changed, enough to tell whether a copy
// of the client held in memory is still the client.
type ClientStamp struct {
	SecretHash []byte
	UpdatedAt  time.Time
}

// Matches reports whether c is the client as the stamp describes it.
func (s ClientStamp) Matches(c equipe.OIDCClient) bool {
	return string(s.SecretHash) == string(c.SecretHash) && s.UpdatedAt.Equal(c.UpdatedAt)
}

// RefreshGrant returns the refresh token whose hash is hash, its grant and
// its client's stamp in one read, or ENOTFOUND.
func (q Queries) RefreshGrant(ctx context.Context, hash []byte) (RefreshToken, Grant, ClientStamp, error) {
	var t RefreshToken
	var g Grant
	var c ClientStamp
	err := scanGrant(q.q.QueryRowContext(ctx, `SELECT r.grant_id, r.created_at, r.expires_at, r.used_at, c.secret_hash, c.updated_at, `+
		prefixed("g.", grantColumns)+`
		FROM oidc_refresh_tokens r JOIN oidc_grants g ON g.id = r.grant_id JOIN oidc_clients c ON c.id = g.client_id
		WHERE r.hash = $1`, hash),
		&g, &t.GrantID, ts(&t.CreatedAt), ts(&t.ExpiresAt), ts(&t.UsedAt), &c.SecretHash, ts(&c.UpdatedAt))
	return t, g, c, wrap(err)
}

// DeleteSpentOIDCTokens deletes the tokens expired at now, and the grants
// ended before then with nothing left.
func (w Writes) DeleteSpentOIDCTokens(ctx context.Context, now time.Time) error {
	if _, err := w.exec(ctx, `DELETE FROM oidc_refresh_tokens WHERE expires_at <= $1`, micros(now)); err != nil {
		return err
	}
	if _, err := w.exec(ctx, `DELETE FROM oidc_access_tokens WHERE expires_at <= $1`, micros(now)); err != nil {
		return err
	}
	_, err := w.exec(ctx, `DELETE FROM oidc_grants WHERE ended_at IS NOT NULL AND ended_at <= $1
		AND NOT EXISTS (SELECT 1 FROM oidc_refresh_tokens r WHERE r.grant_id = oidc_grants.id)`, micros(now))
	return err
}

// EndAuthRequest ends a request at now: its login can no longer complete.
func (w Writes) EndAuthRequest(ctx context.Context, id string, now time.Time) error {
	_, err := w.exec(ctx, `UPDATE oidc_auth_requests SET expires_at = $2 WHERE id = $1`, id, micros(now))
	return err
}
