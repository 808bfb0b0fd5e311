package identity

import (
	"cmp"
	"context"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/work"
)

// Invitation is what an invitation (or activation) link is for.
type Invitation struct {
	Token   equipe.Token
	User    equipe.User
	Member  equipe.Member
	Account equipe.Account
	Inviter *equipe.User // nil when an API key invited
	// Activation: the account activates its members; the page speaks of
	// activation rather than invitation.
	Activation bool
	// NewUser: the person has no password yet and sets one to accept.
	NewUser bool
}

// FirstName and LastName are the names to greet the invitee with: those
// the account shows them under (equipe.Member.ShownNames).
func (inv Invitation) FirstName() string {
	first, _ := inv.Member.ShownNames(inv.User)
	return first
}

// LastName: see FirstName.
func (inv Invitation) LastName() string {
	_, last := inv.Member.ShownNames(inv.User)
	return last
}

// Invitation returns what the invitation link's secret is for, without
// using it: opening the link (a GET, perhaps by a mail scanner) accepts
// nothing. An unusable link answers ENOTFOUND link.invalid, link.expired or
// link.used — and for the last two, the invitation is returned all the same,
// so that the page can say which account it was for and whom to ask.
func (s *Service) Invitation(ctx context.Context, secret string, o equipe.Origin) (Invitation, error) {
	t, u, err := s.lookupToken(ctx, equipe.TokenInvitation, secret, o, s.now())
	if err != nil && (t.ID == (equipe.ID{}) || t.Kind != equipe.TokenInvitation) {
		return Invitation{}, err
	}
	inv, lerr := s.invitation(ctx, t, u)
	if lerr != nil {
		if err != nil {
			return Invitation{}, err
		}
		return Invitation{}, lerr
	}
	return inv, err
}

func (s *Service) invitation(ctx context.Context, t equipe.Token, u equipe.User) (Invitation, error) {
	if t.AccountID == nil {
		return Invitation{}, &equipe.Error{Code: equipe.ENOTFOUND, Key: linkInvalid}
	}
	if u.ID == (equipe.ID{}) {
		var err error
		if u, err = s.DB.UserByID(ctx, t.UserID); err != nil {
			return Invitation{}, err
		}
	}
	a, err := s.DB.AccountByID(ctx, *t.AccountID)
	if err != nil {
		return Invitation{}, err
	}
	m, err := s.DB.Member(ctx, a.ID, u.ID)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		// Removed since: the link leads nowhere.
		return Invitation{}, &equipe.Error{Code: equipe.ENOTFOUND, Key: linkUsed}
	} else if err != nil {
		return Invitation{}, err
	}
	inv := Invitation{Token: t, User: u, Member: m, Account: a, Activation: a.RequiresActivation, NewUser: u.PasswordHash == ""}
	if m.InvitedBy != nil {
		if inviter, err := s.DB.UserByID(ctx, *m.InvitedBy); err == nil {
			inv.Inviter = &inviter
		}
	}
	return inv, nil
}

// Accept is what a person gives to accept an invitation.
type Accept struct {
	// For a new user: the password they choose, their names as they want
	// them (required when the account added them without), and optionally
	// their acceptance of the privacy policy (the version shown); without
	// it, the policy is asked for on its own after joining.
	Password            string
	FirstName           string
	LastName            string
	AcceptPrivacyPolicy bool
	PolicyVersion       string
	// Locale is a language the person chose on the page they accepted on
	// (or in the API's request); PageLocale the language that page was
	// shown in (the API's Accept-Language, when sent). The person's
	// language, if they have none, becomes the one they chose, else the one
	// the account chose for their emails when it added them, else the
	// page's, else the account's.
	Locale     string
	PageLocale string
}

// validLocale is locale if it is a language of the service, else "".
func validLocale(locale string) string {
	if equipe.ValidLocale(locale) {
		return locale
	}
	return ""
}

