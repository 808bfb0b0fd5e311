package web

import (
	"net/http"
	"net/url"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/openid"
	"github.com/equipe-dev/equipe/team"
)

// /login/oidc is where the OpenID Connect provider sends a person for a
// client's authorization request: they log in through equipe's own pages
// (password, then their second factor), pick the account the client will
// see when they have several, and consent to a client not first-party (or
// to any that asks prompt=consent).

// oidcConsentPage asks the person to agree to a client, in an account.
type oidcConsentPage struct {
	ID       string
	Client   string
	Scopes   []string
	Accounts []oidcAccountChoice
	Fixed    bool // the client asked for the account: no choice
	Consent  bool // false for a first-party client (without prompt=consent): only the account is asked
}

type oidcAccountChoice struct {
	ID, Name, Role string
	Checked        bool
}

func oidcSelf(id string) string { return "/login/oidc?id=" + url.QueryEscape(id) }

func (w *Web) oidcLogin(rw http.ResponseWriter, r *http.Request) error {
	if w.SignIn == nil {
		return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
	}
	id := r.URL.Query().Get("id")
	var auth *identity.Auth
	if a, ok := httpauth.Auth(r); ok {
		auth = &a
	}
	l, err := w.SignIn.LoginFor(r.Context(), id, auth)
	if err != nil {
		if l.None && l.ID != "" {
			// The client named an account the person may not act in:
			// under prompt=none it is told so at its redirect URI (OpenID
			// Connect Core 3.1.2.1), as another person's session could
			// answer it; otherwise the page says why.
			return w.oidcRefuse(rw, r, id, "account_selection_required")
		}
		return w.refuse(rw, r, err)
	}
	if auth == nil || !l.Fresh {
		if l.None {
			return w.oidcRefuse(rw, r, id, "login_required")
		}
		if auth != nil {
			return w.oidcLoginAgain(rw, r, l, *auth)
		}
		q := url.Values{"next": {oidcSelf(id)}}
		if l.LoginHint != "" {
			q.Set("login_hint", l.LoginHint)
		}
		if _, err := r.Cookie(langCookie); err != nil && l.Locale != "" {
			q.Set("lang", l.Locale)
		}
		return redirect(rw, r, "/login?"+q.Encode())
	}
	pick := len(l.Accounts) > 1 && l.Account == nil
	if !l.AskConsent() && !pick {
		to, err := w.SignIn.Allow(r.Context(), id, *auth, l.Account)
		if team.IsEnrolmentRequired(err) {
			if l.None {
				return w.oidcRefuse(rw, r, id, "interaction_required")
			}
			return w.oidcEnrolFirst(rw, r, id)
		}
		if err != nil {
			return w.refuse(rw, r, err)
		}
		return w.oidcContinue(rw, r, to)
	}
	if l.None {
		code := "consent_required"
		if pick {
			code = "account_selection_required"
		}
		return w.oidcRefuse(rw, r, id, code)
	}
	return w.showOIDCConsent(rw, r, l, nil, http.StatusOK)
}

// oidcLoginAgain asks the person logged in with auth to log in again, as
// the request l asks (prompt=login, or a login older than max_age): the
// login form, which comes back here once the login succeeds. Their session
// stays until then, and the new one replaces it (startSession): opening
// this page, a GET that any site may make a browser do, ends nothing.
func (w *Web) oidcLoginAgain(rw http.ResponseWriter, r *http.Request, l openid.Login, auth identity.Auth) error {
	p := w.page(r, "login.title")
	p.Notice = "oidc.login_again"
	p.Data = oidcSelf(l.ID)
	p.Form.Values["email"] = auth.User.Email
	if l.LoginHint != "" && len(l.LoginHint) <= 320 {
		p.Form.Values["email"] = l.LoginHint
	}
	return w.render(rw, r, http.StatusOK, "login", p)
}

