package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/i18n"
	"github.com/equipe-dev/equipe/metrics"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/work"
)

// Server is the HTTP handler of the whole service.
type Server struct {
	// PublicURL is the address users type; its origin is the only one
	// trusted for changes made with a session cookie.
	PublicURL *url.URL
	DB        *store.DB
	Auth      *httpauth.Middleware
	Web       http.Handler
	// Pages shows refused page requests as a page in the reader's language.
	Pages Pages
	API   http.Handler
	// AuthZEN serves the AuthZEN API (/access/v1/ and its metadata);
	// AuthZENEvaluation its POST /access/v1/evaluation alone. Nil: not
	// served.
	AuthZEN, AuthZENEvaluation http.Handler
	// SCIM serves SCIM 2.0 provisioning under /scim/; nil: not served.
	SCIM http.Handler
	// OIDC serves the OpenID Connect provider under /oidc/ and its
	// discovery document; nil: not served.
	OIDC http.Handler
	// DevMail serves /dev/mail when the development mailbox is on; nil otherwise.
	DevMail http.Handler
	// Metrics counts the requests; nil: not counted.
	Metrics *metrics.Metrics
	// MetricsNetworks may read /metrics on this address (served when
	// Metrics is set and MetricsElsewhere is not).
	MetricsNetworks  []netip.Prefix
	MetricsElsewhere bool
	I18n             *i18n.Catalog
	Log              *slog.Logger

	origin string    // PublicURL's origin, as browsers write it
	quiet  *quietLog // the check API's calls not yet summed up
}

// Pages shows the pages' own answer to a request the server refused before
// it reached them.
type Pages interface {
	// Refuse answers 403 with the page that explains err, an *equipe.Error
	// of code EFORBIDDEN whose key and arguments say why.
	Refuse(w http.ResponseWriter, r *http.Request, err error)
}

// Handler returns the service's root handler. It fails when the public URL
// or the pages are missing, or when the public URL cannot be an origin.
func (s *Server) Handler() (http.Handler, error) {
	switch {
	case s.PublicURL == nil:
		return nil, errors.New("server: no public URL")
	case s.Pages == nil:
		return nil, errors.New("server: no pages to show refusals")
	}
	s.origin = httpauth.OriginOf(s.PublicURL)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", s.ready)
	if s.Metrics != nil && !s.MetricsElsewhere {
		mux.Handle("GET /metrics", s.metricsGate(s.Metrics.Handler()))
	}
	if s.DevMail != nil {
		mux.Handle("/dev/mail", s.DevMail)
		mux.Handle("/dev/mail/", s.DevMail)
		mux.Handle("/dev/mail.json", s.DevMail)
	}
	mux.Handle("/api/", s.API)
	if s.AuthZEN != nil {
		mux.Handle("/access/", s.AuthZEN)
		mux.Handle("/.well-known/authzen-configuration", s.AuthZEN)
	}
	if s.OIDC != nil {
		mux.Handle("/oidc/", s.OIDC)
		mux.Handle("/.well-known/openid-configuration", s.OIDC)
		mux.Handle("/.well-known/oauth-authorization-server", s.OIDC) // RFC 8414, the same document
	}
	if s.SCIM != nil {
		mux.Handle("/scim/", s.SCIM)
	}
	mux.Handle("/", s.Web)

	// Every request that may change something passes Go's check first: a
	// browser's request marked cross-site, or from an origin whose host is
	// not the request's nor the public URL's, is refused; one that says
	// nothing of its origin passes. Those authenticated by the session
	// cookie must then also show they come from the public URL's origin
	// (sameOrigin), which needs the session resolved first.
	cop := http.NewCrossOriginProtection()
	if err := cop.AddTrustedOrigin(s.origin); err != nil {
		return nil, fmt.Errorf("public URL %s: %w", s.origin, err)
	}
	for _, p := range oidcProtocolPaths {
		cop.AddInsecureBypassPattern(p)
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.refuse(w, r, "request.cross_origin")
	}))

	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The mux would send the check API's calls to the API too; they go
		// there without its pattern matching.
		if r.Method == http.MethodPost {
			if i := slices.Index(checkPaths, r.URL.Path); i >= 0 {
				if r.URL.Path != authzenEvaluation {
					nameRoute(w, checkRoutes[i])
					s.API.ServeHTTP(w, r)
					return
				}
				if s.AuthZENEvaluation != nil {
					nameRoute(w, checkRoutes[i])
					s.AuthZENEvaluation.ServeHTTP(w, r)
					return
				}
			}
		}
		// Each mux on the way (this one, then the API's or the pages')
		// writes the pattern it chose into r: the last is the route's.
		defer func() { nameRoute(w, r.Pattern) }()
		mux.ServeHTTP(w, r)
	})
	h = s.sameOrigin(h)
	h = s.Auth.Wrap(h)
	h = cop.Handler(h)
	h = s.logAndRecover(h)
	return h, nil
}

