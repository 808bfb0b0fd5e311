package openid

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/team"
	"github.com/equipe-dev/equipe/work"
)

// Login is what the login page needs of an authorization request: the
// client, what it asks, and what the person must do.
type Login struct {
	ID         string
	ClientID   equipe.ID
	ClientName string
	FirstParty bool
	Scopes     []string
	// Locale is the language the client asked for (ui_locales): fr, en or
	// "" for none of equipe's.
	Locale    string
	LoginHint string
	// Accounts are those the person may pick from (scope accounts), once
	// logged in; Account the one chosen for them: the client's request
	// (equipe_account), or the only one.
	Accounts []team.SignInAccount
	Account  *equipe.ID
	// Fresh says whether the session satisfies prompt=login and max_age:
	// when it does not, the person logs in again, and the new session's
	// login time is the tokens' auth_time. None says whether prompt=none
	// forbids showing any page.
	Fresh bool
	None  bool
	// Consented says whether the person agreed before to all the request
	// asks (and it does not ask with prompt=consent): they are not asked
	// again.
	Consented bool
	// PromptConsent says the client asked prompt=consent: the person is
	// asked, first-party client or not (OpenID Connect Core 3.1.2.1).
	PromptConsent bool
}

// AskConsent reports whether the person must be asked to agree to the
// client before the request goes back to it: a client not first-party
// that they have not agreed to for all it asks, or any client that asks
// prompt=consent.
func (l Login) AskConsent() bool {
	return l.PromptConsent || !(l.FirstParty || l.Consented)
}

// LoginFor returns the request id as its login page shows it to the
// person logged in with auth (nil: nobody yet). Returns ENOTFOUND for an
// unknown or expired request, one done already, or a client gone; EFORBIDDEN
// "oidc.account_unavailable" when the client asked for an account the
// person may not act in, with the request as far as it is known (ID, None):
// under prompt=none that is answered to the client, not shown.
func (p *Provider) LoginFor(ctx context.Context, id string, auth *identity.Auth) (Login, error) {
	a, c, err := p.pending(ctx, id)
	if err != nil {
		return Login{}, err
	}
	l := Login{ID: a.ID, ClientID: c.ID, ClientName: c.Name, FirstParty: c.FirstParty, Scopes: a.Scopes, LoginHint: a.LoginHint,
		None: slices.Contains(a.Prompt, "none"), PromptConsent: slices.Contains(a.Prompt, "consent")}
	for _, loc := range strings.Fields(a.UILocales) {
		if base, _, _ := strings.Cut(loc, "-"); equipe.ValidLocale(base) {
			l.Locale = base
			break
		}
	}
	if auth == nil {
		return l, nil
	}
	// A login since the request was made is the fresh one prompt=login and
	// max_age ask for; an earlier one does for max_age while it is younger,
	// never for prompt=login (which op also turns into max_age=0). The
	// session's authentication is its login, or the person's password
	// confirmed since.
	loggedIn := auth.Session.AuthenticatedAt
	l.Fresh = !loggedIn.Before(a.CreatedAt) || (!slices.Contains(a.Prompt, "login") &&
		(a.MaxAge < 0 || p.Work.Now().Sub(loggedIn) <= time.Duration(a.MaxAge)*time.Second))
	if !c.FirstParty && !slices.Contains(a.Prompt, "consent") {
		agreed, err := p.Work.DB.OIDCConsentScopes(ctx, auth.User.ID, c.ID)
		if err != nil && equipe.ErrorCode(err) != equipe.ENOTFOUND {
			return Login{}, err
		}
		l.Consented = err == nil && !slices.ContainsFunc(a.Scopes, func(s string) bool { return !slices.Contains(agreed, s) })
	}
	if !slices.Contains(a.Scopes, ScopeAccounts) {
		return l, nil
	}
	if l.Accounts, err = p.Team.SignInAccounts(ctx, auth.User.ID); err != nil {
		return Login{}, err
	}
	if a.AccountHint != "" {
		hint, err := equipe.ParseID(a.AccountHint)
		if err != nil || !slices.ContainsFunc(l.Accounts, func(s team.SignInAccount) bool { return s.ID == hint }) {
			return Login{ID: l.ID, None: l.None}, &equipe.Error{Code: equipe.EFORBIDDEN, Key: "oidc.account_unavailable"}
		}
		l.Account = &hint
	} else if len(l.Accounts) == 1 {
		l.Account = &l.Accounts[0].ID
	}
	return l, nil
}

// pending returns a request waiting for its login, and its client.
func (p *Provider) pending(ctx context.Context, id string) (store.AuthRequest, equipe.OIDCClient, error) {
	a, err := p.Work.DB.AuthRequest(ctx, id)
	if err != nil {
		return store.AuthRequest{}, equipe.OIDCClient{}, err
	}
	if a.Done || !a.ExpiresAt.After(p.Work.Now()) {
		return store.AuthRequest{}, equipe.OIDCClient{}, equipe.Errorf(equipe.ENOTFOUND, "oidc.request_expired")
	}
	c, err := p.Work.DB.OIDCClient(ctx, a.ClientID)
	if err != nil {
		return store.AuthRequest{}, equipe.OIDCClient{}, err
	}
	return a, c, nil
}

