-- The team page tells an administrator when the last email to a member who
-- has not joined yet could not be delivered: it reads the outbox by
-- recipient.

CREATE INDEX outbox_recipient ON outbox (recipient, status, created_at);
