package identity

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/brand"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/work"
)

// Config holds the identity rules that an operator may tune.
type Config struct {
	// SessionIdle ends a session after this long without a request (default 1 h).
	SessionIdle time.Duration
	// SessionMax ends a session this long after login, whatever its use (default 12 h).
	SessionMax time.Duration
	// ResetTTL is how long a password-reset link works (default 1 h).
	ResetTTL time.Duration
	// VerifyTTL is how long an email-verification link works (default 48 h).
	VerifyTTL time.Duration
	// ChallengeTTL is how long a login waits for its second step (default
	// 5 min).
	ChallengeTTL time.Duration
	// NotificationEmailTTL is how long the link confirming a notification
	// address works (default 72 h).
	NotificationEmailTTL time.Duration
	// EmailChangeTTL is how long the link that confirms a login email
	// change works (default 24 h).
	EmailChangeTTL time.Duration
	// EmailCancelTTL is how long the link sent to the old address, which
	// cancels a login email change or undoes it, works (default 72 h).
	EmailCancelTTL time.Duration
	// ResourceTypes lists the resource types an account's first resource may
	// have (default: location).
	ResourceTypes []string
	// Product is the product's name people's authenticator apps and
	// passkey prompts show (default brand.DefaultName).
	Product string
}

// Service runs the identity use cases.
type Service struct {
	DB     *store.DB
	Work   *work.Runner // every change is a unit of work; its clock is the service's
	Hasher *Hasher
	Config Config
	// Keys seals the secrets kept to be read back (authenticator seeds).
	// New sets a random key that lives as long as the process; a service
	// sets the instance's configured key.
	Keys *Keyring
	Log  *slog.Logger
	// PolicyLabel names a version of the privacy policy as people read it
	// in a language (i18n.Catalog.PolicyLabel): the data export names the
	// versions a person accepted with it. Unset, a version without a label
	// is named by its publication date.
	PolicyLabel func(locale string, p equipe.PrivacyPolicy) string
	// ResetsSwept, when set, is called after each pass of RunResets over
	// the queue, once what it handled has committed: a test waits on it
	// for the requests it made to be handled.
	ResetsSwept func()
	// PasskeysOff says why passkeys are unavailable on this instance (nil
	// when they are available): see RelyingParty.
	PasskeysOff error
	// Brand, when set, is the brand in force: its name is the issuer new
	// authenticator app enrolments show (Config.Product otherwise). The
	// passkey prompts keep the name the service started with.
	Brand *brand.Live

	policyMu   sync.Mutex
	policy     *equipe.PrivacyPolicy
	policyAt   time.Time
	policyNext time.Time // when a version published ahead takes effect (zero: none waits)

	resets chan struct{} // wakes RunResets

	// rp is the WebAuthn relying party of the public URL; nil when the
	// public URL cannot be one (passkeys are then unavailable).
	rp *webauthn.WebAuthn

	logins loginCounts

	// pending keeps what the password steps of this process read, for
	// their second steps (see pendingLogins).
	pending pendingLogins
}

// LinkValidity returns how long the link of an email made from template
// works, as the configuration sets it (an invitation's: the accounts'
// default, which an account may change), or 0 for an email whose link
// does not expire or that has none: what an email's preview says of it.
func (c Config) LinkValidity(template string) time.Duration {
	switch template {
	case mail.TemplateVerifyEmail:
		return c.VerifyTTL
	case mail.TemplatePasswordReset, mail.TemplateAdminReset:
		return c.ResetTTL
	case mail.TemplateNotificationEmail:
		return c.NotificationEmailTTL
	case mail.TemplateEmailChangeRequested:
		return c.EmailChangeTTL
	case mail.TemplateEmailChangeNotice, mail.TemplateEmailChanged:
		return c.EmailCancelTTL
	case mail.TemplateSignupConfirm:
		return signupConfirmTTL
	case mail.TemplateInvitation, mail.TemplateReinvitation, mail.TemplateActivation, mail.TemplateAccessGranted,
		mail.TemplateAccountCreatedForYou:
		return InvitationTTL(equipe.Account{})
	}
	return 0
}

