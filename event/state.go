package event

import (
	"reflect"
	"time"

	"github.com/equipe-dev/equipe"
)

// ValueKind says what a state's value is, so that a reader can show it:
// a role's key is shown by the role's name, a status in words, a list of
// resource IDs by their names.
type ValueKind string

// Value kinds, with the Go type of their values.
const (
	ValueText         ValueKind = "text"          // string
	ValueEmail        ValueKind = "email"         // string
	ValueRole         ValueKind = "role"          // string: a role's key
	ValueStatus       ValueKind = "status"        // equipe.MemberStatus
	ValueBool         ValueKind = "bool"          // bool
	ValueCount        ValueKind = "count"         // int
	ValueHours        ValueKind = "hours"         // int: a duration in hours
	ValueTime         ValueKind = "time"          // time.Time
	ValueGrants       ValueKind = "grants"        // []equipe.Grant
	ValueOverrides    ValueKind = "overrides"     // []equipe.Override
	ValueResources    ValueKind = "resources"     // []equipe.ID: the account's resources
	ValueResource     ValueKind = "resource"      // Resource: a resource's type and name
	ValueResourceType ValueKind = "resource_type" // string: a resource type's key
	ValueUser         ValueKind = "user"          // equipe.ID: a user
	ValueAccount      ValueKind = "account"       // equipe.ID: an account
	ValueLocale       ValueKind = "locale"        // string: "fr" or "en"
	ValueContactKinds ValueKind = "contact_kinds" // []string: contact kinds
	ValueTemplate     ValueKind = "template"      // string: the kind of email sent
	ValueReason       ValueKind = "reason"        // string: a message key saying why
	ValueJoinedFrom   ValueKind = "joined_from"   // string: "link" or "account_list"
	ValueNotifyAdder  ValueKind = "notify_adder"  // string: when the adder is told (on_creation, on_join, both, never)
	ValueRaw          ValueKind = "raw"           // any: a value read from JSON
)

// Field is one value of a state: Name is its JSON name (and the key of its
// label, "audit.field.<name>").
type Field struct {
	Name  string
	Kind  ValueKind
	Value any
}

// Change is one field an event changed. Before is set (HasBefore) when the
// subject had the field before and after and its value changed; a field the
// change gave has only After; for an event that removes its subject, After
// holds the value it had.
type Change struct {
	Name      string
	Kind      ValueKind
	Before    any
	After     any
	HasBefore bool
}

// Changes lists what an event changed, field by field, in the order of its
// states' fields. Fields of the state before that the state after does not
// have are context of an event that records other facts after it (an
// invitation's email and link), not changes, unless the event removed its
// subject, or the states are of one type: then a field that only a set value
// shows (a member's external ID) was cleared.
func (e Event) Changes() []Change {
	var before, after []Field
	if e.Before != nil {
		before = e.Before.Fields()
	}
	if e.After != nil {
		after = e.After.Fields()
	}
	byName := map[string]Field{}
	for _, f := range before {
		byName[f.Name] = f
	}
	var out []Change
	for _, f := range after {
		b, had := byName[f.Name]
		switch {
		case had && reflect.DeepEqual(b.Value, f.Value):
			continue
		case had:
			out = append(out, Change{Name: f.Name, Kind: f.Kind, Before: b.Value, After: f.Value, HasBefore: true})
		default:
			out = append(out, Change{Name: f.Name, Kind: f.Kind, After: f.Value})
		}
	}
	if e.After == nil {
		for _, f := range before {
			out = append(out, Change{Name: f.Name, Kind: f.Kind, After: f.Value})
		}
	} else if e.Before != nil && reflect.TypeOf(e.Before) == reflect.TypeOf(e.After) {
		have := map[string]bool{}
		for _, f := range after {
			have[f.Name] = true
		}
		for _, f := range before {
			if !have[f.Name] && f.Value != nil {
				out = append(out, Change{Name: f.Name, Kind: f.Kind, Before: f.Value, HasBefore: true,
					After: reflect.Zero(reflect.TypeOf(f.Value)).Interface()})
			}
		}
	}
	return out
}

