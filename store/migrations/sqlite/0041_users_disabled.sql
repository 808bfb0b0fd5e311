-- The disabled identities, few, in an index of their own: deciding a
-- member's access asks whether their identity is disabled, and finds the
-- answer in this index's few pages instead of the identities' table, whose
-- pages are the largest part of a million-member database and seldom cached.
CREATE INDEX users_disabled ON users (id) WHERE disabled_at IS NOT NULL;
