package identity

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/work"
)

// policyCacheFor bounds how long a process keeps the current policy before
// reading it again: a version published by another process is required
// within this delay.
const policyCacheFor = 10 * time.Second

// PublishPolicy makes p the current privacy policy if its version was never
// published (the operator's policy, at start); publishing a known version
// changes nothing, even when a later version is current. A new version
// requires every user to accept it again.
func (s *Service) PublishPolicy(ctx context.Context, p equipe.PrivacyPolicy) error {
	if p.Version == "" || (p.URL == "" && p.TextIn("") == "") {
		return equipe.Errorf(equipe.EINVALID, "error.policy_incomplete")
	}
	err := s.Work.Do(ctx, event.System, equipe.Origin{}, func(w *work.Unit) error {
		p.PublishedAt = w.Now()
		p.EffectiveAt = w.Now()
		_, err := w.Policy(ctx, p.Version)
		if err == nil {
			return nil
		}
		if equipe.ErrorCode(err) != equipe.ENOTFOUND {
			return err
		}
		if err := w.PublishPolicy(ctx, &p); err != nil {
			return err
		}
		return w.Record(ctx, event.PolicyPublished.New(nil, p.Version, nil, &event.PolicyLink{URL: p.URL}))
	})
	s.forgetPolicy()
	return err
}

// forgetPolicy drops the cached current policy: the next request reads it.
func (s *Service) forgetPolicy() {
	s.policyMu.Lock()
	s.policy = nil
	s.policyMu.Unlock()
}

// CurrentPolicy returns the privacy policy in effect, or ENOTFOUND when none
// is published. A version published ahead of its date takes over at that
// date, to the second, in every process.
func (s *Service) CurrentPolicy(ctx context.Context) (equipe.PrivacyPolicy, error) {
	now := s.now()
	s.policyMu.Lock()
	if s.policy != nil && now.Sub(s.policyAt) < policyCacheFor && (s.policyNext.IsZero() || now.Before(s.policyNext)) {
		p := *s.policy
		s.policyMu.Unlock()
		return p, nil
	}
	s.policyMu.Unlock()
	p, err := s.DB.CurrentPolicy(ctx, now)
	if err != nil {
		return p, err
	}
	next, err := s.DB.NextPolicyAt(ctx, now)
	if err != nil {
		return p, err
	}
	s.policyMu.Lock()
	s.policy, s.policyAt, s.policyNext = &p, now, next
	s.policyMu.Unlock()
	return p, nil
}

// ConsentNeeded reports whether the user must accept the current policy
// before anything else, and returns that policy. With no policy published
// nothing is needed.
func (s *Service) ConsentNeeded(ctx context.Context, userID equipe.ID) (equipe.PrivacyPolicy, bool, error) {
	p, err := s.CurrentPolicy(ctx)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return p, false, nil
	} else if err != nil {
		return p, false, err
	}
	_, err = s.DB.Consent(ctx, userID, p.Version)
	switch equipe.ErrorCode(err) {
	case "":
		return p, false, nil
	case equipe.ENOTFOUND:
		return p, true, nil
	}
	return p, false, err
}

// AcceptPolicy records that the user accepted the given version of the
// policy, with the time and the client's address. The version must be the
// current one: a form shown before a newer version was published answers
// ECONFLICT "consent.outdated", and the person is shown the new text.
func (s *Service) AcceptPolicy(ctx context.Context, userID equipe.ID, version string, o equipe.Origin) error {
	p, err := s.CurrentPolicy(ctx)
	if err != nil {
		return err
	}
	if version != p.Version {
		return &equipe.Error{Code: equipe.ECONFLICT, Key: "consent.outdated"}
	}
	return s.Work.Do(ctx, event.ByUser(userID), o, func(w *work.Unit) error {
		if _, err := w.Consent(ctx, userID, version); err == nil {
			return nil
		}
		return s.recordConsent(ctx, w, userID, version)
	})
}

// recordConsent records in the unit that the user accepted version of the
// policy, now, from the unit's origin.
func (s *Service) recordConsent(ctx context.Context, w *work.Unit, userID equipe.ID, version string) error {
	if err := w.RecordConsent(ctx, &equipe.Consent{UserID: userID, Version: version, AcceptedAt: w.Now(), IP: w.Origin().IP}); err != nil {
		return err
	}
	return w.Record(ctx, event.UserPolicyAccepted.New(nil, version, nil, &event.Policy{Version: version}))
}
