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
    hash        BLOB PRIMARY KEY,
    purpose     TEXT NOT NULL CHECK (purpose IN ('register', 'login', 'second_factor')),
    user_id     TEXT REFERENCES users (id) ON DELETE CASCADE,
    data        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX webauthn_ceremonies_expires ON webauthn_ceremonies (expires_at);
