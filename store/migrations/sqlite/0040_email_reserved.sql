-- An address a login email was changed away from stays its identity's while
-- the link that gives it back is valid (the email_change_cancel token sent to
-- it, unused and not superseded): no other identity may be made with it or
-- take it meanwhile, so that the link can always give it back. The time the
-- row is written at is the one compared: its creation for a new identity,
-- the verification that a change of address records for a change.
CREATE INDEX tokens_cancel_email ON tokens (lower(email)) WHERE kind = 'email_change_cancel';

CREATE TRIGGER users_email_reserved_insert BEFORE INSERT ON users
WHEN EXISTS (SELECT 1 FROM tokens WHERE kind = 'email_change_cancel' AND lower(email) = NEW.email_key
    AND user_id <> NEW.id AND used_at IS NULL AND superseded_at IS NULL AND expires_at > NEW.created_at)
BEGIN
    SELECT RAISE(ABORT, 'UNIQUE constraint failed: users.email_key (reserved)');
END;

CREATE TRIGGER users_email_reserved_update BEFORE UPDATE OF email_key ON users
WHEN NEW.email_key <> OLD.email_key AND EXISTS (SELECT 1 FROM tokens WHERE kind = 'email_change_cancel'
    AND lower(email) = NEW.email_key AND user_id <> NEW.id AND used_at IS NULL AND superseded_at IS NULL
    AND expires_at > coalesce(NEW.email_verified_at, 0))
BEGIN
    SELECT RAISE(ABORT, 'UNIQUE constraint failed: users.email_key (reserved)');
END;
