package identity_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/i18n"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/internal/servicetest"
	"github.com/equipe-dev/equipe/spreadsheet"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// instanceAdmin creates an instance administrator of the stage.
func (g *stage) instanceAdmin() equipe.User {
	g.t.Helper()
	u, err := g.st.Identity.CreateAdmin(ctx, identity.NewAdmin{Email: address("support"), FirstName: "Vendor",
		LastName: "Support", Locale: "en", Password: goodPassword})
	if err != nil {
		g.t.Fatal(err)
	}
	return u
}

func TestDeleteUser_RefusalsChangeNothing(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		for _, tc := range []struct {
			name string
			// setup returns who asks, whom to delete, with which password.
			setup func(g *stage) (by equipe.User, user equipe.ID, password string)
			want  string
		}{
			{"a wrong password", func(g *stage) (equipe.User, equipe.ID, string) {
				u := g.signedUp(address("ada")).User
				return u, u.ID, "not the password at all"
			}, "invalid delete.password_incorrect"},
			{"the only administrator of an account", func(g *stage) (equipe.User, equipe.ID, string) {
				u := g.signedUp(address("ada")).User
				return u, u.ID, goodPassword
			}, "conflict user.last_admin"},
			{"the instance's only administrator", func(g *stage) (equipe.User, equipe.ID, string) {
				u := g.instanceAdmin()
				return u, u.ID, goodPassword
			}, "conflict user.last_instance_admin"},
			{"someone else, not an instance administrator", func(g *stage) (equipe.User, equipe.ID, string) {
				res := g.signedUp(address("ada"))
				other := g.invite(res.User, res.Account.ID, address("grace"), false)
				return res.User, other.ID, ""
			}, "not_found error.not_found"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				g := g.row(t)
				by, user, password := tc.setup(g)
				before := g.counts()
				_, err := g.st.Identity.DeleteUser(ctx, by, user, password, from())
				e := equipe.AsError(err)
				got := string(e.Code) + " " + e.Key
				if len(e.Fields) > 0 {
					got = string(e.Code) + " " + e.Fields[0].Key
				}
				if got != tc.want {
					t.Fatalf("got %q, want %q", got, tc.want)
				}
				g.unchanged(t, before, "throttles")
			})
		}
	})
}

func TestDeleteUser_ErasesThePersonAndNamesThemByAPseudonym(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		res := g.signedUp(address("ada"))
		email := address("grace")
		grace := g.invite(res.User, res.Account.ID, email, true)
		admin := g.instanceAdmin()

		d, err := g.st.Identity.DeleteUser(ctx, admin, grace.ID, "", from())
		if err != nil {
			t.Fatal(err)
		}
		if d.AccountsLeft != 1 || d.Pseudonym == grace.ID {
			t.Fatalf("deletion %+v", d)
		}
		if _, err := g.st.DB.UserByID(ctx, grace.ID); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("the user after deletion: %v", err)
		}
		// The account's log names the pseudonym, and no address of hers.
		about := g.about(d.Pseudonym.String())
		ts := types(about)
		if len(ts) < 3 || ts[0] != "member.added" || ts[len(ts)-2] != "member.removed" || ts[len(ts)-1] != "user.deleted" {
			t.Fatalf("events about the pseudonym: %v", types(about))
		}
		if len(g.about(grace.ID.String())) != 0 {
			t.Error("events still name the user's ID")
		}
		if got := g.templates(email); len(got) != 1 || got[0] != "identity_deleted" {
			t.Errorf("emails to the address: %v", got)
		}
		// The notice to her is queued: its address goes once it is delivered
		// (mail.TestWorker tests that); set aside here.
		if _, err := g.raw.Exec(`DELETE FROM outbox WHERE template = 'identity_deleted'`); err != nil {
			t.Fatal(err)
		}
		dump := storetest.Dump(t, g.raw)
		for _, s := range []string{email, grace.ID.String(), "Hopper"} {
			for _, line := range strings.Split(dump, "\n") {
				if strings.Contains(line, s) {
					t.Errorf("the database still holds %q: %.300s", s, line)
				}
			}
		}
		// The deletion is recorded, by the administrator, about the pseudonym,
		// and the notice goes to the address she had.
		done := g.events(store.AuditFilter{Action: "user.deleted", ActorID: &admin.ID})
		if len(done) != 1 || done[0].Subject.ID != d.Pseudonym.String() {
			t.Fatalf("user.deleted events: %+v", done)
		}
	})
}

