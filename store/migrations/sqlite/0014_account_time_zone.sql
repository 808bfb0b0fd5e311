-- An account's time zone (an IANA name; empty: the instance's), in which
-- its pages show times; and each member's last login to the account (when
-- they logged in with it current or switched to it; 0: never), which the
-- team page shows and sorts by.

ALTER TABLE accounts ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN last_login_at INTEGER NOT NULL DEFAULT 0;

-- A person who belongs to one account only logged in to that one.
UPDATE members SET last_login_at = COALESCE((SELECT u.last_login_at FROM users u WHERE u.id = members.user_id), 0)
WHERE joined_at IS NOT NULL
  AND (SELECT COUNT(*) FROM members o WHERE o.user_id = members.user_id) = 1;

CREATE INDEX members_last_login ON members (account_id, last_login_at, last_key, first_key, user_id);
