package httpauth

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/identity"
)

func TestClientIP_BelievesForwardingHeadersOnlyFromTrustedProxies(t *testing.T) {
	m := &Middleware{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	tests := []struct {
		peer, xff, want string
	}{
		{"203.0.113.5:4000", "", "203.0.113.5"},
		{"203.0.113.5:4000", "198.51.100.7", "203.0.113.5"},         // not a proxy: the header is ignored
		{"10.1.2.3:4000", "198.51.100.7", "198.51.100.7"},           // a proxy: its client
		{"10.1.2.3:4000", "1.2.3.4, 198.51.100.7", "198.51.100.7"},  // the last hop not a proxy, not the spoofable first
		{"10.1.2.3:4000", "198.51.100.7, 10.9.9.9", "198.51.100.7"}, // proxies chained
		{"10.1.2.3:4000", "garbage", "10.1.2.3"},                    // unparsable: the proxy itself
		{"[::1]:4000", "2001:db8::1", "2001:db8::1"},
		{"[::ffff:203.0.113.9]:4000", "", "203.0.113.9"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.peer
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := m.ClientIP(r); got != tt.want {
			t.Errorf("peer %s, X-Forwarded-For %q: %s, want %s", tt.peer, tt.xff, got, tt.want)
		}
	}
}

func TestRedactPath_CutsOneTimeSecrets(t *testing.T) {
	for in, want := range map[string]string{
		"/password-reset/abcdef":         "/password-reset/…",
		"/verify-email/abcdef":           "/verify-email/…",
		"/invitations/abc/accept":        "/invitations/…/accept",
		"/api/v1/invitations/abc/accept": "/api/v1/invitations/…/accept",
		"/api/v1/password-reset/confirm": "/api/v1/password-reset/confirm",
		"/email-change/confirm/abcdef":   "/email-change/confirm/…",
		"/email-change/cancel/abcdef":    "/email-change/cancel/…",
		"/api/v1/email-change/confirm":   "/api/v1/email-change/confirm",
		"/login":                         "/login",
	} {
		if got := RedactPath(in); got != want {
			t.Errorf("RedactPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCookies_AreHostOnlySecureAndHttpOnlyOverHTTPS(t *testing.T) {
	w := httptest.NewRecorder()
	a := identity.Auth{Session: equipe.Session{ExpiresAt: testTime}, Browser: "browser"}
	Cookies{Secure: true}.Set(w, a, "secret")
	cs := w.Result().Cookies()
	if c := cs[0]; c.Name != "__Host-equipe_session" || !c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" || c.SameSite != http.SameSiteLaxMode {
		t.Fatalf("cookie %+v", c)
	}
	// The browser's cookie lasts 400 days, as securely.
	if c := cs[1]; len(cs) != 2 || c.Name != "__Host-equipe_browser" || c.Value != "browser" || !c.Secure || !c.HttpOnly ||
		c.Path != "/" || c.Domain != "" || c.MaxAge != 400*24*3600 || c.SameSite != http.SameSiteLaxMode {
		t.Fatalf("browser cookie %+v", c)
	}
	w = httptest.NewRecorder()
	a.Browser = "" // a browser that keeps its own
	Cookies{}.Set(w, a, "secret")
	if cs := w.Result().Cookies(); len(cs) != 1 || cs[0].Name != "equipe_session" || cs[0].Secure || !cs[0].HttpOnly {
		t.Fatalf("plain HTTP cookies %+v", cs)
	}
}

var testTime = time.Now().Add(time.Hour)
