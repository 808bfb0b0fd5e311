package identity

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/work"
)

// A login of a person with a second factor takes two steps. LogIn checks
// the password and, instead of a session, makes a login challenge bound to
// the person, valid for Config.ChallengeTTL and used once. The second step
// answers it with a code (LogInSecondFactor) or another method verified
// elsewhere (a passkey: PendingLogin to learn whose login it is,
// FinishLogin once verified).
//
// The challenge is sealed, not looked up: its secret is the challenge's ID,
// its person and its times sealed with AES-256-GCM under the instance key
// (Keys), so that no one can make one or change it, and the second step
// needs nothing the password step wrote. The password step records the
// challenge (not its secret) and user.second_step_required
// without making its answer wait for them (store.DB.RunBatchDetached); the
// second step records the challenge's use in its own transaction, whether
// the record came first or not, and the use is what makes it single: a
// used or revoked challenge answers nothing more.

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

// challenge queues the record of a login challenge for the user, and its
// event, in the batch b and returns the answer LogIn gives. p, when not
// nil, is what the password step read for the second step, kept until the
// challenge expires (see pendingLogins).
func (s *Service) challenge(ctx context.Context, b *store.Batch, u equipe.User, methods []string, now time.Time, o equipe.Origin,
	p *pendingLogin) (*SecondFactorRequired, error) {
	c := store.LoginChallenge{ID: equipe.NewID(), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.Config.ChallengeTTL)}
	challengeOrigin(&c, o)
	secret := s.sealChallenge(c)
	if err := b.CreateLoginChallenge(ctx, &c); err != nil {
		return nil, err
	}
	if err := work.Record(ctx, b.Writes, now, event.ByUser(u.ID), o, event.UserSecondStepRequired.New(nil, u.ID.String(), nil, nil)); err != nil {
		return nil, err
	}
	if p != nil {
		p.expiresAt = c.ExpiresAt
		s.pending.put(c.ID, *p, now)
	}
	return &SecondFactorRequired{Challenge: secret, Methods: methods, ExpiresAt: c.ExpiresAt}, nil
}

// challengeOrigin sets where the challenge c is answered from.
func challengeOrigin(c *store.LoginChallenge, o equipe.Origin) {
	c.IP, c.UserAgent = o.IP, o.UserAgent
	if len(c.UserAgent) > 256 {
		c.UserAgent = c.UserAgent[:256]
	}
}

// challengeLabel binds sealed challenges to their use: no other sealed
// value of the service opens as one.
const challengeLabel = "login challenge"

// challengeSealedLen is the length of a sealed challenge's payload: the
// challenge's and the person's IDs, its creation and expiry in
// microseconds.
const challengeSealedLen = 16 + 16 + 8 + 8

// sealChallenge returns the secret of the challenge c: the identifier of
// the key that sealed it (8 bytes), then the sealed payload (nonce first),
// in base64url.
func (s *Service) sealChallenge(c store.LoginChallenge) string {
	plain := make([]byte, 0, challengeSealedLen)
	plain = append(plain, c.ID[:]...)
	plain = append(plain, c.UserID[:]...)
	plain = binary.BigEndian.AppendUint64(plain, uint64(c.CreatedAt.UnixMicro()))
	plain = binary.BigEndian.AppendUint64(plain, uint64(c.ExpiresAt.UnixMicro()))
	sealed, keyID := s.Keys.Seal(plain, challengeLabel)
	id, _ := hex.DecodeString(keyID)
	return base64.RawURLEncoding.EncodeToString(append(id, sealed...))
}

// openChallenge returns the challenge whose secret is secret, used or
// not; false for anything that is not one the instance's keys sealed.
func (s *Service) openChallenge(secret string) (store.LoginChallenge, bool) {
	var c store.LoginChallenge
	if len(secret) > 256 {
		return c, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(secret)
	if err != nil || len(raw) < 8 {
		return c, false
	}
	// Only the current key opens one: a challenge lives minutes, and a key
	// rotated out (perhaps because it leaked) must not let anyone make
	// challenges, which skip the password.
	plain, current, err := s.Keys.Open(raw[8:], hex.EncodeToString(raw[:8]), challengeLabel)
	if err != nil || !current || len(plain) != challengeSealedLen {
		return c, false
	}
	copy(c.ID[:], plain[0:16])
	copy(c.UserID[:], plain[16:32])
	c.CreatedAt = time.UnixMicro(int64(binary.BigEndian.Uint64(plain[32:40]))).UTC()
	c.ExpiresAt = time.UnixMicro(int64(binary.BigEndian.Uint64(plain[40:48]))).UTC()
	return c, true
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
	c, ok := s.openChallenge(challenge)
	if !ok || !now.Before(c.ExpiresAt) {
		return c, equipe.User{}, challengeInvalid()
	}
	st, err := s.DB.SecondStep(ctx, store.SecondStepKeys{Challenge: c.ID, User: c.UserID})
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return c, equipe.User{}, challengeInvalid()
	} else if err != nil {
		return c, equipe.User{}, err
	}
	c.UsedAt, c.Method = st.Challenge.UsedAt, st.Challenge.Method
	return c, st.User, usable(c, st.User, now)
}

