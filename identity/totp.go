package identity

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"image/png"
	"io"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/work"
)

// Authenticator apps (RFC 6238): a 160-bit seed, six-digit codes of
// 30-second steps, SHA-1 (what every app reads). A code is accepted for the
// step before and after the current one too (clocks drift), and once: the
// last step accepted is stored and only later steps are accepted after it.
const (
	totpPeriod = 30
	totpSkew   = 1
	totpDigits = otp.DigitsSix
	// RecoveryCodeCount is how many recovery codes a person gets at once.
	RecoveryCodeCount = 10
	// totpQRSize is the side of the QR code image, in pixels.
	totpQRSize = 240
)

// Second-step methods, as the API names them: the ways a login's second
// step can be answered.
const (
	MethodTOTP         = "totp"
	MethodRecoveryCode = "recovery_code"
	MethodPasskey      = "passkey" // answered in a browser only: see FinishPasskeySecondFactor
)

// Authentication methods of a login, as OpenID Connect's amr claim names
// them (RFC 8176), kept with its session (equipe.Session.AMR).
const (
	AMRPassword    = "pwd"
	AMROneTimeCode = "otp" // an authenticator's code, or a recovery code
	AMRHardwareKey = "hwk" // a passkey bound to its device
	AMRSoftwareKey = "swk" // a passkey that may be synced to other devices
	AMRMultiFactor = "mfa"
)

// methodAMR returns the amr of a second step's method. A passkey's is a
// hardware key unless its answer says otherwise: FinishPasskeySecondFactor
// reads its flags (passkeyAMR) and passes what they say.
func methodAMR(method string) string {
	if method == MethodPasskey {
		return AMRHardwareKey
	}
	return AMROneTimeCode
}

// Factor kinds, as emails and events name them.
const (
	FactorTOTP    = "totp"
	FactorPasskey = "passkey"
)

// TOTPSetup is an enrolment in progress: the seed as an authenticator app
// reads it (in text and in an otpauth:// URL), and the URL as a QR code.
type TOTPSetup struct {
	Secret string // base32, as typed into an app
	URL    string // otpauth://totp/…
	QR     []byte // PNG
}

// totpLabel binds a sealed seed to its user.
func totpLabel(user equipe.ID) string { return "totp:" + user.String() }

// StartTOTP begins the enrolment of an authenticator app: a new seed,
// stored sealed and unconfirmed until ConfirmTOTP gets a code of it (an
// earlier unconfirmed seed is replaced). A person who has a confirmed app
// gets ECONFLICT "totp.already_enabled": they disable it first.
//
// The seed is what adds the factor: starting needs a recent authentication
// (RecentlyAuthenticated), or the person's password. Without it, in a
// session not recently authenticated, the answer is EINVALID (field
// "password", key password.reauth_required); a wrong password answers
// EINVALID (field "password", key password.current_wrong), throttled as a
// password change is. Nothing is written then.
func (s *Service) StartTOTP(ctx context.Context, a Auth, password string, o equipe.Origin) (TOTPSetup, error) {
	var v equipe.Invalid
	s.reauthRequired(&v, a, password)
	if err := v.Err(); err != nil {
		return TOTPSetup{}, err
	}
	if err := s.reauthenticate(ctx, a, password, o); err != nil {
		return TOTPSetup{}, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.totpIssuer(), AccountName: a.User.Email,
		Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1, Rand: s.Work.Rand})
	if err != nil {
		return TOTPSetup{}, err
	}
	err = s.Work.Do(ctx, event.ByUser(a.User.ID), o, func(w *work.Unit) error {
		f, err := w.TOTPFactor(ctx, a.User.ID)
		if err == nil && !f.ConfirmedAt.IsZero() {
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "totp.already_enabled"}
		} else if err != nil && equipe.ErrorCode(err) != equipe.ENOTFOUND {
			return err
		}
		sealed, keyID := s.Keys.Seal([]byte(key.Secret()), totpLabel(a.User.ID))
		if err := w.StartTOTPFactor(ctx, &store.TOTPFactor{UserID: a.User.ID, Secret: sealed, KeyID: keyID, CreatedAt: w.Now()}); err != nil {
			return err
		}
		return w.Record(ctx, event.UserTOTPEnrolmentStarted.New(nil, a.User.ID.String(), nil, nil))
	})
	if err != nil {
		return TOTPSetup{}, err
	}
	return setupOf(key)
}

