-- The change stream serves events in the order their transactions
-- committed: each event gets a sequence number from a one-row counter, taken
-- just before its transaction commits (store.DB.write), so that numbers
-- never go back, even when the newest events are deleted with their
-- account. Events written before the stream existed are numbered in the
-- order they were written (their UUIDv7 IDs).

ALTER TABLE audit_events ADD COLUMN seq INTEGER;

UPDATE audit_events SET seq = (SELECT n FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM audit_events) AS o
    WHERE o.id = audit_events.id);

CREATE UNIQUE INDEX audit_events_seq ON audit_events (seq);
CREATE INDEX audit_events_account_seq ON audit_events (account_id, seq);

CREATE TABLE event_sequence (
    one   INTEGER PRIMARY KEY CHECK (one = 1),
    last  INTEGER NOT NULL
) STRICT;
INSERT INTO event_sequence (one, last) VALUES (1, (SELECT COALESCE(MAX(seq), 0) FROM audit_events));
