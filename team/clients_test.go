package team_test

import (
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/team"
)

// TestAssignStaff_NobodyExtendsTheReachOfAMemberWhoOutranksThem: assigning
// a firm member to a client lets them act there with their firm role, and
// taking it back changes them as surely: a member of the firm who may
// manage its clients but holds less than the staff member (here, no
// members.manage) is refused member.outranks either way, and nothing
// changes, as the member's own form refuses it; a staff member who holds
// nothing more than the actor is assigned and unassigned.
func TestAssignStaff_NobodyExtendsTheReachOfAMemberWhoOutranksThem(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		lead := team.RoleInput{Key: "lead", LabelEN: "Client lead", Grants: []equipe.Grant{{Permission: "subaccounts.manage"},
			{Permission: "members.view"}, {Permission: "records.view", Scope: "all"}, {Permission: "records.edit", Scope: "all"}}}
		if _, err := s.s.CreateRole(ctx, s.admin(), s.account, lead); err != nil {
			t.Fatal(err)
		}
		lea := s.add("lea", "lead", equipe.MemberActive)
		max := s.add("max", "manager", equipe.MemberActive)
		cole := s.add("cole", "collaborator", equipe.MemberActive)
		c, err := s.s.CreateClient(ctx, s.admin(), s.account, team.NewAccount{Name: "Boulangerie Martin", Locale: "fr"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.s.AssignStaff(ctx, s.admin(), s.account, c.ID, lea.ID); err != nil {
			t.Fatal(err)
		}
		by := s.actor("lea")
		s.done(t, "member.outranks", func() error { return s.s.AssignStaff(ctx, by, s.account, c.ID, max.ID) })
		if _, err := s.s.Account(ctx, s.actor("max"), c.ID); key(err) != "error.not_found" {
			t.Errorf("the manager reaches the client: %q", key(err))
		}
		if d := s.checkIn(t, c.ID, max.ID, "members.manage"); d.Allowed {
			t.Errorf("the manager manages the client's members: %s", d.Reason)
		}
		before, _ := s.done(t, "", func() error { return s.s.AssignStaff(ctx, by, s.account, c.ID, cole.ID) })
		s.wrote(t, before, event.ClientStaffAssigned.Type)

		// Assigned by an administrator, the manager is not unassigned by lea.
		if err := s.s.AssignStaff(ctx, s.admin(), s.account, c.ID, max.ID); err != nil {
			t.Fatal(err)
		}
		s.done(t, "member.outranks", func() error { return s.s.UnassignStaff(ctx, by, s.account, c.ID, max.ID) })
		before, _ = s.done(t, "", func() error { return s.s.UnassignStaff(ctx, by, s.account, c.ID, cole.ID) })
		s.wrote(t, before, event.ClientStaffUnassigned.Type)
	})
}

// checkIn answers the check of user's permission in account, as the
// vendor's backend asks it.
func (s *scene) checkIn(t *testing.T, account, user equipe.ID, perm string) access.Decision {
	t.Helper()
	d, err := s.s.Check(ctx, team.Actor{Key: &equipe.APIKey{ID: equipe.NewID()}}, team.CheckQuery{
		Account: account, User: user, Permission: perm})
	if err != nil {
		t.Fatal(err)
	}
	return d
}
