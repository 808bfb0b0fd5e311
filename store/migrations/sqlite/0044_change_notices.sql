-- The notices of the commands run beside the service on the same file (an
-- import, clients, an administrator made): each of their transactions that
-- changes who may do what writes the keys it changed here, in the same
-- transaction, and the service reads the rows after the last it read,
-- several times a second, to forget what its caches hold of them (see
-- store.DB.Listen). The service deletes the rows it read long ago.
CREATE TABLE change_notices (
    seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    keys  TEXT NOT NULL,
    at    INTEGER NOT NULL
) STRICT;
CREATE INDEX change_notices_at ON change_notices (at);
