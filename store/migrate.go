package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
)

//go:embed migrations
var migrationFiles embed.FS

// Migration is one numbered, forward-only schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the engine's migrations in order. File names are
// NNNN_name.sql; versions must be unique and start at 1.
func Migrations(e Engine) ([]Migration, error) {
	dir := path.Join("migrations", string(e))
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, ent := range entries {
		name := ent.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.sql", name)
		}
		b, err := fs.ReadFile(migrationFiles, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: rest, SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrations of %s: version %d found where %d was expected", e, m.Version, i+1)
		}
	}
	return ms, nil
}

// SchemaVersion returns the version the database is at (0 for an empty
// one). It only reads: the migrations table is created by Migrate, under
// its lock, and a database without it is at version 0.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var exists bool
	if err := db.r.QueryRowContext(ctx, db.d.migrationTableExists).Scan(&exists); err != nil {
		return 0, wrap(err)
	}
	if !exists {
		return 0, nil
	}
	var v int
	err := db.r.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v)
	return v, wrap(err)
}

// migrationLockKey is the PostgreSQL advisory lock that serialises
// migrators: "equipe migrations". Earlier versions of equipe take the same
// key around each of their migrations, so an older binary never runs one
// while this one holds the lock.
const migrationLockKey = 4242010101

// migrationConn is what the migration steps run on: a connection holding
// the PostgreSQL lock, or a transaction.
type migrationConn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// migrationSteps are the parts of a migration that SQL alone cannot do on
// both engines, by the migration's name: each runs after the migration's
// SQL, in the same transaction.
var migrationSteps = map[string]func(ctx context.Context, c migrationConn) error{
	"resources":         foldResourceNames,
	"contacts_sort_key": sortContacts,
}

