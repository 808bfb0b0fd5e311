package openid

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/problem"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/team"
	"github.com/equipe-dev/equipe/work"
)

// Lifetimes of what the provider issues.
const (
	// RequestLifetime is how long a person has to log in and agree once a
	// client sent them to /oidc/authorize.
	RequestLifetime = 15 * time.Minute
	// CodeLifetime is how long a code is redeemable once issued.
	CodeLifetime = time.Minute
	// AccessTokenLifetime is the validity of access and ID tokens.
	AccessTokenLifetime = time.Hour
	// RefreshTokenLifetime is the validity of a refresh token; each use
	// gives a new one.
	RefreshTokenLifetime = 30 * 24 * time.Hour
	// LogoutsKept is how long back-channel logout notices are kept once
	// delivered or abandoned.
	LogoutsKept = 7 * 24 * time.Hour
)

// Custom claims and parameters.
const (
	// ScopeAccounts adds the person's accounts to the tokens.
	ScopeAccounts = "accounts"
	// ScopePermissions adds the effective permissions in the chosen account.
	ScopePermissions = "permissions"
	// AccountParam is the authorization request's parameter that names the
	// account the client wants the person to act in.
	AccountParam = "equipe_account"
)

// Provider is the OpenID Connect provider: the op.Storage that zitadel's
// op package reads and writes, and its handler.
type Provider struct {
	Work *work.Runner
	Team *team.Service
	Keys *Keys
	Log  *slog.Logger
	// EndSession ends an equipe session (RP-initiated logout).
	EndSession func(context.Context, identity.Auth) error
	// Pages shows a browser the page that explains a refusal (an
	// *equipe.Error whose key says why), in the reader's language; nil: a
	// plain-text answer.
	Pages interface {
		Refuse(w http.ResponseWriter, r *http.Request, err error)
	}

	op      *op.Provider
	issuer  string
	origin  string // the issuer's, as browsers write it in Origin
	clients clientCache
}

// New returns the provider of issuer (the instance's public URL).
func New(issuer string, w *work.Runner, t *team.Service, keys *Keys, log *slog.Logger) (*Provider, error) {
	p := &Provider{Work: w, Team: t, Keys: keys, Log: log}
	routeDefaultLog()
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, err
	}
	cfg := &op.Config{
		// The key encrypts codes as they are made; a code is then found by
		// its hash (SaveAuthCode), never decrypted, so that a key per
		// process serves any number of processes.
		CryptoKey:                         key,
		CodeMethodS256:                    true,
		AuthMethodPost:                    true,
		GrantTypeRefreshToken:             true,
		SupportedUILocales:                []language.Tag{language.French, language.English},
		SupportedScopes:                   append([]string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess}, ScopeAccounts, ScopePermissions),
		SupportedClaims:                   supportedClaims,
		BackChannelLogoutSupported:        true,
		BackChannelLogoutSessionSupported: true,
		// Where a logout that names no client goes: equipe's login page.
		DefaultLogoutRedirectURI: strings.TrimSuffix(issuer, "/") + loggedOutPath,
	}
	opts := []op.Option{op.WithCustomEndpoints(op.NewEndpoint("oidc/authorize"), op.NewEndpoint("oidc/token"),
		op.NewEndpoint("oidc/userinfo"), op.NewEndpoint("oidc/revoke"), op.NewEndpoint("oidc/end_session"), op.NewEndpoint("oidc/keys")),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint("oidc/introspect")), op.WithHttpInterceptors(p.protocol, p.accessOnlyRefresh),
		op.WithCORSOptions(&corsOptions)}
	if strings.HasPrefix(issuer, "http://") {
		opts = append(opts, op.WithAllowInsecure())
	}
	o, err := op.NewOpenIDProvider(strings.TrimSuffix(issuer, "/"), cfg, p, opts...)
	if err != nil {
		return nil, err
	}
	p.op, p.issuer = o, strings.TrimSuffix(issuer, "/")
	if u, err := url.Parse(p.issuer); err == nil {
		p.origin = httpauth.OriginOf(u)
	}
	return p, nil
}

// ServeHTTP serves discovery and the provider's endpoints under /oidc/.
// An authorization request that cannot be answered at the client's
// redirect URI (no client, an unknown one, a redirect URI it did not
// register), which op answers with a line of plain text, is answered with
// equipe's page, in the person's language: RFC 6749 4.1.2.1 says to tell
// the person, and not to redirect.
//
// So is, to a browser (a request that accepts HTML), a logout request that
// op refuses with a JSON error (a post-logout URI the client did not
// register, an ID token it did not issue, an unknown client): the person
// is sent there by the client, and RP-Initiated Logout 1.0 has the
// provider tell them. A program that asks no page gets the JSON error.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var held *heldRefusal
	switch {
	case r.URL.Path == "/oidc/authorize":
		held = &heldRefusal{ResponseWriter: w, media: "text/plain", key: "oidc.authorize_invalid"}
	case r.URL.Path == "/oidc/end_session" && strings.Contains(r.Header.Get("Accept"), "text/html"):
		held = &heldRefusal{ResponseWriter: w, media: "application/json", key: "oidc.end_session_invalid"}
	default:
		p.serve(w, r)
		return
	}
	p.serve(held, r)
	if held.held {
		p.refuse(w, r, held.refusal())
	}
}

// heldRefusal holds back op's answer of a client error (4xx) in media,
// with its text, for ServeHTTP to answer its page instead; any other
// answer goes through.
type heldRefusal struct {
	http.ResponseWriter
	media, key string
	held       bool
	text       strings.Builder
}

func (h *heldRefusal) WriteHeader(status int) {
	if status >= 400 && status < 500 && strings.HasPrefix(h.Header().Get("Content-Type"), h.media) {
		h.held = true
		return
	}
	h.ResponseWriter.WriteHeader(status)
}

// refusal is the refusal the page explains, saying what op found wrong
// (detail, its words: a JSON error's description or its code, or the
// text of a plain one).
func (h *heldRefusal) refusal() error {
	detail := strings.TrimSpace(h.text.String())
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if h.media == "application/json" && json.Unmarshal([]byte(detail), &e) == nil {
		detail = cmp.Or(e.Description, e.Error)
	}
	if _, d, ok := strings.Cut(detail, "Description="); ok && strings.HasPrefix(detail, "ErrorType=") {
		detail = d
	}
	// op's own advice to contact the administrator: the page says whom.
	detail, _, _ = strings.Cut(detail, " If you have any questions")
	detail = strings.TrimSuffix(detail, ".")
	if len(detail) > 300 {
		detail = detail[:300] + "…"
	}
	return &equipe.Error{Code: equipe.EBADREQUEST, Key: h.key, Args: map[string]any{"detail": detail}}
}

