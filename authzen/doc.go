// Package authzen serves the OpenID AuthZEN Authorization API 1.0: access
// evaluation (one question, and a batch with its three semantics), the
// subject, resource and action searches, and the policy decision point's
// metadata at /.well-known/authzen-configuration.
//
// It is a thin adapter: it reads the protocol's entities, maps them to
// equipe's model (docs/authzen.md says how), and asks the team use cases,
// whose Check is the one decision of POST /api/v1/check too. It never reads
// the store.
package authzen
