package team_test

import (
	"slices"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/team"
)

// firmClient is a client of the scene's firm in which the firm's
// administrator and the instance administrator each added a contact, with
// an API key of the client's own, made by the firm for it.
type firmClient struct {
	id  equipe.ID
	own team.Actor // the client's own key: the firm's staff are not named to it
}

func newFirmClient(t *testing.T, b *bench, s *scene) firmClient {
	t.Helper()
	c, err := s.s.CreateClient(ctx, s.admin(), s.account, team.NewAccount{Name: "Boulangerie Martin", Locale: "fr"})
	if err != nil {
		t.Fatal(err)
	}
	for _, by := range []team.Actor{s.admin(), b.instance} {
		if _, err := s.s.CreateContact(ctx, by, c.ID, team.ContactInput{FirstName: "Jeanne", Email: "jeanne@compta.example",
			Kinds: []string{"billing"}}); err != nil {
			t.Fatal(err)
		}
	}
	k, _, err := s.s.CreateKey(ctx, s.admin(), &c.ID, team.NewKey{Name: "Bakery sync", Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	return firmClient{id: c.ID, own: team.Actor{Key: &k}}
}

// contactAuthors returns the actors of the client's contact.created events,
// the oldest first, as the reader sees them in the log and in its export.
func contactAuthors(t *testing.T, s *scene, reader team.Actor, client equipe.ID, by *equipe.ID) (page, export []event.Actor) {
	t.Helper()
	f := team.AuditFilter{Type: event.ContactCreated.Type, ActorID: by, Page: equipe.Page{Limit: 50}}
	es, _, err := s.s.AuditPage(ctx, reader, client, f)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(es) - 1; i >= 0; i-- {
		page = append(page, es[i].Actor)
	}
	exp, err := s.s.ExportAudit(ctx, reader, client, f)
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.Each(ctx, func(e event.Event) error { export = append([]event.Actor{e.Actor}, export...); return nil }); err != nil {
		t.Fatal(err)
	}
	return page, export
}

func TestAuditLog_TheFirmsStaffAreNamedOnlyToWhoMayKnowThem(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		c := newFirmClient(t, b, s)
		alice, root := s.users["admin"].ID, b.instance.User.ID

		// To the instance, everyone acts with their ID: the firm's staff
		// through the firm, its administrator through the instance.
		want := []event.Actor{{Kind: event.ActorUser, ID: &alice, Via: event.ViaFirm},
			{Kind: event.ActorUser, ID: &root, Via: event.ViaInstance}}
		page, export := contactAuthors(t, s, b.instance, c.id, nil)
		if !sameActors(page, want) || !sameActors(export, want) {
			t.Errorf("to the instance: %s, exported %s; want %s", actors(page), actors(export), actors(want))
		}
		if p, err := s.s.AuditPerson(ctx, b.instance, c.id, root); err != nil || p.Kind != team.PersonInstanceAdmin || p.Unnamed {
			t.Errorf("the instance's administrator, to the instance: %+v %v", p, err)
		}

		// To the firm's administrator, the firm's staff act with their ID;
		// the instance's support, with none.
		want[1].ID = nil
		page, export = contactAuthors(t, s, s.admin(), c.id, nil)
		if !sameActors(page, want) || !sameActors(export, want) {
			t.Errorf("to the firm: %s, exported %s; want %s", actors(page), actors(export), actors(want))
		}
		if p, err := s.s.AuditPerson(ctx, s.admin(), c.id, alice); err != nil || p.Kind != team.PersonFirmStaff ||
			p.Unnamed || p.User.ID != alice {
			t.Errorf("the firm's administrator, to the firm: %+v %v", p, err)
		}

		// To the client's own key, the firm's staff and the instance's
		// support act with no ID, and filtering by theirs selects nothing.
		want[0].ID = nil
		page, export = contactAuthors(t, s, c.own, c.id, nil)
		if !sameActors(page, want) || !sameActors(export, want) {
			t.Errorf("to the client: %s, exported %s; want %s", actors(page), actors(export), actors(want))
		}
		for name, id := range map[string]equipe.ID{"the firm's administrator": alice, "the instance's administrator": root} {
			for reader, r := range map[string]team.Actor{"the client": c.own, "the firm": s.admin()} {
				if reader == "the firm" && id == alice {
					continue
				}
				if page, export := contactAuthors(t, s, r, c.id, &id); len(page) != 0 || len(export) != 0 {
					t.Errorf("%s filters by %s: %s, exported %s", reader, name, actors(page), actors(export))
				}
				// By their ID, they are no one the reader knows: as anyone
				// who does not reach the account.
				if p, err := s.s.AuditPerson(ctx, r, c.id, id); err != nil || p != (team.Person{Kind: team.PersonFormerMember}) {
					t.Errorf("%s, to %s: %+v %v", name, reader, p, err)
				}
			}
		}

		// Nor can the client learn who they are from their permissions: to
		// the client they are no one, as to the firm they are staff.
		if _, err := s.s.EffectivePermissions(ctx, c.own, c.id, alice); key(err) != "error.not_found" {
			t.Errorf("the client reads the firm's administrator's permissions: %v", err)
		}
		if e, err := s.s.EffectivePermissions(ctx, s.admin(), c.id, alice); err != nil || !e.ViaFirm {
			t.Errorf("the firm reads its administrator's permissions in the client: %+v %v", e, err)
		}
	})
}