// PendingTOTP returns the enrolment in progress of the user, to show it
// again; ENOTFOUND "totp.not_started" when there is none. The seed is
// shown again only in a session recently authenticated, as it is made
// (StartTOTP): in another, an enrolment left unfinished is not found, and
// the person starts again.
func (s *Service) PendingTOTP(ctx context.Context, a Auth) (TOTPSetup, error) {
	if !s.RecentlyAuthenticated(a) {
		return TOTPSetup{}, &equipe.Error{Code: equipe.ENOTFOUND, Key: "totp.not_started"}
	}
	f, err := s.DB.TOTPFactor(ctx, a.User.ID)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND || (err == nil && !f.ConfirmedAt.IsZero()) {
		return TOTPSetup{}, &equipe.Error{Code: equipe.ENOTFOUND, Key: "totp.not_started"}
	} else if err != nil {
		return TOTPSetup{}, err
	}
	seed, _, err := s.Keys.Open(f.Secret, f.KeyID, totpLabel(a.User.ID))
	if err != nil {
		return TOTPSetup{}, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.totpIssuer(), AccountName: a.User.Email,
		Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1, Secret: decodeSeed(string(seed))})
	if err != nil {
		return TOTPSetup{}, err
	}
	return setupOf(key)
}

func setupOf(key *otp.Key) (TOTPSetup, error) {
	img, err := key.Image(totpQRSize, totpQRSize)
	if err != nil {
		return TOTPSetup{}, err
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return TOTPSetup{}, err
	}
	return TOTPSetup{Secret: key.Secret(), URL: key.URL(), QR: b.Bytes()}, nil
}

