package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/team"
)

// TestSignUpForm_AnAddressAddedByAnAccountConfirmsBeforeAnythingIsCreated:
// the sign-up form with the address of an identity an account made says to
// open the emailed link; the link's page asks before it creates anything;
// its button creates the account and logs the person in, and the account
// that had added them is an invitation on the home page.
func TestSignUpForm_AnAddressAddedByAnAccountConfirmsBeforeAnythingIsCreated(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	if _, err := env.App.Team.AddMember(t.Context(), o.actor(), o.account, team.NewMember{Email: "camille@b.example",
		FirstName: "Made", LastName: "Up", Role: "manager"}); err != nil {
		t.Fatal(err)
	}
	c := env.Client()
	f := signupForm("camille@b.example")
	f.Set("first_name", "Camille")
	f.Set("last_name", "Durand")
	f.Set("account_name", "Durand Conseil")
	p := post(t, c, env.URL+"/signup", f)
	if p.Status != 202 || !strings.Contains(p.Body, "camille@b.example") || strings.Contains(p.Body, "Made") {
		t.Fatalf("sign-up: %d %s", p.Status, text(p.Body))
	}
	link := apptest.Link(t, env.Mail(t, "camille@b.example", "signup_confirm"), "/signup/confirm/")
	// Opening the link (a mail scanner would) creates nothing.
	for range 2 {
		p = get(t, c, link)
		if p.Status != 200 || !strings.Contains(p.Body, "Durand Conseil") || !strings.Contains(p.Body, `<form method="post">`) {
			t.Fatalf("the link's page: %d %s", p.Status, text(p.Body))
		}
	}
	if u, _ := env.App.DB.UserByEmailKey(t.Context(), "camille@b.example"); u.PasswordHash != "" {
		t.Fatal("opening the link took the identity over")
	}
	p = post(t, c, link, url.Values{})
	if p.Status != 303 || p.Header.Get("Location") != "/" {
		t.Fatalf("confirm: %d %s", p.Status, text(p.Body))
	}
	if p := post(t, c, env.URL+"/consent", url.Values{"version": {"2026-11"}, "next": {"/"}, "accept": {"yes"}}); p.Status != 303 {
		t.Fatalf("consent: %d", p.Status)
	}
	home := get(t, c, env.URL+"/")
	if !strings.Contains(home.Body, "Durand Conseil") || !strings.Contains(text(home.Body), "Analytical Engines") {
		t.Fatalf("home: %s", text(home.Body))
	}
	m, err := env.App.DB.Member(t.Context(), o.account, mustUserID(t, env, "camille@b.example"))
	if err != nil || m.Status != equipe.MemberCreated || !m.JoinedAt.IsZero() {
		t.Fatalf("the account that added them: %+v %v", m, err)
	}
	// The link is spent.
	if p := post(t, env.Client(), link, url.Values{}); p.Status != 410 {
		t.Fatalf("the link again: %d", p.Status)
	}
}

// TestSecurityPage_ShowsInstanceAdministratorsTheRefusalsAcrossAccounts.
func TestSecurityPage_ShowsInstanceAdministratorsTheRefusalsAcrossAccounts(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	a := signUpOwner(t, env, "ada@a.example")
	b := signUpOwner(t, env, "bob@b.example")
	if p := get(t, a.c, b.url("/members")); p.Status != 404 {
		t.Fatalf("another account's team: %d", p.Status)
	}
	if p := get(t, a.c, env.URL+"/admin/security"); p.Status != 404 {
		t.Fatalf("an account's administrator on the security log: %d", p.Status)
	}
	admin := env.AddMember(t, a.account, "support@vendor.example", "guest", equipe.MemberActive)
	if err := env.App.DB.Write(t.Context(), func(tx *store.Tx) error { return tx.SetInstanceAdmin(t.Context(), admin.User.ID, true) }); err != nil {
		t.Fatal(err)
	}
	p := get(t, as(env, admin), env.URL+"/admin/security")
	if p.Status != 200 || !strings.Contains(p.Body, a.user.ID.String()) || !strings.Contains(p.Body, b.account.String()) ||
		!strings.Contains(p.Body, "Account out of reach") {
		t.Fatalf("the security log: %d %s", p.Status, text(p.Body))
	}
}