func (h *heldRefusal) Write(b []byte) (int, error) {
	if h.held {
		return h.text.Write(b)
	}
	return h.ResponseWriter.Write(b)
}

func (h *heldRefusal) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// serve is ServeHTTP. The authorization request's account parameter, which
// op does not know, passes to CreateAuthRequest through the request's
// context.
func (p *Provider) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/oidc/token":
		r = p.tokenRequest(r)
	case "/oidc/authorize":
		if a := r.FormValue(AccountParam); a != "" {
			r = r.WithContext(context.WithValue(r.Context(), accountKey{}, a))
		}
		if a, ok := httpauth.Auth(r); ok {
			r = r.WithContext(context.WithValue(r.Context(), browserUserKey{}, a.User.ID))
		}
		if err := p.loopbackRedirect(r.Context(), r.FormValue("client_id"), r.FormValue("redirect_uri")); err != nil {
			op.AuthRequestError(w, r, nil, err, p.op)
			return
		}
		if r.FormValue("request_uri") != "" {
			r = r.WithContext(context.WithValue(r.Context(), requestURIKey{}, true))
		}
		if typ := r.FormValue("response_type"); typ != "" && typ != string(oidc.ResponseTypeCode) {
			// op answers a response type the client is not registered for
			// with unauthorized_client; RFC 6749 4.1.2.1 has
			// unsupported_response_type for one the provider does not
			// issue (any but code). It is answered by CreateAuthRequest,
			// at the redirect URI once op has checked it, in the query.
			r.Form.Set("response_type", string(oidc.ResponseTypeCode))
			r = r.WithContext(context.WithValue(r.Context(), unsupportedTypeKey{}, typ))
		}
		if age := r.FormValue("max_age"); age != "" && !maxAgeForm(age) {
			// op cannot decode it and answers a bare 400 before it knows
			// the client: refused by CreateAuthRequest, once op has
			// checked the client and its redirect URI, at that URI (OpenID
			// Connect Core 3.1.2.6), as the other malformed parameters.
			r.Form.Del("max_age")
			r = r.WithContext(context.WithValue(r.Context(), badMaxAgeKey{}, age))
		}
		if mode := r.FormValue("response_mode"); mode != "" && mode != string(oidc.ResponseModeQuery) && mode != string(oidc.ResponseModeFragment) {
			// Refused by CreateAuthRequest, once op has checked the
			// redirect URI, and answered there in the query: op would
			// answer in the mode asked for (a form_post page that this
			// site's Content-Security-Policy keeps from posting).
			r.Form.Set("response_mode", string(oidc.ResponseModeQuery))
			r = r.WithContext(context.WithValue(r.Context(), unsupportedModeKey{}, mode))
		}
	case "/oidc/authorize/callback":
		if err := p.ownCallback(r); err != nil {
			p.refuse(w, r, err)
			return
		}
	case "/oidc/end_session":
		// RP-initiated logout ends the browser's equipe session too: at
		// once with an ID token of the same person, else once the person
		// says so (the provider should ask, RP-Initiated Logout 2).
		a, ok := httpauth.Auth(r)
		if !ok {
			break
		}
		ctx := context.WithValue(r.Context(), sessionKey{}, a)
		if r.FormValue("id_token_hint") == "" && httpauth.AuthVia(r) == httpauth.ViaCookie {
			if r.FormValue(logoutConfirmed) != "yes" || r.Method != http.MethodPost || !p.fromThisSite(r) {
				ask := url.Values{}
				for _, k := range EndSessionParams {
					if v := r.FormValue(k); v != "" {
						ask.Set(k, v)
					}
				}
				http.Redirect(w, r, "/logout/confirm?"+ask.Encode(), http.StatusSeeOther)
				return
			}
			ctx = context.WithValue(ctx, confirmedKey{}, true)
		}
		r.Form.Del(logoutConfirmed)
		r.PostForm.Del(logoutConfirmed)
		r = r.WithContext(ctx)
	}
	if p.Log != nil {
		r = r.WithContext(context.WithValue(r.Context(), logKey{}, p.Log))
	}
	p.op.ServeHTTP(w, r)
}

type sessionKey struct{}

// confirmedKey marks a logout the person confirmed on equipe's page.
type confirmedKey struct{}

// logoutConfirmed is the field of equipe's logout page that says the person
// confirmed.
const logoutConfirmed = "logout_confirmed"

// EndSessionParams are the parameters of an end-session request that
// equipe's logout page posts back once the person confirmed.
var EndSessionParams = []string{"client_id", "post_logout_redirect_uri", "state", "ui_locales", "logout_hint"}

// fromThisSite reports whether r comes from a page of this site: a
// confirmation that another site's page could post does not count.
func (p *Provider) fromThisSite(r *http.Request) bool {
	return r.Header.Get("Sec-Fetch-Site") == "same-origin" || r.Header.Get("Origin") == p.origin
}

// unsupportedModeKey holds the response_mode of an authorization request
// that asked for one the provider does not answer in.
type unsupportedModeKey struct{}

// badMaxAgeKey holds the max_age of an authorization request that is not
// a number of seconds.
type badMaxAgeKey struct{}

// maxAgeForm reports whether v is a max_age: a number of seconds, 0 or
// more (OpenID Connect Core 3.1.2.1), that op can read.
func maxAgeForm(v string) bool {
	_, err := strconv.ParseUint(v, 10, 63)
	return err == nil
}

// unsupportedTypeKey holds the response_type of an authorization request
// that asked for one the provider does not issue.
type unsupportedTypeKey struct{}

// requestURIKey marks an authorization request passed by reference
// (request_uri), which the provider does not fetch.
type requestURIKey struct{}

// ownCallback lets the callback of a request answer only the browser whose
// equipe session completed it. The request's id travels in URLs (the login
// page's, the callback's): without this, whoever started a request, had
// someone logged in open its login page (which completes it at once for a
// first-party or consented client) and then followed the callback from
// their own browser would receive that person's code, with their own state
// and PKCE verifier, and sign in as them. Returns EFORBIDDEN
// "oidc.other_browser", and changes nothing: the browser that logged in may
// still follow it. A request unknown or expired is left to op.
func (p *Provider) ownCallback(r *http.Request) error {
	a, err := p.Work.DB.AuthRequest(r.Context(), r.FormValue("id"))
	if equipe.ErrorCode(err) == equipe.ENOTFOUND || (err == nil && !a.ExpiresAt.After(p.Work.Now())) {
		return nil
	} else if err != nil {
		return err
	}
	if auth, ok := httpauth.Auth(r); ok && a.SessionID != nil && *a.SessionID == auth.Session.ID {
		return nil
	}
	return &equipe.Error{Code: equipe.EFORBIDDEN, Key: "oidc.other_browser"}
}

