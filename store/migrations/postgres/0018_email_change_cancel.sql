-- A login email change sends the old address a link that cancels it (and
-- ends every session) for 72 hours: a token of the new kind
-- 'email_change_cancel', whose email is the old address.

ALTER TABLE tokens DROP CONSTRAINT tokens_kind_check;
ALTER TABLE tokens ADD CONSTRAINT tokens_kind_check
    CHECK (kind IN ('invitation', 'reset', 'verify', 'email_change', 'signup', 'email_change_cancel'));
