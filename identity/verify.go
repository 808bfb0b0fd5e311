package identity

import (
	"context"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/work"
)

// VerifyLink returns the user an email-verification link is for, without
// using it. Returns ENOTFOUND with key link.invalid, link.expired or link.used.
func (s *Service) VerifyLink(ctx context.Context, secret string, o equipe.Origin) (equipe.User, error) {
	_, u, err := s.lookupToken(ctx, equipe.TokenVerify, secret, o, s.now())
	return u, err
}

// VerifyEmail uses a verification link: the user's login email is verified.
func (s *Service) VerifyEmail(ctx context.Context, secret string, o equipe.Origin) (equipe.User, error) {
	now := s.now()
	t, u, err := s.lookupToken(ctx, equipe.TokenVerify, secret, o, now)
	if err != nil {
		return u, err
	}
	err = s.Work.DoAt(ctx, now, event.ByUser(u.ID), o, func(w *work.Unit) error {
		if err := w.Consume(ctx, &t); err != nil {
			return err
		}
		if err := w.MarkEmailVerified(ctx, u.ID, now); err != nil {
			return err
		}
		return w.Record(ctx, event.UserEmailVerified.New(nil, u.ID.String(), nil, &event.Address{Email: u.Email}))
	})
	if err == nil && u.EmailVerifiedAt.IsZero() {
		u.EmailVerifiedAt = now
	}
	return u, err
}

// ResendVerification sends a new verification link (the previous one stops
// working) to a user whose email is not verified yet; a few an hour at most
// (ERATELIMITED beyond). A verified user is sent nothing: ECONFLICT
// verify.already_verified, so that a page shown before the address was
// confirmed (in another tab) does not say a link went.
func (s *Service) ResendVerification(ctx context.Context, u equipe.User, o equipe.Origin) error {
	if !u.EmailVerifiedAt.IsZero() {
		return equipe.Errorf(equipe.ECONFLICT, "verify.already_verified")
	}
	return s.Work.Do(ctx, event.ByUser(u.ID), o, func(w *work.Unit) error {
		if err := w.Limit(ctx, "verify:user:"+u.ID.String(), limitVerifyResend.Free, limitVerifyResend.Length, ""); err != nil {
			return err
		}
		link, expires, err := w.NewToken(ctx, equipe.TokenVerify, &u, nil, s.Config.VerifyTTL, "/verify-email/")
		if err != nil {
			return err
		}
		return mailPerson(ctx, w, u, mail.TemplateVerifyEmail, u.Email, mail.Data{RecipientName: u.Name(), RecipientID: u.ID, Link: link, Expires: expires})
	})
}
