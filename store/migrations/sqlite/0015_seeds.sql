-- When whoever adds a member is told by email (on_creation, on_join, both,
-- never); accounts that existed keep both notices.
ALTER TABLE accounts ADD COLUMN notify_adder TEXT NOT NULL DEFAULT 'both'
    CHECK (notify_adder IN ('on_creation', 'on_join', 'both', 'never'));

-- A privacy policy's name as people read it, and its text by language
-- (a JSON object from locale to text); text stays for a policy given
-- without a language.
ALTER TABLE privacy_policies ADD COLUMN label TEXT NOT NULL DEFAULT '';
ALTER TABLE privacy_policies ADD COLUMN texts TEXT NOT NULL DEFAULT '{}';
