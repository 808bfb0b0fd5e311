package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/team"
)

// wireNames are the identifiers programs depend on, which keep equipe's
// spelling in a branded instance too (docs/branding.md, "What keeps the
// name"): the session cookie's name, the problem types, the data export's
// format. They show in the API reference and the OpenAPI document, nowhere
// else. The API keys' prefix and the realm follow the brand.
var wireNames = []string{"__Host-equipe_session", "equipe_session", "urn:equipe:problem:", "equipe.user-export/1"}

// linkAttr finds the links and resources of a page: href and src.
var linkAttr = regexp.MustCompile(`(?:href|src)="([^"]*)"`)

// TestBrand_NothingACustomerReachesSaysEquipe crawls a branded instance as
// its customers meet it, in French and in English: every page and file a
// link leads to, from the sign-in pages for someone not logged in and from
// the home page for an account's owner and for a member with fewer
// permissions; the error pages (not found, forbidden, a link that no longer
// works); the API reference and the OpenAPI document; the OpenID Connect
// consent page; the data a person downloads; an API key as it is shown
// once and then listed; every email sent. Nothing says
// "equipe" (in any case), in the text, the markup, the stylesheets and
// scripts, or a downloaded file's name, but for the identifiers programs
// depend on (wireNames).
//
// The brand is configured at start in one instance, and saved by an
// instance administrator (the page's use case) on an instance started with
// the default brand in the other.
func TestBrand_NothingACustomerReachesSaysEquipe(t *testing.T) {
	t.Run("configured", func(t *testing.T) { crawlSaysNoEquipe(t, startBranded(t)) })
	t.Run("set on the brand page", func(t *testing.T) {
		// The sender's name is read at start (docs/branding.md).
		env := apptest.Start(t, "sqlite", apptest.Options{Configure: func(c *app.Config) {
			c.MailFrom = "Acme Cloud <no-reply@acme.test>"
		}})
		text := func(s string) *string { return &s }
		if _, err := env.App.Team.UpdateBrand(t.Context(), team.Actor{Operator: true}, team.BrandInput{
			Name: text("Acme Cloud"), Logo: []byte(acmeLogo), Favicon: []byte(acmeLogo), Primary: text("#0b6e4f"),
			Accent: text("#7a1fa2"), SupportEmail: text("help@acme.test"), SupportURL: text("https://acme.test/help"),
			TermsURL: text("https://acme.test/terms"), ImprintURL: text("https://acme.test/imprint"),
			Stylesheet: text(".brand img { max-height: 3rem; }\n"), KeyPrefix: text("acmecloud_")}); err != nil {
			t.Fatal(err)
		}
		crawlSaysNoEquipe(t, env)
	})
}

