package identity

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/store"
)

// Config holds the identity rules that an operator may tune.
type Config struct {
	// PublicURL is the base of every link in emails. Links never derive from
	// a request's Host header.
	PublicURL *url.URL
	// SessionIdle ends a session after this long without a request (default 1 h).
	SessionIdle time.Duration
	// SessionMax ends a session this long after login, whatever its use (default 12 h).
	SessionMax time.Duration
	// ResetTTL is how long a password-reset link works (default 1 h).
	ResetTTL time.Duration
	// VerifyTTL is how long an email-verification link works (default 48 h).
	VerifyTTL time.Duration
	// ResourceTypes lists the resource types an account's first resource may
	// have (default: location).
	ResourceTypes []string
}

// Mailer renders an email from a template, ready to be queued.
type Mailer interface {
	Compose(name, locale, to string, d mail.Data) (equipe.Email, error)
}

// Origin is where a request comes from, for throttles and the audit log.
type Origin struct {
	IP        string
	UserAgent string
}

// Service runs the identity use cases.
type Service struct {
	DB     *store.DB
	Mail   Mailer
	Hasher *Hasher
	Config Config
	Now    func() time.Time
	Rand   io.Reader
	Log    *slog.Logger
	// EmailQueued is called after a transaction that queued email commits,
	// so that the outbox worker delivers it at once.
	EmailQueued func()

	policyMu sync.Mutex
	policy   *equipe.PrivacyPolicy
	policyAt time.Time
}

// New returns a Service with the defaults filled in.
func New(db *store.DB, m Mailer, h *Hasher, cfg Config) *Service {
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
	if len(cfg.ResourceTypes) == 0 {
		cfg.ResourceTypes = []string{equipe.ResourceLocation}
	}
	if cfg.PublicURL == nil {
		cfg.PublicURL = &url.URL{Scheme: "http", Host: "127.0.0.1:8080"}
	}
	return &Service{DB: db, Mail: m, Hasher: h, Config: cfg, Now: time.Now, Rand: rand.Reader,
		Log: slog.New(slog.DiscardHandler), EmailQueued: func() {}}
}

// Tx is a write transaction of a use case: the store transaction plus the
// helpers that create one-time links, queue email and record audit events
// in it. The team use cases write through it too, so that every email and
// audit event is made one way.
type Tx struct {
	*store.Tx
	s      *Service
	now    time.Time
	origin Origin
	mailed bool
}

// Write runs fn in one transaction, at the service's current time, and wakes
// the outbox worker if fn queued email and the transaction committed.
func (s *Service) Write(ctx context.Context, o Origin, fn func(tx *Tx) error) error {
	return s.write(ctx, s.Now(), o, fn)
}

// write is Write at a given time.
func (s *Service) write(ctx context.Context, now time.Time, o Origin, fn func(tx *Tx) error) error {
	mailed := false
	err := s.DB.Write(ctx, func(stx *store.Tx) error {
		tx := &Tx{Tx: stx, s: s, now: now, origin: o}
		if err := fn(tx); err != nil {
			return err
		}
		mailed = tx.mailed
		return nil
	})
	if err == nil && mailed {
		s.EmailQueued()
	}
	return err
}

// Mail renders a template and queues it in the transaction.
func (tx *Tx) Mail(ctx context.Context, name, locale, to string, d mail.Data) error {
	d.LoginURL = tx.s.link("/login")
	d.ResetURL = tx.s.link("/forgot-password")
	e, err := tx.s.Mail.Compose(name, locale, to, d)
	if err != nil {
		return err
	}
	e.CreatedAt = tx.now
	if err := tx.EnqueueEmail(ctx, &e); err != nil {
		return err
	}
	tx.mailed = true
	return nil
}

// Audit records an event in the transaction. before and after are encoded
// as JSON objects; they must never hold secrets.
func (tx *Tx) Audit(ctx context.Context, account, actor *equipe.ID, action, targetType, targetID string, before, after any) error {
	return audit(ctx, tx.Writes, tx.now, tx.origin, account, actor, action, targetType, targetID, before, after)
}

// audit records an event with the writes w (a transaction or a batch).
func audit(ctx context.Context, w store.Writes, now time.Time, o Origin, account, actor *equipe.ID, action, targetType, targetID string, before, after any) error {
	enc := func(v any) string {
		if v == nil {
			return ""
		}
		b, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(b)
	}
	return w.RecordAudit(ctx, &equipe.AuditEvent{ID: equipe.NewID(), AccountID: account, ActorID: actor,
		Action: action, TargetType: targetType, TargetID: targetID, Before: enc(before), After: enc(after),
		IP: o.IP, At: now})
}

// NewToken creates a one-time token of kind for the user, valid for ttl, and
// returns the link that carries its secret.
func (tx *Tx) NewToken(ctx context.Context, kind equipe.TokenKind, u *equipe.User, account *equipe.ID, ttl time.Duration, path string) (link string, expires time.Time, err error) {
	secret, hash, err := newSecret(tx.s.Rand)
	if err != nil {
		return "", time.Time{}, err
	}
	t := &equipe.Token{ID: equipe.NewID(), Kind: kind, Hash: hash, UserID: u.ID, AccountID: account, Email: u.Email,
		CreatedAt: tx.now, ExpiresAt: tx.now.Add(ttl)}
	if err := tx.CreateToken(ctx, t); err != nil {
		return "", time.Time{}, err
	}
	return tx.s.link(path + secret), t.ExpiresAt, nil
}

// link returns an absolute URL under the public URL.
func (s *Service) link(path string) string {
	return strings.TrimSuffix(s.Config.PublicURL.String(), "/") + path
}

// throttled returns the ERATELIMITED error for a block of d.
func throttled(d time.Duration) error {
	return &equipe.Error{Code: equipe.ERATELIMITED, Key: "error.rate_limited", RetryAfter: d}
}

// Cleanup deletes what has outlived its use: tokens expired for 30 days (kept
// a while so that an old link still says "expired" rather than "unknown"),
// ended sessions, and throttles idle for two days.
func (s *Service) Cleanup(ctx context.Context) error {
	now := s.Now()
	if _, err := s.DB.DeleteExpiredTokens(ctx, now.Add(-30*24*time.Hour)); err != nil {
		return err
	}
	if _, err := s.DB.DeleteStaleSessions(ctx, now, now.Add(-s.Config.SessionIdle)); err != nil {
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
