package team

import (
	"context"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/store"
)

// CreateClient creates a client account under the firm (C10, seed 001):
// the firm's staff act in it with their firm role — its administrators
// everywhere, the others where they are assigned. The creator, if not an
// administrator of the firm, is assigned to it. An owner, when given, is
// invited as the client account's administrator. The actor needs
// subaccounts.manage in the firm.
func (s *Service) CreateClient(ctx context.Context, actor Actor, firm equipe.ID, in NewAccount) (equipe.Account, error) {
	m, _, err := s.authorize(ctx, actor, firm, "subaccounts.manage")
	if err != nil {
		return equipe.Account{}, err
	}
	var v equipe.Invalid
	ownerEmail, ownerKey := s.checkNewAccount(&v, &in, false)
	if err := v.Err(); err != nil {
		return equipe.Account{}, err
	}
	var acct equipe.Account
	err = s.Identity.Write(ctx, identity.Origin{IP: actor.IP}, func(tx *identity.Tx) error {
		f, err := tx.AccountByID(ctx, firm)
		if err != nil {
			return err
		}
		if f.ParentID != nil {
			// Access reaches one level down: a client's client would be
			// out of the firm's reach.
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "client.nested"}
		}
		if acct, err = s.createAccount(ctx, tx, actor, in, &firm); err != nil {
			return err
		}
		if actor.User != nil && !isAdmin(m) {
			if err := tx.AssignClientStaff(ctx, acct.ID, actor.User.ID, tx.Now()); err != nil {
				return err
			}
		}
		if ownerKey != "" {
			// The owner's invitation goes out on the firm's behalf: it counts
			// against the firm's invitations.
			if err := limit(ctx, tx, "invite", "invite:account:"+firm.String(), invitesPerAccount); err != nil {
				return err
			}
			if _, err := s.owner(ctx, tx, actor, acct, in, ownerEmail, ownerKey); err != nil {
				return err
			}
		}
		return nil
	})
	return acct, err
}

// Clients returns the firm's client accounts the actor reaches, with their
// assigned staff: all of them for the firm's administrators, the instance
// and API keys that manage client accounts; those they are assigned to for
// the other members; none for other API keys.
func (s *Service) Clients(ctx context.Context, actor Actor, firm equipe.ID) ([]store.ClientAccount, error) {
	m, a, err := s.actorMember(ctx, actor, firm)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, notFound()
	}
	switch {
	case s.reachesEveryClient(actor, m, a):
		return s.DB.Clients(ctx, firm, nil)
	case actor.User == nil:
		return nil, nil
	}
	id := actor.User.ID
	return s.DB.Clients(ctx, firm, &id)
}

// reachesEveryClient reports whether the firm's member m reaches every
// client of the firm: administrators (the instance acts as one) do, and so
// do API keys allowed to manage client accounts; a person reaches only the
// clients they are assigned to.
func (s *Service) reachesEveryClient(actor Actor, m *access.Member, a *access.Account) bool {
	return isAdmin(m) || (actor.User == nil && s.Catalogue.Check(m, a, "subaccounts.manage", access.Query{}).Allowed)
}

// client checks that client is a client account of firm that the actor
// reaches, for an actor who needs subaccounts.manage in the firm. A client
// out of the actor's reach answers as one that does not exist.
func (s *Service) client(ctx context.Context, actor Actor, firm, client equipe.ID) error {
	m, a, err := s.authorize(ctx, actor, firm, "subaccounts.manage")
	if err != nil {
		return err
	}
	c, err := s.DB.AccountByID(ctx, client)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND || (err == nil && (c.ParentID == nil || *c.ParentID != firm)) {
		return notFound()
	} else if err != nil {
		return err
	}
	if s.reachesEveryClient(actor, m, a) {
		return nil
	}
	if actor.User == nil {
		return notFound()
	}
	assigned, err := s.DB.IsClientStaff(ctx, client, actor.User.ID)
	if err != nil {
		return err
	}
	if !assigned {
		return notFound()
	}
	return nil
}

// AssignStaff lets a member of the firm act in one of its client accounts
// ("Lui affecter les entreprises de votre choix", seed 001).
func (s *Service) AssignStaff(ctx context.Context, actor Actor, firm, client, user equipe.ID) error {
	if err := s.client(ctx, actor, firm, client); err != nil {
		return err
	}
	return s.Identity.Write(ctx, identity.Origin{IP: actor.IP}, func(tx *identity.Tx) error {
		if _, err := tx.Member(ctx, firm, user); equipe.ErrorCode(err) == equipe.ENOTFOUND {
			return &equipe.Error{Code: equipe.EINVALID, Key: "error.fields",
				Fields: []equipe.FieldError{{Field: "user_id", Key: "client.staff_not_member"}}}
		} else if err != nil {
			return err
		}
		if err := tx.AssignClientStaff(ctx, client, user, tx.Now()); err != nil {
			return err
		}
		return tx.Audit(ctx, &firm, actor.actorID(), "client.staff_assigned", "account", client.String(), nil,
			map[string]any{"user_id": user.String()})
	})
}

// UnassignStaff takes that back: the inherited access ends on the firm
// member's next request.
func (s *Service) UnassignStaff(ctx context.Context, actor Actor, firm, client, user equipe.ID) error {
	if err := s.client(ctx, actor, firm, client); err != nil {
		return err
	}
	return s.Identity.Write(ctx, identity.Origin{IP: actor.IP}, func(tx *identity.Tx) error {
		if err := tx.UnassignClientStaff(ctx, client, user); err != nil {
			return err
		}
		return tx.Audit(ctx, &firm, actor.actorID(), "client.staff_unassigned", "account", client.String(),
			map[string]any{"user_id": user.String()}, nil)
	})
}

