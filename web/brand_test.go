package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe/app"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/brand"
)

// acmeLogo is a branded instance's logo.
const acmeLogo = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 10"><rect width="40" height="10" fill="#0b6e4f"/></svg>`

// startBranded runs an instance branded Acme Cloud: name, logo, favicon,
// colours, an extra stylesheet, support and legal links.
func startBranded(t *testing.T) *apptest.Env {
	t.Helper()
	logo, err := brand.ParseImage([]byte(acmeLogo))
	if err != nil {
		t.Fatal(err)
	}
	return apptest.Start(t, "sqlite", apptest.Options{Configure: func(c *app.Config) {
		c.Brand = brand.Brand{Name: "Acme Cloud", Logo: logo, Favicon: logo, Primary: "#0b6e4f", Accent: "#7a1fa2",
			SupportEmail: "help@acme.test", SupportURL: "https://acme.test/help",
			TermsURL: "https://acme.test/terms", ImprintURL: "https://acme.test/imprint",
			Stylesheet: []byte(".brand img { max-height: 3rem; }\n")}
		c.MailFrom = "Acme Cloud <no-reply@acme.test>"
	}})
}

// TestBrand_PagesShowTheVendorsBrandAndNeverEquipe: every page of a
// branded instance, signed in or not, bears its name, logo, favicon,
// colours and links, and says "equipe" nowhere; the brand's files are
// served from the instance itself.
func TestBrand_PagesShowTheVendorsBrandAndNeverEquipe(t *testing.T) {
	env := startBranded(t)
	o := signUpOwner(t, env, "ada@example.com")
	anonymous := env.Client()
	b := env.App.Config.Brand
	for _, c := range []struct {
		name string
		get  func() page
	}{
		{"login", func() page { return get(t, anonymous, env.URL+"/login") }},
		{"sign-up", func() page { return get(t, anonymous, env.URL+"/signup") }},
		{"forgotten password", func() page { return get(t, anonymous, env.URL+"/forgot-password") }},
		{"privacy policy", func() page { return get(t, anonymous, env.URL+"/privacy") }},
		{"bad reset link", func() page { return get(t, anonymous, env.URL+"/password-reset/nope") }},
		{"bad invitation link", func() page { return get(t, anonymous, env.URL+"/invitations/nope") }},
		{"not found", func() page { return get(t, anonymous, env.URL+"/no-such-page") }},
		{"home", func() page { return get(t, o.c, env.URL+"/") }},
		{"team", func() page { return get(t, o.c, o.url("/members")) }},
		{"settings", func() page { return get(t, o.c, o.url("/settings")) }},
		{"profile", func() page { return get(t, o.c, env.URL+"/me") }},
		{"security", func() page { return get(t, o.c, env.URL+"/me/security") }},
		{"my data", func() page { return get(t, o.c, env.URL+"/me/data") }},
	} {
		p := c.get()
		for _, want := range []string{
			"· Acme Cloud</title>",
			`<img src="/static/brand/logo?v=` + b.Logo.Version() + `" alt="Acme Cloud">`,
			`<link rel="icon" href="/static/brand/favicon?v=` + b.Favicon.Version() + `" type="image/svg+xml">`,
			`<link rel="stylesheet" href="/static/brand.css?v=` + b.CSSVersion() + `">`,
			`<a href="https://acme.test/terms">`, `<a href="https://acme.test/imprint">`,
			`<a href="https://acme.test/help">`, `<a href="mailto:help@acme.test">help@acme.test</a>`,
		} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("%s (%d): lacks %s", c.name, p.Status, want)
			}
		}
		if i := strings.Index(strings.ToLower(p.Body), "equipe"); i >= 0 {
			t.Errorf("%s (%d) says equipe: …%s…", c.name, p.Status, p.Body[max(0, i-80):min(len(p.Body), i+40)])
		}
	}

	css := get(t, anonymous, env.URL+"/static/brand.css?v="+b.CSSVersion())
	if css.Status != 200 || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") ||
		!strings.Contains(css.Body, "--primary: #0b6e4f;") || !strings.Contains(css.Body, "--accent: #7a1fa2;") ||
		!strings.Contains(css.Body, ".brand img { max-height: 3rem; }") {
		t.Errorf("brand.css: %d %s\n%s", css.Status, css.Header.Get("Content-Type"), css.Body)
	}
	for _, path := range []string{"/static/brand/logo", "/static/brand/favicon", "/favicon.ico"} {
		p := get(t, anonymous, env.URL+path)
		if p.Status != 200 || p.Header.Get("Content-Type") != "image/svg+xml" || p.Body != acmeLogo ||
			!strings.Contains(p.Header.Get("Content-Security-Policy"), "sandbox") {
			t.Errorf("%s: %d %s %q", path, p.Status, p.Header.Get("Content-Type"), p.Header.Get("Content-Security-Policy"))
		}
	}
	// The pages' policy is unchanged: no other origin for styles or images.
	login := get(t, anonymous, env.URL+"/login")
	if csp := login.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'self';") || !strings.Contains(csp, "img-src 'self' data:;") {
		t.Errorf("the pages' policy changed: %s", csp)
	}
}

