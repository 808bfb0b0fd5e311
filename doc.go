// Package equipe holds the domain types shared by every part of the service:
// users, accounts, members, resources, sessions, one-time tokens, consents,
// audit events and outgoing email, and the one error type with codes that the
// web UI and the JSON API translate into pages and problem details.
//
// The packages below it are the use cases (identity, team) with the rules
// they apply (access: permissions) and the units of work they run in (work),
// the vocabulary of change events (event), the adapters (store, web, api,
// mail, httpauth), the one table of errors (problem), and the wiring (app,
// server, cmd/equipe); docs/architecture.md shows how a request flows
// through them. Nothing here does I/O.
package equipe
