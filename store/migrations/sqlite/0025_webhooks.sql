-- Signed webhooks (docs/webhooks.md). An endpoint belongs to an account, or
-- to the instance (account_id NULL). It subscribes to event types: types
-- holds them separated by spaces, or '*' for all. Its signing secret is
-- sealed under the instance's secret key (AES-GCM, named by key_id); during
-- a rotation the previous secret keeps signing until previous_until.
CREATE TABLE webhook_endpoints (
    id                TEXT PRIMARY KEY,
    account_id        TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    url               TEXT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    types             TEXT NOT NULL,
    enabled           INTEGER NOT NULL DEFAULT 1,
    disabled_reason   TEXT NOT NULL DEFAULT '',
    secret            BLOB NOT NULL,
    key_id            TEXT NOT NULL,
    previous_secret   BLOB,
    previous_key_id   TEXT NOT NULL DEFAULT '',
    previous_until    INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
) STRICT;
CREATE INDEX webhook_endpoints_account ON webhook_endpoints (account_id, created_at);

-- A delivery is one event (or one test message) to one endpoint: its
-- webhook-id is the event's ID, the same for every attempt. The payload of
-- an event is built from the event's row when it is sent; a test message
-- carries its own.
CREATE TABLE webhook_deliveries (
    endpoint_id       TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id          TEXT NOT NULL,
    event_type        TEXT NOT NULL,
    payload           TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL CHECK (status IN ('queued', 'processing', 'delivered', 'abandoned')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   INTEGER NOT NULL,
    claim             TEXT,
    response_code     INTEGER NOT NULL DEFAULT 0,
    last_error        TEXT NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL,
    last_attempt_at   INTEGER,
    delivered_at      INTEGER,
    PRIMARY KEY (endpoint_id, event_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);

-- Every attempt of a delivery, with the first kilobyte of the answer.
CREATE TABLE webhook_attempts (
    id                TEXT PRIMARY KEY,
    endpoint_id       TEXT NOT NULL,
    event_id          TEXT NOT NULL,
    at                INTEGER NOT NULL,
    duration_ms       INTEGER NOT NULL,
    response_code     INTEGER NOT NULL DEFAULT 0,
    response          TEXT NOT NULL DEFAULT '',
    error             TEXT NOT NULL DEFAULT '',
    FOREIGN KEY (endpoint_id, event_id) REFERENCES webhook_deliveries (endpoint_id, event_id) ON DELETE CASCADE
) STRICT;
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (endpoint_id, event_id, at);