// Same reports whether the states a and b say the same: of one type, every
// field equal, a list whatever its order (a role's grants, a member's
// resources, a contact's kinds are sets), an empty list the same as none.
// A change from a to b changes nothing: the use cases then write nothing and
// record no event, so that a request repeating what is already there leaves
// no trace in the log, the webhooks or the change stream.
func Same(a, b State) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Type() != vb.Type() {
		return false
	}
	if va.Kind() != reflect.Struct {
		return sameValue(va, vb)
	}
	for i := range va.NumField() {
		if !sameValue(va.Field(i), vb.Field(i)) {
			return false
		}
	}
	return true
}

// sameValue compares two values of a state's field: lists as multisets.
func sameValue(x, y reflect.Value) bool {
	if x.Kind() != reflect.Slice {
		return reflect.DeepEqual(x.Interface(), y.Interface())
	}
	if x.Len() != y.Len() {
		return false
	}
	matched := make([]bool, y.Len())
next:
	for i := range x.Len() {
		for j := range y.Len() {
			if !matched[j] && reflect.DeepEqual(x.Index(i).Interface(), y.Index(j).Interface()) {
				matched[j] = true
				continue next
			}
		}
		return false
	}
	return true
}

// None is the state of an event that has none on that side.
type None struct{}

// Fields lists nothing.
func (None) Fields() []Field { return nil }

// Member is a member's place in an account.
type Member struct {
	Role      string              `json:"role"`
	Status    equipe.MemberStatus `json:"status"`
	Title     string              `json:"title"`
	Overrides []equipe.Override   `json:"overrides"`
	// Resources are absent (nil) only in events older than the field: a
	// member with none has an empty list.
	Resources []equipe.ID `json:"resources,omitzero"`
	// ExternalID is the vendor's identifier of the member in the account
	// (absent when none).
	ExternalID string `json:"external_id,omitempty"`
	// NotificationEmail is where the account's notifications to the member
	// go instead of their login email (absent when none).
	NotificationEmail string `json:"notification_email,omitempty"`
}

// MemberOf returns the state of m with its assigned resources.
func MemberOf(m equipe.Member, resources []equipe.ID) Member {
	ovs := m.Overrides
	if ovs == nil {
		ovs = []equipe.Override{}
	}
	if resources == nil {
		resources = []equipe.ID{}
	}
	return Member{Role: m.Role, Status: m.Status, Title: m.Title, Overrides: ovs, Resources: resources,
		ExternalID: m.ExternalID, NotificationEmail: m.NotificationEmail}
}

// Fields lists the member's role, status, job title, overrides and
// resources, and their external ID and notification email when they have
// them.
func (m Member) Fields() []Field {
	fs := []Field{{"role", ValueRole, m.Role}, {"status", ValueStatus, m.Status}, {"title", ValueText, m.Title},
		{"overrides", ValueOverrides, m.Overrides}, {"resources", ValueResources, m.Resources}}
	if m.ExternalID != "" {
		fs = append(fs, Field{"external_id", ValueText, m.ExternalID})
	}
	if m.NotificationEmail != "" {
		fs = append(fs, Field{"notification_email", ValueText, m.NotificationEmail})
	}
	return fs
}

// Added is a member as they were added to an account.
type Added struct {
	Email     string              `json:"email"`
	Role      string              `json:"role"`
	Status    equipe.MemberStatus `json:"status"`
	Title     string              `json:"title"`
	Resources []equipe.ID         `json:"resources"`
	// Overrides are the changes to the role's permissions the member was
	// added with (absent when none).
	Overrides []equipe.Override `json:"overrides,omitempty"`
	// Owner: the owner of an account created for a business, added as its
	// administrator.
	Owner bool `json:"owner,omitzero"`
	// Creator: the partner who created the account for a business, kept as a
	// Manager.
	Creator bool `json:"creator,omitzero"`
	// ExternalID is the vendor's identifier of the member in the account
	// (absent when none).
	ExternalID string `json:"external_id,omitempty"`
}

// Fields lists the member as added, with their overrides when they have any.
func (a Added) Fields() []Field {
	fs := []Field{{"email", ValueEmail, a.Email}, {"role", ValueRole, a.Role}, {"status", ValueStatus, a.Status},
		{"title", ValueText, a.Title}, {"resources", ValueResources, a.Resources}}
	if len(a.Overrides) > 0 {
		fs = append(fs, Field{"overrides", ValueOverrides, a.Overrides})
	}
	if a.Owner {
		fs = append(fs, Field{"owner", ValueBool, true})
	}
	if a.Creator {
		fs = append(fs, Field{"creator", ValueBool, true})
	}
	if a.ExternalID != "" {
		fs = append(fs, Field{"external_id", ValueText, a.ExternalID})
	}
	return fs
}

