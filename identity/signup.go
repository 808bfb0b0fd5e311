package identity

import (
	"context"
	"slices"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/work"
)

// SignUp is what a person gives to create their account.
type SignUp struct {
	Email        string
	Password     string
	FirstName    string
	LastName     string
	AccountName  string
	Locale       string
	ResourceType string // default: location
	ResourceName string // default: the account's name
}

// SignUpResult is what a sign-up created. Token is the session secret when
// a session was asked for. Pending: nothing was created yet; a link emailed
// to the address must confirm the sign-up first (see SignUp).
type SignUpResult struct {
	User    equipe.User
	Account equipe.Account
	Auth    Auth
	Token   string
	Pending bool
}

// signupConfirmTTL is how long the link that confirms a sign-up works.
const signupConfirmTTL = 24 * time.Hour

// SignUp creates a user, their account and its first resource, makes the user
// the account's administrator and queues the email-verification link. With
// startSession it also logs the user in.
//
// An address whose identity nobody has used yet — it has never had a
// password nor a login: an account added it as a member — does not block
// the sign-up, but the address must prove it is the person's: nothing is
// created, the result is Pending, and a link emailed to the address
// (ConfirmSignUp) takes the identity over. Until then nobody sees anything of
// it, and its pending invitations stay invitations.
//
// An email that has an identity someone uses is refused with ECONFLICT
// "signup.email_unavailable", which says no more than that the address cannot
// be used here (not whose it is, nor what it belongs to); the address's owner
// is told by email, at most once an hour. The password is hashed either way,
// so the refusal takes as long as a success.
//
// Returns EINVALID with field errors for bad input and ERATELIMITED when the
// client's address has signed up too often.
func (s *Service) SignUp(ctx context.Context, in SignUp, o equipe.Origin, startSession bool) (SignUpResult, error) {
	var v equipe.Invalid
	who := checkPerson(&v, in.Email, in.FirstName, in.LastName, in.Locale)
	email, key, first, last, locale := who.email, who.key, who.first, who.last, who.locale
	accountName := CheckName(&v, "account_name", in.AccountName)
	rtype := in.ResourceType
	if rtype == "" {
		rtype = equipe.ResourceLocation
	}
	if !slices.Contains(s.Config.ResourceTypes, rtype) {
		v.Add("first_resource.type", "resource.type_unknown")
	}
	rname := in.ResourceName
	if rname == "" {
		rname = accountName
	}
	if !v.Has("account_name") {
		rname = CheckName(&v, "first_resource.name", rname)
	}
	CheckNewPassword(&v, in.Password, email, first, last, accountName)
	if err := v.Err(); err != nil {
		return SignUpResult{}, err
	}

	hash := s.Hasher.Hash(in.Password)
	var res SignUpResult
	duplicate := false
	var retry error
	err := s.Work.Do(ctx, event.System, o, func(w *work.Unit) error {
		now := w.Now()
		// Limit, not Hit: a limit per client address is told to the
		// client in the RateLimit headers.
		if err := w.Limit(ctx, "signup:ip:"+ipKey(o.IP), limitSignupIP.Free, limitSignupIP.Length, ""); err != nil {
			if equipe.ErrorCode(err) == equipe.ERATELIMITED {
				retry = err
				return nil
			}
			return err
		}
		if existing, err := w.UserByEmailKey(ctx, key); err == nil {
			if unused(existing) {
				res.Pending = true
				return s.pendSignUp(ctx, w, existing, store.PendingSignup{PasswordHash: hash, FirstName: first, LastName: last,
					Locale: locale, AccountName: accountName, ResourceType: rtype, ResourceName: rname, CreatedAt: now})
			}
			duplicate = true
			ok, _, err := w.Hit(ctx, "signup:notice:"+key, limitSignupNotice.Free, limitSignupNotice.Length)
			if err != nil || !ok {
				return err
			}
			return w.Mail(ctx, mail.TemplateSignupAttempt, existing.Locale, existing.Email, mail.Data{RecipientName: existing.Name(), RecipientID: existing.ID})
		} else if equipe.ErrorCode(err) != equipe.ENOTFOUND {
			return err
		}

		u := equipe.User{ID: equipe.NewUserID(), Email: email, EmailKey: key, FirstName: first, LastName: last,
			Locale: locale, PasswordHash: hash, PasswordChangedAt: now, CreatedAt: now}
		if err := w.CreateUser(ctx, &u); err != nil {
			return err
		}
		link, expires, err := w.NewToken(ctx, equipe.TokenVerify, &u, nil, s.Config.VerifyTTL, "/verify-email/")
		if err != nil {
			return err
		}
		if err := w.Mail(ctx, mail.TemplateVerifyEmail, u.Locale, u.Email, mail.Data{RecipientName: u.Name(), RecipientID: u.ID,
			AccountName: accountName, Link: link, Expires: expires}); err != nil {
			return err
		}
		res, err = s.openAccount(ctx, w, u, accountName, rtype, rname, startSession)
		return err
	})
	if equipe.ErrorCode(err) == equipe.ECONFLICT {
		duplicate = true // two sign-ups with one email at once: the second loses the race
		err = nil
	}
	switch {
	case err != nil:
		return SignUpResult{}, err
	case retry != nil:
		return SignUpResult{}, retry
	case duplicate:
		return SignUpResult{}, &equipe.Error{Code: equipe.ECONFLICT, Key: "signup.email_unavailable",
			Fields: []equipe.FieldError{{Field: "email", Key: "signup.email_unavailable"}}}
	}
	return res, nil
}

