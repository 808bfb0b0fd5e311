package team

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/store"
)

// Service runs the team use cases.
type Service struct {
	DB        *store.DB
	Catalogue *access.Catalogue
	// Identity makes the one-time links and emails of invitations and
	// resets, in the same transaction as the change.
	Identity *identity.Service
	Now      func() time.Time
	Rand     io.Reader
	Log      *slog.Logger

	cache *cache
}

// New returns a Service whose cache follows the store's changes.
func New(db *store.DB, cat *access.Catalogue, id *identity.Service) *Service {
	s := &Service{DB: db, Catalogue: cat, Identity: id, Now: time.Now, Rand: rand.Reader, Log: slog.New(slog.DiscardHandler),
		cache: newCache()}
	s.cache.watch(db)
	return s
}

// Actor is who asks for a change or a check: a logged-in user, or a program
// with an API key.
type Actor struct {
	User *equipe.User   // a session's user
	Key  *equipe.APIKey // an API key (account or instance)
	IP   string
}

// instance reports whether the actor acts for the whole instance: an
// instance API key, or an instance administrator's session.
func (a Actor) instance() bool {
	return (a.Key != nil && a.Key.AccountID == nil) || (a.User != nil && a.User.InstanceAdmin)
}

// actorID is the user recorded as the author of a change (nil for a key).
func (a Actor) actorID() *equipe.ID {
	if a.User != nil {
		id := a.User.ID
		return &id
	}
	return nil
}

// resolveRole returns the role with key in the account: a built-in role of
// the catalogue, or one of the account's custom roles. A role that exists
// nowhere (removed from the catalogue) grants nothing.
func (s *Service) resolveRole(ctx context.Context, q store.Queries, account equipe.ID, key string) (access.Role, bool, error) {
	if r, ok := s.Catalogue.Role(key); ok {
		return r, true, nil
	}
	cr, err := q.Role(ctx, account, key)
	switch equipe.ErrorCode(err) {
	case "":
		return customRole(cr), true, nil
	case equipe.ENOTFOUND:
		return access.Role{Key: key}, false, nil
	}
	return access.Role{}, false, err
}

// customRole turns a stored custom role into the catalogue's form.
func customRole(cr equipe.CustomRole) access.Role {
	r := access.Role{Key: cr.Key, Label: access.Label{FR: cr.LabelFR, EN: cr.LabelEN}, Restricted: cr.Restricted}
	for _, g := range cr.Grants {
		sc, _ := access.ParseScope(g.Scope)
		r.Grants = append(r.Grants, access.Grant{Permission: g.Permission, Scope: sc})
	}
	return r
}

// overrides turns stored overrides into the catalogue's form.
func overrides(os []equipe.Override) []access.Override {
	out := make([]access.Override, 0, len(os))
	for _, o := range os {
		sc, _ := access.ParseScope(o.Scope)
		out = append(out, access.Override{Permission: o.Permission, Allow: o.Allow, Scope: sc})
	}
	return out
}

// audit records an event in the transaction. before and after are encoded
// as JSON; they must never hold secrets.
func (s *Service) audit(ctx context.Context, tx *store.Tx, actor Actor, account *equipe.ID, action, targetType, targetID string, before, after any) error {
	enc := func(v any) string {
		if v == nil {
			return ""
		}
		b, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(b)
	}
	if actor.Key != nil {
		// A key has no user: the event names it in its after state.
		m, _ := after.(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		m["api_key"] = actor.Key.ID.String()
		after = m
	}
	return tx.RecordAudit(ctx, &equipe.AuditEvent{ID: equipe.NewID(), AccountID: account, ActorID: actor.actorID(),
		Action: action, TargetType: targetType, TargetID: targetID, Before: enc(before), After: enc(after),
		IP: actor.IP, At: s.Now()})
}

// notFound is the answer to anything outside the actor's reach: whether it
// exists is none of their business.
func notFound() error { return equipe.Errorf(equipe.ENOTFOUND, "error.not_found") }

// addGrantError turns a catalogue's complaint about grants or overrides into
// a field error under prefix ("permissions" or "overrides").
func addGrantError(v *equipe.Invalid, prefix string, err error) {
	var ge *access.GrantError
	if !errors.As(err, &ge) {
		v.Add(prefix, "role.permission_unknown")
		return
	}
	key := "role.scope_not_accepted"
	switch {
	case errors.Is(err, access.ErrUnknownPermission):
		key = "role.permission_unknown"
	case errors.Is(err, access.ErrDuplicateGrant):
		key = "role.permission_duplicate"
	}
	v.Add(prefix+"."+ge.Permission, key)
}

// forbidden is the answer to an actor who may see the thing but not do this.
func forbidden(key string, args map[string]any) error {
	return &equipe.Error{Code: equipe.EFORBIDDEN, Key: key, Args: args}
}