// ready answers 200 when the database answers, 503 otherwise.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.DB.Ping(ctx); err != nil {
		s.Log.Warn("not ready", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		json.NewEncoder(w).Encode(map[string]string{"status": "unavailable", "database": "unreachable"})
		return
	}
	json.NewEncoder(w).Encode(map[string]string{"status": "ok", "database": string(s.DB.Engine())})
}

// sameOrigin refuses a request authenticated by the session cookie that may
// change something unless it shows it comes from this site: an Origin
// header naming the public URL's origin, or Sec-Fetch-Site: same-origin.
// Browsers send one or both with every such request. Go's check lets
// through a request with neither, as a program other than a browser would
// send, and an Origin whose host is the request's whatever its scheme; with
// the cookie, which only a browser holds, both are refused here. Requests
// with a bearer token or an API key are not concerned: no browser attaches
// those by itself.
func (s *Server) sameOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if httpauth.AuthVia(r) == httpauth.ViaCookie && !safeMethod(r.Method) && !slices.Contains(oidcProtocolPaths, r.URL.Path) &&
			r.Header.Get("Sec-Fetch-Site") != "same-origin" && r.Header.Get("Origin") != s.origin {
			s.refuse(w, r, "request.origin_required")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// oidcProtocolPaths are the OpenID Connect provider's endpoints that other
// sites' pages call by their protocol, which neither cross-origin check
// applies to: the token, revocation, introspection and userinfo endpoints
// are called by an application's own scripts (a single-page application,
// with PKCE or its bearer token, never the session cookie), and the
// authorization and logout endpoints take a POST from the application's
// page as they take a GET (OpenID Connect Core 3.1.2.1, RP-Initiated Logout
// 2), answering it as they answer the GET.
var oidcProtocolPaths = []string{"/oidc/token", "/oidc/revoke", "/oidc/introspect", "/oidc/userinfo",
	"/oidc/authorize", "/oidc/end_session"}

// safeMethod reports whether method changes nothing, as for Go's
// cross-origin check.
func safeMethod(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// refuse answers a state-changing request refused by a cross-site check
// with 403 and the reason (key): a problem document on the API, the pages'
// own refusal page elsewhere, in the reader's language.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, key string) {
	s.Log.Warn("cross-origin request refused", "method", r.Method, "path", httpauth.RedactPath(r.URL.Path),
		"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"), "code", key)
	args := map[string]any{"origin": s.origin}
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		s.Pages.Refuse(w, r, &equipe.Error{Code: equipe.EFORBIDDEN, Key: key, Args: args})
		return
	}
	locale := i18n.Negotiate(r.Header.Get("Accept-Language"))
	if a, ok := httpauth.Auth(r); ok && equipe.ValidLocale(a.User.Locale) {
		locale = a.User.Locale
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusForbidden)
	json.NewEncoder(w).Encode(map[string]any{"type": "urn:equipe:problem:forbidden",
		"title": s.I18n.T(locale, "error.forbidden", nil), "status": http.StatusForbidden, "code": key,
		"detail": s.I18n.T(locale, key, args)})
}

// csp allows this site's stylesheet and scripts (files under /static, which
// only enhance pages that work without them, or call WebAuthn for passkeys),
// their requests to this site (connect-src) and nothing else: no inline
// script or style, no page can be framed, forms post only here.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// header is a response header in canonical form with its value.
type header struct {
	name  string
	value []string
}