// usable says whether a challenge of the user can still be answered at
// now: unused, unexpired, of a person not disabled, begun no earlier than
// their password last changed (a reset or a change ends the logins begun
// with the old one, whether or not their record was there to revoke).
func usable(c store.LoginChallenge, u equipe.User, now time.Time) error {
	if !c.UsedAt.IsZero() || !now.Before(c.ExpiresAt) || !u.DisabledAt.IsZero() || c.CreatedAt.Before(u.PasswordChangedAt) {
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
	c, ok := s.openChallenge(challenge)
	if !ok || !s.now().Before(c.ExpiresAt) {
		return Auth{}, "", challengeInvalid()
	}
	if p, ok := s.pending.take(c.ID, s.now()); ok && p.user.ID == c.UserID {
		auth, secret, done, err := s.secondStepAsRead(ctx, c, p, code, o)
		if done {
			return auth, secret, err
		}
	}
	st, err := s.DB.SecondStep(ctx, store.SecondStepKeys{Challenge: c.ID, User: c.UserID, Browser: browserHash(o),
		UserThrottle: codeUserPrefix, OtherThrottle: codeIPKey(o.IP)})
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return Auth{}, "", challengeInvalid()
	} else if err != nil {
		return Auth{}, "", err
	}
	c.UsedAt, c.Method = st.Challenge.UsedAt, st.Challenge.Method
	u := st.User
	if err := usable(c, u, s.now()); err != nil {
		return Auth{}, "", err
	}
	var auth Auth
	var secret string
	_, err = s.verifySecondFactor(ctx, u.ID, code, o, &codeState{f: st.TOTP, has: st.HasTOTP, blockedUntil: st.BlockedUntil},
		func(ctx context.Context, wr store.Writes, now time.Time, method string) error {
			var err error
			browser := readBrowser(st.Browser)
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
	if err != nil {
		return Auth{}, "", err
	}
	s.loggedInSecondFactor(auth)
	return auth, secret, nil
}

// loggedInSecondFactor does what follows a second step's commit.
func (s *Service) loggedInSecondFactor(auth Auth) {
	s.enteredSoleAccount(auth.User.ID, auth.User.LastLoginAt)
	if auth.alerted && s.Work.EmailQueued != nil {
		s.Work.EmailQueued()
	}
}

// secondStepAsRead answers the second step of the challenge c with code
// from p, what its password step read (see pendingLogins), without reading
// again: when code is a right code of the person's app, in the one write
// of a second step, whose conditions hold only if the read would have let
// it through. done is false when the answer is not that write's success (a
// recovery code, a wrong code, a write refused): the caller then answers
// from what it reads, as if nothing had been kept.
//
// A wrong code makes the same write, made so that its step refuses it (no
// code has step 0, and no seed is nil), before it is answered as any other:
// whether a throttle blocks is known only from the write, which a throttle
// that blocks refuses at the same statement for a right code and a wrong
// one, after the same work. The time of the answer, a refusal in both
// cases, so tells nothing of a code tried while attempts are blocked.
func (s *Service) secondStepAsRead(ctx context.Context, c store.LoginChallenge, p pendingLogin, code string, o equipe.Origin) (
	auth Auth, secret string, done bool, err error) {
	norm := normaliseCode(code)
	if isRecoveryCode(norm) {
		return Auth{}, "", false, nil
	}
	now := s.now()
	checked := p.totp.Secret
	step, resealed, err := s.matchTOTP(p.totp, norm, now)
	if equipe.ErrorCode(err) == equipe.EINVALID {
		step, resealed, checked = 0, nil, nil
	} else if err != nil {
		return Auth{}, "", false, nil
	}
	err = s.acceptCode(ctx, p.user.ID, checked, step, resealed, now, o,
		func(ctx context.Context, wr store.Writes, now time.Time, method string) error {
			var err error
			auth, secret, err = s.finishLogin(ctx, wr, now, o, c, p.user, method, methodAMR(method), &p.browser)
			return err
		})
	if err != nil {
		return Auth{}, "", equipe.ErrorCode(err) != equipe.ENOTFOUND, err
	}
	s.loggedInSecondFactor(auth)
	return auth, secret, true, nil
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
		} else if err != nil {
			return err
		}
		return w.SetSoleMemberLogin(ctx, u.ID, w.Now())
	})
	return auth, secret, err
}

// finishLogin uses the challenge and starts the session with the writes wr
// (a transaction, or a batch: then a challenge used meanwhile makes the
// batch fail with ENOTFOUND). browser is what the caller knows of the
// login's browser (nil: nothing). factor is the amr of
// the second factor (RFC 8176), kept with the session after pwd.
func (s *Service) finishLogin(ctx context.Context, wr store.Writes, now time.Time, o equipe.Origin, c store.LoginChallenge, u equipe.User,
	method, factor string, browser *browserRead) (Auth, string, error) {
	challengeOrigin(&c, o)
	if browser == nil {
		browser = &browserRead{}
	}
	browser.began = c.CreatedAt // the password step's
	if err := wr.UseLoginChallenge(ctx, &c, method, now); err != nil {
		return Auth{}, "", err
	}
	if err := wr.SetLastLoginIfActive(ctx, u.ID, now); err != nil {
		return Auth{}, "", err
	}
	u.LastLoginAt = now
	auth, secret, err := startSessionKnowing(ctx, wr, s, &u, now, o, browser, []string{AMRPassword, factor, AMRMultiFactor})
	if err != nil {
		return Auth{}, "", err
	}
	return auth, secret, work.Record(ctx, wr, now, event.ByUser(u.ID), o, event.UserLoggedIn.New(nil, auth.Session.ID.String(), nil, nil))
}
