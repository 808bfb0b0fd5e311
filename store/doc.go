// Package store keeps equipe's state in SQL, on SQLite (the embedded default,
// through the pure-Go modernc.org/sqlite driver) or on PostgreSQL (through
// pgx). Both engines run the same query texts; the few dialect differences
// live in dialect. Migrations are embedded, numbered and forward-only, one
// folder per engine.
//
// Reads go through DB; every change goes through DB.Write, one transaction
// that a use case fills with the change, its audit event and its outbox
// emails. Times are stored as microseconds since the Unix epoch in BIGINT
// columns on both engines, so that one query text compares them everywhere.
//
// Not found is reported as an equipe.Error with code ENOTFOUND, a unique
// constraint violation as ECONFLICT, a busy database as EUNAVAILABLE.
package store
