// Package equipe holds the domain types shared by every part of the service:
// users, accounts, members, resources, sessions, one-time tokens, consents,
// audit events and outgoing email, and the one error type with codes that the
// web UI and the JSON API translate into pages and problem details.
//
// The packages below it are the use cases (identity, team), the adapters
// (store, web, api, mail) and the wiring (cmd/equipe). Nothing here does I/O.
package equipe
