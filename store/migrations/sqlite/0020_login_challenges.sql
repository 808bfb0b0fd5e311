-- A login waiting for its second step: the password was right and the
-- person has a second factor. Only the SHA-256 of the challenge's secret is
-- kept; a challenge is short-lived and used once (used_at, 0 until then).
-- method names what finished it ("totp", "recovery_code", "passkey").
CREATE TABLE login_challenges (
    id          TEXT PRIMARY KEY,
    hash        BLOB NOT NULL UNIQUE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER NOT NULL DEFAULT 0,
    method      TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT '',
    user_agent  TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX login_challenges_user ON login_challenges (user_id);
CREATE INDEX login_challenges_expires ON login_challenges (expires_at);
