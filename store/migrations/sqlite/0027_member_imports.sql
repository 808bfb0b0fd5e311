-- Imports of members from a CSV file. An import is planned (its rows
-- checked, nothing written), then run in batches by whichever process
-- holds its claim (claimed_until): a process that stops leaves a claim that
-- runs out, and another takes the import up where its last batch ended.
-- actor says who runs it (a person, an API key, or the operator at the
-- command line), as JSON, so that a resumed import acts as them.

CREATE TABLE member_imports (
    id             TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    actor          TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('planned', 'running', 'done')),
    total          INTEGER NOT NULL,
    processed      INTEGER NOT NULL DEFAULT 0,
    added          INTEGER NOT NULL DEFAULT 0,
    updated        INTEGER NOT NULL DEFAULT 0,
    unchanged      INTEGER NOT NULL DEFAULT 0,
    skipped        INTEGER NOT NULL DEFAULT 0,
    claimed_until  INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    finished_at    INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX member_imports_account ON member_imports (account_id, created_at);
CREATE INDEX member_imports_running ON member_imports (status, claimed_until);

-- The rows of an import, by line of the file: what to do (data, JSON) and,
-- once done, what was done (outcome: added, updated, unchanged, skipped)
-- with the reason of a skipped row (reason: a message key).
CREATE TABLE member_import_rows (
    import_id  TEXT NOT NULL REFERENCES member_imports (id) ON DELETE CASCADE,
    line       INTEGER NOT NULL,
    data       TEXT NOT NULL,
    outcome    TEXT NOT NULL DEFAULT '',
    reason     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (import_id, line)
) STRICT, WITHOUT ROWID;
