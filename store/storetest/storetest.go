// Package storetest opens fresh, migrated databases for tests, on SQLite
// always and on PostgreSQL when one is reachable (EQUIPE_TEST_DATABASE_URL,
// else postgres://postgres@127.0.0.1:5432/test). Each PostgreSQL database is a
// schema of its own, dropped when the test ends, so tests run in parallel.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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
	ctx := context.Background()
	var cfg store.Config
	switch e {
	case store.SQLite:
		cfg = store.Config{DataDir: t.TempDir()}
	case store.Postgres:
		if err := postgresReachable(); err != nil {
			testenv.SkipOrFail(t, "postgres", "PostgreSQL at "+redact(PostgresURL())+": "+err.Error())
		}
		cfg = store.Config{URL: freshSchema(t), MaxConns: 8}
	default:
		t.Fatalf("unknown engine %q", e)
	}
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

// freshSchema creates a schema of its own and returns a URL whose
// connections use it.
func freshSchema(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "equipe_test_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, PostgresURL())
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
		conn, err := pgx.Connect(ctx, PostgresURL())
		if err != nil {
			t.Errorf("postgres: drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("postgres: drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(PostgresURL())
	if err != nil {
		t.Fatalf("EQUIPE_TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
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
