-- Contacts are listed by the name they are shown under, folded to lower case
-- without accents (store.contactSortKey): "Émile" beside "emile" and "Zed",
-- not after every unaccented name, and a contact without names by their
-- email among the others. The key compares byte by byte (COLLATE "C", as
-- SQLite's BINARY does), so that both engines order it alike. The
-- migration's step in Go (store.sortContacts) computes the key of the
-- contacts made before it.

ALTER TABLE contacts ADD COLUMN sort_key text NOT NULL DEFAULT '';
DROP INDEX contacts_account;
CREATE INDEX contacts_account ON contacts (account_id, sort_key COLLATE "C", id);
