package team_test

import (
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/team"
)

// keyRole returns the role the account's key id holds, as the key list
// shows it.
func (s *scene) keyRole(t *testing.T, id equipe.ID) string {
	t.Helper()
	keys, _, err := s.s.Keys(ctx, s.admin(), &s.account, equipe.Page{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.ID == id {
			return k.Role
		}
	}
	t.Fatalf("key %s not listed", id)
	return ""
}

// A key left with a deleted role would be listed active with no rights,
// and would take the rights of the next role created under the same key.
func TestDeleteRole_KeysHoldingTheRoleMoveToTheReplacement(t *testing.T) {
	viewer := team.RoleInput{Key: "viewer", LabelEN: "Viewer", Grants: []equipe.Grant{{Permission: "members.view"}}}
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		if _, err := s.s.CreateRole(ctx, s.admin(), s.account, viewer); err != nil {
			t.Fatal(err)
		}
		k := s.key("reader", "viewer")
		revoked := s.key("old reader", "viewer")
		if err := s.s.RevokeKey(ctx, s.admin(), &s.account, revoked.Key.ID); err != nil {
			t.Fatal(err)
		}

		_, ok := s.done(t, "role.in_use", func() error { return s.s.DeleteRole(ctx, s.admin(), s.account, "viewer", "") })
		if ok {
			t.Fatal("a role a key holds was deleted without a replacement")
		}
		before, _ := s.done(t, "", func() error { return s.s.DeleteRole(ctx, s.admin(), s.account, "viewer", "guest") })
		e := s.wrote(t, before, event.RoleDeleted.Type)[0]
		wantStates(t, e, event.Role{LabelEN: "Viewer", Grants: viewer.Grants},
			event.RoleRemoval{Replacement: "guest", KeysMoved: 1})
		if r := s.keyRole(t, k.Key.ID); r != "guest" {
			t.Errorf("the key holds %q after its role was deleted, want the replacement guest", r)
		}
		if r := s.keyRole(t, revoked.Key.ID); r != "viewer" {
			t.Errorf("a revoked key's role was rewritten to %q", r)
		}

		wider := viewer
		wider.Grants = append(wider.Grants, equipe.Grant{Permission: "billing.access"})
		if _, err := s.s.CreateRole(ctx, s.admin(), s.account, wider); err != nil {
			t.Fatal(err)
		}
		if r := s.keyRole(t, k.Key.ID); r != "guest" {
			t.Errorf("the key picked up the new role %q", r)
		}
	})
}

// roleManager makes name a member whose role grants roles.manage and whose
// override takes members.view away, and returns them as an actor: they may
// make roles but not read the account's list of them.
func (s *scene) roleManager(t *testing.T, name string) team.Actor {
	t.Helper()
	rm := team.RoleInput{Key: "rm", LabelEN: "Role manager",
		Grants: []equipe.Grant{{Permission: "roles.manage"}, {Permission: "members.view"}}}
	if _, err := s.s.CreateRole(ctx, s.admin(), s.account, rm); err != nil {
		t.Fatal(err)
	}
	u := s.add(name, "rm", equipe.MemberActive)
	deny := []equipe.Override{{Permission: "members.view", Allow: false}}
	if _, err := s.s.ChangeMember(ctx, s.admin(), s.account, u.ID, team.MemberChange{Overrides: &deny}); err != nil {
		t.Fatal(err)
	}
	return s.actor(name)
}

// Reading the role back took members.view, which its creator may lack:
// the role was written, then the creation refused.
func TestCreateRole_AnswersWithTheRoleToACreatorWhoMayNotListRoles(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		carl := s.roleManager(t, "carl")
		in := team.RoleInput{LabelEN: "Viewer", Restricted: true, Grants: []equipe.Grant{{Permission: "roles.manage"}}}
		var ro team.RoleView
		before, _ := s.done(t, "", func() (err error) {
			ro, err = s.s.CreateRole(ctx, carl, s.account, in)
			return err
		})
		s.wrote(t, before, event.RoleCreated.Type)
		if ro.Role.Key != "viewer" || ro.Role.Label.EN != "Viewer" || !ro.Role.Restricted || len(ro.Role.Grants) != 1 {
			t.Errorf("answered %+v", ro.Role)
		}
		if !ro.Actions.May(team.RoleEdit) {
			t.Errorf("the creator may not edit the role they made: %v", ro.Actions.Get(team.RoleEdit).Code())
		}
	})
}

