// Package team holds the use cases of an account's team: the account and its
// settings, members and their invitations, administrators' password resets,
// custom roles, resources, contacts, a firm's client accounts, API keys, the
// audit log's pages and the security log, and who may do what (the permission
// checks asked by the API, the pages and the vendor's backend). Every rule
// about these lives here: nobody grants a role, permission or scope they do
// not hold; only an administrator makes an administrator; nobody acts on a
// member who holds more than they do, nor on themselves; an account keeps an
// active administrator; a required resource type keeps an assignment; an API
// key acts with at most its creator's current rights; team emails and
// additions are throttled.
//
// The rule that enforces an action is also the one that says whether it is
// offered: every view this package returns (an account, a member, a role, a
// key, a client, a contact) carries Actions, each action allowed or refused
// with the very error the action would answer. The pages and the API render
// those answers and call the same functions, so they cannot disagree. Each
// change runs in one unit of work (package work) that writes the change, its
// typed event and its emails together.
//
// Permission checks are answered from a per-process cache of compiled
// members (package access), filled from the store on a miss. Every change
// the store commits names what it touched; the cache forgets those entries
// before the change's Write returns, and other processes hear of it through
// PostgreSQL's NOTIFY.
package team
