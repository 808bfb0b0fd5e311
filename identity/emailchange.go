package identity

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/work"
)

// A login email change, as docs/security.md describes it: the person asks
// for it with their current password; the new address gets a link that
// confirms it (the login email changes only then); the old address is told
// at once, with a link that cancels the change and ends every session. That
// link keeps working for EmailCancelTTL even once the change is confirmed:
// it then gives the identity its old address back. The confirmation tells
// the old address again, with a fresh link of the same kind.

// Link paths of an email change. Their last segment is the secret
// (httpauth.RedactPath cuts it from logs).
const (
	emailChangeConfirmPath = "/email-change/confirm/"
	emailChangeCancelPath  = "/email-change/cancel/"
)

// Message keys of an email change's refusals and reasons.
const (
	keyEmailChangeNone     = "email_change.none"
	keyEmailChangeSame     = "email_change.same"
	keyPasswordRequired    = "email_change.password_required"
	keyPasswordWrong       = "email_change.password_wrong"
	keyCodeRequired        = "email_change.code_required"
	keyPasskeyRequired     = "email_change.passkey_required"
	keyFactorRequired      = "email_change.code_or_passkey_required"
	keyPasskeyFailed       = "email_change.passkey_failed"
	reasonEmailChangeReset = "email_change.withdrawn_by_reset"
)

// EmailChange is a login email change waiting for the new address to
// confirm it.
type EmailChange struct {
	NewEmail    string
	RequestedAt time.Time // when the link now valid was sent
	ExpiresAt   time.Time // when that link stops working
}

// EmailChangeRequest is what a person gives to change their login email.
type EmailChangeRequest struct {
	NewEmail        string
	CurrentPassword string
	// Code is a code of the person's authenticator app, or one of their
	// recovery codes; Passkey the browser's answer (the JSON of the
	// PublicKeyCredential of navigator.credentials.get()) to a ceremony
	// begun by BeginEmailChangePasskey. A person with a second factor gives
	// one of them, as EmailChangeMethods says: a code for an authenticator
	// app, an answer for passkeys, either when they have both.
	Code    string
	Passkey []byte
}

// EmailChangeMethods returns how the person confirms a login email change
// beyond their password: the methods of a login's second step
// (SecondStepMethods: MethodTOTP and MethodRecoveryCode for an
// authenticator app, MethodPasskey for passkeys where they can be used);
// none for a person without a second factor.
func (s *Service) EmailChangeMethods(ctx context.Context, userID equipe.ID) ([]string, error) {
	f, err := s.DB.Factors(ctx, userID)
	if err != nil {
		return nil, err
	}
	return SecondStepMethods(f, s.rp != nil), nil
}

// confirmsEmailChange is what a passkey ceremony begun by
// BeginEmailChangePasskey confirms.
const confirmsEmailChange = "email_change"

// BeginEmailChangePasskey starts confirming a login email change with one
// of the person's passkeys, and returns the options for the browser's
// navigator.credentials.get(): their passkeys allowed, user verification
// preferred, as at a login's second step (the password is asked too).
// ECONFLICT "passkey.unavailable" where passkeys cannot be used, ENOTFOUND
// "passkey.none" for a person without one; ceremonies are throttled per
// person with the others.
func (s *Service) BeginEmailChangePasskey(ctx context.Context, a Auth, o equipe.Origin) (*protocol.CredentialAssertion, error) {
	if s.rp == nil {
		return nil, passkeysUnavailable
	}
	var assertion *protocol.CredentialAssertion
	err := s.Work.Do(ctx, event.ByUser(a.User.ID), o, func(w *work.Unit) error {
		if err := w.Limit(ctx, "passkey:user:"+a.User.ID.String(), limitPasskeyCeremony.Free, limitPasskeyCeremony.Length, ""); err != nil {
			return err
		}
		keys, err := w.Passkeys(ctx, a.User.ID)
		if err != nil {
			return err
		}
		if len(keys) == 0 {
			return &equipe.Error{Code: equipe.ENOTFOUND, Key: "passkey.none"}
		}
		creds, err := credentials(keys)
		if err != nil {
			return err
		}
		var session *webauthn.SessionData
		assertion, session, err = s.rp.BeginLogin(passkeyUser{u: a.User, creds: creds},
			webauthn.WithUserVerification(protocol.VerificationPreferred))
		if err != nil {
			return err
		}
		uid := a.User.ID
		return beginCeremonyData(ctx, w, purposeSecondFactor, &uid, ceremonyData{Session: *session, Confirms: confirmsEmailChange})
	})
	return assertion, err
}