// unused reports whether nobody has used the identity: it has never had a
// password nor a login (an account added it as a member, and its owner has
// not joined anything).
func unused(u equipe.User) bool {
	return u.PasswordHash == "" && u.LastLoginAt.IsZero() && u.DisabledAt.IsZero()
}

// pendSignUp keeps a sign-up with the address of an identity nobody has
// used, and emails the address the link that confirms it: at most a few an
// hour, beyond which the sign-up is accepted and dropped.
func (s *Service) pendSignUp(ctx context.Context, w *work.Unit, u equipe.User, p store.PendingSignup) error {
	ok, _, err := w.Hit(ctx, "signup:confirm:"+u.EmailKey, limitSignupConfirm.Free, limitSignupConfirm.Length)
	if err != nil || !ok {
		return err
	}
	if err := w.SupersedeTokens(ctx, u.ID, equipe.TokenSignup, w.Now()); err != nil {
		return err
	}
	link, t, err := w.IssueToken(ctx, equipe.TokenSignup, &u, nil, signupConfirmTTL, "/signup/confirm/")
	if err != nil {
		return err
	}
	p.TokenID = t.ID
	if err := w.CreatePendingSignup(ctx, &p); err != nil {
		return err
	}
	return w.Mail(ctx, mail.TemplateSignupConfirm, p.Locale, u.Email, mail.Data{RecipientName: p.FirstName + " " + p.LastName, RecipientID: u.ID,
		AccountName: p.AccountName, Link: link, Expires: t.ExpiresAt})
}

// openAccount creates, in the unit, the account a person signs up for and
// its first resource, makes them its administrator (assigned to the
// resource), records it as theirs and, with startSession, logs them in.
func (s *Service) openAccount(ctx context.Context, w *work.Unit, u equipe.User, name, rtype, rname string, startSession bool) (SignUpResult, error) {
	now := w.Now()
	a := equipe.Account{ID: equipe.NewID(), Name: name, Locale: u.Locale, InvitationTTLHours: equipe.DefaultInvitationTTLHours,
		CreatedAt: now}
	r := equipe.Resource{ID: equipe.NewID(), AccountID: a.ID, Type: rtype, Name: rname, CreatedAt: now}
	m := equipe.Member{AccountID: a.ID, UserID: u.ID, Role: equipe.RoleAdmin, Status: equipe.MemberActive,
		JoinedAt: now, CreatedAt: now}
	if err := w.CreateAccount(ctx, &a); err != nil {
		return SignUpResult{}, err
	}
	if err := w.CreateResource(ctx, &r); err != nil {
		return SignUpResult{}, err
	}
	if err := w.CreateMember(ctx, &m); err != nil {
		return SignUpResult{}, err
	}
	if err := w.AssignResource(ctx, a.ID, u.ID, r.ID); err != nil {
		return SignUpResult{}, err
	}
	// The person who signs up makes their account: the unit acts for them.
	w.ActFor(event.ByUser(u.ID))
	if err := w.Record(ctx, event.AccountCreated.In(a.ID, a.ID.String(), nil,
		&event.NewAccount{Name: a.Name, Locale: a.Locale, FirstResource: event.Resource{Type: r.Type, Name: r.Name}})); err != nil {
		return SignUpResult{}, err
	}
	if err := w.Record(ctx, event.MemberAdded.In(a.ID, u.ID.String(), nil,
		&event.Added{Email: u.Email, Role: m.Role, Status: m.Status, Resources: []equipe.ID{r.ID}})); err != nil {
		return SignUpResult{}, err
	}
	res := SignUpResult{User: u, Account: a}
	if startSession {
		var err error
		if res.Auth, res.Token, err = s.logIn(ctx, w, &u, AMRPassword); err != nil {
			return SignUpResult{}, err
		}
		res.User = res.Auth.User
	}
	return res, nil
}

