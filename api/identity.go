package api

import (
	"net/http"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/identity"
)

type signupRequest struct {
	Email         string `json:"email"`
	Password      string `json:"password"`
	FirstName     string `json:"first_name"`
	LastName      string `json:"last_name"`
	AccountName   string `json:"account_name"`
	Locale        string `json:"locale"`
	FirstResource struct {
		Type string `json:"type"`
		Name string `json:"name"`
	} `json:"first_resource"`
}

func (a *API) signup(w http.ResponseWriter, r *http.Request) error {
	var in signupRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Locale == "" {
		in.Locale = a.locale(r)
	}
	res, err := a.Identity.SignUp(r.Context(), identity.SignUp{Email: in.Email, Password: in.Password,
		FirstName: in.FirstName, LastName: in.LastName, AccountName: in.AccountName, Locale: in.Locale,
		ResourceType: in.FirstResource.Type, ResourceName: in.FirstResource.Name}, httpauth.Origin(r), false)
	if err != nil {
		return err
	}
	if res.Pending {
		// Nothing is created until the address confirms it.
		return respond(w, http.StatusAccepted, map[string]any{"confirmation_sent": true})
	}
	return respond(w, http.StatusCreated, map[string]any{"user": viewUser(res.User), "account": viewAccount(res.Account)})
}

func (a *API) confirmSignUp(w http.ResponseWriter, r *http.Request) error {
	var in tokenRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	res, err := a.Identity.ConfirmSignUp(r.Context(), in.Token, httpauth.Origin(r))
	if err != nil {
		return err
	}
	a.Cookies.Set(w, res.Auth, res.Token)
	return respond(w, http.StatusCreated, map[string]any{"user": viewUser(res.User), "account": viewAccount(res.Account),
		"token": res.Token, "expires_at": res.Auth.Session.ExpiresAt})
}

type sessionRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type sessionView struct {
	User            userView  `json:"user"`
	Token           string    `json:"token"`
	ExpiresAt       time.Time `json:"expires_at"`
	ConsentRequired bool      `json:"consent_required"`
}

func (a *API) logIn(w http.ResponseWriter, r *http.Request) error {
	var in sessionRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	auth, secret, err := a.Identity.LogIn(r.Context(), in.Email, in.Password, httpauth.Origin(r))
	if done, err := secondStep(w, err); done {
		return err
	}
	if err != nil {
		return err
	}
	return a.sessionStarted(w, r, auth, secret)
}

// sessionStarted answers a login that started a session (at once, or after
// its second step).
func (a *API) sessionStarted(w http.ResponseWriter, r *http.Request, auth identity.Auth, secret string) error {
	_, needed, err := a.Identity.ConsentNeeded(r.Context(), auth.User.ID)
	if err != nil {
		return err
	}
	a.Cookies.Set(w, auth, secret)
	return respond(w, http.StatusOK, sessionView{User: viewUser(auth.User), Token: secret,
		ExpiresAt: auth.Session.ExpiresAt, ConsentRequired: needed})
}

