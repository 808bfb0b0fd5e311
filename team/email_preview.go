package team

import (
	"context"
	"slices"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/work"
)

// EmailTemplates returns the names of the emails the instance sends, for
// an instance administrator's preview. Returns ENOTFOUND for anyone else.
func (s *Service) EmailTemplates(actor Actor) ([]string, error) {
	if !actor.instance() || actor.User == nil {
		return nil, notFound()
	}
	return s.Work.Mail.Names(), nil
}

// PreviewEmail renders the email name in locale with sample data,
// addressed to the instance administrator who asks, as the instance's
// brand and templates make it. Returns ENOTFOUND for anyone but an
// instance administrator's session, or for an unknown name or locale.
func (s *Service) PreviewEmail(ctx context.Context, actor Actor, name, locale string) (equipe.Email, error) {
	if !actor.instance() || actor.User == nil || !slices.Contains(s.Work.Mail.Names(), name) || !equipe.ValidLocale(locale) {
		return equipe.Email{}, notFound()
	}
	now := s.Work.Now()
	return s.Work.Compose(name, locale, actor.User.Email, s.sample(actor, name, now), now)
}

// sample is the sample data of the email name previewed by the actor: the
// email is theirs, whatever names the sample shows. Its links go to the
// public URL's root, a page that exists, as a sample's action has no page
// of its own; it says its link works as long as the email's link does.
func (s *Service) sample(actor Actor, name string, now time.Time) mail.Data {
	d := s.Work.Mail.Sample("")
	d.RecipientID = actor.User.ID
	d.Expires = time.Time{}
	if ttl := s.LinkValidity(name); ttl > 0 {
		d.Expires = now.Add(ttl)
	}
	return d
}

// SendEmailPreview queues the sample email name in locale to the instance
// administrator who asks, so that they see it in their own mail client.
// Returns ENOTFOUND as PreviewEmail does.
func (s *Service) SendEmailPreview(ctx context.Context, actor Actor, name, locale string) error {
	if _, err := s.PreviewEmail(ctx, actor, name, locale); err != nil {
		return err
	}
	return s.do(ctx, actor, func(u *work.Unit) error {
		return u.Mail(ctx, name, locale, actor.User.Email, s.sample(actor, name, u.Now()))
	})
}