// DetachClient makes the client account independent of the firm: every
// access inherited from the firm ends on the next request, API keys the
// firm's staff made in the client included; the client's own members and
// their keys stay. A client without an active administrator of its own cannot
// be detached (ECONFLICT "client.no_admin"): nobody could reach it after.
func (s *Service) DetachClient(ctx context.Context, actor Actor, firm, client equipe.ID) error {
	if err := s.client(ctx, actor, firm, client); err != nil {
		return err
	}
	return s.Identity.Write(ctx, identity.Origin{IP: actor.IP}, func(tx *identity.Tx) error {
		admins, err := tx.LockActiveAdmins(ctx, client)
		if err != nil {
			return err
		}
		if len(admins) == 0 {
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "client.no_admin"}
		}
		if err := tx.SetAccountParent(ctx, client, nil); err != nil {
			return err
		}
		// Keys made in the client by the firm's staff, acting through the
		// firm, were part of the firm's access: they end with it.
		keys, err := tx.APIKeys(ctx, &client)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if !k.RevokedAt.IsZero() || k.CreatedBy == nil {
				continue
			}
			if _, err := tx.Member(ctx, client, *k.CreatedBy); err == nil {
				continue
			} else if equipe.ErrorCode(err) != equipe.ENOTFOUND {
				return err
			}
			if err := tx.RevokeAPIKey(ctx, &client, k.ID, tx.Now()); err != nil {
				return err
			}
			if err := tx.Audit(ctx, &client, actor.actorID(), "api_key.revoked", "api_key", k.ID.String(), nil,
				map[string]any{"reason": "client.detached"}); err != nil {
				return err
			}
		}
		if err := tx.Audit(ctx, &client, actor.actorID(), "client.detached", "account", client.String(),
			map[string]any{"parent_id": firm.String()}, nil); err != nil {
			return err
		}
		return tx.Audit(ctx, &firm, actor.actorID(), "client.detached", "account", client.String(),
			map[string]any{"parent_id": firm.String()}, nil)
	})
}

// AccountEntry is one account of a person's account list (the account
// switcher): a membership, or a client account reached through a firm.
type AccountEntry struct {
	Account equipe.Account
	Member  *equipe.Member // nil: reached through the firm
	Firm    *equipe.ID     // the firm, for a client account reached through it
}

// MyAccounts returns the accounts the user reaches: their memberships (any
// status, so that pending invitations show), then the client accounts of
// their firms.
func (s *Service) MyAccounts(ctx context.Context, user equipe.ID) ([]AccountEntry, error) {
	mas, err := s.DB.AccountsOfUser(ctx, user)
	if err != nil {
		return nil, err
	}
	out := make([]AccountEntry, 0, len(mas))
	for _, ma := range mas {
		m := ma.Member
		out = append(out, AccountEntry{Account: ma.Account, Member: &m})
	}
	clients, err := s.DB.StaffClients(ctx, user)
	if err != nil {
		return nil, err
	}
	for _, c := range clients {
		out = append(out, AccountEntry{Account: c, Firm: c.ParentID})
	}
	return out, nil
}

// SwitchAccount remembers account as the current account of the session;
// the user must reach it (a membership or a firm's client). nil forgets it.
func (s *Service) SwitchAccount(ctx context.Context, user, session equipe.ID, account *equipe.ID) error {
	if account != nil {
		entries, err := s.MyAccounts(ctx, user)
		if err != nil {
			return err
		}
		found := false
		for _, e := range entries {
			// Only an account one can enter: joined and not suspended, or a
			// client reached through the firm.
			enterable := e.Member == nil || e.Member.Status == equipe.MemberActive
			found = found || (e.Account.ID == *account && enterable)
		}
		if !found {
			return notFound()
		}
	}
	return s.Identity.Write(ctx, identity.Origin{}, func(tx *identity.Tx) error {
		return tx.SetSessionAccount(ctx, session, account)
	})
}

// CreateResource adds a resource (a location, a product…) to the account
// (resources.manage).
func (s *Service) CreateResource(ctx context.Context, actor Actor, account equipe.ID, typ, name, externalID string) (equipe.Resource, error) {
	if _, _, err := s.authorize(ctx, actor, account, "resources.manage"); err != nil {
		return equipe.Resource{}, err
	}
	var v equipe.Invalid
	if _, ok := s.Catalogue.ResourceType(typ); !ok {
		v.Add("type", "resource.type_unknown")
	}
	name = identity.CheckName(&v, "name", name)
	if len(externalID) > 200 {
		v.AddArgs("external_id", "name.too_long", map[string]any{"max": 200})
	}
	if err := v.Err(); err != nil {
		return equipe.Resource{}, err
	}
	r := equipe.Resource{ID: equipe.NewID(), AccountID: account, Type: typ, Name: name, ExternalID: externalID}
	err := s.Identity.Write(ctx, identity.Origin{IP: actor.IP}, func(tx *identity.Tx) error {
		r.CreatedAt = tx.Now()
		if err := tx.CreateResource(ctx, &r); err != nil {
			return err
		}
		return tx.Audit(ctx, &account, actor.actorID(), "resource.created", "resource", r.ID.String(), nil,
			map[string]any{"type": r.Type, "name": r.Name})
	})
	return r, err
}
