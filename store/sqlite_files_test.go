package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
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

// TestOpen_AReadOnlyDatabaseFileIsSaidSoAtOnce: a database file the
// process may not write stops the open with an error that names it, and
// SQLite's own refusal to write a read-only database says the same. The
// file's mode stops only a user who is not root: as root, the part about
// the mode is skipped, and the refusal comes from a connection opened
// read-only.
func TestOpen_AReadOnlyDatabaseFileIsSaidSoAtOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	path := filepath.Join(dir, "equipe.db")
	ro, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	_, err = ro.ExecContext(ctx, "CREATE TABLE t (x INTEGER)")
	var roe *ReadOnlyError
	if !errors.As(db.readOnly(err), &roe) || roe.Path != path ||
		!strings.HasPrefix(roe.Error(), "the database file "+path+" is read-only") {
		t.Fatalf("SQLite's refusal %v becomes %v", err, db.readOnly(err))
	}
	if err := db.readOnly(errors.New("other")); err.Error() != "other" {
		t.Errorf("another error becomes %v", err)
	}

	if os.Geteuid() == 0 {
		t.Skip("root may write a file of mode 0400")
	}
	db.Close()
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, Config{DataDir: dir})
	if !errors.As(err, &roe) || !strings.Contains(err.Error(), path) {
		t.Fatalf("opening a read-only file: %v", err)
	}
}
