package identity

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/work"
)

// LinkError keys: what a person opening a one-time link is told.
const (
	linkInvalid = "link.invalid" // unknown: mistyped or cut
	linkExpired = "link.expired"
	linkUsed    = work.LinkUsed // used, or replaced by a newer link
)

// lookupToken returns the usable token of kind whose secret is secret, with
// its user. Unknown secrets count against the client's address, so that
// guessing is throttled (the secrets have 256 bits; this keeps logs quiet).
// Returns ENOTFOUND with the key linkInvalid, linkExpired or linkUsed, or
// ERATELIMITED.
func (s *Service) lookupToken(ctx context.Context, kind equipe.TokenKind, secret string, o equipe.Origin, now time.Time) (equipe.Token, equipe.User, error) {
	notFound := func(key string) error { return &equipe.Error{Code: equipe.ENOTFOUND, Key: key} }
	var t equipe.Token
	var err error
	if work.PlausibleSecret(secret) {
		t, err = s.DB.TokenByHash(ctx, work.HashSecret(secret))
		if err != nil && equipe.ErrorCode(err) != equipe.ENOTFOUND {
			return t, equipe.User{}, err
		}
	}
	if !work.PlausibleSecret(secret) || err != nil || t.Kind != kind {
		werr := s.Work.DoAt(ctx, now, event.System, o, func(u *work.Unit) error {
			return u.Limit(ctx, "token:ip:"+ipKey(o.IP), limitTokenIP.Free, limitTokenIP.Length, "")
		})
		if werr != nil {
			return t, equipe.User{}, werr
		}
		return t, equipe.User{}, notFound(linkInvalid)
	}
	switch {
	case !t.UsedAt.IsZero() || !t.SupersededAt.IsZero():
		return t, equipe.User{}, notFound(linkUsed)
	case !now.Before(t.ExpiresAt):
		return t, equipe.User{}, notFound(linkExpired)
	}
	u, err := s.DB.UserByID(ctx, t.UserID)
	if err != nil {
		return t, u, err
	}
	return t, u, nil
}
