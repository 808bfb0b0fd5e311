package team

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/store"
)

// TeamPage returns a page of the account's members for the team page and
// the members API, with the cursor of the next page. The actor must be able
// to view the account's members.
func (s *Service) TeamPage(ctx context.Context, actor Actor, f store.MemberFilter) ([]store.MemberRow, string, error) {
	if _, _, err := s.authorize(ctx, actor, f.Account, "members.view"); err != nil {
		return nil, "", err
	}
	var v equipe.Invalid
	switch f.Status {
	case "", equipe.MemberCreated, equipe.MemberInvited, equipe.MemberActive, equipe.MemberSuspended:
	default:
		v.Add("status", "member.status_filter_invalid")
	}
	if utf8.RuneCountInString(f.Search) > 100 {
		v.AddArgs("q", "name.too_long", map[string]any{"max": 100})
	}
	if f.Limit < 0 || f.Limit > store.MaxMemberPage {
		v.AddArgs("limit", "request.limit_invalid", map[string]any{"max": store.MaxMemberPage})
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	return s.DB.ListMembers(ctx, f)
}

// AuditPage returns a page of the account's audit events, newest first, with
// the cursor of the next page. The actor needs audit.view.
func (s *Service) AuditPage(ctx context.Context, actor Actor, account equipe.ID, f store.AuditFilter) ([]equipe.AuditEvent, string, error) {
	if _, _, err := s.authorize(ctx, actor, account, "audit.view"); err != nil {
		return nil, "", err
	}
	f.AccountID = &account
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	// One more than the page tells whether there is a next one.
	f.Limit = min(limit, store.MaxAuditPage) + 1
	events, err := s.DB.AuditEvents(ctx, f)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(events) == f.Limit {
		events = events[:f.Limit-1]
		next = events[len(events)-1].ID.String()
	}
	return events, next, nil
}

// Account returns an account the actor may see (any member, an API key of
// the account, the instance).
func (s *Service) Account(ctx context.Context, actor Actor, account equipe.ID) (equipe.Account, error) {
	m, _, err := s.actorMember(ctx, actor, account)
	if err != nil {
		return equipe.Account{}, err
	}
	if m == nil {
		return equipe.Account{}, notFound()
	}
	return s.DB.AccountByID(ctx, account)
}

// AccountChange is a change to an account's settings: each field given
// (non-nil) is set.
type AccountChange struct {
	Name               *string
	Locale             *string
	RequiresActivation *bool
	InvitationTTLHours *int
}

// Limits of the invitation lifetime: an hour to thirty days.
const (
	minInvitationTTL = 1
	maxInvitationTTL = 30 * 24
)

// UpdateAccount changes the account's settings. The actor needs
// account.manage.
func (s *Service) UpdateAccount(ctx context.Context, actor Actor, account equipe.ID, ch AccountChange) (equipe.Account, error) {
	if _, _, err := s.authorize(ctx, actor, account, "account.manage"); err != nil {
		return equipe.Account{}, err
	}
	var v equipe.Invalid
	if ch.Name != nil {
		n := identity.CheckName(&v, "name", *ch.Name)
		ch.Name = &n
	}
	if ch.Locale != nil && !equipe.ValidLocale(*ch.Locale) {
		v.Add("locale", "locale.invalid")
	}
	if ch.InvitationTTLHours != nil && (*ch.InvitationTTLHours < minInvitationTTL || *ch.InvitationTTLHours > maxInvitationTTL) {
		v.AddArgs("invitation_ttl_hours", "account.ttl_invalid", map[string]any{"min": minInvitationTTL, "max": maxInvitationTTL})
	}
	if err := v.Err(); err != nil {
		return equipe.Account{}, err
	}
	var after equipe.Account
	err := s.Identity.Write(ctx, identity.Origin{IP: actor.IP}, func(tx *identity.Tx) error {
		before, err := tx.AccountByID(ctx, account)
		if err != nil {
			return err
		}
		after = before
		if ch.Name != nil {
			after.Name = strings.TrimSpace(*ch.Name)
		}
		if ch.Locale != nil {
			after.Locale = *ch.Locale
		}
		if ch.RequiresActivation != nil {
			after.RequiresActivation = *ch.RequiresActivation
		}
		if ch.InvitationTTLHours != nil {
			after.InvitationTTLHours = *ch.InvitationTTLHours
		}
		if err := tx.UpdateAccount(ctx, &after); err != nil {
			return err
		}
		state := func(a equipe.Account) map[string]any {
			return map[string]any{"name": a.Name, "locale": a.Locale, "requires_activation": a.RequiresActivation,
				"invitation_ttl_hours": a.InvitationTTLHours}
		}
		return tx.Audit(ctx, &account, actor.actorID(), "account.changed", "account", account.String(), state(before), state(after))
	})
	return after, err
}

// Resources returns the account's resources (locations, products…) for
// pickers and the team page's filter. The actor must be able to view the
// account's members.
func (s *Service) Resources(ctx context.Context, actor Actor, account equipe.ID) ([]equipe.Resource, error) {
	if _, _, err := s.authorize(ctx, actor, account, "members.view"); err != nil {
		return nil, err
	}
	return s.DB.Resources(ctx, account)
}