// checkEmailChangePasskey checks the browser's answer to a ceremony begun
// by BeginEmailChangePasskey for u, as a passkey second step is checked
// (signature, origin, counter; the passkey must be theirs), and records
// the passkey's use. The ceremony serves once, whatever the outcome. A
// failure answers EINVALID (field passkey, key email_change.passkey_failed)
// and is recorded as a failed second factor.
func (s *Service) checkEmailChangePasskey(ctx context.Context, u equipe.User, answer []byte, o equipe.Origin) error {
	refused := codeInvalidField("passkey", keyPasskeyFailed)
	parsed, err := protocol.ParseCredentialRequestResponseBytes(answer)
	if err != nil {
		return refused
	}
	failed := false
	err = s.Work.Do(ctx, event.ByUser(u.ID), o, func(w *work.Unit) error {
		d, uid, err := takeCeremony(ctx, w, purposeSecondFactor, parsed.Response.CollectedClientData.Challenge)
		if equipe.ErrorCode(err) == equipe.ENOTFOUND || (err == nil && (uid == nil || *uid != u.ID ||
			d.Confirms != confirmsEmailChange || d.Login != nil)) {
			failed = true
			return w.Record(ctx, event.UserSecondFactorFailed.New(nil, u.ID.String(), nil, nil))
		} else if err != nil {
			return err
		}
		if _, _, err := s.verifyAssertion(ctx, w, d.Session, parsed, &u.ID, true); equipe.ErrorCode(err) == equipe.EUNAUTHORIZED {
			failed = true
			return nil // the ceremony is used up, the failure recorded
		} else if err != nil {
			return err
		}
		return nil
	})
	if err == nil && failed {
		return refused
	}
	return err
}

// PendingEmailChange returns the user's email change waiting for its
// confirmation, or ENOTFOUND with key email_change.none.
func (s *Service) PendingEmailChange(ctx context.Context, userID equipe.ID) (EmailChange, error) {
	t, err := s.DB.UsableToken(ctx, userID, equipe.TokenEmailChange, s.now())
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return EmailChange{}, &equipe.Error{Code: equipe.ENOTFOUND, Key: keyEmailChangeNone}
	}
	return EmailChange{NewEmail: t.Email, RequestedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt}, err
}

