package store

import (
	"context"
	"encoding/json"

	"github.com/equipe-dev/equipe"
)

// PublishPolicy records a version of the privacy policy. Publishing a version
// that exists already changes nothing and is not an error.
func (w Writes) PublishPolicy(ctx context.Context, p *equipe.PrivacyPolicy) error {
	texts, err := json.Marshal(p.Texts)
	if err != nil {
		return err
	}
	if p.Texts == nil {
		texts = []byte("{}")
	}
	_, err = w.exec(ctx, `INSERT INTO privacy_policies (version, url, text, published_at, label, texts)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (version) DO NOTHING`,
		p.Version, p.URL, p.Text, micros(p.PublishedAt), p.Label, string(texts))
	return err
}

// CurrentPolicy returns the most recently published privacy policy, or
// ENOTFOUND when none was published.
func (q Queries) CurrentPolicy(ctx context.Context) (equipe.PrivacyPolicy, error) {
	var p equipe.PrivacyPolicy
	var texts string
	err := q.q.QueryRowContext(ctx, `SELECT version, url, text, published_at, label, texts FROM privacy_policies
		ORDER BY published_at DESC, version DESC LIMIT 1`).Scan(&p.Version, &p.URL, &p.Text, ts(&p.PublishedAt), &p.Label, &texts)
	if err != nil {
		return p, wrap(err)
	}
	if err := json.Unmarshal([]byte(texts), &p.Texts); err != nil {
		return p, err
	}
	return p, nil
}

// RecordConsent records that the user accepted a policy version; accepting it
// again keeps the first record.
func (w Writes) RecordConsent(ctx context.Context, c *equipe.Consent) error {
	_, err := w.exec(ctx, `INSERT INTO consents (user_id, policy_version, accepted_at, ip) VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id, policy_version) DO NOTHING`, c.UserID, c.Version, micros(c.AcceptedAt), c.IP)
	return err
}

// Consent returns the user's acceptance of a policy version, or ENOTFOUND.
func (q Queries) Consent(ctx context.Context, userID equipe.ID, version string) (equipe.Consent, error) {
	var c equipe.Consent
	err := q.q.QueryRowContext(ctx, `SELECT user_id, policy_version, accepted_at, ip FROM consents
		WHERE user_id = $1 AND policy_version = $2`, userID, version).Scan(&c.UserID, &c.Version, ts(&c.AcceptedAt), &c.IP)
	return c, wrap(err)
}
