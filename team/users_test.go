package team_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/internal/servicetest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// openSessions opens n sessions of the user, seen now.
func openSessions(t *testing.T, w *world, user equipe.ID, n int) {
	t.Helper()
	now := w.st.Clock.Now()
	for range n {
		if err := w.db.Write(ctx, func(tx *store.Tx) error {
			return tx.CreateSession(ctx, &equipe.Session{ID: equipe.NewID(), Hash: []byte(equipe.NewID().String()), UserID: user,
				CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)})
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUsers_OnlyTheInstanceFindsPeopleSeesThemAndEndsTheirSessions: an
// instance administrator or an instance key searches the people, sees one
// with their memberships and open sessions, and ends every session of
// theirs (audited); an account's administrator or key is answered as if
// nothing existed, and ends nothing.
func TestUsers_OnlyTheInstanceFindsPeopleSeesThemAndEndsTheirSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		zoe := w.add("zoe", "admin", equipe.MemberActive)
		adam := w.add("adam", "collaborator", equipe.MemberActive)
		openSessions(t, w, adam.ID, 2)
		admin := *zoe
		admin.InstanceAdmin = true
		instance := []team.Actor{{User: &admin}, {Key: &equipe.APIKey{ID: equipe.NewID()}}}
		outside := []team.Actor{w.actor("zoe"), {Key: &equipe.APIKey{ID: equipe.NewID(), AccountID: &w.account}}}

		for _, a := range instance {
			users, next, err := w.s.Users(ctx, a, "ADAM", equipe.Page{Limit: 10})
			if err != nil || len(users) != 1 || users[0].ID != adam.ID || next != "" {
				t.Fatalf("search: %v %q %v", users, next, err)
			}
			v, err := w.s.User(ctx, a, adam.ID, time.Hour)
			if err != nil || v.Sessions != 2 || len(v.Memberships) != 1 || v.Memberships[0].Account.ID != w.account {
				t.Fatalf("a person: %+v %v", v, err)
			}
		}
		if _, _, err := w.s.Users(ctx, instance[0], "", equipe.Page{Limit: equipe.MaxPage + 1}); code(err) != "bad_request error.fields" {
			t.Fatalf("a page too long: %s", code(err))
		}
		for _, a := range outside {
			if _, _, err := w.s.Users(ctx, a, "", equipe.Page{Limit: 10}); code(err) != "not_found error.not_found" {
				t.Fatalf("the people to an account: %s", code(err))
			}
			if _, err := w.s.User(ctx, a, adam.ID, time.Hour); code(err) != "not_found error.not_found" {
				t.Fatalf("a person to an account: %s", code(err))
			}
			if _, err := w.s.EndUserSessions(ctx, a, adam.ID); code(err) != "not_found error.not_found" {
				t.Fatalf("ending sessions from an account: %s", code(err))
			}
		}
		if n, err := w.s.EndUserSessions(ctx, instance[1], adam.ID); err != nil || n != 2 {
			t.Fatalf("end the sessions: %d %v", n, err)
		}
		if v, _ := w.s.User(ctx, instance[0], adam.ID, time.Hour); v.Sessions != 0 {
			t.Fatalf("sessions left: %d", v.Sessions)
		}
		events, err := db.AuditEvents(ctx, store.AuditFilter{Action: "user.sessions_ended", TargetID: adam.ID.String()})
		if err != nil || len(events) != 1 || events[0].ActorType != "instance_key" {
			t.Fatalf("the audit: %+v %v", events, err)
		}
		if _, err := w.s.EndUserSessions(ctx, instance[0], equipe.NewID()); code(err) != "not_found error.not_found" {
			t.Fatalf("an unknown person: %s", code(err))
		}
	})
}

