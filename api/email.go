package api

import (
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
}

type emailChangeView struct {
	NewEmail    string    `json:"new_email"`
	RequestedAt time.Time `json:"requested_at"`
	ExpiresAt   time.Time `json:"expires_at"`
}

func viewEmail(u equipe.User, c *identity.EmailChange) emailView {
	v := emailView{Email: u.Email, EmailVerified: !u.EmailVerifiedAt.IsZero()}
	if c != nil {
		v.Pending = &emailChangeView{NewEmail: c.NewEmail, RequestedAt: c.RequestedAt, ExpiresAt: c.ExpiresAt}
	}
	return v
}

func (a *API) myEmail(w http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	c, err := a.Identity.PendingEmailChange(r.Context(), auth.User.ID)
	switch {
	case equipe.ErrorCode(err) == equipe.ENOTFOUND:
		return respond(w, http.StatusOK, viewEmail(auth.User, nil))
	case err != nil:
		return err
	}
	return respond(w, http.StatusOK, viewEmail(auth.User, &c))
}

type emailChangeRequest struct {
	NewEmail        string `json:"new_email"`
	CurrentPassword string `json:"current_password"`
	Code            string `json:"code"`
}

func (a *API) changeEmail(w http.ResponseWriter, r *http.Request) error {
	var in emailChangeRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	auth, _ := httpauth.Auth(r)
	c, err := a.Identity.RequestEmailChange(r.Context(), auth.User,
		identity.EmailChangeRequest{NewEmail: in.NewEmail, CurrentPassword: in.CurrentPassword, Code: in.Code}, httpauth.Origin(r))
	if err != nil {
		return err
	}
	return respond(w, http.StatusAccepted, viewEmail(auth.User, &c))
}

func (a *API) resendEmailChange(w http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	c, err := a.Identity.ResendEmailChange(r.Context(), auth.User, httpauth.Origin(r))
	if err != nil {
		return err
	}
	return respond(w, http.StatusAccepted, viewEmail(auth.User, &c))
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
