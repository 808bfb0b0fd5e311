// Package idempotency keeps the first answer to an API request sent with an
// Idempotency-Key header (IETF draft "The Idempotency-Key HTTP Header
// Field"), so that a client retrying after a lost answer gets that answer
// again instead of making the change twice.
//
// A key belongs to its caller (an API key, or a person's sessions) and is
// kept 24 hours. The request is claimed in the database before it runs, in
// one statement, so that concurrent retries run it once: the others are
// told it is in progress. Its answer is stored after the use case has
// committed; a process that stops between the two leaves a claim that runs
// out after Lease, and a retry then runs the request again (see
// docs/api.md).
package idempotency
