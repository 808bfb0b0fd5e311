-- The team page's search finds any part of a member's names or email
-- ("elo" finds Éloïse, "@cabinet-expert" a domain): a GIN trigram index
-- (pg_trgm) on the folded keys of each member (0003), joined by spaces,
-- serves LIKE '%word%' for words of three characters or more. The index is
-- on an expression of the keys, so every write to them keeps it in step.
--
-- pg_trgm ships with PostgreSQL and is a trusted extension: the owner of the
-- database may create it. It goes in the schema public whatever the
-- search_path, so that several schemas of one database share it; an
-- extension already created elsewhere is used where it is.

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

DO $$
DECLARE
    s text;
BEGIN
    SELECT n.nspname INTO s FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'pg_trgm';
    EXECUTE format('CREATE INDEX members_search ON members USING gin '
        '((first_key || '' '' || last_key || '' '' || email_key) %I.gin_trgm_ops)', s);
END
$$;