// New returns a Service with the defaults filled in.
func New(w *work.Runner, h *Hasher, cfg Config) *Service {
	if cfg.SessionIdle == 0 {
		cfg.SessionIdle = time.Hour
	}
	if cfg.SessionMax == 0 {
		cfg.SessionMax = 12 * time.Hour
	}
	if cfg.ResetTTL == 0 {
		cfg.ResetTTL = time.Hour
	}
	if cfg.VerifyTTL == 0 {
		cfg.VerifyTTL = 48 * time.Hour
	}
	if cfg.ChallengeTTL == 0 {
		cfg.ChallengeTTL = 5 * time.Minute
	}
	if cfg.NotificationEmailTTL == 0 {
		cfg.NotificationEmailTTL = 72 * time.Hour
	}
	if cfg.EmailChangeTTL == 0 {
		cfg.EmailChangeTTL = 24 * time.Hour
	}
	if cfg.EmailCancelTTL == 0 {
		cfg.EmailCancelTTL = 72 * time.Hour
	}
	if len(cfg.ResourceTypes) == 0 {
		cfg.ResourceTypes = []string{equipe.ResourceLocation}
	}
	if cfg.Product == "" {
		cfg.Product = brand.DefaultName
	}
	s := &Service{DB: w.DB, Work: w, Hasher: h, Config: cfg, Keys: NewRandomKeyring(), Log: slog.New(slog.DiscardHandler),
		resets: make(chan struct{}, 1)}
	s.rp, s.PasskeysOff = RelyingParty(w.PublicURL, cfg.Product)
	return s
}

// now returns the time by the service's clock.
func (s *Service) now() time.Time { return s.Work.Now() }

// Cleanup deletes what has outlived its use: tokens expired for 30 days (kept
// a while so that an old link still says "expired" rather than "unknown"),
// ended sessions, browsers unused for BrowserMemory, WebAuthn ceremonies past their time, and throttles idle
// for two days. It also numbers for the change stream the events that a process's relaxed commits left
// unnumbered when it stopped before numbering them (store.DB.NumberPendingEvents): none of equipe's own relaxed
// commits records an event today, but a login's challenge did before, and a process of that version may have
// left some.
func (s *Service) Cleanup(ctx context.Context) error {
	now := s.now()
	if err := s.DB.NumberPendingEvents(ctx); err != nil {
		return err
	}
	if _, err := s.DB.DeleteExpiredTokens(ctx, now.Add(-30*24*time.Hour)); err != nil {
		return err
	}
	if _, err := s.DB.DeleteStaleSessions(ctx, now, now.Add(-s.Config.SessionIdle)); err != nil {
		return err
	}
	if _, err := s.DB.DeleteStaleBrowsers(ctx, now.Add(-BrowserMemory)); err != nil {
		return err
	}
	if _, err := s.DB.DeleteStaleLoginChallenges(ctx, now.Add(-time.Hour)); err != nil {
		return err
	}
	if _, err := s.DB.DeleteExpiredCeremonies(ctx, now); err != nil {
		return err
	}
	_, err := s.DB.DeleteStaleThrottles(ctx, now.Add(-48*time.Hour))
	return err
}

// Name length limits, in code points.
const maxNameLen = 100

// CheckName validates a person's or account's name and returns it trimmed.
// Names may hold any letters, digits and punctuation but no control or
// bidirectional-override characters (they let a name pose as another) and no
// angle brackets (markup has no place in a name).
func CheckName(v *equipe.Invalid, field, value string) string {
	return CheckLabel(v, field, value, maxNameLen)
}

// CheckLabel validates a short text shown to people (a name, a role's or
// a key's label) of at most max characters, adding its problem to v under
// field, and returns it trimmed: required, valid UTF-8, no markup
// characters, no control or direction-changing characters.
func CheckLabel(v *equipe.Invalid, field, value string, max int) string {
	value = strings.TrimSpace(value)
	switch {
	case value == "":
		v.Add(field, "name.required")
	case !utf8.ValidString(value):
		v.Add(field, "name.invalid")
	case utf8.RuneCountInString(value) > max:
		v.AddArgs(field, "name.too_long", map[string]any{"max": max})
	case strings.ContainsAny(value, "<>"):
		v.Add(field, "name.markup")
	case strings.ContainsFunc(value, func(r rune) bool {
		return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029'
	}):
		v.Add(field, "name.invalid")
	}
	return value
}

// person is someone's identity as typed into a form, checked and normalised.
type person struct {
	email, key, first, last, locale string
}

// checkPerson validates the login email, names and locale of a person.
func checkPerson(v *equipe.Invalid, email, first, last, locale string) person {
	var p person
	var problem string
	if p.email, p.key, problem = NormalizeEmail(email); problem != "" {
		v.Add("email", problem)
	}
	p.first = CheckName(v, "first_name", first)
	p.last = CheckName(v, "last_name", last)
	p.locale = checkLocale(v, "locale", locale)
	return p
}

// CheckNewPassword validates a password being chosen, against the words of
// its context (the person's email and names, an account's name).
func CheckNewPassword(v *equipe.Invalid, password string, context ...string) {
	if p := CheckPassword(password, context...); p != "" {
		v.AddArgs("password", p, map[string]any{"min": MinPasswordLen, "max": MaxPasswordLen})
	}
}

// checkLocale validates a locale field.
func checkLocale(v *equipe.Invalid, field, value string) string {
	if !equipe.ValidLocale(value) {
		v.Add(field, "locale.invalid")
	}
	return value
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