// Email kinds an invitation event names. Which variant went out (the email
// to someone who already has a password) is not said: it would tell the
// account that the address has an identity elsewhere.
const (
	TemplateInvitation   = "invitation"
	TemplateReinvitation = "reinvitation"
	TemplateActivation   = "activation"
)

// Invitation is what an invitation (or activation) email left behind.
type Invitation struct {
	Status          equipe.MemberStatus `json:"status"`
	Template        string              `json:"template"`
	InvitationsSent int                 `json:"invitations_sent"`
	ExpiresAt       time.Time           `json:"expires_at"`
}

// Fields lists the member's status, the kind of email, the count of
// invitations and when the link expires.
func (i Invitation) Fields() []Field {
	return []Field{{"status", ValueStatus, i.Status}, {"template", ValueTemplate, i.Template},
		{"invitations_sent", ValueCount, i.InvitationsSent}, {"expires_at", ValueTime, i.ExpiresAt}}
}

// Ways of joining an account.
const (
	JoinedByLink        = "link"         // the emailed link
	JoinedByAccountList = "account_list" // the person's account list, with the link's token
)

// Join is how a person joined an account.
type Join struct {
	From string `json:"from"`
}

// Fields lists where the person joined from.
func (j Join) Fields() []Field { return []Field{{"from", ValueJoinedFrom, j.From}} }

// Role is a custom role.
type Role struct {
	LabelFR    string         `json:"label_fr"`
	LabelEN    string         `json:"label_en"`
	Grants     []equipe.Grant `json:"grants"`
	Restricted bool           `json:"restricted"`
}

// RoleOf returns the state of a custom role.
func RoleOf(r equipe.CustomRole) Role {
	gs := r.Grants
	if gs == nil {
		gs = []equipe.Grant{}
	}
	return Role{LabelFR: r.LabelFR, LabelEN: r.LabelEN, Grants: gs, Restricted: r.Restricted}
}

// Fields lists the role's labels, grants and restriction.
func (r Role) Fields() []Field {
	return []Field{{"label_fr", ValueText, r.LabelFR}, {"label_en", ValueText, r.LabelEN},
		{"grants", ValueGrants, r.Grants}, {"restricted", ValueBool, r.Restricted}}
}

// RoleRemoval is what became of a deleted role's members and API keys.
type RoleRemoval struct {
	Replacement  string `json:"replacement"`
	MembersMoved int    `json:"members_moved"`
	KeysMoved    int    `json:"keys_moved,omitempty"`
}

// Fields lists the replacement role and how many members and keys moved to
// it.
func (r RoleRemoval) Fields() []Field {
	return []Field{{"replacement", ValueRole, r.Replacement}, {"members_moved", ValueCount, r.MembersMoved},
		{"keys_moved", ValueCount, r.KeysMoved}}
}

// Contact is an account's contact.
type Contact struct {
	FirstName string   `json:"first_name"`
	LastName  string   `json:"last_name"`
	Email     string   `json:"email"`
	Phone     string   `json:"phone"`
	Kinds     []string `json:"kinds"`
}

// ContactOf returns the state of a contact.
func ContactOf(c equipe.Contact) Contact {
	return Contact{FirstName: c.FirstName, LastName: c.LastName, Email: c.Email, Phone: c.Phone, Kinds: c.Kinds}
}

// Fields lists the contact's names, email, phone and kinds.
func (c Contact) Fields() []Field {
	return []Field{{"first_name", ValueText, c.FirstName}, {"last_name", ValueText, c.LastName},
		{"email", ValueEmail, c.Email}, {"phone", ValueText, c.Phone}, {"kinds", ValueContactKinds, c.Kinds}}
}

// Webhook is a webhook endpoint: where it sends, what for, and whether it
// is enabled (reason: why the service disabled it). Never its secret.
type Webhook struct {
	URL         string   `json:"url"`
	Description string   `json:"description"`
	Types       []string `json:"types"`
	Enabled     bool     `json:"enabled"`
	Reason      string   `json:"reason,omitempty"`
}

// WebhookOf returns the state of an endpoint.
func WebhookOf(e equipe.WebhookEndpoint) Webhook {
	return Webhook{URL: e.URL, Description: e.Description, Types: e.Types, Enabled: e.Enabled, Reason: e.DisabledReason}
}

