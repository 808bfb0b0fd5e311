-- OpenID Connect clients (docs/oidc.md), registered by an instance
-- administrator. redirect_uris and post_logout_uris hold JSON arrays of
-- URIs matched exactly; scopes the scopes the client may ask, separated by
-- spaces. A confidential client's secret is kept as its SHA-256 (it is 32
-- random bytes: no slow hash needed), a public client has none.
CREATE TABLE oidc_clients (
    id                     TEXT PRIMARY KEY,
    name                   TEXT NOT NULL,
    redirect_uris          TEXT NOT NULL,
    post_logout_uris       TEXT NOT NULL DEFAULT '[]',
    backchannel_logout_uri TEXT NOT NULL DEFAULT '',
    public                 INTEGER NOT NULL,
    first_party            INTEGER NOT NULL,
    scopes                 TEXT NOT NULL,
    secret_hash            BLOB,
    secret_prefix          TEXT NOT NULL DEFAULT '',
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
) STRICT;
CREATE INDEX oidc_clients_created ON oidc_clients (created_at);
