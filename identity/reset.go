package identity

import (
	"cmp"
	"context"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/work"
)

// RequestReset asks for a password-reset link to be sent to the user whose
// login email is email, if there is one. The answer is the same, and comes
// after the same work, whether or not there is: nil, unless the input is
// malformed (EINVALID) or the client's address asked too often
// (ERATELIMITED, counted for known and unknown emails alike). The request
// is queued and answered at once; ProcessResets looks the address up, makes
// the link and queues the email afterwards, so that how long the answer
// takes tells nothing either. Each address receives at most a few links an
// hour; requests beyond that are accepted and dropped. The link goes to the
// address stored for the user, never to the address as typed. A request
// changes nothing else: the password stays valid until a link is used.
func (s *Service) RequestReset(ctx context.Context, email string, o equipe.Origin) error {
	_, key, p := NormalizeEmail(email)
	if p != "" {
		return &equipe.Error{Code: equipe.EINVALID, Key: "error.fields", Fields: []equipe.FieldError{{Field: "email", Key: p}}}
	}
	var blocked error
	queued := false
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
		queued = true
		return w.QueueResetRequest(ctx, &store.ResetRequest{ID: equipe.NewID(), EmailKey: key, IP: o.IP, CreatedAt: w.Now()})
	})
	if err != nil {
		return err
	}
	if queued {
		s.wakeResets()
	}
	return blocked
}

// ProcessResets handles the queued password-reset requests, each in a unit
// of its own: the request leaves the queue in the unit that sends its
// email, so that it is handled once, and again after a crash if its unit did
// not commit. It returns how many it handled.
func (s *Service) ProcessResets(ctx context.Context) (int, error) {
	n := 0
	for ctx.Err() == nil {
		done := false
		err := s.Work.Do(ctx, event.System, equipe.Origin{}, func(w *work.Unit) error {
			r, err := w.TakeResetRequest(ctx)
			if equipe.ErrorCode(err) == equipe.ENOTFOUND {
				done = true
				return nil
			} else if err != nil {
				return err
			}
			return s.sendReset(ctx, w, r)
		})
		if err != nil {
			return n, err
		}
		if done {
			return n, nil
		}
		n++
	}
	return n, ctx.Err()
}

// sendReset makes the link of a queued request and queues its email, for
// an address that has an identity not disabled; any other request ends
// here, leaving no trace but the throttles it counted.
func (s *Service) sendReset(ctx context.Context, w *work.Unit, r store.ResetRequest) error {
	u, err := w.UserByEmailKey(ctx, r.EmailKey)
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
	if err := mailPerson(ctx, w, u, mail.TemplatePasswordReset, u.Email, mail.Data{RecipientName: u.Name(), RecipientID: u.ID, Link: link, Expires: expires}); err != nil {
		return err
	}
	return work.Record(ctx, w.Writes, w.Now(), event.System, equipe.Origin{IP: r.IP},
		event.UserPasswordResetRequested.New(nil, u.ID.String(), nil, nil))
}

// wakeResets tells RunResets that a request is queued.
func (s *Service) wakeResets() {
	select {
	case s.resets <- struct{}{}:
	default:
	}
}

// resetSweep is how often RunResets looks at the queue without being told:
// requests a process queued before it stopped are handled by another, or
// after a restart, within it.
const resetSweep = 5 * time.Second

// RunResets handles queued password-reset requests until ctx is done: at
// once when this process queues one, and every resetSweep otherwise.
func (s *Service) RunResets(ctx context.Context) {
	t := time.NewTicker(resetSweep)
	defer t.Stop()
	for {
		if _, err := s.ProcessResets(ctx); err != nil && ctx.Err() == nil {
			s.Log.Error("password-reset requests", "err", err)
		}
		if s.ResetsSwept != nil {
			s.ResetsSwept()
		}
		select {
		case <-ctx.Done():
			return
		case <-s.resets:
		case <-t.C:
		}
	}
}

// ResetLink returns the user a password-reset link is for, without using it:
// opening the link (a GET, perhaps by a mail scanner) consumes nothing.
// Returns ENOTFOUND with key link.invalid, link.expired or link.used (and
// link.invalid for an identity the instance disabled).
func (s *Service) ResetLink(ctx context.Context, secret string, o equipe.Origin) (equipe.User, error) {
	_, u, err := s.resetToken(ctx, secret, o, s.now())
	return u, err
}

// resetToken looks up a reset link's token and its user. A link sent
// before the instance disabled the identity is link.invalid: no reset
// link is sent to a disabled identity, and none sent before serves.
func (s *Service) resetToken(ctx context.Context, secret string, o equipe.Origin, now time.Time) (equipe.Token, equipe.User, error) {
	t, u, err := s.lookupToken(ctx, equipe.TokenReset, secret, o, now)
	if err == nil && !u.DisabledAt.IsZero() {
		return equipe.Token{}, equipe.User{}, &equipe.Error{Code: equipe.ENOTFOUND, Key: linkInvalid}
	}
	return t, u, err
}

