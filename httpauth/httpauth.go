package httpauth

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/identity"
)

// Cookies names and marks the session cookie. Served over HTTPS the cookie
// is "__Host-equipe_session" with Secure: the prefix makes browsers refuse it
// unless it is Secure, host-only and for the whole path, so no sibling domain
// can plant or overwrite it. Over plain HTTP (development on loopback)
// browsers refuse prefixed and Secure cookies alike, so the cookie is
// "equipe_session" without Secure.
type Cookies struct {
	Secure bool
}

// Name returns the session cookie's name.
func (c Cookies) Name() string {
	if c.Secure {
		return "__Host-equipe_session"
	}
	return "equipe_session"
}

// Set stores the secret of the session a login started in the cookie until
// the session's absolute end, and gives the browser the cookie that
// recognises it at its next logins when the login gave it one (a browser
// without it).
func (c Cookies) Set(w http.ResponseWriter, a identity.Auth, secret string) {
	expires := a.Session.ExpiresAt
	http.SetCookie(w, &http.Cookie{Name: c.Name(), Value: secret, Path: "/", Expires: expires,
		MaxAge: int(time.Until(expires).Seconds()), Secure: c.Secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	if a.Browser != "" {
		http.SetCookie(w, &http.Cookie{Name: c.BrowserName(), Value: a.Browser, Path: "/", MaxAge: int(identity.BrowserMemory.Seconds()),
			Secure: c.Secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
}

// BrowserName returns the name of the cookie that recognises a browser a
// person logged in from before ("__Host-equipe_browser" over HTTPS).
func (c Cookies) BrowserName() string {
	if c.Secure {
		return "__Host-" + browserName
	}
	return browserName
}

const browserName = "equipe_browser"

// browserCookie returns the value of the request's browser cookie, "" when
// it has none.
func browserCookie(r *http.Request) string {
	for _, name := range []string{"__Host-" + browserName, browserName} {
		if c, err := r.Cookie(name); err == nil && c.Value != "" {
			return c.Value
		}
	}
	return ""
}

// Clear removes the cookie.
func (c Cookies) Clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: c.Name(), Value: "", Path: "/", MaxAge: -1, Secure: c.Secure,
		HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// ChallengeName returns the name of the cookie that holds a login's
// challenge between its password and its second step.
func (c Cookies) ChallengeName() string {
	if c.Secure {
		return "__Host-equipe_login"
	}
	return "equipe_login"
}

// SetChallenge stores a login challenge's secret in its cookie until
// expires.
func (c Cookies) SetChallenge(w http.ResponseWriter, secret string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: c.ChallengeName(), Value: secret, Path: "/", Expires: expires,
		MaxAge: max(int(time.Until(expires).Seconds()), 1), Secure: c.Secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// Challenge returns the login challenge's secret the request carries, if
// any.
func (c Cookies) Challenge(r *http.Request) string {
	k, err := r.Cookie(c.ChallengeName())
	if err != nil {
		return ""
	}
	return k.Value
}

// ClearChallenge removes the login challenge's cookie.
func (c Cookies) ClearChallenge(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: c.ChallengeName(), Value: "", Path: "/", MaxAge: -1, Secure: c.Secure,
		HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// Via says how a request authenticated.
type Via int

// Ways of authenticating.
const (
	ViaNone   Via = iota
	ViaCookie     // a browser: cookie sessions are subject to CSRF protection
	ViaBearer     // an API client
)

// state is what the middleware learnt of a request: one context value
// rather than one per fact, so that a request costs one context and one
// copy of the request, and every accessor one lookup. A state is never
// changed once in a context; WithAuth puts a changed copy in a new one.
type state struct {
	ip        string // the client's address (see ClientIP); Origin adds what the request itself says
	via       Via
	badBearer bool
	badKey    bool // the bad bearer token was an API key; why is in the context under refusalKey (see KeyRefusal)
	// unavailable says that the credentials could not be checked; the
	// fault is in the context under faultKey (see Unavailable). A flag here
	// rather than the error itself keeps the state, with the context that
	// carries it (stateContext), at 64 bytes, the size class it is
	// allocated in on every request.
	unavailable bool
	auth        *identity.Auth
	key         *equipe.APIKey
}

type ctxKey struct{}

// faultKey holds, in a request's context, the fault that kept its
// credentials from being checked.
type faultKey struct{}

// noState is the state of a request that did not pass the middleware.
var noState = &state{}

func stateOf(r *http.Request) *state {
	if st, ok := r.Context().Value(ctxKey{}).(*state); ok {
		return st
	}
	return noState
}

// withState returns r carrying st in a context of its own (see
// stateContext).
func withState(r *http.Request, st state) *http.Request {
	return r.WithContext(&stateContext{Context: r.Context(), st: st})
}

// stateContext is a request's context that carries the request's state.
//
// What it saves: the state and the context value that holds it are one
// allocation on every request instead of two (the state, and the node
// context.WithValue makes). A state is never changed once in a context.
type stateContext struct {
	context.Context
	st state
}

// Value returns the state under ctxKey, and asks the parent for anything
// else.
func (c *stateContext) Value(key any) any {
	if _, ok := key.(ctxKey); ok {
		return &c.st
	}
	return c.Context.Value(key)
}

// KeyAuthenticator finds the API key of a secret. The key it returns may be
// shared with other requests: nobody changes it.
type KeyAuthenticator interface {
	AuthenticateKey(ctx context.Context, secret string) (*equipe.APIKey, error)
}

// APIKey returns the API key the request authenticated with, or nil. The key
// may be shared with other requests: read it, never change it.
func APIKey(r *http.Request) *equipe.APIKey {
	return stateOf(r).key
}

// Auth returns the request's identity, if it has one.
func Auth(r *http.Request) (identity.Auth, bool) {
	if a := stateOf(r).auth; a != nil {
		return *a, true
	}
	return identity.Auth{}, false
}

// AuthVia returns how the request authenticated.
func AuthVia(r *http.Request) Via {
	return stateOf(r).via
}

// BadBearer reports whether the request carried a bearer token that did not
// authenticate (the API answers 401 rather than treating it as anonymous).
func BadBearer(r *http.Request) bool {
	return stateOf(r).badBearer
}

// BadKey reports whether the bearer token that did not authenticate was an
// API key (unknown, revoked, or one whose creator may no longer act), rather
// than a session.
func BadKey(r *http.Request) bool {
	return stateOf(r).badKey
}

// refusalKey holds, in a refused API key's request, why it was refused.
type refusalKey struct{}

// KeyRefusal returns the code an API key that did not authenticate was
// refused with: "api_key.invalid" for an unknown or revoked key, or a code
// that says why its creator's standing stops it.
func KeyRefusal(r *http.Request) string {
	if c, ok := r.Context().Value(refusalKey{}).(string); ok && c != "" {
		return c
	}
	return "api_key.invalid"
}

// Unavailable returns the fault that kept the request's session or API key
// from being checked: an EUNAVAILABLE error when the database cannot be
// reached, or an internal one. Such a request is neither authenticated nor
// anonymous: the pages and the API answer it with that error (503 for the
// database) before anything else, never with a refusal of its credentials
// nor a way to log in, and the session cookie is kept. It returns nil when
// the credentials were checked, whatever the outcome, or there were none.
func Unavailable(r *http.Request) error {
	if !stateOf(r).unavailable {
		return nil
	}
	err, _ := r.Context().Value(faultKey{}).(error)
	return err
}

// Origin returns where the request comes from.
func Origin(r *http.Request) equipe.Origin {
	return equipe.Origin{IP: stateOf(r).ip, UserAgent: r.UserAgent(), Browser: browserCookie(r)}
}

// IP returns the client's address, Origin(r).IP, without reading the
// request's other headers and cookies as Origin does: the check API's
// calls need no more.
func IP(r *http.Request) string { return stateOf(r).ip }

// First returns the first value of the header named key in h, as h.Get
// does, for a key already in canonical form (as net/http stores the
// headers it reads).
//
// What it saves: Get puts its key in canonical form on every call, a few
// hundred instructions each, on the check API's hot path.
func First(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// WithAuth returns r carrying a (after a login in the same request).
func WithAuth(r *http.Request, a identity.Auth, via Via) *http.Request {
	st := *stateOf(r)
	st.auth, st.via = &a, via
	return withState(r, st)
}

// Middleware resolves the client's address and the session or API key of
// every request.
type Middleware struct {
	Identity *identity.Service
	Keys     KeyAuthenticator
	Cookies  Cookies
	// TrustedProxies are the networks whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
}

// Wrap returns next with the request's origin and identity in its context.
// A cookie that no longer authenticates is cleared; a bad bearer token is
// flagged for the API to refuse; credentials that could not be checked (the
// store failed) are flagged as such (see Unavailable), to be answered, and
// logged, by the pages and the API.
func (m *Middleware) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := state{ip: m.ClientIP(r)}
		ctx := r.Context()
		var fault error
		if h := First(r.Header, "Authorization"); h != "" {
			scheme, secret, _ := strings.Cut(h, " ")
			secret = strings.TrimSpace(secret)
			bearer := scheme == "Bearer" || strings.EqualFold(scheme, "Bearer")
			// An API key's secret, whatever its prefix, never has the form
			// of a session's (equipe.IsKeySecret).
			if bearer && equipe.IsKeySecret(secret) && m.Keys != nil {
				k, err := m.Keys.AuthenticateKey(ctx, secret)
				switch {
				case err == nil:
					st.key = k
				case equipe.ErrorCode(err) == equipe.EUNAUTHORIZED:
					// A refused key is rare: why goes in the context, which
					// the common case does not pay for.
					ctx = context.WithValue(ctx, refusalKey{}, equipe.AsError(err).Key)
					st.badBearer, st.badKey = true, true
				default:
					fault = err
				}
			} else {
				a, err := m.Identity.Authenticate(ctx, secret)
				switch {
				case err != nil && equipe.ErrorCode(err) != equipe.EUNAUTHORIZED:
					fault = err
				case bearer && err == nil:
					st.auth, st.via = &a, ViaBearer
				default:
					st.badBearer = true
				}
			}
		} else if c, err := r.Cookie(m.Cookies.Name()); err == nil && c.Value != "" {
			a, err := m.Identity.Authenticate(ctx, c.Value)
			switch equipe.ErrorCode(err) {
			case "":
				st.auth, st.via = &a, ViaCookie
			case equipe.EUNAUTHORIZED:
				m.Cookies.Clear(w)
			default:
				// The session may well be valid: the cookie stays.
				fault = err
			}
		}
		if fault != nil {
			st.unavailable = true
			ctx = context.WithValue(ctx, faultKey{}, fault)
		}
		next.ServeHTTP(w, r.WithContext(&stateContext{Context: ctx, st: st}))
	})
}

// ClientIP returns the client's address: the connection's peer, or, when
// the peer is a trusted proxy, the last address in X-Forwarded-For that is
// not itself a trusted proxy. A forged header from anyone else is ignored.
func (m *Middleware) ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	// An IPv4 address parses only from its canonical form: host is then
	// already what peer.String() would make.
	canonical := peer.Is4()
	peer = peer.Unmap()
	if !m.trusted(peer) {
		if canonical {
			return host
		}
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		if !m.trusted(a) {
			return a.String()
		}
	}
	return peer.String()
}

// Forwarded reports whether r says it was forwarded by a proxy
// (X-Forwarded-For, Forwarded or X-Real-IP) although its peer is not a
// trusted one: then the peer is not the client, and ClientIP cannot tell
// who the client is.
func (m *Middleware) Forwarded(r *http.Request) bool {
	if r.Header.Get("X-Forwarded-For") == "" && r.Header.Get("Forwarded") == "" && r.Header.Get("X-Real-IP") == "" {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return true
	}
	peer, err := netip.ParseAddr(host)
	return err != nil || !m.trusted(peer.Unmap())
}

func (m *Middleware) trusted(a netip.Addr) bool {
	for _, p := range m.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Loopback reports whether the request's peer is on the loopback network
// (by the connection, never by headers).
func Loopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// secretPaths are the path prefixes whose next segment is a one-time secret.
var secretPaths = []string{"/password-reset/", "/verify-email/", "/invitations/", "/api/v1/invitations/", "/signup/confirm/",
	"/email-change/confirm/", "/email-change/cancel/", "/notification-email/"}

// RedactPath cuts the secret out of a link's path, so that logs never hold
// a usable link.
func RedactPath(p string) string {
	for _, prefix := range secretPaths {
		if rest, ok := strings.CutPrefix(p, prefix); ok && rest != "" {
			secret, tail, _ := strings.Cut(rest, "/")
			if secret == "" || secret == "confirm" {
				return p
			}
			if tail != "" {
				return prefix + "…/" + tail
			}
			return prefix + "…"
		}
	}
	return p
}

// WebhookOwner returns the account named by the path of a webhook route
// (/…/accounts/{account}/webhooks…), or nil on the instance's routes,
// which name no account. The API and the pages share the routes' shape.
func WebhookOwner(r *http.Request) (*equipe.ID, error) {
	if r.PathValue("account") == "" {
		return nil, nil
	}
	id, err := equipe.ParseID(r.PathValue("account"))
	if err != nil {
		return nil, err
	}
	return &id, nil
}

// WebhookPath returns the owner (see WebhookOwner) and the endpoint named
// by the path of a webhook route.
func WebhookPath(r *http.Request) (*equipe.ID, equipe.ID, error) {
	owner, err := WebhookOwner(r)
	if err != nil {
		return nil, equipe.ID{}, err
	}
	id, err := equipe.ParseID(r.PathValue("webhook"))
	return owner, id, err
}

// OriginOf returns u's origin as a browser writes it in the Origin header:
// scheme and host in lower case, the port only when it is not the scheme's
// default.
func OriginOf(u *url.URL) string {
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		return scheme + "://" + net.JoinHostPort(host, port)
	}
	if strings.Contains(host, ":") {
		return scheme + "://[" + host + "]"
	}
	return scheme + "://" + host
}
