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
    id                    text PRIMARY KEY,
    client_id             uuid NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    redirect_uri          text NOT NULL,
    scopes                text NOT NULL,
    state                 text NOT NULL DEFAULT '',
    nonce                 text NOT NULL DEFAULT '',
    response_type         text NOT NULL,
    response_mode         text NOT NULL DEFAULT '',
    code_challenge        text NOT NULL DEFAULT '',
    code_challenge_method text NOT NULL DEFAULT '',
    prompt                text NOT NULL DEFAULT '',
    max_age               bigint NOT NULL DEFAULT -1,
    login_hint            text NOT NULL DEFAULT '',
    ui_locales            text NOT NULL DEFAULT '',
    account_hint          text NOT NULL DEFAULT '',
    user_id               uuid,
    account_id            uuid,
    session_id            uuid,
    auth_time             bigint,
    done                  boolean NOT NULL DEFAULT false,
    code_hash             bytea UNIQUE,
    grant_id              text,
    created_at            bigint NOT NULL,
    expires_at            bigint NOT NULL
);
CREATE INDEX oidc_auth_requests_expiry ON oidc_auth_requests (expires_at);

CREATE TABLE oidc_grants (
    id          text PRIMARY KEY,
    client_id   uuid NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL,
    account_id  uuid,
    session_id  uuid,
    scopes      text NOT NULL,
    auth_time   bigint NOT NULL,
    amr         text NOT NULL DEFAULT '',
    created_at  bigint NOT NULL,
    ended_at    bigint
);
CREATE INDEX oidc_grants_user ON oidc_grants (user_id, account_id);
CREATE INDEX oidc_grants_session ON oidc_grants (session_id);

CREATE TABLE oidc_refresh_tokens (
    hash        bytea PRIMARY KEY,
    grant_id    text NOT NULL REFERENCES oidc_grants (id) ON DELETE CASCADE,
    created_at  bigint NOT NULL,
    expires_at  bigint NOT NULL,
    used_at     bigint
);
CREATE INDEX oidc_refresh_tokens_grant ON oidc_refresh_tokens (grant_id);

CREATE TABLE oidc_access_tokens (
    id          text PRIMARY KEY,
    grant_id    text NOT NULL REFERENCES oidc_grants (id) ON DELETE CASCADE,
    expires_at  bigint NOT NULL
);
CREATE INDEX oidc_access_tokens_grant ON oidc_access_tokens (grant_id);
