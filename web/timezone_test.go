package web_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/team"
)

// utcTime is a moment said in UTC the way the pages no longer say it: a
// time followed by "UTC" without an offset.
var utcTime = regexp.MustCompile(`\d{1,2}:\d{2}( [AP]M)? UTC\b`)

// TestPages_SayTimesInTheReadersTimeZone: an instance administrator who
// chose the time zone Asia/Kolkata reads the people of the instance, a
// person's page, the security log, the privacy policy's versions and an
// account's API keys with the times in that zone (its offset shown);
// an invitation's page says its deadline in the account's zone to someone
// not logged in.
func TestPages_SayTimesInTheReadersTimeZone(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	admin, err := env.App.Identity.CreateAdmin(t.Context(), identityAdmin())
	if err != nil {
		t.Fatal(err)
	}
	zone := "Asia/Kolkata"
	if _, err := env.App.Identity.UpdateProfile(t.Context(), admin.ID, identity.ProfileChange{TimeZone: &zone}, equipe.Origin{IP: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	// A refusal across accounts, for the security log.
	bob := signUpOwner(t, env, "bob@b.example")
	if p := get(t, o.c, bob.url("/members")); p.Status != 404 {
		t.Fatalf("another account's team: %d", p.Status)
	}
	c := env.Client()
	post(t, c, env.URL+"/login", url.Values{"email": {"support@vendor.example"}, "password": {apptest.TestPassword}})
	post(t, c, env.URL+"/consent", url.Values{"version": {"2026-11"}, "next": {"/"}, "accept": {"yes"}})
	confirmEmail(t, env, "ada@example.com")
	if p := post(t, o.c, o.url("/api-keys"), url.Values{"name": {"Export"}, "role": {"manager"}}); p.Status >= 400 {
		t.Fatalf("create a key: %d %s", p.Status, text(p.Body))
	}
	for _, path := range []string{"/admin/users", "/admin/users/" + o.user.ID.String(), "/admin/security",
		"/admin/privacy-policy", o.path("/api-keys")} {
		p := get(t, c, env.URL+path)
		if p.Status != 200 {
			t.Fatalf("%s: %d", path, p.Status)
		}
		if !strings.Contains(text(p.Body), "(UTC+05:30)") || utcTime.MatchString(text(p.Body)) {
			t.Errorf("%s does not say its times in the reader's zone: %s", path, text(p.Body))
		}
	}

	// An invitation's deadline, to someone not logged in: the account's zone.
	tokyo := "Asia/Tokyo"
	if _, err := env.App.Team.UpdateAccount(t.Context(), o.actor(), o.account, team.AccountChange{TimeZone: &tokyo}); err != nil {
		t.Fatal(err)
	}
	if p := post(t, o.c, o.url("/members/new"), memberPost("grace@example.com", "Grace", "Hopper", "collaborator")); p.Status >= 400 {
		t.Fatalf("invite: %d %s", p.Status, text(p.Body))
	}
	inv := get(t, env.Client(), apptest.Link(t, env.Mail(t, "grace@example.com", "invitation"), "/invitations/"))
	if inv.Status != 200 || !strings.Contains(text(inv.Body), "(UTC+09:00)") || utcTime.MatchString(text(inv.Body)) {
		t.Errorf("the invitation's page: %d %s", inv.Status, text(inv.Body))
	}
}