// refuse answers a browser with the page that explains err.
func (p *Provider) refuse(w http.ResponseWriter, r *http.Request, err error) {
	if p.Pages != nil {
		p.Pages.Refuse(w, r, err)
		return
	}
	status := problem.StatusOf(err)
	http.Error(w, http.StatusText(status), status)
}

// TerminateSessionFromRequest is RP-initiated logout: it ends the person's
// grants to the client and, when the browser's equipe session is theirs,
// that session; the browser then goes to the post-logout redirect URI
// (checked by op against the client's), else to equipe's login page.
func (p *Provider) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	confirmed := ctx.Value(confirmedKey{}) != nil
	a, hasSession := ctx.Value(sessionKey{}).(identity.Auth)
	if confirmed && hasSession {
		req.UserID = a.User.ID.String()
	}
	if err := p.TerminateSession(ctx, req.UserID, req.ClientID); err != nil {
		return "", err
	}
	if hasSession && a.User.ID.String() == req.UserID && p.EndSession != nil {
		if err := p.EndSession(ctx, a); err != nil {
			return "", err
		}
	}
	if req.RedirectURI != "" {
		return req.RedirectURI, nil
	}
	return p.issuer + loggedOutPath, nil
}

// loggedOutPath is equipe's login page, saying the person logged out.
const loggedOutPath = "/login?done=logout"

type accountKey struct{}

// browserUserKey holds the person logged in on the browser that makes an
// authorization request, if any.
type browserUserKey struct{}

// accountHint returns the account the client asked for, "" for none.
func accountHint(ctx context.Context) string {
	a, _ := ctx.Value(accountKey{}).(string)
	return a
}

// CallbackURL is where the login page sends the browser once the request
// is done: the provider answers the client from there.
func (p *Provider) CallbackURL(ctx context.Context, id string) string {
	return op.AuthCallbackURL(p.op)(op.ContextWithIssuer(ctx, p.issuer), id)
}

func digest(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func newToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// notFound is what op treats as an unknown object.
type notFound struct{ error }

func (notFound) IsNotFound() {}

// client adapts a registered client to op.Client.
type client struct{ c equipe.OIDCClient }

// errUnknownClient answers a client ID that names no registered client.
// op passes some of GetClientByClientID's errors on as they are (the
// refresh grant, end_session), and answers server_error for any that is
// not an *oidc.Error.
func errUnknownClient() *oidc.Error { return oidc.ErrInvalidClient().WithDescription("unknown client") }

// GetClientByClientID returns a registered client: invalid_client for an
// ID that names none, server_error when it cannot be read.
func (p *Provider) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	cid, err := equipe.ParseID(id)
	if err != nil {
		return nil, errUnknownClient()
	}
	c, err := p.oidcClient(ctx, cid)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return nil, errUnknownClient()
	} else if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return client{c: c}, nil
}

func (c client) GetID() string                    { return c.c.ID.String() }
func (c client) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c client) PostLogoutRedirectURIs() []string { return c.c.PostLogoutURIs }
func (c client) ApplicationType() op.ApplicationType {
	if !c.c.Public {
		return op.ApplicationTypeWeb
	}
	for _, u := range c.c.RedirectURIs {
		if _, loopback := op.HTTPLoopbackOrLocalhost(u); loopback {
			// A native application, whose local server takes whatever
			// port is free when it runs: op matches its loopback redirect
			// URIs whatever their port (RFC 8252 7.3), and whatever their
			// scheme and loopback host too, which loopbackRedirect holds
			// to the registration first.
			return op.ApplicationTypeNative
		}
	}
	return op.ApplicationTypeUserAgent
}
func (c client) AuthMethod() oidc.AuthMethod {
	if c.c.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}
func (c client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}
func (c client) LoginURL(id string) string            { return "/login/oidc?id=" + url.QueryEscape(id) }
func (c client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeJWT }
func (c client) IDTokenLifetime() time.Duration       { return AccessTokenLifetime }
func (c client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c client) ClockSkew() time.Duration             { return 0 }
func (c client) IsScopeAllowed(scope string) bool     { return slices.Contains(c.c.Scopes, scope) }
func (c client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// DevMode lets an http:// redirect URI through op's checks: the client's
// registration admits one only to the loopback interface, and op matches
// the URI exactly against the registration first.
func (c client) DevMode() bool { return true }

// loopbackRedirect refuses, before op sees it, a loopback redirect URI of
// a public client that op would take and the registration does not give:
// op matches a native application's loopback URI on its path and query
// alone, so that http://127.0.0.1/cb registered would let the code go to
// https://127.0.0.1:8080/cb, http://localhost:8080/cb (a name that may
// resolve elsewhere, RFC 8252 8.3) or http://127.0.0.2:8080/cb. RFC 8252
// 7.3 frees the port alone, of a loopback IP literal: the scheme and the
// host must be the registered ones. Any other request is left to op.
func (p *Provider) loopbackRedirect(ctx context.Context, clientID, uri string) error {
	asked, loopback := op.HTTPLoopbackOrLocalhost(uri)
	if !loopback {
		return nil
	}
	cid, err := equipe.ParseID(clientID)
	if err != nil {
		return nil
	}
	c, err := p.Work.DB.OIDCClient(ctx, cid)
	if err != nil || !c.Public || slices.Contains(c.RedirectURIs, uri) {
		return nil
	}
	for _, r := range c.RedirectURIs {
		if registered, ok := op.HTTPLoopbackOrLocalhost(r); ok && samePortFree(asked, registered) {
			return nil
		}
	}
	return oidc.ErrInvalidRequestRedirectURI().WithDescription("the redirect_uri is not registered for the client: " +
		"a loopback URI may differ from a registered one by its port alone")
}

// samePortFree reports whether asked is registered but for its port: the
// same scheme, the same loopback IP literal, path and query, and nothing
// else (no user, no fragment).
func samePortFree(asked, registered *url.URL) bool {
	return asked.Scheme == registered.Scheme && asked.Hostname() == registered.Hostname() &&
		net.ParseIP(asked.Hostname()) != nil && asked.User == nil && asked.Fragment == "" &&
		asked.Path == registered.Path && asked.RawPath == registered.RawPath && asked.RawQuery == registered.RawQuery
}

// AuthorizeClientIDSecret checks a confidential client's secret against its
// hash, in constant time.
func (p *Provider) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	cid, err := equipe.ParseID(id)
	if err != nil {
		return errUnknownClient()
	}
	c, err := p.oidcClient(ctx, cid)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return errUnknownClient()
	} else if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if c.Public || !equalHash(c.SecretHash, digest(secret)) {
		return oidc.ErrInvalidClient().WithDescription("wrong client secret")
	}
	return nil
}

