package team_test

import (
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/team"
)

// A person who creates an account for a business and gives their own
// address as the owner's is its administrator at once, as after a sign-up:
// no invitation to themselves, no Manager membership beside it, and the
// team page theirs to read.
func TestCreateAccountFor_ACreatorWhoIsTheOwnerAdministersItAtOnce(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		me := s.users["admin"]
		mailsBefore := len(s.templates(me.Email))
		acct, err := s.s.CreateAccountFor(ctx, s.admin(), team.NewAccount{Name: "Second shop", Locale: "en",
			OwnerEmail: " " + strings.ToUpper(me.Email) + " ", OwnerFirstName: "Typed", OwnerLastName: "Names",
			Message: "For my other business"})
		if err != nil {
			t.Fatal(err)
		}
		rows, _, err := s.s.TeamPage(ctx, s.admin(), team.MemberFilter{Account: acct.ID, Limit: 10})
		if err != nil {
			t.Fatalf("the creator reads the new account's team: %v", err)
		}
		if len(rows) != 1 {
			t.Fatalf("members: %d, want the creator alone", len(rows))
		}
		m := rows[0].Member
		if m.UserID != me.ID || m.Role != equipe.RoleAdmin || m.Status != equipe.MemberActive || m.JoinedAt.IsZero() {
			t.Errorf("the creator's membership: %+v, want an active administrator who joined", m)
		}
		if m.FirstName != "" || m.LastName != "" {
			t.Errorf("the membership keeps typed names %q %q: the creator goes by their own", m.FirstName, m.LastName)
		}
		if got := s.templates(me.Email); len(got) != mailsBefore {
			t.Errorf("emails to the creator: %v, want none more than the %d before", got, mailsBefore)
		}
		if all, _ := s.tokens(me.ID, equipe.TokenInvitation); all != 0 {
			t.Errorf("invitation links: %d, want none", all)
		}
		var added []event.Added
		for _, e := range s.events(acct.ID) {
			if e.Type == event.MemberAdded.Type {
				added = append(added, e.After.(event.Added))
			}
		}
		if len(added) != 1 || !added[0].Owner || added[0].Creator || added[0].Status != equipe.MemberActive {
			t.Errorf("member.added events: %+v, want one, of the owner, active", added)
		}
	})
}