// roleManaging makes name a manager to whom an override gives roles.manage.
func (s *scene) roleManaging(t *testing.T, name string) {
	t.Helper()
	u := s.add(name, "manager", equipe.MemberActive)
	allow := []equipe.Override{{Permission: "roles.manage", Allow: true}}
	if _, err := s.s.ChangeMember(ctx, s.admin(), s.account, u.ID, team.MemberChange{Overrides: &allow}); err != nil {
		t.Fatal(err)
	}
}

// Editing a member who holds what the actor does not is refused
// (member.outranks); changing or deleting the role they hold changes them
// as surely, and is refused the same way.
func TestRoles_AManagerDoesNotChangeTheRoleOfAMemberWhoOutranksThem(t *testing.T) {
	y := team.RoleInput{Key: "y", LabelEN: "Y", Grants: []equipe.Grant{{Permission: "records.view", Scope: "owned"}}}
	tests := []struct {
		name string
		do   func(s *scene, by team.Actor) error
	}{
		{"the role is changed", func(s *scene, by team.Actor) error {
			in := y
			in.LabelEN = "Y2"
			_, err := s.s.UpdateRole(ctx, by, s.account, "y", in)
			return err
		}},
		{"the role is deleted", func(s *scene, by team.Actor) error {
			return s.s.DeleteRole(ctx, by, s.account, "y", "guest")
		}},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				s.roleManaging(t, "mia")
				if _, err := s.s.CreateRole(ctx, s.admin(), s.account, y); err != nil {
					t.Fatal(err)
				}
				s.add("gus", "y", equipe.MemberActive)
				carl := s.add("carl", "y", equipe.MemberActive)
				billing := []equipe.Override{{Permission: "billing.access", Allow: true}}
				if _, err := s.s.ChangeMember(ctx, s.admin(), s.account, carl.ID, team.MemberChange{Overrides: &billing}); err != nil {
					t.Fatal(err)
				}
				s.done(t, "member.outranks", func() error { return tt.do(s, s.actor("mia")) })

				// Once nobody holding the role outranks her, she may.
				none := []equipe.Override{}
				if _, err := s.s.ChangeMember(ctx, s.admin(), s.account, carl.ID, team.MemberChange{Overrides: &none}); err != nil {
					t.Fatal(err)
				}
				s.done(t, "", func() error { return tt.do(s, s.actor("mia")) })
			})
		}
	})
}

// The roles' actions say what changing or deleting each would answer: a
// manager whose role's holders outrank them is not offered what the submit
// refuses, a manager who outranks them is, and an administrator always is.
func TestRoles_ActionsAnswerAsTheSubmitDoes(t *testing.T) {
	y := team.RoleInput{Key: "y", LabelEN: "Y", Grants: []equipe.Grant{{Permission: "records.view", Scope: "owned"}}}
	z := team.RoleInput{Key: "z", LabelEN: "Z", Grants: []equipe.Grant{{Permission: "records.view", Scope: "owned"}}}
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		s.add("root", "admin", equipe.MemberActive)
		s.roleManaging(t, "mia")
		for _, in := range []team.RoleInput{y, z} {
			if _, err := s.s.CreateRole(ctx, s.admin(), s.account, in); err != nil {
				t.Fatal(err)
			}
		}
		// carl, who holds y, also holds billing.access, which mia does not.
		carl := s.add("carl", "y", equipe.MemberActive)
		billing := []equipe.Override{{Permission: "billing.access", Allow: true}}
		if _, err := s.s.ChangeMember(ctx, s.admin(), s.account, carl.ID, team.MemberChange{Overrides: &billing}); err != nil {
			t.Fatal(err)
		}
		s.add("gus", "z", equipe.MemberActive)
		noView := []equipe.Override{{Permission: "records.view", Allow: false}}
		if _, err := s.s.ChangeMember(ctx, s.admin(), s.account, s.add("zoe", "z", equipe.MemberActive).ID,
			team.MemberChange{Overrides: &noView}); err != nil {
			t.Fatal(err)
		}

		for _, tt := range []struct {
			actor string
			want  map[string]string // role → the refusal of edit and delete, "" when allowed
		}{
			{"admin", map[string]string{"y": "", "z": "", "manager": "role.builtin_readonly"}},
			{"root", map[string]string{"y": "", "z": ""}},
			{"mia", map[string]string{"y": "member.outranks", "z": "", "admin": "role.builtin_readonly"}},
		} {
			t.Run(tt.actor, func(t *testing.T) {
				by := s.actor(tt.actor)
				listed, err := s.s.Roles(ctx, by, s.account)
				if err != nil {
					t.Fatal(err)
				}
				counted, _, err := s.s.RolesCounted(ctx, by, s.account, equipe.Page{})
				if err != nil {
					t.Fatal(err)
				}
				for role, want := range tt.want {
					one, err := s.s.Role(ctx, by, s.account, role)
					if err != nil {
						t.Fatal(err)
					}
					for how, views := range map[string][]team.RoleView{"Roles": listed, "RolesCounted": counted, "Role": {one}} {
						for _, v := range views {
							if v.Role.Key != role {
								continue
							}
							for _, action := range []string{team.RoleEdit, team.RoleDelete} {
								if got := v.Actions.Get(action).Code(); got != want {
									t.Errorf("%s: %s of %s answers %q, want %q", how, action, role, got, want)
								}
							}
						}
					}
				}
				// The submit answers as the actions did.
				for _, role := range []string{"y", "z"} {
					in := map[string]team.RoleInput{"y": y, "z": z}[role]
					in.LabelEN += " " + tt.actor
					_, err := s.s.UpdateRole(ctx, by, s.account, role, in)
					if got, want := key(err), tt.want[role]; got != want {
						t.Errorf("changing %s answered %q, the actions %q", role, got, want)
					}
				}
			})
		}
	})
}

