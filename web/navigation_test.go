package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/team"
)

var (
	subnav    = regexp.MustCompile(`(?s)<nav class="subnav"[^>]*>(.*?)</nav>`)
	navLink   = regexp.MustCompile(`<a href="([^"]+)"`)
	homeEntry = regexp.MustCompile(`<a class="account-name" href="([^"]+)">([^<]+)</a>`)
)

// tabs returns the paths the page's account navigation links to.
func tabs(p page) []string {
	m := subnav.FindStringSubmatch(p.Body)
	if m == nil {
		return nil
	}
	var out []string
	for _, l := range navLink.FindAllStringSubmatch(m[1], -1) {
		out = append(out, l[1])
	}
	return out
}

// entryOf returns where the home page's link to the account named name
// leads.
func entryOf(t *testing.T, c *http.Client, env *apptest.Env, name string) string {
	t.Helper()
	for _, m := range homeEntry.FindAllStringSubmatch(get(t, c, env.URL+"/").Body, -1) {
		if m[2] == name {
			return m[1]
		}
	}
	t.Fatalf("the home page has no link to %s", name)
	return ""
}

// TestAccountNavigation_OffersOnlyThePagesTheReaderMayOpen: whatever their
// role and their own overrides, a member's home link, account switcher and
// account navigation lead only to pages that open for them; one who may
// open none is shown their own access.
func TestAccountNavigation_OffersOnlyThePagesTheReaderMayOpen(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpNamed(t, env, "ada@example.com", "Ada", "Lovelace", "Analytical Engines")
	ctx := t.Context()
	for _, r := range []team.RoleInput{
		{Key: "billing", LabelFR: "Facturation", LabelEN: "Billing", Grants: []equipe.Grant{{Permission: "billing.access"}}},
		{Key: "auditor", LabelFR: "Auditeur", LabelEN: "Auditor", Grants: []equipe.Grant{{Permission: "audit.view"}}},
	} {
		if _, err := env.App.Team.CreateRole(ctx, o.actor(), o.account, r); err != nil {
			t.Fatal(err)
		}
	}
	member := func(email, role string, ovs ...equipe.Override) *http.Client {
		m := env.AddMember(t, o.account, email, role, equipe.MemberActive)
		if len(ovs) > 0 {
			if _, err := env.App.Team.ChangeMember(ctx, o.actor(), o.account, m.User.ID, team.MemberChange{Overrides: &ovs}); err != nil {
				t.Fatal(err)
			}
		}
		return as(env, m)
	}
	all := []string{"/members", "/clients", "/contacts", "/resources", "/roles", "/api-keys", "/webhooks", "/audit", "/settings"}
	for _, c := range []struct {
		who   string
		c     *http.Client
		email string
		tabs  []string // the navigation's pages, in order; none: the reader's own access
	}{
		// The account has no clients: it is no firm, and has no Clients section.
		{"administrator", o.c, "ada@example.com", []string{"/members", "/contacts", "/resources", "/roles", "/api-keys", "/webhooks", "/audit", "/settings"}},
		{"manager", member("manon@example.com", "manager"), "manon@example.com", []string{"/members", "/contacts", "/resources", "/roles", "/audit"}},
		{"collaborator", member("colin@example.com", "collaborator"), "colin@example.com", []string{"/members", "/contacts", "/resources", "/roles"}},
		{"auditor", member("odile@example.com", "auditor"), "odile@example.com", []string{"/audit"}},
		{"billing, with keys of their own", member("kim@example.com", "billing", equipe.Override{Permission: "api_keys.manage", Allow: true}),
			"kim@example.com", []string{"/api-keys"}},
		{"manager without the audit log", member("mona@example.com", "manager", equipe.Override{Permission: "audit.view"}),
			"mona@example.com", []string{"/members", "/contacts", "/resources", "/roles"}},
		{"billing", member("bill@example.com", "billing"), "bill@example.com", nil},
	} {
		want := make([]string, len(c.tabs))
		for i, p := range c.tabs {
			want[i] = o.path(p)
		}
		entry := o.path("/members/" + mustUserID(t, env, c.email).String() + "/permissions")
		if len(want) > 0 {
			entry = want[0]
		}
		if got := entryOf(t, c.c, env, "Analytical Engines"); got != entry {
			t.Errorf("%s: the home page leads to %s, want %s", c.who, got, entry)
		}
		p := post(t, c.c, env.URL+"/session/account", url.Values{"account": {o.account.String()}})
		if p.Status != 303 || p.Header.Get("Location") != entry {
			t.Errorf("%s: the switcher leads to %d %s, want %s", c.who, p.Status, p.Header.Get("Location"), entry)
		}
		p = get(t, c.c, env.URL+entry)
		if p.Status != 200 {
			t.Errorf("%s: the entry %s answers %d", c.who, entry, p.Status)
		}
		if got := tabs(p); !slices.Equal(got, want) {
			t.Errorf("%s: the navigation offers %v, want %v", c.who, got, want)
		}
		// Every page offered opens; every other one is refused (the
		// Clients page, empty for them, is offered when there are some).
		for _, path := range all {
			if path == "/clients" {
				continue
			}
			status := get(t, c.c, o.url(path)).Status
			if offered := slices.Contains(want, o.path(path)); offered != (status == 200) {
				t.Errorf("%s: %s offered %v, answers %d", c.who, path, offered, status)
			}
		}
	}

	// One who may open none of the pages sees their own role and
	// permissions, in both languages.
	billing := env.AddMember(t, o.account, "bella@example.com", "billing", equipe.MemberActive)
	bc := as(env, billing)
	own := o.url("/members/" + billing.User.ID.String() + "/permissions")
	get(t, bc, env.URL+"/login?lang=fr")
	p := get(t, bc, own)
	wantIn(t, p, "<h1>Vos autorisations dans ce compte</h1>", "<dd>Facturation</dd>", "<th scope=\"row\">Accéder à la facturation</th>",
		"Rôle « Facturation »")
	if strings.Contains(p.Body, `class="subnav"`) || strings.Contains(p.Body, o.path("/roles")) {
		t.Error("the page of one's own access offers pages that do not open")
	}
	english(t, env, bc)
	wantIn(t, get(t, bc, own), "<h1>Your permissions in this account</h1>", "<dd>Billing</dd>", "Access billing")
	// Another member's access stays out of their reach.
	if p := get(t, bc, o.url("/members/"+o.user.ID.String()+"/permissions")); p.Status != 403 {
		t.Errorf("another member's permissions: %d", p.Status)
	}
}
