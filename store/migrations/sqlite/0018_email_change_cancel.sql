-- A login email change sends the old address a link that cancels it (and
-- ends every session) for 72 hours: a token of the new kind
-- 'email_change_cancel', whose email is the old address. SQLite changes a
-- CHECK constraint by rebuilding the table; dropping it would cascade to the
-- pending sign-ups that refer to it, so they are kept aside meanwhile.

CREATE TEMP TABLE pending_signups_kept AS SELECT * FROM pending_signups;

CREATE TABLE tokens_next (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('invitation', 'reset', 'verify', 'email_change', 'signup',
                                                 'email_change_cancel')),
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
