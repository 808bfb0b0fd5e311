package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe/app"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store/storetest"
)

type page struct {
	Status int
	Header http.Header
	Body   string
}

func get(t *testing.T, c *http.Client, u string, headers ...string) page {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return do(t, c, req)
}

func post(t *testing.T, c *http.Client, u string, form url.Values, headers ...string) page {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return do(t, c, req)
}

func do(t *testing.T, c *http.Client, req *http.Request) page {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	// Non-breaking spaces (French typography) read as spaces.
	return page{res.StatusCode, res.Header, strings.ReplaceAll(string(b), "\u00a0", " ")}
}

func signupForm(email string) url.Values {
	return url.Values{"first_name": {"Ada"}, "last_name": {"Lovelace"}, "email": {email},
		"password": {"lovelace rode the number engine"}, "account_name": {"Analytical Engines"},
		"resource_type": {"location"}, "resource_name": {""}, "locale": {"fr"}}
}

func TestSignupForm_ShowsEachProblemBesideItsFieldAndWritesNothing(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	c := env.Client()
	f := signupForm("not-an-email")
	f.Set("first_name", "<script>alert(1)</script>")
	f.Set("password", "short")
	p := post(t, c, env.URL+"/signup", f)
	if p.Status != 422 {
		t.Fatalf("status %d", p.Status)
	}
	for _, want := range []string{
		`role="alert"`, // the summary
		`href="#f-first_name"`,
		`id="f-first_name" name="first_name" type="text" value="&lt;script&gt;alert(1)&lt;/script&gt;"`,
		`aria-invalid="true" aria-describedby="e-first_name" autofocus>`, // focus on the first problem
		`<p class="error" id="e-email">Cette adresse e-mail n&#39;est pas valide.`,
		`<p class="error" id="e-password">Le mot de passe doit compter au moins 12 caractères.</p>`,
		`<label for="f-email">Adresse e-mail</label>`,
	} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if strings.Contains(p.Body, "<script>alert(1)") {
		t.Fatal("the name is rendered unescaped")
	}
	if strings.Contains(p.Body, `value="short"`) {
		t.Fatal("the password is echoed back")
	}
	counts := storetest.Counts(t, storetest.Raw(t, env.DB))
	if counts["users"] != 0 || counts["accounts"] != 0 || counts["outbox"] != 0 {
		t.Fatalf("rows after a refused sign-up: %v", counts)
	}
}

func TestSignupThenConsentGate(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	c := env.Client()
	p := post(t, c, env.URL+"/signup", signupForm("ada@example.com"))
	if p.Status != 303 || p.Header.Get("Location") != "/" {
		t.Fatalf("sign-up: %d %s", p.Status, p.Header.Get("Location"))
	}
	// Logged in, but every page sends to the consent page first.
	for _, path := range []string{"/", "/?x=1"} {
		p = get(t, c, env.URL+path)
		if p.Status != 303 || p.Header.Get("Location") != "/consent?next="+url.QueryEscape(path) {
			t.Fatalf("%s before consent: %d %s", path, p.Status, p.Header.Get("Location"))
		}
	}
	// A form posted meanwhile comes back to the home page once the policy
	// is accepted: its own address answers nothing to the browser's GET.
	if p = post(t, c, env.URL+"/session/account", url.Values{"account": {""}}); p.Status != 303 ||
		p.Header.Get("Location") != "/consent?next="+url.QueryEscape("/") {
		t.Fatalf("a form before consent: %d %s", p.Status, p.Header.Get("Location"))
	}
	p = get(t, c, env.URL+"/consent?next=/")
	if p.Status != 200 || !strings.Contains(p.Body, "Politique de test.") || !strings.Contains(p.Body, `name="version" value="2026-11"`) ||
		strings.Contains(p.Body, "Test policy.") || !strings.Contains(p.Body, "Politique de confidentialité — Version du ") {
		t.Fatalf("consent page: %d %s", p.Status, text(p.Body))
	}
	p = post(t, c, env.URL+"/consent", url.Values{"version": {"2026-11"}, "next": {"/"}})
	if p.Status != 422 || !strings.Contains(p.Body, `id="e-accept"`) {
		t.Fatalf("consent without the box: %d", p.Status)
	}
	p = post(t, c, env.URL+"/consent", url.Values{"version": {"2026-11"}, "next": {"https://evil.test/"}, "accept": {"yes"}})
	if p.Status != 303 || p.Header.Get("Location") != "/" {
		t.Fatalf("consent: %d %s", p.Status, p.Header.Get("Location"))
	}
	p = get(t, c, env.URL+"/")
	if p.Status != 200 || !strings.Contains(p.Body, "Analytical Engines") || !strings.Contains(p.Body, "Administrateur") {
		t.Fatalf("home: %d", p.Status)
	}
	if p.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("home Cache-Control %q", p.Header.Get("Cache-Control"))
	}
}

