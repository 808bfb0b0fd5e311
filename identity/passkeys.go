package identity

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/work"
)

// Passkeys (WebAuthn). The relying party is the public URL: its host name
// is the relying-party ID and its origin the only one accepted. Browsers
// offer WebAuthn only in a secure context, and refuse an IP address as a
// relying-party ID: passkeys work on an https:// public URL, or on
// http://localhost (any port). On any other public URL, such as the
// default http://127.0.0.1:8080, they are unavailable and the pages say so.
//
// A ceremony (registering a passkey, or logging in with one) begins with a
// random challenge that the browser signs; the server keeps only the
// challenge's SHA-256, for ceremonyTTL, and the answer that ends the
// ceremony takes it away: a challenge serves once.

// ceremonyTTL is how long a WebAuthn ceremony may take, from the options
// sent to the browser to its answer.
const ceremonyTTL = 5 * time.Minute

// maxPasskeyName is the longest name of a passkey, in characters.
const maxPasskeyName = 60

// Ceremony purposes.
const (
	purposeRegister     = "register"
	purposeLogin        = "login"
	purposeSecondFactor = "second_factor"
)

// limitPasskeyCeremony bounds how many ceremonies an address may begin: each
// attempt to log in with a passkey needs one (its challenge serves once), so
// this throttles guessing as well.
var limitPasskeyCeremony = window{30, 10 * time.Minute}

// limitPasskeyRemoval bounds the password attempts that removing a passkey
// costs a person.
var limitPasskeyRemoval = window{10, time.Hour}

// RelyingParty returns the WebAuthn relying party of a public URL, named
// product in passkey prompts: nil when the public URL cannot be one (an IP
// address, or http:// on a host other than localhost), with the reason.
func RelyingParty(public *url.URL, product string) (*webauthn.WebAuthn, error) {
	if public == nil {
		return nil, errors.New("no public URL")
	}
	host := strings.ToLower(public.Hostname())
	local := host == "localhost" || strings.HasSuffix(host, ".localhost")
	switch {
	case net.ParseIP(host) != nil:
		return nil, errors.New("the public URL's host is an IP address, which cannot be a WebAuthn relying-party ID: use a host name (http://localhost:PORT on one machine)")
	case public.Scheme != "https" && !local:
		return nil, errors.New("browsers offer WebAuthn only on https:// (or http://localhost): the public URL is " + public.Scheme + "://" + host)
	}
	origin := public.Scheme + "://" + host
	if p := public.Port(); p != "" && !(public.Scheme == "https" && p == "443") && !(public.Scheme == "http" && p == "80") {
		origin += ":" + p
	}
	return webauthn.New(&webauthn.Config{
		RPID:          host,
		RPDisplayName: product,
		RPOrigins:     []string{origin},
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification:   protocol.VerificationPreferred,
		},
		AttestationPreference: protocol.PreferNoAttestation,
	})
}

// PasskeysAvailable reports whether passkeys can be used on this instance
// (see RelyingParty).
func (s *Service) PasskeysAvailable() bool { return s.rp != nil }

// passkeysUnavailable is the error of a passkey use case on an instance
// whose public URL cannot be a relying party.
var passkeysUnavailable = &equipe.Error{Code: equipe.ECONFLICT, Key: "passkey.unavailable"}

// passkeyUser is a person as the WebAuthn library sees them: the user
// handle is their ID (16 random bytes, nothing personal).
type passkeyUser struct {
	u     equipe.User
	creds []webauthn.Credential
}

func (p passkeyUser) WebAuthnID() []byte                         { return p.u.ID[:] }
func (p passkeyUser) WebAuthnName() string                       { return p.u.Email }
func (p passkeyUser) WebAuthnDisplayName() string                { return p.u.Name() }
func (p passkeyUser) WebAuthnCredentials() []webauthn.Credential { return p.creds }

