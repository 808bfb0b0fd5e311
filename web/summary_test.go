package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe/app/apptest"
)

// rawPost posts a form and returns the page as sent, non-breaking spaces
// kept.
func rawPost(t *testing.T, c *http.Client, u string, form url.Values) (int, string) {
	t.Helper()
	res, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestFormSummary_NamesEachFieldWithItsProblemAndLinksToIt: the summary at
// the top of a refused form names each field, says its problem and links to
// the field, in each language's typography (a non-breaking space before the
// colon in French).
func TestFormSummary_NamesEachFieldWithItsProblemAndLinksToIt(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	for _, tc := range []struct {
		lang  string
		wants []string
	}{
		{"fr", []string{
			`<li><a href="#f-first_name">Prénom` + "\u00a0" + `: ce champ est obligatoire.</a></li>`,
			`<li><a href="#f-email">Adresse e-mail` + "\u00a0" + `: cette adresse e-mail n&#39;est pas valide.`,
			`<li><a href="#f-password">Mot de passe` + "\u00a0" + `: le mot de passe doit compter au moins 12 caractères.</a></li>`,
		}},
		{"en", []string{
			`<li><a href="#f-first_name">First name: this field is required.</a></li>`,
			`<li><a href="#f-email">Email address: `,
			`<li><a href="#f-password">Password: `,
		}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			c := env.Client()
			get(t, c, env.URL+"/signup?lang="+tc.lang)
			f := signupForm("not-an-email")
			f.Set("first_name", " ")
			f.Set("password", "short")
			status, body := rawPost(t, c, env.URL+"/signup", f)
			if status != 422 {
				t.Fatalf("status %d", status)
			}
			for _, want := range tc.wants {
				if !strings.Contains(body, want) {
					t.Errorf("the summary lacks %s", want)
				}
			}
			// The links go to fields the page has, in the page's order.
			first, email := strings.Index(body, `href="#f-first_name"`), strings.Index(body, `href="#f-email"`)
			if first < 0 || email < first || !strings.Contains(body, `id="f-first_name"`) || !strings.Contains(body, `id="f-email"`) {
				t.Errorf("summary links out of order or to no field")
			}
		})
	}
}

// TestFormSummary_AccountFormsNameTheirOwnFields: forms whose fields have
// names of their own (the member form's login email and role, the role
// form's labels) name them so in the summary.
func TestFormSummary_AccountFormsNameTheirOwnFields(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	p := post(t, o.c, o.url("/members/new"), memberPost("not-an-email", "Colin", "", ""))
	if p.Status != 422 {
		t.Fatalf("member form: %d", p.Status)
	}
	wantIn(t, p, `<li><a href="#f-email">Adresse e-mail de connexion : `, `<li><a href="#f-role">Rôle : `)

	english(t, env, o.c)
	p = post(t, o.c, o.url("/settings"), url.Values{"name": {""}, "locale": {"fr"}, "invitation_ttl": {"7"}, "invitation_ttl_unit": {"days"}})
	if p.Status != 422 {
		t.Fatalf("settings: %d", p.Status)
	}
	wantIn(t, p, `<li><a href="#f-name">Account name: `)
}