// securityHeaders go on every response. Their value slices are shared by
// every response rather than made by Header.Set for each: they hold one
// element and no spare capacity, so a handler that adds to one of them gets
// a copy (append reallocates) and one that sets it replaces the slice;
// nothing writes into them.
var securityHeaders = []header{
	{"Content-Security-Policy", []string{csp}},
	{"X-Content-Type-Options", []string{"nosniff"}},
	{"X-Frame-Options", []string{"DENY"}},
	{"Cross-Origin-Resource-Policy", []string{"same-origin"}},
}

// documentHeaders go on every response but JSON answers: they govern what
// a document does once a browser shows it (the requests it makes, the
// windows it opens, the features it uses), and a JSON answer is never such
// a document. See jsonAnswer.
var documentHeaders = []header{
	{"Referrer-Policy", []string{"same-origin"}},
	{"Cross-Origin-Opener-Policy", []string{"same-origin"}},
	{"Permissions-Policy", []string{"camera=(), microphone=(), geolocation=(), payment=()"}},
}

var hstsHeader = header{"Strict-Transport-Security", []string{"max-age=63072000; includeSubDomains"}}

// secureHeaders adds the security headers to h when the answer is about to
// be written, each unless the handler set it already (a page with a secret
// in its URL sets Referrer-Policy: no-referrer).
func secureHeaders(h http.Header, hsts bool) {
	for _, sh := range securityHeaders {
		if _, ok := h[sh.name]; !ok {
			h[sh.name] = sh.value
		}
	}
	if !jsonAnswer(h) {
		for _, sh := range documentHeaders {
			if _, ok := h[sh.name]; !ok {
				h[sh.name] = sh.value
			}
		}
	}
	if hsts {
		h[hstsHeader.name] = hstsHeader.value
	}
}

// jsonAnswer reports whether the answer whose headers are h is JSON (the
// API's answers and problem documents), which leaves out documentHeaders.
//
// What it saves: a JSON answer then holds at most 8 headers (4 security
// headers, HSTS, Content-Type, Cache-Control, one more), and net/http's
// header map keeps its first, small table: the 9th header made it grow (a
// new table) and made the copy net/http takes of the headers when the
// status is written larger too. Measured over HTTP on POST /api/v1/check:
// 4,225 bytes and 35 allocations per answer before, against 2,977 bytes and
// 27 for a bare handler; see docs/performance.md.
func jsonAnswer(h http.Header) bool {
	ct := h["Content-Type"]
	if len(ct) == 0 {
		return false
	}
	v := ct[0]
	return strings.HasPrefix(v, "application/json") || strings.HasPrefix(v, "application/problem+json")
}

// statusWriter records the status a handler wrote, and adds the security
// headers just before it is written.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
	hsts   bool
	route  string // the route pattern that answered, for the metrics
	// usages collects the limits an API request was counted against, told
	// in the RateLimit headers; nil for other requests.
	usages *work.Usages
}

// statusWriters holds the access log's writers between requests.
var statusWriters = sync.Pool{New: func() any { return new(statusWriter) }}

// newStatusWriter returns a writer for an answer written to w, to be
// released once the request is logged.
//
// What it saves: one allocation on every request, the writer being reused
// from request to request (net/http uses no ResponseWriter once its
// handler has returned, nor may a handler). A request that panics with
// http.ErrAbortHandler leaves its writer to the garbage collector.
func newStatusWriter(w http.ResponseWriter, hsts bool) *statusWriter {
	sw := statusWriters.Get().(*statusWriter)
	sw.ResponseWriter, sw.hsts = w, hsts
	return sw
}

// release puts w back for another request, forgetting this one's.
func (w *statusWriter) release() {
	*w = statusWriter{}
	statusWriters.Put(w)
}

