-- Idempotency-Key (API): the first answer to a POST sent with a key, kept
-- 24 hours per caller (scope: the API key or the person) so that a retry
-- gets it again instead of making the change twice. A row is claimed
-- (state 'processing', held until locked_until) before the request runs and
-- holds the answer once it is done ('done'). fingerprint is the SHA-256 of
-- the method, path, query and body: the same key with another request is
-- refused.

CREATE TABLE idempotency_keys (
    scope         text NOT NULL,
    key           text NOT NULL,
    fingerprint   bytea NOT NULL,
    state         text NOT NULL CHECK (state IN ('processing', 'done')),
    status        integer NOT NULL DEFAULT 0,
    header        text NOT NULL DEFAULT '{}',
    body          bytea NOT NULL DEFAULT '',
    created_at    bigint NOT NULL,
    locked_until  bigint NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
