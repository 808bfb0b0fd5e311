package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/identity"
)

// emailView is a person's login email and the change of it waiting for the
// new address to confirm it, if any.
type emailView struct {
	Email         string           `json:"email"`
	EmailVerified bool             `json:"email_verified"`
	Pending       *emailChangeView `json:"pending"`
	// ConfirmWith is how a change is confirmed beyond the password: the
	// methods of the person's second factors (totp, recovery_code, passkey).
	ConfirmWith []string `json:"confirm_with"`
}

type emailChangeView struct {
	NewEmail    string    `json:"new_email"`
	RequestedAt time.Time `json:"requested_at"`
	ExpiresAt   time.Time `json:"expires_at"`
}

func viewEmail(u equipe.User, c *identity.EmailChange, methods []string) emailView {
	if methods == nil {
		methods = []string{}
	}
	v := emailView{Email: u.Email, EmailVerified: !u.EmailVerifiedAt.IsZero(), ConfirmWith: methods}
	if c != nil {
		v.Pending = &emailChangeView{NewEmail: c.NewEmail, RequestedAt: c.RequestedAt, ExpiresAt: c.ExpiresAt}
	}
	return v
}

// emailStatus answers the person's login email with the change c (nil:
// none) and how a change is confirmed.
func (a *API) emailStatus(w http.ResponseWriter, r *http.Request, status int, c *identity.EmailChange) error {
	auth, _ := httpauth.Auth(r)
	methods, err := a.Identity.EmailChangeMethods(r.Context(), auth.User.ID)
	if err != nil {
		return err
	}
	return respond(w, status, viewEmail(auth.User, c, methods))
}

func (a *API) myEmail(w http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	c, err := a.Identity.PendingEmailChange(r.Context(), auth.User.ID)
	switch {
	case equipe.ErrorCode(err) == equipe.ENOTFOUND:
		return a.emailStatus(w, r, http.StatusOK, nil)
	case err != nil:
		return err
	}
	return a.emailStatus(w, r, http.StatusOK, &c)
}

type emailChangeRequest struct {
	NewEmail        string `json:"new_email"`
	CurrentPassword string `json:"current_password"`
	Code            string `json:"code"`
	// Passkey is the browser's answer to the ceremony begun by
	// POST /api/v1/me/email/passkey (a PublicKeyCredential as JSON).
	Passkey json.RawMessage `json:"passkey"`
}

func (a *API) changeEmail(w http.ResponseWriter, r *http.Request) error {
	var in emailChangeRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if string(in.Passkey) == "null" {
		in.Passkey = nil
	}
	auth, _ := httpauth.Auth(r)
	c, err := a.Identity.RequestEmailChange(r.Context(), auth.User, identity.EmailChangeRequest{NewEmail: in.NewEmail,
		CurrentPassword: in.CurrentPassword, Code: in.Code, Passkey: in.Passkey}, httpauth.Origin(r))
	if err != nil {
		return err
	}
	return a.emailStatus(w, r, http.StatusAccepted, &c)
}

// emailChangePasskey begins confirming a login email change with a
// passkey: the options of navigator.credentials.get() out. The browser's
// answer goes in the change's request (field passkey).
func (a *API) emailChangePasskey(w http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	opts, err := a.Identity.BeginEmailChangePasskey(r.Context(), auth, httpauth.Origin(r))
	if err != nil {
		return err
	}
	return respond(w, http.StatusOK, opts)
}

func (a *API) resendEmailChange(w http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	c, err := a.Identity.ResendEmailChange(r.Context(), auth.User, httpauth.Origin(r))
	if err != nil {
		return err
	}
	return a.emailStatus(w, r, http.StatusAccepted, &c)
}

func (a *API) withdrawEmailChange(w http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	if err := a.Identity.WithdrawEmailChange(r.Context(), auth.User, httpauth.Origin(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) confirmEmailChange(w http.ResponseWriter, r *http.Request) error {
	var in tokenRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	u, err := a.Identity.ConfirmEmailChange(r.Context(), in.Token, httpauth.Origin(r))
	if err != nil {
		return err
	}
	return respond(w, http.StatusOK, map[string]any{"user": viewUser(u)})
}

type emailCancelView struct {
	Email         string `json:"email"`
	Restored      bool   `json:"restored"`
	SessionsEnded int    `json:"sessions_ended"`
}

func (a *API) cancelEmailChange(w http.ResponseWriter, r *http.Request) error {
	var in tokenRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	res, err := a.Identity.CancelEmailChange(r.Context(), in.Token, httpauth.Origin(r))
	if err != nil {
		return err
	}
	// Every session ended, this client's too.
	a.Cookies.Clear(w)
	return respond(w, http.StatusOK, emailCancelView{Email: res.User.Email, Restored: res.Restored,
		SessionsEnded: res.SessionsEnded})
}
