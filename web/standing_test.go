package web_test

import (
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/team"
)

// TestAccountPages_SuspendedAndRemovedMembersAreToldWhyOthersGetNotFound: a
// suspended member who opens any of the account's pages (an old bookmark
// too) is told their access is suspended and whom to ask, with status 403;
// a removed member is told they no longer have access, with links to their
// other accounts; someone who never was a member gets the plain 404 that
// an account that does not exist gets, naming nothing.
func TestAccountPages_SuspendedAndRemovedMembersAreToldWhyOthersGetNotFound(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpNamed(t, env, "ada@a.example", "Ada", "Lovelace", "Analytical Engines")
	zoe := env.AddMember(t, o.account, "zoe@a.example", "manager", equipe.MemberActive)
	if _, err := env.App.Team.Suspend(t.Context(), o.actor(), o.account, zoe.User.ID); err != nil {
		t.Fatal(err)
	}
	lea := signUpNamed(t, env, "lea@b.example", "Léa", "Martin", "Boulangerie Martin")
	leaID := o.added(t, team.NewMember{Email: "lea@b.example", FirstName: "Léa", LastName: "Martin"})
	if err := env.App.Team.RemoveMember(t.Context(), o.actor(), o.account, leaID); err != nil {
		t.Fatal(err)
	}
	outsider := signUpNamed(t, env, "eve@c.example", "Eve", "Dehors", "Ailleurs")

	zc := as(env, zoe)
	get(t, zc, env.URL+"/login?lang=fr")
	for _, path := range []string{"/members", "/settings", "/members/" + leaID.String() + "/edit", "/no-such-page"} {
		p := get(t, zc, o.url(path))
		if p.Status != 403 {
			t.Fatalf("suspended, %s: %d %s", path, p.Status, text(p.Body))

		}
		wantIn(t, p, "<h1>Accès suspendu</h1>", "Votre accès à Analytical Engines est suspendu.",
			`Ada Lovelace · <a href="mailto:ada@a.example">ada@a.example</a>`)
	}
	english(t, env, zc)
	wantIn(t, get(t, zc, o.url("/members")), "Your access to Analytical Engines is suspended.", "ada@a.example")

	p := get(t, lea.c, o.url("/members"))
	if p.Status != 403 {
		t.Fatalf("removed: %d %s", p.Status, text(p.Body))
	}
	wantIn(t, p, "Vous n&#39;avez plus accès à Analytical Engines.", `<a href="`+lea.path("/members")+`">Boulangerie Martin</a>`)
	wantNotIn(t, p, "ada@a.example")
	english(t, env, lea.c)
	wantIn(t, get(t, lea.c, o.url("/audit")), "You no longer have access to Analytical Engines.")

	// Never a member: the same 404 as an account that does not exist.
	for _, u := range []string{o.url("/members"), o.url("/settings"), env.URL + "/accounts/" + equipe.NewID().String() + "/members"} {
		p := get(t, outsider.c, u)
		if p.Status != 404 {
			t.Fatalf("never a member, %s: %d", u, p.Status)
		}
		wantNotIn(t, p, "Analytical Engines", "ada@a.example", "suspendu", "plus accès")
	}
}
