// Package identity holds the use cases of a person's identity: signing up,
// logging in and out, sessions, password hashing and policy, email
// normalisation, one-time links (email verification, password reset),
// privacy-policy consent, throttling of failed attempts, and the creation of
// instance administrators. Every rule about these lives here, so the web UI
// and the JSON API cannot disagree.
//
// Each use case that changes something runs one store transaction holding the
// change, its audit event and its outbox emails.
package identity
