package team

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/work"
)

// accountsPerDay bounds the accounts one person creates for others.
const accountsPerDay = 20

// NewAccount is an account created for a business, or for a firm's client.
type NewAccount struct {
	Name         string
	Locale       string
	ResourceType string // default: location
	ResourceName string // default: the account's name
	// Owner is the business's owner, invited as the account's administrator.
	// Optional for a client account (the firm's staff manage it).
	OwnerEmail     string
	OwnerFirstName string
	OwnerLastName  string
	// Message is a personal message from the creator, carried by the
	// owner's email.
	Message string
}

// maxMessage bounds a personal message.
const maxMessage = 2000

func (s *Service) checkNewAccount(v *equipe.Invalid, in *NewAccount, ownerRequired bool) (ownerEmail, ownerKey string) {
	in.Name = identity.CheckName(v, "name", in.Name)
	if !equipe.ValidLocale(in.Locale) {
		v.Add("locale", "locale.invalid")
	}
	if in.ResourceType == "" {
		in.ResourceType = equipe.ResourceLocation
	}
	if _, ok := s.Catalogue.ResourceType(in.ResourceType); !ok {
		v.Add("first_resource.type", "resource.type_unknown")
	}
	if in.ResourceName == "" {
		in.ResourceName = in.Name
	}
	if !v.Has("name") {
		in.ResourceName = identity.CheckName(v, "first_resource.name", in.ResourceName)
	}
	in.Message = strings.TrimSpace(in.Message)
	if utf8.RuneCountInString(in.Message) > maxMessage || strings.ContainsRune(in.Message, 0) {
		v.AddArgs("message", "account.message_too_long", map[string]any{"max": maxMessage})
	}
	if !ownerRequired && strings.TrimSpace(in.OwnerEmail) == "" {
		return "", ""
	}
	email, key, p := identity.NormalizeEmail(in.OwnerEmail)
	if p != "" {
		v.Add("owner.email", p)
	}
	in.OwnerFirstName = identity.CheckName(v, "owner.first_name", in.OwnerFirstName)
	in.OwnerLastName = identity.CheckName(v, "owner.last_name", in.OwnerLastName)
	return email, key
}

// CreateAccountFor creates an account on behalf of a business, in one step:
// the account and its first resource, its owner invited as
// administrator — to set their own password, or, if their email already
// has an identity, to join with it — with the creator's personal message;
// and the creator kept as a Manager, which the owner sees on the team page
// and can remove. The creator never learns or sets the owner's password.
// A creator who gives their own address as the owner's administers the
// account at once, as after a sign-up. A logged-in person or an instance API key may do it; a person at most
// twenty times a day.
func (s *Service) CreateAccountFor(ctx context.Context, actor Actor, in NewAccount) (equipe.Account, error) {
	if actor.User == nil && !actor.instance() {
		return equipe.Account{}, forbidden("account.create_forbidden", nil)
	}
	var v equipe.Invalid
	ownerEmail, ownerKey := s.checkNewAccount(&v, &in, true)
	if err := v.Err(); err != nil {
		return equipe.Account{}, err
	}
	var acct equipe.Account
	err := s.do(ctx, actor, func(u *work.Unit) error {
		if actor.User != nil {
			if err := u.Limit(ctx, "accounts:user:"+actor.User.ID.String(), accountsPerDay, 24*time.Hour, ""); err != nil {
				return err
			}
		}
		var err error
		acct, err = s.createAccount(ctx, u, in, nil)
		if err != nil {
			return err
		}
		owner, err := s.owner(ctx, u, actor, acct, in, ownerEmail, ownerKey)
		if err != nil {
			return err
		}
		// The creator keeps a Manager membership, unless they are the owner.
		if actor.User != nil && actor.User.ID != owner.ID {
			m := equipe.Member{AccountID: acct.ID, UserID: actor.User.ID, Role: equipe.RoleManager, Status: equipe.MemberActive,
				JoinedAt: u.Now(), CreatedAt: u.Now()}
			if err := u.CreateMember(ctx, &m); err != nil {
				return err
			}
			if err := u.Record(ctx, event.MemberAdded.In(acct.ID, actor.User.ID.String(), nil, &event.Added{
				Email: actor.User.Email, Role: m.Role, Status: m.Status, Resources: []equipe.ID{}, Creator: true})); err != nil {
				return err
			}
		}
		return nil
	})
	return acct, err
}