func equalHash(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	var d byte
	for i := range a {
		d |= a[i] ^ b[i]
	}
	return d == 0
}

// authRequest adapts a stored request to op.AuthRequest. Its memo is
// shared by the copies op makes of it.
type authRequest struct {
	a    store.AuthRequest
	memo *accountSet
	// reused marks a code redeemed before (AuthRequestByCode).
	reused bool
}

func (r authRequest) GetID() string          { return r.a.ID }
func (r authRequest) GetACR() string         { return "" }
func (r authRequest) GetAMR() []string       { return r.a.AMR }
func (r authRequest) GetAudience() []string  { return []string{r.a.ClientID.String()} }
func (r authRequest) GetAuthTime() time.Time { return r.a.AuthTime }
func (r authRequest) GetClientID() string    { return r.a.ClientID.String() }
func (r authRequest) GetNonce() string       { return r.a.Nonce }
func (r authRequest) GetRedirectURI() string { return r.a.RedirectURI }
func (r authRequest) GetScopes() []string    { return r.a.Scopes }
func (r authRequest) GetState() string       { return r.a.State }
func (r authRequest) Done() bool             { return r.a.Done && r.a.UserID != nil }
func (r authRequest) GetResponseType() oidc.ResponseType {
	return oidc.ResponseType(r.a.ResponseType)
}
func (r authRequest) GetResponseMode() oidc.ResponseMode {
	return oidc.ResponseMode(r.a.ResponseMode)
}
func (r authRequest) GetSubject() string {
	if r.a.UserID == nil {
		return ""
	}
	return r.a.UserID.String()
}
func (r authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if r.a.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: r.a.CodeChallenge, Method: oidc.CodeChallengeMethod(r.a.CodeChallengeMethod)}
}

// CreateAuthRequest keeps a request op has checked (client, redirect URI),
// after the checks that are equipe's: PKCE with S256 only, and required of a
// public client. Of the scopes asked, it keeps openid and those the client
// was registered for: op lets the standard ones (profile, email,
// offline_access, phone, address) through whatever the registration says.
// The others are ignored, as OpenID Connect Core 3.1.2.1 asks of scopes the
// provider does not grant, and RFC 6749 section 3.3 lets it grant less than
// asked; the token response's scope says what was granted.
func (p *Provider) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, hinted string) (op.AuthRequest, error) {
	cid, err := equipe.ParseID(req.ClientID)
	if err != nil {
		return nil, errUnknownClient()
	}
	c, err := p.Work.DB.OIDCClient(ctx, cid)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return nil, errUnknownClient()
	} else if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	if typ, ok := ctx.Value(unsupportedTypeKey{}).(string); ok || req.ResponseType != oidc.ResponseTypeCode {
		e := oidc.ErrInvalidRequest().WithDescription("response_type %s is not supported: only the code flow is (response_type=code)", typ)
		e.ErrorType = "unsupported_response_type" // RFC 6749 4.1.2.1
		return nil, e
	}
	if req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	if c.Public && req.CodeChallenge == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("a public client must use PKCE (code_challenge with S256)")
	}
	if ctx.Value(requestURIKey{}) != nil {
		e := oidc.ErrInvalidRequest().WithDescription("request_uri is not supported: send the request's parameters")
		e.ErrorType = "request_uri_not_supported" // OpenID Connect Core 6.2
		return nil, e
	}
	if age, ok := ctx.Value(badMaxAgeKey{}).(string); ok {
		return nil, oidc.ErrInvalidRequest().WithDescription("max_age %q is not a number of seconds, 0 or more", age)
	}
	if mode, ok := ctx.Value(unsupportedModeKey{}).(string); ok {
		return nil, oidc.ErrInvalidRequest().WithDescription("response_mode %s is not supported: leave it out, or use query or fragment", mode)
	}
	id, err := newToken()
	if err != nil {
		return nil, err
	}
	now := p.Work.Now()
	scopes := registered(c, req.Scopes)
	a := store.AuthRequest{ID: id, ClientID: cid, RedirectURI: req.RedirectURI, Scopes: scopes, State: req.State,
		Nonce: req.Nonce, ResponseType: string(req.ResponseType), ResponseMode: string(req.ResponseMode),
		CodeChallenge: req.CodeChallenge, CodeChallengeMethod: string(req.CodeChallengeMethod), Prompt: req.Prompt,
		MaxAge: -1, LoginHint: req.LoginHint, UILocales: strings.Join(localeTags(req.UILocales), " "),
		CreatedAt: now, ExpiresAt: now.Add(RequestLifetime)}
	if req.MaxAge != nil {
		a.MaxAge = int64(*req.MaxAge)
	}
	a.AccountHint = accountHint(ctx)
	if err := p.hintedPerson(ctx, &a, hinted); err != nil {
		return nil, err
	}
	err = p.Work.DB.Write(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteAuthRequests(ctx, now); err != nil {
			return err
		}
		return tx.CreateAuthRequest(ctx, &a)
	})
	if err != nil {
		return nil, err
	}
	return authRequest{a: a}, nil
}

// hintedPerson holds the request a to the person its id_token_hint names
// (hinted, their subject; "" for no hint) when someone else is logged in
// on the browser (OpenID Connect Core 3.1.2.1): under prompt=none it is
// answered login_required, since only the hinted person's login would do;
// otherwise the person logs in again (the form is not filled with the
// hinted person's address: a hint does not tell who it names to whoever
// holds the browser).
func (p *Provider) hintedPerson(ctx context.Context, a *store.AuthRequest, hinted string) error {
	current, loggedIn := ctx.Value(browserUserKey{}).(equipe.ID)
	if hinted == "" || !loggedIn || current.String() == hinted {
		return nil
	}
	if slices.Contains(a.Prompt, oidc.PromptNone) {
		return oidc.ErrLoginRequired().WithDescription("the person the id_token_hint names is not the one logged in")
	}
	if !slices.Contains(a.Prompt, oidc.PromptLogin) {
		a.Prompt = append(slices.Clone(a.Prompt), oidc.PromptLogin)
	}
	return nil
}

func localeTags(ls oidc.Locales) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.String())
	}
	return out
}

func (p *Provider) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	a, err := p.Work.DB.AuthRequest(ctx, id)
	if err != nil || !a.ExpiresAt.After(p.Work.Now()) {
		return nil, notFound{errors.New("unknown or expired request")}
	}
	return authRequest{a: a}, nil
}

