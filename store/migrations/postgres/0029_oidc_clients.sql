-- OpenID Connect clients (docs/oidc.md), registered by an instance
-- administrator. redirect_uris and post_logout_uris hold JSON arrays of
-- URIs matched exactly; scopes the scopes the client may ask, separated by
-- spaces. A confidential client's secret is kept as its SHA-256 (it is 32
-- random bytes: no slow hash needed), a public client has none.
CREATE TABLE oidc_clients (
    id                     uuid PRIMARY KEY,
    name                   text NOT NULL,
    redirect_uris          text NOT NULL,
    post_logout_uris       text NOT NULL DEFAULT '[]',
    backchannel_logout_uri text NOT NULL DEFAULT '',
    public                 boolean NOT NULL,
    first_party            boolean NOT NULL,
    scopes                 text NOT NULL,
    secret_hash            bytea,
    secret_prefix          text NOT NULL DEFAULT '',
    created_at             bigint NOT NULL,
    updated_at             bigint NOT NULL
);
CREATE INDEX oidc_clients_created ON oidc_clients (created_at);
