package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/equipe-dev/equipe/internal/testenv"
	"github.com/equipe-dev/equipe/store"
)

// DefaultPostgresURL is tried when EQUIPE_TEST_DATABASE_URL is not set.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresURL returns the URL tests use for PostgreSQL.
func PostgresURL() string {
	if u := os.Getenv("EQUIPE_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

var (
	pgOnce sync.Once
	pgErr  error
)

// postgresReachable connects once per test binary.
func postgresReachable() error {
	pgOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, PostgresURL())
		if err != nil {
			pgErr = err
			return
		}
		conn.Close(ctx)
	})
	return pgErr
}

// Engines returns the engines every store test runs on.
func Engines() []store.Engine { return []store.Engine{store.SQLite, store.Postgres} }

// Each runs fn as a subtest per engine, with a fresh migrated database.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, e := range Engines() {
		t.Run(string(e), func(t *testing.T) {
			fn(t, Open(t, e))
		})
	}
}

// EachConfig is Each, also giving fn the configuration that opens the same
// database again (for tests that play several processes).
func EachConfig(t *testing.T, fn func(t *testing.T, db *store.DB, cfg store.Config)) {
	t.Helper()
	for _, e := range Engines() {
		t.Run(string(e), func(t *testing.T) {
			db, cfg := OpenConfig(t, e)
			fn(t, db, cfg)
		})
	}
}

// Open returns a fresh migrated database of engine e, closed (and on
// PostgreSQL dropped) when the test ends. Without a reachable PostgreSQL it
// skips the test, or fails it when EQUIPE_TEST_REQUIRE names postgres.
func Open(t testing.TB, e store.Engine) *store.DB {
	t.Helper()
	db, _ := OpenConfig(t, e)
	return db
}

// OpenConfig is Open, also returning the configuration that opens the same
// database again (for tests that restart a process).
func OpenConfig(t testing.TB, e store.Engine) (*store.DB, store.Config) {
	t.Helper()
	return openMigrated(t, e, Config(t, e))
}

// OpenDurable is Open with the settings the service runs with: on
// PostgreSQL a commit waits for the disk, as it does unless a transaction
// says otherwise, rather than never, as the other tests' connections do
// (their databases are thrown away). For measurements of what a commit
// costs, and for tests of the transactions that wait less.
func OpenDurable(t testing.TB, e store.Engine) *store.DB {
	t.Helper()
	cfg := Config(t, e)
	if e == store.Postgres {
		u, err := url.Parse(cfg.URL)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Del("synchronous_commit")
		u.RawQuery = q.Encode()
		cfg.URL = u.String()
	}
	db, _ := openMigrated(t, e, cfg)
	return db
}

func openMigrated(t testing.TB, e store.Engine, cfg store.Config) (*store.DB, store.Config) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open %s: %v", e, err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", e, err)
	}
	return db, cfg
}

// Config returns the configuration of a fresh, empty database of engine e
// (not yet opened nor migrated): a temporary SQLite directory, or a
// PostgreSQL schema of its own. Without a reachable PostgreSQL it skips the
// test, or fails it when EQUIPE_TEST_REQUIRE names postgres.
func Config(t testing.TB, e store.Engine) store.Config {
	t.Helper()
	switch e {
	case store.SQLite:
		return store.Config{DataDir: t.TempDir()}
	case store.Postgres:
		if err := postgresReachable(); err != nil {
			testenv.SkipOrFail(t, "postgres", "PostgreSQL at "+redact(PostgresURL())+": "+err.Error())
		}
		return store.Config{URL: freshSchema(t), MaxConns: 8}
	}
	t.Fatalf("unknown engine %q", e)
	return store.Config{}
}

var (
	pkgOnce sync.Once
	pkgURL  string
)

