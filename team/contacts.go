package team

import (
	"context"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/work"
)

// ContactInput is a contact as written by a person.
type ContactInput struct {
	FirstName string
	LastName  string
	Email     string
	Phone     string
	Kinds     []string
}

// minPhoneDigits is the fewest digits a contact's phone number has: the
// shortest subscriber numbers of any country's plan have four.
const minPhoneDigits = 4

// countDigits counts the decimal digits of s.
func countDigits(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsDigit(r) {
			n++
		}
	}
	return n
}

// checkContact returns the contact in describes, or why it is not valid:
// a name, a valid email or a plausible phone number to reach them by, and
// at least one known kind.
func checkContact(in ContactInput) (equipe.Contact, error) {
	var v equipe.Invalid
	var c equipe.Contact
	first, last := strings.TrimSpace(in.FirstName), strings.TrimSpace(in.LastName)
	if first == "" && last == "" {
		v.Add("last_name", "name.required")
	} else {
		if first != "" {
			c.FirstName = identity.CheckName(&v, "first_name", first)
		}
		if last != "" {
			c.LastName = identity.CheckName(&v, "last_name", last)
		}
	}
	if strings.TrimSpace(in.Email) != "" {
		email, _, p := identity.NormalizeEmail(in.Email)
		if p != "" {
			v.Add("email", p)
		}
		c.Email = email
	}
	c.Phone = strings.TrimSpace(in.Phone)
	if utf8.RuneCountInString(c.Phone) > 40 || strings.ContainsFunc(c.Phone, func(r rune) bool {
		return !unicode.IsDigit(r) && !strings.ContainsRune(" +-.()/", r)
	}) {
		v.Add("phone", "contact.phone_invalid")
	} else if c.Phone != "" && countDigits(c.Phone) < minPhoneDigits {
		// Punctuation alone ("---", "+") would make the contact count as
		// reachable with no number to call.
		v.AddArgs("phone", "contact.phone_digits", map[string]any{"min": minPhoneDigits})
	}
	if c.Email == "" && c.Phone == "" && !v.Has("email") && !v.Has("phone") {
		v.Add("email", "contact.reachable")
	}
	for _, k := range in.Kinds {
		if !slices.Contains(equipe.ContactKinds, k) {
			v.Add("kinds", "contact.kind_unknown")
			break
		}
		if !slices.Contains(c.Kinds, k) {
			c.Kinds = append(c.Kinds, k)
		}
	}
	if len(c.Kinds) == 0 && !v.Has("kinds") {
		v.Add("kinds", "contact.kind_required")
	}
	return c, v.Err()
}

// ContactView is a contact with what the reader may do with it.
type ContactView struct {
	equipe.Contact
	Actions Actions
}

// Actions on a contact.
const (
	ContactEdit   = "edit"
	ContactDelete = "delete"
	ContactInvite = "invite" // invite them as a member (the member form, filled in)
)

// Contacts returns a page of the account's contacts (the whole list for
// the whole page) by last and first name, with the cursor of the next page
// ("" after the last). The actor must be able to view the account's
// members.
func (s *Service) Contacts(ctx context.Context, actor Actor, account equipe.ID, p equipe.Page) ([]ContactView, string, error) {
	m, a, err := s.authorize(ctx, actor, account, "members.view")
	if err != nil {
		return nil, "", err
	}
	if err := p.CheckOrWhole(); err != nil {
		return nil, "", err
	}
	cs, next, err := s.DB.Contacts(ctx, account, p)
	if err != nil {
		return nil, "", err
	}
	out := make([]ContactView, 0, len(cs))
	for _, c := range cs {
		out = append(out, s.viewContact(m, a, c))
	}
	return out, next, nil
}

// Contact returns one contact of the account.
func (s *Service) Contact(ctx context.Context, actor Actor, account, id equipe.ID) (ContactView, error) {
	m, a, err := s.authorize(ctx, actor, account, "members.view")
	if err != nil {
		return ContactView{}, err
	}
	c, err := s.DB.Contact(ctx, account, id)
	if err != nil {
		return ContactView{}, err
	}
	return s.viewContact(m, a, c), nil
}

