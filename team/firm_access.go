package team

import (
	"context"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/work"
)

// AccountEndFirmAccess is the action of a client account's own people on
// its firm: ending the access the firm's staff have to it.
const AccountEndFirmAccess = "end_firm_access" // account.manage, in a client account, by its own people

// mayEndFirmAccess says whether the actor, holding m in the account, may
// end its firm's access to it, with the refusal EndFirmAccess answers. A
// business is its data's controller: its own administrators end the firm's
// access without asking the firm, as a business changing accountants does.
// The firm's staff do it from the firm's side (DetachClient), where the
// firm sees it among its clients; keys are refused, so that the firm hears
// of it from a person it can ask.
func (s *Service) mayEndFirmAccess(actor Actor, m *access.Member, a *access.Account, parent *equipe.ID) error {
	if err := s.permission(m, a, "account.manage"); err != nil {
		return err
	}
	switch {
	case parent == nil:
		return conflict("client.no_firm", nil)
	case m.ViaFirm():
		return forbidden("client.end_from_firm", nil)
	case actor.Key != nil:
		return forbidden("client.end_by_person", nil)
	}
	return nil
}

// EndFirmAccess ends, at the client account's request, the access its firm
// has to it: the account becomes independent, as when the firm detaches it
// (every access inherited from the firm ends, and the keys the firm's staff
// made there), and the firm's administrators are told by email. Only the
// client's own administrators (account.manage, not through the firm) and
// the instance's may; a client that is no firm's answers client.no_firm.
func (s *Service) EndFirmAccess(ctx context.Context, actor Actor, client equipe.ID) error {
	m, a, err := s.actorMember(ctx, actor, client)
	if err != nil {
		return err
	}
	if m == nil {
		s.refusedAcross(ctx, actor, client, "account.manage")
		return notFound()
	}
	acct, err := s.loadAccount(ctx, client)
	if err != nil {
		return err
	}
	if err := s.mayEndFirmAccess(actor, m, a, acct.parent); err != nil {
		return err
	}
	firm := *acct.parent
	by := ""
	if actor.User != nil && !actor.instance() {
		by = actor.User.Name()
	}
	return s.do(ctx, actor, func(u *work.Unit) error {
		c, err := u.AccountByID(ctx, client)
		if err != nil {
			return err
		}
		if c.ParentID == nil || *c.ParentID != firm {
			// Detached by the firm in the meantime.
			return conflict("client.no_firm", nil)
		}
		if err := s.detach(ctx, u, firm, client); err != nil {
			return err
		}
		admins, err := u.LockActiveAdmins(ctx, firm)
		if err != nil {
			return err
		}
		for _, id := range admins {
			user, err := u.UserByID(ctx, id)
			if err != nil {
				return err
			}
			d := mail.Data{RecipientName: user.Name(), RecipientID: user.ID, AccountName: c.Name, InviterName: by,
				Link: s.Work.Link("/accounts/" + firm.String() + "/clients")}
			if err := u.Mail(ctx, mail.TemplateFirmAccessEnded, user.Locale, identity.NotifyAddress(user), d); err != nil {
				return err
			}
		}
		return nil
	})
}