func TestExportData_OnlyThePersonOrAnInstanceAdministrator(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		res := g.signedUp(address("ada"))
		grace := g.invite(res.User, res.Account.ID, address("grace"), false)
		if _, err := g.st.Identity.ExportData(ctx, res.User, grace.ID, from()); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("an account's administrator exports a member's data: %v", err)
		}
		x, err := g.st.Identity.ExportData(ctx, g.instanceAdmin(), grace.ID, from())
		if err != nil || x.User.ID != grace.ID || len(x.Memberships) != 1 || x.Memberships[0].Role != "collaborator" ||
			len(x.Memberships[0].Changes) == 0 || len(x.Sessions) != 0 {
			t.Fatalf("export %+v %v", x, err)
		}
		x, err = g.st.Identity.ExportData(ctx, res.User, res.User.ID, from())
		if err != nil || x.User.Email != res.User.Email || x.Format != identity.ExportFormat || len(x.Memberships) != 1 ||
			x.Memberships[0].Role != "admin" {
			t.Fatalf("own export %+v %v", x.User, err)
		}
	})
}

func TestPublishPolicyAs_AVersionAheadOfItsDateIsAskedFromThatDate(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		u := g.signedUp(address("ada")).User
		admin := g.instanceAdmin()
		if _, err := g.st.Identity.PublishPolicyAs(ctx, u, identity.NewPolicy{Label: "x", Texts: map[string]string{"en": "x"}}, from()); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("published by someone else: %v", err)
		}
		cur, _ := g.st.Identity.CurrentPolicy(ctx)
		at := g.st.Clock.Now().Add(time.Hour)
		p, err := g.st.Identity.PublishPolicyAs(ctx, admin, identity.NewPolicy{Label: "Next edition",
			Texts: map[string]string{"en": "Next.", "fr": "Suivante."}, EffectiveAt: at}, from())
		if err != nil || !p.EffectiveAt.Equal(at) || !strings.HasPrefix(p.Version, at.Format("2006-01-02")+"-") {
			t.Fatalf("published %+v %v", p, err)
		}
		if now, _ := g.st.Identity.CurrentPolicy(ctx); now.Version != cur.Version {
			t.Fatalf("before its date the policy is %s, not %s", now.Version, cur.Version)
		}
		g.st.Clock.Advance(time.Hour)
		q, needed, err := g.st.Identity.ConsentNeeded(ctx, u.ID)
		if err != nil || !needed || q.Version != p.Version {
			t.Fatalf("at its date: %s needed %v %v", q.Version, needed, err)
		}
		vs, _, err := g.st.Identity.Policies(ctx, admin, equipe.Page{})
		if err != nil || len(vs) == 0 || vs[0].Version != p.Version || !vs[0].Current || vs[0].Acceptances != 0 {
			t.Fatalf("versions %+v %v", vs, err)
		}
	})
}

