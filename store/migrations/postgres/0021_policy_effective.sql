-- A version of the privacy policy takes effect at a date, which may follow
-- its publication: until then the version before it stays the one people
-- are asked to accept. Versions published before this column take effect
-- when they were published.
ALTER TABLE privacy_policies ADD COLUMN effective_at bigint NOT NULL DEFAULT 0;
UPDATE privacy_policies SET effective_at = published_at;
CREATE INDEX privacy_policies_effective ON privacy_policies (effective_at, published_at);
-- Who accepted a version, listed page by page for an administrator.
CREATE INDEX consents_version ON consents (policy_version, accepted_at, user_id);
