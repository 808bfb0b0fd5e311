package team_test

import (
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// accountRows counts, table by table, the rows that belong to the account.
func accountRows(s *scene, account equipe.ID) map[string]int {
	s.t.Helper()
	cols := map[string]string{"accounts": "id", "client_staff": "client_id"}
	out := map[string]int{}
	for _, table := range storetest.Tables(s.t, s.b.raw) {
		if table == "security_events" {
			continue // the instance's security log keeps what was tried against it
		}
		col, ok := cols[table]
		if !ok {
			col = "account_id"
		}
		var n int
		err := s.b.raw.QueryRow(`SELECT COUNT(*) FROM `+table+` WHERE `+col+` = $1`, account.String()).Scan(&n)
		if err != nil {
			continue // a table without the column
		}
		if n > 0 {
			out[table] = n
		}
	}
	return out
}

// An account's administrator deletes it with everything in it: nothing of
// it is left in any table, its members' identities stay, checks about it
// answer an unknown account, and the instance's log says so. Those who may
// not are refused and change nothing.
func TestDeleteAccount_LeavesNothingOfTheAccountAndRefusesThoseWhoMayNot(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		cleo := s.joined("cleo", "collaborator")
		s.added("ivan", "guest", true)
		s.add("manager", "manager", equipe.MemberActive)
		if _, err := s.s.CreateContact(ctx, s.admin(), s.account, team.ContactInput{LastName: "Compta",
			Email: "compta@client.example", Kinds: []string{"billing"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.s.CreateRole(ctx, s.admin(), s.account, team.RoleInput{Key: "kiosk", LabelFR: "Borne", LabelEN: "Kiosk",
			Grants: []equipe.Grant{{Permission: "records.view", Scope: "owned"}}}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.s.CreateWebhook(ctx, s.admin(), &s.account, team.WebhookInput{URL: "https://hooks.example.com/",
			Types: []string{"*"}}); err != nil {
			t.Fatal(err)
		}
		adminKey := s.key("Admin sync", "admin")
		if d := s.check("cleo", "records.view"); !d.Allowed {
			t.Fatalf("before: %+v", d)
		}

		other := b.scene(t).admin()
		before := s.snapshot()
		for _, tt := range []struct {
			who   string
			actor team.Actor
			want  string
		}{
			{"a manager", s.actor("manager"), "access.permission_required"},
			{"the account's own administrator key", adminKey, "account.delete_by_person"},
		} {
			s.refused(t, s.s.DeleteAccount(ctx, tt.actor, s.account), tt.want, before)
		}
		// Another account's administrator learns nothing of it; the
		// attempt goes to the instance's security log, as every other one.
		if err := s.s.DeleteAccount(ctx, other, s.account); key(err) != "error.not_found" {
			t.Errorf("another account's administrator: %v", err)
		}
		if n := len(accountRows(s, s.account)); n == 0 {
			t.Fatal("refused, yet the account went")
		}

		if err := s.s.DeleteAccount(ctx, s.admin(), s.account); err != nil {
			t.Fatal(err)
		}
		if left := accountRows(s, s.account); len(left) != 0 {
			t.Errorf("rows of the deleted account left: %v", left)
		}
		if _, err := s.db.UserByID(ctx, cleo.ID); err != nil {
			t.Errorf("a member's identity went with the account: %v", err)
		}
		if d := s.check("cleo", "records.view"); d.Allowed || d.Reason != access.DeniedUnknownAccount {
			t.Errorf("a check after the deletion: %+v", d)
		}
		var n int
		if err := b.raw.QueryRow(`SELECT COUNT(*) FROM audit_events WHERE account_id IS NULL AND action = 'account.deleted'
			AND target_id = $1`, s.account.String()).Scan(&n); err != nil || n != 1 {
			t.Errorf("account.deleted in the instance's log: %d %v", n, err)
		}
		if err := s.s.DeleteAccount(ctx, s.admin(), s.account); key(err) != "error.not_found" {
			t.Errorf("deleting it again: %v", err)
		}
	})
}

// A firm with client accounts is not deleted until it has none, and the
// firm's people do not delete a client: its own administrators do.
func TestDeleteAccount_AFirmWaitsForItsClientsWhoDeleteThemselves(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		c, err := s.s.CreateClient(ctx, s.admin(), s.account, team.NewAccount{Name: "Boulangerie", Locale: "fr",
			OwnerEmail: s.email("baker"), OwnerFirstName: "Bea", OwnerLastName: "Baker"})
		if err != nil {
			t.Fatal(err)
		}
		before := s.snapshot()
		s.refused(t, s.s.DeleteAccount(ctx, s.admin(), s.account), "account.has_clients", before)
		s.refused(t, s.s.DeleteAccount(ctx, s.admin(), c.ID), "account.delete_from_firm", before)
		acts, err := s.s.AccountActions(ctx, s.admin(), s.account)
		if err != nil || acts.Get(team.AccountDelete).OK() {
			t.Errorf("the firm's actions offer its deletion: %v %v", acts.Get(team.AccountDelete), err)
		}

		// The client's owner joins, and deletes it; then the firm may go.
		auth, _, err := b.st.Identity.AcceptInvitation(ctx, s.secret(s.email("baker"), "/invitations/"),
			identity.Accept{Password: password, AcceptPrivacyPolicy: true}, nil, origin)
		if err != nil {
			t.Fatal(err)
		}
		owner := team.Actor{User: &auth.User, IP: "192.0.2.5"}
		if err := s.s.DeleteAccount(ctx, owner, c.ID); err != nil {
			t.Fatalf("the client's administrator deletes it: %v", err)
		}
		if err := s.s.DeleteAccount(ctx, s.admin(), s.account); err != nil {
			t.Fatalf("the firm without clients: %v", err)
		}
		if left := accountRows(s, s.account); len(left) != 0 {
			t.Errorf("rows of the deleted firm left: %v", left)
		}
	})
}
