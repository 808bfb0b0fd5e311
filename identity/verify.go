package identity

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/mail"
)

// VerifyLink returns the user an email-verification link is for, without
// using it. Returns ENOTFOUND with key link.invalid, link.expired or link.used.
func (s *Service) VerifyLink(ctx context.Context, secret string, o Origin) (equipe.User, error) {
	_, u, err := s.lookupToken(ctx, equipe.TokenVerify, secret, o, s.Now())
	return u, err
}

// VerifyEmail uses a verification link: the user's login email is verified.
func (s *Service) VerifyEmail(ctx context.Context, secret string, o Origin) (equipe.User, error) {
	now := s.Now()
	t, u, err := s.lookupToken(ctx, equipe.TokenVerify, secret, o, now)
	if err != nil {
		return u, err
	}
	err = s.write(ctx, now, o, func(tx *Tx) error {
		if err := tx.Consume(ctx, &t); err != nil {
			return err
		}
		if err := tx.MarkEmailVerified(ctx, u.ID, now); err != nil {
			return err
		}
		return tx.Audit(ctx, nil, &u.ID, "user.email_verified", "user", u.ID.String(), nil, map[string]any{"email": u.Email})
	})
	if err == nil && u.EmailVerifiedAt.IsZero() {
		u.EmailVerifiedAt = now
	}
	return u, err
}

// ResendVerification sends a new verification link (the previous one stops
// working) to a user whose email is not verified yet; a few an hour at most
// (ERATELIMITED beyond). A verified user gets nothing and no error.
func (s *Service) ResendVerification(ctx context.Context, u equipe.User, o Origin) error {
	if !u.EmailVerifiedAt.IsZero() {
		return nil
	}
	now := s.Now()
	var blocked time.Duration
	err := s.write(ctx, now, o, func(tx *Tx) error {
		ok, wait, err := hit(ctx, tx.Tx, "verify:user:"+u.ID.String(), limitVerifyResend, now)
		if err != nil || !ok {
			blocked = wait
			return err
		}
		link, expires, err := tx.NewToken(ctx, equipe.TokenVerify, &u, nil, s.Config.VerifyTTL, "/verify-email/")
		if err != nil {
			return err
		}
		return tx.Mail(ctx, "verify_email", u.Locale, u.Email, mail.Data{RecipientName: u.Name(), Link: link, Expires: expires})
	})
	if err != nil {
		return err
	}
	if blocked > 0 {
		return throttled(blocked)
	}
	return nil
}
