package web_test

import (
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
)

// TestAccountNavigation_TheClientsTabIsAFirmsOnly: a firm (an account with
// client accounts) offers its Clients section to its administrators and to
// the staff assigned to some of its clients, not to its other members; an
// account without clients offers it to nobody, and its settings lead its
// administrators to create a first client instead; a client account never
// offers it.
func TestAccountNavigation_TheClientsTabIsAFirmsOnly(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	f := newFirm(t, env)
	clientsTab := func(account equipe.ID) string { return `href="/accounts/` + account.String() + `/clients"` }
	guest := as(env, env.AddMember(t, f.account, "gus@cabinet.example", "guest", equipe.MemberActive))

	for _, c := range []struct {
		who  string
		page page
		want bool
	}{
		{"the firm's administrator", get(t, f.c, f.url("/members")), true},
		{"staff assigned to a client", get(t, as(env, f.staff[0]), f.url("/members")), true},
		{"a member of the firm assigned to none", get(t, guest, f.url("/members")), false},
	} {
		if c.page.Status != 200 {
			t.Fatalf("%s: %d", c.who, c.page.Status)
		}
		if got := strings.Contains(c.page.Body, clientsTab(f.account)); got != c.want {
			t.Errorf("%s: Clients tab %v, want %v", c.who, got, c.want)
		}
	}
	if p := get(t, f.c, f.clientURL(0, "/members")); strings.Contains(p.Body, clientsTab(f.clients[0])) {
		t.Error("a client account offers a Clients section")
	}
	wantNotIn(t, get(t, f.c, f.url("/settings")), "Créer un compte client")

	// A business with no clients: no Clients tab; its settings offer to
	// create the first, after which the tab appears.
	o := signUpNamed(t, env, "ada@a.example", "Ada", "Lovelace", "Analytical Engines")
	p := get(t, o.c, o.url("/members"))
	wantNotIn(t, p, clientsTab(o.account))
	p = get(t, o.c, o.url("/settings"))
	wantIn(t, p, `<a class="button" href="`+o.path("/clients/new")+`">Créer un compte client</a>`)
	createClient(t, o, "Premier client")
	wantIn(t, get(t, o.c, o.url("/members")), clientsTab(o.account))
	wantNotIn(t, get(t, o.c, o.url("/settings")), "Créer un compte client")
}
