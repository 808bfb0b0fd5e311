-- Contacts: people who receive an account's communications but cannot log in
-- (C11). Kinds are a JSON array of billing, technical, commercial, other.

CREATE TABLE contacts (
    id          uuid PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    first_name  text NOT NULL DEFAULT '',
    last_name   text NOT NULL DEFAULT '',
    email       text NOT NULL DEFAULT '',
    phone       text NOT NULL DEFAULT '',
    kinds       text NOT NULL DEFAULT '[]',
    created_at  bigint NOT NULL,
    updated_at  bigint NOT NULL
);
CREATE INDEX contacts_account ON contacts (account_id, last_name, first_name, id);

CREATE INDEX accounts_created_by ON accounts (created_by_account_id) WHERE created_by_account_id IS NOT NULL;
