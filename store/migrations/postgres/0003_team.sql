-- Team management: a member's notification email and names as added, and the keys the team page
-- sorts and searches by (names and email folded to lower case without
-- accents), indexed per account so that a page of 100,000 members is a range
-- scan, not a sort. The keys compare byte by byte (COLLATE "C", as SQLite's
-- BINARY does), so that both engines order and search them alike and a
-- prefix search is an index range whatever the database's collation.

ALTER TABLE members ADD COLUMN notification_email text NOT NULL DEFAULT '';
-- The names an administrator typed when adding someone who already has an
-- identity: shown until they join, so that adding an email does not reveal
-- whose it is.
ALTER TABLE members ADD COLUMN first_name text NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN last_name text NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN first_key text NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN last_key text NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN email_key text NOT NULL DEFAULT '';

CREATE INDEX members_sorted ON members (account_id, last_key COLLATE "C", first_key COLLATE "C", user_id);
CREATE INDEX members_first ON members (account_id, first_key COLLATE "C");
CREATE INDEX members_email ON members (account_id, email_key COLLATE "C");
CREATE INDEX members_account_status ON members (account_id, status, last_key COLLATE "C", first_key COLLATE "C", user_id);
CREATE INDEX tokens_account ON tokens (account_id, user_id, kind) WHERE account_id IS NOT NULL;
CREATE INDEX members_account_role_sorted ON members (account_id, role, last_key COLLATE "C", first_key COLLATE "C", user_id);
CREATE INDEX audit_events_target ON audit_events (account_id, target_id, id);
