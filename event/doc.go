// Package event is equipe's vocabulary of changes. Every change — to an
// identity, an account, a member, an invitation, a role, a key, a contact, a
// client, a resource or the settings — is one Event of a Kind declared here,
// with a fixed name ("member.suspended"), the kind of thing it is about, and
// typed states before and after. The use cases write each event in the
// transaction that makes the change (package work); the audit log is made of
// them, and the pages, the API and whatever else follows the changes read them
// back typed, through Decode.
//
// The names, the subjects and the JSON of the states are a public, versioned
// vocabulary (docs/events.md): a name never changes meaning; new fields may
// appear in a state, none disappears within a Version.
package event
