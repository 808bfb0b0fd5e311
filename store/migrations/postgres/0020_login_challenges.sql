-- A login waiting for its second step: the password was right and the
-- person has a second factor. Only the SHA-256 of the challenge's secret is
-- kept; a challenge is short-lived and used once (used_at, 0 until then).
-- method names what finished it ("totp", "recovery_code", "passkey").
CREATE TABLE login_challenges (
    id          uuid PRIMARY KEY,
    hash        bytea NOT NULL UNIQUE,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  bigint NOT NULL,
    expires_at  bigint NOT NULL,
    used_at     bigint NOT NULL DEFAULT 0,
    method      text NOT NULL DEFAULT '',
    ip          text NOT NULL DEFAULT '',
    user_agent  text NOT NULL DEFAULT ''
);
CREATE INDEX login_challenges_user ON login_challenges (user_id);
CREATE INDEX login_challenges_expires ON login_challenges (expires_at);
