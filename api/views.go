package api

import (
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/team"
)

// The API's representations. Each lists its fields explicitly: nothing
// reaches a response by accident (no hashes, no internal state).

type userView struct {
	ID              equipe.ID  `json:"id"`
	Email           string     `json:"email"`
	FirstName       string     `json:"first_name"`
	LastName        string     `json:"last_name"`
	Locale          string     `json:"locale"`
	EmailVerified   bool       `json:"email_verified"`
	EmailVerifiedAt *time.Time `json:"email_verified_at"`
	InstanceAdmin   bool       `json:"instance_admin"`
	LastLoginAt     *time.Time `json:"last_login_at"`
	CreatedAt       time.Time  `json:"created_at"`
}

func viewUser(u equipe.User) userView {
	return userView{ID: u.ID, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, Locale: u.Locale,
		EmailVerified: !u.EmailVerifiedAt.IsZero(), EmailVerifiedAt: timePtr(u.EmailVerifiedAt),
		InstanceAdmin: u.InstanceAdmin, LastLoginAt: timePtr(u.LastLoginAt), CreatedAt: u.CreatedAt}
}

type accountView struct {
	ID                 equipe.ID  `json:"id"`
	Name               string     `json:"name"`
	Locale             string     `json:"locale"`
	ParentID           *equipe.ID `json:"parent_id"`
	RequiresActivation bool       `json:"requires_activation"`
	InvitationTTLHours int        `json:"invitation_ttl_hours"`
	NotifyAdder        string     `json:"notify_adder"`
	// TimeZone is the account's own IANA time zone; "" when it follows the
	// instance's (EQUIPE_TIME_ZONE).
	TimeZone string `json:"time_zone"`
	// MFARequired: members must have a second factor; MFARequiredAt is
	// since when, and each member has MFAGraceHours from then, or from
	// joining if later.
	MFARequired   bool        `json:"mfa_required"`
	MFARequiredAt *time.Time  `json:"mfa_required_at"`
	MFAGraceHours int         `json:"mfa_grace_hours"`
	SCIMEnabled   bool        `json:"scim_enabled"`
	CreatedAt     time.Time   `json:"created_at"`
	Actions       actionsView `json:"actions,omitempty"`
}

func viewAccount(a equipe.Account) accountView {
	return accountView{ID: a.ID, Name: a.Name, Locale: a.Locale, ParentID: a.ParentID,
		RequiresActivation: a.RequiresActivation, InvitationTTLHours: a.InvitationTTLHours, NotifyAdder: string(a.NotifyAdder),
		TimeZone: a.TimeZone, MFARequired: !a.MFARequiredAt.IsZero(), MFARequiredAt: timePtr(a.MFARequiredAt),
		MFAGraceHours: a.MFAGraceHours, SCIMEnabled: a.SCIMEnabled, CreatedAt: a.CreatedAt}
}

type policyView struct {
	Version     string            `json:"version"`
	Label       string            `json:"label"`
	URL         string            `json:"url,omitempty"`
	Text        string            `json:"text,omitempty"`
	Texts       map[string]string `json:"texts"`
	PublishedAt time.Time         `json:"published_at"`
}

// viewPolicy is the policy for a reader of locale: text is the one for
// their language (equipe.PrivacyPolicy.TextIn), texts every language's.
func viewPolicy(p equipe.PrivacyPolicy, locale, label string) policyView {
	texts := p.Texts
	if texts == nil {
		texts = map[string]string{}
	}
	return policyView{Version: p.Version, Label: label, URL: p.URL, Text: p.TextIn(locale), Texts: texts, PublishedAt: p.PublishedAt}
}

// actionsView answers, by action, whether the caller may take it and, if
// not, the problem code the action would answer.
// actionsView shows what the reader may do, as the use case answered it:
// {"name": {"allowed": false, "code": "member.self"}, ...}, with
// "available_at" for an action a throttle refuses for now, in the use
// case's order. A list of 50 members holds 350 of them: they are written
// token by token, with no map.
type actionsView team.Actions

// MarshalJSONTo writes the actions as a JSON object; none is {} (omitted
// by omitempty).
func (as actionsView) MarshalJSONTo(enc *jsontext.Encoder) error {
	if err := enc.WriteToken(jsontext.BeginObject); err != nil {
		return err
	}
	for _, a := range as {
		if err := enc.WriteToken(jsontext.String(a.Name)); err != nil {
			return err
		}
		if err := enc.WriteToken(jsontext.BeginObject); err != nil {
			return err
		}
		if err := enc.WriteToken(jsontext.String("allowed")); err != nil {
			return err
		}
		if err := enc.WriteToken(jsontext.Bool(a.OK())); err != nil {
			return err
		}
		if c := a.Code(); c != "" {
			if err := enc.WriteToken(jsontext.String("code")); err != nil {
				return err
			}
			if err := enc.WriteToken(jsontext.String(c)); err != nil {
				return err
			}
		}
		if at := a.Until(); !at.IsZero() {
			if err := enc.WriteToken(jsontext.String("available_at")); err != nil {
				return err
			}
			if err := enc.WriteToken(jsontext.String(at.UTC().Format(time.RFC3339))); err != nil {
				return err
			}
		}
		if err := enc.WriteToken(jsontext.EndObject); err != nil {
			return err
		}
	}
	return enc.WriteToken(jsontext.EndObject)
}

func viewActions(as team.Actions) actionsView { return actionsView(as) }

// list is the shape of every list answer: a page of items, and the cursor
// of the next page, null on the last.
type list[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// newList starts the answer of a page whose next page starts at next ("":
// none).
func newList[T any](n int, next string) list[T] {
	out := list[T]{Items: make([]T, 0, n)}
	if next != "" {
		out.NextCursor = &next
	}
	return out
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
