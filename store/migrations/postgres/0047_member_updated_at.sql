-- When what a directory sees of a member last changed (SCIM's
-- meta.lastModified): their role, whether they are suspended, their title,
-- their external ID, the names the account shows them under, their login
-- email. Written by every change of those (store.Writes.UpdateMember and the
-- identity's writes). Before, no row kept it: a member reads as last changed
-- when they joined, else when they were added.
ALTER TABLE members ADD COLUMN updated_at bigint NOT NULL DEFAULT 0;
UPDATE members SET updated_at = GREATEST(created_at, COALESCE(joined_at, 0));

-- When the holders of each role of an account last changed (a SCIM Group's
-- members): a member added with the role, given it, taken off it or
-- removed. Kept by a trigger in the transaction of every change of a member,
-- at the member's updated_at; a removal, whose row is gone, at the
-- database's clock. A role's own changes (its name) are the role's
-- updated_at. Never moves back.
CREATE TABLE role_members_changed (
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role        text NOT NULL,
    at          bigint NOT NULL,
    PRIMARY KEY (account_id, role)
);

CREATE FUNCTION role_members_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        -- Only an update: an account deleted takes its rows with it.
        UPDATE role_members_changed
        SET at = GREATEST(at, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)
        WHERE account_id = OLD.account_id AND role = OLD.role;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        UPDATE role_members_changed SET at = GREATEST(at, NEW.updated_at)
        WHERE account_id = OLD.account_id AND role = OLD.role;
    END IF;
    INSERT INTO role_members_changed AS c (account_id, role, at) VALUES (NEW.account_id, NEW.role, NEW.updated_at)
    ON CONFLICT (account_id, role) DO UPDATE SET at = GREATEST(c.at, EXCLUDED.at);
    RETURN NULL;
END
$$;

CREATE TRIGGER members_role_insert_delete AFTER INSERT OR DELETE ON members
    FOR EACH ROW EXECUTE FUNCTION role_members_changed();
CREATE TRIGGER members_role_update AFTER UPDATE OF role ON members
    FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role) EXECUTE FUNCTION role_members_changed();

INSERT INTO role_members_changed (account_id, role, at)
SELECT account_id, role, MAX(updated_at) FROM members GROUP BY account_id, role;
