package mail

import (
	"github.com/equipe-dev/equipe"
	"io/fs"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

// fullData sets every field, with values that HTML escaping leaves alone,
// so the same string can be looked for in the text and in the HTML.
func fullData(now time.Time, link string) Data {
	return Data{
		RecipientID: equipe.NewID(), RecipientName: "Ada Lovelace",
		AccountName: "Acme Bakery",
		InviterName: "Grace Hopper",
		Link:        link,
		Expires:     now.Add(7 * 24 * time.Hour),
		Message:     "Hello Ada\nSee you on Monday",
		NewEmail:    "ada@example.net",
		Login: LoginNotice{When: "3 December 2026 at 07:02 UTC", Browser: "Firefox 133", System: "Windows", IP: "192.0.2.7",
			PasswordURL: testPublicURL + "/me/password"},
	}
}

// mainLink returns the link an email is about, for each template.
func mainLink(name string, d Data) string {
	switch name {
	case TemplatePasswordChanged:
		return d.ResetURL
	case TemplateSignupAttempt, TemplateWelcome, TemplateEmailChangeAttempt, TemplateSecondFactorsRemoved, TemplateIdentityDeleted:
		return d.LoginURL
	}
	return d.Link
}

func TestCompose_EveryTemplateRendersInBothLocales(t *testing.T) {
	clk := newClock()
	tm := testTemplates(t, clk.Now)
	if got := len(tm.Names()); got != 28 {
		t.Errorf("Names() has %d templates, want 28: %v", got, tm.Names())
	}
	for _, name := range tm.Names() {
		for _, locale := range []string{"fr", "en"} {
			t.Run(name+"/"+locale, func(t *testing.T) {
				d := fullData(clk.Now(), testPublicURL+"/invitations/tok-"+name)
				d.LoginURL = testPublicURL + "/login"
				d.ResetURL = testPublicURL + "/forgot-password"
				e, err := tm.Compose(name, locale, "ada@example.org", d)
				if err != nil {
					t.Fatalf("Compose: %v", err)
				}
				if e.Subject == "" || strings.ContainsAny(e.Subject, "\r\n") {
					t.Errorf("subject %q is empty or holds a line break", e.Subject)
				}
				if e.Template != name || e.Locale != locale || e.To != "ada@example.org" {
					t.Errorf("email is %s/%s to %s", e.Template, e.Locale, e.To)
				}
				link := mainLink(name, d)
				if !strings.Contains(e.Text, link) {
					t.Errorf("text lacks the link %s:\n%s", link, e.Text)
				}
				if !strings.Contains(e.HTML, `href="`+link+`"`) {
					t.Errorf("HTML lacks a link to %s", link)
				}
				if !strings.Contains(e.Text, "equipe") || !strings.Contains(e.HTML, "equipe") {
					t.Error("the email does not say that equipe sent it")
				}
				// Every value the text shows, the HTML shows too, and the
				// other way round: both say the same thing.
				for _, v := range []string{d.RecipientName, d.AccountName, d.InviterName, "See you on Monday", link, d.NewEmail,
					d.Login.When, d.Login.Browser, d.Login.System, d.Login.IP, d.Login.PasswordURL} {
					if strings.Contains(e.Text, v) != strings.Contains(e.HTML, v) {
						t.Errorf("%q is in only one of text and HTML", v)
					}
				}
				if !strings.Contains(e.HTML, `<html lang="`+locale+`">`) {
					t.Errorf("HTML is not marked as %s", locale)
				}
				french := []string{"Bonjour", "vous", "e-mail", "Cet e-mail a été envoyé automatiquement"}
				english := []string{"Hello", " you", "This email was sent automatically"}
				want, notWant := french, english
				if locale == "en" {
					want, notWant = english, french
				}
				lower := strings.ToLower(e.Text)
				for _, w := range want {
					if !strings.Contains(lower, strings.ToLower(w)) {
						t.Errorf("%s text lacks %q:\n%s", locale, w, e.Text)
					}
				}
				for _, w := range notWant[2:] {
					if strings.Contains(e.Text, w) {
						t.Errorf("%s text holds %q", locale, w)
					}
				}
			})
		}
	}
}

func TestCompose_LinkValidityIsSaidInWords(t *testing.T) {
	clk := newClock()
	tm := testTemplates(t, clk.Now)
	for _, tc := range []struct {
		name, locale string
		valid        time.Duration
		want         string
	}{
		{TemplatePasswordReset, "fr", time.Hour, "Ce lien est valable 1 heure."},
		{TemplatePasswordReset, "en", time.Hour, "This link is valid for 1 hour."},
		{TemplateInvitation, "en", 7 * 24 * time.Hour, "This link is valid for 7 days."},
		{TemplateInvitation, "fr", 7 * 24 * time.Hour, "Ce lien est valable 7 jours."},
		{TemplateAdminReset, "fr", time.Hour, "Ce lien est valable 1 heure."},
	} {
		d := fullData(clk.Now(), testPublicURL+"/password-reset/x")
		d.Expires = clk.Now().Add(tc.valid)
		e, err := tm.Compose(tc.name, tc.locale, "ada@example.org", d)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(e.Text, tc.want) || !strings.Contains(e.HTML, tc.want) {
			t.Errorf("%s/%s: %q missing from text or HTML:\n%s", tc.name, tc.locale, tc.want, e.Text)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	for _, tc := range []struct {
		d      time.Duration
		locale string
		want   string
	}{
		{0, "en", "1 minute"},
		{30 * time.Minute, "fr", "30 minutes"},
		{time.Hour - 10*time.Millisecond, "fr", "1 heure"},
		{90 * time.Minute, "en", "1 hour"},
		{24 * time.Hour, "en", "24 hours"},
		{47 * time.Hour, "fr", "47 heures"},
		{48 * time.Hour, "fr", "2 jours"},
		{7*24*time.Hour - time.Second, "en", "7 days"},
		{24 * time.Hour * 30, "fr", "30 jours"},
	} {
		if got := humanDuration(tc.locale, tc.d); got != tc.want {
			t.Errorf("humanDuration(%s, %v) = %q, want %q", tc.locale, tc.d, got, tc.want)
		}
	}
}

func TestCompose_UnknownLocaleFallsBackToFrench(t *testing.T) {
	tm := testTemplates(t, nil)
	e, err := tm.Compose(TemplatePasswordChanged, "de", "ada@example.org", Data{RecipientID: equipe.NewID(), RecipientName: "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Locale != "fr" || !strings.HasPrefix(e.Text, "Bonjour Ada,") {
		t.Errorf("locale %q, text %q", e.Locale, e.Text)
	}
}

func TestCompose_HostileNamesAreEscapedInHTMLAndVerbatimInText(t *testing.T) {
	tm := testTemplates(t, nil)
	d := Data{
		RecipientID: equipe.NewID(), RecipientName: "<script>alert(1)</script>",
		AccountName: "{{.Link}}",
		InviterName: "%s%n",
		Link:        testPublicURL + "/invitations/tok",
		Message:     `"><img src=x onerror=alert(1)>` + "\n{{template \"layout.html\" .}}",
	}
	for _, locale := range []string{"fr", "en"} {
		e, err := tm.Compose(TemplateInvitation, locale, "ada@example.org", d)
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range []string{d.RecipientName, d.AccountName, d.InviterName, `"><img src=x onerror=alert(1)>`, `{{template "layout.html" .}}`} {
			if !strings.Contains(e.Text, raw) {
				t.Errorf("%s text does not show %q verbatim:\n%s", locale, raw, e.Text)
			}
			if strings.ContainsAny(raw, "<>\"") && strings.Contains(e.HTML, raw) {
				t.Errorf("%s HTML holds %q unescaped", locale, raw)
			}
		}
		for _, escaped := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;", "{{.Link}}", "%s%n"} {
			if !strings.Contains(e.HTML, escaped) {
				t.Errorf("%s HTML lacks %q", locale, escaped)
			}
		}
		if strings.Contains(e.HTML, "<script") || strings.Contains(e.HTML, "<img") {
			t.Errorf("%s HTML holds live markup from a name", locale)
		}
		// The names were neither evaluated as templates nor as formats: the
		// "{{.Link}}" name did not become the link.
		if strings.Count(e.Text, d.Link) != 1 {
			t.Errorf("%s text shows the link %d times, want once", locale, strings.Count(e.Text, d.Link))
		}
		if !strings.Contains(e.Subject, "%s%n") || !strings.Contains(e.Subject, "{{.Link}}") {
			t.Errorf("%s subject %q does not show the names verbatim", locale, e.Subject)
		}
	}
}

func TestCompose_LineBreaksInNamesNeverReachTheSubject(t *testing.T) {
	tm := testTemplates(t, nil)
	e, err := tm.Compose(TemplateInviterConfirmation, "en", "grace@example.org", Data{
		RecipientID: equipe.NewID(), RecipientName: "Eve\r\nBcc: x@evil.test",
		InviterName: "Grace\u2028Hopper",
		AccountName: "Acme\nBakery",
	})
	if err != nil {
		t.Fatal(err)
	}
	if e.Subject != "Eve Bcc: x@evil.test joined Acme Bakery" {
		t.Errorf("subject %q", e.Subject)
	}
	if !strings.HasPrefix(e.Text, "Hello Grace Hopper,\n") {
		t.Errorf("text starts %q", e.Text[:30])
	}
}

func TestCompose_RefusesBadInput(t *testing.T) {
	tm := testTemplates(t, nil)
	link := testPublicURL + "/invitations/tok"
	for _, tc := range []struct {
		what, name, to string
		d              Data
	}{
		{"unknown template", "nope", "ada@example.org", Data{}},
		{"no recipient", TemplatePasswordChanged, "", Data{}},
		{"recipient with a line break", TemplatePasswordChanged, "ada@example.org\r\nBcc: x@evil.test", Data{}},
		{"missing link", TemplatePasswordReset, "ada@example.org", Data{}},
		{"missing account", TemplateInvitation, "ada@example.org", Data{Link: link}},
		{"missing name of who joined", TemplateInviterConfirmation, "grace@example.org", Data{AccountName: "Acme"}},
		{"a name without its identity", TemplatePasswordChanged, "ada@example.org", Data{RecipientName: "Ada"}},
		{"missing new login email", TemplateEmailChangeNotice, "ada@example.org", Data{Link: link}},
		{"link to another host", TemplatePasswordReset, "ada@example.org", Data{Link: "https://evil.test/password-reset/tok"}},
		{"link over another scheme", TemplatePasswordReset, "ada@example.org", Data{Link: "http://equipe.example.test/password-reset/tok"}},
		{"relative link", TemplatePasswordReset, "ada@example.org", Data{Link: "/password-reset/tok"}},
		{"javascript link", TemplatePasswordReset, "ada@example.org", Data{Link: "javascript:alert(1)"}},
	} {
		if _, err := tm.Compose(tc.name, "en", tc.to, tc.d); err == nil {
			t.Errorf("%s: Compose succeeded", tc.what)
		}
	}
}

func TestCompose_FillsIdentifiersAndPublicLinks(t *testing.T) {
	u, _ := url.Parse("https://equipe.example.test:8443/team")
	tm, err := NewTemplates(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := tm.Compose(TemplateSignupAttempt, "en", "ada@example.org", Data{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := tm.Compose(TemplateSignupAttempt, "en", "ada@example.org", Data{})
	if a.ID == b.ID || a.MessageID == b.MessageID {
		t.Error("two emails share an identifier")
	}
	if a.MessageID != a.ID.String()+"@equipe.example.test" {
		t.Errorf("Message-ID %q, want <id>@equipe.example.test", a.MessageID)
	}
	for _, want := range []string{"https://equipe.example.test:8443/team/login", "https://equipe.example.test:8443/team/forgot-password"} {
		if !strings.Contains(a.Text, want) || !strings.Contains(a.HTML, want) {
			t.Errorf("email lacks %s", want)
		}
	}
}

func TestCompose_TheEmailKeepsTheIdentitiesItNamesButAnErasedOnes(t *testing.T) {
	tm := testTemplates(t, nil)
	ada, grace := equipe.NewID(), equipe.NewID()
	e, err := tm.Compose(TemplateAdderConfirmation, "en", "grace@example.org", Data{RecipientName: "Ada", RecipientID: ada,
		InviterName: "Grace", InviterID: grace, AccountName: "Acme"})
	if err != nil || e.PersonID != ada || e.OtherPersonID != grace {
		t.Fatalf("the email names %v and %v, want %v and %v (%v)", e.PersonID, e.OtherPersonID, ada, grace, err)
	}
	e, err = tm.Compose(TemplateIdentityDeleted, "en", "ada@example.org", Data{RecipientName: "Ada", RecipientID: ada})
	if err != nil || e.PersonID != (equipe.ID{}) || e.OtherPersonID != (equipe.ID{}) {
		t.Fatalf("the notice of an erasure names %v and %v (%v)", e.PersonID, e.OtherPersonID, err)
	}
}

func TestNewTemplates_OverrideReplacesAnEmbeddedFile(t *testing.T) {
	layout, err := fs.ReadFile(embedded, "templates/layout.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	override := fstest.MapFS{
		"welcome.en.tmpl": {Data: []byte(`{{define "subject"}}Hi from Acme Cloud, {{.RecipientName}}{{end}}
{{define "text"}}Welcome to {{.AccountName}}.{{end}}
{{define "html"}}<p>Welcome to {{.AccountName}}.</p>{{end}}`)},
		"welcome.fr.tmpl": {Data: []byte(`{{define "subject"}}Bienvenue chez Acme Cloud, {{.RecipientName}}{{end}}
{{define "text"}}Bienvenue dans {{.AccountName}}.{{end}}
{{define "html"}}<p>Bienvenue dans {{.AccountName}}.</p>{{end}}`)},
		"layout.tmpl": {Data: []byte(strings.Replace(string(layout), `{{define "product"}}{{product}}{{end}}`, `{{define "product"}}Acme Cloud{{end}}`, 1))},
		"README.md":   {Data: []byte("not a template")},
	}
	u, _ := url.Parse(testPublicURL)
	tm, err := NewTemplates(u, override)
	if err != nil {
		t.Fatal(err)
	}
	e, err := tm.Compose(TemplateWelcome, "en", "ada@example.org", Data{RecipientID: equipe.NewID(), RecipientName: "Ada", AccountName: "Acme <Bakery>"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Subject != "Hi from Acme Cloud, Ada" || !strings.Contains(e.HTML, "Welcome to Acme &lt;Bakery&gt;.") {
		t.Errorf("override not used: %q\n%s", e.Subject, e.HTML)
	}
	fr, err := tm.Compose(TemplateWelcome, "fr", "ada@example.org", Data{AccountName: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fr.Text, "Acme Cloud") || strings.Contains(fr.Text, "par equipe") {
		t.Errorf("the overridden product name is not used:\n%s", fr.Text)
	}
}

func TestNewTemplates_BrokenOverrideFailsAtStart(t *testing.T) {
	u, _ := url.Parse(testPublicURL)
	for what, override := range map[string]fstest.MapFS{
		"syntax error":  {"invitation.fr.tmpl": {Data: []byte(`{{define "subject"}}{{.AccountName{{end}}`)}},
		"unknown field": {"invitation.fr.tmpl": {Data: []byte(`{{define "subject"}}{{.Nope}}{{end}}{{define "text"}}x{{end}}{{define "html"}}x{{end}}`)}},
		"missing block": {"invitation.fr.tmpl": {Data: []byte(`{{define "subject"}}x{{end}}{{define "text"}}x{{end}}`)}},
		"misspelt file": {"invitaton.fr.tmpl": {Data: []byte(`{{define "subject"}}x{{end}}`)}},
		"empty subject": {"invitation.fr.tmpl": {Data: []byte(`{{define "subject"}}{{end}}{{define "text"}}x{{end}}{{define "html"}}x{{end}}`)}},
	} {
		if _, err := NewTemplates(u, override); err == nil {
			t.Errorf("%s: NewTemplates succeeded", what)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error spans lines: %v", what, err)
		}
	}
	if _, err := NewTemplates(&url.URL{Path: "/relative"}, nil); err == nil {
		t.Error("a relative public URL was accepted")
	}
}

// A start without overrides does not check the built-in templates: this
// test does it for them, as a start with overrides would, so that a broken
// built-in template fails here rather than when its first email is due.
func TestTemplates_BuiltInOnesPassTheStartCheck(t *testing.T) {
	u, _ := url.Parse(testPublicURL)
	tpl, err := NewTemplates(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tpl.parsed) != 0 {
		t.Fatalf("a start without overrides parsed %d emails", len(tpl.parsed))
	}
	if err := tpl.check(); err != nil {
		t.Fatal(err)
	}
	if len(tpl.parsed) != 0 {
		t.Errorf("the check kept %d emails parsed", len(tpl.parsed))
	}
	// And the check does refuse what a start must refuse.
	tpl.sources[setKey{TemplateInvitation, "en"}] = setSource{
		tpl.sources[setKey{TemplateInvitation, "en"}].layout, tpl.sources[setKey{TemplateInvitation, "en"}].common,
		"invitation.en.tmpl", `{{define "subject"}}x{{end}}{{define "text"}}x{{end}}{{define "html"}}x{{end}}`}
	if err := tpl.check(); err == nil || !strings.Contains(err.Error(), "invitation.en") {
		t.Errorf("an invitation without its link: %v", err)
	}
}

func TestTidyText_KeepsTheSignatureSeparator(t *testing.T) {
	got := tidyText("\n\nHello  \n\n\n\nBye\t\n-- \nfooter\n\n")
	if want := "Hello\n\nBye\n-- \nfooter\n"; got != want {
		t.Errorf("tidyText = %q, want %q", got, want)
	}
	if got := oneLine(" a\r\n\tb  c\u2029"); got != "a b c" {
		t.Errorf("oneLine = %q", got)
	}
}

// The emails are checked at start but not kept parsed: a service starts
// with none, keeps the last parsedKept it composed, and composes any other
// again, the same as the first time, from any number of goroutines.
func TestCompose_KeepsOnlyTheLastEmailsParsed(t *testing.T) {
	clk := newClock()
	tm := testTemplates(t, clk.Now)
	if n := len(tm.parsed); n != 0 {
		t.Fatalf("%d emails parsed after the start, want none", n)
	}
	d := fullData(clk.Now(), testPublicURL+"/invitations/tok")
	first, err := tm.Compose(TemplateInvitation, "en", "ada@example.org", d)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i, name := range tm.Names() {
		wg.Go(func() {
			if _, err := tm.Compose(name, []string{"fr", "en"}[i%2], "ada@example.org", d); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		})
	}
	wg.Wait()
	if n := len(tm.parsed); n != parsedKept {
		t.Errorf("%d emails parsed after composing %d, want %d", n, len(tm.Names()), parsedKept)
	}
	again, err := tm.Compose(TemplateInvitation, "en", "ada@example.org", d)
	if err != nil {
		t.Fatal(err)
	}
	if again.Subject != first.Subject || again.Text != first.Text || again.HTML != first.HTML {
		t.Error("the invitation composed again, parsed anew, differs from the first")
	}
	if tm.parsed[0].key != (setKey{TemplateInvitation, "en"}) {
		t.Errorf("the last email composed is not the first kept: %v", tm.parsed[0].key)
	}
}
