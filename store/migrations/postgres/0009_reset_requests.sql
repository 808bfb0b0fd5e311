-- A password-reset request is answered at once, the same way and after the
-- same work whether or not the address has an identity: the request is
-- queued here, and looked up, linked and emailed after the answer.

CREATE TABLE reset_requests (
    id          uuid PRIMARY KEY,
    email_key   text NOT NULL,
    ip          text NOT NULL DEFAULT '',
    created_at  bigint NOT NULL
);
