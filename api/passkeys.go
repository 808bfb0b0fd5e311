package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/identity"
)

// A person's passkeys. Registering one and logging in with one are WebAuthn
// ceremonies in two calls each: the first answers the options for the
// device (navigator.credentials.create() or .get() in a browser, the
// platform's passkey API in a native application), the second takes the
// device's answer, a PublicKeyCredential as JSON, in the field "passkey".
// The relying party is the service's public URL: the application must run
// on its origin, or be associated with its domain.

// passkeyAnswer is the device's answer to a ceremony.
type passkeyAnswer struct {
	Passkey json.RawMessage `json:"passkey"`
}

// answer returns the device's answer, or the field error of a missing one.
func (in passkeyAnswer) answer() ([]byte, error) {
	if len(in.Passkey) == 0 || string(in.Passkey) == "null" {
		return nil, &equipe.Error{Code: equipe.EINVALID, Key: "error.fields",
			Fields: []equipe.FieldError{{Field: "passkey", Key: "passkey.answer_required"}}}
	}
	return in.Passkey, nil
}

type passkeyView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

func viewPasskey(k identity.Passkey) passkeyView {
	v := passkeyView{ID: k.ID.String(), Name: k.Name, CreatedAt: k.CreatedAt}
	if !k.LastUsedAt.IsZero() {
		t := k.LastUsedAt
		v.LastUsedAt = &t
	}
	return v
}

func (a *API) myPasskeys(w http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	p, err := pageParam(r)
	if err != nil {
		return err
	}
	keys, next, err := a.Identity.Passkeys(r.Context(), auth.User.ID, p)
	if err != nil {
		return err
	}
	out := newList[passkeyView](len(keys), next)
	for _, k := range keys {
		out.Items = append(out.Items, viewPasskey(k))
	}
	return respond(w, http.StatusOK, out)
}

type passkeyPatch struct {
	Name string `json:"name"`
}

func (a *API) renamePasskey(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "passkey")
	if err != nil {
		return err
	}
	var in passkeyPatch
	if err := decode(w, r, &in); err != nil {
		return err
	}
	auth, _ := httpauth.Auth(r)
	k, err := a.Identity.RenamePasskey(r.Context(), auth, id, in.Name, httpauth.Origin(r))
	if err != nil {
		return err
	}
	return respond(w, http.StatusOK, viewPasskey(k))
}

type passkeyRemoval struct {
	Password string `json:"password"`
}

func (a *API) removePasskey(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "passkey")
	if err != nil {
		return err
	}
	var in passkeyRemoval
	if err := decode(w, r, &in); err != nil {
		return err
	}
	auth, _ := httpauth.Auth(r)
	if err := a.Identity.RemovePasskey(r.Context(), auth, id, in.Password, httpauth.Origin(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type passkeyRegistration struct {
	Name string `json:"name"`
	// Password is needed in a session not recently authenticated.
	Password string `json:"password"`
}

// passkeyRegistrationOptions begins registering a passkey named in the
// request: the options of navigator.credentials.create() out.
func (a *API) passkeyRegistrationOptions(w http.ResponseWriter, r *http.Request) error {
	var in passkeyRegistration
	if err := decode(w, r, &in); err != nil {
		return err
	}
	auth, _ := httpauth.Auth(r)
	opts, err := a.Identity.BeginPasskeyRegistration(r.Context(), auth, in.Name, in.Password, httpauth.Origin(r))
	if err != nil {
		return err
	}
	return respond(w, http.StatusOK, opts)
}

// registerPasskey ends a registration with the device's answer.
func (a *API) registerPasskey(w http.ResponseWriter, r *http.Request) error {
	var in passkeyAnswer
	if err := decode(w, r, &in); err != nil {
		return err
	}
	answer, err := in.answer()
	if err != nil {
		return err
	}
	auth, _ := httpauth.Auth(r)
	k, err := a.Identity.FinishPasskeyRegistration(r.Context(), auth, answer, httpauth.Origin(r))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/me/passkeys/"+k.ID.String())
	return respond(w, http.StatusCreated, viewPasskey(k))
}

// passkeyLoginOptions begins a login with a passkey alone: the options of
// navigator.credentials.get() out (a discoverable credential: no email).
func (a *API) passkeyLoginOptions(w http.ResponseWriter, r *http.Request) error {
	opts, err := a.Identity.BeginPasskeyLogin(r.Context(), httpauth.Origin(r))
	if err != nil {
		return err
	}
	return respond(w, http.StatusOK, opts)
}

// passkeyLogIn ends a login with a passkey alone and answers the session.
func (a *API) passkeyLogIn(w http.ResponseWriter, r *http.Request) error {
	var in passkeyAnswer
	if err := decode(w, r, &in); err != nil {
		return err
	}
	answer, err := in.answer()
	if err != nil {
		return err
	}
	auth, secret, err := a.Identity.FinishPasskeyLogin(r.Context(), answer, httpauth.Origin(r))
	if err != nil {
		return err
	}
	return a.sessionStarted(w, r, auth, secret)
}

type secondStepPasskeyRequest struct {
	Challenge string `json:"challenge"`
}

// secondStepPasskeyOptions begins answering the second step of the login
// waiting under the challenge with a passkey: the options of
// navigator.credentials.get() out, allowing the person's passkeys. The
// answer goes to POST /api/v1/session/second-factor (field passkey).
func (a *API) secondStepPasskeyOptions(w http.ResponseWriter, r *http.Request) error {
	var in secondStepPasskeyRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	opts, err := a.Identity.BeginPasskeySecondFactor(r.Context(), in.Challenge, httpauth.Origin(r))
	if err != nil {
		return err
	}
	return respond(w, http.StatusOK, opts)
}
