package team_test

import (
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/team"
)

// TestStanding_TellsSuspendedAndRemovedMembersApartFromStrangers: towards
// an account, a suspended member stands suspended (with its active
// administrators to contact), a removed member removed, a member as a
// member; someone never a member, like anyone asking about an account that
// does not exist, stands nowhere and learns nothing.
func TestStanding_TellsSuspendedAndRemovedMembersApartFromStrangers(t *testing.T) {
	tests := []struct {
		name    string
		who     func(s *scene) *equipe.User
		account func(s *scene) equipe.ID
		kind    string
	}{
		{name: "a suspended member", who: func(s *scene) *equipe.User { return s.suspended("m", "collaborator") }, kind: team.StandingSuspended},
		{name: "a removed member", kind: team.StandingRemoved,
			who: func(s *scene) *equipe.User {
				u := s.joined("m", "collaborator")
				if err := s.s.RemoveMember(ctx, s.admin(), s.account, u.ID); err != nil {
					s.t.Fatal(err)
				}
				return u
			}},
		{name: "a member", who: func(s *scene) *equipe.User { return s.joined("m", "collaborator") }, kind: team.StandingMember},
		{name: "someone never a member", who: func(s *scene) *equipe.User { return s.b.scene(s.t).users["admin"] }, kind: team.StandingNone},
		{name: "a removed member asking about an account that does not exist", kind: team.StandingNone,
			who: func(s *scene) *equipe.User {
				u := s.joined("m", "collaborator")
				if err := s.s.RemoveMember(ctx, s.admin(), s.account, u.ID); err != nil {
					s.t.Fatal(err)
				}
				return u
			},
			account: func(*scene) equipe.ID { return equipe.NewID() }},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				u := tt.who(s)
				account := s.account
				if tt.account != nil {
					account = tt.account(s)
				}
				st, err := s.s.Standing(ctx, team.Actor{User: u}, account)
				if err != nil {
					t.Fatal(err)
				}
				if st.Kind != tt.kind {
					t.Fatalf("standing %q, want %q", st.Kind, tt.kind)
				}
				switch st.Kind {
				case team.StandingSuspended:
					admin := s.users["admin"]
					if st.Account.ID != s.account || len(st.Admins) != 1 || st.Admins[0].Email != admin.Email || st.Admins[0].Name != admin.Name() {
						t.Errorf("suspended: %+v", st)
					}
				case team.StandingRemoved:
					if st.Account.ID != s.account || st.RemovedAt.IsZero() || len(st.Admins) != 0 {
						t.Errorf("removed: %+v", st)
					}
				default:
					if st.Account.ID != (equipe.ID{}) || len(st.Admins) != 0 {
						t.Errorf("%s learns of the account: %+v", tt.name, st)
					}
				}
			})
		}
	})
}