// TestWithdrawPolicyAs_OnlyAVersionYetToTakeEffect: an instance
// administrator withdraws a version published ahead of its date, before
// it; nobody is then asked to accept it, the version before stays in
// effect, and one event says so. Anyone else, an unknown version and a
// version that took effect change nothing.
func TestWithdrawPolicyAs_OnlyAVersionYetToTakeEffect(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		u := g.signedUp(address("ada")).User
		admin := g.instanceAdmin()
		cur, err := g.st.Identity.PublishPolicyAs(ctx, admin, identity.NewPolicy{Label: "First", Texts: map[string]string{"en": "First."}}, from())
		if err != nil {
			t.Fatal(err)
		}
		if err := g.st.Identity.AcceptPolicy(ctx, u.ID, cur.Version, from()); err != nil {
			t.Fatal(err)
		}
		at := g.st.Clock.Now().Add(time.Hour)
		p, err := g.st.Identity.PublishPolicyAs(ctx, admin, identity.NewPolicy{Label: "Next edition",
			Texts: map[string]string{"en": "Next."}, EffectiveAt: at}, from())
		if err != nil {
			t.Fatal(err)
		}
		vs, _, _ := g.st.Identity.Policies(ctx, admin, equipe.Page{})
		if len(vs) < 2 || vs[0].Version != p.Version || !vs[0].Upcoming || vs[1].Upcoming {
			t.Fatalf("versions %+v", vs)
		}
		before := g.counts()
		for _, tt := range []struct {
			name    string
			by      equipe.User
			version string
			want    string
		}{
			{"by someone else", u, p.Version, "error.not_found"},
			{"an unknown version", admin, "no-such-version", "error.not_found"},
			{"the version in effect", admin, cur.Version, "policy.in_effect"},
		} {
			if err := g.st.Identity.WithdrawPolicyAs(ctx, tt.by, tt.version, from()); servicetest.Key(err) != tt.want {
				t.Errorf("%s: %v, want %s", tt.name, err, tt.want)
			}
		}
		g.unchanged(t, before)

		if err := g.st.Identity.WithdrawPolicyAs(ctx, admin, p.Version, from()); err != nil {
			t.Fatalf("withdraw: %v", err)
		}
		es := g.events(store.AuditFilter{Action: string(event.PolicyWithdrawn.Type)})
		if len(es) != 1 || es[0].Subject.ID != p.Version || es[0].Actor.ID == nil || *es[0].Actor.ID != admin.ID {
			t.Fatalf("events %+v", es)
		}
		if link, ok := es[0].Before.(event.PolicyLink); !ok || link.Label != "Next edition" || !link.EffectiveAt.Equal(at.Truncate(time.Microsecond)) {
			t.Errorf("before: %#v", es[0].Before)
		}
		if err := g.st.Identity.WithdrawPolicyAs(ctx, admin, p.Version, from()); servicetest.Key(err) != "error.not_found" {
			t.Errorf("withdrawn twice: %v", err)
		}
		// Past its date, the version before is still the one in effect.
		g.st.Clock.Advance(2 * time.Hour)
		if q, needed, err := g.st.Identity.ConsentNeeded(ctx, u.ID); err != nil || needed || q.Version != cur.Version {
			t.Fatalf("after its date: %s needed %v %v", q.Version, needed, err)
		}

		// A version that took effect stays.
		q, err := g.st.Identity.PublishPolicyAs(ctx, admin, identity.NewPolicy{Label: "Now", Texts: map[string]string{"en": "Now."}}, from())
		if err != nil {
			t.Fatal(err)
		}
		if err := g.st.Identity.WithdrawPolicyAs(ctx, admin, q.Version, from()); servicetest.Key(err) != "policy.in_effect" {
			t.Errorf("a version in effect: %v", err)
		}
		if now, _ := g.st.Identity.CurrentPolicy(ctx); now.Version != q.Version {
			t.Errorf("in effect: %s, want %s", now.Version, q.Version)
		}
	})
}

func TestDeleteUser_TheInstanceKeepsAnAdministrator(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		first := g.instanceAdmin()
		second, err := g.st.Identity.CreateAdmin(ctx, identity.NewAdmin{Email: address("support2"), FirstName: "Second",
			LastName: "Support", Locale: "en", Password: goodPassword})
		if err != nil {
			t.Fatal(err)
		}
		// With two, one may go.
		if _, err := g.st.Identity.DeleteUser(ctx, second, first.ID, "", from()); err != nil {
			t.Fatalf("deleting one of two instance administrators: %v", err)
		}
		// The one left may not.
		_, err = g.st.Identity.DeleteUser(ctx, second, second.ID, goodPassword, from())
		if e := equipe.AsError(err); e.Code != equipe.ECONFLICT || e.Key != "user.last_instance_admin" {
			t.Fatalf("deleting the last instance administrator: %v", err)
		}
	})
}

// deletable signs up an identity at addr under the names given, with a
// second administrator of its account, so that it may delete itself.
func (g *stage) deletable(addr, first, last string) equipe.User {
	g.t.Helper()
	x, err := g.st.Identity.SignUp(ctx, identity.SignUp{Email: addr, Password: goodPassword, FirstName: first,
		LastName: last, AccountName: "Short-lived", Locale: "en"}, from(), false)
	if err != nil {
		g.t.Fatal(err)
	}
	other := g.signedUp(address("co-admin"))
	if _, err := g.st.Team.AddMember(ctx, team.Actor{User: &x.User}, x.Account.ID, team.NewMember{Email: other.User.Email,
		FirstName: "Co", LastName: "Admin", Role: "admin", SendInvitation: true}); err != nil {
		g.t.Fatal(err)
	}
	if _, _, err := g.st.Identity.AcceptInvitation(ctx, g.secret(other.User.Email, "/invitations/"), identity.Accept{},
		&identity.Auth{User: other.User}, from()); err != nil {
		g.t.Fatal(err)
	}
	return x.User
}

