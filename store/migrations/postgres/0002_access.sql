-- Roles and permissions: custom roles per account, API keys, and the staff of
-- a firm assigned to its client accounts (the account tree of C10).

CREATE TABLE roles (
    account_id   uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key          text NOT NULL,
    label_fr     text NOT NULL,
    label_en     text NOT NULL,
    grants       text NOT NULL DEFAULT '[]',
    restricted   boolean NOT NULL DEFAULT false,
    created_at   bigint NOT NULL,
    updated_at   bigint NOT NULL,
    PRIMARY KEY (account_id, key)
);

CREATE INDEX members_account_role ON members (account_id, role, status);

CREATE TABLE api_keys (
    id            uuid PRIMARY KEY,
    account_id    uuid REFERENCES accounts (id) ON DELETE CASCADE,
    name          text NOT NULL,
    prefix        text NOT NULL,
    hash          bytea NOT NULL UNIQUE,
    role          text NOT NULL DEFAULT '',
    created_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at    bigint NOT NULL,
    last_used_at  bigint,
    revoked_at    bigint
);
CREATE INDEX api_keys_account ON api_keys (account_id, created_at);

CREATE TABLE client_staff (
    client_id    uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    assigned_at  bigint NOT NULL,
    PRIMARY KEY (client_id, user_id)
);
CREATE INDEX client_staff_user ON client_staff (user_id);
