package mail

import (
	"net/url"
	"strings"
	"testing"
	"testing/fstest"
)

// invitationEN and invitationFR are a vendor's invitation, valid.
const (
	invitationEN = `{{define "subject"}}Join {{.AccountName}} on Acme Cloud{{end}}
{{define "text"}}Hello {{.RecipientName}}, accept here: {{.Link}}{{end}}
{{define "html"}}<p>Hello {{.RecipientName}}, <a href="{{.Link}}">accept</a>: {{.Link}}</p>{{end}}`
	invitationFR = `{{define "subject"}}Rejoignez {{.AccountName}} sur Acme Cloud{{end}}
{{define "text"}}Bonjour {{.RecipientName}}, acceptez ici : {{.Link}}{{end}}
{{define "html"}}<p>Bonjour {{.RecipientName}}, <a href="{{.Link}}">acceptez</a> : {{.Link}}</p>{{end}}`
)

func TestNewTemplates_AVendorsInvitationInEachLanguageIsUsed(t *testing.T) {
	u, _ := url.Parse(testPublicURL)
	tm, err := NewTemplates(u, fstest.MapFS{"invitation.en.tmpl": {Data: []byte(invitationEN)}, "invitation.fr.tmpl": {Data: []byte(invitationFR)}})
	if err != nil {
		t.Fatal(err)
	}
	link := testPublicURL + "/invitations/abc"
	for locale, want := range map[string]string{"en": "Join Bakery on Acme Cloud", "fr": "Rejoignez Bakery sur Acme Cloud"} {
		e, err := tm.Compose(TemplateInvitation, locale, "ada@example.org", Data{AccountName: "Bakery", Link: link})
		if err != nil || e.Subject != want || !strings.Contains(e.Text, link) {
			t.Errorf("%s: %q %v", locale, e.Subject, err)
		}
	}
	// What is not overridden stays built in.
	if e, err := tm.Compose(TemplatePasswordReset, "en", "ada@example.org", Data{Link: link}); err != nil || e.Subject != "Reset your password" {
		t.Errorf("password_reset: %q %v", e.Subject, err)
	}
}

// TestNewTemplates_EachKindOfBadFolderIsRefusedNamingFileAndLine: every
// way a vendor's folder can be wrong stops the start with one line that
// names the file (and the line, where there is one).
func TestNewTemplates_EachKindOfBadFolderIsRefusedNamingFileAndLine(t *testing.T) {
	u, _ := url.Parse(testPublicURL)
	noLink := `{{define "subject"}}Reset{{end}}
{{define "text"}}Hello, we reset nothing.{{end}}
{{define "html"}}<p>Hello</p>{{end}}`
	for _, c := range []struct {
		what  string
		files fstest.MapFS
		want  string
	}{
		{"unknown template name", fstest.MapFS{"invitaton.en.tmpl": {Data: []byte(invitationEN)}},
			"override invitaton.en.tmpl replaces no template"},
		{"missing language", fstest.MapFS{"invitation.en.tmpl": {Data: []byte(invitationEN)}},
			"override invitation.en.tmpl has no invitation.fr.tmpl"},
		{"parse error", fstest.MapFS{"invitation.en.tmpl": {Data: []byte(invitationEN)},
			"invitation.fr.tmpl": {Data: []byte("{{define \"subject\"}}x{{end}}\n{{define \"text\"}}{{.Link}\n{{end}}")}},
			"invitation.fr.tmpl:2:"},
		{"unknown variable", fstest.MapFS{"invitation.en.tmpl": {Data: []byte(invitationEN)},
			"invitation.fr.tmpl": {Data: []byte(strings.Replace(invitationFR, "Bonjour {{.RecipientName}}, acceptez ici", "Bonjour {{.RecipientNom}}, acceptez ici", 1))}},
			`invitation.fr.tmpl:2:27: no variable "RecipientNom"`},
		{"unknown variable in a branch never taken", fstest.MapFS{"invitation.en.tmpl": {Data: []byte(invitationEN)},
			"invitation.fr.tmpl": {Data: []byte(strings.Replace(invitationFR, "{{define \"text\"}}", "{{define \"text\"}}{{with .Brand.SupportURL}}{{$.Brand.SupportAdress}}{{end}}", 1))}},
			`invitation.fr.tmpl:2:`},
		{"unknown function", fstest.MapFS{"invitation.en.tmpl": {Data: []byte(invitationEN)},
			"invitation.fr.tmpl": {Data: []byte(strings.Replace(invitationFR, "{{.Link}}{{end}}", "{{upper .Link}}{{end}}", 1))}},
			`invitation.fr.tmpl:2: function "upper" not defined`},
		{"an invitation without its link", fstest.MapFS{"invitation.en.tmpl": {Data: []byte(invitationEN)},
			"invitation.fr.tmpl": {Data: []byte(strings.Replace(invitationFR, "acceptez ici : {{.Link}}", "acceptez ici", 1))}},
			"invitation.fr.tmpl: the email must show its link"},
		{"a reset without its link", fstest.MapFS{"password_reset.en.tmpl": {Data: []byte(noLink)}, "password_reset.fr.tmpl": {Data: []byte(noLink)}},
			"password_reset.fr.tmpl: the email must show its link"},
		{"missing block", fstest.MapFS{"invitation.en.tmpl": {Data: []byte(invitationEN)},
			"invitation.fr.tmpl": {Data: []byte(`{{define "subject"}}x{{end}}{{define "text"}}{{.Link}}{{end}}`)}},
			`invitation.fr.tmpl: no "html" block`},
	} {
		_, err := NewTemplates(u, c.files)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v; want one line with %q", c.what, err, c.want)
		}
	}
}