// ConfirmReset sets a new password with a reset link's secret, and only then
// uses the link up. It ends every session of the user, supersedes their other
// reset links, forgets their failed logins, marks their email verified (the
// link proved they read it) and tells them by email that the password
// changed, and withdraws a pending login email change. A password that
// breaks a rule answers EINVALID and leaves the link usable.
func (s *Service) ConfirmReset(ctx context.Context, secret, password string, o equipe.Origin) (equipe.User, error) {
	now := s.now()
	t, u, err := s.resetToken(ctx, secret, o, now)
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
		if err := s.setNewPassword(ctx, w, &u, hash); err != nil {
			return err
		}
		// Whoever asked to change the login email may not be the person
		// who just proved they read it.
		_, err := s.withdrawEmailChange(ctx, w, u.ID, reasonEmailChangeReset)
		return err
	})
	return u, err
}

// setNewPassword stores a new password hash and does what every password
// change entails: other reset links stop working, every session ends (and
// every login waiting for its second step), failed logins are forgotten,
// the user is told by email.
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
	// A login begun with the old password and waiting for its second step
	// ends with the other sessions.
	if err := w.RevokeLoginChallenges(ctx, u.ID, w.Now()); err != nil {
		return err
	}
	if err := w.DeleteThrottle(ctx, "login:email:"+u.EmailKey); err != nil {
		return err
	}
	keys, err := s.activeKeys(ctx, w, u.ID)
	if err != nil {
		return err
	}
	if err := mailPerson(ctx, w, *u, mail.TemplatePasswordChanged, u.Email, mail.Data{RecipientName: u.Name(), RecipientID: u.ID, Keys: keys}); err != nil {
		return err
	}
	return w.Record(ctx, event.UserPasswordReset.New(nil, u.ID.String(), nil, &event.Sessions{Ended: int(ended)}))
}

// setFirstPassword stores the first password of an identity that had none
// (set through an invitation or a sign-up confirmation): a reset link may
// have gone to it before, and like any password change, this one ends them.
// An identity that has a password by now (another link used at the same
// time) answers refusal, and keeps it.
func setFirstPassword(ctx context.Context, w *work.Unit, user equipe.ID, hash string, refusal error) error {
	err := w.SetFirstPassword(ctx, user, hash, w.Now())
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return refusal
	} else if err != nil {
		return err
	}
	return w.SupersedeTokens(ctx, user, equipe.TokenReset, w.Now())
}

// mailPerson queues an email to u about their identity, to the address to,
// in the language mailLocale says.
func mailPerson(ctx context.Context, w *work.Unit, u equipe.User, template, to string, d mail.Data) error {
	locale, err := mailLocale(ctx, w, u)
	if err != nil {
		return err
	}
	return w.Mail(ctx, template, locale, to, d)
}

// mailLocale is the language of an email to u about their identity: their
// own. An identity an account added has none until its owner joins or
// chooses one; it is written to as the account wrote its invitation: in the
// language the account that added it last chose for its emails, else in
// that account's. "" (the instance's default) for an identity in no account.
func mailLocale(ctx context.Context, w *work.Unit, u equipe.User) (string, error) {
	if u.Locale != "" {
		return u.Locale, nil
	}
	ms, err := w.AccountsOfUser(ctx, u.ID)
	if err != nil {
		return "", err
	}
	var last *equipe.MemberAccount
	for i := range ms {
		if last == nil || ms[i].Member.CreatedAt.After(last.Member.CreatedAt) {
			last = &ms[i]
		}
	}
	if last == nil {
		return "", nil
	}
	return cmp.Or(validLocale(last.Member.Locale), validLocale(last.Account.Locale)), nil
}

// activeKeys lists for an email the API keys the user made that are not
// revoked, each with the page where it can be revoked.
func (s *Service) activeKeys(ctx context.Context, w *work.Unit, user equipe.ID) ([]mail.KeyNotice, error) {
	keys, err := w.ActiveKeysCreatedBy(ctx, user)
	if err != nil {
		return nil, err
	}
	var out []mail.KeyNotice
	for _, k := range keys {
		n := mail.KeyNotice{Name: k.Name, Prefix: k.Prefix, Link: s.Work.Link("/admin/api-keys/" + k.ID.String() + "/revoke")}
		if k.AccountID != nil {
			acct, err := w.AccountByID(ctx, *k.AccountID)
			if err != nil {
				return nil, err
			}
			n.Account = acct.Name
			n.Link = s.Work.Link("/accounts/" + acct.ID.String() + "/api-keys/" + k.ID.String() + "/revoke")
		}
		out = append(out, n)
	}
	return out, nil
}