// AuthRequestByCode returns the request of a code. A code redeemed before
// comes back marked reused, and ends the grant it gave (RFC 6749 section
// 4.1.2) only in issue: op looks the code up before it checks the PKCE
// verifier and authenticates the client, and a replay by whoever read the
// code somewhere (a log, a Referer) must not end its client's grant.
func (p *Provider) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	a, err := p.Work.DB.AuthRequestByCode(ctx, digest(code))
	if err != nil {
		return nil, oidc.ErrInvalidGrant().WithDescription("unknown code")
	}
	now := p.Work.Now()
	if a.GrantID != "" {
		return authRequest{a: a, reused: true}, nil
	}
	if !a.ExpiresAt.After(now) {
		return nil, oidc.ErrInvalidGrant().WithDescription("code expired")
	}
	return authRequest{a: a, memo: new(accountSet)}, nil
}

// SaveAuthCode keeps the hash of the code issued for the request id, which
// expires with it, CodeLifetime later. A request that has its code already
// (the callback opened again: reloaded, or the back button) gives no other:
// the client is told the request is spent, in the protocol's words, and
// the first code stays good.
func (p *Provider) SaveAuthCode(ctx context.Context, id, code string) error {
	expires := p.Work.Now().Add(CodeLifetime)
	err := p.Work.DB.Write(ctx, func(tx *store.Tx) error { return tx.SetAuthRequestCode(ctx, id, digest(code), expires) })
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return oidc.ErrInvalidRequest().WithDescription("this authorization request has given its code already: start again from the application")
	}
	return err
}

// DeleteAuthRequest is called when a code is redeemed: the request is kept
// (with the grant it gave) for RequestLifetime more, so that a second
// redemption of its code meanwhile is recognised and ends that grant.
func (p *Provider) DeleteAuthRequest(ctx context.Context, id string) error { return nil }

// refreshRequest is a grant as the refresh_token grant sees it.
type refreshRequest struct {
	g      store.Grant
	scopes []string
	hash   []byte // the refresh token's
	memo   *accountSet
}

func (r *refreshRequest) GetAMR() []string            { return r.g.AMR }
func (r *refreshRequest) GetAudience() []string       { return []string{r.g.ClientID.String()} }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.g.AuthTime }
func (r *refreshRequest) GetClientID() string         { return r.g.ClientID.String() }
func (r *refreshRequest) GetScopes() []string         { return r.scopes }
func (r *refreshRequest) GetSubject() string          { return r.g.UserID.String() }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.scopes = s }

// issue writes what the tokens of a request need: for a code, the grant
// it gives (made here) and its first refresh token; for a refresh token,
// that token spent and the next one. It returns the access token's ID.
func (p *Provider) issue(ctx context.Context, req op.TokenRequest, withRefresh bool, current string) (accessID, refresh string, exp time.Time, err error) {
	now := p.Work.Now()
	random, err := newToken()
	if err != nil {
		return "", "", time.Time{}, err
	}
	if withRefresh {
		if refresh, err = newToken(); err != nil {
			return "", "", time.Time{}, err
		}
	}
	exp = now.Add(AccessTokenLifetime)
	var g store.Grant
	switch r := req.(type) {
	case authRequest:
		if r.reused {
			// op has checked the PKCE verifier, authenticated the client
			// and found it the code's: the code's own client presents it
			// again, so it may have leaked, and the grant it gave ends.
			if err := p.Work.DB.Write(ctx, func(tx *store.Tx) error { return tx.EndGrant(ctx, r.a.GrantID, now) }); err != nil {
				return "", "", time.Time{}, err
			}
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("code already used: the tokens it gave are revoked")
		}
		if err := p.standing(ctx, r.a.UserID, r.a.AccountID); err != nil {
			return "", "", time.Time{}, err
		}
		// err is the function's own: what the write below returns is
		// answered, not tokens for a grant never made.
		var gid string
		if gid, err = newToken(); err != nil {
			return "", "", time.Time{}, err
		}
		g = store.Grant{ID: gid, ClientID: r.a.ClientID, UserID: *r.a.UserID, AccountID: r.a.AccountID, SessionID: r.a.SessionID,
			Scopes: r.a.Scopes, AuthTime: r.a.AuthTime, AMR: r.GetAMR(), CreatedAt: now}
		accessID = store.AccessTokenID(g.ID, random)
		err = p.Work.DB.Write(ctx, func(tx *store.Tx) error {
			if err := p.loginHolds(ctx, tx, r.a, now); err != nil {
				return err
			}
			// The code is spent with the grant's creation: a second
			// redemption that raced this one fails here.
			if err := tx.SetAuthRequestGrant(ctx, r.a.ID, g.ID, now.Add(RequestLifetime)); err != nil {
				return oidc.ErrInvalidGrant().WithDescription("code already used")
			}
			if err := tx.CreateGrant(ctx, &g); err != nil {
				return err
			}
			return p.writeRefresh(ctx, tx, g.ID, refresh, now)
		})
	case *refreshRequest:
		g = r.g
		accessID = store.AccessTokenID(g.ID, random)
		if narrowed := slices.DeleteFunc(slices.Clone(g.Scopes), func(s string) bool { return !slices.Contains(r.scopes, s) }); len(narrowed) < len(g.Scopes) {
			// The token acts with the fewer scopes its refresh asked for
			// (RFC 6749 6): they travel in its ID, which it carries signed.
			accessID += "." + strings.Join(narrowed, scopeSep)
		}
		// The spent token and the next one in one batch: on PostgreSQL one
		// round trip instead of four (begin, two statements, commit). Of
		// two refreshes racing with the same token, one spends it; the
		// other's batch changes nothing.
		b := p.Work.DB.NewBatch()
		b.UseRefreshToken(ctx, r.hash, now)
		b.CreateRefreshToken(ctx, digest(refresh), g.ID, now, now.Add(RefreshTokenLifetime))
		if err = p.Work.DB.RunBatch(ctx, b); equipe.ErrorCode(err) == equipe.ENOTFOUND {
			err = oidc.ErrInvalidGrant().WithDescription("refresh token already used")
		}
	default:
		return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	if err != nil {
		return "", "", time.Time{}, err
	}
	return accessID, refresh, exp, nil
}

// loginHolds refuses with invalid_grant the code of a request whose login no
// longer holds: the session the person logged in with has ended (they
// logged out, ended it from their sessions page, it lapsed), or the client
// is not first-party and they withdrew the consent it relied on. The grant
// would otherwise be made for a session whose end has passed, and never
// end with it. The consent, then the session, are locked until tx ends
// (the order in which deleting an identity deletes them): a logout or a
// withdrawal at the same time either waits and then ends the grant made in
// tx, or is seen here.
func (p *Provider) loginHolds(ctx context.Context, tx *store.Tx, a store.AuthRequest, now time.Time) error {
	if a.UserID == nil || a.SessionID == nil {
		return oidc.ErrInvalidGrant()
	}
	c, err := p.oidcClient(ctx, a.ClientID)
	if err != nil {
		return err
	}
	if !c.FirstParty {
		agreed, err := tx.LockOIDCConsentScopes(ctx, *a.UserID, a.ClientID)
		if equipe.ErrorCode(err) == equipe.ENOTFOUND ||
			(err == nil && slices.ContainsFunc(a.Scopes, func(s string) bool { return !slices.Contains(agreed, s) })) {
			return oidc.ErrInvalidGrant().WithDescription("the person withdrew their consent to the client")
		} else if err != nil {
			return err
		}
	}
	s, err := tx.LockSession(ctx, *a.SessionID)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND || (err == nil && !s.ExpiresAt.After(now)) {
		return oidc.ErrInvalidGrant().WithDescription("the login this code came from has ended")
	}
	return err
}

// writeRefresh writes the hash of a new refresh token of the grant, if
// any. An access token writes nothing: its ID names its grant
// (store.AccessTokenID).
func (p *Provider) writeRefresh(ctx context.Context, tx *store.Tx, grant, refresh string, now time.Time) error {
	if refresh == "" {
		return nil
	}
	return tx.CreateRefreshToken(ctx, digest(refresh), grant, now, now.Add(RefreshTokenLifetime))
}

// standing refuses a token for an account the person may not act in any
// more (suspended, removed): invalid_grant.
func (p *Provider) standing(ctx context.Context, user, account *equipe.ID) error {
	if user == nil {
		return oidc.ErrInvalidGrant()
	}
	if account == nil {
		return nil
	}
	if _, err := p.Team.SignInStanding(ctx, *account, *user); err != nil {
		if equipe.ErrorCode(err) == equipe.EFORBIDDEN {
			return oidc.ErrInvalidGrant().WithDescription("the person may no longer act in this account")
		}
		return err
	}
	if err := p.secondFactor(ctx, account, *user); err != nil {
		if team.IsEnrolmentRequired(err) {
			return oidc.ErrInvalidGrant().WithDescription("the account requires a second factor the person has not set up")
		}
		return err
	}
	return nil
}

// secondFactor applies the account's second-factor requirement to a
// sign-in for it, as its pages and its API do: once the person's grace is
// over and they have no second factor, team.EnrolmentRequired. A sign-in
// for no account is under no account's rule.
func (p *Provider) secondFactor(ctx context.Context, account *equipe.ID, user equipe.ID) error {
	if account == nil {
		return nil
	}
	rule, err := p.Team.SecondFactorRule(ctx, *account, user)
	if err != nil {
		return err
	}
	if rule.Due {
		return team.EnrolmentRequired()
	}
	return nil
}

func (p *Provider) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	id, _, exp, err := p.issue(ctx, req, false, "")
	return id, exp, err
}