// credentials decodes the credential records of passkeys.
func credentials(keys []store.Passkey) ([]webauthn.Credential, error) {
	out := make([]webauthn.Credential, 0, len(keys))
	for _, k := range keys {
		var c webauthn.Credential
		if err := json.Unmarshal([]byte(k.Credential), &c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// ceremonyData is what a ceremony keeps between its options and its answer.
type ceremonyData struct {
	Session webauthn.SessionData `json:"session"`
	Name    string               `json:"name,omitempty"` // the name of the passkey being registered
	// Login is the SHA-256 of the login challenge whose second step a
	// passkey answers.
	Login []byte `json:"login,omitempty"`
	// Confirms names the change of a logged-in person that a passkey
	// confirms (a second-factor ceremony without a login: confirmEmailChange).
	Confirms string `json:"confirms,omitempty"`
}

// beginCeremony stores a ceremony's session data, without its challenge,
// under the challenge's hash.
func beginCeremony(ctx context.Context, w *work.Unit, purpose string, user *equipe.ID, session *webauthn.SessionData, name string, login []byte) error {
	return beginCeremonyData(ctx, w, purpose, user, ceremonyData{Session: *session, Name: name, Login: login})
}

// beginCeremonyData stores the ceremony d (its session's challenge left
// out) under the challenge's hash.
func beginCeremonyData(ctx context.Context, w *work.Unit, purpose string, user *equipe.ID, d ceremonyData) error {
	hash := sha256.Sum256([]byte(d.Session.Challenge))
	d.Session.Challenge = ""
	d.Session.Expires = time.Time{} // checked against the service's clock, by takeCeremony
	raw, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return w.CreateCeremony(ctx, &store.Ceremony{Hash: hash[:], Purpose: purpose, UserID: user, Data: string(raw),
		CreatedAt: w.Now(), ExpiresAt: w.Now().Add(ceremonyTTL)})
}

// takeCeremony takes the ceremony of purpose whose challenge the browser
// answered, and returns its data with the challenge. Unknown, used and
// expired ceremonies answer ENOTFOUND.
func takeCeremony(ctx context.Context, w *work.Unit, purpose, challenge string) (ceremonyData, *equipe.ID, error) {
	hash := sha256.Sum256([]byte(challenge))
	c, err := w.TakeCeremony(ctx, hash[:], purpose)
	if err != nil {
		return ceremonyData{}, nil, err
	}
	if !w.Now().Before(c.ExpiresAt) {
		return ceremonyData{}, nil, equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
	}
	var d ceremonyData
	if err := json.Unmarshal([]byte(c.Data), &d); err != nil {
		return d, nil, err
	}
	d.Session.Challenge = challenge
	return d, c.UserID, nil
}

// Passkey is one of a person's passkeys, as the use cases give it.
type Passkey = store.Passkey

// Passkeys returns a page of the user's passkeys (or all of them, for the
// whole page), oldest first, with the cursor of the next page ("" after
// the last).
func (s *Service) Passkeys(ctx context.Context, userID equipe.ID, p equipe.Page) ([]Passkey, string, error) {
	if err := p.CheckOrWhole(); err != nil {
		return nil, "", err
	}
	return s.DB.PasskeyPage(ctx, userID, p)
}

// BeginPasskeyRegistration starts registering a passkey named name for the
// person logged in, and returns the options for the browser's
// navigator.credentials.create(): a discoverable credential, user
// verification preferred, none of their passkeys again.
//
// A passkey logs in alone: adding one needs a recent authentication
// (RecentlyAuthenticated), or the person's password. A name that breaks a
// rule answers EINVALID (field "name"), and no password in a session not
// recently authenticated EINVALID (field "password", key
// password.reauth_required), before anything starts; a wrong password
// EINVALID (field "password", key password.current_wrong), throttled as a
// password change is.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, a Auth, name, password string, o equipe.Origin) (*protocol.CredentialCreation, error) {
	if s.rp == nil {
		return nil, passkeysUnavailable
	}
	var v equipe.Invalid
	name = CheckLabel(&v, "name", name, maxPasskeyName)
	s.reauthRequired(&v, a, password)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := s.reauthenticate(ctx, a, password, o); err != nil {
		return nil, err
	}
	var creation *protocol.CredentialCreation
	err := s.Work.Do(ctx, event.ByUser(a.User.ID), o, func(w *work.Unit) error {
		if err := w.Limit(ctx, "passkey:user:"+a.User.ID.String(), limitPasskeyCeremony.Free, limitPasskeyCeremony.Length, ""); err != nil {
			return err
		}
		keys, err := w.Passkeys(ctx, a.User.ID)
		if err != nil {
			return err
		}
		creds, err := credentials(keys)
		if err != nil {
			return err
		}
		user := passkeyUser{u: a.User, creds: creds}
		var session *webauthn.SessionData
		creation, session, err = s.rp.BeginRegistration(user,
			webauthn.WithExclusions(webauthn.Credentials(creds).CredentialDescriptors()),
			webauthn.WithExtensions(webauthn.WithExtensionCredProps()))
		if err != nil {
			return err
		}
		uid := a.User.ID
		return beginCeremony(ctx, w, purposeRegister, &uid, session, name, nil)
	})
	return creation, err
}

// passkeyRefused is the error of a registration the server could not accept.
func passkeyRefused(err error) error {
	return &equipe.Error{Code: equipe.EINVALID, Key: "passkey.refused", Err: err}
}

// FinishPasskeyRegistration checks the browser's answer (the JSON of the
// PublicKeyCredential that navigator.credentials.create() returned) to a
// registration the same person began, and stores the passkey under the
// name given then. The challenge serves once, whatever the outcome. An
// answer that does not hold (unknown or expired challenge, wrong origin, bad
// attestation) answers EINVALID "passkey.refused" and adds nothing; a
// credential already registered answers ECONFLICT "passkey.exists".
func (s *Service) FinishPasskeyRegistration(ctx context.Context, a Auth, response []byte, o equipe.Origin) (store.Passkey, error) {
	if s.rp == nil {
		return store.Passkey{}, passkeysUnavailable
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return store.Passkey{}, passkeyRefused(err)
	}
	var key store.Passkey
	var refused error
	err = s.Work.Do(ctx, event.ByUser(a.User.ID), o, func(w *work.Unit) error {
		d, uid, err := takeCeremony(ctx, w, purposeRegister, parsed.Response.CollectedClientData.Challenge)
		if equipe.ErrorCode(err) == equipe.ENOTFOUND || (err == nil && (uid == nil || *uid != a.User.ID)) {
			refused = passkeyRefused(errors.New("no registration under way for this challenge"))
			return nil
		} else if err != nil {
			return err
		}
		keys, err := w.Passkeys(ctx, a.User.ID)
		if err != nil {
			return err
		}
		creds, err := credentials(keys)
		if err != nil {
			return err
		}
		cred, err := s.rp.CreateCredential(passkeyUser{u: a.User, creds: creds}, d.Session, parsed)
		if err != nil {
			refused = passkeyRefused(err)
			return nil // the challenge is used up all the same
		}
		if _, err := w.PasskeyByCredential(ctx, cred.ID); err == nil {
			refused = &equipe.Error{Code: equipe.ECONFLICT, Key: "passkey.exists"}
			return nil
		} else if equipe.ErrorCode(err) != equipe.ENOTFOUND {
			return err
		}
		raw, err := json.Marshal(cred)
		if err != nil {
			return err
		}
		key = store.Passkey{ID: equipe.NewID(), UserID: a.User.ID, CredentialID: cred.ID, Name: d.Name,
			Credential: string(raw), CreatedAt: w.Now()}
		if err := w.CreatePasskey(ctx, &key); err != nil {
			return err
		}
		if err := s.passkeyMail(ctx, w, a.User, mail.TemplateSecondFactorAdded, key.Name); err != nil {
			return err
		}
		return w.Record(ctx, event.UserPasskeyAdded.New(nil, key.ID.String(), nil, &event.Passkey{Name: key.Name}))
	})
	if err == nil && refused != nil {
		err = refused
	}
	return key, err
}

// passkeyMail tells the person that a passkey named name was added to or
// removed from their second factors (template).
func (s *Service) passkeyMail(ctx context.Context, w *work.Unit, u equipe.User, template, name string) error {
	return mailPerson(ctx, w, u, template, u.Email, mail.Data{RecipientName: u.Name(), RecipientID: u.ID, Factor: FactorPasskey,
		FactorName: name, Link: s.Work.Link("/me/passkeys")})
}

// RenamePasskey gives the person's passkey id a new name. A name that breaks
// a rule answers EINVALID (field "name"); another person's passkey, or one
// that does not exist, ENOTFOUND.
func (s *Service) RenamePasskey(ctx context.Context, a Auth, id equipe.ID, name string, o equipe.Origin) (Passkey, error) {
	var v equipe.Invalid
	name = CheckLabel(&v, "name", name, maxPasskeyName)
	if err := v.Err(); err != nil {
		return store.Passkey{}, err
	}
	var key store.Passkey
	err := s.Work.Do(ctx, event.ByUser(a.User.ID), o, func(w *work.Unit) error {
		var err error
		if key, err = w.Passkey(ctx, a.User.ID, id); err != nil {
			return err
		}
		if key.Name == name {
			return nil
		}
		before := event.Passkey{Name: key.Name}
		if err := w.RenamePasskey(ctx, a.User.ID, id, name); err != nil {
			return err
		}
		key.Name = name
		return w.Record(ctx, event.UserPasskeyRenamed.New(nil, id.String(), &before, &event.Passkey{Name: name}))
	})
	return key, err
}

// RemovePasskey removes the person's passkey id once their password
// confirms it is them (a session left open is not enough), and tells them
// by email. A wrong password answers EINVALID (field "password"), and
// attempts are throttled per person (an empty one is refused, key
// password.confirm_required, and not counted); another person's passkey, or one that
// does not exist, answers ENOTFOUND.
func (s *Service) RemovePasskey(ctx context.Context, a Auth, id equipe.ID, password string, o equipe.Origin) error {
	if err := required("password", keyConfirmPasswordRequired, password); err != nil {
		return err
	}
	var wrong bool
	err := s.Work.Do(ctx, event.ByUser(a.User.ID), o, func(w *work.Unit) error {
		key, err := w.Passkey(ctx, a.User.ID, id)
		if err != nil {
			return err
		}
		if err := w.Limit(ctx, "passkey_removal:user:"+a.User.ID.String(), limitPasskeyRemoval.Free, limitPasskeyRemoval.Length, ""); err != nil {
			return err
		}
		u, err := w.UserByID(ctx, a.User.ID)
		if err != nil {
			return err
		}
		if ok, _ := s.Hasher.Verify(u.PasswordHash, password); !ok || u.PasswordHash == "" {
			wrong = true
			return nil // the attempt counts
		}
		if err := w.DeletePasskey(ctx, a.User.ID, id); err != nil {
			return err
		}
		if err := s.passkeyMail(ctx, w, u, mail.TemplateSecondFactorRemoved, key.Name); err != nil {
			return err
		}
		return w.Record(ctx, event.UserPasskeyRemoved.New(nil, id.String(), &event.Passkey{Name: key.Name}, nil))
	})
	if err == nil && wrong {
		return &equipe.Error{Code: equipe.EINVALID, Key: "error.fields",
			Fields: []equipe.FieldError{{Field: "password", Key: "password.wrong"}}}
	}
	return err
}

// passkeyLoginFailed is the one answer of every passkey login that fails.
var passkeyLoginFailed = &equipe.Error{Code: equipe.EUNAUTHORIZED, Key: "passkey.login_failed"}

// BeginPasskeyLogin starts a login with a passkey alone and returns the
// options for the browser's navigator.credentials.get(): no email is asked,
// the person picks one of the passkeys their device holds for this site
// (a discoverable credential), and the device verifies them (user
// verification required: the passkey stands for a password and a second
// factor). Ceremonies are throttled per address.
func (s *Service) BeginPasskeyLogin(ctx context.Context, o equipe.Origin) (*protocol.CredentialAssertion, error) {
	if s.rp == nil {
		return nil, passkeysUnavailable
	}
	var assertion *protocol.CredentialAssertion
	err := s.Work.Do(ctx, event.System, o, func(w *work.Unit) error {
		if err := w.Limit(ctx, "passkey:ip:"+ipKey(o.IP), limitPasskeyCeremony.Free, limitPasskeyCeremony.Length, ""); err != nil {
			return err
		}
		var session *webauthn.SessionData
		var err error
		assertion, session, err = s.rp.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
		if err != nil {
			return err
		}
		return beginCeremony(ctx, w, purposeLogin, nil, session, "", nil)
	})
	return assertion, err
}

// FinishPasskeyLogin checks the browser's answer (the JSON of the
// PublicKeyCredential that navigator.credentials.get() returned) to a login
// begun by BeginPasskeyLogin, and starts a session for the passkey's owner:
// the signature must verify with the passkey's public key, the device must
// have verified the person, and the signature counter must have grown (a
// counter that did not is a cloned authenticator: refused). The passkey's
// last use is recorded. Every failure answers the same EUNAUTHORIZED
// "passkey.login_failed"; the challenge serves once whatever the outcome.
func (s *Service) FinishPasskeyLogin(ctx context.Context, response []byte, o equipe.Origin) (Auth, string, error) {
	if s.rp == nil {
		return Auth{}, "", passkeysUnavailable
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return Auth{}, "", passkeyLoginFailed
	}
	var auth Auth
	var secret string
	failed := false
	err = s.Work.Do(ctx, event.System, o, func(w *work.Unit) error {
		d, _, err := takeCeremony(ctx, w, purposeLogin, parsed.Response.CollectedClientData.Challenge)
		if equipe.ErrorCode(err) == equipe.ENOTFOUND {
			failed = true
			return nil
		} else if err != nil {
			return err
		}
		u, _, err := s.verifyAssertion(ctx, w, d.Session, parsed, nil, false)
		if err != nil {
			if equipe.ErrorCode(err) == equipe.EUNAUTHORIZED {
				failed = true
				return nil
			}
			return err
		}
		w.ActFor(event.ByUser(u.ID))
		auth, secret, err = s.logIn(ctx, w, &u, passkeyAMR(parsed))
		if err != nil {
			return err
		}
		return w.Record(ctx, event.UserLoggedIn.New(nil, auth.Session.ID.String(), nil, nil))
	})
	if err == nil && failed {
		return Auth{}, "", passkeyLoginFailed
	}
	return auth, secret, err
}

// verifyAssertion checks an assertion against the passkey it names and the
// ceremony's session data, and records the passkey's use (its new sign
// count and last use). With owner set, the passkey must be theirs, and the
// ceremony was begun for them (their passkeys allowed). A failure answers
// passkeyLoginFailed; for a passkey of a known person, it is recorded as a
// failed login of theirs, or when confirming (a change of a logged-in
// person) as a failed second factor of theirs.
func (s *Service) verifyAssertion(ctx context.Context, w *work.Unit, session webauthn.SessionData, parsed *protocol.ParsedCredentialAssertionData, owner *equipe.ID,
	confirming bool) (equipe.User, store.Passkey, error) {
	key, err := w.PasskeyByCredential(ctx, parsed.RawID)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return equipe.User{}, key, passkeyLoginFailed
	} else if err != nil {
		return equipe.User{}, key, err
	}
	u, err := w.UserByID(ctx, key.UserID)
	if err != nil {
		return u, key, err
	}
	fail := func() (equipe.User, store.Passkey, error) {
		e, by := event.UserLoginFailed.New(nil, u.ID.String(), nil, nil), event.System
		if confirming {
			e, by = event.UserSecondFactorFailed.New(nil, u.ID.String(), nil, nil), event.ByUser(u.ID)
		}
		if err := work.Record(ctx, w.Writes, w.Now(), by, w.Origin(), e); err != nil {
			return u, key, err
		}
		return u, key, passkeyLoginFailed
	}
	if (owner != nil && *owner != u.ID) || !u.DisabledAt.IsZero() {
		return fail()
	}
	keys := []store.Passkey{key}
	if owner != nil {
		if keys, err = w.Passkeys(ctx, u.ID); err != nil {
			return u, key, err
		}
	}
	creds, err := credentials(keys)
	if err != nil {
		return u, key, err
	}
	user := passkeyUser{u: u, creds: creds}
	var cred *webauthn.Credential
	if owner != nil {
		cred, err = s.rp.ValidateLogin(user, session, parsed)
	} else {
		_, cred, err = s.rp.ValidatePasskeyLogin(func(rawID, userHandle []byte) (webauthn.User, error) {
			return user, nil
		}, session, parsed)
	}
	if err != nil || cred.Authenticator.CloneWarning {
		return fail()
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return u, key, err
	}
	if err := w.UsePasskey(ctx, key.ID, key.Credential, string(raw), w.Now()); equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return fail() // another login with this passkey committed first
	} else if err != nil {
		return u, key, err
	}
	return u, key, nil
}