// RequestEmailChange starts changing u's login email to in.NewEmail: a
// link to confirm it goes to the new address, and the old address is told
// at once with a link that cancels it. A pending change is replaced (its
// link stops working). The login email does not change yet.
//
// The current password is required; wrong ones count as failed logins of
// the person (the same throttle), and the requests of a person are limited
// to a few an hour (ERATELIMITED beyond). So is a second factor for a
// person who has one (EmailChangeMethods), checked once the password is
// right: a code of their authenticator app or a recovery code (see
// VerifySecondFactor), or a passkey's answer (see BeginEmailChangePasskey);
// a person with both gives either. Returns EINVALID for a malformed or
// unchanged address (field new_email), a missing or wrong password (field
// current_password), a missing or wrong code (field code: for a person
// with both, "a code or a passkey") or a missing or failed passkey (field
// passkey).
//
// An address another identity logs in with is not refused: the answer, and
// what the person sees afterwards, are those of a free address, so that
// nobody learns whose addresses have identities here. That identity is told
// instead (email_change_attempt), and no link that could confirm the change
// exists.
func (s *Service) RequestEmailChange(ctx context.Context, u equipe.User, in EmailChangeRequest, o equipe.Origin) (EmailChange, error) {
	now := s.now()
	var v equipe.Invalid
	email, key, p := NormalizeEmail(in.NewEmail)
	switch {
	case p != "":
		v.Add("new_email", p)
	case key == u.EmailKey:
		v.Add("new_email", keyEmailChangeSame)
	}
	if in.CurrentPassword == "" {
		v.Add("current_password", keyPasswordRequired)
	}
	methods, err := s.EmailChangeMethods(ctx, u.ID)
	if err != nil {
		return EmailChange{}, err
	}
	byCode, byPasskey := slices.Contains(methods, MethodTOTP), slices.Contains(methods, MethodPasskey)
	code := strings.TrimSpace(in.Code) != ""
	passkey := byPasskey && len(in.Passkey) > 0
	switch {
	case byCode && byPasskey && !code && !passkey:
		v.Add("code", keyFactorRequired)
	case byCode && !byPasskey && !code:
		v.Add("code", keyCodeRequired)
	case byPasskey && !byCode && !passkey:
		v.Add("passkey", keyPasskeyRequired)
	}
	if err := v.Err(); err != nil {
		return EmailChange{}, err
	}
	// A request the limit refuses spends nothing: neither the code nor
	// the recovery code it carries. The limit counts it below, with the
	// change.
	limit := "email_change:user:" + u.ID.String()
	ws, err := s.DB.HitWindows(ctx, []string{limit})
	if err != nil {
		return EmailChange{}, err
	}
	if until := ws[limit].BlockedUntil(now, limitEmailChange.Length, limitEmailChange.Free); !until.IsZero() {
		return EmailChange{}, &equipe.Error{Code: equipe.ERATELIMITED, Key: "error.rate_limited", RetryAfter: until.Sub(now), Until: until}
	}
	if err := s.checkCurrentPassword(ctx, u, in.CurrentPassword, now, o); err != nil {
		return EmailChange{}, err
	}
	switch {
	case passkey:
		if err := s.checkEmailChangePasskey(ctx, u, in.Passkey, o); err != nil {
			return EmailChange{}, err
		}
	case byCode:
		if err := s.VerifySecondFactor(ctx, u.ID, in.Code, o); err != nil {
			return EmailChange{}, err
		}
	}
	var change EmailChange
	err = s.Work.DoAt(ctx, now, event.ByUser(u.ID), o, func(w *work.Unit) error {
		if err := w.Limit(ctx, limit, limitEmailChange.Free, limitEmailChange.Length, ""); err != nil {
			return err
		}
		var err error
		if change, err = s.sendEmailChangeLink(ctx, w, u, email, key); err != nil {
			return err
		}
		if err := s.sendEmailCancelLink(ctx, w, u, mail.TemplateEmailChangeNotice, email); err != nil {
			return err
		}
		return w.Record(ctx, event.UserEmailChangeRequested.New(nil, u.ID.String(), nil, &event.EmailChange{NewEmail: email}))
	})
	return change, err
}

// ResendEmailChange sends the new address of u's pending change a new link
// (the previous one stops working). Returns ENOTFOUND email_change.none
// when no change waits, ERATELIMITED beyond a few requests an hour (counted
// with the requests themselves).
func (s *Service) ResendEmailChange(ctx context.Context, u equipe.User, o equipe.Origin) (EmailChange, error) {
	var change EmailChange
	err := s.Work.Do(ctx, event.ByUser(u.ID), o, func(w *work.Unit) error {
		t, err := w.UsableToken(ctx, u.ID, equipe.TokenEmailChange, w.Now())
		if equipe.ErrorCode(err) == equipe.ENOTFOUND {
			return &equipe.Error{Code: equipe.ENOTFOUND, Key: keyEmailChangeNone}
		} else if err != nil {
			return err
		}
		if err := w.Limit(ctx, "email_change:user:"+u.ID.String(), limitEmailChange.Free, limitEmailChange.Length, ""); err != nil {
			return err
		}
		if change, err = s.sendEmailChangeLink(ctx, w, u, t.Email, EmailKey(t.Email)); err != nil {
			return err
		}
		return w.Record(ctx, event.UserEmailChangeResent.New(nil, u.ID.String(), nil, &event.EmailChange{NewEmail: t.Email}))
	})
	return change, err
}

