-- Requests refused across tenants — an actor asking about an account out of
-- their reach — are recorded for the instance's administrators: who asked
-- (a user's or a key's ID), which account, what for, when. No address, no
-- names: identifiers only.

CREATE TABLE security_events (
    id          uuid PRIMARY KEY,
    kind        text NOT NULL,
    actor_type  text NOT NULL,
    actor_id    uuid,
    account_id  uuid,
    what        text NOT NULL DEFAULT '',
    at          bigint NOT NULL
);
