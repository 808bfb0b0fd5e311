package team

import (
	"context"
	"sync"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/store"
)

// Security log: requests refused across tenants, for the instance's
// administrators. The records name identifiers only (who, which account,
// what for); an attacker probing accounts cannot fill the database with
// them: each process records an actor's refusals about one account at most
// once a minute, and at most securityPerMinute refusals a minute in all.
const (
	securityPerMinute = 100
	// SecurityCrossTenant is the kind of a request about an account out of
	// the actor's reach.
	SecurityCrossTenant = "cross_tenant"
)

// securityLimiter decides which refusals are recorded.
type securityLimiter struct {
	mu     sync.Mutex
	window time.Time
	count  int
	seen   map[[2]equipe.ID]bool // (actor, account) recorded in this window
}

// allow reports whether the refusal of actor about account at now is
// recorded.
func (l *securityLimiter) allow(actor, account equipe.ID, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if w := now.Truncate(time.Minute); !w.Equal(l.window) {
		l.window, l.count, l.seen = w, 0, map[[2]equipe.ID]bool{}
	}
	k := [2]equipe.ID{actor, account}
	if l.seen[k] || l.count >= securityPerMinute {
		return false
	}
	l.seen[k] = true
	l.count++
	return true
}

// refusedAcross records, within the limits, that the actor asked for what
// about an account that exists but is out of their reach. A failure to
// record is logged, never the request's.
func (s *Service) refusedAcross(ctx context.Context, actor Actor, account equipe.ID, what string) {
	a := actor.recorded()
	if a.ID == nil || actor.instance() {
		return
	}
	acct, err := s.loadAccount(ctx, account)
	if err != nil || acct.a == nil {
		return
	}
	// Within reach, a refusal is a matter of permissions, not of tenants.
	if m, _, err := s.actorMember(ctx, actor, account); err != nil || m != nil {
		return
	}
	now := s.now()
	if !s.security.allow(*a.ID, account, now) {
		return
	}
	e := store.SecurityEvent{ID: equipe.NewID(), Kind: SecurityCrossTenant, ActorType: string(a.Kind), ActorID: a.ID,
		AccountID: &account, What: what, At: now}
	if err := s.DB.RecordSecurityEvent(context.WithoutCancel(ctx), &e); err != nil {
		s.Log.Warn("record a refusal across tenants", "err", err)
	}
}

// SecurityEvent is a record of the security log.
type SecurityEvent struct {
	ID      equipe.ID
	Kind    string
	Actor   event.Actor // a user or a key, by ID only
	Account *equipe.ID
	What    string // the permission or operation asked for
	At      time.Time
}

// SecurityLog returns a page of the security log, newest first, before the
// cursor (nil: the newest), with the cursor of the next page. Only the
// instance (an instance administrator or an instance key) reads it.
func (s *Service) SecurityLog(ctx context.Context, actor Actor, p equipe.Page) ([]SecurityEvent, string, error) {
	const list = "security_events"
	if !actor.instance() {
		return nil, "", notFound()
	}
	if err := p.Check(); err != nil {
		return nil, "", err
	}
	before, err := p.KeyID(list)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.DB.SecurityEvents(ctx, before, p.Limit+1)
	if err != nil {
		return nil, "", err
	}
	rows, next := equipe.Cut(rows, p, list, func(e store.SecurityEvent) []string { return []string{e.ID.String()} })
	out := make([]SecurityEvent, 0, len(rows))
	for _, r := range rows {
		out = append(out, SecurityEvent{ID: r.ID, Kind: r.Kind, Actor: event.Actor{Kind: event.ActorKind(r.ActorType), ID: r.ActorID},
			Account: r.AccountID, What: r.What, At: r.At})
	}
	return out, next, nil
}
