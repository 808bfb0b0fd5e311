package team_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/internal/servicetest"
	"github.com/equipe-dev/equipe/team"
)

// TestEndFirmAccess_TheClientsOwnAdministratorsEndItAndTheFirmIsTold: a
// client account's own administrator (or the instance) ends its firm's
// access without the firm: the account becomes independent, the firm's
// people and the keys they made there reach it no more, both logs record
// it, and the firm's administrators get an email. The firm's staff, keys,
// members without account.manage and accounts that are no client are
// refused, and the account's actions answer as the use case does.
func TestEndFirmAccess_TheClientsOwnAdministratorsEndItAndTheFirmIsTold(t *testing.T) {
	tests := []struct {
		name string
		// by is who acts, given the client's own administrator, a key of
		// theirs, and a collaborator of the client's own.
		by func(s *scene, owner, ownerKey, clerk team.Actor) team.Actor
		// firm: the actor acts on the firm itself, which is no client.
		firm    bool
		refusal string
	}{
		{name: "the client's own administrator ends it",
			by: func(_ *scene, owner, _, _ team.Actor) team.Actor { return owner }},
		{name: "an instance administrator ends it",
			by: func(s *scene, _, _, _ team.Actor) team.Actor { return s.b.instance }},
		{name: "the firm's administrator is sent to the firm's side",
			by: func(s *scene, _, _, _ team.Actor) team.Actor { return s.admin() }, refusal: "client.end_from_firm"},
		{name: "a key of the client's own is refused",
			by: func(_ *scene, _, ownerKey, _ team.Actor) team.Actor { return ownerKey }, refusal: "client.end_by_person"},
		{name: "a collaborator of the client may not",
			by: func(_ *scene, _, _, clerk team.Actor) team.Actor { return clerk }, refusal: "access.permission_required"},
		{name: "an account that is no client's answers so", firm: true,
			by: func(s *scene, _, _, _ team.Actor) team.Actor { return s.admin() }, refusal: "client.no_firm"},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				staff := s.joined("m", "collaborator")
				c, err := s.s.CreateClient(ctx, s.admin(), s.account, team.NewAccount{Name: "Boulangerie Martin", Locale: "fr",
					OwnerEmail: s.email("marie"), OwnerFirstName: "Marie", OwnerLastName: "Martin"})
				if err != nil {
					t.Fatal(err)
				}
				if err := s.accept(s.secret(s.email("marie"), "/invitations/")); err != nil {
					t.Fatal(err)
				}
				if err := s.s.AssignStaff(ctx, s.admin(), s.account, c.ID, staff.ID); err != nil {
					t.Fatal(err)
				}
				marie, err := s.db.UserByEmailKey(ctx, s.email("marie"))
				if err != nil {
					t.Fatal(err)
				}
				owner := team.Actor{User: &marie, IP: "192.0.2.4"}
				// The client's own key, and one the firm's administrator made there.
				own, _, err := s.s.CreateKey(ctx, owner, &c.ID, team.NewKey{Name: "Caisse", Role: "admin"})
				if err != nil {
					t.Fatal(err)
				}
				firms, _, err := s.s.CreateKey(ctx, s.admin(), &c.ID, team.NewKey{Name: "Comptabilité", Role: "manager"})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.s.AddMember(ctx, owner, c.ID, team.NewMember{Email: s.email("clerk"), FirstName: "Paul",
					LastName: "Commis", Role: "guest", SendInvitation: true}); err != nil {
					t.Fatal(err)
				}
				if err := s.accept(s.secret(s.email("clerk"), "/invitations/")); err != nil {
					t.Fatal(err)
				}
				clerk, err := s.db.UserByEmailKey(ctx, s.email("clerk"))
				if err != nil {
					t.Fatal(err)
				}
				by := tt.by(s, owner, team.Actor{Key: &own}, team.Actor{User: &clerk})
				account := c.ID
				if tt.firm {
					account = s.account
				}
				// The page's actions answer as the use case will.
				acts, err := s.s.AccountActions(ctx, by, account)
				if err != nil {
					t.Fatal(err)
				}
				if got := answer(acts.Get(team.AccountEndFirmAccess)); got != tt.refusal {
					t.Errorf("the action answers %q, the use case %q", got, tt.refusal)
				}
				firmEvents := len(s.events(s.account))
				_, ok := s.done(t, tt.refusal, func() error { return s.s.EndFirmAccess(ctx, by, account) })
				if !ok {
					if a, _ := s.db.AccountByID(ctx, c.ID); a.ParentID == nil || *a.ParentID != s.account {
						t.Errorf("a refusal detached the client: %v", a.ParentID)
					}
					return
				}
				if a, _ := s.db.AccountByID(ctx, c.ID); a.ParentID != nil {
					t.Fatalf("still a client of %v", a.ParentID)
				}
				for _, who := range []string{"admin", "m"} {
					if _, err := s.s.Account(ctx, s.actor(who), c.ID); key(err) != "error.not_found" {
						t.Errorf("the firm's %s and the client that ended its access: %q", who, key(err))
					}
				}
				if _, err := s.s.Account(ctx, owner, c.ID); err != nil {
					t.Errorf("the client's own administrator after: %v", err)
				}
				var assigned int
				if err := b.raw.QueryRow(`SELECT COUNT(*) FROM client_staff WHERE client_id = $1`, c.ID).Scan(&assigned); err != nil || assigned != 0 {
					t.Errorf("assignments kept to an account that is no client: %d %v", assigned, err)
				}
				keys, _, err := s.db.APIKeys(ctx, &c.ID, equipe.Page{})
				if err != nil {
					t.Fatal(err)
				}
				for _, k := range keys {
					if revoked := !k.RevokedAt.IsZero(); revoked != (k.ID == firms.ID) {
						t.Errorf("key %q revoked: %v", k.Name, revoked)
					}
				}
				for _, acct := range []equipe.ID{c.ID, s.account} {
					es := s.events(acct)
					last := es[len(es)-1]
					if acct == s.account && len(es) != firmEvents+1 {
						t.Errorf("the firm's log grew by %d events, want 1", len(es)-firmEvents)
					}
					if last.Type != event.ClientDetached.Type || last.Subject != (event.Subject{Kind: event.SubjectAccount, ID: c.ID.String()}) {
						t.Errorf("the last event of %v: %s about %+v", acct, last.Type, last.Subject)
					}
					if by.User == &marie {
						wantEvent(t, last, recorded(by), last.Subject)
					}
					wantStates(t, last, event.Detachment{ParentID: s.account}, nil)
				}
				mails := servicetest.Mails(t, b.raw, s.email("admin"))
				i := slices.IndexFunc(mails, func(m servicetest.Mail) bool { return m.Template == "firm_access_ended" })
				if i < 0 {
					t.Fatalf("the firm's administrator was not told: %v", s.templates(s.email("admin")))
				}
				if text := mails[i].Text; !strings.Contains(text, "Boulangerie Martin") ||
					!strings.Contains(text, "/accounts/"+s.account.String()+"/clients") ||
					strings.Contains(text, "Marie Martin") != (by.User == &marie) {
					t.Errorf("the email to the firm's administrator:\n%s", text)
				}
				if slices.Contains(s.templates(s.email("m")), "firm_access_ended") {
					t.Error("a firm member who is no administrator was told")
				}
			})
		}
	})
}

