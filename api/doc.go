// Package api serves the JSON API under /api/v1 and its OpenAPI document.
// Every route is listed once, in routes; each handler parses and checks the
// request, calls one use case and writes the answer. Every error is an RFC
// 9457 problem document (application/problem+json) whose "code" is the
// message key of the error and whose "errors" list per-field problems.
//
// Request bodies must be JSON (Content-Type application/json), an object, of
// bounded size, with no unknown or duplicated member names: names match
// exactly, so "Role" is not "role".
//
// Handlers decide nothing about permissions: the use case authorizes and
// judges every request. The views of an account, a member, a role, an API
// key, a client and a contact carry "actions", the use case's answer to
// which actions the caller may take on it, each with the code the action
// would be refused with (viewActions); docs/api.md describes the object.
package api
