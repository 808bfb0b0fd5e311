package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// roleScene is an account whose owner made two custom roles, y and z, and
// gave mia, a manager, roles.manage: carl, who holds y, also holds
// billing.access, which mia does not; gus, who holds z, holds nothing more.
type roleScene struct {
	o   owner
	mia apptest.Member
}

func newRoleScene(t *testing.T, env *apptest.Env) roleScene {
	t.Helper()
	ctx := t.Context()
	o := signUpOwner(t, env, "ada@example.com")
	mia := env.AddMember(t, o.account, "mia@example.com", "manager", equipe.MemberActive)
	for _, in := range []team.RoleInput{
		{Key: "y", LabelFR: "Rôle Y", LabelEN: "Role Y", Grants: []equipe.Grant{{Permission: "records.view", Scope: "owned"}}},
		{Key: "z", LabelFR: "Rôle Z", LabelEN: "Role Z", Grants: []equipe.Grant{{Permission: "records.view", Scope: "owned"}}},
	} {
		if _, err := env.App.Team.CreateRole(ctx, o.actor(), o.account, in); err != nil {
			t.Fatal(err)
		}
	}
	carl := env.AddMember(t, o.account, "carl@example.com", "y", equipe.MemberActive)
	env.AddMember(t, o.account, "gus@example.com", "z", equipe.MemberActive)
	for user, ovs := range map[equipe.ID][]equipe.Override{
		mia.User.ID:  {{Permission: "roles.manage", Allow: true}},
		carl.User.ID: {{Permission: "billing.access", Allow: true}},
	} {
		if _, err := env.App.Team.ChangeMember(ctx, o.actor(), o.account, user, team.MemberChange{Overrides: &ovs}); err != nil {
			t.Fatal(err)
		}
	}
	return roleScene{o: o, mia: mia}
}

// The roles page offers to change or delete a role only to a reader the
// use cases let do it: not to a manager outranked by one of its holders.
func TestRolesPage_OffersEditAndDeleteOnlyWhereTheReaderMay(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			s := newRoleScene(t, env)
			o := s.o
			mia := as(env, s.mia)
			for _, tt := range []struct {
				who     string
				c       func() page
				offered map[string]bool
			}{
				{"the owner", func() page { return get(t, o.c, o.url("/roles")) }, map[string]bool{"y": true, "z": true}},
				{"mia", func() page { return get(t, mia, o.url("/roles")) }, map[string]bool{"y": false, "z": true}},
			} {
				p := tt.c()
				if p.Status != 200 {
					t.Fatalf("%s: roles page %d", tt.who, p.Status)
				}
				for role, want := range tt.offered {
					for _, action := range []string{"edit", "delete"} {
						link := `href="` + o.path("/roles/"+role+"/"+action) + `"`
						if got := strings.Contains(p.Body, link); got != want {
							t.Errorf("%s: the page offers %s of %s: %v, want %v", tt.who, action, role, got, want)
						}
					}
				}
			}
			// What is not offered is refused when asked for.
			for _, action := range []string{"edit", "delete"} {
				if p := get(t, mia, o.url("/roles/y/"+action)); p.Status != 403 {
					t.Errorf("mia asks for the %s form of y: %d", action, p.Status)
				}
			}
		})
	}
}

// The deletion form offers as replacements only the roles the reader may
// give the members moving over; one they may not give, sent anyway, is
// refused beside the field and deletes nothing.
func TestRoleDelete_OffersOnlyTheReplacementsTheReaderMayGive(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			s := newRoleScene(t, env)
			o := s.o
			w := team.RoleInput{Key: "w", LabelFR: "Rôle W", LabelEN: "Role W", Grants: []equipe.Grant{{Permission: "billing.access"}}}
			if _, err := env.App.Team.CreateRole(t.Context(), o.actor(), o.account, w); err != nil {
				t.Fatal(err)
			}
			mia := as(env, s.mia)
			option := func(key string) string { return `<option value="` + key + `"` }
			for _, tt := range []struct {
				who      string
				p        page
				offered  []string
				withheld []string
			}{
				{"the owner", get(t, o.c, o.url("/roles/z/delete")), []string{"admin", "w", "guest", "y"}, []string{"z"}},
				{"mia", get(t, mia, o.url("/roles/z/delete")), []string{"guest", "y"}, []string{"admin", "w", "z"}},
			} {
				if tt.p.Status != 200 {
					t.Fatalf("%s: the deletion form: %d", tt.who, tt.p.Status)
				}
				for _, k := range tt.offered {
					if !strings.Contains(tt.p.Body, option(k)) {
						t.Errorf("%s: %s is not offered", tt.who, k)
					}
				}
				for _, k := range tt.withheld {
					if strings.Contains(tt.p.Body, option(k)) {
						t.Errorf("%s: %s is offered", tt.who, k)
					}
				}
			}
			english(t, env, mia)
			p := post(t, mia, o.url("/roles/z/delete"), url.Values{"replacement": {"w"}})
			if p.Status != 422 || !strings.Contains(p.Body, `id="e-replacement"`) {
				t.Fatalf("mia deletes z for w: %d", p.Status)
			}
			wantIn(t, p, "You cannot give rights you do not hold: Access billing.")
			if rs, err := env.App.Team.Roles(t.Context(), o.actor(), o.account); err != nil || len(rs) != 7 {
				t.Errorf("after the refusal, %d roles (%v)", len(rs), err)
			}
		})
	}
}

// A role deleted and another made later under the same key: the events of
// the first name it as it was named then, not by the second's name.
func TestAuditPage_NamesAPastRoleByItsNameAtTheTime(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			o := signUpOwner(t, env, "ada@example.com")
			pilot := func(fr, en string) team.RoleInput {
				return team.RoleInput{Key: "pilot", LabelFR: fr, LabelEN: en, Grants: []equipe.Grant{{Permission: "records.view", Scope: "all"}}}
			}
			if _, err := env.App.Team.CreateRole(t.Context(), o.actor(), o.account, pilot("Pilote", "Pilot")); err != nil {
				t.Fatal(err)
			}
			o.added(t, team.NewMember{Email: "grace@example.com", FirstName: "Grace", LastName: "Hopper", Role: "pilot"})
			if err := env.App.Team.DeleteRole(t.Context(), o.actor(), o.account, "pilot", "guest"); err != nil {
				t.Fatal(err)
			}
			if _, err := env.App.Team.CreateRole(t.Context(), o.actor(), o.account, pilot("Copilote", "Copilot")); err != nil {
				t.Fatal(err)
			}
			rows := auditRows(t, get(t, o.c, o.url("/audit")))
			auditRow(t, rows, "Rôle créé", "Copilote")
			auditRow(t, rows, "Rôle supprimé", "Pilote", "Rôle de remplacement : Invité")
			auditRow(t, rows, "Membre ajouté", "Grace Hopper", "Rôle : Pilote")
			named := 0
			for _, r := range rows {
				if strings.Contains(r, "Copilote") {
					named++
				}
			}
			if got := named; got != 1 {
				t.Errorf("the new role is named in %d events, want its creation alone:\n%s", got, strings.Join(rows, "\n"))
			}
		})
	}
}
