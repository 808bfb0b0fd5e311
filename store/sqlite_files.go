package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// createDatabaseFile creates the SQLite file at path, empty (SQLite makes
// an empty file a new database), readable and writable by its owner only,
// unless it exists. It holds password hashes and pending one-time links:
// left to SQLite, it would follow the umask, 0644 by the usual one, and be
// readable by every local user. SQLite gives the -wal and -shm files it
// creates beside it the database file's mode, so they are 0600 too. An
// existing file keeps its mode: the operator may have chosen it.
func createDatabaseFile(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create the database file: %w", err)
	}
	return f.Close()
}

// ReadOnlyError is a SQLite database file that the process may not write.
// SQLite opens such a file for reading without a word, and the first
// write, some way into the start, fails with "attempt to write a readonly
// database".
type ReadOnlyError struct {
	Path string
	Err  error // what said so: access(2), or SQLite
}

func (e *ReadOnlyError) Error() string {
	return fmt.Sprintf("the database file %s is read-only: equipe must be able to write it "+
		"(make it the service user's, with mode 0600)", e.Path)
}

func (e *ReadOnlyError) Unwrap() error { return e.Err }

// readOnly returns a *ReadOnlyError naming the database file when err is
// SQLite's refusal to write a read-only database, and err otherwise.
func (db *DB) readOnly(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_READONLY {
		return &ReadOnlyError{Path: db.path, Err: err}
	}
	return err
}
