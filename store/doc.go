// Package store keeps equipe's state in SQL, on SQLite (the embedded default,
// through the pure-Go modernc.org/sqlite driver) or on PostgreSQL (through
// pgx). Both engines run the same query texts; the few dialect differences
// live in dialect. Migrations are embedded, numbered and forward-only, one
// folder per engine.
//
// Reads go through DB; every change goes through DB.Write, one transaction
// that a unit of work (package work) fills with the change, its event and
// its outbox emails. Writes that change who may do what name what they
// touched with change keys (MemberKey, AccountKey…): once the transaction
// commits, OnChange hooks hear them in this process, and on PostgreSQL the
// other processes hear them through NOTIFY (Listen).
//
// Times are stored as microseconds since the Unix epoch in BIGINT columns on
// both engines, so that one query text compares them everywhere.
//
// Not found is reported as an equipe.Error with code ENOTFOUND, a unique
// constraint violation as ECONFLICT, a busy or unreachable database as
// EUNAVAILABLE.
package store
