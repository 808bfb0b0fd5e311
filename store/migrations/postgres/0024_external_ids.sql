-- The vendor's own identifiers of people. A user's external_id is the
-- vendor's identifier of the person across the instance (set by the
-- instance only); a member's is the vendor's identifier of the person in one
-- account (set by whoever manages the account's members). Both are compared
-- exactly (case-sensitive, "C" collation: byte for byte); NULL means none.

ALTER TABLE users ADD COLUMN external_id text COLLATE "C";
CREATE UNIQUE INDEX users_external_id ON users (external_id) WHERE external_id IS NOT NULL;

ALTER TABLE members ADD COLUMN external_id text COLLATE "C";
CREATE UNIQUE INDEX members_external_id ON members (account_id, external_id) WHERE external_id IS NOT NULL;
