// Package identity holds the use cases of a person's identity: signing up
// (and taking over an identity nobody has used, once the address confirms
// it), logging in and out, sessions, password hashing and policy, email
// normalisation, one-time links (email verification, password reset, and the
// invitations a person accepts), privacy-policy consent, throttling of failed
// attempts, and the creation of instance administrators. Every rule about
// these lives here, so the web UI and the JSON API cannot disagree.
//
// Each use case that changes something runs one unit of work (package work):
// one transaction holding the change, its typed event (with its actor: the
// person, or the system for what someone not yet known asks) and its outbox
// emails. A password-reset request is queued and answered at once, after the
// same work whether or not the address has an identity; RunResets does the
// rest.
package identity
