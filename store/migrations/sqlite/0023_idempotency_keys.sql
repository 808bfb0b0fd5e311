-- Idempotency-Key (API): the first answer to a POST sent with a key, kept
-- 24 hours per caller (scope: the API key or the person) so that a retry
-- gets it again instead of making the change twice. A row is claimed
-- (state 'processing', held until locked_until) before the request runs and
-- holds the answer once it is done ('done'). fingerprint is the SHA-256 of
-- the method, path, query and body: the same key with another request is
-- refused.

CREATE TABLE idempotency_keys (
    scope         TEXT NOT NULL,
    key           TEXT NOT NULL,
    fingerprint   BLOB NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('processing', 'done')),
    status        INTEGER NOT NULL DEFAULT 0,
    header        TEXT NOT NULL DEFAULT '{}',
    body          BLOB NOT NULL DEFAULT x'',
    created_at    INTEGER NOT NULL,
    locked_until  INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
) STRICT, WITHOUT ROWID;

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