// BeginPasskeySecondFactor starts answering a login's second step with a
// passkey: the login waiting under challenge (the password was right) must
// be of a person with passkeys. It returns the options for the browser's
// navigator.credentials.get(), allowing that person's passkeys, user
// verification preferred (the password was the first factor).
func (s *Service) BeginPasskeySecondFactor(ctx context.Context, challenge string, o equipe.Origin) (*protocol.CredentialAssertion, error) {
	if s.rp == nil {
		return nil, passkeysUnavailable
	}
	pl, err := s.PendingLogin(ctx, challenge)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(pl.Methods, MethodPasskey) {
		return nil, passkeyLoginFailed
	}
	var assertion *protocol.CredentialAssertion
	err = s.Work.Do(ctx, event.System, o, func(w *work.Unit) error {
		if err := w.Limit(ctx, "passkey:user:"+pl.User.ID.String(), limitPasskeyCeremony.Free, limitPasskeyCeremony.Length, ""); err != nil {
			return err
		}
		keys, err := w.Passkeys(ctx, pl.User.ID)
		if err != nil {
			return err
		}
		creds, err := credentials(keys)
		if err != nil {
			return err
		}
		var session *webauthn.SessionData
		assertion, session, err = s.rp.BeginLogin(passkeyUser{u: pl.User, creds: creds},
			webauthn.WithUserVerification(protocol.VerificationPreferred))
		if err != nil {
			return err
		}
		uid := pl.User.ID
		return beginCeremony(ctx, w, purposeSecondFactor, &uid, session, "", work.HashSecret(challenge))
	})
	return assertion, err
}

