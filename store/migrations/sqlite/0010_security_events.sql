-- Requests refused across tenants — an actor asking about an account out of
-- their reach — are recorded for the instance's administrators: who asked
-- (a user's or a key's ID), which account, what for, when. No address, no
-- names: identifiers only.

CREATE TABLE security_events (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    actor_type  TEXT NOT NULL,
    actor_id    TEXT,
    account_id  TEXT,
    what        TEXT NOT NULL DEFAULT '',
    at          INTEGER NOT NULL
) STRICT;