// viewContact answers what the reader m may do with the contact: change or
// delete it with contacts.manage; invite them as a member with
// members.manage, when the contact has an email address to invite.
func (s *Service) viewContact(m *access.Member, a *access.Account, c equipe.Contact) ContactView {
	manage := s.permission(m, a, "contacts.manage")
	invite := s.permission(m, a, "members.manage")
	if invite == nil && c.Email == "" {
		invite = conflict("contact.no_email", nil)
	}
	return ContactView{Contact: c, Actions: Actions{{ContactEdit, allowed(manage)}, {ContactDelete, allowed(manage)},
		{ContactInvite, allowed(invite)}}}
}

// CreateContact adds a contact to the account (contacts.manage).
func (s *Service) CreateContact(ctx context.Context, actor Actor, account equipe.ID, in ContactInput) (equipe.Contact, error) {
	if _, _, err := s.authorize(ctx, actor, account, "contacts.manage"); err != nil {
		return equipe.Contact{}, err
	}
	c, err := checkContact(in)
	if err != nil {
		return c, err
	}
	c.ID, c.AccountID = equipe.NewID(), account
	err = s.do(ctx, actor, func(u *work.Unit) error {
		c.CreatedAt, c.UpdatedAt = u.Now(), u.Now()
		if err := u.CreateContact(ctx, &c); err != nil {
			return err
		}
		after := event.ContactOf(c)
		return u.Record(ctx, event.ContactCreated.In(account, c.ID.String(), nil, &after))
	})
	return c, err
}

// ContactChange is a change to a contact: each field given replaces the
// contact's, the others stay.
type ContactChange struct {
	FirstName, LastName, Email, Phone *string
	Kinds                             *[]string
}

// Replace returns the change that makes the contact in.
func (in ContactInput) Replace() ContactChange {
	return ContactChange{FirstName: &in.FirstName, LastName: &in.LastName, Email: &in.Email, Phone: &in.Phone, Kinds: &in.Kinds}
}

func (ch ContactChange) apply(c equipe.Contact) ContactInput {
	in := ContactInput{FirstName: c.FirstName, LastName: c.LastName, Email: c.Email, Phone: c.Phone, Kinds: c.Kinds}
	for _, f := range []struct{ to, from *string }{{&in.FirstName, ch.FirstName}, {&in.LastName, ch.LastName},
		{&in.Email, ch.Email}, {&in.Phone, ch.Phone}} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
	if ch.Kinds != nil {
		in.Kinds = *ch.Kinds
	}
	return in
}

// UpdateContact changes a contact of the account (contacts.manage); the
// contact as changed must be valid as a whole. A change that changes nothing
// writes nothing and returns the contact as it was.
func (s *Service) UpdateContact(ctx context.Context, actor Actor, account, id equipe.ID, ch ContactChange) (equipe.Contact, error) {
	if _, _, err := s.authorize(ctx, actor, account, "contacts.manage"); err != nil {
		return equipe.Contact{}, err
	}
	var c equipe.Contact
	err := s.do(ctx, actor, func(u *work.Unit) error {
		before, err := u.Contact(ctx, account, id)
		if err != nil {
			return err
		}
		if c, err = checkContact(ch.apply(before)); err != nil {
			return err
		}
		b, a := event.ContactOf(before), event.ContactOf(c)
		if event.Same(b, a) {
			c = before
			return nil
		}
		c.ID, c.AccountID, c.CreatedAt, c.UpdatedAt = id, account, before.CreatedAt, u.Now()
		if err := u.UpdateContact(ctx, &c); err != nil {
			return err
		}
		return u.Record(ctx, event.ContactChanged.In(account, id.String(), &b, &a))
	})
	return c, err
}

// DeleteContact deletes a contact of the account (contacts.manage).
func (s *Service) DeleteContact(ctx context.Context, actor Actor, account, id equipe.ID) error {
	if _, _, err := s.authorize(ctx, actor, account, "contacts.manage"); err != nil {
		return err
	}
	return s.do(ctx, actor, func(u *work.Unit) error {
		before, err := u.Contact(ctx, account, id)
		if err != nil {
			return err
		}
		if err := u.DeleteContact(ctx, account, id); err != nil {
			return err
		}
		b := event.ContactOf(before)
		return u.Record(ctx, event.ContactDeleted.In(account, id.String(), &b, nil))
	})
}