// WithdrawEmailChange withdraws u's pending email change: its link stops
// working. Returns ENOTFOUND email_change.none when none waits.
func (s *Service) WithdrawEmailChange(ctx context.Context, u equipe.User, o equipe.Origin) error {
	return s.Work.Do(ctx, event.ByUser(u.ID), o, func(w *work.Unit) error {
		withdrawn, err := s.withdrawEmailChange(ctx, w, u.ID, "")
		if err == nil && !withdrawn {
			err = &equipe.Error{Code: equipe.ENOTFOUND, Key: keyEmailChangeNone}
		}
		return err
	})
}

// withdrawEmailChange makes the user's pending email change's link unusable
// and records why (reason, a message key; empty when the person withdrew
// it). It reports whether a change was pending.
func (s *Service) withdrawEmailChange(ctx context.Context, w *work.Unit, userID equipe.ID, reason string) (bool, error) {
	t, err := w.UsableToken(ctx, userID, equipe.TokenEmailChange, w.Now())
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if err := w.SupersedeTokens(ctx, userID, equipe.TokenEmailChange, w.Now()); err != nil {
		return false, err
	}
	return true, w.Record(ctx, event.UserEmailChangeWithdrawn.New(nil, userID.String(), nil,
		&event.EmailChange{NewEmail: t.Email, Reason: reason}))
}

// EmailChangeLink is what a link of an email change is about: the user, and
// the address the link concerns (the new one for a confirmation link, the
// old one for a cancellation link).
type EmailChangeLink struct {
	User  equipe.User
	Email string
}

// EmailChangeConfirmLink returns what a confirmation link is for, without
// using it. Returns ENOTFOUND with key link.invalid, link.expired or
// link.used.
func (s *Service) EmailChangeConfirmLink(ctx context.Context, secret string, o equipe.Origin) (EmailChangeLink, error) {
	t, u, err := s.lookupToken(ctx, equipe.TokenEmailChange, secret, o, s.now())
	return EmailChangeLink{User: u, Email: t.Email}, err
}

// ConfirmEmailChange uses a confirmation link: the user's login email
// becomes the new address, verified. Links sent to the old address to reset
// the password or verify it stop working, and the old address is told, with
// a link that gives it back (valid EmailCancelTTL). Sessions go on. Returns
// ENOTFOUND for a link that cannot be used, ECONFLICT email.taken if another
// identity took the address since the request (the link stays usable).
func (s *Service) ConfirmEmailChange(ctx context.Context, secret string, o equipe.Origin) (equipe.User, error) {
	now := s.now()
	t, u, err := s.lookupToken(ctx, equipe.TokenEmailChange, secret, o, now)
	if err != nil {
		return u, err
	}
	old := u
	err = s.Work.DoAt(ctx, now, event.ByUser(u.ID), o, func(w *work.Unit) error {
		u = old // as read, should the unit run again
		if err := w.Consume(ctx, &t); err != nil {
			return err
		}
		if err := setLoginEmail(ctx, w, &u, t.Email); err != nil {
			return err
		}
		if err := s.sendEmailCancelLink(ctx, w, old, mail.TemplateEmailChanged, u.Email); err != nil {
			return err
		}
		return w.Record(ctx, event.UserEmailChanged.New(nil, u.ID.String(), &event.Address{Email: old.Email},
			&event.Address{Email: u.Email}))
	})
	return u, err
}

// EmailChangeCancelLink returns what a cancellation link is for, without
// using it. Returns ENOTFOUND with key link.invalid, link.expired or
// link.used.
func (s *Service) EmailChangeCancelLink(ctx context.Context, secret string, o equipe.Origin) (EmailChangeLink, error) {
	t, u, err := s.lookupToken(ctx, equipe.TokenEmailChangeCancel, secret, o, s.now())
	return EmailChangeLink{User: u, Email: t.Email}, err
}

// EmailCancel is what using a cancellation link did.
type EmailCancel struct {
	User equipe.User // as it is afterwards
	// Restored is true when the change had been confirmed and the identity
	// logs in with the old address again. It stays false when another
	// identity took the old address meanwhile (Taken).
	Restored, Taken bool
	SessionsEnded   int
}

