-- When the person last proved who they are in a session: its login (the
-- password, a passkey, the second step), or a later confirmation of their
-- password. Adding a factor (a passkey, an authenticator app) needs it to be
-- recent; OpenID Connect's max_age and auth_time read it. Sessions begun
-- before this were authenticated when they began.
ALTER TABLE sessions ADD COLUMN authenticated_at INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET authenticated_at = created_at;