// Fields lists the endpoint's URL, description, event types and status.
func (w Webhook) Fields() []Field {
	return []Field{{"url", ValueText, w.URL}, {"description", ValueText, w.Description},
		{"types", ValueText, w.Types}, {"enabled", ValueBool, w.Enabled}, {"reason", ValueReason, w.Reason}}
}

// Resource is a resource of an account: a location, a product… External
// ID and archived are absent from events older than these fields (and from
// a resource without an external ID, or in use).
type Resource struct {
	Type       string `json:"type"`
	Name       string `json:"name"`
	ExternalID string `json:"external_id,omitempty"`
	Archived   bool   `json:"archived,omitzero"`
}

// ResourceOf returns the state of r.
func ResourceOf(r equipe.Resource) Resource {
	return Resource{Type: r.Type, Name: r.Name, ExternalID: r.ExternalID, Archived: r.Archived()}
}

// Fields lists the resource's type, name, external ID and whether it is
// archived; the last two always, so that clearing the one or restoring the
// resource shows as a change.
func (r Resource) Fields() []Field {
	return []Field{{"type", ValueResourceType, r.Type}, {"name", ValueText, r.Name},
		{"external_id", ValueText, r.ExternalID}, {"archived", ValueBool, r.Archived}}
}

// NewAccount is an account as created.
type NewAccount struct {
	Name          string     `json:"name"`
	Locale        string     `json:"locale"`
	ParentID      *equipe.ID `json:"parent_id,omitempty"` // the firm, for a client account
	FirstResource Resource   `json:"first_resource"`
}

// Fields lists the account's name, language, firm and first resource.
func (a NewAccount) Fields() []Field {
	fs := []Field{{"name", ValueText, a.Name}, {"locale", ValueLocale, a.Locale}}
	if a.ParentID != nil {
		fs = append(fs, Field{"parent_id", ValueAccount, *a.ParentID})
	}
	return append(fs, Field{"first_resource", ValueResource, a.FirstResource})
}

// Settings are an account's settings.
type Settings struct {
	Name               string `json:"name"`
	Locale             string `json:"locale"`
	RequiresActivation bool   `json:"requires_activation"`
	InvitationTTLHours int    `json:"invitation_ttl_hours"`
	// NotifyAdder: when whoever adds a member is told by email (absent in
	// events older than the setting).
	NotifyAdder string `json:"notify_adder,omitempty"`
	// TimeZone is the IANA name of the account's time zone; "" (and absent
	// from events before it existed) for the instance's.
	TimeZone string `json:"time_zone,omitempty"`
	// MFARequired: members must have a second factor, MFAGraceHours after
	// the requirement was set (or they joined) at the latest. Events older
	// than the setting read as not required.
	MFARequired   bool `json:"mfa_required"`
	MFAGraceHours int  `json:"mfa_grace_hours"`
	// SCIMEnabled: a directory may provision the members through SCIM
	// (absent, false, in events older than the setting).
	SCIMEnabled bool `json:"scim_enabled,omitzero"`
}

// SettingsOf returns the settings of an account.
func SettingsOf(a equipe.Account) Settings {
	return Settings{Name: a.Name, Locale: a.Locale, RequiresActivation: a.RequiresActivation,
		InvitationTTLHours: a.InvitationTTLHours, NotifyAdder: string(a.NotifyAdder), TimeZone: a.TimeZone,
		MFARequired: !a.MFARequiredAt.IsZero(), MFAGraceHours: a.MFAGraceHours, SCIMEnabled: a.SCIMEnabled}
}

// Fields lists the account's name, language, activation, link lifetime,
// when the adder of a member is told, its second-factor requirement and,
// when it has its own, time zone.
func (s Settings) Fields() []Field {
	fs := []Field{{"name", ValueText, s.Name}, {"locale", ValueLocale, s.Locale},
		{"requires_activation", ValueBool, s.RequiresActivation}, {"invitation_ttl_hours", ValueHours, s.InvitationTTLHours},
		{"notify_adder", ValueNotifyAdder, s.NotifyAdder}, {"mfa_required", ValueBool, s.MFARequired},
		{"mfa_grace_hours", ValueHours, s.MFAGraceHours}, {"scim_enabled", ValueBool, s.SCIMEnabled}}
	if s.TimeZone != "" {
		fs = append(fs, Field{"time_zone", ValueText, s.TimeZone})
	}
	return fs
}