// packageURL returns the URL of a database of the test binary's own
// (equipe_test_pkg_team for the tests of package team), made on first use
// and kept for the next runs, in which each test makes its schema. The
// store's migrations hold an advisory lock, and PostgreSQL's advisory locks
// are per database: in one shared database, the migrations of every test of
// every package running at once waited for one another. Where the database
// cannot be made (no CREATEDB privilege), the tests share
// EQUIPE_TEST_DATABASE_URL's.
func packageURL() string {
	pkgOnce.Do(func() {
		pkgURL = PostgresURL()
		name := "equipe_test_pkg_" + strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
				return r
			}
			return '_'
		}, strings.ToLower(strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")))
		u, err := url.Parse(pkgURL)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, pkgURL)
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		var exists bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
			return
		}
		if !exists {
			// template0: nobody is connected to it, whereas another test
			// binary making its database at the same moment may be to
			// template1.
			// Another binary making it at the same moment answers
			// 42P04 (duplicate_database) or 23505 (unique_violation).
			_, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE template0")
			var pgErr *pgconn.PgError
			if err != nil && !(errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505")) {
				return // not allowed: the tests share the given database
			}
		}
		u.Path = "/" + name
		pkgURL = u.String()
	})
	return pkgURL
}

// freshSchema creates a schema of its own, in the test binary's database
// (packageURL), and returns a URL whose connections use it.
func freshSchema(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "equipe_test_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, packageURL())
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("postgres: create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, packageURL())
		if err != nil {
			t.Errorf("postgres: drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("postgres: drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(packageURL())
	if err != nil {
		t.Fatalf("EQUIPE_TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	// A test's database is thrown away: its commits need not wait for the
	// disk. What a transaction sees, and when, is unchanged.
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	return u.String()
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Raw opens the database of cfg directly, bypassing the store, for tests
// that inspect what is stored (row counts, a dump of every value).
func Raw(t testing.TB, cfg store.Config) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	if cfg.URL == "" {
		db, err = sql.Open("sqlite", "file:"+filepath.Join(cfg.DataDir, "equipe.db")+"?_pragma=busy_timeout(10000)")
	} else {
		db, err = sql.Open("pgx", cfg.URL)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// AssertMigratedOnce fails the test unless the database of cfg records
// each of the engine's migrations exactly once and stands at the newest: what
// any number of migrators, in one process or many, must leave behind.
func AssertMigratedOnce(t testing.TB, cfg store.Config) {
	t.Helper()
	e := store.SQLite
	if cfg.URL != "" {
		e = store.Postgres
	}
	ms, err := store.Migrations(e)
	if err != nil {
		t.Fatal(err)
	}
	var rows, distinct, newest int
	err = Raw(t, cfg).QueryRow("SELECT COUNT(*), COUNT(DISTINCT version), COALESCE(MAX(version), 0) FROM schema_migrations").
		Scan(&rows, &distinct, &newest)
	if err != nil {
		t.Fatalf("schema_migrations: %v", err)
	}
	if rows != len(ms) || distinct != len(ms) || newest != ms[len(ms)-1].Version {
		t.Errorf("schema_migrations holds %d rows (%d versions), newest %d; want %d, newest %d",
			rows, distinct, newest, len(ms), ms[len(ms)-1].Version)
	}
}

// Tables returns the names of the service's tables.
func Tables(t testing.TB, db *sql.DB) []string {
	t.Helper()
	// The tables of rows: not the search's FTS5 table nor its shadow tables
	// (its index), whose rows member_search_keys holds.
	q := `SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
	if _, err := db.Exec("SELECT 1 FROM pg_catalog.pg_tables LIMIT 1"); err == nil {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`
	}
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	return names
}

// Counts returns the number of rows of every table but schema_migrations.
func Counts(t testing.TB, db *sql.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, name := range Tables(t, db) {
		if name == "schema_migrations" {
			continue
		}
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM " + name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[name] = n
	}
	return out
}

// Dump returns every value of every row of every table, as text, one row a
// line: what someone holding a copy of the database would see.
func Dump(t testing.TB, db *sql.DB) string {
	t.Helper()
	var b strings.Builder
	for _, name := range Tables(t, db) {
		rows, err := db.Query("SELECT * FROM " + name)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			b.WriteString(name)
			for _, v := range vals {
				b.WriteString("\t")
				switch v := v.(type) {
				case []byte:
					b.Write(v)
				default:
					fmt.Fprint(&b, v)
				}
			}
			b.WriteString("\n")
		}
		rows.Close()
	}
	return b.String()
}