// nameRoute records, for the metrics, the route pattern that answers the
// request written to w. The bare pattern "/" is no route: it is where the
// pages (and this server's mux, which hands them every path it does not
// know) send the paths no route matches, to answer them with the not-found
// page; the home page is "GET /{$}".
func nameRoute(w http.ResponseWriter, pattern string) {
	if sw, ok := w.(*statusWriter); ok && pattern != "" {
		if pattern == "/" {
			pattern = unrouted
		}
		sw.route = pattern
	}
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		h := w.ResponseWriter.Header()
		secureHeaders(h, w.hsts)
		if w.usages != nil {
			rateLimitHeaders(h, w.usages.List())
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Flush writes the status first, as Write does, so that a handler that
// flushes before writing (a stream) gets the security headers too.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logAndRecover logs requests (method, path with secrets cut out, no
// query string, status, duration), adds the security headers to every
// answer (statusWriter) and turns a panic into a 500 whose stack goes to
// the log only. Successful calls of the check API are counted
// rather than logged one by one (see checkPaths).
func (s *Server) logAndRecover(next http.Handler) http.Handler {
	quiet := newQuietLog(s.Log, summaryEvery)
	s.quiet = quiet
	hsts := s.PublicURL != nil && s.PublicURL.Scheme == "https"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := newStatusWriter(w, hsts)
		if strings.HasPrefix(r.URL.Path, "/api/") && !(r.Method == http.MethodPost && slices.Contains(checkPaths, r.URL.Path)) {
			// The check API counts against no limit: its calls carry no
			// RateLimit headers and make no context for them.
			var ctx context.Context
			ctx, sw.usages = work.WithUsages(r.Context())
			r = r.WithContext(ctx)
		}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.Log.Error("panic", "method", r.Method, "path", httpauth.RedactPath(r.URL.Path), "panic", fmt.Sprint(p),
					"stack", string(debug.Stack()))
				if sw.status == 0 {
					http.Error(sw, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
				}
			}
			d := time.Since(start)
			if s.Metrics != nil {
				route := sw.route
				if route == "" {
					route = unrouted
				}
				s.Metrics.Observe(route, sw.status, d)
			}
			if !quiet.count(r, sw.status, sw.bytes, d) {
				s.Log.Info("request", "method", r.Method, "path", httpauth.RedactPath(r.URL.Path), "status", sw.status,
					"bytes", sw.bytes, "duration_ms", float64(d.Microseconds())/1000)
			}
			sw.release()
		}()
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			// Nothing written: net/http would answer 200 after the
			// handler; the security headers go with it.
			sw.WriteHeader(http.StatusOK)
		}
	})
}

// FlushLog logs at once the summary of the check API's calls that the next
// one would hold. Call it at shutdown once the requests have ended: the
// summary is otherwise written a minute after the first call, and a process
// that stops before then would never write it.
func (s *Server) FlushLog() {
	if s.quiet != nil {
		s.quiet.flush()
	}
}

// rateLimitHeaders tells, in the RateLimit-Policy and RateLimit headers of
// the IETF draft "RateLimit header fields for HTTP"
// (draft-ietf-httpapi-ratelimit-headers), each limit the request was
// counted against: its quota q a window of w seconds, and the requests r
// left in the current window, which ends in t seconds.
func rateLimitHeaders(h http.Header, us []work.Usage) {
	if len(us) == 0 {
		return
	}
	var policy, state strings.Builder
	for i, u := range us {
		if i > 0 {
			policy.WriteString(", ")
			state.WriteString(", ")
		}
		name := strconv.Quote(u.Policy)
		fmt.Fprintf(&policy, "%s;q=%d;w=%d", name, u.Quota, int64(u.Window/time.Second))
		fmt.Fprintf(&state, "%s;r=%d;t=%d", name, u.Remaining, int64((u.Reset+time.Second-1)/time.Second))
	}
	h.Set("RateLimit-Policy", policy.String())
	h.Set("RateLimit", state.String())
}

// unrouted labels, in the metrics, the requests refused before a route
// was chosen (a cross-site request, a bad credential) and those no route
// matched.
const unrouted = "unrouted"

// metricsGate serves the metrics to the networks allowed to read them (by
// the client's address: the peer's, or the one a trusted proxy forwarded)
// and refuses everyone else with 403. A request forwarded by a proxy that
// is not trusted is refused: its peer is not its client.
func (s *Server) metricsGate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.Auth.Forwarded(r) {
			if a, err := netip.ParseAddr(s.Auth.ClientIP(r)); err == nil {
				a = a.Unmap()
				for _, p := range s.MetricsNetworks {
					if p.Contains(a) {
						next.ServeHTTP(w, r)
						return
					}
				}
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, s.I18n.T(i18n.Negotiate(r.Header.Get("Accept-Language")), "error.forbidden", nil), http.StatusForbidden)
	})
}

