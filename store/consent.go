package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

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
	effective := p.EffectiveAt
	if effective.IsZero() {
		effective = p.PublishedAt
	}
	_, err = w.exec(ctx, `INSERT INTO privacy_policies (version, url, text, published_at, label, texts, effective_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (version) DO NOTHING`,
		p.Version, p.URL, p.Text, micros(p.PublishedAt), p.Label, string(texts), micros(effective))
	return err
}

const policyColumns = `version, url, text, published_at, label, texts, effective_at`

func scanPolicy(row interface{ Scan(...any) error }, p *PolicyRecord) error {
	var texts string
	if err := row.Scan(&p.Version, &p.URL, &p.Text, ts(&p.PublishedAt), &p.Label, &texts, ts(&p.EffectiveAt)); err != nil {
		return err
	}
	return json.Unmarshal([]byte(texts), &p.Texts)
}

// PolicyRecord is a published version of the privacy policy.
type PolicyRecord = equipe.PrivacyPolicy

// Policy returns the version of the privacy policy, or ENOTFOUND.
func (q Queries) Policy(ctx context.Context, version string) (equipe.PrivacyPolicy, error) {
	var p equipe.PrivacyPolicy
	err := scanPolicy(q.q.QueryRowContext(ctx, `SELECT `+policyColumns+` FROM privacy_policies WHERE version = $1`, version), &p)
	return p, wrap(err)
}

// PolicyVersion is a published version of the privacy policy with how many
// people accepted it.
type PolicyVersion struct {
	equipe.PrivacyPolicy
	Acceptances int
}

// Policies returns a page of the published versions of the privacy
// policy, the one taking effect last first, with their counts of
// acceptances and the cursor of the next page ("" after the last).
func (q Queries) Policies(ctx context.Context, p equipe.Page) ([]PolicyVersion, string, error) {
	const list = "privacy_policies"
	pos, err := after(p, list, number, number, text)
	if err != nil {
		return nil, "", err
	}
	var args []any
	rows, err := q.q.QueryContext(ctx, `SELECT `+prefixed("p.", policyColumns)+`,
		(SELECT COUNT(*) FROM consents c WHERE c.policy_version = p.version)
		FROM privacy_policies p WHERE 1 = 1`+
		keyset(&args, []string{"p.effective_at", "p.published_at", "p.version"}, true, pos, readRows(p)), args...)
	if err != nil {
		return nil, "", wrap(err)
	}
	defer rows.Close()
	var out []PolicyVersion
	for rows.Next() {
		var v PolicyVersion
		var texts string
		if err := rows.Scan(&v.Version, &v.URL, &v.Text, ts(&v.PublishedAt), &v.Label, &texts, ts(&v.EffectiveAt), &v.Acceptances); err != nil {
			return nil, "", wrap(err)
		}
		if err := json.Unmarshal([]byte(texts), &v.Texts); err != nil {
			return nil, "", err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(err)
	}
	out, next := equipe.Cut(out, p, list, func(v PolicyVersion) []string {
		return []string{keyTime(v.EffectiveAt), keyTime(v.PublishedAt), v.Version}
	})
	return out, next, nil
}

// Acceptance is a person's acceptance of a version of the privacy policy.
type Acceptance struct {
	UserID     equipe.ID
	Email      string
	FirstName  string
	LastName   string
	AcceptedAt time.Time
	IP         string
}

// Acceptances returns a page of the acceptances of a version of the
// policy, in the order they were made, with the cursor of the next page
// ("" after the last).
func (q Queries) Acceptances(ctx context.Context, version string, p equipe.Page) ([]Acceptance, string, error) {
	const list = "acceptances"
	pos, err := after(p, list, number, id)
	if err != nil {
		return nil, "", err
	}
	query := `SELECT c.user_id, u.email, u.first_name, u.last_name, c.accepted_at, c.ip
		FROM consents c JOIN users u ON u.id = c.user_id WHERE c.policy_version = $1`
	args := []any{version}
	rows, err := q.q.QueryContext(ctx, query+keyset(&args, []string{"c.accepted_at", "c.user_id"}, false, pos, readRows(p)), args...)
	if err != nil {
		return nil, "", wrap(err)
	}
	defer rows.Close()
	var out []Acceptance
	for rows.Next() {
		var a Acceptance
		if err := rows.Scan(&a.UserID, &a.Email, &a.FirstName, &a.LastName, ts(&a.AcceptedAt), &a.IP); err != nil {
			return nil, "", wrap(err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(err)
	}
	out, next := equipe.Cut(out, p, list, func(a Acceptance) []string { return []string{keyTime(a.AcceptedAt), keyID(a.UserID)} })
	return out, next, nil
}

// WithdrawPolicy deletes the version of the privacy policy if it takes
// effect after now, and reports whether it did. A version in effect, or
// that was, stays: people accepted it, or were asked to.
func (w Writes) WithdrawPolicy(ctx context.Context, version string, now time.Time) (bool, error) {
	n, err := w.exec(ctx, `DELETE FROM privacy_policies WHERE version = $1 AND effective_at > $2`, version, micros(now))
	return n == 1, err
}

// NextPolicyAt returns when the next version of the policy published ahead
// of its date takes effect after now, or the zero time when none waits.
func (q Queries) NextPolicyAt(ctx context.Context, now time.Time) (time.Time, error) {
	var at sql.NullInt64
	if err := q.q.QueryRowContext(ctx, `SELECT MIN(effective_at) FROM privacy_policies WHERE effective_at > $1`,
		micros(now)).Scan(&at); err != nil {
		return time.Time{}, wrap(err)
	}
	if !at.Valid {
		return time.Time{}, nil
	}
	return time.UnixMicro(at.Int64).UTC(), nil
}

// CurrentPolicy returns the privacy policy in effect at now: of the versions
// whose date has come, the one taking effect last (the one published last
// among those of the same date), or ENOTFOUND when none is in effect.
func (q Queries) CurrentPolicy(ctx context.Context, now time.Time) (equipe.PrivacyPolicy, error) {
	var p equipe.PrivacyPolicy
	err := scanPolicy(q.q.QueryRowContext(ctx, `SELECT `+policyColumns+` FROM privacy_policies WHERE effective_at <= $1
		ORDER BY effective_at DESC, published_at DESC, version DESC LIMIT 1`, micros(now)), &p)
	return p, wrap(err)
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
