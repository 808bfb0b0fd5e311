-- The foundation: identities, accounts, members, resources, one-time tokens,
-- sessions, the privacy policy and consents, audit events, the email outbox
-- and throttles. Times are microseconds since the Unix epoch.

CREATE TABLE users (
    id                             TEXT PRIMARY KEY,
    email                          TEXT NOT NULL,
    email_key                      TEXT NOT NULL UNIQUE,
    first_name                     TEXT NOT NULL,
    last_name                      TEXT NOT NULL,
    locale                         TEXT NOT NULL,
    notification_email             TEXT,
    email_verified_at              INTEGER,
    password_hash                  TEXT,
    password_changed_at            INTEGER,
    instance_admin                 INTEGER NOT NULL DEFAULT 0,
    disabled_at                    INTEGER,
    last_login_at                  INTEGER,
    created_at                     INTEGER NOT NULL
) STRICT;

CREATE TABLE accounts (
    id                     TEXT PRIMARY KEY,
    name                   TEXT NOT NULL,
    locale                 TEXT NOT NULL,
    parent_id              TEXT REFERENCES accounts (id),
    created_by_account_id  TEXT REFERENCES accounts (id) ON DELETE SET NULL,
    requires_activation    INTEGER NOT NULL DEFAULT 0,
    invitation_ttl_hours   INTEGER NOT NULL DEFAULT 168,
    created_at             INTEGER NOT NULL
) STRICT;
CREATE INDEX accounts_parent ON accounts (parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE resources (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    type         TEXT NOT NULL,
    name         TEXT NOT NULL,
    external_id  TEXT,
    created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX resources_account ON resources (account_id, type, name);

CREATE TABLE members (
    account_id        TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id           TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role              TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('created', 'invited', 'active', 'suspended')),
    title             TEXT NOT NULL DEFAULT '',
    overrides         TEXT NOT NULL DEFAULT '[]',
    invited_by        TEXT REFERENCES users (id) ON DELETE SET NULL,
    invitations_sent  INTEGER NOT NULL DEFAULT 0,
    last_invited_at   INTEGER,
    joined_at         INTEGER,
    created_at        INTEGER NOT NULL,
    PRIMARY KEY (account_id, user_id)
) STRICT;
CREATE INDEX members_user ON members (user_id);

CREATE TABLE member_resources (
    account_id   TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    resource_id  TEXT NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, user_id, resource_id),
    FOREIGN KEY (account_id, user_id) REFERENCES members (account_id, user_id) ON DELETE CASCADE
) STRICT;
CREATE INDEX member_resources_resource ON member_resources (resource_id);

CREATE TABLE tokens (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('invitation', 'reset', 'verify', 'email_change')),
    hash           BLOB NOT NULL UNIQUE,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    account_id     TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    email          TEXT NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER,
    superseded_at  INTEGER
) STRICT;
CREATE INDEX tokens_user ON tokens (user_id, kind);
CREATE INDEX tokens_expires ON tokens (expires_at);

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    hash          BLOB NOT NULL UNIQUE,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    account_id    TEXT REFERENCES accounts (id) ON DELETE SET NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    ip            TEXT NOT NULL,
    user_agent    TEXT NOT NULL
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE privacy_policies (
    version       TEXT PRIMARY KEY,
    url           TEXT NOT NULL DEFAULT '',
    text          TEXT NOT NULL DEFAULT '',
    published_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX privacy_policies_published ON privacy_policies (published_at);

CREATE TABLE consents (
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    policy_version  TEXT NOT NULL REFERENCES privacy_policies (version),
    accepted_at     INTEGER NOT NULL,
    ip              TEXT NOT NULL,
    PRIMARY KEY (user_id, policy_version)
) STRICT;

CREATE TABLE audit_events (
    id           TEXT PRIMARY KEY,
    account_id   TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    actor_id     TEXT,
    action       TEXT NOT NULL,
    target_type  TEXT NOT NULL DEFAULT '',
    target_id    TEXT NOT NULL DEFAULT '',
    before       TEXT NOT NULL DEFAULT '',
    after        TEXT NOT NULL DEFAULT '',
    ip           TEXT NOT NULL DEFAULT '',
    at           INTEGER NOT NULL
) STRICT;
CREATE INDEX audit_events_account ON audit_events (account_id, id);
CREATE INDEX audit_events_actor ON audit_events (actor_id, id);

CREATE TABLE outbox (
    id               TEXT PRIMARY KEY,
    message_id       TEXT NOT NULL UNIQUE,
    recipient        TEXT NOT NULL,
    template         TEXT NOT NULL,
    locale           TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body_text        TEXT NOT NULL,
    body_html        TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'processing', 'sent', 'abandoned')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    claim            TEXT,
    claimed_until    INTEGER,
    last_error       TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER
) STRICT;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status IN ('queued', 'processing');
CREATE INDEX outbox_status ON outbox (status, created_at);

CREATE TABLE throttles (
    key            TEXT PRIMARY KEY,
    count          INTEGER NOT NULL,
    window_start   INTEGER NOT NULL,
    blocked_until  INTEGER NOT NULL DEFAULT 0,
    last_at        INTEGER NOT NULL,
    attempt        TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX throttles_last ON throttles (last_at);