func (a *API) logOut(w http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	if err := a.Identity.LogOut(r.Context(), auth, httpauth.Origin(r)); err != nil {
		return err
	}
	a.Cookies.Clear(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type resetRequest struct {
	Email string `json:"email"`
}

func (a *API) requestReset(w http.ResponseWriter, r *http.Request) error {
	var in resetRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := a.Identity.RequestReset(r.Context(), in.Email, httpauth.Origin(r)); err != nil {
		return err
	}
	return respond(w, http.StatusAccepted, struct{}{})
}

type confirmResetRequest struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

func (a *API) confirmReset(w http.ResponseWriter, r *http.Request) error {
	var in confirmResetRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if _, err := a.Identity.ConfirmReset(r.Context(), in.Token, in.Password, httpauth.Origin(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type tokenRequest struct {
	Token string `json:"token"`
}

func (a *API) verifyEmail(w http.ResponseWriter, r *http.Request) error {
	var in tokenRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if _, err := a.Identity.VerifyEmail(r.Context(), in.Token, httpauth.Origin(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) privacyPolicy(w http.ResponseWriter, r *http.Request) error {
	p, err := a.Identity.CurrentPolicy(r.Context())
	if err != nil {
		return err
	}
	locale := a.locale(r)
	return respond(w, http.StatusOK, viewPolicy(p, locale, a.I18n.PolicyLabel(locale, p)))
}

type meView struct {
	userView
	// TimeZone is the person's own zone; "" when times are shown in their
	// account's.
	TimeZone string `json:"time_zone"`
	// NotificationEmail is where notifications go once confirmed; "" for
	// the login email.
	NotificationEmail        string            `json:"notification_email"`
	PendingNotificationEmail *pendingEmailView `json:"pending_notification_email"`
	// NewBrowserAlerts says whether a login from a browser new to the
	// person emails them.
	NewBrowserAlerts bool        `json:"new_browser_alerts"`
	Consent          consentView `json:"consent"`
}

// pendingEmailView is a notification address waiting for its confirmation.
type pendingEmailView struct {
	Email     string    `json:"email"`
	ExpiresAt time.Time `json:"expires_at"`
}

type consentView struct {
	Required bool   `json:"required"`
	Version  string `json:"version,omitempty"`
	URL      string `json:"url,omitempty"`
}

func (a *API) me(w http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	return a.respondMe(w, r, auth.User.ID)
}

// respondMe answers the person's profile.
func (a *API) respondMe(w http.ResponseWriter, r *http.Request, user equipe.ID) error {
	prof, err := a.Identity.Profile(r.Context(), user)
	if err != nil {
		return err
	}
	p, needed, err := a.Identity.ConsentNeeded(r.Context(), user)
	if err != nil {
		return err
	}
	v := meView{userView: viewUser(prof.User), TimeZone: prof.User.TimeZone, NotificationEmail: prof.User.NotificationEmail,
		NewBrowserAlerts: prof.NewBrowserAlerts, Consent: consentView{Required: needed, Version: p.Version, URL: p.URL}}
	if prof.PendingEmail != "" {
		v.PendingNotificationEmail = &pendingEmailView{Email: prof.PendingEmail, ExpiresAt: prof.PendingExpires}
	}
	return respond(w, http.StatusOK, v)
}

type consentRequest struct {
	AcceptPrivacyPolicy bool   `json:"accept_privacy_policy"`
	Version             string `json:"version"`
}

func (a *API) consent(w http.ResponseWriter, r *http.Request) error {
	var in consentRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if !in.AcceptPrivacyPolicy {
		return &equipe.Error{Code: equipe.EINVALID, Key: "error.fields",
			Fields: []equipe.FieldError{{Field: "accept_privacy_policy", Key: "consent.must_accept"}}}
	}
	auth, _ := httpauth.Auth(r)
	if in.Version == "" {
		p, err := a.Identity.CurrentPolicy(r.Context())
		if err != nil {
			return err
		}
		in.Version = p.Version
	}
	if err := a.Identity.AcceptPolicy(r.Context(), auth.User.ID, in.Version, httpauth.Origin(r)); err != nil {
		return err
	}
	return respond(w, http.StatusOK, map[string]any{"consent": map[string]any{"required": false, "version": in.Version}})
}

type myAccountView struct {
	accountView
	Role    string     `json:"role,omitempty"`
	Status  string     `json:"status"`
	ViaFirm *equipe.ID `json:"via_firm"`
	Current bool       `json:"current"`
}

// myAccounts lists the accounts the user reaches — memberships, pending ones
// included, and client accounts through their firms — for the account
// switcher, marking the session's current one.
func (a *API) myAccounts(w http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	p, err := pageParam(r)
	if err != nil {
		return err
	}
	entries, next, err := a.Team.MyAccounts(r.Context(), auth.User.ID, p)
	if err != nil {
		return err
	}
	out := newList[myAccountView](len(entries), next)
	for _, e := range entries {
		v := myAccountView{accountView: viewAccount(e.Account), Status: string(equipe.MemberActive), ViaFirm: e.Firm}
		if e.Member != nil {
			v.Role, v.Status = e.Member.Role, string(e.Member.Status)
		}
		// An account the person may no longer enter (suspended there since
		// they chose it) is not their current one, as the switcher shows.
		v.Current = auth.Session.AccountID != nil && *auth.Session.AccountID == e.Account.ID && e.Enterable()
		out.Items = append(out.Items, v)
	}
	return respond(w, http.StatusOK, out)
}
