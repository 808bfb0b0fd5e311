-- A login challenge's secret is sealed (the challenge's ID, its person and
-- its times, under the instance key), and neither it nor its hash is kept:
-- the password step records the challenge without waiting, the second step
-- records its use, either may come first, and a challenge is known by its ID.
-- SQLite cannot drop a UNIQUE column: the table is made again without it.
CREATE TABLE login_challenges_next (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER NOT NULL DEFAULT 0,
    method      TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT '',
    user_agent  TEXT NOT NULL DEFAULT ''
) STRICT;
INSERT INTO login_challenges_next (id, user_id, created_at, expires_at, used_at, method, ip, user_agent)
    SELECT id, user_id, created_at, expires_at, used_at, method, ip, user_agent FROM login_challenges;
DROP TABLE login_challenges;
ALTER TABLE login_challenges_next RENAME TO login_challenges;
CREATE INDEX login_challenges_user ON login_challenges (user_id);
CREATE INDEX login_challenges_expires ON login_challenges (expires_at);
