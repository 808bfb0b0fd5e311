// Package httpauth carries who is asking through HTTP requests: it reads the
// session from its cookie or from an "Authorization: Bearer" header, resolves
// the client's address (trusting X-Forwarded-For only from configured
// proxies), and puts both in the request's context for the web UI and the
// JSON API.
package httpauth

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
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

// Set stores the session secret in the cookie until expires.
func (c Cookies) Set(w http.ResponseWriter, secret string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: c.Name(), Value: secret, Path: "/", Expires: expires,
		MaxAge: int(time.Until(expires).Seconds()), Secure: c.Secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// Clear removes the cookie.
func (c Cookies) Clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: c.Name(), Value: "", Path: "/", MaxAge: -1, Secure: c.Secure,
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

type ctxKey int

const (
	keyAuth ctxKey = iota
	keyOrigin
	keyVia
	keyBadBearer
	keyAPIKey
)

// KeyPrefix starts API key secrets (and no session secret).
const KeyPrefix = "equipe_"

// KeyAuthenticator finds the API key of a secret.
type KeyAuthenticator interface {
	AuthenticateKey(ctx context.Context, secret string) (equipe.APIKey, error)
}

// APIKey returns the API key the request authenticated with, if any.
func APIKey(r *http.Request) (equipe.APIKey, bool) {
	k, ok := r.Context().Value(keyAPIKey).(equipe.APIKey)
	return k, ok
}

// Auth returns the request's identity, if it has one.
func Auth(r *http.Request) (identity.Auth, bool) {
	a, ok := r.Context().Value(keyAuth).(identity.Auth)
	return a, ok
}

// AuthVia returns how the request authenticated.
func AuthVia(r *http.Request) Via {
	v, _ := r.Context().Value(keyVia).(Via)
	return v
}

// BadBearer reports whether the request carried a bearer token that did not
// authenticate (the API answers 401 rather than treating it as anonymous).
func BadBearer(r *http.Request) bool {
	b, _ := r.Context().Value(keyBadBearer).(bool)
	return b
}

// Origin returns where the request comes from.
func Origin(r *http.Request) identity.Origin {
	o, _ := r.Context().Value(keyOrigin).(identity.Origin)
	return o
}

// WithAuth returns r carrying a (after a login in the same request).
func WithAuth(r *http.Request, a identity.Auth, via Via) *http.Request {
	ctx := context.WithValue(r.Context(), keyAuth, a)
	return r.WithContext(context.WithValue(ctx, keyVia, via))
}

// Middleware resolves the client's address and the session or API key of
// every request.
type Middleware struct {
	Identity *identity.Service
	Keys     KeyAuthenticator
	Cookies  Cookies
	// TrustedProxies are the networks whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	Log            *slog.Logger
}

// Wrap returns next with the request's origin and identity in its context.
// A cookie that no longer authenticates is cleared; a bad bearer token is
// flagged for the API to refuse.
func (m *Middleware) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua := r.UserAgent()
		ctx := context.WithValue(r.Context(), keyOrigin, identity.Origin{IP: m.ClientIP(r), UserAgent: ua})
		r = r.WithContext(ctx)
		if h := r.Header.Get("Authorization"); h != "" {
			scheme, secret, _ := strings.Cut(h, " ")
			secret = strings.TrimSpace(secret)
			if strings.EqualFold(scheme, "Bearer") && strings.HasPrefix(secret, KeyPrefix) && m.Keys != nil {
				k, err := m.Keys.AuthenticateKey(ctx, secret)
				if err == nil {
					r = r.WithContext(context.WithValue(ctx, keyAPIKey, k))
				} else {
					if equipe.ErrorCode(err) != equipe.EUNAUTHORIZED {
						m.Log.Error("authenticate API key", "err", err)
					}
					r = r.WithContext(context.WithValue(r.Context(), keyBadBearer, true))
				}
				next.ServeHTTP(w, r)
				return
			}
			a, err := m.Identity.Authenticate(ctx, secret)
			if strings.EqualFold(scheme, "Bearer") && err == nil {
				r = WithAuth(r, a, ViaBearer)
			} else {
				if err != nil && equipe.ErrorCode(err) != equipe.EUNAUTHORIZED {
					m.Log.Error("authenticate", "err", err)
				}
				r = r.WithContext(context.WithValue(r.Context(), keyBadBearer, true))
			}
		} else if c, err := r.Cookie(m.Cookies.Name()); err == nil && c.Value != "" {
			a, err := m.Identity.Authenticate(ctx, c.Value)
			switch equipe.ErrorCode(err) {
			case "":
				r = WithAuth(r, a, ViaCookie)
			case equipe.EUNAUTHORIZED:
				m.Cookies.Clear(w)
			default:
				m.Log.Error("authenticate", "err", err)
			}
		}
		next.ServeHTTP(w, r)
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
	peer = peer.Unmap()
	if !m.trusted(peer) {
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
var secretPaths = []string{"/password-reset/", "/verify-email/", "/invitations/", "/api/v1/invitations/"}

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
