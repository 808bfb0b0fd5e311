package team

import (
	"context"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/mail"
)

// JoinPending lets a logged-in user join, from their account list, an
// account that invited them (seed 004: someone who already has an identity
// reaches the new account from their dashboard). It uses their newest usable
// invitation link to the account, which stops working, exactly as opening
// that link and joining would: the member becomes active, the event is
// audited and the inviter is told by email. Their password is untouched.
//
// A user who is not a member answers ENOTFOUND; one who joined already,
// ECONFLICT "invitation.already_joined"; a suspended member, ECONFLICT
// "invitation.member_suspended"; a member with no invitation sent (or only
// revoked ones), ECONFLICT "invitation.none_pending"; a user whose login
// email is not verified, ECONFLICT "invitation.email_unverified" (the emailed
// link proves the address; it still works); one whose invitations
// all expired, ENOTFOUND "link.expired" (an administrator must send a new
// one).
func (s *Service) JoinPending(ctx context.Context, actor Actor, account equipe.ID) error {
	if actor.User == nil {
		return notFound()
	}
	user := actor.User.ID
	return s.Identity.Write(ctx, identity.Origin{IP: actor.IP}, func(tx *identity.Tx) error {
		m, err := tx.LockMember(ctx, account, user)
		if equipe.ErrorCode(err) == equipe.ENOTFOUND {
			return notFound()
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
		u, err := tx.UserByID(ctx, user)
		if err != nil {
			return err
		}
		if u.PasswordHash == "" {
			// Only the link can let someone without a password in: they set
			// one there.
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "invitation.none_pending"}
		}
		if u.EmailVerifiedAt.IsZero() {
			// Whoever signed up with an address they do not read must not
			// collect the invitations sent to it: joining without the
			// emailed link needs an address proven to be theirs.
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "invitation.email_unverified",
				Args: map[string]any{"email": u.Email}}
		}
		tokens, err := tx.AccountTokens(ctx, user, account, equipe.TokenInvitation)
		if err != nil {
			return err
		}
		var token *equipe.Token
		expired := false
		for i := range tokens {
			t := &tokens[i]
			if t.Usable(tx.Now()) {
				token = t
				break
			}
			if t.UsedAt.IsZero() && t.SupersededAt.IsZero() {
				expired = true
			}
		}
		if token == nil {
			if expired {
				return &equipe.Error{Code: equipe.ENOTFOUND, Key: "link.expired"}
			}
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "invitation.none_pending"}
		}
		if err := tx.Consume(ctx, token); err != nil {
			return err
		}
		if err := tx.JoinMember(ctx, account, user, tx.Now()); err != nil {
			return err
		}
		if err := tx.Audit(ctx, &account, &user, "member.joined", "user", user.String(), nil,
			map[string]any{"new_user": false, "from": "account_list"}); err != nil {
			return err
		}
		if m.InvitedBy == nil {
			return nil
		}
		return s.confirmJoin(ctx, tx, account, *m.InvitedBy, u)
	})
}

// confirmJoin tells the inviter that u joined the account, at the inviter's
// notification email for the account if they set one. An inviter who is gone
// is told nothing.
func (s *Service) confirmJoin(ctx context.Context, tx *identity.Tx, account, inviterID equipe.ID, u equipe.User) error {
	inviter, err := tx.UserByID(ctx, inviterID)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	acct, err := tx.AccountByID(ctx, account)
	if err != nil {
		return err
	}
	to := inviter.Email
	if im, err := tx.Member(ctx, account, inviter.ID); err == nil && im.NotificationEmail != "" {
		to = im.NotificationEmail
	}
	return tx.Mail(ctx, mail.TemplateInviterConfirmation, orDefault(inviter.Locale, acct.Locale), to, mail.Data{
		RecipientName: u.Name(), InviterName: inviter.Name(), AccountName: acct.Name,
		Link: s.Identity.Link("/accounts/" + account.String() + "/members")})
}