func TestDeleteUser_ErasesItsOwnEmailsAndNoOneElses(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		victim, bystander, free := address("victim"), address("bystander"), address("free")
		g.signedUp(victim)
		g.signedUp(bystander)
		// Asking for someone's address as one's login email tells them; the
		// email is theirs and stays. Asking for a free address sends it the
		// confirmation link: that email names the person and goes with them.
		x := g.deletable(address("x"), "Mal", "Lory")
		for _, to := range []string{victim, free} {
			if _, err := g.st.Identity.RequestEmailChange(ctx, x, identity.EmailChangeRequest{NewEmail: to,
				CurrentPassword: goodPassword}, from()); err != nil {
				t.Fatal(err)
			}
		}
		if got := g.templates(free); len(got) != 1 || got[0] != "email_change_requested" {
			t.Fatalf("emails to the free address: %v", got)
		}
		theirs := fmt.Sprint(g.templates(victim), g.templates(bystander))
		if _, err := g.st.Identity.DeleteUser(ctx, x, x.ID, goodPassword, from()); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(g.templates(victim), g.templates(bystander)); got != theirs {
			t.Errorf("others' emails after a deletion: %s, before %s", got, theirs)
		}
		if got := g.templates(free); len(got) != 0 {
			t.Errorf("the confirmation to the address asked for outlived its person: %v", got)
		}
		// A name that every email holds ("Please do not reply to it.") is
		// nobody's email.
		y := g.deletable(address("y"), "Please do not", "reply to it.")
		if _, err := g.st.Identity.DeleteUser(ctx, y, y.ID, goodPassword, from()); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(g.templates(victim), g.templates(bystander)); got != theirs {
			t.Errorf("others' emails after the deletion of a person named like every email's footer: %s, before %s", got, theirs)
		}
	})
}

// lookalikes returns a victim's address and another that ends like it.
func lookalikes() (victim, lookalike string) {
	n := people.Add(1)
	return fmt.Sprintf("bob@corp%d.example", n), fmt.Sprintf("b@corp%d.example", n)
}

func TestDeleteUser_ForgetsItsOwnThrottlesOnly(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		victim, lookalike := lookalikes()
		g.signedUp(victim)
		guesses := func() (got []equipe.Code) {
			for range 6 {
				_, _, err := g.st.Identity.LogIn(ctx, victim, "wrong guess number one", from())
				got = append(got, equipe.ErrorCode(err))
			}
			return got
		}
		if got := guesses(); got[5] != equipe.ERATELIMITED {
			t.Fatalf("six wrong passwords: %v", got)
		}
		x := g.deletable(lookalike, "Mal", "Lory")
		if _, _, err := g.st.Identity.LogIn(ctx, x.Email, "wrong guess number two", from()); equipe.ErrorCode(err) != equipe.EUNAUTHORIZED {
			t.Fatalf("a wrong password for the deleted identity's address: %v", err)
		}
		if _, err := g.st.Identity.DeleteUser(ctx, x, x.ID, goodPassword, from()); err != nil {
			t.Fatal(err)
		}
		if got := guesses(); got[0] != equipe.ERATELIMITED {
			t.Errorf("the victim's failed logins were forgotten with another identity: %v", got)
		}
		var left int
		if err := g.raw.QueryRow(`SELECT count(*) FROM throttles WHERE key LIKE '%:' || $1`, x.Email).Scan(&left); err != nil || left != 0 {
			t.Errorf("throttles of the deleted address: %d %v", left, err)
		}
	})
}

func TestDeleteUser_RewritesOnlyTheEventsThatNameThePerson(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		victim, lookalike := lookalikes()
		g.signedUp(victim)
		states := func() (out []string) {
			rows, err := g.raw.Query(`SELECT action, after FROM audit_events ORDER BY id`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var a, s string
				if err := rows.Scan(&a, &s); err != nil {
					t.Fatal(err)
				}
				if strings.Contains(s, victim) {
					out = append(out, a+" "+s)
				}
			}
			return out
		}
		before := states()
		if len(before) == 0 {
			t.Fatal("no event names the victim's address")
		}
		// A last name that is also a role.
		x := g.deletable(lookalike, "Mal", "admin")
		if _, err := g.st.Identity.DeleteUser(ctx, x, x.ID, goodPassword, from()); err != nil {
			t.Fatal(err)
		}
		if after := states(); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("another person's events were rewritten:\n before %v\n after  %v", before, after)
		}
	})
}

