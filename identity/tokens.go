package identity

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
)

// LinkError keys: what a person opening a one-time link is told.
const (
	linkInvalid = "link.invalid" // unknown: mistyped or cut
	linkExpired = "link.expired"
	linkUsed    = "link.used" // used, or replaced by a newer link
)

// lookupToken returns the usable token of kind whose secret is secret, with
// its user. Unknown secrets count against the client's address, so that
// guessing is throttled (the secrets have 256 bits; this keeps logs quiet).
// Returns ENOTFOUND with the key linkInvalid, linkExpired or linkUsed, or
// ERATELIMITED.
func (s *Service) lookupToken(ctx context.Context, kind equipe.TokenKind, secret string, o Origin, now time.Time) (equipe.Token, equipe.User, error) {
	notFound := func(key string) error { return &equipe.Error{Code: equipe.ENOTFOUND, Key: key} }
	var t equipe.Token
	var err error
	if plausibleSecret(secret) {
		t, err = s.DB.TokenByHash(ctx, HashSecret(secret))
		if err != nil && equipe.ErrorCode(err) != equipe.ENOTFOUND {
			return t, equipe.User{}, err
		}
	}
	if !plausibleSecret(secret) || err != nil || t.Kind != kind {
		var blocked time.Duration
		werr := s.write(ctx, now, o, func(tx *Tx) error {
			ok, wait, err := hit(ctx, tx.Tx, "token:ip:"+ipKey(o.IP), limitTokenIP, now)
			if !ok {
				blocked = wait
			}
			return err
		})
		if werr != nil {
			return t, equipe.User{}, werr
		}
		if blocked > 0 {
			return t, equipe.User{}, throttled(blocked)
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

// Consume marks the token used in the transaction; of two concurrent uses
// one wins and the other gets ENOTFOUND linkUsed.
func (tx *Tx) Consume(ctx context.Context, t *equipe.Token) error {
	err := tx.UseToken(ctx, t.ID, tx.now)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return &equipe.Error{Code: equipe.ENOTFOUND, Key: linkUsed}
	}
	return err
}
