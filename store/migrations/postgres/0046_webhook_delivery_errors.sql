-- A delivery's error as a stable code (a message key, translated where it
-- is shown) beside the text of what happened, which stays for the API's
-- readers: the codes of the rows written before are read from their text.
-- A manual re-delivery is an attempt outside the retry schedule: manual
-- marks a delivery whose next attempt is one, manual_attempts counts those
-- made, and the schedule counts the others only.
ALTER TABLE webhook_deliveries ADD COLUMN last_error_code text NOT NULL DEFAULT '';
ALTER TABLE webhook_deliveries ADD COLUMN manual integer NOT NULL DEFAULT 0;
ALTER TABLE webhook_deliveries ADD COLUMN manual_attempts integer NOT NULL DEFAULT 0;
ALTER TABLE webhook_attempts ADD COLUMN error_code text NOT NULL DEFAULT '';
UPDATE webhook_deliveries SET last_error_code = CASE
    WHEN last_error LIKE 'webhooks.%' THEN last_error
    WHEN last_error LIKE 'answered 3%' THEN 'webhooks.error_redirect'
    WHEN last_error LIKE 'answered %' THEN 'webhooks.error_status'
    WHEN last_error LIKE '%address refused%' THEN 'webhooks.error_address_refused'
    WHEN last_error LIKE 'could not resolve %' OR last_error LIKE '%has no address%' THEN 'webhooks.error_unresolved'
    WHEN last_error LIKE '%connection refused%' THEN 'webhooks.error_connection_refused'
    WHEN last_error LIKE '%deadline exceeded%' OR last_error LIKE '%timeout%' THEN 'webhooks.error_timeout'
    WHEN last_error LIKE '%tls:%' OR last_error LIKE '%x509:%' OR last_error LIKE '%certificate%' THEN 'webhooks.error_tls'
    WHEN last_error LIKE '%no longer kept%' THEN 'webhooks.error_event_gone'
    ELSE 'webhooks.error_other' END
WHERE last_error <> '';
UPDATE webhook_attempts SET error_code = CASE
    WHEN error LIKE 'answered 3%' THEN 'webhooks.error_redirect'
    WHEN error LIKE 'answered %' THEN 'webhooks.error_status'
    WHEN error LIKE '%address refused%' THEN 'webhooks.error_address_refused'
    WHEN error LIKE 'could not resolve %' OR error LIKE '%has no address%' THEN 'webhooks.error_unresolved'
    WHEN error LIKE '%connection refused%' THEN 'webhooks.error_connection_refused'
    WHEN error LIKE '%deadline exceeded%' OR error LIKE '%timeout%' THEN 'webhooks.error_timeout'
    WHEN error LIKE '%tls:%' OR error LIKE '%x509:%' OR error LIKE '%certificate%' THEN 'webhooks.error_tls'
    WHEN error LIKE '%no longer kept%' THEN 'webhooks.error_event_gone'
    ELSE 'webhooks.error_other' END
WHERE error <> '';