func crawlSaysNoEquipe(t *testing.T, env *apptest.Env) {
	o := signUpOwner(t, env, "ada@example.com")
	grace := env.AddMember(t, o.account, "grace@example.com", "collaborator", equipe.MemberActive)
	if _, err := env.App.Team.AddMember(t.Context(), o.actor(), o.account,
		team.NewMember{Email: "alan@example.com", Role: "collaborator", SendInvitation: true}); err != nil {
		t.Fatal(err)
	}
	// An application that signs people in with the instance.
	client, clientSecret, err := env.App.Team.CreateOIDCClient(t.Context(), team.Actor{Operator: true}, team.OIDCClientInput{
		Name: "Acme Books", RedirectURIs: []string{"https://books.acme.test/callback"}, Scopes: []string{"profile", "accounts"}})
	if err != nil {
		t.Fatal(err)
	}
	oc := oauth2.Config{ClientID: client.ID.String(), ClientSecret: clientSecret, RedirectURL: "https://books.acme.test/callback",
		Endpoint: oauth2.Endpoint{AuthURL: env.URL + "/oidc/authorize"}, Scopes: []string{"openid", "profile", "accounts"}}

	// says fails when s names equipe outside the identifiers programs
	// depend on.
	says := func(what, s string) {
		t.Helper()
		for _, id := range wireNames {
			s = strings.ReplaceAll(s, id, "")
		}
		if i := strings.Index(strings.ToLower(s), "equipe"); i >= 0 {
			t.Errorf("%s says equipe: …%s…", what, s[max(0, i-100):min(len(s), i+50)])
		}
	}

	pages := 0
	crawl := func(who string, c *http.Client, start ...string) {
		t.Helper()
		seen := map[string]bool{}
		queue := slices.Clone(start)
		for len(queue) > 0 {
			path := queue[0]
			queue = queue[1:]
			u, err := url.Parse(path)
			if err != nil {
				t.Fatalf("%s: %s: %v", who, path, err)
			}
			// One visit per path and set of query parameters: a sort
			// order or a filter's value adds no page of its own.
			q := u.Query()
			names := slices.Sorted(func(yield func(string) bool) {
				for k := range q {
					if !yield(k) {
						return
					}
				}
			})
			key := u.Path + "?" + strings.Join(names, "&")
			if seen[key] || q.Has("lang") || u.Path == "/logout" {
				continue
			}
			seen[key] = true
			p := get(t, c, env.URL+path)
			pages++
			what := who + " " + path + " (" + http.StatusText(p.Status) + ")"
			if p.Status >= 500 {
				t.Errorf("%s", what)
			}
			says(what, p.Body)
			says(what+" Content-Disposition", p.Header.Get("Content-Disposition"))
			if loc := p.Header.Get("Location"); strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") {
				queue = append(queue, loc)
			}
			if !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
				continue
			}
			for _, m := range linkAttr.FindAllStringSubmatch(p.Body, -1) {
				link := html.UnescapeString(m[1])
				if i := strings.IndexByte(link, '#'); i >= 0 {
					link = link[:i]
				}
				if strings.HasPrefix(link, "/") && !strings.HasPrefix(link, "//") {
					queue = append(queue, link)
				}
			}
		}
	}

	// An API key, shown once: it starts with the brand's prefix.
	confirmEmail(t, env, "ada@example.com")
	p := post(t, o.c, o.url("/api-keys"), url.Values{"name": {"CRM"}, "role": {"manager"}})
	secret := regexp.MustCompile(`acmecloud_[A-Za-z0-9_-]{43}`).FindString(p.Body)
	if p.Status != 201 || secret == "" {
		t.Fatalf("a key made on the API keys page: %d\n%s", p.Status, p.Body)
	}
	says("the API key shown once", p.Body)
	if p := get(t, o.c, o.url("/api-keys")); !strings.Contains(p.Body, "<code>"+secret[:len("acmecloud_")+6]+"…</code>") {
		t.Errorf("the API keys page does not list the key by its prefix:\n%s", p.Body)
	}

	owner, member := o.c, as(env, grace)
	for _, lang := range []string{"fr", "en"} {
		anonymous := env.Client()
		for _, c := range []*http.Client{anonymous, owner, member} {
			if p := get(t, c, env.URL+"/login?lang="+lang); p.Status != 303 {
				t.Fatalf("switch to %s: %d", lang, p.Status)
			}
		}
		crawl("someone not logged in, in "+lang, anonymous, "/login", "/signup", "/forgot-password",
			"/password-reset/nope", "/invitations/nope", "/signup/confirm/nope", "/no-such-page", "/docs/api", "/api/openapi.json")
		crawl("the owner, in "+lang, owner, "/", o.path("/members"), o.path("/api-keys"), "/me/data/export", "/no-such-page")
		crawl("a member, in "+lang, member, "/", o.path("/settings"), o.path("/audit"), "/me/data/export")

		// The consent an application asks for, on its own page.
		p := get(t, owner, oc.AuthCodeURL("state-"+lang, oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
			oauth2.SetAuthURLParam("nonce", "n")))
		for i := 0; i < 5 && p.Header.Get("Location") != ""; i++ {
			p = get(t, owner, env.URL+p.Header.Get("Location"))
		}
		if p.Status != 200 || !strings.Contains(p.Body, "Acme Books") || !strings.Contains(p.Body, `name="decision"`) {
			t.Fatalf("the consent page, in %s: %d\n%s", lang, p.Status, p.Body)
		}
		says("the OpenID Connect consent page, in "+lang, p.Body)
	}
	// The pages a member may not see are there, and so refused.
	if p := get(t, member, o.url("/settings")); p.Status != 403 {
		t.Errorf("a member's settings page: %d", p.Status)
	}
	if pages < 60 {
		t.Errorf("the crawl reached only %d pages", pages)
	}

	// Every email sent, as its recipient reads it.
	env.Mail(t, "alan@example.com", "invitation")
	mails := env.App.Mailbox.Messages()
	if len(mails) < 3 {
		t.Errorf("only %d emails sent", len(mails))
	}
	for _, m := range mails {
		says("the email "+m.Template+" to "+strings.Join(m.To, ", "), m.MessageID+"\n"+m.Subject+"\n"+m.Text+"\n"+m.HTML)
	}
}
