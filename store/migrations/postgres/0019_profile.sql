-- A person's own time zone (an IANA name; empty: their account's), in which
-- the times shown to them are said; and a link of the new kind
-- 'notification_email' that confirms a notification address before any
-- email goes there (the address waits in the token's email).

ALTER TABLE users ADD COLUMN time_zone text NOT NULL DEFAULT '';

ALTER TABLE tokens DROP CONSTRAINT tokens_kind_check;
ALTER TABLE tokens ADD CONSTRAINT tokens_kind_check
    CHECK (kind IN ('invitation', 'reset', 'verify', 'email_change', 'signup', 'email_change_cancel',
                    'notification_email'));
