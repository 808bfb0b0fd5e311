package equipe

import (
	"time"

	"github.com/google/uuid"
)

// ID identifies users, accounts, resources, tokens, sessions, audit events and
// emails. IDs are UUIDv7: time-ordered, so they index and paginate well;
// users' IDs are random (see NewUserID).
type ID = uuid.UUID

// NewID returns a new UUIDv7.
func NewID() ID { return uuid.Must(uuid.NewV7()) }

// NewUserID returns a new, entirely random user ID (UUID version 4). A
// user's ID is shown to every account they are added to, before they join:
// unlike NewID's, it must not tell when the identity was made (an old ID
// would tell that the address had an identity elsewhere).
func NewUserID() ID { return uuid.New() }

// ParseID parses s as an ID. Returns ENOTFOUND for anything that is not one:
// an identifier that cannot exist names nothing.
func ParseID(s string) (ID, error) {
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return ID{}, Errorf(ENOTFOUND, "error.not_found")
	}
	return id, nil
}

// ParseIDs returns the IDs among ss, leaving out what is no ID.
func ParseIDs(ss []string) []ID {
	out := make([]ID, 0, len(ss))
	for _, s := range ss {
		if id, err := ParseID(s); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// MustParse parses s as an ID and panics if it is not one (for constants
// and tests).
func MustParse(s string) ID { return uuid.MustParse(s) }

// Locales the service speaks. The first is the instance default.
const (
	LocaleFR = "fr"
	LocaleEN = "en"
)

// Locales lists the supported locales, default first.
var Locales = []string{LocaleFR, LocaleEN}

// ValidLocale reports whether l is a supported locale.
func ValidLocale(l string) bool { return l == LocaleFR || l == LocaleEN }

// User is a person's single identity, known by a login email unique across
// the instance. A user may belong to many accounts and logs in once.
type User struct {
	ID        ID
	Email     string // the login email as given, trimmed, domain normalised
	EmailKey  string // the comparison key: the email lower-cased
	FirstName string
	LastName  string
	Locale    string
	// ExternalID is the vendor's own identifier of the person, unique
	// across the instance and compared exactly; "" for none. Only the
	// instance sets it (see Member.ExternalID for an account's).
	ExternalID string
	// TimeZone is the IANA name of the zone the times shown to the person
	// are said in; "" for their account's.
	TimeZone string

	// NotificationEmail is where notifications go instead of the login
	// email: set only once a link sent to it was used (see
	// TokenNotificationEmail).
	NotificationEmail string
	EmailVerifiedAt   time.Time // zero until the login email is verified

	PasswordHash      string // argon2id in PHC form; empty until a password is set
	PasswordChangedAt time.Time
	InstanceAdmin     bool
	DisabledAt        time.Time // non-zero: the user may not log in
	LastLoginAt       time.Time
	CreatedAt         time.Time
}

// Name returns the user's full name.
func (u *User) Name() string {
	switch {
	case u.FirstName == "":
		return u.LastName
	case u.LastName == "":
		return u.FirstName
	}
	return u.FirstName + " " + u.LastName
}

// Account is a customer business: a tenant. An account may have a parent (a
// firm's client accounts).
type Account struct {
	ID                 ID
	Name               string
	Locale             string
	ParentID           *ID
	CreatedByAccountID *ID
	RequiresActivation bool
	InvitationTTLHours int
	// NotifyAdder says when whoever adds a member is told by email: when
	// the member's access is created, when they join, both, or never.
	NotifyAdder NotifyAdder
	CreatedAt   time.Time
	// TimeZone is the IANA name of the zone the account's pages show times
	// in; "" for the instance's.
	TimeZone string
	// MFARequiredAt is when the account started requiring its members to
	// have a second factor (zero: it does not); each member has
	// MFAGraceHours from then, or from joining if later, to enrol.
	MFARequiredAt time.Time
	MFAGraceHours int
	// SCIMEnabled: a directory may provision the account's members through
	// SCIM, with an account key made for it (KeySCIM).
	SCIMEnabled bool
}

// Default account settings.
const DefaultInvitationTTLHours = 7 * 24

// NotifyAdder is when an account tells the person who added a member.
type NotifyAdder string

// When the adder is told. Both is the default: the confirmation that the
// colleague's access was created (seed 002), and the notice when they join.
const (
	NotifyOnCreation NotifyAdder = "on_creation"
	NotifyOnJoin     NotifyAdder = "on_join"
	NotifyBoth       NotifyAdder = "both"
	NotifyNever      NotifyAdder = "never"
)

// DefaultNotifyAdder is the setting of a new account.
const DefaultNotifyAdder = NotifyBoth

// Valid reports whether n is one of the settings.
func (n NotifyAdder) Valid() bool {
	switch n {
	case NotifyOnCreation, NotifyOnJoin, NotifyBoth, NotifyNever:
		return true
	}
	return false
}

// OnCreation reports whether the adder is told when the access is created.
func (n NotifyAdder) OnCreation() bool { return n == NotifyOnCreation || n == NotifyBoth }

// OnJoin reports whether the adder is told when the member joins. An
// account read before the setting existed tells them, as it always did.
func (n NotifyAdder) OnJoin() bool { return n == NotifyOnJoin || n == NotifyBoth || n == "" }

// MemberStatus is where a member stands in the account.
type MemberStatus string

// Member statuses: created (added, no email sent) → invited (link sent) →
// active; any of these → suspended → back.
const (
	MemberCreated   MemberStatus = "created"
	MemberInvited   MemberStatus = "invited"
	MemberActive    MemberStatus = "active"
	MemberSuspended MemberStatus = "suspended"
)

// Member is a user's place in one account.
type Member struct {
	AccountID ID
	UserID    ID
	Role      string
	Status    MemberStatus
	Title     string
	Overrides []Override
	// ExternalID is the vendor's own identifier of the person in this
	// account, unique in the account and compared exactly; "" for none.
	// It is the account's, apart from the user's own (User.ExternalID).
	ExternalID string
	// NotificationEmail receives this account's notices to the member
	// (welcome, confirmations) when set; security links always go to the
	// login email.
	NotificationEmail string
	// FirstName and LastName are the names the member was added under, shown
	// until they join (their identity's own names may not be the adder's to
	// see); empty when they are the identity's.
	FirstName string
	LastName  string
	// Locale is the language of the emails to a member who has not joined,
	// as whoever added them chose it (empty: the account's); once they
	// join, their identity's language rules.
	Locale          string
	InvitedBy       *ID
	InvitationsSent int
	LastInvitedAt   time.Time
	JoinedAt        time.Time
	CreatedAt       time.Time
	// LastLoginAt is the member's last login to this account (logging in
	// with it current, or switching to it); zero: never.
	LastLoginAt time.Time
	// UpdatedAt is when what a directory sees of the member last changed
	// (SCIM's meta.lastModified): their role, whether they are suspended,
	// their title, their external ID, the names the account shows them
	// under or their login email (Touch); CreatedAt until then.
	UpdatedAt time.Time
}

// Touch sets m.UpdatedAt to at when m, changed from before, shows a
// directory something else: another role, title or external ID, or a
// suspension begun or lifted (being created, invited or joined is all one
// to a directory: active).
func (m *Member) Touch(before Member, at time.Time) {
	if m.Role != before.Role || m.Title != before.Title || m.ExternalID != before.ExternalID ||
		(m.Status == MemberSuspended) != (before.Status == MemberSuspended) {
		m.UpdatedAt = at
	}
}

// ShownNames returns the names an account shows its member m, whose
// identity is u, under: until they join, the names they were added under
// (none: the account knows them by their address), since the identity's
// own are not the account's to see; once joined, their identity's.
func (m Member) ShownNames(u User) (first, last string) {
	if m.JoinedAt.IsZero() {
		return m.FirstName, m.LastName
	}
	return u.FirstName, u.LastName
}

// SeenBy returns the member's identity u as their account may see it:
// until they join, under the names they were added under (ShownNames),
// with nothing of what the identity did or became elsewhere (last login,
// disabled by the instance). Once joined, u as it is.
func (m Member) SeenBy(u User) User {
	if m.JoinedAt.IsZero() {
		u.FirstName, u.LastName = m.ShownNames(u)
		u.LastLoginAt, u.DisabledAt = time.Time{}, time.Time{}
	}
	return u
}

// Built-in role keys that the service relies on; the catalogue defines the rest.
const (
	RoleAdmin   = "admin"
	RoleManager = "manager"
)

// Override changes one permission of a member on top of their role: Allow
// false denies it whatever the role says; Allow true grants it, at Scope for
// a scoped permission (empty: the permission's default scope).
type Override struct {
	Permission string `json:"permission"`
	Allow      bool   `json:"allow"`
	Scope      string `json:"scope,omitempty"`
}

// Grant is one permission of a role, at Scope for a scoped permission.
type Grant struct {
	Permission string `json:"permission"`
	Scope      string `json:"scope,omitempty"`
}

// CustomRole is a role an account defines for itself, built from catalogue
// permissions. Built-in roles come from the catalogue.
type CustomRole struct {
	AccountID  ID
	Key        string
	LabelFR    string
	LabelEN    string
	Grants     []Grant
	Restricted bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// APIKey lets a program call the API: an account key acts in its account
// with its role's permissions; an instance key (no account) serves the
// vendor's backend across accounts. Only the SHA-256 of the secret is kept.
type APIKey struct {
	ID         ID
	AccountID  *ID
	Name       string
	Prefix     string // the start of the secret, shown to recognise the key
	Hash       []byte
	Role       string // for account keys
	CreatedBy  *ID
	CreatedAt  time.Time
	LastUsedAt time.Time
	RevokedAt  time.Time
	// RevokedReason says why the service revoked the key (see package
	// event's Reason constants); empty when a person revoked it.
	RevokedReason string
	// Purpose is what the key is for: KeyAPI (the JSON API) or KeySCIM
	// (the SCIM service of its account, and nothing else).
	Purpose string
}

// The purposes of an API key.
const (
	KeyAPI  = ""
	KeySCIM = "scim"
)

// Resource is something inside an account that members can be assigned to: a
// location, a company, a service, a product, a theme, an application.
type Resource struct {
	ID         ID
	AccountID  ID
	Type       string
	Name       string
	ExternalID string
	CreatedAt  time.Time
	// ArchivedAt is when the resource was archived; zero while it is in use.
	// An archived resource keeps its assignments and its history, is offered
	// for no new assignment, and every check on it is denied.
	ArchivedAt time.Time
}

// Archived reports whether the resource is archived.
func (r Resource) Archived() bool { return !r.ArchivedAt.IsZero() }

// Resource types the foundation knows before the catalogue is loaded.
const ResourceLocation = "location"

// MemberAccount is one entry of a user's account list: the account and the
// user's place in it.
type MemberAccount struct {
	Account Account
	Member  Member
}

// TokenKind says what a one-time token is for.
type TokenKind string

// Token kinds.
const (
	TokenInvitation  TokenKind = "invitation"
	TokenReset       TokenKind = "reset"
	TokenVerify      TokenKind = "verify"
	TokenEmailChange TokenKind = "email_change" // confirms a login email change; Email is the new address
	// TokenEmailChangeCancel cancels a login email change from the old
	// address (Email), and ends every session.
	TokenEmailChangeCancel TokenKind = "email_change_cancel"
	// TokenSignup confirms a sign-up with an address whose identity nobody
	// has used yet (see identity.Service.SignUp).
	TokenSignup TokenKind = "signup"
	// TokenNotificationEmail confirms a notification address a person
	// chose; the address waits in the token's Email until then.
	TokenNotificationEmail TokenKind = "notification_email"
)

// Token is a one-time link's record. Only the SHA-256 of the secret is kept;
// the secret itself lives in the email and nowhere else.
type Token struct {
	ID           ID
	Kind         TokenKind
	Hash         []byte
	UserID       ID
	AccountID    *ID
	Email        string // the address the link was sent to (email changes: the new one)
	CreatedAt    time.Time
	ExpiresAt    time.Time
	UsedAt       time.Time
	SupersededAt time.Time
}

// Usable reports whether the token can still be consumed at now.
func (t *Token) Usable(now time.Time) bool {
	return t.UsedAt.IsZero() && t.SupersededAt.IsZero() && now.Before(t.ExpiresAt)
}

// Session is a logged-in browser or API client. Only the SHA-256 of the
// session secret is kept.
type Session struct {
	ID         ID
	Hash       []byte
	UserID     ID
	AccountID  *ID // the current account, remembered per session
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // the absolute end
	IP         string
	UserAgent  string
	// AMR says how the login was made, as OpenID Connect's amr claim
	// (RFC 8176): "pwd", "otp", "hwk", "swk", "mfa".
	AMR []string
	// AuthenticatedAt is when the person last proved who they are in the
	// session: at its login, or since by confirming their password.
	AuthenticatedAt time.Time
}

// PrivacyPolicy is one published version of the instance's privacy policy:
// a URL, a text, or both. Version identifies it (it may be derived from the
// content); Label is how people see it named ("Édition de décembre"), and
// when empty pages name it by its publication date.
type PrivacyPolicy struct {
	Version string
	Label   string
	URL     string
	// Text is the policy in no particular language; Texts holds it by
	// language (fr, en). TextIn chooses between them.
	Text        string
	Texts       map[string]string
	PublishedAt time.Time
	// EffectiveAt is when the version takes effect: people are asked to
	// accept it from then on (the publication time when it was not given).
	EffectiveAt time.Time
}

// TextIn returns the policy's text for a reader of locale: the text in
// their language, else the text given without a language, else the text in
// the other language (the policy as published is better than none).
func (p PrivacyPolicy) TextIn(locale string) string {
	if t := p.Texts[locale]; t != "" {
		return t
	}
	if p.Text != "" {
		return p.Text
	}
	for _, l := range []string{"fr", "en"} {
		if t := p.Texts[l]; t != "" {
			return t
		}
	}
	return ""
}

// Consent records that a user accepted a version of the privacy policy.
type Consent struct {
	UserID     ID
	Version    string
	AcceptedAt time.Time
	IP         string
}

// AuditEvent is a change event as the audit log stores it: who did what to
// what, when, from where, with the state before and after (JSON objects,
// secrets never included). Package event writes and reads it typed.
type AuditEvent struct {
	ID         ID
	AccountID  *ID
	ActorType  string // user, api_key, instance_key or system; empty in events older than the field
	ActorID    *ID    // the user's or the key's
	ActorName  string // a key's name when it acted
	Action     string // the event's type
	TargetType string
	TargetID   string
	Before     string
	After      string
	IP         string
	At         time.Time
}

// Origin is where a request comes from, for throttles and the audit log.
type Origin struct {
	IP        string
	UserAgent string
	// Browser is the value of the cookie that recognises a browser a
	// person logged in from before; empty when the client sent none.
	Browser string
}

// Contact kinds.
const (
	ContactBilling    = "billing"
	ContactTechnical  = "technical"
	ContactCommercial = "commercial"
	ContactOther      = "other"
)

// ContactKinds lists the kinds of contact, in display order.
var ContactKinds = []string{ContactBilling, ContactTechnical, ContactCommercial, ContactOther}

// Contact is a person who receives an account's communications (invoices,
// technical notices, offers) but cannot log in: not a user until invited as a member.
type Contact struct {
	ID        ID
	AccountID ID
	FirstName string
	LastName  string
	Email     string
	Phone     string
	Kinds     []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// EmailStatus is where an outgoing email stands.
type EmailStatus string

// Email statuses: queued → processing → sent, or back to queued for a retry,
// or abandoned after the last attempt.
const (
	EmailQueued     EmailStatus = "queued"
	EmailProcessing EmailStatus = "processing"
	EmailSent       EmailStatus = "sent"
	EmailAbandoned  EmailStatus = "abandoned"
)

// Email is one outgoing message of the outbox, rendered when it is queued so
// that a retry sends the very same message (same Message-ID, same link).
type Email struct {
	ID            ID
	MessageID     string // the RFC 5322 Message-ID, without angle brackets
	To            string
	Template      string
	Locale        string
	Subject       string
	Text          string
	HTML          string
	Status        EmailStatus
	Attempts      int
	NextAttemptAt time.Time
	Claim         string // the claim of the worker processing it
	LastError     string
	CreatedAt     time.Time
	SentAt        time.Time
	// PersonID is the identity the email is written to or about, and
	// OtherPersonID another identity it names (an inviter, a new member);
	// zero where none. Erasing either identity deletes the email.
	PersonID      ID
	OtherPersonID ID
}
