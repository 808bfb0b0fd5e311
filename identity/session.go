package identity

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/work"
)

// Auth is an authenticated request's identity: the session and its user.
type Auth struct {
	Session equipe.Session
	User    equipe.User
	// Browser, after a login, is the value of the cookie that recognises
	// the browser at its next logins, to give it: a new one to a browser
	// without it, its own again (for 400 days more) to a browser not seen
	// for a day; empty otherwise (see Origin.Browser).
	Browser string

	alerted bool // the login queued a new-browser email
}

// touchEvery bounds how often a session's last-seen time is written: idle
// expiry is exact to this much, and a busy client does not write on every
// request.
const touchEvery = time.Minute

// logIn logs the user in within the unit (their last login is now) and
// returns the new session with its secret; amr says how (see
// equipe.Session.AMR).
func (s *Service) logIn(ctx context.Context, w *work.Unit, u *equipe.User, amr ...string) (Auth, string, error) {
	if err := w.SetLastLogin(ctx, u.ID, w.Now()); err != nil {
		return Auth{}, "", err
	}
	// Within a larger unit (joining, signing up, a passkey's sign count)
	// the login to the account is one of its writes.
	if err := w.SetSoleMemberLogin(ctx, u.ID, w.Now()); err != nil {
		return Auth{}, "", err
	}
	u.LastLoginAt = w.Now()
	a, secret, err := startSessionKnowing(ctx, w.Writes, s, u, w.Now(), w.Origin(), nil, amr)
	if a.alerted {
		w.Queued()
	}
	return a, secret, err
}

// enteredSoleAccount records, once a login of the user at at committed,
// that they entered the one account they are an active member of (if they
// have one): the time the team page shows and sorts by. A login made of
// one batch (a password, a second step's code) writes it after its answer,
// not in its transaction: of the login's writes it is the costliest (a
// member's row moved in each of the members' indexes) and the login needs
// nothing of it. The person's own last login, the session and the event
// commit with the login; a crash of the machine in the moment after leaves
// the team page showing the login before.
func (s *Service) enteredSoleAccount(userID equipe.ID, at time.Time) {
	b := s.DB.NewBatch()
	b.Relaxed()
	b.SetSoleMemberLogin(context.Background(), userID, at)
	s.DB.RunBatchDetached(b)
}

// startSessionKnowing creates a session with the writes w (a transaction
// or a batch), of a login made by the methods amr, for a caller that knows
// browser of the login's browser (nil: nothing; see browserRead).
func startSessionKnowing(ctx context.Context, w store.Writes, s *Service, u *equipe.User, now time.Time, o equipe.Origin,
	browser *browserRead, amr []string) (Auth, string, error) {
	secret, hash, err := work.NewSecret(s.Work.Rand)
	if err != nil {
		return Auth{}, "", err
	}
	ua := o.UserAgent
	if len(ua) > 256 {
		ua = ua[:256]
	}
	sess := equipe.Session{ID: equipe.NewID(), Hash: hash, UserID: u.ID, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(s.Config.SessionMax), IP: o.IP, UserAgent: ua, AMR: amr, AuthenticatedAt: now}
	if err := w.CreateSession(ctx, &sess); err != nil {
		return Auth{}, "", err
	}
	a := Auth{Session: sess, User: *u}
	if err := s.recognise(ctx, w, &a, o, browser); err != nil {
		return Auth{}, "", err
	}
	return a, secret, nil
}

// LogIn checks an email and password and starts a session. Every failure —
// unknown email, wrong password, no password set yet, disabled user — answers
// the same EUNAUTHORIZED "login.failed", after the same work: an unknown email
// is checked against a dummy hash, and the failure of a known one is recorded
// (user.login_failed) after the answer.
//
// Attempts are throttled per email (known or not) and per client address
// before the password is looked at; a blocked attempt answers ERATELIMITED
// whether or not the password is right, so throttling reveals nothing either.
// A successful login counts against neither.
//
// The bookkeeping before and after the password check runs as two batches
// (one round trip each on PostgreSQL), the person read in the first: a
// login costs the hash and little more.
//
// When the person has a second factor, the answer is a
// *SecondFactorRequired error holding a login challenge: the session comes
// from the second step (LogInSecondFactor, FinishLogin).
func (s *Service) LogIn(ctx context.Context, email, password string, o equipe.Origin) (Auth, string, error) {
	a, secret, err := s.passwordLogIn(ctx, email, password, o)
	s.logins.count(StepPassword, err)
	return a, secret, err
}

