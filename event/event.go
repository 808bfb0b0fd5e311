package event

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/equipe-dev/equipe"
)

// Version is the version of the vocabulary: the names of the kinds and the
// shapes of their states.
const Version = 1

// Type is the fixed name of a kind of event, such as "member.suspended".
type Type string

// ActorKind says what made a change.
type ActorKind string

// Actor kinds.
const (
	ActorUser        ActorKind = "user"         // a person, through a session
	ActorKey         ActorKind = "api_key"      // an account's API key
	ActorInstanceKey ActorKind = "instance_key" // an instance API key
	ActorSystem      ActorKind = "system"       // the service itself, or someone not known (a failed login)
)

// Actor is who made a change: a user, an API key (with its name at the
// time), an instance key, or the system.
type Actor struct {
	Kind ActorKind  `json:"type"`
	ID   *equipe.ID `json:"id,omitempty"`   // the user's or the key's
	Name string     `json:"name,omitempty"` // a key's name when it acted
	// Via says how a person who is not a member of the account reaches it,
	// as the audit log reads it back: who someone is to the account is
	// known when the log is read, so it is never stored.
	Via ActorVia `json:"via,omitempty"`
}

// ActorVia says how a person acts in an account they are not a member of.
type ActorVia string

// The ways into an account other than its membership.
const (
	ViaFirm     ActorVia = "firm"     // one of the staff of the account's firm
	ViaInstance ActorVia = "instance" // an instance administrator
)

// ByUser returns the actor that is the user id.
func ByUser(id equipe.ID) Actor { return Actor{Kind: ActorUser, ID: &id} }

// ByKey returns the actor that is the API key k: an account's key, or an
// instance key when it belongs to no account.
func ByKey(k *equipe.APIKey) Actor {
	id := k.ID
	kind := ActorKey
	if k.AccountID == nil {
		kind = ActorInstanceKey
	}
	return Actor{Kind: kind, ID: &id, Name: k.Name}
}

// System is the actor of what nobody in particular did.
var System = Actor{Kind: ActorSystem}

// UserID returns the actor's user, or nil when the actor is not a user.
func (a Actor) UserID() *equipe.ID {
	if a.Kind == ActorUser {
		return a.ID
	}
	return nil
}

// SubjectKind says what kind of thing an event is about.
type SubjectKind string

// Subject kinds.
const (
	SubjectUser     SubjectKind = "user"     // a member or a person: the user's ID
	SubjectAccount  SubjectKind = "account"  // the account's ID
	SubjectRole     SubjectKind = "role"     // a custom role's key
	SubjectKey      SubjectKind = "api_key"  // the key's ID
	SubjectContact  SubjectKind = "contact"  // the contact's ID
	SubjectResource SubjectKind = "resource" // the resource's ID
	SubjectSession  SubjectKind = "session"  // the session's ID
	SubjectPolicy   SubjectKind = "policy"   // the privacy policy's version
	SubjectPasskey  SubjectKind = "passkey"  // a person's passkey's ID
	SubjectWebhook  SubjectKind = "webhook"  // a webhook endpoint's ID
	// SubjectOIDCClient is an OpenID Connect client's ID.
	SubjectOIDCClient SubjectKind = "oidc_client"
	// SubjectInstance is a setting of the whole instance, by name
	// ("brand").
	SubjectInstance SubjectKind = "instance"
)

// Subject is what an event is about.
type Subject struct {
	Kind SubjectKind `json:"type"`
	ID   string      `json:"id"`
}

// Event is one change as recorded: its kind, the account whose log holds it
// (nil for a person's own identity and for the instance), who made it, what
// it is about, the states before and after (nil where there is none), where
// the request came from and when.
type Event struct {
	ID      equipe.ID
	Type    Type
	Account *equipe.ID
	Actor   Actor
	Subject Subject
	Before  State
	After   State
	IP      string
	At      time.Time
}

// State is the typed state of an event's subject before or after a change.
// Fields lists it for display, in its order of importance.
type State interface {
	Fields() []Field
}

// Kind declares a kind of event: its name, what it is about, and the types
// of its states before (B) and after (A). None stands for no state.
type Kind[B, A State] struct {
	Type    Type
	Subject SubjectKind
}