func TestExportData_HoldsTheAddressOfThePersonsOwnRequestsOnly(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		o := from()
		res, err := g.st.Identity.SignUp(ctx, identity.SignUp{Email: address("ada"), Password: goodPassword, FirstName: "Ada",
			LastName: "Byron", AccountName: "Analytical Engines", Locale: "en"}, o, false)
		if err != nil {
			t.Fatal(err)
		}
		ada := res.User
		added, err := g.st.Team.AddMember(ctx, team.Actor{User: &ada, IP: "198.51.100.7"}, res.Account.ID,
			team.NewMember{Email: address("grace"), FirstName: "Grace", LastName: "Hopper", Role: "collaborator"})
		if err != nil {
			t.Fatal(err)
		}
		x, err := g.st.Identity.ExportData(ctx, g.instanceAdmin(), added.User.ID, from())
		if err != nil || len(x.Events) == 0 {
			t.Fatalf("Grace's export: %d events, %v", len(x.Events), err)
		}
		for _, e := range x.Events {
			if e.IP != "" {
				t.Errorf("Grace's export holds the address of %s's request (%s): %s", e.Actor.Name, e.Type, e.IP)
			}
		}
		x, err = g.st.Identity.ExportData(ctx, ada, ada.ID, from())
		if err != nil {
			t.Fatal(err)
		}
		var own bool
		for _, e := range x.Events {
			own = own || (e.Type == "account.created" && e.Actor.ID != nil && *e.Actor.ID == ada.ID && e.IP == o.IP)
		}
		if !own {
			t.Errorf("Ada's export lacks the address of her own sign-up, %s", o.IP)
		}
	})
}

// TestExportData_NamesAVersionWithoutALabelByItsDate: a version of the
// privacy policy published without a label is named in the export as
// people read it (by its date, in the person's language), beside its
// publication date, never by its digest alone.
func TestExportData_NamesAVersionWithoutALabelByItsDate(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		res := g.signedUp(address("ada"))
		p := equipe.PrivacyPolicy{Version: "v-unlabelled", Texts: map[string]string{"fr": "Politique.", "en": "Policy."},
			PublishedAt: g.st.Clock.Now(), EffectiveAt: g.st.Clock.Now()}
		if err := g.st.Identity.PublishPolicy(ctx, p); err != nil {
			t.Fatal(err)
		}
		if err := g.st.Identity.AcceptPolicy(ctx, res.User.ID, p.Version, from()); err != nil {
			t.Fatal(err)
		}
		x, err := g.st.Identity.ExportData(ctx, res.User, res.User.ID, from())
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, c := range x.Consents {
			if c.Version == p.Version {
				found = true
				if c.Label == "" || c.Label == c.Version || !c.PublishedAt.Equal(p.PublishedAt) {
					t.Errorf("the version accepted: %+v", c)
				}
			}
		}
		if !found {
			t.Errorf("the version accepted is not in the export: %+v", x.Consents)
		}
	})
}