func (s *Service) passwordLogIn(ctx context.Context, email, password string, o equipe.Origin) (Auth, string, error) {
	now := s.now()
	key := EmailKey(email)
	ipKey, emailKey := "login:ip:"+ipKey(o.IP), "login:email:"+key

	b := s.DB.NewBatch()
	b.Relaxed()
	byIP, err := b.Attempt(ctx, ipKey, now, limitLoginIP)
	if err != nil {
		return Auth{}, "", err
	}
	byEmail, err := b.Attempt(ctx, emailKey, now, limitLoginEmail)
	if err != nil {
		return Auth{}, "", err
	}
	// The person, their browser's standing and their second factors are
	// read in the same batch, whether or not the attempt is let through:
	// the attempt's count and the read are one round trip.
	var read store.LoginRead
	if err := b.UserForLogin(ctx, key, browserHash(o), &read); err != nil {
		return Auth{}, "", err
	}
	if err := s.DB.RunBatch(ctx, b); err != nil {
		return Auth{}, "", err
	}
	if !byIP.Allowed() || !byEmail.Allowed() {
		until := byIP.BlockedUntil()
		if !byEmail.Allowed() && byEmail.BlockedUntil().After(until) {
			until = byEmail.BlockedUntil()
		}
		return Auth{}, "", work.Throttled("", until.Sub(now))
	}
	u, browser, factors := read.User, read.Browser, read.Factors
	methods := SecondStepMethods(factors, s.rp != nil)
	// The new-browser email is composed while the password is hashed, on
	// another core (the hash takes one): the login that succeeds queues it
	// without composing it in its time. A wrong password discards it. A
	// login whose second step is not the app's code composes its own then.
	var alert *alertAhead
	if u.ID != (equipe.ID{}) && u.DisabledAt.IsZero() && alertDue(browser) && (len(methods) == 0 || factors.TOTP) {
		alert = s.composeAhead(u, now, o)
	}
	ok, rehash := s.Hasher.Verify(u.PasswordHash, password) // an empty hash (unknown user) uses the dummy
	if !ok || !u.DisabledAt.IsZero() {
		if u.ID != (equipe.ID{}) {
			// The failure is recorded after the answer: written before it,
			// the answer for an address someone has would wait for one
			// more commit than the answer for an address nobody has, and
			// its time would tell the two apart.
			b := s.DB.NewBatch()
			if err := work.Record(ctx, b.Writes, now, event.System, o, event.UserLoginFailed.New(nil, u.ID.String(), nil, nil)); err != nil {
				s.Log.Error("audit login failure", "err", err)
			} else {
				s.DB.RunBatchDetached(b)
			}
		}
		return Auth{}, "", &equipe.Error{Code: equipe.EUNAUTHORIZED, Key: "login.failed"}
	}

	// A person with a second factor gets a challenge for the second step
	// rather than a session.
	b = s.DB.NewBatch()
	b.DeleteThrottle(ctx, emailKey)
	b.Refund(ctx, ipKey, limitLoginIP.Free)
	if rehash {
		b.UpgradePasswordHash(ctx, u.ID, u.PasswordHash, s.Hasher.Hash(password))
	}
	if len(methods) > 0 {
		// The challenge is sealed (see challenge): the second step needs
		// none of this batch, so the answer does not wait for it. Nobody
		// waiting, it waits for the disk as any write with an event does:
		// its event is numbered in it, and the second step's write numbers
		// only its own. A login with a second factor so costs its person
		// one write more than a password login, not two.
		var p *pendingLogin
		if factors.TOTP {
			read.TOTP.UserID = u.ID
			p = &pendingLogin{user: u, totp: read.TOTP, browser: *readBrowser(browser)}
			p.browser.alert = alert
		}
		step, err := s.challenge(ctx, b, u, methods, now, o, p)
		if err != nil {
			return Auth{}, "", err
		}
		s.DB.RunBatchDetached(b)
		return Auth{}, "", step
	}
	b.SetLastLogin(ctx, u.ID, now)
	u.LastLoginAt = now
	known := readBrowser(browser)
	known.alert = alert
	auth, secret, err := startSessionKnowing(ctx, b.Writes, s, &u, now, o, known, []string{AMRPassword})
	if err != nil {
		return Auth{}, "", err
	}
	if err := work.Record(ctx, b.Writes, now, event.ByUser(u.ID), o, event.UserLoggedIn.New(nil, auth.Session.ID.String(), nil, nil)); err != nil {
		return Auth{}, "", err
	}
	if err := s.DB.RunBatch(ctx, b); err != nil {
		return Auth{}, "", err
	}
	s.enteredSoleAccount(u.ID, now)
	if auth.alerted && s.Work.EmailQueued != nil {
		s.Work.EmailQueued()
	}
	return auth, secret, nil
}

// Authenticate returns the identity of a session secret. Unknown, ended,
// idle-expired and past-lifetime sessions, and sessions of disabled users,
// answer EUNAUTHORIZED "session.invalid".
func (s *Service) Authenticate(ctx context.Context, secret string) (Auth, error) {
	invalid := &equipe.Error{Code: equipe.EUNAUTHORIZED, Key: "session.invalid"}
	if !work.PlausibleSecret(secret) {
		return Auth{}, invalid
	}
	sess, err := s.DB.SessionByHash(ctx, work.HashSecret(secret))
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return Auth{}, invalid
	} else if err != nil {
		return Auth{}, err
	}
	now := s.now()
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= s.Config.SessionIdle {
		return Auth{}, invalid
	}
	u, err := s.DB.UserByID(ctx, sess.UserID)
	if err != nil {
		return Auth{}, err
	}
	if !u.DisabledAt.IsZero() {
		return Auth{}, invalid
	}
	if now.Sub(sess.LastSeenAt) >= touchEvery {
		if err := s.DB.TouchSession(ctx, sess.ID, now); err != nil {
			return Auth{}, err
		}
		sess.LastSeenAt = now
	}
	return Auth{Session: sess, User: u}, nil
}

// LogOut ends the session.
func (s *Service) LogOut(ctx context.Context, a Auth, o equipe.Origin) error {
	return s.Work.Do(ctx, event.ByUser(a.User.ID), o, func(u *work.Unit) error {
		if err := u.DeleteSession(ctx, a.Session.ID); err != nil {
			return err
		}
		return u.Record(ctx, event.UserLoggedOut.New(nil, a.Session.ID.String(), nil, nil))
	})
}

// Accounts returns the accounts the user belongs to, with their membership.
func (s *Service) Accounts(ctx context.Context, userID equipe.ID) ([]equipe.MemberAccount, error) {
	return s.DB.AccountsOfUser(ctx, userID)
}
