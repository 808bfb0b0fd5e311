-- When what a directory sees of a member last changed (SCIM's
-- meta.lastModified): their role, whether they are suspended, their title,
-- their external ID, the names the account shows them under, their login
-- email. Written by every change of those (store.Writes.UpdateMember and the
-- identity's writes). Before, no row kept it: a member reads as last changed
-- when they joined, else when they were added.
ALTER TABLE members ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
UPDATE members SET updated_at = MAX(created_at, COALESCE(joined_at, 0));

-- When the holders of each role of an account last changed (a SCIM Group's
-- members): a member added with the role, given it, taken off it or
-- removed. Kept by triggers in the transaction of every change of a member,
-- at the member's updated_at; a removal, whose row is gone, at the
-- database's clock. A role's own changes (its name) are the role's
-- updated_at. Never moves back.
CREATE TABLE role_members_changed (
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role        TEXT NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (account_id, role)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER members_role_insert AFTER INSERT ON members BEGIN
    INSERT INTO role_members_changed (account_id, role, at) VALUES (new.account_id, new.role, new.updated_at)
    ON CONFLICT (account_id, role) DO UPDATE SET at = MAX(at, excluded.at);
END;
-- Only an update: an account deleted takes its rows with it.
CREATE TRIGGER members_role_delete AFTER DELETE ON members BEGIN
    UPDATE role_members_changed
    SET at = MAX(at, CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER))
    WHERE account_id = old.account_id AND role = old.role;
END;
CREATE TRIGGER members_role_update AFTER UPDATE OF role ON members WHEN old.role <> new.role BEGIN
    UPDATE role_members_changed SET at = MAX(at, new.updated_at) WHERE account_id = old.account_id AND role = old.role;
    INSERT INTO role_members_changed (account_id, role, at) VALUES (new.account_id, new.role, new.updated_at)
    ON CONFLICT (account_id, role) DO UPDATE SET at = MAX(at, excluded.at);
END;

INSERT INTO role_members_changed (account_id, role, at)
SELECT account_id, role, MAX(updated_at) FROM members WHERE true GROUP BY account_id, role;