// foldResourceNames gives the resources made before names were unique per
// kind their folded name (Fold). Where two already share one, the oldest
// gets it and the others keep an empty key, which the unique index leaves
// out: nothing a person named is renamed behind their back.
func foldResourceNames(ctx context.Context, c migrationConn) error {
	rows, err := c.QueryContext(ctx, `SELECT id, account_id, type, name FROM resources WHERE name_key = '' ORDER BY created_at, id`)
	if err != nil {
		return err
	}
	type named struct{ id, key string }
	var todo []named
	taken := map[[3]string]bool{}
	for rows.Next() {
		var id, account, kind, name string
		if err := rows.Scan(&id, &account, &kind, &name); err != nil {
			rows.Close()
			return err
		}
		k := [3]string{account, kind, Fold(name)}
		if k[2] == "" || taken[k] {
			continue
		}
		taken[k] = true
		todo = append(todo, named{id, k[2]})
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, r := range todo {
		if _, err := c.ExecContext(ctx, `UPDATE resources SET name_key = $1 WHERE id = $2`, r.key, r.id); err != nil {
			return err
		}
	}
	return nil
}

// sortContacts gives the contacts made before they were listed by a folded
// key their key (contactSortKey).
func sortContacts(ctx context.Context, c migrationConn) error {
	rows, err := c.QueryContext(ctx, `SELECT id, first_name, last_name, email FROM contacts`)
	if err != nil {
		return err
	}
	type keyed struct{ id, key string }
	var todo []keyed
	for rows.Next() {
		var id, first, last, email string
		if err := rows.Scan(&id, &first, &last, &email); err != nil {
			rows.Close()
			return err
		}
		todo = append(todo, keyed{id, contactSortKey(equipe.Contact{FirstName: first, LastName: last, Email: email})})
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, r := range todo {
		if _, err := c.ExecContext(ctx, `UPDATE contacts SET sort_key = $1 WHERE id = $2`, r.key, r.id); err != nil {
			return err
		}
	}
	return nil
}

// Migrate brings the schema to the latest version and returns the versions
// it applied. It refuses a database that a newer equipe has already
// migrated further than this one knows.
//
// Several processes may call it at once on one database, and they behave
// as one: the first to take the lock migrates, the others wait for it and
// find nothing to do. The lock is taken before anything else is read or
// written, the migrations table included: created outside it, two
// migrators on an empty PostgreSQL database collide in the catalogue (a
// unique violation on pg_type), and a version read outside it splits the
// migrations between processes. On PostgreSQL the lock is a session-level
// advisory lock on a connection held for the whole run, and each migration
// commits on its own; on SQLite it is the database's write lock, taken by
// one BEGIN IMMEDIATE transaction that applies every pending migration, so
// that a failure leaves the schema as it was.
func (db *DB) Migrate(ctx context.Context) ([]int, error) {
	return db.migrateTo(ctx, 0)
}

// migrateTo is Migrate stopping at version last (0: the latest).
func (db *DB) migrateTo(ctx context.Context, last int) ([]int, error) {
	ms, err := Migrations(db.engine)
	if err != nil {
		return nil, err
	}
	if last > 0 && last < len(ms) {
		ms = ms[:last]
	}
	var applied []int
	if db.engine == Postgres {
		applied, err = db.migratePostgres(ctx, ms)
	} else {
		applied, err = db.migrateSQLite(ctx, ms)
		err = db.readOnly(err)
	}
	for _, v := range applied {
		db.log.Info("migrated", "version", v, "name", ms[v-1].Name)
	}
	return applied, err
}

func (db *DB) migratePostgres(ctx context.Context, ms []Migration) (applied []int, err error) {
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return nil, wrap(err)
	}
	// Waits, for as long as ctx allows, while another process migrates.
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLockKey); err != nil {
		conn.Close()
		return nil, fmt.Errorf("wait for the migration lock: %w", wrap(err))
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, uerr := conn.ExecContext(uctx, "SELECT pg_advisory_unlock($1)", migrationLockKey); uerr != nil {
			// A session lock lives as long as its connection: rather than
			// give the pool a connection that may still hold it, close it,
			// which ends the session and releases the lock.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}()
	todo, err := pendingMigrations(ctx, conn, ms)
	if err != nil {
		return nil, err
	}
	for _, m := range todo {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return applied, wrap(err)
		}
		if err := applyMigration(ctx, tx, m); err != nil {
			tx.Rollback()
			return applied, err
		}
		if err := tx.Commit(); err != nil {
			return applied, fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, wrap(err))
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

func (db *DB) migrateSQLite(ctx context.Context, ms []Migration) ([]int, error) {
	var applied []int
	migrate := func(tx *Tx) error {
		applied = applied[:0]
		todo, err := pendingMigrations(ctx, tx.tx, ms)
		if err != nil {
			return err
		}
		for _, m := range todo {
			if err := applyMigration(ctx, tx.tx, m); err != nil {
				return err
			}
			applied = append(applied, m.Version)
		}
		return nil
	}
	for {
		// BEGIN IMMEDIATE waits for the write lock up to the busy timeout;
		// another process's migrations may take longer, so wait again for
		// as long as ctx allows.
		err := db.write(ctx, migrate, false)
		if err == nil {
			return applied, nil
		}
		if !retryable(err) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// pendingMigrations creates the migrations table if need be, reads the
// version and returns the migrations still to apply. It runs under the
// migration lock.
func pendingMigrations(ctx context.Context, c migrationConn, ms []Migration) ([]Migration, error) {
	_, err := c.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version     INTEGER PRIMARY KEY,
		name        TEXT NOT NULL,
		applied_at  BIGINT NOT NULL)`)
	if err != nil {
		return nil, wrap(err)
	}
	var cur int
	if err := c.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&cur); err != nil {
		return nil, wrap(err)
	}
	if cur > len(ms) {
		return nil, fmt.Errorf("the database schema is at version %d, newer than this equipe knows (%d): run a newer equipe", cur, len(ms))
	}
	return ms[cur:], nil
}

// applyMigration runs m and records it.
func applyMigration(ctx context.Context, c migrationConn, m Migration) error {
	// A migration holds several statements: it runs unprepared.
	if _, err := c.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
	}
	if step := migrationSteps[m.Name]; step != nil {
		if err := step(ctx, c); err != nil {
			return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, wrap(err))
		}
	}
	_, err := c.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
		m.Version, m.Name, time.Now().UnixMicro())
	return wrap(err)
}
