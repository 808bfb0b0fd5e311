-- A person's second factors, and an account's rule that its members have one.
--
-- totp_factors: at most one authenticator app per person. The seed is kept
-- encrypted (AES-GCM under the instance's secret key, named by key_id);
-- confirmed_at is 0 until a first code proves the enrolment; last_step is
-- the last 30-second step accepted, so that a code is not accepted twice.
CREATE TABLE totp_factors (
    user_id       TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret        BLOB NOT NULL,
    key_id        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    confirmed_at  INTEGER NOT NULL DEFAULT 0,
    last_step     INTEGER NOT NULL DEFAULT 0
) STRICT;

-- recovery_codes: ten single-use codes per person, stored as SHA-256.
CREATE TABLE recovery_codes (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash        BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    used_at     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, hash)
) STRICT;

-- passkeys: WebAuthn credentials, several per person, each named.
-- credential holds the library's credential record (public key, sign
-- count, flags, transports) as JSON: nothing in it is secret.
CREATE TABLE passkeys (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id  BLOB NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    credential     TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX passkeys_user ON passkeys (user_id);

-- An account may require its members to have a second factor: since
-- mfa_required_at (0: not required), with mfa_grace_hours to enrol.
ALTER TABLE accounts ADD COLUMN mfa_required_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN mfa_grace_hours INTEGER NOT NULL DEFAULT 0;
