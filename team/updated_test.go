package team_test

import (
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/team"
)

// TestMembers_UpdatedAtMovesWithWhatADirectorySees: the use cases that
// change a member move its UpdatedAt to their time when the change is one
// a directory sees (title, suspension, role), not otherwise (a notification
// address, an invitation revoked); the role's holders change with a role
// given, for the role left as for the role taken (team.RoleTimes).
func TestMembers_UpdatedAtMovesWithWhatADirectorySees(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		ada := s.added("ada", "manager", true)
		m0 := s.member(ada.ID)
		clock := b.st.Clock
		expect := func(what string, want time.Time) {
			t.Helper()
			if got := s.member(ada.ID).UpdatedAt; !got.Equal(want) {
				t.Errorf("%s: updated at %v, want %v", what, got, want)
			}
		}
		expect("added", m0.CreatedAt)

		clock.Advance(time.Hour)
		if _, err := s.s.ChangeMember(ctx, s.admin(), s.account, ada.ID,
			team.MemberChange{NotificationEmail: ptr("ada@elsewhere.example")}); err != nil {
			t.Fatal(err)
		}
		if err := s.s.RevokeInvitation(ctx, s.admin(), s.account, ada.ID); err != nil {
			t.Fatal(err)
		}
		expect("unseen changes", m0.CreatedAt)

		if _, err := s.s.ChangeMember(ctx, s.admin(), s.account, ada.ID, team.MemberChange{Title: ptr("Analyst")}); err != nil {
			t.Fatal(err)
		}
		expect("title", clock.Now())

		clock.Advance(time.Hour)
		if _, err := s.s.Suspend(ctx, s.admin(), s.account, ada.ID); err != nil {
			t.Fatal(err)
		}
		expect("suspended", clock.Now())

		clock.Advance(time.Hour)
		if _, err := s.s.ChangeMember(ctx, s.admin(), s.account, ada.ID, team.MemberChange{Role: ptr("collaborator")}); err != nil {
			t.Fatal(err)
		}
		expect("role", clock.Now())
		times, err := s.s.RoleTimes(ctx, s.admin(), s.account)
		if err != nil {
			t.Fatal(err)
		}
		for _, role := range []string{"manager", "collaborator"} {
			if !times[role].Changed.Equal(clock.Now()) {
				t.Errorf("holders of %s changed at %v, want %v", role, times[role].Changed, clock.Now())
			}
		}
		if times["admin"].Changed.Equal(clock.Now()) || times["admin"].Created.IsZero() {
			t.Errorf("admin: %+v", times["admin"])
		}
	})
}

// TestMembers_RoleNamesAreWhatADirectorySeesToo: a role's name is shown in
// its Group and in its holders' groups, so renaming a custom role moves its
// holders' UpdatedAt and its Group's time, not others'; a new language for
// the account names every role anew, and moves them all. A change of the
// grants alone moves nothing of the holders.
func TestMembers_RoleNamesAreWhatADirectorySeesToo(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		clock := b.st.Clock
		if _, err := s.s.CreateRole(ctx, s.admin(), s.account, team.RoleInput{Key: "visitor", LabelFR: "Visiteur",
			Grants: []equipe.Grant{{Permission: "members.view"}}}); err != nil {
			t.Fatal(err)
		}
		ada, grace := s.added("ada", "visitor", false), s.added("grace", "manager", false)
		made := clock.Now()
		updated := func(what string, u *equipe.User, want time.Time) {
			t.Helper()
			if got := s.member(u.ID).UpdatedAt; !got.Equal(want) {
				t.Errorf("%s: %s updated at %v, want %v", what, u.Email, got, want)
			}
		}
		group := func(what, role string, want time.Time) {
			t.Helper()
			times, err := s.s.RoleTimes(ctx, s.admin(), s.account)
			if err != nil {
				t.Fatal(err)
			}
			if !times[role].Changed.Equal(want) {
				t.Errorf("%s: group %s changed at %v, want %v", what, role, times[role].Changed, want)
			}
		}

		before, err := s.s.RoleTimes(ctx, s.admin(), s.account)
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Hour)
		if _, err := s.s.UpdateRole(ctx, s.admin(), s.account, "visitor", team.RoleInput{LabelFR: "Visiteur",
			Grants: []equipe.Grant{{Permission: "members.view"}, {Permission: "audit.view"}}}); err != nil {
			t.Fatal(err)
		}
		updated("grants", ada, made)
		clock.Advance(time.Hour)
		if _, err := s.s.UpdateRole(ctx, s.admin(), s.account, "visitor", team.RoleInput{LabelFR: "Invité du jour",
			Grants: []equipe.Grant{{Permission: "members.view"}, {Permission: "audit.view"}}}); err != nil {
			t.Fatal(err)
		}
		updated("renamed", ada, clock.Now())
		updated("another role", grace, made)
		group("renamed", "visitor", clock.Now())
		group("another role", "manager", before["manager"].Changed)

		clock.Advance(time.Hour)
		en := "en"
		if _, err := s.s.UpdateAccount(ctx, s.admin(), s.account, team.AccountChange{Locale: &en}); err != nil {
			t.Fatal(err)
		}
		for _, u := range []*equipe.User{ada, grace} {
			updated("language", u, clock.Now())
		}
		for _, role := range []string{"admin", "manager", "guest", "visitor"} {
			group("language", role, clock.Now())
		}
	})
}
