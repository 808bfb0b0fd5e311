package web_test

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestEmailPreviews_AnInstanceAdministratorSeesEveryEmailAndSendsOneToThemselves:
// the preview lists every email in both languages; each shows its subject
// and text, and its HTML as a sandboxed document; "send me this one"
// sends it to the administrator's own address. Nobody else sees them.
func TestEmailPreviews_AnInstanceAdministratorSeesEveryEmailAndSendsOneToThemselves(t *testing.T) {
	env := startBranded(t)
	owner := signUpOwner(t, env, "ada@example.com")
	for _, path := range []string{"/admin/emails", "/admin/emails/invitation/fr", "/admin/emails/invitation/fr/html"} {
		if p := get(t, owner.c, env.URL+path); p.Status != 404 {
			t.Errorf("an account's administrator on %s: %d", path, p.Status)
		}
	}
	if p := post(t, owner.c, env.URL+"/admin/emails/invitation/fr/send", nil); p.Status != 404 {
		t.Errorf("an account's administrator sends a preview: %d", p.Status)
	}

	c, _ := supportLogsIn(t, env)
	if p := get(t, c, env.URL+"/"); !strings.Contains(p.Body, `href="/admin/emails"`) {
		t.Error("the home page has no link to the emails")
	}
	list := get(t, c, env.URL+"/admin/emails")
	for _, want := range []string{"Nom du produit", "Acme Cloud", "<code>#0b6e4f</code>", "<code>#7a1fa2</code>", `<a href="https://acme.test/terms">`} {
		if !strings.Contains(list.Body, want) {
			t.Errorf("the brand's settings lack %s", want)
		}
	}
	for _, name := range env.App.Mail.Names() {
		for _, locale := range []string{"fr", "en"} {
			if !strings.Contains(list.Body, `href="/admin/emails/`+name+`/`+locale+`/html"`) {
				t.Errorf("the list lacks %s in %s", name, locale)
			}
		}
	}
	p := get(t, c, env.URL+"/admin/emails/password_reset/en")
	if p.Status != 200 || !strings.Contains(p.Body, "Reset your password") || !strings.Contains(p.Body, "Acme Cloud") {
		t.Fatalf("preview: %d %s", p.Status, text(p.Body))
	}
	h := get(t, c, env.URL+"/admin/emails/invitation/fr/html")
	if h.Status != 200 || !strings.Contains(h.Body, "<!DOCTYPE html>") || !strings.Contains(h.Body, "Acme Cloud") ||
		!strings.Contains(h.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("HTML preview: %d %s", h.Status, h.Header.Get("Content-Security-Policy"))
	}
	if p := get(t, c, env.URL+"/admin/emails/nope/fr"); p.Status != 404 {
		t.Errorf("an unknown email: %d", p.Status)
	}
	if p := get(t, c, env.URL+"/admin/emails/invitation/de"); p.Status != 404 {
		t.Errorf("an unknown language: %d", p.Status)
	}
	if p := post(t, c, env.URL+"/admin/emails/invitation/en/send", nil); p.Status != 303 || !strings.HasSuffix(p.Header.Get("Location"), "/admin/emails?done=sent") {
		t.Fatalf("send: %d %s", p.Status, p.Header.Get("Location"))
	}
	m := env.Mail(t, "support@vendor.example", "invitation")
	if !strings.Contains(m.Subject, "Acme") || strings.Contains(strings.ToLower(m.Text), "equipe") {
		t.Errorf("the preview sent: %q\n%s", m.Subject, m.Text)
	}
}

// TestEmailPreviews_APreviewIsMarkedInItsLanguageAndItsLinkLeadsSomewhere:
// an English email previewed from French pages says its language (WCAG
// 3.1.2), and the sample's action link opens a page of the service.
func TestEmailPreviews_APreviewIsMarkedInItsLanguageAndItsLinkLeadsSomewhere(t *testing.T) {
	env := startBranded(t)
	c, _ := supportLogsIn(t, env)
	p := get(t, c, env.URL+"/admin/emails/password_reset/en")
	wantIn(t, p, `<strong>Objet :</strong> <span lang="en">`, `<pre class="email-text" lang="en">`)
	links := regexp.MustCompile(`https?://[^\s<"()]+`).FindAllString(html.UnescapeString(between(p.Body, `<pre class="email-text"`, "</pre>")), -1)
	service, _ := url.Parse(env.URL)
	ours := 0
	for _, l := range links {
		u, err := url.Parse(l)
		if err != nil {
			t.Fatal(err)
		}
		if u.Host != service.Host {
			continue // the brand's own pages, elsewhere
		}
		ours++
		if got := get(t, c, env.URL+u.Path); got.Status == 404 {
			t.Errorf("the sample's link %s is not found", l)
		}
	}
	if ours == 0 {
		t.Fatalf("the preview shows no link to the service: %v", links)
	}
}

// TestEmailPreviews_EachLinkIsSaidToLastAsLongAsItsEmailsDoes: a preview
// says how long its email's link works as the instance sets it, not one
// length for all; an email whose link does not expire says nothing of it.
func TestEmailPreviews_EachLinkIsSaidToLastAsLongAsItsEmailsDoes(t *testing.T) {
	env := startBranded(t)
	c, _ := supportLogsIn(t, env)
	for _, tc := range []struct{ name, want string }{
		{"password_reset/en", "This link is valid for 1 hour."},
		{"admin_reset/en", "This link is valid for 1 hour."},
		{"verify_email/en", "This link is valid for 2 days."},
		{"signup_confirm/en", "This link is valid for 24 hours."},
		{"invitation/en", "This link is valid for 7 days."},
		{"email_change_requested/en", "This link is valid for 24 hours."},
		{"email_change_notice/en", "This link stays valid 3 days"},
		{"notification_email/fr", "3 jours"},
		{"welcome/en", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := get(t, c, env.URL+"/admin/emails/"+tc.name)
			if p.Status != 200 {
				t.Fatalf("preview: %d", p.Status)
			}
			body := html.UnescapeString(between(p.Body, `<pre class="email-text"`, "</pre>"))
			switch {
			case tc.want == "" && (strings.Contains(body, "valid for") || strings.Contains(body, "valable")):
				t.Errorf("the email says its link expires:\n%s", body)
			case tc.want != "" && !strings.Contains(body, tc.want):
				t.Errorf("the email does not say %q:\n%s", tc.want, body)
			}
		})
	}
}
