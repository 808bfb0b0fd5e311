-- The OpenID Connect provider's signing keys (docs/oidc.md): ECDSA P-256
-- private keys (PKCS #8), sealed under the instance's secret key (AES-GCM,
-- named by seal_key_id). A key is published in the JWKS from its creation,
-- signs from signs_from (a new key is published before it signs), and
-- stays published until expires_at (NULL while it is the newest), when no
-- token it signed is valid any more.
CREATE TABLE oidc_signing_keys (
    id            text PRIMARY KEY,
    private_key   bytea NOT NULL,
    seal_key_id   text NOT NULL,
    created_at    bigint NOT NULL,
    signs_from    bigint NOT NULL,
    expires_at    bigint
);