// FinishPasskeySecondFactor checks the browser's answer to a ceremony begun
// by BeginPasskeySecondFactor for the same login, as FinishPasskeyLogin
// does (signature, origin, counter; the passkey must be the person's), and
// then ends the login with a session (FinishLogin, method "passkey"). A
// failure answers EUNAUTHORIZED "passkey.login_failed" and leaves the login
// waiting for another answer until it expires; the passkey ceremony's
// challenge serves once.
func (s *Service) FinishPasskeySecondFactor(ctx context.Context, challenge string, response []byte, o equipe.Origin) (Auth, string, error) {
	if s.rp == nil {
		return Auth{}, "", passkeysUnavailable
	}
	pl, err := s.PendingLogin(ctx, challenge)
	if err != nil {
		return Auth{}, "", err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return Auth{}, "", passkeyLoginFailed
	}
	failed := false
	err = s.Work.Do(ctx, event.System, o, func(w *work.Unit) error {
		d, uid, err := takeCeremony(ctx, w, purposeSecondFactor, parsed.Response.CollectedClientData.Challenge)
		if equipe.ErrorCode(err) == equipe.ENOTFOUND || (err == nil && (uid == nil || *uid != pl.User.ID ||
			!bytes.Equal(d.Login, work.HashSecret(challenge)))) {
			failed = true
			return nil
		} else if err != nil {
			return err
		}
		if _, _, err := s.verifyAssertion(ctx, w, d.Session, parsed, &pl.User.ID, false); equipe.ErrorCode(err) == equipe.EUNAUTHORIZED {
			failed = true
			return nil
		} else if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return Auth{}, "", err
	}
	if failed {
		return Auth{}, "", passkeyLoginFailed
	}
	return s.finishPendingLogin(ctx, challenge, MethodPasskey, passkeyAMR(parsed), o)
}

// passkeyAMR is the amr of a passkey's answer (RFC 8176): a passkey that
// may be copied to the person's other devices (backup eligible, a synced
// passkey) is a software key, swk; one bound to its device a hardware key,
// hwk. The flags are those of the answer verified, which the library
// checked against the passkey's registration.
func passkeyAMR(parsed *protocol.ParsedCredentialAssertionData) string {
	if parsed.Response.AuthenticatorData.Flags.HasBackupEligible() {
		return AMRSoftwareKey
	}
	return AMRHardwareKey
}
