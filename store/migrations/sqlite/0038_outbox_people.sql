-- The identities an email names: the person it is written to or about, and
-- another it names (an inviter, a new member), so that erasing a person
-- deletes their emails and no one else's. Emails queued before this have
-- none: erasure finds those by the addresses the person held.
ALTER TABLE outbox ADD COLUMN person_id TEXT;
ALTER TABLE outbox ADD COLUMN other_person_id TEXT;
CREATE INDEX outbox_person ON outbox (person_id) WHERE person_id IS NOT NULL;
CREATE INDEX outbox_other_person ON outbox (other_person_id) WHERE other_person_id IS NOT NULL;
