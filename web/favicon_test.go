package web_test

import (
	"strings"
	"testing"

	"github.com/equipe-dev/equipe/app/apptest"
)

// TestPages_EveryPageHasTheFavicon: every page, signed in or not, links
// the icon, which is served; so is /favicon.ico, which browsers ask for of
// their own accord.
func TestPages_EveryPageHasTheFavicon(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	const link = `<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">`
	anonymous := env.Client()
	for _, c := range []struct {
		name string
		get  func() page
	}{
		{"login", func() page { return get(t, anonymous, env.URL+"/login") }},
		{"sign-up", func() page { return get(t, anonymous, env.URL+"/signup") }},
		{"forgotten password", func() page { return get(t, anonymous, env.URL+"/forgot-password") }},
		{"privacy policy", func() page { return get(t, anonymous, env.URL+"/privacy") }},
		{"not found", func() page { return get(t, anonymous, env.URL+"/no-such-page") }},
		{"home", func() page { return get(t, o.c, env.URL+"/") }},
		{"team", func() page { return get(t, o.c, o.url("/members")) }},
		{"new member", func() page { return get(t, o.c, o.url("/members/new")) }},
		{"roles", func() page { return get(t, o.c, o.url("/roles")) }},
		{"settings", func() page { return get(t, o.c, o.url("/settings")) }},
		{"audit", func() page { return get(t, o.c, o.url("/audit")) }},
		{"resources", func() page { return get(t, o.c, o.url("/resources")) }},
		{"development mailbox", func() page { return get(t, anonymous, env.URL+"/dev/mail") }},
	} {
		if p := c.get(); !strings.Contains(p.Body, link) {
			t.Errorf("%s (%d): no favicon link", c.name, p.Status)
		}
	}
	for _, path := range []string{"/favicon.ico", "/static/favicon.svg"} {
		p := get(t, anonymous, env.URL+path)
		if p.Status != 200 || p.Header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(p.Body, "<svg ") {
			t.Errorf("%s: %d %s", path, p.Status, p.Header.Get("Content-Type"))
		}
	}
}
