-- The foundation: identities, accounts, members, resources, one-time tokens,
-- sessions, the privacy policy and consents, audit events, the email outbox
-- and throttles. Times are microseconds since the Unix epoch, as on SQLite,
-- so that both engines run the same queries.

CREATE TABLE users (
    id                             uuid PRIMARY KEY,
    email                          text NOT NULL,
    email_key                      text NOT NULL UNIQUE,
    first_name                     text NOT NULL,
    last_name                      text NOT NULL,
    locale                         text NOT NULL,
    notification_email             text,
    email_verified_at              bigint,
    password_hash                  text,
    password_changed_at            bigint,
    instance_admin                 boolean NOT NULL DEFAULT false,
    disabled_at                    bigint,
    last_login_at                  bigint,
    created_at                     bigint NOT NULL
);

CREATE TABLE accounts (
    id                     uuid PRIMARY KEY,
    name                   text NOT NULL,
    locale                 text NOT NULL,
    parent_id              uuid REFERENCES accounts (id),
    created_by_account_id  uuid REFERENCES accounts (id) ON DELETE SET NULL,
    requires_activation    boolean NOT NULL DEFAULT false,
    invitation_ttl_hours   integer NOT NULL DEFAULT 168,
    created_at             bigint NOT NULL
);
CREATE INDEX accounts_parent ON accounts (parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE resources (
    id           uuid PRIMARY KEY,
    account_id   uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    type         text NOT NULL,
    name         text NOT NULL,
    external_id  text,
    created_at   bigint NOT NULL
);
CREATE INDEX resources_account ON resources (account_id, type, name);

CREATE TABLE members (
    account_id        uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id           uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role              text NOT NULL,
    status            text NOT NULL CHECK (status IN ('created', 'invited', 'active', 'suspended')),
    title             text NOT NULL DEFAULT '',
    overrides         text NOT NULL DEFAULT '[]',
    invited_by        uuid REFERENCES users (id) ON DELETE SET NULL,
    invitations_sent  integer NOT NULL DEFAULT 0,
    last_invited_at   bigint,
    joined_at         bigint,
    created_at        bigint NOT NULL,
    PRIMARY KEY (account_id, user_id)
);
CREATE INDEX members_user ON members (user_id);

CREATE TABLE member_resources (
    account_id   uuid NOT NULL,
    user_id      uuid NOT NULL,
    resource_id  uuid NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, user_id, resource_id),
    FOREIGN KEY (account_id, user_id) REFERENCES members (account_id, user_id) ON DELETE CASCADE
);
CREATE INDEX member_resources_resource ON member_resources (resource_id);

CREATE TABLE tokens (
    id             uuid PRIMARY KEY,
    kind           text NOT NULL CHECK (kind IN ('invitation', 'reset', 'verify', 'email_change')),
    hash           bytea NOT NULL UNIQUE,
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    account_id     uuid REFERENCES accounts (id) ON DELETE CASCADE,
    email          text NOT NULL DEFAULT '',
    created_at     bigint NOT NULL,
    expires_at     bigint NOT NULL,
    used_at        bigint,
    superseded_at  bigint
);
CREATE INDEX tokens_user ON tokens (user_id, kind);
CREATE INDEX tokens_expires ON tokens (expires_at);

CREATE TABLE sessions (
    id            uuid PRIMARY KEY,
    hash          bytea NOT NULL UNIQUE,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    account_id    uuid REFERENCES accounts (id) ON DELETE SET NULL,
    created_at    bigint NOT NULL,
    last_seen_at  bigint NOT NULL,
    expires_at    bigint NOT NULL,
    ip            text NOT NULL,
    user_agent    text NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE privacy_policies (
    version       text PRIMARY KEY,
    url           text NOT NULL DEFAULT '',
    text          text NOT NULL DEFAULT '',
    published_at  bigint NOT NULL
);
CREATE INDEX privacy_policies_published ON privacy_policies (published_at);

CREATE TABLE consents (
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    policy_version  text NOT NULL REFERENCES privacy_policies (version),
    accepted_at     bigint NOT NULL,
    ip              text NOT NULL,
    PRIMARY KEY (user_id, policy_version)
);

CREATE TABLE audit_events (
    id           uuid PRIMARY KEY,
    account_id   uuid REFERENCES accounts (id) ON DELETE CASCADE,
    actor_id     uuid,
    action       text NOT NULL,
    target_type  text NOT NULL DEFAULT '',
    target_id    text NOT NULL DEFAULT '',
    before       text NOT NULL DEFAULT '',
    after        text NOT NULL DEFAULT '',
    ip           text NOT NULL DEFAULT '',
    at           bigint NOT NULL
);
CREATE INDEX audit_events_account ON audit_events (account_id, id);
CREATE INDEX audit_events_actor ON audit_events (actor_id, id);

CREATE TABLE outbox (
    id               uuid PRIMARY KEY,
    message_id       text NOT NULL UNIQUE,
    recipient        text NOT NULL,
    template         text NOT NULL,
    locale           text NOT NULL,
    subject          text NOT NULL,
    body_text        text NOT NULL,
    body_html        text NOT NULL,
    status           text NOT NULL CHECK (status IN ('queued', 'processing', 'sent', 'abandoned')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  bigint NOT NULL,
    claim            text,
    claimed_until    bigint,
    last_error       text NOT NULL DEFAULT '',
    created_at       bigint NOT NULL,
    sent_at          bigint
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status IN ('queued', 'processing');
CREATE INDEX outbox_status ON outbox (status, created_at);

CREATE TABLE throttles (
    key            text PRIMARY KEY,
    count          integer NOT NULL,
    window_start   bigint NOT NULL,
    blocked_until  bigint NOT NULL DEFAULT 0,
    last_at        bigint NOT NULL,
    attempt        text NOT NULL DEFAULT ''
);
CREATE INDEX throttles_last ON throttles (last_at);