// Staff is a firm's member assigned to one of its client accounts.
type Staff struct {
	UserID equipe.ID `json:"user_id"`
	// Reason says why the service ended the assignment with another change
	// (ReasonStaffRemoved, ReasonStaffDeleted); absent when a person ended
	// it, and on an assignment.
	Reason string `json:"reason,omitempty"`
}

// Reasons an assignment to a client ends without anyone ending it.
const (
	ReasonStaffRemoved = "staff.removed" // the member left the firm
	ReasonStaffDeleted = "staff.deleted" // the member's identity was erased
)

// Fields lists the member and, if any, the reason.
func (s Staff) Fields() []Field {
	if s.Reason == "" {
		return []Field{{"user_id", ValueUser, s.UserID}}
	}
	return []Field{{"user_id", ValueUser, s.UserID}, {"reason", ValueReason, s.Reason}}
}

// Detachment is the firm a client account was detached from.
type Detachment struct {
	ParentID equipe.ID `json:"parent_id"`
}

// Fields lists the firm.
func (d Detachment) Fields() []Field { return []Field{{"parent_id", ValueAccount, d.ParentID}} }

// Key is an API key as created (never its secret).
type Key struct {
	Name   string `json:"name"`
	Role   string `json:"role"`
	Prefix string `json:"prefix"`
	// Purpose is what the key is for: absent for the JSON API, "scim" for
	// the SCIM service.
	Purpose string `json:"purpose,omitempty"`
}

// Fields lists the key's name, role, prefix and, when it has one, purpose.
func (k Key) Fields() []Field {
	fs := []Field{{"name", ValueText, k.Name}}
	if k.Role != "" {
		fs = append(fs, Field{"role", ValueRole, k.Role})
	}
	fs = append(fs, Field{"prefix", ValueText, k.Prefix})
	if k.Purpose != "" {
		fs = append(fs, Field{"purpose", ValueText, k.Purpose})
	}
	return fs
}

// Reasons a key is revoked by the service rather than by a person.
const (
	ReasonClientDetached = "client.detached" // the firm's staff made it in a client since detached
	ReasonCreatorRemoved = "creator.removed" // its creator left the account
	ReasonCreatorDeleted = "creator.deleted" // its creator's identity was erased
)

// Revocation says why a key was revoked; Reason is empty when a person
// revoked it.
type Revocation struct {
	Reason string `json:"reason,omitempty"`
}

// Fields lists the reason, if any.
func (r Revocation) Fields() []Field {
	if r.Reason == "" {
		return nil
	}
	return []Field{{"reason", ValueReason, r.Reason}}
}

// Address is an email address an identity event names.
type Address struct {
	Email string `json:"email"`
}

// Fields lists the address.
func (a Address) Fields() []Field { return []Field{{"email", ValueEmail, a.Email}} }

// Profile is what a person says of themselves: names, language, time zone.
type Profile struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Locale    string `json:"locale"`
	// TimeZone is the IANA name of the person's zone; "" for their
	// account's.
	TimeZone string `json:"time_zone"`
}

// ProfileOf returns the profile of a user.
func ProfileOf(u equipe.User) Profile {
	return Profile{FirstName: u.FirstName, LastName: u.LastName, Locale: u.Locale, TimeZone: u.TimeZone}
}

// Fields lists the names, the language and the time zone.
func (p Profile) Fields() []Field {
	return []Field{{"first_name", ValueText, p.FirstName}, {"last_name", ValueText, p.LastName},
		{"locale", ValueLocale, p.Locale}, {"time_zone", ValueText, p.TimeZone}}
}

// EmailChange is a login email change asked for: the new address, and for
// one withdrawn, why (a message key; empty when the person withdrew it).
type EmailChange struct {
	NewEmail string `json:"new_email"`
	Reason   string `json:"reason,omitempty"`
}

// Fields lists the new address and the reason, if any.
func (c EmailChange) Fields() []Field {
	f := []Field{{"new_email", ValueEmail, c.NewEmail}}
	if c.Reason != "" {
		f = append(f, Field{"reason", ValueReason, c.Reason})
	}
	return f
}

// EmailCancel is a login email change cancelled from the old address's
// link: the address the identity has afterwards, whether it was given back
// (the change had been confirmed), and how many sessions ended.
type EmailCancel struct {
	Email    string `json:"email"`
	Restored bool   `json:"restored"`
	Ended    int    `json:"sessions_ended"`
}

