-- SCIM provisioning (RFC 7644), per account: the account's administrator
-- turns it on, and a directory calls it with an account API key made for
-- it. purpose says what a key is for: '' the JSON API, 'scim' the SCIM
-- service alone (and nothing else).

ALTER TABLE accounts ADD COLUMN scim_enabled boolean NOT NULL DEFAULT false;
ALTER TABLE api_keys ADD COLUMN purpose text NOT NULL DEFAULT '';
