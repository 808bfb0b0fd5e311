-- Every change event records its actor: a user, an API key (with the name it
-- had when it acted), an instance key, or the system. Events written before
-- named a key inside their after state; they are given the key as actor.

ALTER TABLE audit_events ADD COLUMN actor_type TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN actor_name TEXT NOT NULL DEFAULT '';

UPDATE audit_events SET actor_type = 'user' WHERE actor_id IS NOT NULL;

UPDATE audit_events
SET actor_id = json_extract(after, '$.api_key'),
    actor_type = CASE WHEN EXISTS (SELECT 1 FROM api_keys k WHERE k.id = json_extract(after, '$.api_key') AND k.account_id IS NULL)
                      THEN 'instance_key' ELSE 'api_key' END,
    actor_name = COALESCE((SELECT k.name FROM api_keys k WHERE k.id = json_extract(after, '$.api_key')), '')
WHERE actor_id IS NULL AND json_valid(after) AND json_type(after, '$.api_key') = 'text';

UPDATE audit_events SET actor_type = 'system' WHERE actor_type = '';