// PendingSignUp is what a sign-up confirmation link is for: the address and
// the account the person asked for.
type PendingSignUp struct {
	Email       string
	AccountName string
}

// SignUpLink returns what a sign-up confirmation link is for, without using
// it. Returns ENOTFOUND with key link.invalid, link.expired or link.used.
func (s *Service) SignUpLink(ctx context.Context, secret string, o equipe.Origin) (PendingSignUp, error) {
	t, u, err := s.lookupToken(ctx, equipe.TokenSignup, secret, o, s.now())
	if err != nil {
		return PendingSignUp{}, err
	}
	p, err := s.DB.PendingSignup(ctx, t.ID)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return PendingSignUp{}, &equipe.Error{Code: equipe.ENOTFOUND, Key: linkInvalid}
	} else if err != nil {
		return PendingSignUp{}, err
	}
	return PendingSignUp{Email: u.Email, AccountName: p.AccountName}, nil
}

// ConfirmSignUp uses a sign-up confirmation link: the person who signed up
// with the address of an identity nobody had used takes it over — their
// password, names and language become its own, the address counts as
// confirmed — and gets the account they asked for, as its administrator,
// logged in. The accounts that had added the identity keep it as a member
// who has not joined: their invitations are invitations, to accept or not.
// An identity someone started using meanwhile (a password set through an
// invitation) answers ECONFLICT "signup.email_unavailable", and nothing
// changes.
func (s *Service) ConfirmSignUp(ctx context.Context, secret string, o equipe.Origin) (SignUpResult, error) {
	now := s.now()
	t, u, err := s.lookupToken(ctx, equipe.TokenSignup, secret, o, now)
	if err != nil {
		return SignUpResult{}, err
	}
	var res SignUpResult
	err = s.Work.DoAt(ctx, now, event.ByUser(u.ID), o, func(w *work.Unit) error {
		p, err := w.PendingSignup(ctx, t.ID)
		if equipe.ErrorCode(err) == equipe.ENOTFOUND {
			return &equipe.Error{Code: equipe.ENOTFOUND, Key: linkInvalid}
		} else if err != nil {
			return err
		}
		if err := w.Consume(ctx, &t); err != nil {
			return err
		}
		u, err := w.UserByID(ctx, u.ID)
		if err != nil {
			return err
		}
		if !unused(u) {
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "signup.email_unavailable"}
		}
		if err := setFirstPassword(ctx, w, u.ID, p.PasswordHash,
			&equipe.Error{Code: equipe.ECONFLICT, Key: "signup.email_unavailable"}); err != nil {
			return err
		}
		if err := w.SetUserIdentity(ctx, u.ID, p.FirstName, p.LastName, p.Locale, w.Now()); err != nil {
			return err
		}
		if err := w.MarkEmailVerified(ctx, u.ID, now); err != nil {
			return err
		}
		u.PasswordHash, u.FirstName, u.LastName, u.Locale, u.EmailVerifiedAt = p.PasswordHash, p.FirstName, p.LastName, p.Locale, now
		if err := w.Record(ctx, event.UserEmailVerified.New(nil, u.ID.String(), nil, &event.Address{Email: u.Email})); err != nil {
			return err
		}
		res, err = s.openAccount(ctx, w, u, p.AccountName, p.ResourceType, p.ResourceName, true)
		return err
	})
	return res, err
}
