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