func (w *Web) showOIDCConsent(rw http.ResponseWriter, r *http.Request, l openid.Login, f *form, status int) error {
	p := w.page(r, "page.oidc_consent")
	if f != nil {
		p.Form = f
	}
	d := oidcConsentPage{ID: l.ID, Client: l.ClientName, Scopes: l.Scopes, Fixed: l.Account != nil && len(l.Accounts) > 1,
		Consent: l.AskConsent()}
	for _, a := range l.Accounts {
		if d.Fixed && *l.Account != a.ID {
			continue
		}
		d.Accounts = append(d.Accounts, oidcAccountChoice{ID: a.ID.String(), Name: a.Name, Role: w.roleName(p.Locale, a.Role),
			Checked: l.Account != nil && *l.Account == a.ID})
	}
	p.Data = d
	return w.render(rw, r, status, "oidc_consent", p)
}

// roleName names a built-in role in the reader's language; a custom role
// goes by its key.
func (w *Web) roleName(locale, key string) string {
	if role, ok := w.Catalogue.Role(key); ok {
		return role.Label.In(locale)
	}
	return key
}

func (w *Web) oidcDecide(rw http.ResponseWriter, r *http.Request) error {
	if w.SignIn == nil {
		return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
	}
	id := r.PostFormValue("id")
	auth, ok := httpauth.Auth(r)
	if !ok {
		return redirect(rw, r, oidcSelf(id))
	}
	if r.PostFormValue("decision") != "allow" {
		return w.oidcRefuse(rw, r, id, "access_denied")
	}
	var account *equipe.ID
	if s := r.PostFormValue("account"); s != "" {
		a, err := equipe.ParseID(s)
		if err != nil {
			return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
		}
		account = &a
	}
	to, err := w.SignIn.Allow(r.Context(), id, auth, account)
	if team.IsEnrolmentRequired(err) {
		return w.oidcEnrolFirst(rw, r, id)
	}
	if err != nil {
		f := newForm()
		if !f.absorb(err, nil) {
			return w.refuse(rw, r, err)
		}
		if equipe.ErrorCode(err) == equipe.ECONFLICT {
			return redirect(rw, r, oidcSelf(id))
		}
		l, lerr := w.SignIn.LoginFor(r.Context(), id, &auth)
		if lerr != nil {
			return w.refuse(rw, r, lerr)
		}
		f.label("account", "oidc.account")
		return w.showOIDCConsent(rw, r, l, f, refusedStatus(err))
	}
	return w.oidcContinue(rw, r, to)
}

// oidcEnrolFirst sends a person whom the account they sign in for requires
// a second factor of (their grace over) to set one up, and back to the
// request once they have.
func (w *Web) oidcEnrolFirst(rw http.ResponseWriter, r *http.Request, id string) error {
	return redirect(rw, r, enrolPath+"?next="+url.QueryEscape(oidcSelf(id)))
}

// oidcContinue sends the browser on to the provider's callback, or to the
// client, by a page that refreshes to it rather than a redirect: the pages'
// Content-Security-Policy lets forms post only here, and browsers hold to
// it along the redirects that follow a form (the login's or the consent's)
// all the way to the client's address.
func (w *Web) oidcContinue(rw http.ResponseWriter, r *http.Request, to string) error {
	rw.Header().Set("Refresh", "0;url="+to)
	p := w.page(r, "page.oidc_continue")
	p.Data = to
	return w.render(rw, r, http.StatusOK, "oidc_continue", p)
}

// oidcRefuse sends the browser back to the client with an OAuth error.
func (w *Web) oidcRefuse(rw http.ResponseWriter, r *http.Request, id, code string) error {
	to, err := w.SignIn.Refuse(r.Context(), id, code)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	return w.oidcContinue(rw, r, to)
}

// oidcLogoutForm asks the person whether to log out of equipe too, for an
// application that sent them to the end-session endpoint without an ID
// token of theirs (RP-Initiated Logout 2: the provider should then ask):
// the form posts the application's request back there, confirmed, and the
// provider then sends them on to the application.
func (w *Web) oidcLogoutForm(rw http.ResponseWriter, r *http.Request) error {
	keep := url.Values{}
	for _, k := range openid.EndSessionParams {
		if v := r.URL.Query().Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	p := w.page(r, "page.oidc_logout")
	p.Data = keep
	return w.render(rw, r, http.StatusOK, "oidc_logout", p)
}