// New returns an event of the kind about subject in account (nil for none),
// with the states before and after (nil for none). The unit of work fills in
// its ID, actor, origin and time when it records it.
func (k Kind[B, A]) New(account *equipe.ID, subject string, before *B, after *A) Event {
	e := Event{Type: k.Type, Account: account, Subject: Subject{Kind: k.Subject, ID: subject}}
	if before != nil {
		e.Before = *before
	}
	if after != nil {
		e.After = *after
	}
	return e
}

// In is New for an event in an account.
func (k Kind[B, A]) In(account equipe.ID, subject string, before *B, after *A) Event {
	return k.New(&account, subject, before, after)
}

// kindInfo is what the registry knows of a kind.
type kindInfo struct {
	subject       SubjectKind
	accountLog    bool // its events are recorded in an account's log
	members       bool // of a person's own, and concern them in each account they are a member of
	before, after func([]byte) (State, error)
}

var (
	registry = map[Type]kindInfo{}
	order    []Type
	fields   = map[string]ValueKind{} // every state field's kind, by name
)

// declare registers a kind whose events an account's log records; every
// kind is declared once, at start.
func declare[B, A State](typ Type, subject SubjectKind) Kind[B, A] {
	return register[B, A](typ, subject, true, false)
}

// declareOwn registers a kind of a person's own identity or of the
// instance, whose events no account's log holds.
func declareOwn[B, A State](typ Type, subject SubjectKind) Kind[B, A] {
	return register[B, A](typ, subject, false, false)
}

// declareAboutMembers registers a kind of a person's own identity that
// changes what they may do in every account they are a member of: no
// account's log holds its events, but each of those accounts hears of them
// (its change stream and its webhooks; see MemberTypes). Its subject is the
// person.
func declareAboutMembers[B, A State](typ Type) Kind[B, A] {
	return register[B, A](typ, SubjectUser, false, true)
}

func register[B, A State](typ Type, subject SubjectKind, accountLog, members bool) Kind[B, A] {
	if _, dup := registry[typ]; dup {
		panic("event: kind " + string(typ) + " declared twice")
	}
	registry[typ] = kindInfo{subject: subject, accountLog: accountLog, members: members, before: decoder[B](),
		after: decoder[A]()}
	order = append(order, typ)
	var b B
	var a A
	for _, f := range append(b.Fields(), a.Fields()...) {
		fields[f.Name] = f.Kind
	}
	return Kind[B, A]{Type: typ, Subject: subject}
}

// decoder returns the function that reads a stored state of type S.
func decoder[S State]() func([]byte) (State, error) {
	return func(b []byte) (State, error) {
		var s S
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, err
		}
		return s, nil
	}
}

// Types returns the name of every kind, in the order they are declared
// (those of a team's life first).
func Types() []Type { return append([]Type(nil), order...) }

// AccountTypes returns the kinds an account's log records, in order.
func AccountTypes() []Type { return typesWhere(func(k kindInfo) bool { return k.accountLog }) }

// MemberTypes returns, in order, the kinds of a person's own identity that
// an account hears of about its members: they change every check about the
// person there (see declareAboutMembers).
func MemberTypes() []Type { return typesWhere(func(k kindInfo) bool { return k.members }) }

func typesWhere(keep func(kindInfo) bool) []Type {
	var out []Type
	for _, t := range order {
		if keep(registry[t]) {
			out = append(out, t)
		}
	}
	return out
}

// FieldNames returns the name of every field of every state, sorted.
func FieldNames() []string {
	out := make([]string, 0, len(fields))
	for n := range fields {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Known reports whether t names a kind.
func Known(t Type) bool {
	_, ok := registry[t]
	return ok
}

// SubjectOf returns the kind of thing events of type t are about.
func SubjectOf(t Type) (SubjectKind, bool) {
	k, ok := registry[t]
	return k.subject, ok
}

// Check reports why e cannot be recorded, or nil: its kind is declared, and
// its subject is of the kind's subject kind.
func Check(e Event) error {
	k, ok := registry[e.Type]
	if !ok {
		return fmt.Errorf("event: unknown kind %q", e.Type)
	}
	if e.Subject.Kind != k.subject {
		return fmt.Errorf("event: %s is about a %s, not a %s", e.Type, k.subject, e.Subject.Kind)
	}
	return nil
}
