// Package servicetest assembles the use cases on a database for tests that
// call them directly, as app wires them for the service: one unit-of-work
// runner with a clock the test moves, the real email templates, a fast
// password hash, the identity and team services.
package servicetest