// Fields lists the address, whether it was restored and the sessions ended.
func (c EmailCancel) Fields() []Field {
	return []Field{{"email", ValueEmail, c.Email}, {"restored", ValueBool, c.Restored},
		{"sessions_ended", ValueCount, c.Ended}}
}

// Sessions counts the sessions a change ended.
type Sessions struct {
	Ended int `json:"sessions_ended"`
}

// Fields lists the count.
func (s Sessions) Fields() []Field { return []Field{{"sessions_ended", ValueCount, s.Ended}} }

// Alerts is which security emails a person chose to receive.
type Alerts struct {
	NewBrowser bool `json:"new_browser_alerts"`
}

// Fields lists the choice.
func (a Alerts) Fields() []Field { return []Field{{"new_browser_alerts", ValueBool, a.NewBrowser}} }

// ExternalID is the vendor's identifier of a person across the instance
// ("" for none).
type ExternalID struct {
	ExternalID string `json:"external_id"`
}

// Fields lists the identifier.
func (e ExternalID) Fields() []Field { return []Field{{"external_id", ValueText, e.ExternalID}} }

// Factors are the second factors a person had: never their secrets.
type Factors struct {
	TOTP          bool `json:"totp"`
	Passkeys      int  `json:"passkeys"`
	RecoveryCodes int  `json:"recovery_codes"`
}

// Fields lists the authenticator app, and the passkeys and recovery codes
// counted.
func (f Factors) Fields() []Field {
	return []Field{{"totp", ValueBool, f.TOTP}, {"passkeys", ValueCount, f.Passkeys}, {"recovery_codes", ValueCount, f.RecoveryCodes}}
}

// FactorRemoval is why an instance administrator removed a person's second
// factors (in their own words: "justification", as "reason" names message
// keys elsewhere), and how many of the person's sessions it ended.
type FactorRemoval struct {
	Justification string `json:"justification"`
	Ended         int    `json:"sessions_ended"`
}

// Fields lists the justification and the count.
func (r FactorRemoval) Fields() []Field {
	return []Field{{"justification", ValueText, r.Justification}, {"sessions_ended", ValueCount, r.Ended}}
}

// Factor is a second factor: its kind ("totp" or "passkey") and its name
// (a passkey's; empty for an authenticator app).
type Factor struct {
	Factor string `json:"factor"`
	Name   string `json:"factor_name"`
}

// Fields lists the factor.
func (f Factor) Fields() []Field {
	return []Field{{"factor", ValueText, f.Factor}, {"factor_name", ValueText, f.Name}}
}

// RecoveryCodes counts a person's recovery codes not used yet.
type RecoveryCodes struct {
	Left int `json:"recovery_codes_left"`
}

// Fields lists the count.
func (r RecoveryCodes) Fields() []Field { return []Field{{"recovery_codes_left", ValueCount, r.Left}} }

// Policy is a version of the privacy policy.
type Policy struct {
	Version string `json:"version"`
}

// Fields lists the version.
func (p Policy) Fields() []Field { return []Field{{"version", ValueText, p.Version}} }

// PolicyLink is where a published privacy policy is read.
type PolicyLink struct {
	URL string `json:"url"`
	// Label and EffectiveAt: a version an instance administrator published,
	// named, taking effect at a date (absent for the operator's policy,
	// published at start).
	Label       string    `json:"label,omitempty"`
	EffectiveAt time.Time `json:"effective_at,omitzero"`
}

// Fields lists the address, and the label and date when given.
func (p PolicyLink) Fields() []Field {
	fs := []Field{{"url", ValueText, p.URL}}
	if p.Label != "" {
		fs = append(fs, Field{"label", ValueText, p.Label})
	}
	if !p.EffectiveAt.IsZero() {
		fs = append(fs, Field{"effective_at", ValueTime, p.EffectiveAt})
	}
	return fs
}

// Brand is the brand settings an instance administrator stored, each in
// words ("" where the configured value is in force; an image or the
// stylesheet by kind, size and digest, never its content), and, after a
// change, the settings it changed.
type Brand struct {
	Changed      []string `json:"changed,omitempty"`
	Name         string   `json:"name,omitempty"`
	Logo         string   `json:"logo,omitempty"`
	Favicon      string   `json:"favicon,omitempty"`
	Primary      string   `json:"primary,omitempty"`
	Accent       string   `json:"accent,omitempty"`
	SupportEmail string   `json:"support_email,omitempty"`
	SupportURL   string   `json:"support_url,omitempty"`
	TermsURL     string   `json:"terms_url,omitempty"`
	ImprintURL   string   `json:"imprint_url,omitempty"`
	Stylesheet   string   `json:"stylesheet,omitempty"`
	KeyPrefix    string   `json:"key_prefix,omitempty"`
}

