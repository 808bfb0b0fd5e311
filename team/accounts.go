package team

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/mail"
)

// accountsPerDay bounds the accounts one person creates for others.
const accountsPerDay = 20

// NewAccount is an account created for a business (C2) or for a firm's
// client (C10).
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

// CreateAccountFor creates an account on behalf of a business, in one step
// (C2, seed 000): the account and its first resource, its owner invited as
// administrator — to set their own password, or, if their email already
// has an identity, to join with it — with the creator's personal message;
// and the creator kept as a Manager, which the owner sees on the team page
// and can remove. The creator never learns or sets the owner's password.
// A logged-in person or an instance API key may do it; a person at most
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
	err := s.Identity.Write(ctx, identity.Origin{IP: actor.IP}, func(tx *identity.Tx) error {
		if actor.User != nil {
			ok, wait, err := tx.Hit(ctx, "accounts:user:"+actor.User.ID.String(), accountsPerDay, 24*time.Hour)
			if err != nil {
				return err
			}
			if !ok {
				return identity.Throttled(wait)
			}
		}
		var err error
		acct, err = s.createAccount(ctx, tx, actor, in, nil)
		if err != nil {
			return err
		}
		owner, err := s.owner(ctx, tx, actor, acct, in, ownerEmail, ownerKey)
		if err != nil {
			return err
		}
		// The creator keeps a Manager membership, unless they are the owner.
		if actor.User != nil && actor.User.ID != owner.ID {
			m := equipe.Member{AccountID: acct.ID, UserID: actor.User.ID, Role: equipe.RoleManager, Status: equipe.MemberActive,
				JoinedAt: tx.Now(), CreatedAt: tx.Now()}
			if err := tx.CreateMember(ctx, &m); err != nil {
				return err
			}
			if err := s.auditTx(ctx, tx, actor, acct.ID, "member.added", actor.User.ID, nil,
				map[string]any{"email": actor.User.Email, "role": m.Role, "creator": true}); err != nil {
				return err
			}
		}
		return nil
	})
	return acct, err
}

// createAccount writes an account and its first resource.
func (s *Service) createAccount(ctx context.Context, tx *identity.Tx, actor Actor, in NewAccount, parent *equipe.ID) (equipe.Account, error) {
	now := tx.Now()
	a := equipe.Account{ID: equipe.NewID(), Name: in.Name, Locale: in.Locale, ParentID: parent,
		InvitationTTLHours: equipe.DefaultInvitationTTLHours, CreatedAt: now}
	if err := tx.CreateAccount(ctx, &a); err != nil {
		return a, err
	}
	r := equipe.Resource{ID: equipe.NewID(), AccountID: a.ID, Type: in.ResourceType, Name: in.ResourceName, CreatedAt: now}
	if err := tx.CreateResource(ctx, &r); err != nil {
		return a, err
	}
	after := map[string]any{"name": a.Name, "locale": a.Locale, "first_resource": map[string]any{"type": r.Type, "name": r.Name}}
	if parent != nil {
		after["parent_id"] = parent.String()
	}
	return a, tx.Audit(ctx, &a.ID, actor.actorID(), "account.created", "account", a.ID.String(), nil, after)
}

// owner makes the business's owner the account's administrator and sends
// them their email: the account created for them (a new identity sets a
// password), or, for an existing identity, access to it.
func (s *Service) owner(ctx context.Context, tx *identity.Tx, actor Actor, acct equipe.Account, in NewAccount, email, key string) (equipe.User, error) {
	now := tx.Now()
	u, err := tx.UserByEmailKey(ctx, key)
	existing := err == nil
	switch {
	case existing:
	case equipe.ErrorCode(err) == equipe.ENOTFOUND:
		u = equipe.User{ID: equipe.NewUserID(), Email: email, EmailKey: key, FirstName: in.OwnerFirstName, LastName: in.OwnerLastName,
			Locale: acct.Locale, CreatedAt: now}
		if err := tx.CreateUser(ctx, &u); err != nil {
			return u, err
		}
	default:
		return u, err
	}
	m := equipe.Member{AccountID: acct.ID, UserID: u.ID, Role: equipe.RoleAdmin, Status: equipe.MemberCreated, CreatedAt: now,
		InvitedBy: actor.actorID()}
	if existing {
		// Shown under the names the creator typed until they join.
		m.FirstName, m.LastName = in.OwnerFirstName, in.OwnerLastName
	}
	if err := tx.CreateMember(ctx, &m); err != nil {
		return u, err
	}
	if err := tx.Audit(ctx, &acct.ID, actor.actorID(), "member.added", "user", u.ID.String(), nil,
		map[string]any{"email": u.Email, "role": m.Role, "owner": true}); err != nil {
		return u, err
	}
	template := mail.TemplateAccountCreatedForYou
	if existing && u.PasswordHash != "" {
		template = mail.TemplateAccessGranted
	}
	return u, s.sendInvitation(ctx, tx, actor, acct, &m, u, template, in.Message, false)
}