// TestUsers_TheInstanceDisablesAndEnablesAnIdentity: disabled by the
// instance, a person's sessions end, every check about them is denied and
// the change is audited; enabled again, their checks are allowed. Nobody
// disables their own identity or the last enabled instance administrator's,
// and the page is told so before anyone tries; a change refused takes none
// of its other parts; an account's administrator or key is answered as if
// nothing existed.
func TestUsers_TheInstanceDisablesAndEnablesAnIdentity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		zoe := w.add("zoe", "admin", equipe.MemberActive)
		adam := w.add("adam", "collaborator", equipe.MemberActive)
		openSessions(t, w, adam.ID, 2)
		write := func(fn func(tx *store.Tx) error) {
			t.Helper()
			if err := db.Write(ctx, fn); err != nil {
				t.Fatal(err)
			}
		}
		write(func(tx *store.Tx) error { return tx.SetInstanceAdmin(ctx, zoe.ID, true) })
		admin := *zoe
		admin.InstanceAdmin = true
		self, key := team.Actor{User: &admin}, team.Actor{Key: &equipe.APIKey{ID: equipe.NewID()}}
		yes, no := true, false
		check := func(who *equipe.User) access.Decision {
			t.Helper()
			d, err := w.s.Check(ctx, team.Actor{Operator: true}, team.CheckQuery{Account: w.account, User: who.ID, Permission: "members.view"})
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		may := func(a team.Actor, who *equipe.User, action string) team.Allowed {
			t.Helper()
			v, err := w.s.User(ctx, a, who.ID, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			return v.Actions.Get(action)
		}
		if d := check(adam); !d.Allowed {
			t.Fatalf("before: %+v", d)
		}

		for _, a := range []team.Actor{w.actor("zoe"), {Key: &equipe.APIKey{ID: equipe.NewID(), AccountID: &w.account}}} {
			if _, err := w.s.ChangeUser(ctx, a, adam.ID, team.UserChange{Disabled: &yes}); code(err) != "not_found error.not_found" {
				t.Fatalf("from an account: %s", code(err))
			}
		}
		if _, err := w.s.ChangeUser(ctx, key, equipe.NewID(), team.UserChange{Disabled: &yes}); code(err) != "not_found error.not_found" {
			t.Fatalf("nobody: %s", code(err))
		}

		if a := may(self, adam, team.UserDisable); !a.OK() {
			t.Fatalf("the page's answer for adam: %v", a.Err)
		}
		u, err := w.s.ChangeUser(ctx, self, adam.ID, team.UserChange{Disabled: &yes})
		if err != nil || u.DisabledAt.IsZero() {
			t.Fatalf("disable: %+v %v", u, err)
		}
		if v, _ := w.s.User(ctx, key, adam.ID, time.Hour); v.Sessions != 0 || !v.Actions.May(team.UserEnable) || v.Actions.May(team.UserDisable) {
			t.Fatalf("after: %d sessions, %+v", v.Sessions, v.Actions)
		}
		if d := check(adam); d.Reason != access.DeniedUserDisabled {
			t.Fatalf("a check about a disabled identity: %+v", d)
		}
		// Again: nothing changes, nothing is recorded.
		if _, err := w.s.ChangeUser(ctx, key, adam.ID, team.UserChange{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		events, err := db.AuditEvents(ctx, store.AuditFilter{Action: "user.disabled", TargetID: adam.ID.String()})
		if err != nil || len(events) != 1 || events[0].ActorType != "user" || events[0].AccountID != nil ||
			!strings.Contains(events[0].After, `"sessions_ended":2`) {
			t.Fatalf("the audit: %+v %v", events, err)
		}

		if _, err := w.s.ChangeUser(ctx, key, adam.ID, team.UserChange{Disabled: &no}); err != nil {
			t.Fatal(err)
		}
		if d := check(adam); !d.Allowed {
			t.Fatalf("enabled again: %+v", d)
		}
		if events, _ := db.AuditEvents(ctx, store.AuditFilter{Action: "user.enabled", TargetID: adam.ID.String()}); len(events) != 1 ||
			events[0].ActorType != "instance_key" {
			t.Fatalf("the audit of the enabling: %+v", events)
		}

		// Their own identity: refused, and the external ID asked for with
		// it is not set either.
		if a := may(self, zoe, team.UserDisable); a.Code() != "user.disable_self" {
			t.Fatalf("the page's answer for oneself: %q", a.Code())
		}
		ext := "z-9"
		if _, err := w.s.ChangeUser(ctx, self, zoe.ID, team.UserChange{ExternalID: &ext, Disabled: &yes}); code(err) != "conflict user.disable_self" {
			t.Fatalf("oneself: %s", code(err))
		}
		if v, _ := w.s.User(ctx, key, zoe.ID, time.Hour); v.User.ExternalID != "" || !v.User.DisabledAt.IsZero() {
			t.Fatalf("a refused change took effect: %+v", v.User)
		}
		// The only enabled instance administrator, by a key: refused; with
		// a second one, allowed.
		if a := may(key, zoe, team.UserDisable); a.Code() != "user.disable_last_instance_admin" {
			t.Fatalf("the page's answer for the last administrator: %q", a.Code())
		}
		if _, err := w.s.ChangeUser(ctx, key, zoe.ID, team.UserChange{Disabled: &yes}); code(err) != "conflict user.disable_last_instance_admin" {
			t.Fatalf("the last administrator: %s", code(err))
		}
		write(func(tx *store.Tx) error { return tx.SetInstanceAdmin(ctx, adam.ID, true) })
		if _, err := w.s.ChangeUser(ctx, key, zoe.ID, team.UserChange{Disabled: &yes}); err != nil {
			t.Fatalf("one administrator of two: %v", err)
		}
	})
}

// TestUsers_TwoInstanceAdministratorsDisablingEachOtherLeaveOne runs the
// race many times: the instance's two administrators, each disabling the
// other at the same moment. One wins; the other is refused, and the
// instance keeps an enabled administrator.
func TestUsers_TwoInstanceAdministratorsDisablingEachOtherLeaveOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		st := servicetest.New(t, db, identity.Params{})
		yes := true
		for run := range 50 {
			w := worldOn(t, st, freshDomain())
			a, b := w.add(fmt.Sprintf("a%d", run), "collaborator", equipe.MemberActive), w.add(fmt.Sprintf("b%d", run), "collaborator", equipe.MemberActive)
			if err := db.Write(ctx, func(tx *store.Tx) error {
				for _, u := range []*equipe.User{a, b} {
					if err := tx.SetInstanceAdmin(ctx, u.ID, true); err != nil {
						return err
					}
					u.InstanceAdmin = true
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, pair := range [][2]*equipe.User{{a, b}, {b, a}} {
				wg.Go(func() {
					_, errs[i] = st.Team.ChangeUser(ctx, team.Actor{User: pair[0]}, pair[1].ID, team.UserChange{Disabled: &yes})
				})
			}
			wg.Wait()
			admins, err := db.EnabledInstanceAdmins(ctx)
			if err != nil {
				t.Fatal(err)
			}
			refused := 0
			for _, err := range errs {
				if err != nil {
					if code(err) != "conflict user.disable_last_instance_admin" {
						t.Fatalf("run %d: unexpected error %v", run, err)
					}
					refused++
				}
			}
			if len(admins) != 1 || refused != 1 {
				t.Fatalf("run %d: %d administrators left, %d refused (errors %v, %v)", run, len(admins), refused, errs[0], errs[1])
			}
			// The next run's two are the instance's only administrators.
			if err := db.Write(ctx, func(tx *store.Tx) error { return tx.SetInstanceAdmin(ctx, admins[0], false) }); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestUsers_PagesHoldWhenThePreviousPagesLastPersonChangesOrGoes: the
// instance's people come a page at a time in login-email order; when the
// last person of a page changes their login email or is erased before the
// next page is asked for, the next page still starts where the previous
// one ended: nobody after them is skipped.
func TestUsers_PagesHoldWhenThePreviousPagesLastPersonChangesOrGoes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		admin := *w.add("pagezoe", "admin", equipe.MemberActive)
		admin.InstanceAdmin = true
		a := team.Actor{User: &admin}
		for _, name := range []string{"pagea", "pageb", "pagec", "paged", "pagee"} {
			w.add(name, "collaborator", equipe.MemberActive)
		}
		names := func(us []equipe.User) []string {
			var out []string
			for _, u := range us {
				out = append(out, u.FirstName)
			}
			return out
		}
		page := func(after string) ([]string, string) {
			t.Helper()
			us, next, err := w.s.Users(ctx, a, w.domain, equipe.Page{After: after, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			return names(us), next
		}
		got, next := page("")
		if strings.Join(got, " ") != "pagea pageb" || next == "" {
			t.Fatalf("first page: %v %q", got, next)
		}
		// pageb, the page's last, takes an address that sorts last.
		b := w.users["pageb"]
		err := db.Write(ctx, func(tx *store.Tx) error {
			return tx.SetEmail(ctx, b.ID, "zz-"+b.Email, "zz-"+b.EmailKey, time.Now())
		})
		if err != nil {
			t.Fatal(err)
		}
		got, next = page(next)
		if strings.Join(got, " ") != "pagec paged" || next == "" {
			t.Fatalf("after the last one changed their address: %v %q", got, next)
		}
		// paged, the page's last, is erased.
		err = db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.ForgetUser(ctx, w.users["paged"], []equipe.ID{w.account}, nil, equipe.NewID())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		got, next = page(next)
		if strings.Join(got, " ") != "pagee pagezoe" {
			t.Fatalf("after the last one was erased: %v %q", got, next)
		}
	})
}
