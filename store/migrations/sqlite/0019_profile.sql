-- A person's own time zone (an IANA name; empty: their account's), in which
-- the times shown to them are said; and a link of the new kind
-- 'notification_email' that confirms a notification address before any
-- email goes there (the address waits in the token's email). SQLite changes
-- a CHECK constraint by rebuilding the table. Dropping the old table would
-- delete the pending sign-ups that refer to its rows (foreign keys are on):
-- they are kept aside and put back.

ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';

CREATE TEMP TABLE pending_signups_kept AS SELECT * FROM pending_signups;

CREATE TABLE tokens_next (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('invitation', 'reset', 'verify', 'email_change', 'signup',
                                                 'email_change_cancel', 'notification_email')),
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
INSERT INTO pending_signups SELECT * FROM pending_signups_kept;
DROP TABLE pending_signups_kept;
