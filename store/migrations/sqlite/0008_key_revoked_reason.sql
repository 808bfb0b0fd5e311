-- An API key acts with at most its creator's rights; the service revokes
-- the keys of a creator who leaves the account, and says why: a person who
-- revoked a key leaves the reason empty.

ALTER TABLE api_keys ADD COLUMN revoked_reason TEXT NOT NULL DEFAULT '';
