-- A login from a browser a person has not used before emails them
-- (new_browser_login), unless they turned the alerts off. A browser is known
-- by a long-lived random cookie; only the SHA-256 of its value is kept, per
-- person, with when it was first and last used to log in.

ALTER TABLE users ADD COLUMN new_browser_alerts boolean NOT NULL DEFAULT true;

CREATE TABLE known_browsers (
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash          bytea NOT NULL,
    created_at    bigint NOT NULL,
    last_seen_at  bigint NOT NULL,
    PRIMARY KEY (user_id, hash)
);