// createAccount writes an account and its first resource, and records it
// in the account's log and, for a client, in its firm's.
func (s *Service) createAccount(ctx context.Context, u *work.Unit, in NewAccount, parent *equipe.ID) (equipe.Account, error) {
	now := u.Now()
	a := equipe.Account{ID: equipe.NewID(), Name: in.Name, Locale: in.Locale, ParentID: parent,
		InvitationTTLHours: equipe.DefaultInvitationTTLHours, CreatedAt: now}
	if err := u.CreateAccount(ctx, &a); err != nil {
		return a, err
	}
	r := equipe.Resource{ID: equipe.NewID(), AccountID: a.ID, Type: in.ResourceType, Name: in.ResourceName, CreatedAt: now}
	if err := u.CreateResource(ctx, &r); err != nil {
		return a, err
	}
	created := event.NewAccount{Name: a.Name, Locale: a.Locale, ParentID: parent, FirstResource: event.Resource{Type: r.Type, Name: r.Name}}
	if err := u.Record(ctx, event.AccountCreated.In(a.ID, a.ID.String(), nil, &created)); err != nil {
		return a, err
	}
	if parent != nil {
		// The firm's log tells of its client's creation, as it does of the
		// client's staff and its detachment: its history of whom it reaches
		// starts there.
		return a, u.Record(ctx, event.AccountCreated.In(*parent, a.ID.String(), nil, &created))
	}
	return a, nil
}

// owner makes the business's owner the account's administrator and sends
// them their email: the account created for them (a new identity sets a
// password), or, for an existing identity, access to it. A creator who
// names themselves is the administrator at once, without an email.
func (s *Service) owner(ctx context.Context, u *work.Unit, actor Actor, acct equipe.Account, in NewAccount, email, key string) (equipe.User, error) {
	now := u.Now()
	usr, err := u.UserByEmailKey(ctx, key)
	existing := err == nil
	first, last := in.OwnerFirstName, in.OwnerLastName
	switch {
	case existing:
		if first, last, err = namesUntilJoined(ctx, u, actor, usr, first, last); err != nil {
			return usr, err
		}
	case equipe.ErrorCode(err) == equipe.ENOTFOUND:
		// As for any member added: the names typed stay on the membership.
		usr = equipe.User{ID: equipe.NewUserID(), Email: email, EmailKey: key, CreatedAt: now}
		if err := u.CreateUser(ctx, &usr); err != nil {
			return usr, err
		}
	default:
		return usr, err
	}
	if actor.User != nil && usr.ID == actor.User.ID {
		// The creator names themselves the owner: they administer the
		// account at once, as after a sign-up, and there is nobody to
		// invite, nor a Manager membership to keep beside it.
		m := equipe.Member{AccountID: acct.ID, UserID: usr.ID, Role: equipe.RoleAdmin, Status: equipe.MemberActive,
			JoinedAt: now, CreatedAt: now}
		if err := u.CreateMember(ctx, &m); err != nil {
			return usr, err
		}
		return usr, u.Record(ctx, event.MemberAdded.In(acct.ID, usr.ID.String(), nil, &event.Added{Email: usr.Email,
			Role: m.Role, Status: m.Status, Resources: []equipe.ID{}, Owner: true}))
	}
	// Shown under the names the creator typed until they join.
	m := equipe.Member{AccountID: acct.ID, UserID: usr.ID, Role: equipe.RoleAdmin, Status: equipe.MemberCreated, CreatedAt: now,
		FirstName: first, LastName: last, InvitedBy: actor.userID()}
	if err := u.CreateMember(ctx, &m); err != nil {
		return usr, err
	}
	if err := u.Record(ctx, event.MemberAdded.In(acct.ID, usr.ID.String(), nil, &event.Added{Email: usr.Email,
		Role: m.Role, Status: m.Status, Resources: []equipe.ID{}, Owner: true})); err != nil {
		return usr, err
	}
	template := mail.TemplateAccountCreatedForYou
	if existing && usr.PasswordHash != "" {
		template = mail.TemplateAccessGranted
	}
	return usr, s.sendInvitation(ctx, u, actor, acct, &m, usr, template, in.Message, false)
}