func (p *Provider) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	scopes := req.GetScopes()
	withRefresh := slices.Contains(scopes, oidc.ScopeOfflineAccess)
	if _, ok := req.(*refreshRequest); ok {
		withRefresh = true
	}
	return p.issue(ctx, req, withRefresh, current)
}

// TokenRequestByRefreshToken finds a refresh token's grant. A token used
// before ends the whole grant (reuse detection); an ended grant, or one
// whose person may no longer act in its account, answers invalid_grant.
func (p *Provider) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	hash := digest(token)
	rt, g, err := p.refreshGrant(ctx, hash)
	if err != nil {
		return nil, oidc.ErrInvalidGrant().WithDescription("unknown refresh token")
	}
	now := p.Work.Now()
	if !rt.UsedAt.IsZero() {
		if err := p.Work.DB.Write(ctx, func(tx *store.Tx) error { return tx.EndGrant(ctx, rt.GrantID, now) }); err != nil {
			return nil, err
		}
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token reused: the grant is revoked")
	}
	if !rt.ExpiresAt.After(now) {
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token expired")
	}
	if !g.EndedAt.IsZero() {
		return nil, oidc.ErrInvalidGrant().WithDescription("the grant was revoked")
	}
	if err := p.standing(ctx, &g.UserID, g.AccountID); err != nil {
		if oe := (*oidc.Error)(nil); errors.As(err, &oe) {
			p.Work.DB.Write(ctx, func(tx *store.Tx) error { return tx.EndGrant(ctx, g.ID, now) })
		}
		return nil, err
	}
	if err := p.narrow(ctx, &g); equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return nil, oidc.ErrInvalidGrant().WithDescription("the client is no longer registered")
	} else if err != nil {
		return nil, err
	}
	if !slices.Contains(g.Scopes, oidc.ScopeOfflineAccess) {
		return nil, oidc.ErrInvalidGrant().WithDescription("the client is no longer registered for offline_access")
	}
	return &refreshRequest{g: g, scopes: g.Scopes, hash: hash, memo: new(accountSet)}, nil
}

// registered keeps, of scopes, those client c may be given: openid and
// the scopes it is registered for.
func registered(c equipe.OIDCClient, scopes []string) []string {
	return slices.DeleteFunc(slices.Clone(scopes), func(s string) bool {
		return s != oidc.ScopeOpenID && !slices.Contains(c.Scopes, s)
	})
}

// narrow keeps, of the grant's scopes, those its client is registered for
// now: a grant holds the scopes of the request it came from, and a client
// whose registration was narrowed since (or a grant made before requests
// kept only the registered scopes) gets no more than a new request would.
// ENOTFOUND when the client is no longer registered.
func (p *Provider) narrow(ctx context.Context, g *store.Grant) error {
	c, err := p.oidcClient(ctx, g.ClientID)
	if err != nil {
		return err
	}
	g.Scopes = registered(c, g.Scopes)
	return nil
}

// TerminateSession ends the person's grants to the client (RP-initiated
// logout without an equipe session to end).
func (p *Provider) TerminateSession(ctx context.Context, userID, clientID string) error {
	uid, err := equipe.ParseID(userID)
	if err != nil {
		return nil
	}
	cid, err := equipe.ParseID(clientID)
	if err != nil {
		return nil
	}
	now := p.Work.Now()
	return p.Work.DB.Write(ctx, func(tx *store.Tx) error { return tx.EndGrantsOf(ctx, uid, nil, &cid, now) })
}

