// Package access holds equipe's permission model: the catalogue of
// permissions, resource types, built-in roles and job titles (a YAML file a
// vendor may replace, with a default embedded), the evaluation that answers
// "may this member do this, here?", and the pure rules the use cases apply
// when someone grants permissions (nobody grants more than they hold; a
// required resource type keeps an assignment).
//
// The package does no I/O beyond reading the catalogue file in Load: the
// store gathers a member's role, overrides, resources and status, Compile
// turns them into a Member of dense bitsets once, and Check then answers in
// a few loads and compares, without allocating, so the service can answer
// its check API from a per-process cache of compiled members. Evaluation
// denies by default, and a change of the catalogue never widens anyone's
// access: permissions it no longer declares are denied everywhere, and
// scopes it no longer accepts narrow.
package access
