package work

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/store"
)

// Mailer renders an email from a template, ready to be queued; it names
// its templates and gives sample data to preview them with.
type Mailer interface {
	Compose(name, locale, to string, d mail.Data) (equipe.Email, error)
	Names() []string
	Sample(path string) mail.Data
}

// Runner runs units of work on a database. Its clock is the one every use
// case reads.
type Runner struct {
	DB        *store.DB
	Mail      Mailer
	PublicURL *url.URL // the base of every link in emails, never a request's Host
	Clock     func() time.Time
	Rand      io.Reader
	// EmailQueued is called after a unit that queued email commits, so that
	// the outbox worker delivers it at once.
	EmailQueued func()
}

// Now returns the current time by the runner's clock, to the microsecond:
// the precision times are stored at, so that what a use case answers from
// a write reads back the same afterwards.
func (r *Runner) Now() time.Time { return r.Clock().Truncate(time.Microsecond) }

// Unit is a write transaction of a use case. It reads through the same
// transaction, so it sees its own changes.
type Unit struct {
	*store.Tx
	r      *Runner
	now    time.Time
	actor  event.Actor
	origin equipe.Origin
	mailed bool
}

// Do runs fn as one unit of work at the runner's current time, on behalf of
// actor from origin, and commits it if fn returns nil. A unit that fails on
// a passing conflict is run again (see store.DB.Write): fn must have no
// effect outside the unit.
func (r *Runner) Do(ctx context.Context, actor event.Actor, o equipe.Origin, fn func(u *Unit) error) error {
	return r.DoAt(ctx, r.Now(), actor, o, fn)
}

// DoAt is Do at a given time: a use case that read something at now before
// its unit (a link's expiry) keeps one time throughout.
func (r *Runner) DoAt(ctx context.Context, now time.Time, actor event.Actor, o equipe.Origin, fn func(u *Unit) error) error {
	mailed := false
	err := r.DB.Write(ctx, func(tx *store.Tx) error {
		u := &Unit{Tx: tx, r: r, now: now, actor: actor, origin: o}
		if err := fn(u); err != nil {
			return err
		}
		mailed = u.mailed
		return nil
	})
	if err == nil && mailed && r.EmailQueued != nil {
		r.EmailQueued()
	}
	return err
}

// Now returns the unit's time: every change of the unit happens at it.
func (u *Unit) Now() time.Time { return u.now }

// Actor returns who the unit acts for.
func (u *Unit) Actor() event.Actor { return u.actor }

// ActFor makes the unit act for actor from now on: a person who signs up or
// logs in becomes known during the unit.
func (u *Unit) ActFor(actor event.Actor) { u.actor = actor }

// Origin returns where the unit's request came from.
func (u *Unit) Origin() equipe.Origin { return u.origin }

// Record writes the change event e in the unit, by the unit's actor, from
// its origin, at its time. It is the one way events are written.
func (u *Unit) Record(ctx context.Context, e event.Event) error {
	return Record(ctx, u.Writes, u.now, u.actor, u.origin, e)
}

// Record writes the change event e with the writes w (a transaction, or a
// batch that runs as one), by actor from origin at now.
func Record(ctx context.Context, w store.Writes, now time.Time, actor event.Actor, o equipe.Origin, e event.Event) error {
	if err := event.Check(e); err != nil {
		return err
	}
	e.ID, e.Actor, e.IP, e.At = equipe.NewID(), actor, o.IP, now
	row, err := event.Encode(e)
	if err != nil {
		return err
	}
	if err := w.RecordAudit(ctx, &row); err != nil {
		return err
	}
	if err := endGrants(ctx, w, now, e); err != nil {
		return err
	}
	return logOut(ctx, w, now, e)
}

// sessionsEnding are the events of changes that end sessions: logging out,
// a session ended from the sessions page or by an administrator, every
// other one ended by a password change or reset, by the removal of the
// second factors or the cancellation of an email change.
var sessionsEnding = map[event.Type]bool{
	event.UserLoggedOut.Type: true, event.UserSessionEnded.Type: true, event.UserSessionsEnded.Type: true,
	event.UserPasswordChanged.Type: true, event.UserPasswordReset.Type: true, event.UserSecondFactorsRemoved.Type: true,
	event.UserEmailChangeCancelled.Type: true,
}

// logOut tells, with the event of a change that ended sessions, the
// OpenID Connect clients that signed the person in with those sessions
// (back-channel logout): the sessions deleted in the unit are found by the
// grants that name them, whichever use case deleted them.
func logOut(ctx context.Context, w store.Writes, now time.Time, e event.Event) error {
	if !sessionsEnding[e.Type] {
		return nil
	}
	id, err := equipe.ParseID(e.Subject.ID)
	if err != nil {
		return nil
	}
	if e.Subject.Kind == event.SubjectSession {
		return w.LogOutEndedSessions(ctx, equipe.ID{}, &id, now)
	}
	return w.LogOutEndedSessions(ctx, id, nil, now)
}

// endGrants ends, with the event that says so, the OpenID Connect grants
// of a member who may no longer act in the account: suspended or removed;
// and every grant of a person whose identity is disabled, their clients
// told (whether the grant's session ended with the rest or not).
// Their refresh tokens stop working in the same transaction, whichever use
// case (a page, the API, SCIM, an import) made the change.
func endGrants(ctx context.Context, w store.Writes, now time.Time, e event.Event) error {
	disabled := e.Type == event.UserDisabled.Type
	if !disabled && (e.Account == nil || (e.Type != event.MemberSuspended.Type && e.Type != event.MemberRemoved.Type)) {
		return nil
	}
	user, err := equipe.ParseID(e.Subject.ID)
	if err != nil {
		return nil
	}
	if disabled {
		return w.EndGrantsOf(ctx, user, nil, nil, now) // in every account
	}
	return w.EndGrantsOf(ctx, user, e.Account, nil, now)
}

