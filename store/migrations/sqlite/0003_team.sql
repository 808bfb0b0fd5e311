-- Team management: a member's notification email and names as added, and the keys the team page
-- sorts and searches by (names and email folded to lower case without
-- accents), indexed per account so that a page of 100,000 members is a range
-- scan, not a sort.

ALTER TABLE members ADD COLUMN notification_email TEXT NOT NULL DEFAULT '';
-- The names an administrator typed when adding someone who already has an
-- identity: shown until they join, so that adding an email does not reveal
-- whose it is.
ALTER TABLE members ADD COLUMN first_name TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN last_name TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN first_key TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN last_key TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN email_key TEXT NOT NULL DEFAULT '';

CREATE INDEX members_sorted ON members (account_id, last_key, first_key, user_id);
CREATE INDEX members_first ON members (account_id, first_key);
CREATE INDEX members_email ON members (account_id, email_key);
CREATE INDEX members_account_status ON members (account_id, status, last_key, first_key, user_id);
CREATE INDEX tokens_account ON tokens (account_id, user_id, kind) WHERE account_id IS NOT NULL;
CREATE INDEX members_account_role_sorted ON members (account_id, role, last_key, first_key, user_id);
CREATE INDEX audit_events_target ON audit_events (account_id, target_id, id);
