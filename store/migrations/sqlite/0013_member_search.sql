-- The team page's search finds any part of a member's names or email
-- ("elo" finds Éloïse, "@cabinet-expert" a domain). The folded keys of each
-- member (0003) are copied, joined by spaces, into member_search_keys, and
-- an FTS5 table with the trigram tokenizer indexes them: a word of three
-- characters or more is found through the index. Triggers keep both in step
-- with every write to the members' keys, in the same transaction.
--
-- member_search_keys gives each member a stable integer key (the rowid of
-- members may change on VACUUM), which the FTS5 table uses as its rowid.

CREATE TABLE member_search_keys (
    id          INTEGER PRIMARY KEY,
    account_id  TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    words       TEXT NOT NULL,
    UNIQUE (account_id, user_id)
) STRICT;

CREATE VIRTUAL TABLE member_search USING fts5 (
    words, content = 'member_search_keys', content_rowid = 'id', tokenize = 'trigram'
);

-- A search of words shorter than three characters reads the account's keys
-- from this index, narrower than the members.
CREATE INDEX member_search_keys_words ON member_search_keys (account_id, words, user_id);

CREATE TRIGGER member_search_keys_insert AFTER INSERT ON member_search_keys BEGIN
    INSERT INTO member_search (rowid, words) VALUES (new.id, new.words);
END;
CREATE TRIGGER member_search_keys_delete AFTER DELETE ON member_search_keys BEGIN
    INSERT INTO member_search (member_search, rowid, words) VALUES ('delete', old.id, old.words);
END;
CREATE TRIGGER member_search_keys_update AFTER UPDATE OF words ON member_search_keys BEGIN
    INSERT INTO member_search (member_search, rowid, words) VALUES ('delete', old.id, old.words);
    INSERT INTO member_search (rowid, words) VALUES (new.id, new.words);
END;

CREATE TRIGGER members_search_insert AFTER INSERT ON members BEGIN
    INSERT INTO member_search_keys (account_id, user_id, words)
    VALUES (new.account_id, new.user_id, new.first_key || ' ' || new.last_key || ' ' || new.email_key);
END;
CREATE TRIGGER members_search_update AFTER UPDATE OF first_key, last_key, email_key ON members BEGIN
    UPDATE member_search_keys SET words = new.first_key || ' ' || new.last_key || ' ' || new.email_key
    WHERE account_id = new.account_id AND user_id = new.user_id;
END;
CREATE TRIGGER members_search_delete AFTER DELETE ON members BEGIN
    DELETE FROM member_search_keys WHERE account_id = old.account_id AND user_id = old.user_id;
END;

INSERT INTO member_search_keys (account_id, user_id, words)
SELECT account_id, user_id, first_key || ' ' || last_key || ' ' || email_key FROM members;

-- The team page's counts of an account's members by status, kept by
-- triggers in the transaction of every change of a member, so that a page
-- reads four rows rather than counting 100,000.
CREATE TABLE member_counts (
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status      TEXT NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (account_id, status)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER members_count_insert AFTER INSERT ON members BEGIN
    INSERT INTO member_counts (account_id, status, n) VALUES (new.account_id, new.status, 1)
    ON CONFLICT (account_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER members_count_delete AFTER DELETE ON members BEGIN
    UPDATE member_counts SET n = n - 1 WHERE account_id = old.account_id AND status = old.status;
END;
CREATE TRIGGER members_count_update AFTER UPDATE OF status ON members WHEN old.status <> new.status BEGIN
    UPDATE member_counts SET n = n - 1 WHERE account_id = old.account_id AND status = old.status;
    INSERT INTO member_counts (account_id, status, n) VALUES (new.account_id, new.status, 1)
    ON CONFLICT (account_id, status) DO UPDATE SET n = n + 1;
END;

INSERT INTO member_counts (account_id, status, n)
SELECT account_id, status, COUNT(*) FROM members GROUP BY account_id, status;