// TestBrand_EmailsOfABrandedInstanceNeverSayEquipe: the emails a branded
// instance sends bear its name and links, never "equipe".
func TestBrand_EmailsOfABrandedInstanceNeverSayEquipe(t *testing.T) {
	env := startBranded(t)
	c := env.Client()
	if p := post(t, c, env.URL+"/signup", signupForm("grace@example.com")); p.Status != 303 {
		t.Fatalf("sign-up: %d", p.Status)
	}
	m := env.Mail(t, "grace@example.com", "verify_email")
	all := m.Subject + m.Text + m.HTML
	if strings.Contains(strings.ToLower(all), "equipe") {
		t.Errorf("the email says equipe:\n%s\n%s", m.Text, m.HTML)
	}
	for _, want := range []string{"Acme Cloud", "https://acme.test/terms", "help@acme.test"} {
		if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
			t.Errorf("the email lacks %s:\n%s", want, m.Text)
		}
	}
}

// TestBrand_AFileIsCachedLongOnlyUnderItsOwnDigest: the pages link the
// brand's files by their digest (?v=), so that URL may be kept a year. Asked
// for without it (/favicon.ico) or by another digest (a page of a process
// that put a new brand in force a moment before this one), the answer must
// be checked again, by its ETag, rather than kept a day under a URL that
// names another brand.
func TestBrand_AFileIsCachedLongOnlyUnderItsOwnDigest(t *testing.T) {
	env := startBranded(t)
	c := env.Client()
	b := env.App.Config.Brand
	for _, f := range []struct{ path, version string }{
		{"/static/brand.css", b.CSSVersion()},
		{"/static/brand/logo", b.Logo.Version()},
		{"/static/brand/favicon", b.Favicon.Version()},
	} {
		p := get(t, c, env.URL+f.path+"?v="+f.version)
		etag := p.Header.Get("ETag")
		if p.Status != 200 || p.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || etag == "" {
			t.Errorf("%s by its digest: %d, Cache-Control %q, ETag %q", f.path, p.Status, p.Header.Get("Cache-Control"), etag)
		}
		for _, u := range []string{f.path, f.path + "?v=0123456789ab"} {
			p := get(t, c, env.URL+u)
			if p.Status != 200 || p.Header.Get("Cache-Control") != "no-cache" || p.Header.Get("ETag") != etag {
				t.Errorf("%s: %d, Cache-Control %q, ETag %q", u, p.Status, p.Header.Get("Cache-Control"), p.Header.Get("ETag"))
			}
			if p := get(t, c, env.URL+u, "If-None-Match", etag); p.Status != http.StatusNotModified {
				t.Errorf("%s asked again with its ETag: %d, want 304", u, p.Status)
			}
		}
	}
	if p := get(t, c, env.URL+"/favicon.ico"); p.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("/favicon.ico: Cache-Control %q", p.Header.Get("Cache-Control"))
	}
	// Without a brand's icon, the built-in one answers /favicon.ico: kept
	// no longer, since a brand's may replace it.
	plain := apptest.Start(t, "sqlite", apptest.Options{})
	if p := get(t, plain.Client(), plain.URL+"/favicon.ico"); p.Status != 200 || p.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("the built-in /favicon.ico: %d, Cache-Control %q", p.Status, p.Header.Get("Cache-Control"))
	}
}
