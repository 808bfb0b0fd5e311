// Package server assembles equipe's HTTP service: the web UI, the JSON API,
// the development mailbox, health checks, and the middleware every request
// passes through — panic recovery, an access log without secrets, security
// headers, cross-origin (CSRF) protection and session resolution.
package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/i18n"
	"github.com/equipe-dev/equipe/store"
)

// Server is the HTTP handler of the whole service.
type Server struct {
	PublicURL *url.URL
	DB        *store.DB
	Auth      *httpauth.Middleware
	Web       http.Handler
	API       http.Handler
	// DevMail serves /dev/mail when the development mailbox is on; nil otherwise.
	DevMail http.Handler
	I18n    *i18n.Catalog
	Log     *slog.Logger
}

// Handler returns the service's root handler.
func (s *Server) Handler() (http.Handler, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", s.ready)
	if s.DevMail != nil {
		mux.Handle("/dev/mail", s.DevMail)
		mux.Handle("/dev/mail/", s.DevMail)
		mux.Handle("/dev/mail.json", s.DevMail)
	}
	mux.Handle("/api/", s.API)
	mux.Handle("/", s.Web)

	cop := http.NewCrossOriginProtection()
	if s.PublicURL != nil {
		origin := s.PublicURL.Scheme + "://" + s.PublicURL.Host
		if err := cop.AddTrustedOrigin(origin); err != nil {
			return nil, fmt.Errorf("public URL %s: %w", origin, err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(s.crossOrigin))

	var h http.Handler = mux
	h = s.Auth.Wrap(h)
	h = cop.Handler(h)
	h = s.headers(h)
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

// crossOrigin answers a state-changing request that a browser sent from
// another site.
func (s *Server) crossOrigin(w http.ResponseWriter, r *http.Request) {
	s.Log.Warn("cross-origin request refused", "method", r.Method, "path", httpauth.RedactPath(r.URL.Path),
		"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
	locale := i18n.Negotiate(r.Header.Get("Accept-Language"))
	detail := s.I18n.T(locale, "request.cross_origin", nil)
	if strings.HasPrefix(r.URL.Path, "/api/") {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusForbidden)
		json.NewEncoder(w).Encode(map[string]any{"type": "urn:equipe:problem:forbidden",
			"title": s.I18n.T(locale, "error.forbidden", nil), "status": 403, "code": "request.cross_origin", "detail": detail})
		return
	}
	http.Error(w, detail, http.StatusForbidden)
}

// csp allows this site's stylesheet and nothing else: no script runs on any
// page, no page can be framed, forms post only here.
const csp = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'"

func (s *Server) headers(next http.Handler) http.Handler {
	hsts := s.PublicURL != nil && s.PublicURL.Scheme == "https"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		if hsts {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// statusWriter records the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logAndRecover logs every request (method, path with secrets cut out, no
// query string, status, duration) and turns a panic into a 500 whose stack
// goes to the log only.
func (s *Server) logAndRecover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
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
			s.Log.Info("request", "method", r.Method, "path", httpauth.RedactPath(r.URL.Path), "status", sw.status,
				"bytes", sw.bytes, "duration_ms", float64(time.Since(start).Microseconds())/1000)
		}()
		next.ServeHTTP(sw, r)
	})
}
