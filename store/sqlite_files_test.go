package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestOpen_SQLiteFilesAreReadableByTheirOwnerOnly opens a new database in
// a directory every local user may read: the database file and the -wal
// and -shm files SQLite makes beside it are 0600 whatever the umask. A file
// that exists keeps its mode.
func TestOpen_SQLiteFilesAreReadableByTheirOwnerOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"equipe.db", "equipe.db-wal", "equipe.db-shm"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, st.Mode().Perm())
		}
	}
	db.Close()
	path := filepath.Join(dir, "equipe.db")
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	db, err = Open(ctx, Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("an existing file's mode changed: %v %v", st.Mode().Perm(), err)
	}
}