// AcceptInvitation uses an invitation link: the member joins the account.
//
// A new user sets their password and names — names the account did not
// give are required — (the link proved they read their mail: their email
// counts as verified; reset links sent before stop working), and is logged in; they accept the privacy policy
// with it or, as the pages do, as the next step (ConsentNeeded): the returned secret is their new session. An existing
// user must be logged in as themselves (current); their password is
// untouched and no new session is made. Someone logged in as another user
// gets ECONFLICT "invitation.other_user", with nothing used: they may log
// out and open the link again.
//
// The inviter is told by email that the person joined, unless the account's
// notify_adder setting says otherwise.
func (s *Service) AcceptInvitation(ctx context.Context, secret string, in Accept, current *Auth, o equipe.Origin) (Auth, string, error) {
	now := s.now()
	t, u, err := s.lookupToken(ctx, equipe.TokenInvitation, secret, o, now)
	if err != nil {
		return Auth{}, "", err
	}
	inv, err := s.invitation(ctx, t, u)
	if err != nil {
		return Auth{}, "", err
	}
	if current != nil && current.User.ID != inv.User.ID {
		return Auth{}, "", &equipe.Error{Code: equipe.ECONFLICT, Key: "invitation.other_user",
			Args: map[string]any{"email": inv.User.Email}}
	}
	if inv.Member.Status == equipe.MemberSuspended {
		return Auth{}, "", &equipe.Error{Code: equipe.ECONFLICT, Key: "invitation.member_suspended"}
	}
	if !inv.User.DisabledAt.IsZero() {
		// The instance disabled the identity: it joins nothing and gets no
		// session, whatever links it was sent.
		return Auth{}, "", &equipe.Error{Code: equipe.ECONFLICT, Key: "invitation.identity_disabled"}
	}
	var v equipe.Invalid
	if in.Locale != "" && !equipe.ValidLocale(in.Locale) {
		v.Add("locale", "locale.invalid")
	}
	var first, last, hash, version string
	if inv.NewUser {
		first = CheckName(&v, "first_name", orDefault(in.FirstName, inv.FirstName()))
		last = CheckName(&v, "last_name", orDefault(in.LastName, inv.LastName()))
		CheckNewPassword(&v, in.Password, inv.User.Email, first, last, inv.Account.Name)
	}
	if err := v.Err(); err != nil {
		return Auth{}, "", err
	}
	if inv.NewUser {
		// The policy may be accepted here (an API client showing it beside
		// the password) or afterwards, as its own step: until then the
		// consent gate lets the person do nothing else.
		if in.AcceptPrivacyPolicy {
			if p, err := s.CurrentPolicy(ctx); err == nil {
				version = orDefault(in.PolicyVersion, p.Version)
				if version != p.Version {
					return Auth{}, "", &equipe.Error{Code: equipe.ECONFLICT, Key: "consent.outdated"}
				}
			} else if equipe.ErrorCode(err) != equipe.ENOTFOUND {
				return Auth{}, "", err
			}
		}
		hash = s.Hasher.Hash(in.Password)
	} else if current == nil {
		return Auth{}, "", &equipe.Error{Code: equipe.EUNAUTHORIZED, Key: "invitation.login_required",
			Args: map[string]any{"email": inv.User.Email}}
	}

	var auth Auth
	var session string
	err = s.Work.DoAt(ctx, now, event.ByUser(inv.User.ID), o, func(w *work.Unit) error {
		u := inv.User
		if inv.NewUser {
			// The password read before this unit may have been set since,
			// through another link: the person logs in with it instead.
			if err := setFirstPassword(ctx, w, u.ID, hash, &equipe.Error{Code: equipe.EUNAUTHORIZED,
				Key: "invitation.login_required", Args: map[string]any{"email": inv.User.Email}}); err != nil {
				return err
			}
			if err := w.SetUserNames(ctx, u.ID, first, last, w.Now()); err != nil {
				return err
			}
			u.FirstName, u.LastName, u.PasswordHash = first, last, hash
			if version != "" {
				if err := s.recordConsent(ctx, w, u.ID, version); err != nil {
					return err
				}
			}
		}
		// Their emails go on in the language they joined in, and their
		// pages show it, until they choose another.
		if locale := cmp.Or(in.Locale, validLocale(inv.Member.Locale), validLocale(in.PageLocale),
			validLocale(inv.Account.Locale)); u.Locale == "" && locale != "" {
			if err := w.SetLocaleIfNone(ctx, u.ID, locale); err != nil {
				return err
			}
			u.Locale = locale
		}
		if err := s.join(ctx, w, &t, inv.Account, &u, event.JoinedByLink); err != nil {
			return err
		}
		if inv.NewUser {
			var err error
			auth, session, err = s.logIn(ctx, w, &u, AMRPassword)
			return err
		}
		auth = *current
		auth.User.EmailVerifiedAt = u.EmailVerifiedAt
		return nil
	})
	return auth, session, err
}