// CancelEmailChange uses a cancellation link, sent to the old address: the
// pending change is withdrawn; a change already confirmed is undone (the
// old address is the login email again, unless another identity took it
// since); every session of the user ends. Links sent to an address the
// change made (password reset, verification) stop working, and so do the
// cancellation links made after this one: they would undo this. Returns
// ENOTFOUND for a link that cannot be used.
func (s *Service) CancelEmailChange(ctx context.Context, secret string, o equipe.Origin) (EmailCancel, error) {
	now := s.now()
	t, u, err := s.lookupToken(ctx, equipe.TokenEmailChangeCancel, secret, o, now)
	if err != nil {
		return EmailCancel{User: u}, err
	}
	var res EmailCancel
	err = s.Work.DoAt(ctx, now, event.ByUser(u.ID), o, func(w *work.Unit) error {
		res = EmailCancel{User: u}
		if err := w.Consume(ctx, &t); err != nil {
			return err
		}
		if err := w.SupersedeTokensSince(ctx, u.ID, equipe.TokenEmailChangeCancel, t.CreatedAt, t.ID, now); err != nil {
			return err
		}
		if err := w.SupersedeTokens(ctx, u.ID, equipe.TokenEmailChange, now); err != nil {
			return err
		}
		if EmailKey(t.Email) != u.EmailKey {
			err := setLoginEmail(ctx, w, &res.User, t.Email)
			switch {
			case equipe.ErrorCode(err) == equipe.ECONFLICT:
				res.Taken = true
			case err != nil:
				return err
			default:
				res.Restored = true
			}
		}
		ended, err := w.DeleteUserSessions(ctx, u.ID)
		if err != nil {
			return err
		}
		res.SessionsEnded = int(ended)
		return w.Record(ctx, event.UserEmailChangeCancelled.New(nil, u.ID.String(), nil,
			&event.EmailCancel{Email: res.User.Email, Restored: res.Restored, Ended: res.SessionsEnded}))
	})
	return res, err
}

// setLoginEmail makes email (normalised) the login email of *u, verified:
// it proved it receives mail. Links sent to the previous address to reset
// the password or verify it stop working. Returns ECONFLICT email.taken,
// changing nothing, when another identity logs in with it.
func setLoginEmail(ctx context.Context, w *work.Unit, u *equipe.User, email string) error {
	email, key, p := NormalizeEmail(email)
	if p != "" {
		return &equipe.Error{Code: equipe.EINVALID, Key: p}
	}
	// Looked up first: on PostgreSQL a unique violation would end the
	// transaction, which the cancellation goes on with.
	other, err := w.UserByEmailKey(ctx, key)
	switch {
	case err == nil && other.ID != u.ID:
		return &equipe.Error{Code: equipe.ECONFLICT, Key: "email.taken"}
	case err != nil && equipe.ErrorCode(err) != equipe.ENOTFOUND:
		return err
	}
	if err := w.SetEmail(ctx, u.ID, email, key, w.Now()); err != nil {
		return err
	}
	for _, kind := range []equipe.TokenKind{equipe.TokenReset, equipe.TokenVerify} {
		if err := w.SupersedeTokens(ctx, u.ID, kind, w.Now()); err != nil {
			return err
		}
	}
	u.Email, u.EmailKey, u.EmailVerifiedAt = email, key, w.Now()
	return nil
}

