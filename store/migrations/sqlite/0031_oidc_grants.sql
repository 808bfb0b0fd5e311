-- The OpenID Connect provider's state (docs/oidc.md). An authorization
-- request lives from /authorize until its code is redeemed (or it expires):
-- the person, the account and the session that logged in are set when they
-- have logged in and agreed; code_hash is the SHA-256 of the code issued
-- for it, used once. A grant is what a redeemed code gives: a client's
-- access for a person (and an account) until it ends (ended_at): by
-- revocation, logout, a reused refresh token or code, or a suspension.
-- Refresh tokens are kept as their SHA-256, each used once: a new one comes
-- with every use. Access tokens are JWTs; their IDs are kept to end them
-- with their grant.
CREATE TABLE oidc_auth_requests (
    id                    TEXT PRIMARY KEY,
    client_id             TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    redirect_uri          TEXT NOT NULL,
    scopes                TEXT NOT NULL,
    state                 TEXT NOT NULL DEFAULT '',
    nonce                 TEXT NOT NULL DEFAULT '',
    response_type         TEXT NOT NULL,
    response_mode         TEXT NOT NULL DEFAULT '',
    code_challenge        TEXT NOT NULL DEFAULT '',
    code_challenge_method TEXT NOT NULL DEFAULT '',
    prompt                TEXT NOT NULL DEFAULT '',
    max_age               INTEGER NOT NULL DEFAULT -1,
    login_hint            TEXT NOT NULL DEFAULT '',
    ui_locales            TEXT NOT NULL DEFAULT '',
    account_hint          TEXT NOT NULL DEFAULT '',
    user_id               TEXT,
    account_id            TEXT,
    session_id            TEXT,
    auth_time             INTEGER,
    done                  INTEGER NOT NULL DEFAULT 0,
    code_hash             BLOB UNIQUE,
    grant_id              TEXT,
    created_at            INTEGER NOT NULL,
    expires_at            INTEGER NOT NULL
) STRICT;
CREATE INDEX oidc_auth_requests_expiry ON oidc_auth_requests (expires_at);

CREATE TABLE oidc_grants (
    id          TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL,
    account_id  TEXT,
    session_id  TEXT,
    scopes      TEXT NOT NULL,
    auth_time   INTEGER NOT NULL,
    amr         TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    ended_at    INTEGER
) STRICT;
CREATE INDEX oidc_grants_user ON oidc_grants (user_id, account_id);
CREATE INDEX oidc_grants_session ON oidc_grants (session_id);

CREATE TABLE oidc_refresh_tokens (
    hash        BLOB PRIMARY KEY,
    grant_id    TEXT NOT NULL REFERENCES oidc_grants (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
) STRICT;
CREATE INDEX oidc_refresh_tokens_grant ON oidc_refresh_tokens (grant_id);

CREATE TABLE oidc_access_tokens (
    id          TEXT PRIMARY KEY,
    grant_id    TEXT NOT NULL REFERENCES oidc_grants (id) ON DELETE CASCADE,
    expires_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX oidc_access_tokens_grant ON oidc_access_tokens (grant_id);
