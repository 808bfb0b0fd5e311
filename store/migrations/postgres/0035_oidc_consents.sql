-- What people agreed that an OpenID Connect client that is not first-party
-- may ask: a request for those scopes, or fewer, is not put to them again.
-- The person sees and withdraws it (docs/oidc.md); withdrawing ends the
-- client's grants.
CREATE TABLE oidc_consents (
    user_id     uuid NOT NULL,
    client_id   uuid NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    scopes      text NOT NULL,
    created_at  bigint NOT NULL,
    updated_at  bigint NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
