-- Every change event records its actor: a user, an API key (with the name it
-- had when it acted), an instance key, or the system. Events written before
-- named a key inside their after state; they are given the key as actor.

ALTER TABLE audit_events ADD COLUMN actor_type text NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN actor_name text NOT NULL DEFAULT '';

UPDATE audit_events SET actor_type = 'user' WHERE actor_id IS NOT NULL;

UPDATE audit_events e
SET actor_id = k.id,
    actor_type = CASE WHEN k.account_id IS NULL THEN 'instance_key' ELSE 'api_key' END,
    actor_name = k.name
FROM api_keys k
WHERE e.actor_id IS NULL AND k.id::text = CASE WHEN e.after LIKE '{%' THEN e.after::jsonb ->> 'api_key' END;

UPDATE audit_events SET actor_type = 'system' WHERE actor_type = '';