// Allow records that the person logged in with auth agrees to the request
// id, in account (nil when the client asked no accounts, or the person has
// none), and returns where the browser goes next: the provider's callback,
// which sends the code to the client. Returns the errors of LoginFor, and
// EINVALID "oidc.account_required" when the person has accounts and chose
// none, EFORBIDDEN "oidc.account_unavailable" for an account they may not
// act in.
func (p *Provider) Allow(ctx context.Context, id string, auth identity.Auth, account *equipe.ID) (string, error) {
	l, err := p.LoginFor(ctx, id, &auth)
	if err != nil {
		return "", err
	}
	if !l.Fresh {
		return "", equipe.Errorf(equipe.ECONFLICT, "oidc.login_again")
	}
	if l.Account != nil && account == nil {
		account = l.Account
	}
	switch {
	case len(l.Accounts) == 0:
		account = nil
	case account == nil:
		return "", &equipe.Error{Code: equipe.EINVALID, Key: "error.fields",
			Fields: []equipe.FieldError{{Field: "account", Key: "oidc.account_required"}}}
	case !slices.ContainsFunc(l.Accounts, func(s team.SignInAccount) bool { return s.ID == *account }),
		l.Account != nil && *l.Account != *account:
		return "", &equipe.Error{Code: equipe.EFORBIDDEN, Key: "oidc.account_unavailable"}
	}
	sid := auth.Session.ID
	user := auth.User.ID
	if err := p.secondFactor(ctx, account, user); err != nil {
		return "", err
	}
	a := store.AuthRequest{ID: id, UserID: &user, AccountID: account, SessionID: &sid, AuthTime: auth.Session.AuthenticatedAt,
		AMR: auth.Session.AMR}
	err = p.Work.Do(ctx, event.ByUser(user), equipe.Origin{}, func(u *work.Unit) error {
		if err := u.CompleteAuthRequest(ctx, &a); err != nil {
			return err
		}
		if l.FirstParty || l.Consented {
			return nil
		}
		return p.consent(ctx, u, user, l.ClientID, l.Scopes)
	})
	if err != nil {
		return "", err
	}
	return p.CallbackURL(ctx, id), nil
}

// Refuse ends the request id with an OAuth error (access_denied when the
// person declines, login_required, consent_required or
// account_selection_required under prompt=none) and returns the client's
// redirect URI that tells it so.
func (p *Provider) Refuse(ctx context.Context, id, code string) (string, error) {
	a, _, err := p.pending(ctx, id)
	if err != nil {
		return "", err
	}
	now := p.Work.Now()
	if err := p.Work.DB.Write(ctx, func(tx *store.Tx) error { return tx.EndAuthRequest(ctx, id, now) }); err != nil {
		return "", err
	}
	u, err := url.Parse(a.RedirectURI)
	if err != nil {
		return "", err
	}
	answer := url.Values{"error": {code}, "iss": {p.issuer}}
	if a.State != "" {
		answer.Set("state", a.State)
	}
	if oidc.ResponseMode(a.ResponseMode) == oidc.ResponseModeFragment {
		// An error is an authorization response too: it comes back where
		// the code would have (OAuth 2.0 Multiple Response Type Encoding
		// Practices 2.1), or a client that reads the fragment never sees it.
		u.Fragment, u.RawFragment = "", ""
		return u.String() + "#" + answer.Encode(), nil
	}
	q := u.Query()
	for k, v := range answer {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// consent remembers in the unit that the user agreed that the client may
// ask scopes, with those agreed before: a request for them, or fewer, is
// not put to the person again. Recorded as user.oidc_consent_given.
func (p *Provider) consent(ctx context.Context, u *work.Unit, user, client equipe.ID, scopes []string) error {
	agreed, err := u.OIDCConsentScopes(ctx, user, client)
	if err != nil && equipe.ErrorCode(err) != equipe.ENOTFOUND {
		return err
	}
	for _, s := range scopes {
		if !slices.Contains(agreed, s) {
			agreed = append(agreed, s)
		}
	}
	if err := u.SaveOIDCConsent(ctx, user, client, agreed, u.Now()); err != nil {
		return err
	}
	return u.Record(ctx, event.UserOIDCConsentGiven.New(nil, client.String(), nil, &event.Consent{Scopes: agreed}))
}

// Consents returns a page of the consents the person gave to clients,
// newest first, and the cursor of the next page ("" after the last).
func (p *Provider) Consents(ctx context.Context, auth identity.Auth, page equipe.Page) ([]store.OIDCConsent, string, error) {
	return p.Work.DB.OIDCConsents(ctx, auth.User.ID, page)
}

// WithdrawConsent withdraws the person's consent to the client: it will ask
// them again, and its grants end at once (their tokens stop working, and
// the client is told by back-channel logout). Returns ENOTFOUND when the
// person gave the client no consent. Recorded as
// user.oidc_consent_withdrawn.
func (p *Provider) WithdrawConsent(ctx context.Context, auth identity.Auth, client equipe.ID, o equipe.Origin) error {
	user := auth.User.ID
	return p.Work.Do(ctx, event.ByUser(user), o, func(u *work.Unit) error {
		agreed, err := u.OIDCConsentScopes(ctx, user, client)
		if equipe.ErrorCode(err) == equipe.ENOTFOUND {
			return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
		} else if err != nil {
			return err
		}
		if _, err := u.DeleteOIDCConsent(ctx, user, client); err != nil {
			return err
		}
		if err := u.EndGrantsOf(ctx, user, nil, &client, u.Now()); err != nil {
			return err
		}
		return u.Record(ctx, event.UserOIDCConsentWithdrawn.New(nil, client.String(), &event.Consent{Scopes: agreed}, nil))
	})
}
