package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/team"
)

// Making a role takes roles.manage alone; the list of roles takes
// members.view as well: whoever may not read it is not sent to a page
// that refuses them.
func TestRoleForm_ACreatorWhoMayNotListRolesLandsWhereTheyMayGo(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	rm := team.RoleInput{Key: "rm", LabelEN: "Role manager",
		Grants: []equipe.Grant{{Permission: "roles.manage"}, {Permission: "members.view"}}}
	if _, err := env.App.Team.CreateRole(t.Context(), o.actor(), o.account, rm); err != nil {
		t.Fatal(err)
	}
	carl := env.AddMember(t, o.account, "carl@example.com", "rm", equipe.MemberActive)
	deny := []equipe.Override{{Permission: "members.view", Allow: false}}
	if _, err := env.App.Team.ChangeMember(t.Context(), o.actor(), o.account, carl.User.ID, team.MemberChange{Overrides: &deny}); err != nil {
		t.Fatal(err)
	}
	c := env.Client()
	post(t, c, env.URL+"/login", url.Values{"email": {"carl@example.com"}, "password": {apptest.TestPassword}})
	post(t, c, env.URL+"/consent", url.Values{"version": {"2026-11"}, "next": {"/"}, "accept": {"yes"}})

	p := post(t, c, o.url("/roles/new"), rolePost("viewer", "Lecteur", "Viewer", map[string]string{"roles.manage": ""}, "restricted", "yes"))
	to := p.Header.Get("Location")
	if p.Status != 303 || strings.Contains(to, "/roles") {
		t.Fatalf("create: %d to %q", p.Status, to)
	}
	if p := get(t, c, env.URL+to); p.Status != 200 {
		t.Fatalf("%s after creating a role: %d", to, p.Status)
	}
	if _, err := env.App.Team.Role(t.Context(), o.actor(), o.account, "viewer"); err != nil {
		t.Fatal(err)
	}
}