func TestLogin_RenewsTheSessionAndStaysOnSite(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	post(t, env.Client(), env.URL+"/signup", signupForm("ada@example.com"))
	c := env.Client()
	u, _ := url.Parse(env.URL)
	planted := strings.Repeat("x", 43)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "equipe_session", Value: planted, Path: "/"}})
	for next, want := range map[string]string{
		"/privacy":            "/privacy",
		"//evil.test/":        "/",
		"https://evil.test/":  "/",
		"/\\evil.test":        "/",
		"javascript:alert(1)": "/",
		"/logout":             "/",
	} {
		f := url.Values{"email": {"ada@example.com"}, "password": {"lovelace rode the number engine"}, "next": {next}}
		p := post(t, c, env.URL+"/login", f)
		if p.Status != 303 || p.Header.Get("Location") != want {
			t.Errorf("next=%q: %d %q, want %q", next, p.Status, p.Header.Get("Location"), want)
		}
		for _, ck := range c.Jar.Cookies(u) {
			if ck.Name == "equipe_session" && ck.Value == planted {
				t.Fatal("the planted session value survived the login")
			}
		}
	}
	// A wrong password: the same message whatever went wrong, email kept.
	p := post(t, env.Client(), env.URL+"/login", url.Values{"email": {"ada@example.com"}, "password": {"wrong password!"}})
	if p.Status != 401 || !strings.Contains(p.Body, "Adresse e-mail ou mot de passe incorrect.") || !strings.Contains(p.Body, `value="ada@example.com"`) {
		t.Fatalf("wrong password page: %d", p.Status)
	}
}

func TestLogout_EndsTheSession(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	c := env.Client()
	post(t, c, env.URL+"/signup", signupForm("ada@example.com"))
	u, _ := url.Parse(env.URL)
	var before string
	for _, ck := range c.Jar.Cookies(u) {
		before = ck.Value
	}
	p := post(t, c, env.URL+"/logout", nil)
	if p.Status != 303 || p.Header.Get("Location") != "/login?done=logout" {
		t.Fatalf("logout: %d %s", p.Status, p.Header.Get("Location"))
	}
	// Replaying the old cookie gets the login page: the session is gone on the server.
	replay := env.Client()
	replay.Jar.SetCookies(u, []*http.Cookie{{Name: "equipe_session", Value: before, Path: "/"}})
	if p := get(t, replay, env.URL+"/"); p.Status != 303 || !strings.HasPrefix(p.Header.Get("Location"), "/login") {
		t.Fatalf("replayed cookie: %d %s", p.Status, p.Header.Get("Location"))
	}
}

