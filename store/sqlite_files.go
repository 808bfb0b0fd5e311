package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
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