// TestExportData_HoldsWhatWaitsAndWhatOthersWereGiven: the export holds the
// addresses waiting for their links (a notification address, a login email
// change), the client accounts the person's firm assigned them to, and
// what they let OpenID Connect clients ask and do, never a secret of them.
func TestExportData_HoldsWhatWaitsAndWhatOthersWereGiven(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		c := g.changer()
		firm := g.st.Team
		accounts, err := g.st.DB.AccountsOfUser(ctx, c.user.ID)
		if err != nil || len(accounts) != 1 {
			t.Fatalf("Ada's accounts: %v, %v", accounts, err)
		}
		ada, own := c.user, accounts[0].Account
		grace := g.invite(ada, own.ID, address("grace"), false)
		client, err := firm.CreateClient(ctx, team.Actor{User: &ada}, own.ID, team.NewAccount{Name: "Bakery Dupont", Locale: "fr"})
		if err != nil {
			t.Fatal(err)
		}
		if err := firm.AssignStaff(ctx, team.Actor{User: &ada}, own.ID, client.ID, grace.ID); err != nil {
			t.Fatal(err)
		}

		notify := address("ada.notices")
		if _, err := g.st.Identity.UpdateProfile(ctx, ada.ID, identity.ProfileChange{NotificationEmail: &notify}, from()); err != nil {
			t.Fatal(err)
		}
		g.request(c)

		admin := g.instanceAdmin()
		app, _, err := firm.CreateOIDCClient(ctx, team.Actor{User: &admin}, team.OIDCClientInput{Name: "Vendor app",
			RedirectURIs: []string{"https://app.example.com/cb"}, Scopes: []string{"profile", "email", "offline_access"}})
		if err != nil {
			t.Fatal(err)
		}
		now := g.st.Clock.Now().UTC().Truncate(time.Microsecond)
		if err := g.st.DB.Write(ctx, func(tx *store.Tx) error {
			if err := tx.SaveOIDCConsent(ctx, ada.ID, app.ID, []string{"openid", "profile"}, now); err != nil {
				return err
			}
			return tx.CreateGrant(ctx, &store.Grant{ID: "grant-1", ClientID: app.ID, UserID: ada.ID, AccountID: &own.ID,
				Scopes: []string{"openid", "profile"}, AuthTime: now, AMR: []string{"pwd"}, CreatedAt: now})
		}); err != nil {
			t.Fatal(err)
		}

		x, err := g.st.Identity.ExportData(ctx, ada, ada.ID, from())
		if err != nil {
			t.Fatal(err)
		}
		if p := x.User.PendingNotificationEmail; p == nil || p.Email != notify || !p.ExpiresAt.After(p.RequestedAt) {
			t.Errorf("the notification address waiting: %+v", p)
		}
		if p := x.User.PendingEmailChange; p == nil || p.Email != c.new || !p.ExpiresAt.After(p.RequestedAt) {
			t.Errorf("the login email waiting: %+v, want %s", p, c.new)
		}
		if len(x.OIDCConsents) != 1 || x.OIDCConsents[0].ClientID != app.ID || x.OIDCConsents[0].ClientName != "Vendor app" ||
			strings.Join(x.OIDCConsents[0].Scopes, " ") != "openid profile" {
			t.Errorf("the clients' consents: %+v", x.OIDCConsents)
		}
		if len(x.OIDCGrants) != 1 {
			t.Fatalf("the clients' grants: %+v", x.OIDCGrants)
		}
		if gr := x.OIDCGrants[0]; gr.ID != "grant-1" || gr.ClientName != "Vendor app" || gr.AccountID == nil ||
			*gr.AccountID != own.ID || !gr.AuthenticatedAt.Equal(now) || strings.Join(gr.Methods, " ") != "pwd" || gr.EndedAt != nil {
			t.Errorf("the grant: %+v", gr)
		}
		if len(x.ClientAssignments) != 0 {
			t.Errorf("Ada is assigned to no client (she reaches them as the firm's administrator): %+v", x.ClientAssignments)
		}

		x, err = g.st.Identity.ExportData(ctx, admin, grace.ID, from())
		if err != nil {
			t.Fatal(err)
		}
		if len(x.ClientAssignments) != 1 {
			t.Fatalf("Grace's assignments: %+v", x.ClientAssignments)
		}
		if a := x.ClientAssignments[0]; a.ClientID != client.ID || a.ClientName != "Bakery Dupont" || a.FirmID != own.ID ||
			a.FirmName != own.Name || a.AssignedAt.IsZero() {
			t.Errorf("Grace's assignment: %+v", a)
		}
		if x.User.PendingNotificationEmail != nil || x.User.PendingEmailChange != nil || len(x.OIDCGrants) != 0 || len(x.OIDCConsents) != 0 {
			t.Errorf("Grace's export holds Ada's: %+v %+v %+v %+v", x.User.PendingNotificationEmail, x.User.PendingEmailChange,
				x.OIDCGrants, x.OIDCConsents)
		}
	})
}

