-- A WebAuthn ceremony under way: registering a passkey, or logging in with
-- one. The browser holds the challenge; only its SHA-256 is kept here, with
-- what the ceremony must check its answer against (the library's session
-- data, without the challenge). A ceremony is taken (deleted) by the answer
-- that ends it, so it serves once; expired ones are swept.
--
-- purpose: 'register' (user_id is who registers), 'login' (a passkey alone:
-- user_id is NULL until the answer names the person), 'second_factor'
-- (user_id is the person whose password was right).
CREATE TABLE webauthn_ceremonies (
    hash        bytea PRIMARY KEY,
    purpose     text NOT NULL CHECK (purpose IN ('register', 'login', 'second_factor')),
    user_id     uuid REFERENCES users (id) ON DELETE CASCADE,
    data        text NOT NULL,
    created_at  bigint NOT NULL,
    expires_at  bigint NOT NULL
);
CREATE INDEX webauthn_ceremonies_expires ON webauthn_ceremonies (expires_at);