// A role's members and keys move to its replacement: a replacement the
// actor may not give them is refused on the field, and changes nothing;
// Granting says which the actor may give.
func TestDeleteRole_AReplacementTheActorMayNotGiveIsRefusedOnTheField(t *testing.T) {
	z := team.RoleInput{Key: "z", LabelEN: "Z", Grants: []equipe.Grant{{Permission: "records.view", Scope: "owned"}}}
	w := team.RoleInput{Key: "w", LabelEN: "W", Grants: []equipe.Grant{{Permission: "billing.access"}}}
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		s.roleManaging(t, "mia")
		for _, in := range []team.RoleInput{z, w} {
			if _, err := s.s.CreateRole(ctx, s.admin(), s.account, in); err != nil {
				t.Fatal(err)
			}
		}
		s.add("gus", "z", equipe.MemberActive)

		g, err := s.s.Granting(ctx, s.actor("mia"), s.account)
		if err != nil {
			t.Fatal(err)
		}
		given := map[string]string{}
		for _, r := range g.Roles {
			given[r.Role.Key] = r.Code()
		}
		if given["admin"] != "role.admin_only" || given["w"] != "role.beyond_own" || given["guest"] != "" || given["manager"] != "" {
			t.Errorf("mia may give %v", given)
		}
		for replacement, refusal := range map[string]string{
			"admin": "error.fields replacement=role.admin_only",
			"w":     "error.fields replacement=role.beyond_own",
			"nope":  "error.fields replacement=role.unknown",
		} {
			s.done(t, refusal, func() error { return s.s.DeleteRole(ctx, s.actor("mia"), s.account, "z", replacement) })
		}
		before, _ := s.done(t, "", func() error { return s.s.DeleteRole(ctx, s.actor("mia"), s.account, "z", "guest") })
		s.wrote(t, before, event.RoleDeleted.Type)
	})
}

// TestOverrides_ADenialWithAScopeIsRefusedForWhatItIs: an override that
// takes a permission away takes no scope; one given a scope is refused
// beside it as such (role.scope_on_denial), not as a scope the permission
// does not accept (which records.view accepts), on adding a member as on
// changing one, and nothing changes.
func TestOverrides_ADenialWithAScopeIsRefusedForWhatItIs(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		m := s.add("m", "collaborator", equipe.MemberActive)
		denial := []equipe.Override{{Permission: "records.view", Allow: false, Scope: "all"}}
		const want = "error.fields overrides.records.view=role.scope_on_denial"
		s.done(t, want, func() error {
			_, err := s.s.ChangeMember(ctx, s.admin(), s.account, m.ID, team.MemberChange{Overrides: &denial})
			return err
		})
		s.done(t, want, func() error {
			_, err := s.s.AddMember(ctx, s.admin(), s.account, team.NewMember{Email: s.email("n"), FirstName: "N",
				LastName: "X", Role: "collaborator", Resources: s.product(), Overrides: denial})
			return err
		})
		// A scope the permission does not accept is still said so.
		wrong := []equipe.Override{{Permission: "billing.access", Allow: true, Scope: "owned"}}
		s.done(t, "error.fields overrides.billing.access=role.scope_not_accepted", func() error {
			_, err := s.s.ChangeMember(ctx, s.admin(), s.account, m.ID, team.MemberChange{Overrides: &wrong})
			return err
		})
	})
}
