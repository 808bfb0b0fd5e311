-- What an account types about someone it adds — names, job title and now the
-- language of their emails — stays on that membership until they join, and
-- never becomes their identity's.

ALTER TABLE members ADD COLUMN locale text NOT NULL DEFAULT '';
