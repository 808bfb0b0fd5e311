// Package storetest opens fresh, migrated databases for tests, on SQLite
// always and on PostgreSQL when one is reachable (EQUIPE_TEST_DATABASE_URL,
// else postgres://postgres@127.0.0.1:5432/test). Each PostgreSQL database is a
// schema of its own, dropped when the test ends, so tests run in parallel.
package storetest
