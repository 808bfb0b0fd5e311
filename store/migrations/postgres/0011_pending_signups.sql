-- Signing up with an address whose identity has never had a password nor a
-- login (an account added it as a member) takes that identity over, once a
-- link emailed to the address confirms it: the sign-up waits here, and its
-- link is a token of the new kind 'signup'.

ALTER TABLE tokens DROP CONSTRAINT tokens_kind_check;
ALTER TABLE tokens ADD CONSTRAINT tokens_kind_check
    CHECK (kind IN ('invitation', 'reset', 'verify', 'email_change', 'signup'));

CREATE TABLE pending_signups (
    token_id       uuid PRIMARY KEY REFERENCES tokens (id) ON DELETE CASCADE,
    password_hash  text NOT NULL,
    first_name     text NOT NULL,
    last_name      text NOT NULL,
    locale         text NOT NULL,
    account_name   text NOT NULL,
    resource_type  text NOT NULL,
    resource_name  text NOT NULL,
    created_at     bigint NOT NULL
);
