package identity

import (
	"context"
	"slices"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/mail"
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
// a session was asked for.
type SignUpResult struct {
	User    equipe.User
	Account equipe.Account
	Auth    Auth
	Token   string
}

// SignUp creates a user, their account and its first resource, makes the user
// the account's administrator and queues the email-verification link. With
// startSession it also logs the user in.
//
// An email that already has an identity is refused with ECONFLICT
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
		ok, wait, err := w.Hit(ctx, "signup:ip:"+ipKey(o.IP), limitSignupIP.Free, limitSignupIP.Length)
		if err != nil {
			return err
		}
		if !ok {
			retry = work.Throttled("", wait)
			return nil
		}
		if existing, err := w.UserByEmailKey(ctx, key); err == nil {
			duplicate = true
			ok, _, err := w.Hit(ctx, "signup:notice:"+key, limitSignupNotice.Free, limitSignupNotice.Length)
			if err != nil || !ok {
				return err
			}
			return w.Mail(ctx, mail.TemplateSignupAttempt, existing.Locale, existing.Email, mail.Data{RecipientName: existing.Name()})
		} else if equipe.ErrorCode(err) != equipe.ENOTFOUND {
			return err
		}

		u := equipe.User{ID: equipe.NewUserID(), Email: email, EmailKey: key, FirstName: first, LastName: last,
			Locale: locale, PasswordHash: hash, PasswordChangedAt: now, CreatedAt: now}
		a := equipe.Account{ID: equipe.NewID(), Name: accountName, Locale: locale,
			InvitationTTLHours: equipe.DefaultInvitationTTLHours, CreatedAt: now}
		r := equipe.Resource{ID: equipe.NewID(), AccountID: a.ID, Type: rtype, Name: rname, CreatedAt: now}
		m := equipe.Member{AccountID: a.ID, UserID: u.ID, Role: equipe.RoleAdmin, Status: equipe.MemberActive,
			JoinedAt: now, CreatedAt: now}
		if err := w.CreateUser(ctx, &u); err != nil {
			return err
		}
		if err := w.CreateAccount(ctx, &a); err != nil {
			return err
		}
		if err := w.CreateResource(ctx, &r); err != nil {
			return err
		}
		if err := w.CreateMember(ctx, &m); err != nil {
			return err
		}
		if err := w.AssignResource(ctx, a.ID, u.ID, r.ID); err != nil {
			return err
		}
		link, expires, err := w.NewToken(ctx, equipe.TokenVerify, &u, nil, s.Config.VerifyTTL, "/verify-email/")
		if err != nil {
			return err
		}
		if err := w.Mail(ctx, mail.TemplateVerifyEmail, u.Locale, u.Email, mail.Data{RecipientName: u.Name(),
			AccountName: a.Name, Link: link, Expires: expires}); err != nil {
			return err
		}
		// The person who signs up makes their account: the unit acts for them.
		w.ActFor(event.ByUser(u.ID))
		if err := w.Record(ctx, event.AccountCreated.In(a.ID, a.ID.String(), nil,
			&event.NewAccount{Name: a.Name, Locale: a.Locale, FirstResource: event.Resource{Type: r.Type, Name: r.Name}})); err != nil {
			return err
		}
		if err := w.Record(ctx, event.MemberAdded.In(a.ID, u.ID.String(), nil,
			&event.Added{Email: u.Email, Role: m.Role, Status: m.Status, Resources: []equipe.ID{r.ID}})); err != nil {
			return err
		}
		if startSession {
			if res.Auth, res.Token, err = s.logIn(ctx, w, &u); err != nil {
				return err
			}
		}
		res.User, res.Account = u, a
		return nil
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
