package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// TestSecurityHeaders_EveryAnswerCarriesThemJSONLeavesOutTheDocumentOnes
// sends, over HTTP, answers of every kind through the middleware that adds
// the security headers: pages get them all, JSON answers all but those that
// only govern a document, a handler's own value wins, and answers written
// without a status, without a body or by a flush get them too.
func TestSecurityHeaders_EveryAnswerCarriesThemJSONLeavesOutTheDocumentOnes(t *testing.T) {
	for _, https := range []bool{false, true} {
		pu, _ := url.Parse("http://equipe.test")
		if https {
			pu.Scheme = "https"
		}
		s := &Server{PublicURL: pu, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		srv := httptest.NewServer(s.logAndRecover(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/page":
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.Write([]byte("<p>page</p>"))
			case "/secret-page":
				w.Header().Set("Referrer-Policy", "no-referrer")
				w.Write([]byte("<p>page</p>"))
			case "/json":
				w.Header()["Content-Type"] = []string{"application/json"}
				w.Write([]byte(`{}`))
			case "/problem":
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte(`{}`))
			case "/nothing":
			case "/stream":
				w.Header().Set("Content-Type", "text/event-stream")
				http.NewResponseController(w).Flush()
				w.Write([]byte("data: x\n\n"))
			}
		})))
		defer srv.Close()
		all := map[string]string{
			"Content-Security-Policy":      csp,
			"X-Content-Type-Options":       "nosniff",
			"X-Frame-Options":              "DENY",
			"Cross-Origin-Resource-Policy": "same-origin",
			"Referrer-Policy":              "same-origin",
			"Cross-Origin-Opener-Policy":   "same-origin",
			"Permissions-Policy":           "camera=(), microphone=(), geolocation=(), payment=()",
		}
		if https {
			all["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
		}
		json := map[string]string{}
		for k, v := range all {
			json[k] = v
		}
		for _, h := range documentHeaders {
			json[h.name] = ""
		}
		secret := map[string]string{}
		for k, v := range all {
			secret[k] = v
		}
		secret["Referrer-Policy"] = "no-referrer"
		for path, want := range map[string]map[string]string{
			"/page": all, "/secret-page": secret, "/json": json, "/problem": json, "/nothing": all, "/stream": all,
		} {
			res, err := http.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			for h, v := range want {
				if got := res.Header.Get(h); got != v {
					t.Errorf("https %v, %s: %s %q, want %q", https, path, h, got, v)
				}
			}
			if !https && res.Header.Get("Strict-Transport-Security") != "" {
				t.Errorf("%s: HSTS over http", path)
			}
		}
	}
}