// TestExportData_HoldsTheEventsThatAssignedThePersonToAClient: an
// assignment to a firm's client is an event about the person assigned,
// though its subject is the client account: their export holds the events
// that assigned them and ended it (the assignment itself is gone), and not
// those of another member's assignment.
func TestExportData_HoldsTheEventsThatAssignedThePersonToAClient(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		res := g.signedUp(address("ada"))
		ada, firm := res.User, res.Account.ID
		grace := g.invite(ada, firm, address("grace"), false)
		hedy := g.invite(ada, firm, address("hedy"), false)
		client, err := g.st.Team.CreateClient(ctx, team.Actor{User: &ada}, firm, team.NewAccount{Name: "Bakery Dupont", Locale: "fr"})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []equipe.ID{grace.ID, hedy.ID} {
			if err := g.st.Team.AssignStaff(ctx, team.Actor{User: &ada}, firm, client.ID, u); err != nil {
				t.Fatal(err)
			}
		}
		if err := g.st.Team.UnassignStaff(ctx, team.Actor{User: &ada}, firm, client.ID, grace.ID); err != nil {
			t.Fatal(err)
		}
		x, err := g.st.Identity.ExportData(ctx, g.instanceAdmin(), grace.ID, from())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range x.Events {
			if e.Subject.ID != client.ID.String() {
				continue
			}
			got = append(got, string(e.Type))
			for _, st := range []json.RawMessage{e.Before, e.After} {
				if len(st) > 0 && string(st) != "null" && !strings.Contains(string(st), grace.ID.String()) {
					t.Errorf("Grace's export holds another's %s: %s", e.Type, st)
				}
			}
		}
		if want := []string{"client.staff_assigned", "client.staff_unassigned"}; !slices.Equal(got, want) {
			t.Errorf("the events of Grace's assignment in her export: %v, want %v", got, want)
		}
	})
}

// TestDeleteUser_ErasesThePersonFromTheFilesImported: an administrator's
// import of members keeps its file's rows; deleting a person it added
// leaves no address nor name of theirs in them, whatever the case the file
// typed the address in, and leaves the other rows as they were.
func TestDeleteUser_ErasesThePersonFromTheFilesImported(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		res := g.signedUp(address("ada"))
		ada := res.User
		grace, hedy := address("grace"), address("hedy")
		cat, err := i18n.Load()
		if err != nil {
			t.Fatal(err)
		}
		file, err := spreadsheet.ReadMembers(strings.NewReader("email,first_name,last_name,role\n"+
			strings.ToUpper(grace[:1])+grace[1:]+",Grace,Hopper,manager\n"+hedy+",Hedy,Lamarr,manager\n"), cat)
		if err != nil {
			t.Fatal(err)
		}
		actor := team.Actor{User: &ada}
		plan, err := g.st.Team.PlanImport(ctx, actor, res.Account.ID, file, true)
		if err != nil || len(plan.Problems) > 0 || plan.ID == nil {
			t.Fatalf("plan: %+v %v", plan.Problems, err)
		}
		if err := g.st.Team.StartImport(ctx, actor, res.Account.ID, *plan.ID); err != nil {
			t.Fatal(err)
		}
		if err := g.st.Team.RunImport(ctx, *plan.ID, nil); err != nil {
			t.Fatal(err)
		}
		_, key, _ := identity.NormalizeEmail(grace)
		imported, err := g.st.DB.UserByEmailKey(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		rowOf := func(email string) string {
			t.Helper()
			var data string
			if err := g.raw.QueryRow(`SELECT data FROM member_import_rows WHERE data LIKE '%' || $1 || '%'`, email).Scan(&data); err != nil {
				t.Fatalf("the import's row of %s: %v", email, err)
			}
			return data
		}
		hedyRow := rowOf(hedy)
		rowOf(strings.ToUpper(grace[:1]) + grace[1:]) // as the file typed it

		if _, err := g.st.Identity.DeleteUser(ctx, g.instanceAdmin(), imported.ID, "", from()); err != nil {
			t.Fatal(err)
		}
		rows, err := g.raw.Query(`SELECT data FROM member_import_rows`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var data string
			if err := rows.Scan(&data); err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{grace, "Grace", "Hopper"} {
				if strings.Contains(strings.ToLower(data), strings.ToLower(s)) {
					t.Errorf("an import's row still holds %q: %s", s, data)
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if got := rowOf(hedy); got != hedyRow {
			t.Errorf("another person's row changed: %s → %s", hedyRow, got)
		}
	})
}