// checkPaths are the routes (POST) of the check API, whose successful calls
// are not logged one by one. The check API is the hot loop of the vendor's backend: tens of
// thousands of calls a second, each answering a question and changing
// nothing. A log line per call would cost more than the check itself (the
// line is formatted and written to the log, a system call, for every
// request: under load it was the largest cost of the handler), and would
// drown every other line. Their calls are counted instead, and summed up in
// one line per route and per summaryEvery while they come. Calls that fail
// (status 400 and above: a bad key, a malformed question, a busy database)
// and panics are logged on their own line as any other request, so nothing
// that needs looking into goes unlogged.
var checkPaths = []string{"/api/v1/check", "/api/v1/check/batch", authzenEvaluation}

// authzenEvaluation is the AuthZEN API's evaluation: a check in the
// protocol's words, as hot and as quiet as the check API's.
const authzenEvaluation = "/access/v1/evaluation"

// checkRoutes are checkPaths' route patterns, for the metrics.
var checkRoutes = []string{"POST /api/v1/check", "POST /api/v1/check/batch", "POST " + authzenEvaluation}

// summaryEvery is how often the quiet routes' calls are summed up.
const summaryEvery = time.Minute

// quietLog counts the successful calls of the quiet routes.
type quietLog struct {
	log       *slog.Logger
	every     time.Duration
	routes    []quietRoute
	scheduled atomic.Bool  // a summary is due: a timer runs
	since     atomic.Int64 // when it was scheduled, in Unix nanoseconds
}

// quietRoute sums up the calls of one route since the last summary.
type quietRoute struct {
	method, path string
	calls        atomic.Int64
	bytes        atomic.Int64
	micros       atomic.Int64 // the calls' total duration
	maxMicros    atomic.Int64
}

func newQuietLog(log *slog.Logger, every time.Duration) *quietLog {
	q := &quietLog{log: log, every: every, routes: make([]quietRoute, len(checkPaths))}
	for i, p := range checkPaths {
		q.routes[i].method, q.routes[i].path = http.MethodPost, p
	}
	return q
}

// count counts the request if it is a successful call of a quiet route,
// and reports whether it did (the request is then not logged on its own).
func (q *quietLog) count(r *http.Request, status, bytes int, d time.Duration) bool {
	if status >= 400 || status == 0 || r.Method != http.MethodPost {
		return false
	}
	var rt *quietRoute
	for i := range q.routes {
		if q.routes[i].path == r.URL.Path {
			rt = &q.routes[i]
			break
		}
	}
	if rt == nil {
		return false
	}
	us := d.Microseconds()
	rt.calls.Add(1)
	rt.bytes.Add(int64(bytes))
	rt.micros.Add(us)
	for m := rt.maxMicros.Load(); us > m && !rt.maxMicros.CompareAndSwap(m, us); m = rt.maxMicros.Load() {
	}
	// The first call after a summary schedules the next one. The flag is
	// cleared before the counters are taken, so a call counted after they
	// were taken finds it clear and schedules another summary.
	if !q.scheduled.Load() && q.scheduled.CompareAndSwap(false, true) {
		q.since.Store(time.Now().UnixNano())
		time.AfterFunc(q.every, func() { q.summarize(q.every) })
	}
	return true
}

// flush sums up at once the calls that the summary due would: their
// period is the time since it was scheduled. The timer, when it goes off,
// finds nothing left to sum up.
func (q *quietLog) flush() {
	if q.scheduled.Load() {
		q.summarize(time.Since(time.Unix(0, q.since.Load())))
	}
}

// summarize logs one line per quiet route called since the last summary,
// over period.
func (q *quietLog) summarize(period time.Duration) {
	q.scheduled.Store(false)
	for i := range q.routes {
		rt := &q.routes[i]
		n := rt.calls.Swap(0)
		b := rt.bytes.Swap(0)
		us := rt.micros.Swap(0)
		maxUS := rt.maxMicros.Swap(0)
		if n == 0 {
			continue
		}
		q.log.Info("requests", "method", rt.method, "path", rt.path, "count", n, "bytes", b,
			"period_s", period.Seconds(), "duration_ms_avg", float64(us)/float64(n)/1000,
			"duration_ms_max", float64(maxUS)/1000)
	}
}
