-- The OpenID Connect provider's signing keys (docs/oidc.md): ECDSA P-256
-- private keys (PKCS #8), sealed under the instance's secret key (AES-GCM,
-- named by seal_key_id). A key is published in the JWKS from its creation,
-- signs from signs_from (a new key is published before it signs), and
-- stays published until expires_at (NULL while it is the newest), when no
-- token it signed is valid any more.
CREATE TABLE oidc_signing_keys (
    id            TEXT PRIMARY KEY,
    private_key   BLOB NOT NULL,
    seal_key_id   TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    signs_from    INTEGER NOT NULL,
    expires_at    INTEGER
) STRICT;