func TestAuditLog_SomeoneWhoLeftIsAFormerMember(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		paul := s.joined("paul", "admin")
		if _, err := s.s.CreateContact(ctx, s.actor("paul"), s.account, team.ContactInput{FirstName: "Jeanne",
			Email: "jeanne@compta.example", Kinds: []string{"billing"}}); err != nil {
			t.Fatal(err)
		}
		if p, err := s.s.AuditPerson(ctx, s.admin(), s.account, paul.ID); err != nil || p.Kind != team.PersonMember ||
			p.User.ID != paul.ID {
			t.Errorf("a member: %+v %v", p, err)
		}
		if err := s.s.RemoveMember(ctx, s.admin(), s.account, paul.ID); err != nil {
			t.Fatal(err)
		}
		if p, err := s.s.AuditPerson(ctx, s.admin(), s.account, paul.ID); err != nil || p.Kind != team.PersonFormerMember ||
			p.User != (equipe.User{}) {
			t.Errorf("a member who left: %+v %v", p, err)
		}
		// They acted as a member: what they did keeps their ID.
		page, _ := contactAuthors(t, s, s.admin(), s.account, &paul.ID)
		if want := []event.Actor{{Kind: event.ActorUser, ID: &paul.ID}}; !sameActors(page, want) {
			t.Errorf("what a former member did: %s, want %s", actors(page), actors(want))
		}
	})
}

func TestAuditLog_AFilterThatCanSelectNothingIsRefused(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		for _, tc := range []struct {
			name string
			f    team.AuditFilter
			want string
		}{
			{"a kind that does not exist", team.AuditFilter{Type: "member.teleported"}, "error.fields type=audit.type_unknown"},
			{"a kind no account's log records", team.AuditFilter{Type: event.UserLoggedIn.Type}, "error.fields type=audit.type_unknown"},
			{"a subject that is no ID nor role key", team.AuditFilter{Subject: "Jeanne Compta"}, "error.fields target=audit.target_invalid"},
			{"both", team.AuditFilter{Type: "zzz", Subject: "?"}, "error.fields type=audit.type_unknown target=audit.target_invalid"},
		} {
			tc.f.Page.Limit = 50
			if _, _, err := s.s.AuditPage(ctx, s.admin(), s.account, tc.f); key(err) != tc.want {
				t.Errorf("%s: %q, want %q", tc.name, key(err), tc.want)
			}
			if _, err := s.s.ExportAudit(ctx, s.admin(), s.account, tc.f); key(err) != tc.want {
				t.Errorf("%s, exported: %q, want %q", tc.name, key(err), tc.want)
			}
		}
		// A custom role's key and an ID are subjects.
		for _, subject := range []string{"portfolio_manager", s.users["admin"].ID.String()} {
			if _, _, err := s.s.AuditPage(ctx, s.admin(), s.account, team.AuditFilter{Type: event.MemberAdded.Type,
				Subject: subject, Page: equipe.Page{Limit: 50}}); err != nil {
				t.Errorf("subject %q: %v", subject, err)
			}
		}
	})
}

func sameActors(got, want []event.Actor) bool { return actors(got) == actors(want) }

// actors writes actors for a failure's message.
func actors(as []event.Actor) string {
	out := ""
	for _, a := range as {
		id := "-"
		if a.ID != nil {
			id = a.ID.String()
		}
		out += "[" + string(a.Kind) + " " + id + " " + string(a.Via) + " " + a.Name + "]"
	}
	return out
}

// TestAuditLog_TheAddressOfWhoIsNotNamedIsNotShown: a person the reader of
// a log may not know (one of the firm's staff, to the client's own people;
// the instance's support, to an account's) is not shown by the address
// their request came from either, which would tell them apart, and tie
// them to the other events of that address; in the page and in its
// export. Who may know them sees it.
func TestAuditLog_TheAddressOfWhoIsNotNamedIsNotShown(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		c := newFirmClient(t, b, s)
		staff, support := s.admin(), b.instance
		staff.IP, support.IP = "198.51.100.7", "203.0.113.9"
		for _, by := range []team.Actor{staff, support} {
			if _, err := s.s.CreateContact(ctx, by, c.id, team.ContactInput{FirstName: "Paul", Email: "paul@compta.example",
				Kinds: []string{"billing"}}); err != nil {
				t.Fatal(err)
			}
		}
		addresses := func(reader team.Actor) (page, export []string) {
			t.Helper()
			f := team.AuditFilter{Type: event.ContactCreated.Type, Page: equipe.Page{Limit: 2}}
			es, _, err := s.s.AuditPage(ctx, reader, c.id, f)
			if err != nil {
				t.Fatal(err)
			}
			for i := len(es) - 1; i >= 0; i-- {
				page = append(page, es[i].IP)
			}
			exp, err := s.s.ExportAudit(ctx, reader, c.id, f)
			if err != nil {
				t.Fatal(err)
			}
			// The export is the whole log, newest first: its last two.
			if err := exp.Each(ctx, func(e event.Event) error { export = append([]string{e.IP}, export...); return nil }); err != nil {
				t.Fatal(err)
			}
			return page, export[len(export)-2:]
		}
		for _, tc := range []struct {
			name   string
			reader team.Actor
			want   []string // the staff's, then the support's
		}{
			{"the client's own key", c.own, []string{"", ""}},
			{"the firm's administrator", s.admin(), []string{staff.IP, ""}},
			{"the instance", b.instance, []string{staff.IP, support.IP}},
		} {
			page, export := addresses(tc.reader)
			if !slices.Equal(page, tc.want) || !slices.Equal(export, tc.want) {
				t.Errorf("%s reads the addresses %q in the log and %q in its export, want %q", tc.name, page, export, tc.want)
			}
		}
	})
}
