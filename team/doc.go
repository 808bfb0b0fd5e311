// Package team holds the use cases of an account's team: who may do what
// (the permission checks asked by the API, the pages and the vendor's
// backend), custom roles, changes to a member's role, permissions and
// resources, and API keys. Every rule about granting lives here: nobody
// grants a role, permission or scope they do not hold; only an administrator
// makes an administrator; an account keeps an active administrator; a
// required resource type keeps an assignment. The API and the pages call the
// same functions, so they cannot disagree.
//
// Permission checks are answered from a per-process cache of compiled
// members (package access), filled from the store on a miss. Every change
// the store commits names what it touched; the cache forgets those entries
// before the change's Write returns, and other processes hear of it through
// PostgreSQL's NOTIFY.
package team
