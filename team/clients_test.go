package team_test

import (
	"slices"
	"strings"
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
// nothing more than the actor is assigned and unassigned. Taking off
// someone not assigned answers not found, whoever they are.
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
		// Someone not assigned is not found, whoever they are.
		nina := s.add("nina", "manager", equipe.MemberActive)
		s.done(t, "error.not_found", func() error { return s.s.UnassignStaff(ctx, by, s.account, c.ID, nina.ID) })
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

// clientOwnKey makes a client account of the scene's firm, whose owner,
// Marie, joins it and makes its own key (admin), and assigns staff to it.
func (s *scene) clientOwnKey(t *testing.T, staff equipe.ID) (equipe.Account, equipe.User, equipe.APIKey) {
	t.Helper()
	c, err := s.s.CreateClient(ctx, s.admin(), s.account, team.NewAccount{Name: "Boulangerie Martin", Locale: "fr",
		OwnerEmail: s.email("marie"), OwnerFirstName: "Marie", OwnerLastName: "Martin"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.accept(s.secret(s.email("marie"), "/invitations/")); err != nil {
		t.Fatal(err)
	}
	if err := s.s.AssignStaff(ctx, s.admin(), s.account, c.ID, staff); err != nil {
		t.Fatal(err)
	}
	marie, err := s.db.UserByEmailKey(ctx, s.email("marie"))
	if err != nil {
		t.Fatal(err)
	}
	own, _, err := s.s.CreateKey(ctx, team.Actor{User: &marie}, &c.ID, team.NewKey{Name: "Caisse", Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	return c, marie, own
}

// TestPermittedMembers_AClientsOwnKeyIsNotToldItsFirmsStaff: who may do
// something in a client account are, to the firm, the firm's staff who act
// there as well as the client's own members; to the client's own key, whom
// the firm's staff are not named to, the client's own members alone.
func TestPermittedMembers_AClientsOwnKeyIsNotToldItsFirmsStaff(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		staff := s.add("m", "manager", equipe.MemberActive)
		c, marie, own := s.clientOwnKey(t, staff.ID)
		firms := s.key("Comptabilité", "admin")
		q := team.CheckQuery{Account: c.ID, Permission: "members.view"}
		for _, tt := range []struct {
			name   string
			caller team.Actor
			want   []equipe.ID
		}{
			{"the firm's key", firms, []equipe.ID{s.users["admin"].ID, staff.ID, marie.ID}},
			{"the client's own key", team.Actor{Key: &own}, []equipe.ID{marie.ID}},
		} {
			found, more, err := s.s.PermittedMembers(ctx, tt.caller, q, nil, 10)
			var got []equipe.ID
			for _, f := range found {
				got = append(got, f.User)
			}
			want := slices.SortedFunc(slices.Values(tt.want), func(a, b equipe.ID) int { return strings.Compare(a.String(), b.String()) })
			if err != nil || more || !slices.Equal(got, want) {
				t.Errorf("%s: %v %v %v, want %v", tt.name, got, more, err, want)
			}
		}
	})
}

// TestCheck_AClientsFirmStaffAreNamedByEmailAsByID: in a client account,
// the firm's staff who act there are answered the same whether the question
// names them by ID or by login email, to the firm's key; one not assigned
// is no one there either way. To the client's own key, whom they are not
// named to, an address tried tells nothing: no one.
func TestCheck_AClientsFirmStaffAreNamedByEmailAsByID(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		staff := s.add("m", "manager", equipe.MemberActive)
		idle := s.add("n", "manager", equipe.MemberActive)
		c, marie, own := s.clientOwnKey(t, staff.ID)
		firms := s.key("Comptabilité", "admin")
		for _, tt := range []struct {
			name   string
			caller team.Actor
			ref    team.UserRef
			want   access.Reason
		}{
			{"the staff by ID, to the firm", firms, team.UserRef{Kind: team.RefID, ID: staff.ID}, access.Allowed},
			{"the staff by email, to the firm", firms, team.UserRef{Kind: team.RefEmail, Text: strings.ToUpper(staff.Email)}, access.Allowed},
			{"the firm's administrator by email, to the firm", firms, team.UserRef{Kind: team.RefEmail, Text: s.users["admin"].Email}, access.Allowed},
			{"one not assigned by email, to the firm", firms, team.UserRef{Kind: team.RefEmail, Text: idle.Email}, access.DeniedNotMember},
			{"the client's own by email, to the firm", firms, team.UserRef{Kind: team.RefEmail, Text: marie.Email}, access.Allowed},
			{"the staff by email, to the client's own key", team.Actor{Key: &own}, team.UserRef{Kind: team.RefEmail, Text: staff.Email}, access.DeniedNotMember},
			{"the client's own by email, to its own key", team.Actor{Key: &own}, team.UserRef{Kind: team.RefEmail, Text: marie.Email}, access.Allowed},
		} {
			ref := tt.ref
			d, err := s.s.Check(ctx, tt.caller, team.CheckQuery{Account: c.ID, Permission: "members.view", UserRef: &ref})
			if err != nil || d.Reason != tt.want {
				t.Errorf("%s: %s %v, want %s", tt.name, d.Reason, err, tt.want)
			}
		}
	})
}
