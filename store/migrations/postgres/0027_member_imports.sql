-- Imports of members from a CSV file. An import is planned (its rows
-- checked, nothing written), then run in batches by whichever process
-- holds its claim (claimed_until): a process that stops leaves a claim that
-- runs out, and another takes the import up where its last batch ended.
-- actor says who runs it (a person, an API key, or the operator at the
-- command line), as JSON, so that a resumed import acts as them.

CREATE TABLE member_imports (
    id             uuid PRIMARY KEY,
    account_id     uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    actor          text NOT NULL,
    status         text NOT NULL CHECK (status IN ('planned', 'running', 'done')),
    total          bigint NOT NULL,
    processed      bigint NOT NULL DEFAULT 0,
    added          bigint NOT NULL DEFAULT 0,
    updated        bigint NOT NULL DEFAULT 0,
    unchanged      bigint NOT NULL DEFAULT 0,
    skipped        bigint NOT NULL DEFAULT 0,
    claimed_until  bigint NOT NULL DEFAULT 0,
    created_at     bigint NOT NULL,
    finished_at    bigint NOT NULL DEFAULT 0
);

CREATE INDEX member_imports_account ON member_imports (account_id, created_at);
CREATE INDEX member_imports_running ON member_imports (status, claimed_until);

-- The rows of an import, by line of the file: what to do (data, JSON) and,
-- once done, what was done (outcome: added, updated, unchanged, skipped)
-- with the reason of a skipped row (reason: a message key).
CREATE TABLE member_import_rows (
    import_id  uuid NOT NULL REFERENCES member_imports (id) ON DELETE CASCADE,
    line       bigint NOT NULL,
    data       text NOT NULL,
    outcome    text NOT NULL DEFAULT '',
    reason     text NOT NULL DEFAULT '',
    PRIMARY KEY (import_id, line)
);
