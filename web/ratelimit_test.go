package web_test

import (
	"net/url"
	"strconv"
	"testing"

	"github.com/equipe-dev/equipe/app/apptest"
)

// TestLogin_AThrottledFormSaysWhenToComeBackInRetryAfter fails logins for
// one address until the login page answers 429: that answer carries
// Retry-After, in seconds, besides the wait the page shows.
func TestLogin_AThrottledFormSaysWhenToComeBackInRetryAfter(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	c := env.Client()
	for i := 1; ; i++ {
		p := post(t, c, env.URL+"/login", url.Values{"email": {"nobody@example.com"}, "password": {"not the password at all"}})
		if p.Status == 401 && i < 20 {
			if p.Header.Get("Retry-After") != "" {
				t.Errorf("a failed login (%d) with Retry-After %q", i, p.Header.Get("Retry-After"))
			}
			continue
		}
		if p.Status != 429 {
			t.Fatalf("login %d: %d", i, p.Status)
		}
		if s, err := strconv.Atoi(p.Header.Get("Retry-After")); err != nil || s < 1 || s > 24*3600 {
			t.Errorf("throttled login: Retry-After %q", p.Header.Get("Retry-After"))
		}
		return
	}
}
