package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
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

// SchemaVersion returns the version the database is at (0 for an empty one).
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	if err := db.ensureMigrationTable(ctx); err != nil {
		return 0, err
	}
	var v int
	err := db.w.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v)
	return v, wrap(err)
}

func (db *DB) ensureMigrationTable(ctx context.Context) error {
	_, err := db.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version     INTEGER PRIMARY KEY,
		name        TEXT NOT NULL,
		applied_at  BIGINT NOT NULL)`)
	return wrap(err)
}

// Migrate brings the schema to the latest version, one transaction per
// migration. Several processes may call it at once: on PostgreSQL an advisory
// lock serialises them, on SQLite the write lock does. It refuses a database
// that a newer equipe has already migrated further than this one knows.
// It returns the versions it applied.
func (db *DB) Migrate(ctx context.Context) ([]int, error) {
	ms, err := Migrations(db.engine)
	if err != nil {
		return nil, err
	}
	if err := db.ensureMigrationTable(ctx); err != nil {
		return nil, err
	}
	var applied []int
	for _, m := range ms {
		done := false
		err := db.Write(ctx, func(tx *Tx) error {
			if db.engine == Postgres {
				// A constant key: "equipe migrations".
				if _, err := tx.q.ExecContext(ctx, "SELECT pg_advisory_xact_lock(4242010101)"); err != nil {
					return wrap(err)
				}
			}
			var cur int
			if err := tx.q.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&cur); err != nil {
				return wrap(err)
			}
			if cur > len(ms) {
				return fmt.Errorf("the database schema is at version %d, newer than this equipe knows (%d): run a newer equipe", cur, len(ms))
			}
			if cur >= m.Version {
				done = true
				return nil
			}
			// A migration holds several statements: it runs unprepared.
			if _, err := tx.tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
			}
			_, err := tx.q.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
				m.Version, m.Name, time.Now().UnixMicro())
			return wrap(err)
		})
		if err != nil {
			return applied, err
		}
		if !done {
			applied = append(applied, m.Version)
			db.log.Info("migrated", "version", m.Version, "name", m.Name)
		}
	}
	// An empty list of migrations still must refuse a newer schema.
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return applied, err
	}
	if v > len(ms) {
		return applied, fmt.Errorf("the database schema is at version %d, newer than this equipe knows (%d): run a newer equipe", v, len(ms))
	}
	return applied, nil
}
