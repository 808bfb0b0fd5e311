-- Contacts: people who receive an account's communications but cannot log in
-- (C11). Kinds are a JSON array of billing, technical, commercial, other.

CREATE TABLE contacts (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    first_name  TEXT NOT NULL DEFAULT '',
    last_name   TEXT NOT NULL DEFAULT '',
    email       TEXT NOT NULL DEFAULT '',
    phone       TEXT NOT NULL DEFAULT '',
    kinds       TEXT NOT NULL DEFAULT '[]',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX contacts_account ON contacts (account_id, last_name, first_name, id);

CREATE INDEX accounts_created_by ON accounts (created_by_account_id) WHERE created_by_account_id IS NOT NULL;
