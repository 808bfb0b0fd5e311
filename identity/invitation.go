package identity

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/mail"
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
// they were added under, else their identity's.
func (inv Invitation) FirstName() string {
	if inv.Member.FirstName != "" || inv.Member.LastName != "" {
		return inv.Member.FirstName
	}
	return inv.User.FirstName
}

// LastName: see FirstName.
func (inv Invitation) LastName() string {
	if inv.Member.FirstName != "" || inv.Member.LastName != "" {
		return inv.Member.LastName
	}
	return inv.User.LastName
}

// Invitation returns what the invitation link's secret is for, without
// using it: opening the link (a GET, perhaps by a mail scanner) accepts
// nothing. An unusable link answers ENOTFOUND link.invalid, link.expired or
// link.used — and for the last two, the invitation is returned all the same,
// so that the page can say which account it was for and whom to ask.
func (s *Service) Invitation(ctx context.Context, secret string, o Origin) (Invitation, error) {
	now := s.Now()
	t, u, err := s.lookupToken(ctx, equipe.TokenInvitation, secret, o, now)
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
	// them, and their acceptance of the privacy policy (the version shown).
	Password            string
	FirstName           string
	LastName            string
	AcceptPrivacyPolicy bool
	PolicyVersion       string
}

// AcceptInvitation uses an invitation link: the member joins the account.
//
// A new user sets their password and names and accepts the privacy policy
// (the link proved they read their mail: their email counts as verified),
// and is logged in: the returned secret is their new session. An existing
// user must be logged in as themselves (current); their password is
// untouched and no new session is made. Someone logged in as another user
// gets ECONFLICT "invitation.other_user", with nothing used: they may log
// out and open the link again.
//
// The inviter is told by email that the person joined.
func (s *Service) AcceptInvitation(ctx context.Context, secret string, in Accept, current *Auth, o Origin) (Auth, string, error) {
	now := s.Now()
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
	var first, last, hash, version string
	if inv.NewUser {
		var v equipe.Invalid
		first = CheckName(&v, "first_name", orDefault(in.FirstName, inv.FirstName()))
		last = CheckName(&v, "last_name", orDefault(in.LastName, inv.LastName()))
		CheckNewPassword(&v, in.Password, inv.User.Email, first, last, inv.Account.Name)
		if !in.AcceptPrivacyPolicy {
			v.Add("accept_privacy_policy", "consent.must_accept")
		}
		if err := v.Err(); err != nil {
			return Auth{}, "", err
		}
		if p, err := s.CurrentPolicy(ctx); err == nil {
			version = orDefault(in.PolicyVersion, p.Version)
			if version != p.Version {
				return Auth{}, "", &equipe.Error{Code: equipe.ECONFLICT, Key: "consent.outdated"}
			}
		} else if equipe.ErrorCode(err) != equipe.ENOTFOUND {
			return Auth{}, "", err
		}
		hash = s.Hasher.Hash(in.Password)
	} else if current == nil {
		return Auth{}, "", &equipe.Error{Code: equipe.EUNAUTHORIZED, Key: "invitation.login_required",
			Args: map[string]any{"email": inv.User.Email}}
	}

	var auth Auth
	var session string
	err = s.write(ctx, now, o, func(tx *Tx) error {
		if err := tx.Consume(ctx, &t); err != nil {
			return err
		}
		// The membership as it stands now: a suspension made while the
		// password was being hashed holds.
		m, err := tx.LockMember(ctx, inv.Account.ID, inv.User.ID)
		if err != nil {
			return err
		}
		if m.Status == equipe.MemberSuspended {
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "invitation.member_suspended"}
		}
		u := inv.User
		// The link came to the login email: whoever uses it receives mail there.
		if err := tx.MarkEmailVerified(ctx, u.ID, now); err != nil {
			return err
		}
		if u.EmailVerifiedAt.IsZero() {
			u.EmailVerifiedAt = now
		}
		if inv.NewUser {
			if err := tx.SetPassword(ctx, u.ID, hash, now); err != nil {
				return err
			}
			if err := tx.SetUserNames(ctx, u.ID, first, last); err != nil {
				return err
			}
			u.FirstName, u.LastName, u.PasswordHash = first, last, hash
			if version != "" {
				if err := tx.RecordConsent(ctx, &equipe.Consent{UserID: u.ID, Version: version, AcceptedAt: now, IP: o.IP}); err != nil {
					return err
				}
			}
		}
		if err := tx.JoinMember(ctx, inv.Account.ID, u.ID, now); err != nil {
			return err
		}
		if err := tx.Audit(ctx, &inv.Account.ID, &u.ID, "member.joined", "user", u.ID.String(), nil,
			map[string]any{"new_user": inv.NewUser}); err != nil {
			return err
		}
		if inv.Inviter != nil {
			if err := tx.confirmToInviter(ctx, inv, u); err != nil {
				return err
			}
		}
		if inv.NewUser {
			var err error
			auth, session, err = tx.StartSession(ctx, &u)
			return err
		}
		auth = *current
		auth.User.EmailVerifiedAt = u.EmailVerifiedAt
		return nil
	})
	return auth, session, err
}

// confirmToInviter tells the inviter that u joined, at the inviter's
// notification email for the account if they set one.
func (tx *Tx) confirmToInviter(ctx context.Context, inv Invitation, u equipe.User) error {
	to := inv.Inviter.Email
	if im, err := tx.Member(ctx, inv.Account.ID, inv.Inviter.ID); err == nil && im.NotificationEmail != "" {
		to = im.NotificationEmail
	}
	return tx.Mail(ctx, "inviter_confirmation", orDefault(inv.Inviter.Locale, inv.Account.Locale), to, mail.Data{
		RecipientName: u.Name(), InviterName: inv.Inviter.Name(), AccountName: inv.Account.Name,
		Link: tx.s.link("/accounts/" + inv.Account.ID.String() + "/members")})
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// InvitationTTL returns how long an account's invitation links work.
func InvitationTTL(a equipe.Account) time.Duration {
	h := a.InvitationTTLHours
	if h <= 0 {
		h = equipe.DefaultInvitationTTLHours
	}
	return time.Duration(h) * time.Hour
}

// Link returns an absolute URL under the public URL.
func (s *Service) Link(path string) string { return s.link(path) }
