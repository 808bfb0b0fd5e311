package team_test

import (
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

func TestMembers_ListsWhoHoldsWhichRoleToThoseWhoMayViewMembers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.add("zoe", "admin", equipe.MemberActive)
		w.add("adam", "collaborator", equipe.MemberInvited)
		w.add("mia", "manager", equipe.MemberSuspended)
		if _, err := w.s.CreateRole(ctx, w.actor("zoe"), w.account, team.RoleInput{Key: "kiosk", LabelFR: "Borne", LabelEN: "Kiosk",
			Grants: []equipe.Grant{{Permission: "records.view", Scope: "owned"}}}); err != nil {
			t.Fatal(err)
		}
		w.add("kim", "kiosk", equipe.MemberActive)

		ms, err := w.s.Members(ctx, w.actor("zoe"), w.account)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range ms {
			got = append(got, m.Name()+" "+m.Email+" "+m.Role+" "+string(m.Status))
		}
		want := []string{"adam X adam@example.com collaborator invited", "kim X kim@example.com kiosk active",
			"mia X mia@example.com manager suspended", "zoe X zoe@example.com admin active"}
		if len(got) != len(want) {
			t.Fatalf("members %q", got)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("member %d: %q, want %q", i, got[i], want[i])
			}
		}
		if _, err := w.s.Members(ctx, w.actor("kim"), w.account); code(err) != "forbidden access.permission_required" {
			t.Errorf("a member who may not view members: %s", code(err))
		}
		if _, err := w.s.Members(ctx, w.actor("adam"), w.account); code(err) != "not_found error.not_found" {
			t.Errorf("a member who has not joined yet: %s", code(err))
		}
		other := newWorld(t, db)
		other.add("eve", "admin", equipe.MemberActive)
		if _, err := w.s.Members(ctx, other.actor("eve"), w.account); code(err) != "not_found error.not_found" {
			t.Errorf("another account's administrator: %s", code(err))
		}
	})
}

func TestMemberAccess_SaysWhoTheMemberIsWhatTheyMayDoAndWhere(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.add("admin", "admin", equipe.MemberActive)
		w.add("collab", "collaborator", equipe.MemberActive)
		w.add("gone", "manager", equipe.MemberSuspended)
		res := []equipe.ID{w.res[0].ID, w.res[2].ID}
		ovs := []equipe.Override{{Permission: "records.export", Allow: true}}
		if _, err := w.s.ChangeMember(ctx, w.actor("admin"), w.account, w.users["collab"].ID,
			team.MemberChange{Resources: &res, Overrides: &ovs}); err != nil {
			t.Fatal(err)
		}

		ma, err := w.s.MemberAccess(ctx, w.actor("admin"), w.account, w.users["collab"].ID)
		if err != nil {
			t.Fatal(err)
		}
		if ma.Person.Name() != "collab X" || ma.Person.Status != equipe.MemberActive || ma.Role.Label.FR != "Collaborateur" ||
			ma.ViaFirm || ma.Firm != nil || ma.Blocked != "" || !ma.Member.LimitedToAssigned() {
			t.Fatalf("access %+v", ma)
		}
		if len(ma.Assigned) != 2 || ma.Assigned[0].Name != "location 0" || ma.Assigned[1].Name != "product 2" {
			t.Errorf("assigned %+v", ma.Assigned)
		}
		sources := map[string]string{}
		for _, p := range ma.Permissions {
			sources[p.Permission] = p.Source
		}
		if sources["records.view"] != access.SourceRole || sources["records.export"] != access.SourceOverride || len(sources) != 4 {
			t.Errorf("permissions %v", sources)
		}

		ma, err = w.s.MemberAccess(ctx, w.actor("collab"), w.account, w.users["gone"].ID)
		if err != nil || ma.Blocked != access.DeniedMemberSuspended || ma.Role.Key != "manager" || len(ma.Assigned) != 1 {
			t.Fatalf("suspended member: %+v %v", ma, err)
		}
		if _, err := w.s.MemberAccess(ctx, w.actor("admin"), w.account, equipe.NewID()); code(err) != "not_found error.not_found" {
			t.Errorf("a user of nowhere: %s", code(err))
		}
		other := newWorld(t, db)
		other.add("eve", "admin", equipe.MemberActive)
		if _, err := w.s.MemberAccess(ctx, other.actor("eve"), w.account, w.users["collab"].ID); code(err) != "not_found error.not_found" {
			t.Errorf("another account's administrator: %s", code(err))
		}
	})
}

func TestGranting_IsWhatTheActorHolds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.add("admin", "admin", equipe.MemberActive)
		w.add("manager", "manager", equipe.MemberActive)
		g, err := w.s.Granting(ctx, w.actor("admin"), w.account)
		if err != nil || len(g.Grants) != len(w.s.Catalogue.Permissions) || g.Restricted {
			t.Fatalf("administrator: %+v %v", g, err)
		}
		for _, gr := range g.Grants {
			if p, _ := w.s.Catalogue.Permission(gr.Permission); gr.Scope != p.Broadest() {
				t.Errorf("%s at %s", gr.Permission, gr.Scope)
			}
		}
		g, err = w.s.Granting(ctx, w.actor("manager"), w.account)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range g.Roles {
			if c.Role.Key == equipe.RoleAdmin && c.Code() != "role.admin_only" {
				t.Errorf("a manager may give the administrator role: %q", c.Code())
			}
		}
		if _, err := w.s.CreateRole(ctx, w.actor("admin"), w.account, team.RoleInput{Key: "lead", LabelFR: "Chef", LabelEN: "Lead",
			Restricted: true, Grants: []equipe.Grant{{Permission: "roles.manage"}, {Permission: "records.edit", Scope: "owned"}}}); err != nil {
			t.Fatal(err)
		}
		w.add("lead", "lead", equipe.MemberActive)
		g, err = w.s.Granting(ctx, w.actor("lead"), w.account)
		if err != nil || !g.Restricted || len(g.Grants) != 2 || g.Grants[1] != (access.Grant{Permission: "records.edit", Scope: access.ScopeOwned}) {
			t.Fatalf("lead: %+v %v", g, err)
		}
	})
}

func TestMyRole_AnyMemberKnowsTheirOwnRole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.add("admin", "admin", equipe.MemberActive)
		if _, err := w.s.CreateRole(ctx, w.actor("admin"), w.account, team.RoleInput{Key: "kiosk", LabelFR: "Borne", LabelEN: "Kiosk"}); err != nil {
			t.Fatal(err)
		}
		w.add("kim", "kiosk", equipe.MemberSuspended)
		r, err := w.s.MyRole(ctx, w.actor("kim"), w.account)
		if err != nil || r.Label.EN != "Kiosk" || r.BuiltIn {
			t.Fatalf("suspended kiosk: %+v %v", r, err)
		}
		other := newWorld(t, db)
		other.add("eve", "admin", equipe.MemberActive)
		if _, err := w.s.MyRole(ctx, other.actor("eve"), w.account); code(err) != "not_found error.not_found" {
			t.Errorf("not a member: %s", code(err))
		}
	})
}
