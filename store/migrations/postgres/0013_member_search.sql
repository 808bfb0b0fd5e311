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

-- The team page's counts of an account's members by status, kept by a
-- trigger in the transaction of every change of a member, so that a page
-- reads four rows rather than counting 100,000.
CREATE TABLE member_counts (
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status      text NOT NULL,
    n           bigint NOT NULL,
    PRIMARY KEY (account_id, status)
);

CREATE FUNCTION members_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE member_counts SET n = n - 1 WHERE account_id = OLD.account_id AND status = OLD.status;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO member_counts AS c (account_id, status, n) VALUES (NEW.account_id, NEW.status, 1)
        ON CONFLICT (account_id, status) DO UPDATE SET n = c.n + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER members_count_insert_delete AFTER INSERT OR DELETE ON members
    FOR EACH ROW EXECUTE FUNCTION members_count();
CREATE TRIGGER members_count_update AFTER UPDATE OF status ON members
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION members_count();

INSERT INTO member_counts (account_id, status, n)
SELECT account_id, status, COUNT(*) FROM members GROUP BY account_id, status;