// RevokeToken ends the grant of a refresh token or of an access token
// (RFC 7009): revoking either ends both. Only the client the token was
// issued to may revoke it.
func (p *Provider) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	now := p.Work.Now()
	// op passes a refresh token as it came (after GetRefreshTokenInfo,
	// with its user) and an access token by its ID.
	var grant string
	if rt, err := p.Work.DB.RefreshToken(ctx, digest(tokenOrID)); err == nil {
		grant = rt.GrantID
	} else if g, err := p.Work.DB.GrantOfAccessToken(ctx, tokenOrID); err == nil {
		grant = g.ID
	} else {
		return nil // an unknown token is revoked already (RFC 7009 section 2.2)
	}
	g, err := p.Work.DB.Grant(ctx, grant)
	if err != nil {
		return nil
	}
	if g.ClientID.String() != clientID {
		// RFC 7009 2.1: a token issued to another client is refused, and
		// the client told so, in the terms of RFC 6749 5.2. The client
		// did authenticate: invalid_client (a 401, with a challenge)
		// would say its credentials failed; invalid_grant names a grant
		// "issued to another client". Nothing is revoked.
		return oidc.ErrInvalidGrant().WithDescription("the token was issued to another client: nothing is revoked")
	}
	if err := p.Work.DB.Write(ctx, func(tx *store.Tx) error { return tx.EndGrant(ctx, grant, now) }); err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

func (p *Provider) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	rt, err := p.Work.DB.RefreshToken(ctx, digest(token))
	if err != nil {
		return "", "", op.ErrInvalidRefreshToken
	}
	g, err := p.Work.DB.Grant(ctx, rt.GrantID)
	if err != nil {
		return "", "", op.ErrInvalidRefreshToken
	}
	return g.UserID.String(), token, nil
}

func (p *Provider) SigningKey(ctx context.Context) (op.SigningKey, error) {
	k, err := p.Keys.SigningKey(ctx)
	return k, p.keyFault(ctx, err)
}
func (p *Provider) SignatureAlgorithms(ctx context.Context) ([]jose.SignatureAlgorithm, error) {
	a, err := p.Keys.SignatureAlgorithms(ctx)
	return a, p.keyFault(ctx, err)
}
func (p *Provider) KeySet(ctx context.Context) ([]op.Key, error) {
	ks, err := p.Keys.KeySet(ctx)
	return ks, p.keyFault(ctx, err)
}

// keyFault logs a fault of the signing keys with its cause (a key sealed
// under another EQUIPE_SECRET_KEY, the database unreachable), for the
// operator, and gives the client the protocol's server_error without it.
func (p *Provider) keyFault(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() == nil {
		p.Log.ErrorContext(ctx, "openid: signing keys", "err", err)
	}
	return oidc.ErrServerError().WithDescription("the provider cannot sign or publish its keys; its log says why")
}

func (p *Provider) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's claims.
func (p *Provider) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	g, memo, err := p.grantOfRequest(ctx, req)
	if err != nil {
		return err
	}
	if g.SessionID != nil {
		// The session the person logged in with: a back-channel logout
		// token names it when it ends.
		ui.AppendClaims("sid", g.SessionID.String())
	}
	return p.userinfo(ctx, ui, g, scopes, memo)
}

// SetUserinfoFromToken fills the userinfo endpoint's answer: nothing for a
// token whose grant has ended.
func (p *Provider) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, subject, origin string) error {
	g, err := p.Work.DB.GrantOfAccessToken(ctx, tokenID)
	if err != nil || !g.EndedAt.IsZero() || g.UserID.String() != subject {
		return oidc.ErrAccessDenied().WithDescription("the token is revoked")
	}
	if err := p.standing(ctx, &g.UserID, g.AccountID); err != nil {
		return oidc.ErrAccessDenied().WithDescription("the person may no longer act in this account")
	}
	if err := p.narrow(ctx, &g); equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return oidc.ErrAccessDenied().WithDescription("the client is no longer registered")
	} else if err != nil {
		return err
	}
	return p.userinfo(ctx, ui, g, tokenScopes(tokenID, g.Scopes), nil)
}

// scopeSep joins the scopes an access token's ID holds.
const scopeSep = "+"

// tokenScopes returns the scopes the access token of ID id acts with, of
// those its grant holds now: the fewer its refresh asked for, kept in its
// ID after the grant's and the random part, else all.
func tokenScopes(id string, granted []string) []string {
	parts := strings.SplitN(id, ".", 3)
	if len(parts) < 3 {
		return granted
	}
	asked := strings.Split(parts[2], scopeSep)
	return slices.DeleteFunc(slices.Clone(granted), func(s string) bool { return !slices.Contains(asked, s) })
}

// SetIntrospectionFromToken sets the claims of an access token's
// introspection by the client clientID (introspect has authenticated it):
// active while the grant lives and the person may act in its account, and
// only to the client the token was issued to. RFC 7662 section 4 has the
// server tell whether the token may be used at the resource server that
// asks; a token's audience is its client alone, so another client's token
// is inactive to it, as section 2.2 allows: otherwise any registered
// client would read the claims of every other client's tokens. errInactive
// when the token is not active to the caller.
func (p *Provider) SetIntrospectionFromToken(ctx context.Context, in *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	caller, err := equipe.ParseID(clientID)
	if err != nil {
		return errInactive
	}
	g, err := p.Work.DB.GrantOfAccessToken(ctx, tokenID)
	if err != nil || g.UserID.String() != subject {
		return errInactive
	}
	if err := p.actsFor(ctx, &g, caller); err != nil {
		return err
	}
	scopes := tokenScopes(tokenID, g.Scopes)
	var ui oidc.UserInfo
	if err := p.userinfo(ctx, &ui, g, scopes, nil); err != nil {
		return err
	}
	in.SetUserInfo(&ui)
	in.Scope = scopes
	in.ClientID = g.ClientID.String()
	return nil
}

// actsFor reports whether the grant g's tokens act for the client caller:
// the grant lives, is caller's, and its person may still act in its
// account. g's scopes are narrowed to those its client is registered for
// now. errInactive when they do not act; another error is a fault.
func (p *Provider) actsFor(ctx context.Context, g *store.Grant, caller equipe.ID) error {
	if !g.EndedAt.IsZero() || g.ClientID != caller {
		return errInactive
	}
	if err := p.standing(ctx, &g.UserID, g.AccountID); err != nil {
		return errInactive
	}
	if err := p.narrow(ctx, g); equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return errInactive
	} else if err != nil {
		return err
	}
	return nil
}

var errInactive = errors.New("token inactive")

