-- Resources are renamed, archived and restored. An archived resource keeps
-- its assignments and its history; checks on it are denied. name_key is the
-- folded name (store.Fold): two resources of one kind in an account never
-- share it. The migration's step in Go (store.foldResourceNames) folds the
-- names of the resources made before it.

ALTER TABLE resources ADD COLUMN archived_at bigint;
ALTER TABLE resources ADD COLUMN name_key text NOT NULL DEFAULT '';
CREATE UNIQUE INDEX resources_name ON resources (account_id, type, name_key) WHERE name_key <> '';
