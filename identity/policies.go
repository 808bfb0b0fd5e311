package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/work"
)

// NewPolicy is a version of the privacy policy an instance administrator
// publishes: a label, a URL or a text (in French, English, or both), and
// when it takes effect (zero: at once). Version is derived from the
// content and the date when empty.
type NewPolicy struct {
	Version     string
	Label       string
	URL         string
	Texts       map[string]string
	EffectiveAt time.Time
}

// Limits of a published policy.
const (
	maxPolicyLabel   = 100
	maxPolicyVersion = 64
	maxPolicyText    = 100_000
)

// instanceOnly refuses anyone but an instance administrator: they are told
// that there is nothing here.
func instanceOnly(by *equipe.User) error {
	if by.InstanceAdmin {
		return nil
	}
	return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
}

// PublishPolicyAs publishes a new version of the privacy policy for an
// instance administrator (anyone else: ENOTFOUND). From its effective date
// (now when zero or past), every user is asked to accept it on their next
// request. Returns EINVALID for a missing label, a bad URL, no URL and no
// text, and ECONFLICT "policy.version_exists" for a version published
// before.
func (s *Service) PublishPolicyAs(ctx context.Context, by equipe.User, in NewPolicy, o equipe.Origin) (equipe.PrivacyPolicy, error) {
	if err := instanceOnly(&by); err != nil {
		return equipe.PrivacyPolicy{}, err
	}
	var v equipe.Invalid
	p := equipe.PrivacyPolicy{Label: CheckLabel(&v, "label", in.Label, maxPolicyLabel), URL: strings.TrimSpace(in.URL),
		Texts: map[string]string{}}
	if p.URL != "" {
		u, err := url.Parse(p.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			v.Add("url", "policy.url_invalid")
		}
	}
	refused := false // a text refused is said alone, not as no text
	for l, t := range in.Texts {
		t = strings.TrimSpace(t)
		switch {
		case !equipe.ValidLocale(l):
			v.Add("texts."+l, "locale.invalid")
			refused = true
		case !utf8.ValidString(t) || utf8.RuneCountInString(t) > maxPolicyText:
			v.AddArgs("texts."+l, "policy.text_too_long", map[string]any{"max": maxPolicyText})
			refused = true
		case t != "":
			p.Texts[l] = t
		}
	}
	if p.URL == "" && len(p.Texts) == 0 && !refused {
		v.Add("texts", "policy.text_or_url_required")
	}
	p.Version = strings.TrimSpace(in.Version)
	if len(p.Version) > maxPolicyVersion || strings.ContainsFunc(p.Version, func(r rune) bool { return r < ' ' || r == '/' }) {
		v.Add("version", "policy.version_invalid")
	}
	if err := v.Err(); err != nil {
		return equipe.PrivacyPolicy{}, err
	}
	err := s.Work.Do(ctx, event.ByUser(by.ID), o, func(w *work.Unit) error {
		p.PublishedAt = w.Now()
		p.EffectiveAt = in.EffectiveAt.UTC()
		if p.EffectiveAt.Before(w.Now()) {
			p.EffectiveAt = w.Now()
		}
		if p.Version == "" {
			p.Version = derivedVersion(p)
		}
		if _, err := w.Policy(ctx, p.Version); err == nil {
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "policy.version_exists"}
		} else if equipe.ErrorCode(err) != equipe.ENOTFOUND {
			return err
		}
		if err := w.PublishPolicy(ctx, &p); err != nil {
			return err
		}
		return w.Record(ctx, event.PolicyPublished.New(nil, p.Version, nil,
			&event.PolicyLink{URL: p.URL, Label: p.Label, EffectiveAt: p.EffectiveAt}))
	})
	s.forgetPolicy()
	return p, err
}

// derivedVersion names a version by its effective date and a digest of its
// content: "2027-01-01-3f2a9c".
func derivedVersion(p equipe.PrivacyPolicy) string {
	h := sha256.New()
	h.Write([]byte(p.URL + "\x00" + p.Label + "\x00" + p.Texts[equipe.LocaleFR] + "\x00" + p.Texts[equipe.LocaleEN] + "\x00" +
		p.PublishedAt.Format(time.RFC3339Nano)))
	return p.EffectiveAt.Format("2006-01-02") + "-" + hex.EncodeToString(h.Sum(nil)[:3])
}

// PolicyVersion is a published version of the privacy policy, for an
// instance administrator: whether it is the one in effect, or one yet to
// take effect (which may be withdrawn), and how many people accepted it.
type PolicyVersion struct {
	equipe.PrivacyPolicy
	Current     bool
	Upcoming    bool
	Acceptances int
}

// Policies returns a page of the published versions of the privacy policy
// (or all of them, for the whole page), the one taking effect last first,
// with the cursor of the next page ("" after the last), for an instance
// administrator (anyone else: ENOTFOUND).
func (s *Service) Policies(ctx context.Context, by equipe.User, p equipe.Page) ([]PolicyVersion, string, error) {
	if err := instanceOnly(&by); err != nil {
		return nil, "", err
	}
	if err := p.CheckOrWhole(); err != nil {
		return nil, "", err
	}
	cur, err := s.CurrentPolicy(ctx)
	if err != nil && equipe.ErrorCode(err) != equipe.ENOTFOUND {
		return nil, "", err
	}
	rows, next, err := s.DB.Policies(ctx, p)
	if err != nil {
		return nil, "", err
	}
	out := make([]PolicyVersion, 0, len(rows))
	now := s.now()
	for _, r := range rows {
		out = append(out, PolicyVersion{PrivacyPolicy: r.PrivacyPolicy, Current: r.Version == cur.Version,
			Upcoming: r.EffectiveAt.After(now), Acceptances: r.Acceptances})
	}
	return out, next, nil
}

// WithdrawPolicyAs withdraws a version of the privacy policy published
// ahead of its date, before that date, for an instance administrator
// (anyone else, or an unknown version: ENOTFOUND): nobody is asked to
// accept it, and the version before it stays in effect. A version that
// took effect stays, as people accepted it or were asked to: ECONFLICT
// "policy.in_effect" (publish a new one instead).
func (s *Service) WithdrawPolicyAs(ctx context.Context, by equipe.User, version string, o equipe.Origin) error {
	if err := instanceOnly(&by); err != nil {
		return err
	}
	err := s.Work.Do(ctx, event.ByUser(by.ID), o, func(w *work.Unit) error {
		p, err := w.Policy(ctx, version)
		if err != nil {
			return err
		}
		ok, err := w.WithdrawPolicy(ctx, version, w.Now())
		if err != nil {
			return err
		}
		if !ok {
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "policy.in_effect"}
		}
		return w.Record(ctx, event.PolicyWithdrawn.New(nil, p.Version,
			&event.PolicyLink{URL: p.URL, Label: p.Label, EffectiveAt: p.EffectiveAt}, nil))
	})
	s.forgetPolicy()
	return err
}

// Acceptance is a person's acceptance of a version of the policy.
type Acceptance = store.Acceptance

// Acceptances returns a page of the acceptances of a version of the
// policy, in the order they were made, and the cursor of the next page (""
// at the end). For an instance administrator (anyone else, or an unknown
// version: ENOTFOUND).
func (s *Service) Acceptances(ctx context.Context, by equipe.User, version string, p equipe.Page) ([]Acceptance, string, error) {
	if err := instanceOnly(&by); err != nil {
		return nil, "", err
	}
	if err := p.Check(); err != nil {
		return nil, "", err
	}
	if _, err := s.DB.Policy(ctx, version); err != nil {
		return nil, "", err
	}
	return s.DB.Acceptances(ctx, version, p)
}