// TestLists_AKeysOrAContactsCursorIsItsAccountsOnly: a cursor of one
// account's keys or contacts is refused on another's, as a cursor of
// another list is, not read as a position in it.
func TestLists_AKeysOrAContactsCursorIsItsAccountsOnly(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		a, other := b.scene(t), b.scene(t)
		for _, s := range []*scene{a, other} {
			for _, name := range []string{"Caisse", "CRM"} {
				if _, _, err := s.s.CreateKey(ctx, s.admin(), &s.account, team.NewKey{Name: name, Role: "guest"}); err != nil {
					t.Fatal(err)
				}
				if _, err := s.s.CreateContact(ctx, s.admin(), s.account, team.ContactInput{LastName: name,
					Email: strings.ToLower(name) + "@client.example", Kinds: []string{"billing"}}); err != nil {
					t.Fatal(err)
				}
			}
		}
		lists := map[string]func(s *scene, p equipe.Page) (string, error){
			"keys": func(s *scene, p equipe.Page) (string, error) {
				_, next, err := s.s.Keys(ctx, s.admin(), &s.account, p)
				return next, err
			},
			"contacts": func(s *scene, p equipe.Page) (string, error) {
				_, next, err := s.s.Contacts(ctx, s.admin(), s.account, p)
				return next, err
			},
		}
		for name, list := range lists {
			next, err := list(a, equipe.Page{Limit: 1})
			if err != nil || next == "" {
				t.Fatalf("%s: first page: %q %v", name, next, err)
			}
			if _, err := list(a, equipe.Page{After: next, Limit: 1}); err != nil {
				t.Errorf("%s: the account's own cursor: %v", name, err)
			}
			if _, err := list(other, equipe.Page{After: next, Limit: 1}); key(err) != "error.fields cursor=request.cursor_invalid" {
				t.Errorf("%s: another account's cursor: %q", name, key(err))
			}
		}
	})
}