// Mail renders a template and queues the email in the unit: it is sent
// once the unit commits, and never if it does not.
func (u *Unit) Mail(ctx context.Context, template, locale, to string, d mail.Data) error {
	e, err := u.r.Compose(template, locale, to, d, u.now)
	if err != nil {
		return err
	}
	if err := u.EnqueueEmail(ctx, &e); err != nil {
		return err
	}
	u.mailed = true
	return nil
}

// Compose renders a template into an email made at now, with the links
// every email may carry, for writes to queue (Unit.Mail does both).
func (r *Runner) Compose(template, locale, to string, d mail.Data, now time.Time) (equipe.Email, error) {
	d.LoginURL = r.Link("/login")
	d.ResetURL = r.Link("/forgot-password")
	e, err := r.Mail.Compose(template, locale, to, d)
	if err != nil {
		return equipe.Email{}, err
	}
	e.CreatedAt = now
	return e, nil
}

// Queued tells the unit that email was queued through its writes without
// Mail: the outbox worker is woken once the unit commits.
func (u *Unit) Queued() { u.mailed = true }

// NewToken creates a one-time token of kind for the user (and the account,
// for an invitation), valid for ttl, and returns the link under path that
// carries its secret, and when it expires.
func (u *Unit) NewToken(ctx context.Context, kind equipe.TokenKind, user *equipe.User, account *equipe.ID, ttl time.Duration, path string) (link string, expires time.Time, err error) {
	link, t, err := u.IssueToken(ctx, kind, user, account, ttl, path)
	return link, t.ExpiresAt, err
}

// IssueToken is NewToken, returning the token's record (never holding its
// secret) for what is stored under it.
func (u *Unit) IssueToken(ctx context.Context, kind equipe.TokenKind, user *equipe.User, account *equipe.ID, ttl time.Duration, path string) (string, equipe.Token, error) {
	secret, hash, err := NewSecret(u.r.Rand)
	if err != nil {
		return "", equipe.Token{}, err
	}
	t := equipe.Token{ID: equipe.NewID(), Kind: kind, Hash: hash, UserID: user.ID, AccountID: account, Email: user.Email,
		CreatedAt: u.now, ExpiresAt: u.now.Add(ttl)}
	if err := u.CreateToken(ctx, &t); err != nil {
		return "", equipe.Token{}, err
	}
	return u.r.Link(path + secret), t, nil
}

// LinkUsed is the message key of a one-time link used, or replaced by a
// newer one.
const LinkUsed = "link.used"

// Consume marks the token used in the unit; of two concurrent uses one wins
// and the other gets ENOTFOUND "link.used".
func (u *Unit) Consume(ctx context.Context, t *equipe.Token) error {
	err := u.UseToken(ctx, t.ID, u.now)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return &equipe.Error{Code: equipe.ENOTFOUND, Key: LinkUsed}
	}
	return err
}

// Hit counts one request against key in fixed windows of length, at most
// free a window, and reports whether it may proceed, and if not for how
// long. Counts live in the database: they hold across restarts and
// processes.
func (u *Unit) Hit(ctx context.Context, key string, free int, window time.Duration) (bool, time.Duration, error) {
	ok, until, err := u.Tx.Hit(ctx, key, u.now, window, free)
	return ok, until.Sub(u.now), err
}

// Throttled is the error of a request blocked for d: ERATELIMITED with key
// (error.rate_limited when empty) and how long to wait.
func Throttled(key string, d time.Duration) error {
	if key == "" {
		key = "error.rate_limited"
	}
	return &equipe.Error{Code: equipe.ERATELIMITED, Key: key, RetryAfter: d}
}

// Limit counts one more request against key, free a window; beyond, it
// answers Throttled(key of the refusal). Where the request stands is
// recorded for the RateLimit headers (see WithUsages).
func (u *Unit) Limit(ctx context.Context, key string, free int, window time.Duration, refusal string) error {
	count, start, err := u.Tx.HitCount(ctx, key, u.now, window)
	if err != nil {
		return err
	}
	reset := start.Add(window).Sub(u.now)
	recordUsage(ctx, key, free, window, count, reset)
	if ok, wait := count <= free, reset; !ok {
		e := Throttled(refusal, wait).(*equipe.Error)
		e.Until = u.now.Add(wait)
		return e
	}
	return nil
}

// Link returns an absolute URL under the public URL.
func (r *Runner) Link(path string) string {
	return strings.TrimSuffix(r.PublicURL.String(), "/") + path
}

// A secret is 256 random bits, base64url-encoded for links, cookies and API
// keys. The database keeps only its SHA-256: a copy of the database opens
// nothing.

// NewSecret returns a fresh secret read from rand, and its hash.
func NewSecret(rand io.Reader) (secret string, hash []byte, err error) {
	var b [32]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return "", nil, err
	}
	secret = base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashSecret(secret), nil
}

// HashSecret returns the SHA-256 of a secret, as stored.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// PlausibleSecret reports whether s has the form of a secret (43 base64url
// characters), so that garbage is refused before any lookup.
func PlausibleSecret(s string) bool {
	if len(s) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}
