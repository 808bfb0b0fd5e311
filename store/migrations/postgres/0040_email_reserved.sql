-- An address a login email was changed away from stays its identity's while
-- the link that gives it back is valid (the email_change_cancel token sent to
-- it, unused and not superseded): no other identity may be made with it or
-- take it meanwhile, so that the link can always give it back. The time the
-- row is written at is the one compared: its creation for a new identity,
-- the verification that a change of address records for a change. It is
-- refused as a unique violation of the address, as if the identity held it.
CREATE INDEX tokens_cancel_email ON tokens (lower(email)) WHERE kind = 'email_change_cancel';

CREATE FUNCTION users_email_reserved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.email_key = OLD.email_key THEN
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM tokens WHERE kind = 'email_change_cancel' AND lower(email) = NEW.email_key
        AND user_id <> NEW.id AND used_at IS NULL AND superseded_at IS NULL
        AND expires_at > CASE WHEN TG_OP = 'INSERT' THEN NEW.created_at ELSE coalesce(NEW.email_verified_at, 0) END) THEN
        RAISE EXCEPTION 'duplicate key value violates unique constraint "users_email_key" (reserved)'
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'users_email_key';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER users_email_reserved BEFORE INSERT OR UPDATE OF email_key ON users
    FOR EACH ROW EXECUTE FUNCTION users_email_reserved();
