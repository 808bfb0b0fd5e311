// Package scim serves SCIM 2.0 (RFC 7643, RFC 7644) per account under
// /scim/v2/: a directory (Microsoft Entra ID, Okta) creates, updates,
// suspends, reactivates and removes an account's members as Users, and
// changes their roles through Groups, one per role of the account.
//
// It is an adapter and nothing more: it authenticates the account's SCIM
// key, translates the protocol's resources, filters and patches, and hands
// every change to the team use cases, which apply the same rules as the
// pages and the API (granting, last administrator, throttles) and record
// each change with the key as its actor. Filters are parsed by
// github.com/scim2/filter-parser.
package scim
