// Package apptest runs the whole service for end-to-end tests: a real HTTP
// server on a loopback port, on a fresh SQLite or PostgreSQL database, with
// the development mailbox, a fast password hash and every log line kept for
// inspection.
package apptest