func TestPages_SecurityHeadersAndCrossSitePosts(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	c := env.Client()
	p := get(t, c, env.URL+"/login")
	for h, want := range map[string]string{
		"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "same-origin",
	} {
		if got := p.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	for _, path := range []string{"/password-reset/" + strings.Repeat("A", 43), "/verify-email/" + strings.Repeat("A", 43)} {
		p := get(t, c, env.URL+path)
		if p.Header.Get("Referrer-Policy") != "no-referrer" || p.Header.Get("Cache-Control") != "no-store" || p.Status != 404 {
			t.Errorf("%s: %d Referrer-Policy %q Cache-Control %q", path, p.Status, p.Header.Get("Referrer-Policy"), p.Header.Get("Cache-Control"))
		}
	}
	p = post(t, c, env.URL+"/login", url.Values{"email": {"a@example.com"}, "password": {"x"}}, "Sec-Fetch-Site", "cross-site")
	if p.Status != 403 {
		t.Errorf("cross-site form post: %d", p.Status)
	}
	p = post(t, c, env.URL+"/forgot-password", url.Values{"email": {"a@example.com"}}, "Origin", "https://evil.test")
	if p.Status != 403 {
		t.Errorf("foreign Origin form post: %d", p.Status)
	}
}

func TestPages_SpeakTheReadersLanguage(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	c := env.Client()
	if p := get(t, c, env.URL+"/login", "Accept-Language", "en-GB,en;q=0.9"); !strings.Contains(p.Body, `<html lang="en">`) || !strings.Contains(p.Body, "Forgot your password?") {
		t.Fatal("English browser: page not in English")
	}
	if p := get(t, c, env.URL+"/login", "Accept-Language", "fr-CA"); !strings.Contains(p.Body, "Mot de passe oublié ?") {
		t.Fatal("French browser: page not in French")
	}
	p := get(t, c, env.URL+"/login?lang=en&next=/privacy", "Accept-Language", "fr")
	if p.Status != 303 || p.Header.Get("Location") != "/login?next=%2Fprivacy" {
		t.Fatalf("switch: %d %q", p.Status, p.Header.Get("Location"))
	}
	if p := get(t, c, env.URL+"/login", "Accept-Language", "fr"); !strings.Contains(p.Body, "Forgot your password?") {
		t.Fatal("the chosen language is not remembered")
	}
}

func TestDevMailbox_OnlyForThisMachine(t *testing.T) {
	local := apptest.Start(t, "sqlite", apptest.Options{})
	if p := get(t, local.Client(), local.URL+"/dev/mail"); p.Status != 200 {
		t.Fatalf("local: %d", p.Status)
	}
	// A reverse proxy on the same machine connects from loopback for anyone.
	if p := get(t, local.Client(), local.URL+"/dev/mail.json", "X-Forwarded-For", "203.0.113.9"); p.Status != 404 {
		t.Fatalf("through a proxy: %d", p.Status)
	}
	public := apptest.Start(t, "sqlite", apptest.Options{Configure: func(c *app.Config) {
		c.PublicURL, _ = url.Parse("https://equipe.example.com")
	}})
	if p := get(t, public.Client(), public.URL+"/dev/mail"); p.Status != 404 {
		t.Fatalf("instance with a public address: %d", p.Status)
	}
	if !strings.Contains(public.Logs(), "not served") {
		t.Fatal("no warning that emails stay in the unserved mailbox")
	}
}

// TestPasswordFields_AreDescribedByTheirHint: the rules of a new password
// are read out with its field, and so is its error.
func TestPasswordFields_AreDescribedByTheirHint(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	c := env.Client()
	p := get(t, c, env.URL+"/signup")
	if !strings.Contains(p.Body, `aria-describedby="h-password"`) || !strings.Contains(p.Body, `<p class="hint" id="h-password">`) {
		t.Fatalf("the password field is not described by its hint")
	}
	f := signupForm("ada@example.com")
	f.Set("password", "short")
	p = post(t, c, env.URL+"/signup", f)
	if !strings.Contains(p.Body, `aria-describedby="h-password e-password"`) || !strings.Contains(p.Body, `id="e-password"`) {
		t.Fatalf("the refused password field is not described by its hint and its error")
	}
}