// sendEmailChangeLink makes the link that confirms u's change to email (its
// comparison key key), replacing any pending one, and emails it there;
// when another identity logs in with email, that identity is told instead
// (at most once an hour per address) and the link is sent nowhere.
func (s *Service) sendEmailChangeLink(ctx context.Context, w *work.Unit, u equipe.User, email, key string) (EmailChange, error) {
	target := u
	target.Email = email
	link, t, err := w.IssueToken(ctx, equipe.TokenEmailChange, &target, nil, s.Config.EmailChangeTTL, emailChangeConfirmPath)
	if err != nil {
		return EmailChange{}, err
	}
	change := EmailChange{NewEmail: email, RequestedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt}
	other, err := w.UserByEmailKey(ctx, key)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		// An address another identity was changed away from stays theirs
		// while the link that gives it back works: its confirmation could
		// never succeed, and its holder hears of the attempt as the owner
		// of a taken address does.
		var holder equipe.ID
		if holder, err = w.EmailReservedBy(ctx, key, w.Now()); err == nil && holder != u.ID {
			other, err = w.UserByID(ctx, holder)
		} else if err == nil || equipe.ErrorCode(err) == equipe.ENOTFOUND {
			err = &equipe.Error{Code: equipe.ENOTFOUND}
		}
	}
	switch {
	case equipe.ErrorCode(err) == equipe.ENOTFOUND:
		return change, mailPerson(ctx, w, u, mail.TemplateEmailChangeRequested, email,
			mail.Data{RecipientName: u.Name(), RecipientID: u.ID, Link: link, Expires: t.ExpiresAt, NewEmail: email})
	case err != nil:
		return change, err
	}
	ok, _, err := w.Hit(ctx, "email_change:taken:"+key, limitEmailChangeTaken.Free, limitEmailChangeTaken.Length)
	if err != nil || !ok {
		return change, err
	}
	return change, w.Mail(ctx, mail.TemplateEmailChangeAttempt, other.Locale, other.Email, mail.Data{RecipientName: other.Name(), RecipientID: other.ID})
}

// sendEmailCancelLink makes a link that cancels an email change of u (or
// undoes it), valid EmailCancelTTL, and emails it to u's login email with
// the template: the notice of a request, or the news of a change. Such a
// link is not replaced by later ones: whoever made the change cannot make
// it stop working by asking again.
func (s *Service) sendEmailCancelLink(ctx context.Context, w *work.Unit, u equipe.User, template, newEmail string) error {
	secret, hash, err := work.NewSecret(s.Work.Rand)
	if err != nil {
		return err
	}
	t := equipe.Token{ID: equipe.NewID(), Kind: equipe.TokenEmailChangeCancel, Hash: hash, UserID: u.ID, Email: u.Email,
		CreatedAt: w.Now(), ExpiresAt: w.Now().Add(s.Config.EmailCancelTTL)}
	if err := w.AddToken(ctx, &t); err != nil {
		return err
	}
	return mailPerson(ctx, w, u, template, u.Email, mail.Data{RecipientName: u.Name(), RecipientID: u.ID,
		Link: s.Work.Link(emailChangeCancelPath + secret), Expires: t.ExpiresAt, NewEmail: newEmail})
}

// checkCurrentPassword checks the password of a logged-in person before a
// change that needs it. Attempts count against the person's login
// throttle, before the password is looked at: a wrong password here is a
// failed login, and a right one forgets the failures, as logging in does.
// Returns ERATELIMITED while the person's logins are blocked, EINVALID
// (field current_password) for a wrong password.
func (s *Service) checkCurrentPassword(ctx context.Context, u equipe.User, password string, now time.Time, o equipe.Origin) error {
	key := "login:email:" + u.EmailKey
	var blocked time.Time
	err := s.Work.DoAt(ctx, now, event.ByUser(u.ID), o, func(w *work.Unit) error {
		r, err := w.Attempt(ctx, key, now, limitLoginEmail)
		if err == nil && !r.Allowed() {
			blocked = r.BlockedUntil()
		}
		return err
	})
	if err != nil {
		return err
	}
	if !blocked.IsZero() {
		return work.Throttled("", blocked.Sub(now))
	}
	if ok, _ := s.Hasher.Verify(u.PasswordHash, password); !ok || u.PasswordHash == "" {
		return &equipe.Error{Code: equipe.EINVALID, Key: "error.fields",
			Fields: []equipe.FieldError{{Field: "current_password", Key: keyPasswordWrong}}}
	}
	return s.Work.DoAt(ctx, now, event.ByUser(u.ID), o, func(w *work.Unit) error {
		return w.DeleteThrottle(ctx, key)
	})
}
