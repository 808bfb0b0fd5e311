-- Back-channel logout (OpenID Connect Back-Channel Logout 1.0, docs/oidc.md):
-- when a person's session at equipe ends, or their grants end on a
-- suspension or a logout, each client with a back-channel logout URI that
-- holds a grant of that session is told, by a logout token POSTed to that
-- URI. oidc_logouts is the outbox of those notices, written in the
-- transaction of the change and delivered by a worker with retries: the
-- client, the person (sub) and the session (sid), the token being signed
-- when it is sent. A grant's logged_out_at says that its session ended and
-- its client was told; a grant with offline_access outlives the session
-- (its refresh token goes on working), the others end with it.
ALTER TABLE oidc_grants ADD COLUMN logged_out_at INTEGER;

CREATE TABLE oidc_logouts (
    id               INTEGER PRIMARY KEY,
    client_id        TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    user_id          TEXT NOT NULL,
    session_id       TEXT,
    status           TEXT NOT NULL DEFAULT 'queued',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    claim            TEXT,
    last_error       TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    delivered_at     INTEGER
) STRICT;
CREATE INDEX oidc_logouts_due ON oidc_logouts (status, next_attempt_at);
