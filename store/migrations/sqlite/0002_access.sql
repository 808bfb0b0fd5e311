-- Roles and permissions: custom roles per account, API keys, and the staff of
-- a firm assigned to its client accounts (the account tree of C10).

CREATE TABLE roles (
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    label_fr     TEXT NOT NULL,
    label_en     TEXT NOT NULL,
    grants       TEXT NOT NULL DEFAULT '[]',
    restricted   INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (account_id, key)
) STRICT;

CREATE INDEX members_account_role ON members (account_id, role, status);

CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    account_id    TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    hash          BLOB NOT NULL UNIQUE,
    role          TEXT NOT NULL DEFAULT '',
    created_by    TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
) STRICT;
CREATE INDEX api_keys_account ON api_keys (account_id, created_at);

CREATE TABLE client_staff (
    client_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    assigned_at  INTEGER NOT NULL,
    PRIMARY KEY (client_id, user_id)
) STRICT;
CREATE INDEX client_staff_user ON client_staff (user_id);
