package identity

import (
	"context"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/work"
)

// RequestReset sends a password-reset link to the user whose login email is
// email, if there is one. The answer is the same whether or not there is:
// nil, unless the input is malformed (EINVALID) or the client's address asked
// too often (ERATELIMITED, counted for known and unknown emails alike). Each
// address receives at most a few links an hour; requests beyond that are
// accepted and dropped. The link goes to the address stored for the user,
// never to the address as typed. A request changes nothing else: the
// password stays valid until a link is used.
func (s *Service) RequestReset(ctx context.Context, email string, o equipe.Origin) error {
	_, key, p := NormalizeEmail(email)
	if p != "" {
		return &equipe.Error{Code: equipe.EINVALID, Key: "error.fields", Fields: []equipe.FieldError{{Field: "email", Key: p}}}
	}
	var blocked error
	err := s.Work.Do(ctx, event.System, o, func(w *work.Unit) error {
		if err := w.Limit(ctx, "reset:ip:"+ipKey(o.IP), limitResetIP.Free, limitResetIP.Length, ""); err != nil {
			if equipe.ErrorCode(err) == equipe.ERATELIMITED {
				blocked = err
				return nil
			}
			return err
		}
		ok, _, err := w.Hit(ctx, "reset:email:"+key, limitResetAddress.Free, limitResetAddress.Length)
		if err != nil || !ok {
			return err
		}
		u, err := w.UserByEmailKey(ctx, key)
		if equipe.ErrorCode(err) == equipe.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		if !u.DisabledAt.IsZero() {
			return nil
		}
		link, expires, err := w.NewToken(ctx, equipe.TokenReset, &u, nil, s.Config.ResetTTL, "/password-reset/")
		if err != nil {
			return err
		}
		if err := w.Mail(ctx, mail.TemplatePasswordReset, u.Locale, u.Email, mail.Data{RecipientName: u.Name(), Link: link, Expires: expires}); err != nil {
			return err
		}
		return w.Record(ctx, event.UserPasswordResetRequested.New(nil, u.ID.String(), nil, nil))
	})
	if err != nil {
		return err
	}
	return blocked
}

// ResetLink returns the user a password-reset link is for, without using it:
// opening the link (a GET, perhaps by a mail scanner) consumes nothing.
// Returns ENOTFOUND with key link.invalid, link.expired or link.used.
func (s *Service) ResetLink(ctx context.Context, secret string, o equipe.Origin) (equipe.User, error) {
	_, u, err := s.lookupToken(ctx, equipe.TokenReset, secret, o, s.now())
	return u, err
}

// ConfirmReset sets a new password with a reset link's secret, and only then
// uses the link up. It ends every session of the user, supersedes their other
// reset links, forgets their failed logins, marks their email verified (the
// link proved they read it) and tells them by email that the password
// changed. A password that breaks a rule answers EINVALID and leaves the link
// usable.
func (s *Service) ConfirmReset(ctx context.Context, secret, password string, o equipe.Origin) (equipe.User, error) {
	now := s.now()
	t, u, err := s.lookupToken(ctx, equipe.TokenReset, secret, o, now)
	if err != nil {
		return u, err
	}
	var v equipe.Invalid
	CheckNewPassword(&v, password, u.Email, u.FirstName, u.LastName)
	if err := v.Err(); err != nil {
		return u, err
	}
	hash := s.Hasher.Hash(password)
	err = s.Work.DoAt(ctx, now, event.ByUser(u.ID), o, func(w *work.Unit) error {
		if err := w.Consume(ctx, &t); err != nil {
			return err
		}
		return s.setNewPassword(ctx, w, &u, hash)
	})
	return u, err
}

// setNewPassword stores a new password hash and does what every password
// change entails: other reset links stop working, every session ends, failed
// logins are forgotten, the user is told by email.
func (s *Service) setNewPassword(ctx context.Context, w *work.Unit, u *equipe.User, hash string) error {
	if err := w.SetPassword(ctx, u.ID, hash, w.Now()); err != nil {
		return err
	}
	if err := w.MarkEmailVerified(ctx, u.ID, w.Now()); err != nil {
		return err
	}
	if err := w.SupersedeTokens(ctx, u.ID, equipe.TokenReset, w.Now()); err != nil {
		return err
	}
	ended, err := w.DeleteUserSessions(ctx, u.ID)
	if err != nil {
		return err
	}
	if err := w.DeleteThrottle(ctx, "login:email:"+u.EmailKey); err != nil {
		return err
	}
	if err := w.Mail(ctx, mail.TemplatePasswordChanged, u.Locale, u.Email, mail.Data{RecipientName: u.Name()}); err != nil {
		return err
	}
	return w.Record(ctx, event.UserPasswordReset.New(nil, u.ID.String(), nil, &event.Sessions{Ended: int(ended)}))
}
