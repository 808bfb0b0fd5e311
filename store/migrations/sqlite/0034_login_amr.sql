-- How a session's login was made, as OpenID Connect's amr claim names the
-- methods (RFC 8176, space-separated): pwd, otp (an authenticator's code or
-- a recovery code), hwk or swk (a passkey), mfa with a second factor. An
-- authorization request takes it from the session it completes with, and
-- the ID tokens of its grant carry it.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '';
ALTER TABLE oidc_auth_requests ADD COLUMN amr TEXT NOT NULL DEFAULT '';