// AccountDelete is the action of deleting the account with everything in
// it (see DeleteAccount).
const AccountDelete = "delete_account" // account.manage, by an administrator of the account or the instance

// mayDeleteAccount says whether the actor, holding m in the account, may
// delete it, with the refusal DeleteAccount answers. Deleting cannot be
// undone, so it takes the account's own administrator (the built-in role,
// not a firm's staff reaching a client, nor a role that only manages the
// settings) or the instance (an administrator or an instance key: a vendor
// closing a customer's tenant); an account key never may. A firm's account
// waits until it has no clients: each is a business of its own, which the
// firm detaches or its people delete.
func (s *Service) mayDeleteAccount(ctx context.Context, actor Actor, account equipe.ID, m *access.Member, a *access.Account) error {
	if err := s.permission(m, a, "account.manage"); err != nil {
		return err
	}
	switch {
	case actor.instance():
	case actor.Key != nil:
		return forbidden("account.delete_by_person", nil)
	case m.ViaFirm():
		return forbidden("account.delete_from_firm", nil)
	case m.RoleKey() != equipe.RoleAdmin:
		return forbidden("account.delete_admins_only", nil)
	}
	clients, err := s.DB.HasClients(ctx, account)
	if err != nil {
		return err
	}
	if clients {
		return conflict("account.has_clients", nil)
	}
	return nil
}

// DeleteAccount deletes the account with everything in it: its members
// (their identities stay, as after a removal, with their other accounts),
// resources, roles, contacts, API keys, webhook endpoints, imports,
// pending invitations and its audit log. The OpenID Connect grants that
// signed people in to it end. The instance's log records account.deleted
// with the account's last settings, which the change stream and the
// instance's webhooks carry; every process forgets what it held of the
// account. See mayDeleteAccount for who may.
func (s *Service) DeleteAccount(ctx context.Context, actor Actor, account equipe.ID) error {
	m, a, err := s.actorMember(ctx, actor, account)
	if err != nil {
		return err
	}
	if m == nil {
		s.refusedAcross(ctx, actor, account, "account.manage")
		return notFound()
	}
	if err := s.mayDeleteAccount(ctx, actor, account, m, a); err != nil {
		return err
	}
	return s.do(ctx, actor, func(u *work.Unit) error {
		admins, err := u.LockActiveAdmins(ctx, account)
		if err != nil {
			return err
		}
		if !actor.instance() && !slices.Contains(admins, actor.personID()) {
			// Demoted, suspended or removed since their rights were read.
			return forbidden("account.delete_admins_only", nil)
		}
		acct, err := u.AccountByID(ctx, account)
		if err != nil {
			return err
		}
		clients, err := u.HasClients(ctx, account)
		if err != nil {
			return err
		}
		if clients {
			return conflict("account.has_clients", nil)
		}
		if err := u.DeleteAccount(ctx, account, u.Now()); err != nil {
			return err
		}
		before := event.SettingsOf(acct)
		return u.Record(ctx, event.AccountDeleted.New(nil, account.String(), &before, nil))
	})
}
