-- Signed webhooks (docs/webhooks.md). An endpoint belongs to an account, or
-- to the instance (account_id NULL). It subscribes to event types: types
-- holds them separated by spaces, or '*' for all. Its signing secret is
-- sealed under the instance's secret key (AES-GCM, named by key_id); during
-- a rotation the previous secret keeps signing until previous_until.
CREATE TABLE webhook_endpoints (
    id                uuid PRIMARY KEY,
    account_id        uuid REFERENCES accounts (id) ON DELETE CASCADE,
    url               text NOT NULL,
    description       text NOT NULL DEFAULT '',
    types             text NOT NULL,
    enabled           boolean NOT NULL DEFAULT true,
    disabled_reason   text NOT NULL DEFAULT '',
    secret            bytea NOT NULL,
    key_id            text NOT NULL,
    previous_secret   bytea,
    previous_key_id   text NOT NULL DEFAULT '',
    previous_until    bigint,
    created_at        bigint NOT NULL,
    updated_at        bigint NOT NULL
);
CREATE INDEX webhook_endpoints_account ON webhook_endpoints (account_id, created_at);

-- A delivery is one event (or one test message) to one endpoint: its
-- webhook-id is the event's ID, the same for every attempt. The payload of
-- an event is built from the event's row when it is sent; a test message
-- carries its own.
CREATE TABLE webhook_deliveries (
    endpoint_id       uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id          uuid NOT NULL,
    event_type        text NOT NULL,
    payload           text NOT NULL DEFAULT '',
    status            text NOT NULL CHECK (status IN ('queued', 'processing', 'delivered', 'abandoned')),
    attempts          integer NOT NULL DEFAULT 0,
    next_attempt_at   bigint NOT NULL,
    claim             text,
    response_code     integer NOT NULL DEFAULT 0,
    last_error        text NOT NULL DEFAULT '',
    created_at        bigint NOT NULL,
    last_attempt_at   bigint,
    delivered_at      bigint,
    PRIMARY KEY (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);

-- Every attempt of a delivery, with the first kilobyte of the answer.
CREATE TABLE webhook_attempts (
    id                uuid PRIMARY KEY,
    endpoint_id       uuid NOT NULL,
    event_id          uuid NOT NULL,
    at                bigint NOT NULL,
    duration_ms       integer NOT NULL,
    response_code     integer NOT NULL DEFAULT 0,
    response          text NOT NULL DEFAULT '',
    error             text NOT NULL DEFAULT '',
    FOREIGN KEY (endpoint_id, event_id) REFERENCES webhook_deliveries (endpoint_id, event_id) ON DELETE CASCADE
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (endpoint_id, event_id, at);
