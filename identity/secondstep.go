package identity

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/work"
)

// A login of a person with a second factor takes two steps. LogIn checks
// the password and, instead of a session, makes a login challenge: a
// 256-bit secret (only its SHA-256 is stored) bound to the person, valid
// for Config.ChallengeTTL and used once. The second step answers it with a
// code (LogInSecondFactor) or another method verified elsewhere (a passkey:
// PendingLogin to learn whose login it is, FinishLogin once verified).

// SecondFactorRequired is LogIn's answer when the password was right and
// the login needs its second step: no session exists yet. Callers that do
// not know it treat it as a failure.
type SecondFactorRequired struct {
	Challenge string    // the secret the second step presents
	Methods   []string  // how it may be answered (MethodTOTP, MethodRecoveryCode…)
	ExpiresAt time.Time // when the challenge stops working
}

func (e *SecondFactorRequired) Error() string { return "identity: the login needs its second step" }

// SecondStepMethods lists the methods a person with the factors f may
// answer a login's second step with; none means no second step. Each
// factor adds its own. Passkeys count where they can be used (passkeys
// says whether the instance's public URL allows them): a person with
// passkeys only, on an instance where they cannot be used, logs in with
// their password alone rather than not at all.
func SecondStepMethods(f store.FactorSummary, passkeys bool) []string {
	var m []string
	if f.TOTP {
		m = append(m, MethodTOTP)
	}
	if f.Passkeys > 0 && passkeys {
		m = append(m, MethodPasskey)
	}
	if f.TOTP && f.RecoveryCodes > 0 {
		m = append(m, MethodRecoveryCode)
	}
	return m
}

// challenge queues a login challenge for the user in the batch b and
// returns the answer LogIn gives.
func (s *Service) challenge(ctx context.Context, b *store.Batch, u equipe.User, methods []string, now time.Time, o equipe.Origin) (*SecondFactorRequired, error) {
	secret, hash, err := work.NewSecret(s.Work.Rand)
	if err != nil {
		return nil, err
	}
	ua := o.UserAgent
	if len(ua) > 256 {
		ua = ua[:256]
	}
	c := store.LoginChallenge{ID: equipe.NewID(), Hash: hash, UserID: u.ID, CreatedAt: now,
		ExpiresAt: now.Add(s.Config.ChallengeTTL), IP: o.IP, UserAgent: ua}
	if err := b.CreateLoginChallenge(ctx, &c); err != nil {
		return nil, err
	}
	if err := work.Record(ctx, b.Writes, now, event.ByUser(u.ID), o, event.UserSecondStepRequired.New(nil, u.ID.String(), nil, nil)); err != nil {
		return nil, err
	}
	return &SecondFactorRequired{Challenge: secret, Methods: methods, ExpiresAt: c.ExpiresAt}, nil
}

// PendingLogin is a login waiting for its second step.
type PendingLogin struct {
	User      equipe.User
	Methods   []string
	ExpiresAt time.Time
}

// challengeInvalid is the answer to a challenge unknown, used, expired or
// of a user who can no longer log in.
func challengeInvalid() error {
	return &equipe.Error{Code: equipe.EUNAUTHORIZED, Key: "login.challenge_invalid"}
}

// PendingLogin returns the login waiting for its second step under the
// challenge, without using it. An unknown, used or expired challenge, or
// one of a disabled user, answers EUNAUTHORIZED "login.challenge_invalid".
func (s *Service) PendingLogin(ctx context.Context, challenge string) (PendingLogin, error) {
	c, u, err := s.pendingChallenge(ctx, challenge, s.now())
	if err != nil {
		return PendingLogin{}, err
	}
	f, err := s.DB.Factors(ctx, u.ID)
	if err != nil {
		return PendingLogin{}, err
	}
	return PendingLogin{User: u, Methods: SecondStepMethods(f, s.rp != nil), ExpiresAt: c.ExpiresAt}, nil
}

func (s *Service) pendingChallenge(ctx context.Context, challenge string, now time.Time) (store.LoginChallenge, equipe.User, error) {
	if !work.PlausibleSecret(challenge) {
		return store.LoginChallenge{}, equipe.User{}, challengeInvalid()
	}
	c, err := s.DB.LoginChallengeByHash(ctx, work.HashSecret(challenge))
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return c, equipe.User{}, challengeInvalid()
	} else if err != nil {
		return c, equipe.User{}, err
	}
	if !c.UsedAt.IsZero() || !now.Before(c.ExpiresAt) {
		return c, equipe.User{}, challengeInvalid()
	}
	u, err := s.DB.UserByID(ctx, c.UserID)
	if err != nil {
		return c, u, err
	}
	return c, u, usable(c, u, now)
}

// usable says whether a challenge of the user can still be answered at
// now: unused, unexpired, of a person not disabled.
func usable(c store.LoginChallenge, u equipe.User, now time.Time) error {
	if !c.UsedAt.IsZero() || !now.Before(c.ExpiresAt) || !u.DisabledAt.IsZero() {
		return challengeInvalid()
	}
	return nil
}

