-- Every list of the API is read a page at a time, by keyset on its order:
-- an index on each order, its unique key last, keeps a page deep into a long
-- list as cheap as the first.
CREATE INDEX accounts_parent_name ON accounts (parent_id, name, id) WHERE parent_id IS NOT NULL;
CREATE INDEX resources_page ON resources (account_id, type, name, id);
CREATE INDEX api_keys_page ON api_keys (account_id, created_at, id);
