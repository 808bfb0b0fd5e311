package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/identity"
)

// secondStepView is the answer to a login whose password was right and
// that needs its second step.
type secondStepView struct {
	SecondFactorRequired bool      `json:"second_factor_required"`
	Challenge            string    `json:"challenge"`
	Methods              []string  `json:"methods"`
	ExpiresAt            time.Time `json:"expires_at"`
}

// secondStep writes the 202 answer of a login that needs its second step,
// if err is one; it reports whether it did.
func secondStep(w http.ResponseWriter, err error) (bool, error) {
	var step *identity.SecondFactorRequired
	if !errors.As(err, &step) {
		return false, nil
	}
	return true, respond(w, http.StatusAccepted, secondStepView{SecondFactorRequired: true, Challenge: step.Challenge,
		Methods: step.Methods, ExpiresAt: step.ExpiresAt})
}

type secondFactorRequest struct {
	Challenge string `json:"challenge"`
	// Code is the authenticator app's code or a recovery code.
	Code string `json:"code"`
	// Passkey is the device's answer to the ceremony begun by
	// POST /api/v1/session/second-factor/passkey/options, instead of a code.
	Passkey json.RawMessage `json:"passkey"`
}

func (a *API) logInSecondFactor(w http.ResponseWriter, r *http.Request) error {
	var in secondFactorRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if string(in.Passkey) == "null" {
		in.Passkey = nil
	}
	var auth identity.Auth
	var secret string
	var err error
	switch {
	case in.Passkey != nil && in.Code != "":
		return &equipe.Error{Code: equipe.EINVALID, Key: "error.fields",
			Fields: []equipe.FieldError{{Field: "passkey", Key: "second_step.code_or_passkey"}}}
	case in.Passkey != nil:
		auth, secret, err = a.Identity.FinishPasskeySecondFactor(r.Context(), in.Challenge, in.Passkey, httpauth.Origin(r))
	default:
		auth, secret, err = a.Identity.LogInSecondFactor(r.Context(), in.Challenge, in.Code, httpauth.Origin(r))
	}
	if err != nil {
		return err
	}
	return a.sessionStarted(w, r, auth, secret)
}

func (a *API) secondFactors(w http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	f, err := a.Identity.SecondFactors(r.Context(), auth.User.ID)
	if err != nil {
		return err
	}
	return respond(w, http.StatusOK, secondFactorsView{TOTP: f.TOTP, Passkeys: f.Passkeys, RecoveryCodes: f.RecoveryCodes})
}

type totpSetupView struct {
	Secret     string `json:"secret"`
	OTPAuthURL string `json:"otpauth_url"`
	QRPNG      string `json:"qr_png"`
}

// startTOTPRequest is the optional body of a setup's start: the password,
// which a session not recently authenticated needs.
type startTOTPRequest struct {
	Password string `json:"password"`
}

func (a *API) startTOTP(w http.ResponseWriter, r *http.Request) error {
	var in startTOTPRequest
	if r.ContentLength != 0 {
		if err := decode(w, r, &in); err != nil {
			return err
		}
	}
	auth, _ := httpauth.Auth(r)
	setup, err := a.Identity.StartTOTP(r.Context(), auth, in.Password, httpauth.Origin(r))
	if err != nil {
		return err
	}
	return respond(w, http.StatusCreated, totpSetupView{Secret: setup.Secret, OTPAuthURL: setup.URL,
		QRPNG: base64.StdEncoding.EncodeToString(setup.QR)})
}

type codeRequest struct {
	Code string `json:"code"`
}

type recoveryCodesView struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

func (a *API) confirmTOTP(w http.ResponseWriter, r *http.Request) error {
	var in codeRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	auth, _ := httpauth.Auth(r)
	codes, err := a.Identity.ConfirmTOTP(r.Context(), auth, in.Code, httpauth.Origin(r))
	if err != nil {
		return err
	}
	return respond(w, http.StatusOK, recoveryCodesView{RecoveryCodes: codes})
}

type disableTOTPRequest struct {
	Password string `json:"password"`
	Code     string `json:"code"`
}

func (a *API) disableTOTP(w http.ResponseWriter, r *http.Request) error {
	var in disableTOTPRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	auth, _ := httpauth.Auth(r)
	if err := a.Identity.DisableTOTP(r.Context(), auth, in.Password, in.Code, httpauth.Origin(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type passwordRequest struct {
	Password string `json:"password"`
}

func (a *API) regenerateRecoveryCodes(w http.ResponseWriter, r *http.Request) error {
	var in passwordRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	auth, _ := httpauth.Auth(r)
	codes, err := a.Identity.RegenerateRecoveryCodes(r.Context(), auth, in.Password, httpauth.Origin(r))
	if err != nil {
		return err
	}
	return respond(w, http.StatusCreated, recoveryCodesView{RecoveryCodes: codes})
}