// Fields lists the settings changed, then every setting.
func (b Brand) Fields() []Field {
	return []Field{{"changed", ValueText, b.Changed}, {"name", ValueText, b.Name}, {"logo", ValueText, b.Logo},
		{"favicon", ValueText, b.Favicon}, {"primary", ValueText, b.Primary}, {"accent", ValueText, b.Accent},
		{"support_email", ValueText, b.SupportEmail}, {"support_url", ValueText, b.SupportURL},
		{"terms_url", ValueText, b.TermsURL}, {"imprint_url", ValueText, b.ImprintURL},
		{"stylesheet", ValueText, b.Stylesheet}, {"key_prefix", ValueText, b.KeyPrefix}}
}

// OIDCClient is an OpenID Connect client as registered: its name, where it
// may send people back, and what it may ask. Never its secret.
type OIDCClient struct {
	Name                 string   `json:"name"`
	RedirectURIs         []string `json:"redirect_uris"`
	PostLogoutURIs       []string `json:"post_logout_uris,omitempty"`
	BackchannelLogoutURI string   `json:"backchannel_logout_uri,omitempty"`
	Public               bool     `json:"public"`
	FirstParty           bool     `json:"first_party"`
	Scopes               []string `json:"scopes"`
}

// OIDCClientOf returns the state of a client.
func OIDCClientOf(c equipe.OIDCClient) OIDCClient {
	return OIDCClient{Name: c.Name, RedirectURIs: c.RedirectURIs, PostLogoutURIs: c.PostLogoutURIs,
		BackchannelLogoutURI: c.BackchannelLogoutURI, Public: c.Public, FirstParty: c.FirstParty, Scopes: c.Scopes}
}

// Fields lists the client's name, redirect URIs, kind and scopes.
func (c OIDCClient) Fields() []Field {
	return []Field{{"name", ValueText, c.Name}, {"redirect_uris", ValueText, c.RedirectURIs},
		{"post_logout_uris", ValueText, c.PostLogoutURIs}, {"backchannel_logout_uri", ValueText, c.BackchannelLogoutURI},
		{"public", ValueBool, c.Public}, {"first_party", ValueBool, c.FirstParty}, {"scopes", ValueText, c.Scopes}}
}

// Consent is what a person agreed that an OpenID Connect client may ask.
type Consent struct {
	Scopes []string `json:"scopes"`
}

// Fields lists the scopes.
func (c Consent) Fields() []Field { return []Field{{"scopes", ValueText, c.Scopes}} }

// Deletion is what erasing a person's identity ended: their sessions, the
// API keys they made, their memberships.
type Deletion struct {
	SessionsEnded int `json:"sessions_ended"`
	KeysRevoked   int `json:"keys_revoked"`
	AccountsLeft  int `json:"accounts_left"`
}

// Fields lists the counts.
func (d Deletion) Fields() []Field {
	return []Field{{"sessions_ended", ValueCount, d.SessionsEnded}, {"keys_revoked", ValueCount, d.KeysRevoked},
		{"accounts_left", ValueCount, d.AccountsLeft}}
}

// Passkey is a person's passkey, by the name they gave it.
type Passkey struct {
	Name string `json:"name"`
}

// Fields lists the name.
func (p Passkey) Fields() []Field { return []Field{{"name", ValueText, p.Name}} }

// Import is what an import of members did, once every row is done.
type Import struct {
	ImportID  equipe.ID `json:"import_id"`
	Rows      int       `json:"rows"`
	Added     int       `json:"added"`
	Updated   int       `json:"updated"`
	Unchanged int       `json:"unchanged"`
	Skipped   int       `json:"skipped"`
}

// Fields lists the counts.
func (i Import) Fields() []Field {
	return []Field{{"import_id", ValueText, i.ImportID.String()}, {"rows", ValueCount, i.Rows}, {"added", ValueCount, i.Added}, {"updated", ValueCount, i.Updated},
		{"unchanged", ValueCount, i.Unchanged}, {"skipped", ValueCount, i.Skipped}}
}
