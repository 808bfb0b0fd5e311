-- A login from a browser a person has not used before emails them
-- (new_browser_login), unless they turned the alerts off. A browser is known
-- by a long-lived random cookie; only the SHA-256 of its value is kept, per
-- person, with when it was first and last used to log in.

ALTER TABLE users ADD COLUMN new_browser_alerts INTEGER NOT NULL DEFAULT 1;

CREATE TABLE known_browsers (
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash          BLOB NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, hash)
) STRICT, WITHOUT ROWID;
