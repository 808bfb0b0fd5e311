-- Resources are renamed, archived and restored. An archived resource keeps
-- its assignments and its history; checks on it are denied. name_key is the
-- folded name (store.Fold): two resources of one kind in an account never
-- share it. Resources made before this migration have an empty key until
-- renamed; the use cases compare their names in full.

ALTER TABLE resources ADD COLUMN archived_at bigint;
ALTER TABLE resources ADD COLUMN name_key text NOT NULL DEFAULT '';
CREATE UNIQUE INDEX resources_name ON resources (account_id, type, name_key) WHERE name_key <> '';
