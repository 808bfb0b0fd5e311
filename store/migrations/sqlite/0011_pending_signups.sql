-- Signing up with an address whose identity has never had a password nor a
-- login (an account added it as a member) takes that identity over, once a
-- link emailed to the address confirms it: the sign-up waits here, and its
-- link is a token of the new kind 'signup'. SQLite changes a CHECK
-- constraint by rebuilding the table (nothing refers to tokens).

CREATE TABLE tokens_next (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('invitation', 'reset', 'verify', 'email_change', 'signup')),
    hash           BLOB NOT NULL UNIQUE,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    account_id     TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    email          TEXT NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER,
    superseded_at  INTEGER
) STRICT;
INSERT INTO tokens_next SELECT id, kind, hash, user_id, account_id, email, created_at, expires_at, used_at, superseded_at FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_next RENAME TO tokens;
CREATE INDEX tokens_user ON tokens (user_id, kind);
CREATE INDEX tokens_expires ON tokens (expires_at);
CREATE INDEX tokens_account ON tokens (account_id, user_id, kind) WHERE account_id IS NOT NULL;

CREATE TABLE pending_signups (
    token_id       TEXT PRIMARY KEY REFERENCES tokens (id) ON DELETE CASCADE,
    password_hash  TEXT NOT NULL,
    first_name     TEXT NOT NULL,
    last_name      TEXT NOT NULL,
    locale         TEXT NOT NULL,
    account_name   TEXT NOT NULL,
    resource_type  TEXT NOT NULL,
    resource_name  TEXT NOT NULL,
    created_at     INTEGER NOT NULL
) STRICT;