// totpIssuer names the service in authenticator apps: the product and its
// public host.
func (s *Service) totpIssuer() string {
	product := s.Config.Product
	if s.Brand != nil {
		product = s.Brand.Load().Name
	}
	if s.Work.PublicURL != nil && s.Work.PublicURL.Hostname() != "" {
		return product + " (" + s.Work.PublicURL.Hostname() + ")"
	}
	return product
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func decodeSeed(secret string) []byte {
	b, _ := b32.DecodeString(strings.ToUpper(secret))
	return b
}

// ConfirmTOTP ends an enrolment with a code of the new seed: the app is
// then a second factor, the person gets ten new recovery codes (returned
// here, once; only their hashes are kept) and an email. A wrong code
// answers EINVALID (field code) and is throttled like a login's second
// step; ENOTFOUND "totp.not_started" without an enrolment in progress.
func (s *Service) ConfirmTOTP(ctx context.Context, a Auth, code string, o equipe.Origin) ([]string, error) {
	now := s.now()
	f, err := s.DB.TOTPFactor(ctx, a.User.ID)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND || (err == nil && !f.ConfirmedAt.IsZero()) {
		return nil, &equipe.Error{Code: equipe.ENOTFOUND, Key: "totp.not_started"}
	} else if err != nil {
		return nil, err
	}
	if err := required("code", keyAppCodeRequired, code); err != nil {
		return nil, err
	}
	step, sealed, mismatch := s.matchTOTP(f, normaliseCode(code), now)
	if mismatch != nil && equipe.ErrorCode(mismatch) != equipe.EINVALID {
		return nil, mismatch
	}
	codes, hashes, err := newRecoveryCodes(s.Work.Rand)
	if err != nil {
		return nil, err
	}
	var refused error
	err = s.Work.DoAt(ctx, now, event.ByUser(a.User.ID), o, func(w *work.Unit) error {
		refused = nil
		if err := s.codeAttempt(ctx, w, a.User.ID, o); err != nil {
			if equipe.ErrorCode(err) == equipe.ERATELIMITED {
				refused = err
				return nil
			}
			return err
		}
		if mismatch == nil {
			if err := s.acceptStep(ctx, w, a.User.ID, f.Secret, step, sealed); equipe.ErrorCode(err) == equipe.EINVALID {
				mismatch = err
			} else if err != nil {
				return err
			}
		}
		if mismatch != nil {
			refused = mismatch
			return w.Record(ctx, event.UserSecondFactorFailed.New(nil, a.User.ID.String(), nil, nil))
		}
		if err := w.ReplaceRecoveryCodes(ctx, a.User.ID, hashes, w.Now()); err != nil {
			return err
		}
		if err := s.codeSucceeded(ctx, w, a.User.ID, o); err != nil {
			return err
		}
		if err := w.Mail(ctx, mail.TemplateSecondFactorAdded, a.User.Locale, a.User.Email, mail.Data{
			RecipientName: a.User.Name(), RecipientID: a.User.ID, Factor: FactorTOTP, Link: s.Work.Link("/me/security")}); err != nil {
			return err
		}
		return w.Record(ctx, event.UserSecondFactorAdded.New(nil, a.User.ID.String(), nil, &event.Factor{Factor: FactorTOTP}))
	})
	if err != nil {
		return nil, err
	}
	if refused != nil {
		return nil, refused
	}
	return codes, nil
}

// DisableTOTP removes the person's authenticator app, given their password
// and a code (of the app, or a recovery code: the app may be what was
// lost). Their recovery codes go with it unless a passkey remains. They are
// told by email. A wrong password answers EINVALID (field password), a
// wrong code EINVALID (field code); both are throttled. Either left empty
// is told (both at once) before anything is counted.
func (s *Service) DisableTOTP(ctx context.Context, a Auth, password, code string, o equipe.Origin) error {
	f, err := s.DB.TOTPFactor(ctx, a.User.ID)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND || (err == nil && f.ConfirmedAt.IsZero()) {
		return &equipe.Error{Code: equipe.ENOTFOUND, Key: "totp.not_enabled"}
	} else if err != nil {
		return err
	}
	var v equipe.Invalid
	blank(&v, "password", keyConfirmPasswordRequired, password)
	blank(&v, "code", keyCodeRequired2FA, code)
	if err := v.Err(); err != nil {
		return err
	}
	if err := s.confirmPassword(ctx, a.User.ID, password, o); err != nil {
		return err
	}
	if err := s.VerifySecondFactor(ctx, a.User.ID, code, o); err != nil {
		return err
	}
	return s.Work.Do(ctx, event.ByUser(a.User.ID), o, func(w *work.Unit) error {
		n, err := w.DeleteTOTPFactor(ctx, a.User.ID)
		if err != nil {
			return err
		}
		if n == 0 {
			return &equipe.Error{Code: equipe.ENOTFOUND, Key: "totp.not_enabled"}
		}
		left, err := w.Factors(ctx, a.User.ID)
		if err != nil {
			return err
		}
		if !left.Any() {
			if err := w.DeleteRecoveryCodes(ctx, a.User.ID); err != nil {
				return err
			}
		}
		if err := w.Mail(ctx, mail.TemplateSecondFactorRemoved, a.User.Locale, a.User.Email, mail.Data{
			RecipientName: a.User.Name(), RecipientID: a.User.ID, Factor: FactorTOTP, Link: s.Work.Link("/me/security")}); err != nil {
			return err
		}
		return w.Record(ctx, event.UserSecondFactorRemoved.New(nil, a.User.ID.String(), &event.Factor{Factor: FactorTOTP}, nil))
	})
}

// RegenerateRecoveryCodes replaces the person's recovery codes, used or
// not, by ten new ones (returned here, once), given their password. Only
// a person with a second factor has recovery codes: ECONFLICT
// "recovery_codes.no_factor" otherwise.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, a Auth, password string, o equipe.Origin) ([]string, error) {
	f, err := s.DB.Factors(ctx, a.User.ID)
	if err != nil {
		return nil, err
	}
	if !f.Any() {
		return nil, &equipe.Error{Code: equipe.ECONFLICT, Key: "recovery_codes.no_factor"}
	}
	if err := s.confirmPassword(ctx, a.User.ID, password, o); err != nil {
		return nil, err
	}
	codes, hashes, err := newRecoveryCodes(s.Work.Rand)
	if err != nil {
		return nil, err
	}
	err = s.Work.Do(ctx, event.ByUser(a.User.ID), o, func(w *work.Unit) error {
		if err := w.ReplaceRecoveryCodes(ctx, a.User.ID, hashes, w.Now()); err != nil {
			return err
		}
		if err := w.Mail(ctx, mail.TemplateRecoveryCodesRegenerated, a.User.Locale, a.User.Email, mail.Data{
			RecipientName: a.User.Name(), RecipientID: a.User.ID, Link: s.Work.Link("/me/security")}); err != nil {
			return err
		}
		return w.Record(ctx, event.UserRecoveryCodesRegenerated.New(nil, a.User.ID.String(), nil, &event.RecoveryCodes{Left: len(codes)}))
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// SecondFactors returns what second factors the user has.
func (s *Service) SecondFactors(ctx context.Context, userID equipe.ID) (store.FactorSummary, error) {
	return s.DB.Factors(ctx, userID)
}

// VerifySecondFactor checks a code of the user's second factor: a code of
// their authenticator app or one of their recovery codes (which it uses
// up, and tells them by email how many remain). Attempts are throttled per
// user and per client address like logins; a code of the app is accepted
// once. A wrong, replayed or malformed code answers EINVALID with the
// field "code" (key second_factor.invalid, or second_factor.replayed for
// a code already used); an empty one second_factor.required, counted
// against nobody; a throttled attempt ERATELIMITED, whether or not
// the code is right.
func (s *Service) VerifySecondFactor(ctx context.Context, userID equipe.ID, code string, o equipe.Origin) error {
	_, err := s.verifySecondFactor(ctx, userID, code, o, nil, nil)
	return err
}

// verifySecondFactor is VerifySecondFactor; it returns the method the code
// was of. On success, then (when not nil) adds its writes to those that use
// the code, in one transaction.
//
// A code of the app costs, beyond the reads before it (st, when the caller
// read it already; nil: read here), one write transaction when it is right:
// the code is checked in memory against the state read, then one batch
// (one round trip on PostgreSQL) counts the attempt, re-checking inside it
// that neither throttle blocks it (a concurrent attempt may have), marks the
// code's step used (of two requests with the same code one moves it: the
// other's batch takes no effect), clears the throttles and runs then's
// writes; or none of it commits. A wrong code counts its attempt in writes
// of its own, as a blocked one counts nothing. A recovery code takes a
// transaction of its own (it is used rarely, and sends an email).
func (s *Service) verifySecondFactor(ctx context.Context, userID equipe.ID, code string, o equipe.Origin, st *codeState,
	then func(ctx context.Context, wr store.Writes, now time.Time, method string) error) (string, error) {
	if err := required("code", keyCodeRequired2FA, code); err != nil {
		return "", err
	}
	now := s.now()
	norm := normaliseCode(code)
	if isRecoveryCode(norm) {
		return MethodRecoveryCode, s.useRecoveryCode(ctx, userID, norm, now, o, then)
	}
	if st == nil {
		read, err := s.codeState(ctx, userID, o)
		if err != nil {
			return "", err
		}
		st = &read
	}
	if now.Before(st.blockedUntil) {
		return "", work.Throttled("", st.blockedUntil.Sub(now))
	}
	if !st.has || st.f.ConfirmedAt.IsZero() {
		return "", s.codeWrong(ctx, userID, now, o, codeInvalid("second_factor.invalid"))
	}
	step, resealed, err := s.matchTOTP(st.f, norm, now)
	if err != nil {
		return "", s.codeWrong(ctx, userID, now, o, err)
	}
	if err := s.acceptCode(ctx, userID, st.f.Secret, step, resealed, now, o, then); equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return "", s.codeRefused(ctx, userID, step, now, o, err)
	} else if err != nil {
		return "", err
	}
	return MethodTOTP, nil
}

// acceptCode accepts, in one batch, the code of step of the person's app
// whose seed is sealed as checked (resealed: sealed again under the
// current key, or nil), with then's writes. ENOTFOUND, and no effect, when
// a throttle blocks the attempt, the step or a later one was accepted, or
// the seed changed, meanwhile; or when then's writes are refused.
func (s *Service) acceptCode(ctx context.Context, userID equipe.ID, checked []byte, step int64, resealed []byte, now time.Time,
	o equipe.Origin, then func(ctx context.Context, wr store.Writes, now time.Time, method string) error) error {
	b := s.DB.NewBatch()
	keyID := ""
	if resealed != nil {
		keyID = s.Keys.KeyID()
	}
	// The attempt is counted only if neither throttle blocks it at this
	// moment (else the batch takes no effect), and being right it is
	// given back at once: the address's, as a successful login's is; the
	// person's, with their failed codes.
	b.AttemptRefunded(ctx, codeIPKey(o.IP), now, limitCodeIP)
	b.AttemptCleared(ctx, codeUserKey(userID), now)
	b.AcceptTOTPStep(ctx, userID, checked, step, now, resealed, keyID)
	if then != nil {
		if err := then(ctx, b.Writes, now, MethodTOTP); err != nil {
			return err
		}
	}
	return s.DB.RunBatch(ctx, b)
}

// codeState is what the check of a code of the person's authenticator app
// reads before it: the app (has: they have one) and until when the
// throttles of their codes block attempts.
type codeState struct {
	f            store.TOTPFactor
	has          bool
	blockedUntil time.Time
}

// codeState reads the person's app and their codes' throttles, counting
// nothing.
func (s *Service) codeState(ctx context.Context, userID equipe.ID, o equipe.Origin) (codeState, error) {
	var st codeState
	f, err := s.DB.TOTPFactor(ctx, userID)
	if err == nil {
		st.f, st.has = f, true
	} else if equipe.ErrorCode(err) != equipe.ENOTFOUND {
		return st, err
	}
	st.blockedUntil, err = s.DB.BlockedUntil(ctx, codeIPKey(o.IP), codeUserKey(userID))
	return st, err
}

// codeRefused says why the batch that accepts a right code of step took no
// effect (err, ENOTFOUND): a throttle that blocked it meanwhile, or the
// step accepted meanwhile by another request (a replay, counted as a wrong
// code). Anything else (then's writes refused) is err itself.
func (s *Service) codeRefused(ctx context.Context, userID equipe.ID, step int64, now time.Time, o equipe.Origin, err error) error {
	st, rerr := s.codeState(ctx, userID, o)
	switch {
	case rerr != nil:
		return rerr
	case now.Before(st.blockedUntil):
		return work.Throttled("", st.blockedUntil.Sub(now))
	case !st.has || st.f.LastStep >= step:
		return s.codeWrong(ctx, userID, now, o, codeInvalid("second_factor.replayed"))
	}
	return err
}

// codeWrong counts the attempt of a wrong code (ERATELIMITED when a
// throttle blocks it) and, for an invalid one, records it in the person's
// log; it returns err. An error other than EINVALID is returned as it is.
func (s *Service) codeWrong(ctx context.Context, userID equipe.ID, now time.Time, o equipe.Origin, err error) error {
	if equipe.ErrorCode(err) != equipe.EINVALID {
		return err
	}
	if terr := s.codeAttemptBatch(ctx, userID, now, o); terr != nil {
		return terr
	}
	return s.codeFailed(ctx, userID, now, o, err)
}

// useRecoveryCode uses one of the person's recovery codes (norm, typed
// and normalised) in one unit: the attempt's count, the code's use, the
// email saying how many remain, and then's writes.
func (s *Service) useRecoveryCode(ctx context.Context, userID equipe.ID, norm string, now time.Time, o equipe.Origin,
	then func(ctx context.Context, wr store.Writes, now time.Time, method string) error) error {
	var refused error
	err := s.Work.DoAt(ctx, now, event.ByUser(userID), o, func(w *work.Unit) error {
		refused = nil
		if err := s.codeAttempt(ctx, w, userID, o); err != nil {
			if equipe.ErrorCode(err) == equipe.ERATELIMITED {
				refused = err
				return nil
			}
			return err
		}
		if err := w.UseRecoveryCode(ctx, userID, hashRecoveryCode(norm), w.Now()); equipe.ErrorCode(err) == equipe.ENOTFOUND {
			// The count and the failure are kept; nothing else changed.
			refused = codeInvalid("second_factor.invalid")
			return w.Record(ctx, event.UserSecondFactorFailed.New(nil, userID.String(), nil, nil))
		} else if err != nil {
			return err
		}
		if err := s.codeSucceeded(ctx, w, userID, o); err != nil {
			return err
		}
		if err := s.recoveryCodeUsed(ctx, w, userID); err != nil {
			return err
		}
		if then != nil {
			return then(ctx, w.Writes, w.Now(), MethodRecoveryCode)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return refused
}

// recoveryCodeUsed tells the person by email, and records, that one of
// their recovery codes was used, and how many remain.
func (s *Service) recoveryCodeUsed(ctx context.Context, w *work.Unit, userID equipe.ID) error {
	f, err := w.Factors(ctx, userID)
	if err != nil {
		return err
	}
	u, err := w.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	if err := mailPerson(ctx, w, u, mail.TemplateRecoveryCodeUsed, u.Email, mail.Data{RecipientName: u.Name(), RecipientID: u.ID,
		RecoveryCodesLeft: f.RecoveryCodes, Link: s.Work.Link("/me/security")}); err != nil {
		return err
	}
	return w.Record(ctx, event.UserRecoveryCodeUsed.New(nil, userID.String(), nil, &event.RecoveryCodes{Left: f.RecoveryCodes}))
}

// codeInvalid is the error of a wrong code.
func codeInvalid(key string) error { return codeInvalidField("code", key) }

// codeInvalidField is the error of a wrong second factor given in field.
func codeInvalidField(field, key string) error {
	return &equipe.Error{Code: equipe.EINVALID, Key: "error.fields", Fields: []equipe.FieldError{{Field: field, Key: key}}}
}

// matchTOTP finds the step whose code is code, among the steps around now
// not accepted yet. It returns the step and, when the seed is sealed under
// a previous key, the seed sealed again under the current one.
func (s *Service) matchTOTP(f store.TOTPFactor, code string, now time.Time) (int64, []byte, error) {
	if len(code) != totpDigits.Length() || strings.Trim(code, "0123456789") != "" {
		return 0, nil, codeInvalid("second_factor.invalid")
	}
	seed, current, err := s.Keys.Open(f.Secret, f.KeyID, totpLabel(f.UserID))
	if err != nil {
		return 0, nil, err
	}
	var resealed []byte
	if !current {
		resealed, _ = s.Keys.Seal(seed, totpLabel(f.UserID))
	}
	opts := hotp.ValidateOpts{Digits: totpDigits, Algorithm: otp.AlgorithmSHA1}
	at := now.Unix() / totpPeriod
	replayed := false
	for step := at - totpSkew; step <= at+totpSkew; step++ {
		want, err := hotp.GenerateCodeCustom(string(seed), uint64(step), opts)
		if err != nil {
			return 0, nil, err
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			if step <= f.LastStep {
				replayed = true
				continue
			}
			return step, resealed, nil
		}
	}
	if replayed {
		return 0, nil, codeInvalid("second_factor.replayed")
	}
	return 0, nil, codeInvalid("second_factor.invalid")
}

// acceptStep records the accepted step of the seed sealed as checked in
// the unit; a concurrent request that accepted the same code first (or
// replaced the seed) makes this one a replay.
func (s *Service) acceptStep(ctx context.Context, w *work.Unit, userID equipe.ID, checked []byte, step int64, resealed []byte) error {
	keyID := ""
	if resealed != nil {
		keyID = s.Keys.KeyID()
	}
	err := w.AcceptTOTPStep(ctx, userID, checked, step, w.Now(), resealed, keyID)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return codeInvalid("second_factor.replayed")
	}
	return err
}

// Codes of second factors are throttled as logins are: per user
// (progressive, forgotten on success) and per client address.
const codeUserPrefix = "code:user:"

func codeUserKey(user equipe.ID) string { return codeUserPrefix + user.String() }
func codeIPKey(ip string) string        { return "code:ip:" + ipKey(ip) }

// codeAttempt counts an attempt at a code for the user from o in the
// unit, before the code is looked at; ERATELIMITED when either key is
// blocked (a blocked attempt is not counted).
func (s *Service) codeAttempt(ctx context.Context, w *work.Unit, userID equipe.ID, o equipe.Origin) error {
	byIP, err := w.Attempt(ctx, codeIPKey(o.IP), w.Now(), limitCodeIP)
	if err != nil {
		return err
	}
	if !byIP.Allowed() {
		return work.Throttled("", byIP.BlockedUntil().Sub(w.Now()))
	}
	byUser, err := w.Attempt(ctx, codeUserKey(userID), w.Now(), limitCodeUser)
	if err != nil {
		return err
	}
	if !byUser.Allowed() {
		return work.Throttled("", byUser.BlockedUntil().Sub(w.Now()))
	}
	return nil
}

// codeAttemptBatch counts an attempt at a code for the user from o, in a
// batch of its own before the code is looked at (as logins are counted);
// ERATELIMITED when either key is blocked.
func (s *Service) codeAttemptBatch(ctx context.Context, userID equipe.ID, now time.Time, o equipe.Origin) error {
	b := s.DB.NewBatch()
	b.Relaxed()
	byIP, err := b.Attempt(ctx, codeIPKey(o.IP), now, limitCodeIP)
	if err != nil {
		return err
	}
	byUser, err := b.Attempt(ctx, codeUserKey(userID), now, limitCodeUser)
	if err != nil {
		return err
	}
	if err := s.DB.RunBatch(ctx, b); err != nil {
		return err
	}
	if !byIP.Allowed() || !byUser.Allowed() {
		until := byIP.BlockedUntil()
		if !byUser.Allowed() && byUser.BlockedUntil().After(until) {
			until = byUser.BlockedUntil()
		}
		return work.Throttled("", until.Sub(now))
	}
	return nil
}

// codeFailed records a wrong code in the person's log and returns err.
func (s *Service) codeFailed(ctx context.Context, userID equipe.ID, now time.Time, o equipe.Origin, err error) error {
	if equipe.ErrorCode(err) != equipe.EINVALID {
		return err
	}
	b := s.DB.NewBatch()
	rerr := work.Record(ctx, b.Writes, now, event.ByUser(userID), o, event.UserSecondFactorFailed.New(nil, userID.String(), nil, nil))
	if rerr == nil {
		rerr = s.DB.RunBatch(ctx, b)
	}
	if rerr != nil {
		s.Log.Error("audit second factor failure", "err", rerr)
	}
	return err
}

// codeSucceeded forgets the user's failed codes and gives the address its
// attempt back, in the unit of the success.
func (s *Service) codeSucceeded(ctx context.Context, w *work.Unit, userID equipe.ID, o equipe.Origin) error {
	if err := w.DeleteThrottle(ctx, codeUserKey(userID)); err != nil {
		return err
	}
	return w.Refund(ctx, codeIPKey(o.IP), limitCodeIP.Free)
}

// confirmPassword checks the password of a logged-in person before a
// change of their second factors, throttled like logins (per user and per
// address): EINVALID (field password, key password.wrong) when it is wrong.
func (s *Service) confirmPassword(ctx context.Context, userID equipe.ID, password string, o equipe.Origin) error {
	return s.confirmPasswordThen(ctx, userID, password, "password.wrong", o, nil)
}

// confirmPasswordThen is confirmPassword, answering the key wrong for a
// wrong password; when the password is right, then (when not nil) adds its
// writes to those that forget the failures, in one batch.
func (s *Service) confirmPasswordThen(ctx context.Context, userID equipe.ID, password, wrong string, o equipe.Origin,
	then func(ctx context.Context, b *store.Batch, now time.Time) error) error {
	if err := required("password", keyConfirmPasswordRequired, password); err != nil {
		return err
	}
	now := s.now()
	keys, err := s.passwordAttempt(ctx, userID, o, now)
	if err != nil {
		return err
	}
	u, err := s.DB.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	if ok, _ := s.Hasher.Verify(u.PasswordHash, password); !ok || u.PasswordHash == "" {
		return &equipe.Error{Code: equipe.EINVALID, Key: "error.fields", Fields: []equipe.FieldError{{Field: "password", Key: wrong}}}
	}
	b := s.DB.NewBatch()
	keys.clear(ctx, b)
	if then != nil {
		if err := then(ctx, b, now); err != nil {
			return err
		}
	}
	return s.DB.RunBatch(ctx, b)
}

// passwordKeys are the throttle keys of a logged-in person's password
// confirmations: per person, and per address shared with logins.
type passwordKeys struct{ user, ip string }

// clear forgets the person's failures and gives the address its try back,
// once the password was right.
func (k passwordKeys) clear(ctx context.Context, w interface {
	DeleteThrottle(ctx context.Context, key string) error
	Refund(ctx context.Context, key string, free int) error
}) error {
	if err := w.DeleteThrottle(ctx, k.user); err != nil {
		return err
	}
	return w.Refund(ctx, k.ip, limitLoginIP.Free)
}

// passwordAttempt counts an attempt at the password of a logged-in person
// before it is checked, per person and per address (the address's count is
// the logins'), and answers ERATELIMITED while either is blocked.
func (s *Service) passwordAttempt(ctx context.Context, userID equipe.ID, o equipe.Origin, now time.Time) (passwordKeys, error) {
	k := passwordKeys{user: "password:user:" + userID.String(), ip: "login:ip:" + ipKey(o.IP)}
	b := s.DB.NewBatch()
	b.Relaxed()
	byIP, err := b.Attempt(ctx, k.ip, now, limitLoginIP)
	if err != nil {
		return k, err
	}
	byUser, err := b.Attempt(ctx, k.user, now, limitLoginEmail)
	if err != nil {
		return k, err
	}
	if err := s.DB.RunBatch(ctx, b); err != nil {
		return k, err
	}
	if !byIP.Allowed() || !byUser.Allowed() {
		until := byIP.BlockedUntil()
		if !byUser.Allowed() && byUser.BlockedUntil().After(until) {
			until = byUser.BlockedUntil()
		}
		return k, work.Throttled("", until.Sub(now))
	}
	return k, nil
}

// Recovery codes: 80 random bits each, written as 16 base32 letters and
// digits in groups of four (abcd-efgh-ijkl-mnop); stored as the SHA-256 of
// the 16 characters in lower case. Spaces, dashes and case do not matter
// when one is typed.
const recoveryCodeLen = 16

func newRecoveryCodes(rand io.Reader) (codes []string, hashes [][]byte, err error) {
	for range RecoveryCodeCount {
		var b [10]byte
		if _, err := io.ReadFull(rand, b[:]); err != nil {
			return nil, nil, err
		}
		c := strings.ToLower(b32.EncodeToString(b[:]))
		codes = append(codes, c[0:4]+"-"+c[4:8]+"-"+c[8:12]+"-"+c[12:16])
		hashes = append(hashes, hashRecoveryCode(c))
	}
	return codes, hashes, nil
}

// normaliseCode removes what people add when they type a code: spaces,
// dashes, upper case.
func normaliseCode(code string) string {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, code)
	return strings.ToLower(code)
}

func isRecoveryCode(norm string) bool {
	if len(norm) != recoveryCodeLen {
		return false
	}
	_, err := b32.DecodeString(strings.ToUpper(norm))
	return err == nil
}

func hashRecoveryCode(norm string) []byte {
	h := sha256.Sum256([]byte(norm))
	return h[:]
}