// LogInSecondFactor answers a login's second step with a code of the
// person's authenticator app or a recovery code (see VerifySecondFactor),
// and then starts the session, as LogIn does for a login without a second
// step: the attempt's count, the code's use, the challenge's and the
// session commit together. A wrong code leaves the challenge usable until
// it expires.
//
// A right code of the app costs one read (the challenge, its person, their
// app, the browser's standing and the codes' throttles, in one query) and
// one write transaction.
func (s *Service) LogInSecondFactor(ctx context.Context, challenge, code string, o equipe.Origin) (Auth, string, error) {
	a, secret, err := s.logInSecondFactor(ctx, challenge, code, o)
	s.logins.count(StepSecondFactor, err)
	return a, secret, err
}

func (s *Service) logInSecondFactor(ctx context.Context, challenge, code string, o equipe.Origin) (Auth, string, error) {
	if !work.PlausibleSecret(challenge) {
		return Auth{}, "", challengeInvalid()
	}
	st, err := s.DB.SecondStep(ctx, store.SecondStepKeys{Challenge: work.HashSecret(challenge), Browser: browserHash(o),
		UserThrottle: codeUserPrefix, OtherThrottle: codeIPKey(o.IP)})
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return Auth{}, "", challengeInvalid()
	} else if err != nil {
		return Auth{}, "", err
	}
	c, u := st.Challenge, st.User
	if err := usable(c, u, s.now()); err != nil {
		return Auth{}, "", err
	}
	var auth Auth
	var secret string
	_, err = s.verifySecondFactor(ctx, u.ID, code, o, &codeState{f: st.TOTP, has: st.HasTOTP, blockedUntil: st.BlockedUntil},
		func(ctx context.Context, wr store.Writes, now time.Time, method string) error {
			var err error
			browser := &st.Browser
			if method != MethodTOTP {
				browser = nil // a recovery code's transaction reads it again
			}
			auth, secret, err = s.finishLogin(ctx, wr, now, o, c, u, method, methodAMR(method), browser)
			return err
		})
	if err != nil && equipe.ErrorCode(err) != equipe.ERATELIMITED {
		// A challenge used meanwhile (by a concurrent answer) undid the
		// code's use too: say so rather than blame the code.
		if _, _, cerr := s.pendingChallenge(ctx, challenge, s.now()); equipe.ErrorCode(cerr) == equipe.EUNAUTHORIZED {
			return Auth{}, "", cerr
		}
	}
	if err == nil && auth.alerted && s.Work.EmailQueued != nil {
		s.Work.EmailQueued()
	}
	return auth, secret, err
}

// FinishLogin uses up the challenge and starts the session of its login,
// once its second step was verified by method: the caller verified it.
// The challenge must still be usable (EUNAUTHORIZED
// "login.challenge_invalid" otherwise): of two concurrent uses one wins.
func (s *Service) FinishLogin(ctx context.Context, challenge, method string, o equipe.Origin) (Auth, string, error) {
	return s.finishPendingLogin(ctx, challenge, method, methodAMR(method), o)
}

// finishPendingLogin is FinishLogin with the amr of the second factor
// given: what the verification learnt of it (a passkey's kind).
func (s *Service) finishPendingLogin(ctx context.Context, challenge, method, factor string, o equipe.Origin) (Auth, string, error) {
	var auth Auth
	var secret string
	now := s.now()
	c, u, err := s.pendingChallenge(ctx, challenge, now)
	if err != nil {
		return Auth{}, "", err
	}
	err = s.Work.DoAt(ctx, now, event.ByUser(u.ID), o, func(w *work.Unit) error {
		var err error
		auth, secret, err = s.finishLogin(ctx, w.Writes, w.Now(), o, c, u, method, factor, nil)
		if auth.alerted {
			w.Queued()
		}
		if equipe.ErrorCode(err) == equipe.ENOTFOUND {
			return challengeInvalid()
		}
		return err
	})
	return auth, secret, err
}

// finishLogin uses the challenge and starts the session with the writes wr
// (a transaction, or a batch: then a challenge used meanwhile makes the
// batch fail with ENOTFOUND). browser is the standing of the login's
// browser when the caller read it (nil: read here). factor is the amr of
// the second factor (RFC 8176), kept with the session after pwd.
func (s *Service) finishLogin(ctx context.Context, wr store.Writes, now time.Time, o equipe.Origin, c store.LoginChallenge, u equipe.User,
	method, factor string, browser *store.BrowserStanding) (Auth, string, error) {
	if err := wr.UseLoginChallenge(ctx, c.ID, method, now); err != nil {
		return Auth{}, "", err
	}
	if err := wr.SetLastLogin(ctx, u.ID, now); err != nil {
		return Auth{}, "", err
	}
	if err := wr.SetSoleMemberLogin(ctx, u.ID, now); err != nil {
		return Auth{}, "", err
	}
	u.LastLoginAt = now
	auth, secret, err := startSessionKnowing(ctx, wr, s, &u, now, o, browser, []string{AMRPassword, factor, AMRMultiFactor})
	if err != nil {
		return Auth{}, "", err
	}
	return auth, secret, work.Record(ctx, wr, now, event.ByUser(u.ID), o, event.UserLoggedIn.New(nil, auth.Session.ID.String(), nil, nil))
}