// JoinPending lets a logged-in user join, from their account list, an
// account that invited them: someone who already has an identity reaches
// the new account from their dashboard. It uses their newest usable
// invitation link to the account, which stops working, exactly as opening
// that link and joining would. Their password is untouched; an identity
// without a language takes the one the account chose for the person's
// emails, else the account's, as joining through the link does.
//
// A user who is not a member answers ENOTFOUND; one who joined already,
// ECONFLICT "invitation.already_joined"; a suspended member, ECONFLICT
// "invitation.member_suspended"; a member with no invitation sent (or only
// revoked ones), or who has no password yet (only the link lets them set
// one), ECONFLICT "invitation.none_pending"; a user whose login email is not
// verified, ECONFLICT "invitation.email_unverified" (the emailed link proves
// the address; it still works); one whose invitations all expired,
// ENOTFOUND "link.expired" (an administrator must send a new one).
func (s *Service) JoinPending(ctx context.Context, user equipe.User, account equipe.ID, o equipe.Origin) error {
	return s.Work.Do(ctx, event.ByUser(user.ID), o, func(w *work.Unit) error {
		m, err := w.LockMember(ctx, account, user.ID)
		if equipe.ErrorCode(err) == equipe.ENOTFOUND {
			return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
		} else if err != nil {
			return err
		}
		switch m.Status {
		case equipe.MemberActive:
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "invitation.already_joined"}
		case equipe.MemberSuspended:
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "invitation.member_suspended"}
		case equipe.MemberCreated:
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "invitation.none_pending"}
		}
		u, err := w.UserByID(ctx, user.ID)
		if err != nil {
			return err
		}
		if u.PasswordHash == "" {
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "invitation.none_pending"}
		}
		if u.EmailVerifiedAt.IsZero() {
			// Whoever signed up with an address they do not read must not
			// collect the invitations sent to it: joining without the
			// emailed link needs an address proven to be theirs.
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "invitation.email_unverified",
				Args: map[string]any{"email": u.Email}}
		}
		tokens, err := w.AccountTokens(ctx, u.ID, account, equipe.TokenInvitation)
		if err != nil {
			return err
		}
		var token *equipe.Token
		expired := false
		for i := range tokens {
			t := &tokens[i]
			if t.Usable(w.Now()) {
				token = t
				break
			}
			if t.UsedAt.IsZero() && t.SupersededAt.IsZero() {
				expired = true
			}
		}
		switch {
		case token == nil && expired:
			return &equipe.Error{Code: equipe.ENOTFOUND, Key: linkExpired}
		case token == nil:
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "invitation.none_pending"}
		}
		acct, err := w.AccountByID(ctx, account)
		if err != nil {
			return err
		}
		// As through the link: an identity without a language (a first
		// password set with a reset link) goes on in the one the account
		// chose for the person's emails, else in the account's.
		if locale := cmp.Or(validLocale(m.Locale), validLocale(acct.Locale)); u.Locale == "" && locale != "" {
			if err := w.SetLocaleIfNone(ctx, u.ID, locale); err != nil {
				return err
			}
			u.Locale = locale
		}
		return s.join(ctx, w, token, acct, &u, event.JoinedByAccountList)
	})
}

// join makes the user an active member of the account with an invitation
// token, in the unit: the token is used up, the membership as it stands now
// is checked (a suspension made meanwhile holds), the login email counts as
// verified (the link came to it), the event is recorded and the inviter is
// told by email. It is the one way of joining an account after an
// invitation.
func (s *Service) join(ctx context.Context, w *work.Unit, t *equipe.Token, acct equipe.Account, u *equipe.User, from string) error {
	if err := w.Consume(ctx, t); err != nil {
		return err
	}
	m, err := w.LockMember(ctx, acct.ID, u.ID)
	if err != nil {
		return err
	}
	if m.Status == equipe.MemberSuspended {
		return &equipe.Error{Code: equipe.ECONFLICT, Key: "invitation.member_suspended"}
	}
	if err := w.MarkEmailVerified(ctx, u.ID, w.Now()); err != nil {
		return err
	}
	if u.EmailVerifiedAt.IsZero() {
		u.EmailVerifiedAt = w.Now()
	}
	if err := w.JoinMember(ctx, acct.ID, u.ID, w.Now()); err != nil {
		return err
	}
	if err := w.Record(ctx, event.MemberJoined.In(acct.ID, u.ID.String(), nil, &event.Join{From: from})); err != nil {
		return err
	}
	if m.InvitedBy == nil || !acct.NotifyAdder.OnJoin() {
		return nil
	}
	return s.confirmToInviter(ctx, w, acct, *m.InvitedBy, *u)
}

// confirmToInviter tells the inviter that u joined the account, at the
// inviter's notification email for the account if they set one, else at
// their own confirmed one. An inviter
// who is gone is told nothing. Someone whose identity has no names (added
// by address, a first password set with a reset link, which asks none) is
// named by their address, as the account's pages name them.
func (s *Service) confirmToInviter(ctx context.Context, w *work.Unit, acct equipe.Account, inviterID equipe.ID, u equipe.User) error {
	inviter, err := w.UserByID(ctx, inviterID)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	to := NotifyAddress(inviter)
	if im, err := w.Member(ctx, acct.ID, inviter.ID); err == nil && im.NotificationEmail != "" {
		to = im.NotificationEmail
	}
	return w.Mail(ctx, mail.TemplateInviterConfirmation, orDefault(inviter.Locale, acct.Locale), to, mail.Data{
		RecipientName: cmp.Or(u.Name(), u.Email), RecipientID: u.ID, InviterName: inviter.Name(), InviterID: inviter.ID, AccountName: acct.Name,
		Link: s.Work.Link("/accounts/" + acct.ID.String() + "/members")})
}

// InvitationTTL returns how long an account's invitation links work.
func InvitationTTL(a equipe.Account) time.Duration {
	h := a.InvitationTTLHours
	if h <= 0 {
		h = equipe.DefaultInvitationTTLHours
	}
	return time.Duration(h) * time.Hour
}