// GetPrivateClaimsFromScopes is superseded by GetPrivateClaimsFromRequest.
func (p *Provider) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetPrivateClaimsFromRequest adds the account claims to access tokens.
func (p *Provider) GetPrivateClaimsFromRequest(ctx context.Context, req op.TokenRequest, scopes []string) (map[string]any, error) {
	g, memo, err := p.grantOfRequest(ctx, req)
	if err != nil {
		return nil, err
	}
	claims := map[string]any{}
	if err := p.accountClaims(ctx, g, scopes, memo, func(k string, v any) { claims[k] = v }); err != nil {
		return nil, err
	}
	return claims, nil
}

// grantOfRequest returns the grant (or what will be one) of a token request.
// The accounts it reads are kept in the request's memo: the access token
// and the ID token of one request read them once.
func (p *Provider) grantOfRequest(ctx context.Context, req any) (store.Grant, *accountSet, error) {
	switch r := req.(type) {
	case authRequest:
		if r.a.UserID == nil {
			return store.Grant{}, nil, oidc.ErrInvalidGrant()
		}
		return store.Grant{ClientID: r.a.ClientID, UserID: *r.a.UserID, AccountID: r.a.AccountID, Scopes: r.a.Scopes,
			SessionID: r.a.SessionID}, r.memo, nil
	case *refreshRequest:
		return r.g, r.memo, nil
	}
	return store.Grant{}, nil, oidc.ErrServerError().WithDescription("unexpected token request")
}

// userinfo sets the claims of the person and of the account; memo, when
// not nil, keeps the accounts read for the request's other token.
func (p *Provider) userinfo(ctx context.Context, ui *oidc.UserInfo, g store.Grant, scopes []string, memo *accountSet) error {
	ui.Subject = g.UserID.String()
	profile, email := slices.Contains(scopes, oidc.ScopeProfile), slices.Contains(scopes, oidc.ScopeEmail)
	if !profile && !email {
		// Nothing of the person but their ID: no need to read them (a
		// deleted person's grants ended with their identity).
		return p.accountClaims(ctx, g, scopes, memo, ui.AppendClaims)
	}
	u, err := p.Work.DB.UserByID(ctx, g.UserID)
	if err != nil {
		return oidc.ErrAccessDenied().WithParent(err)
	}
	if profile {
		ui.Name = strings.TrimSpace(u.FirstName + " " + u.LastName)
		ui.GivenName, ui.FamilyName = u.FirstName, u.LastName
		if tag, err := language.Parse(u.Locale); err == nil {
			ui.Locale = oidc.NewLocale(tag)
		}
	}
	if email {
		// email_verified goes as a claim of its own: op's field for it is
		// left out when false, and a relying party could not tell an
		// unverified address from a claim not given (OpenID Connect Core
		// 5.4 gives both with the email scope).
		ui.Email = u.Email
		ui.AppendClaims("email_verified", !u.EmailVerifiedAt.IsZero())
	}
	return p.accountClaims(ctx, g, scopes, memo, ui.AppendClaims)
}

// AccountClaim is one of the person's accounts in the accounts claim.
type AccountClaim struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// accountSet is what the account claims of a token request are made of:
// the person's accounts and, for the chosen account, where they stand.
type accountSet struct {
	read     bool
	list     []AccountClaim
	name     string // the chosen account's
	standing team.SignInStanding
}

// readAccounts reads the accounts of g's person and their standing in g's
// account into a, once. The role in the chosen account comes with the
// list; the standing is read apart only for the permissions, or when the
// account is not in the list (to refuse it, or for the staff of its firm).
func (p *Provider) readAccounts(ctx context.Context, g store.Grant, permissions bool, a *accountSet) error {
	if a.read {
		return nil
	}
	accounts, err := p.Team.SignInAccounts(ctx, g.UserID)
	if err != nil {
		return err
	}
	a.list = make([]AccountClaim, 0, len(accounts))
	found := false
	for _, acc := range accounts {
		a.list = append(a.list, AccountClaim{ID: acc.ID.String(), Name: acc.Name, Role: acc.Role})
		if g.AccountID != nil && acc.ID == *g.AccountID {
			a.name, a.standing.Role, found = acc.Name, acc.Role, true
		}
	}
	if g.AccountID != nil && (permissions || !found) {
		st, err := p.Team.SignInStanding(ctx, *g.AccountID, g.UserID)
		if err != nil {
			if equipe.ErrorCode(err) == equipe.EFORBIDDEN {
				return oidc.ErrInvalidGrant().WithDescription("the person may no longer act in this account")
			}
			return err
		}
		a.standing = st
	}
	a.read = true
	return nil
}

// accountClaims sets the accounts claim (scope accounts), and the chosen
// account's ID, name, role and (scope permissions) effective permissions.
// memo, when not nil, keeps what was read for the request's other token.
func (p *Provider) accountClaims(ctx context.Context, g store.Grant, scopes []string, memo *accountSet, set func(string, any)) error {
	if !slices.Contains(scopes, ScopeAccounts) {
		return nil
	}
	permissions := slices.Contains(scopes, ScopePermissions)
	if memo == nil {
		memo = new(accountSet)
	}
	if err := p.readAccounts(ctx, g, permissions, memo); err != nil {
		return err
	}
	set("accounts", memo.list)
	if g.AccountID == nil {
		return nil
	}
	set("account_id", g.AccountID.String())
	if memo.name != "" {
		set("account_name", memo.name)
	}
	set("role", memo.standing.Role)
	if permissions {
		perms := memo.standing.Permissions
		if perms == nil {
			perms = []string{}
		}
		set("permissions", perms)
	}
	return nil
}

func (p *Provider) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, oidc.ErrInvalidClient().WithDescription("JWT client authentication is not supported")
}

func (p *Provider) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrUnsupportedGrantType().WithDescription("the JWT profile grant is not supported")
}

func (p *Provider) Health(ctx context.Context) error { return p.Work.DB.Ping(ctx) }

var (
	_ op.Storage                        = (*Provider)(nil)
	_ op.CanSetUserinfoFromRequest      = (*Provider)(nil)
	_ op.CanGetPrivateClaimsFromRequest = (*Provider)(nil)
	_ op.CanTerminateSessionFromRequest = (*Provider)(nil)
)

// Cleanup deletes the authorization requests, codes and tokens that have
// expired, and the grants ended with no token left.
func (p *Provider) Cleanup(ctx context.Context) error {
	now := p.Work.Now()
	return p.Work.DB.Write(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteAuthRequests(ctx, now); err != nil {
			return err
		}
		if err := tx.DeleteDoneLogouts(ctx, now.Add(-LogoutsKept)); err != nil {
			return err
		}
		return tx.DeleteSpentOIDCTokens(ctx, now)
	})
}
