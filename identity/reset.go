package identity

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/mail"
)

// RequestReset sends a password-reset link to the user whose login email is
// email, if there is one. The answer is the same whether or not there is:
// nil, unless the input is malformed (EINVALID) or the client's address asked
// too often (ERATELIMITED, counted for known and unknown emails alike). Each
// address receives at most a few links an hour; requests beyond that are
// accepted and dropped. The link goes to the address stored for the user,
// never to the address as typed. A request changes nothing else: the
// password stays valid until a link is used.
func (s *Service) RequestReset(ctx context.Context, email string, o Origin) error {
	_, key, p := NormalizeEmail(email)
	if p != "" {
		return &equipe.Error{Code: equipe.EINVALID, Key: "error.fields", Fields: []equipe.FieldError{{Field: "email", Key: p}}}
	}
	now := s.Now()
	var blocked time.Duration
	err := s.write(ctx, now, o, func(tx *Tx) error {
		ok, wait, err := hit(ctx, tx.Tx, "reset:ip:"+ipKey(o.IP), limitResetIP, now)
		if err != nil || !ok {
			blocked = wait
			return err
		}
		ok, _, err = hit(ctx, tx.Tx, "reset:email:"+key, limitResetAddress, now)
		if err != nil || !ok {
			return err
		}
		u, err := tx.UserByEmailKey(ctx, key)
		if equipe.ErrorCode(err) == equipe.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		if !u.DisabledAt.IsZero() {
			return nil
		}
		link, expires, err := tx.NewToken(ctx, equipe.TokenReset, &u, nil, s.Config.ResetTTL, "/password-reset/")
		if err != nil {
			return err
		}
		if err := tx.Mail(ctx, "password_reset", u.Locale, u.Email, mail.Data{RecipientName: u.Name(), Link: link, Expires: expires}); err != nil {
			return err
		}
		return tx.Audit(ctx, nil, nil, "user.password_reset_requested", "user", u.ID.String(), nil, nil)
	})
	if err != nil {
		return err
	}
	if blocked > 0 {
		return throttled(blocked)
	}
	return nil
}

// ResetLink returns the user a password-reset link is for, without using it:
// opening the link (a GET, perhaps by a mail scanner) consumes nothing.
// Returns ENOTFOUND with key link.invalid, link.expired or link.used.
func (s *Service) ResetLink(ctx context.Context, secret string, o Origin) (equipe.User, error) {
	_, u, err := s.lookupToken(ctx, equipe.TokenReset, secret, o, s.Now())
	return u, err
}

// ConfirmReset sets a new password with a reset link's secret, and only then
// uses the link up. It ends every session of the user, supersedes their other
// reset links, forgets their failed logins, marks their email verified (the
// link proved they read it) and tells them by email that the password
// changed. A password that breaks a rule answers EINVALID and leaves the link
// usable.
func (s *Service) ConfirmReset(ctx context.Context, secret, password string, o Origin) (equipe.User, error) {
	now := s.Now()
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
	err = s.write(ctx, now, o, func(tx *Tx) error {
		if err := tx.Consume(ctx, &t); err != nil {
			return err
		}
		return tx.SetNewPassword(ctx, &u, hash, "user.password_reset")
	})
	return u, err
}

// SetNewPassword stores a new password hash and does what every password change
// entails: other reset links stop working, every session ends, failed logins
// are forgotten, the user is told by email.
func (tx *Tx) SetNewPassword(ctx context.Context, u *equipe.User, hash, action string) error {
	if err := tx.SetPassword(ctx, u.ID, hash, tx.now); err != nil {
		return err
	}
	if err := tx.MarkEmailVerified(ctx, u.ID, tx.now); err != nil {
		return err
	}
	if err := tx.SupersedeTokens(ctx, u.ID, equipe.TokenReset, tx.now); err != nil {
		return err
	}
	ended, err := tx.DeleteUserSessions(ctx, u.ID)
	if err != nil {
		return err
	}
	if err := tx.DeleteThrottle(ctx, "login:email:"+u.EmailKey); err != nil {
		return err
	}
	if err := tx.Mail(ctx, "password_changed", u.Locale, u.Email, mail.Data{RecipientName: u.Name()}); err != nil {
		return err
	}
	return tx.Audit(ctx, nil, &u.ID, action, "user", u.ID.String(), nil, map[string]any{"sessions_ended": ended})
}
