package team_test

import (
	"context"
	"fmt"
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

var ctx = context.Background()

// world is an account with members of each built-in role.
type world struct {
	t       *testing.T
	db      *store.DB
	s       *team.Service
	account equipe.ID
	users   map[string]*equipe.User // by name
	res     []equipe.Resource
}

func newWorld(t *testing.T, db *store.DB) *world {
	w := &world{t: t, db: db, s: servicetest.New(t, db, identity.Params{}).Team, account: equipe.NewID(), users: map[string]*equipe.User{}}
	now := time.Now()
	err := db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.CreateAccount(ctx, &equipe.Account{ID: w.account, Name: "Acme", Locale: "fr", InvitationTTLHours: 168, CreatedAt: now}); err != nil {
			return err
		}
		for i, typ := range []string{"location", "location", "product", "product"} {
			r := equipe.Resource{ID: equipe.NewID(), AccountID: w.account, Type: typ, Name: fmt.Sprintf("%s %d", typ, i), CreatedAt: now}
			if err := tx.CreateResource(ctx, &r); err != nil {
				return err
			}
			w.res = append(w.res, r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// add creates a user who is a member with role; the member holds the first
// product, as the catalogue requires.
func (w *world) add(name, role string, status equipe.MemberStatus) *equipe.User {
	w.t.Helper()
	u := &equipe.User{ID: equipe.NewID(), Email: name + "@example.com", EmailKey: name + "@example.com", FirstName: name,
		LastName: "X", Locale: "fr", CreatedAt: time.Now()}
	err := w.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		m := &equipe.Member{AccountID: w.account, UserID: u.ID, Role: role, Status: status, CreatedAt: time.Now()}
		if status == equipe.MemberActive {
			m.JoinedAt = time.Now()
		}
		if err := tx.CreateMember(ctx, m); err != nil {
			return err
		}
		return tx.AssignResource(ctx, w.account, u.ID, w.res[2].ID)
	})
	if err != nil {
		w.t.Fatal(err)
	}
	w.users[name] = u
	return u
}

func (w *world) actor(name string) team.Actor {
	return team.Actor{User: w.users[name], IP: "192.0.2.1"}
}

func (w *world) check(name, perm string) access.Decision {
	w.t.Helper()
	d, err := w.s.Check(ctx, team.Actor{Key: &equipe.APIKey{ID: equipe.NewID()}}, team.CheckQuery{
		User: w.users[name].ID, Account: w.account, Permission: perm})
	if err != nil {
		w.t.Fatal(err)
	}
	return d
}

func ptr[T any](v T) *T { return &v }

func code(err error) string {
	if err == nil {
		return ""
	}
	e := equipe.AsError(err)
	return string(e.Code) + " " + e.Key
}

func TestChangeMember_Rules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.add("admin", "admin", equipe.MemberActive)
		w.add("manager", "manager", equipe.MemberActive)
		w.add("collab", "collaborator", equipe.MemberActive)
		w.add("guest", "guest", equipe.MemberActive)
		w.add("other", "collaborator", equipe.MemberActive)
		w.add("admin2", "admin", equipe.MemberSuspended)
		tests := []struct {
			name, actor, target string
			ch                  team.MemberChange
			want                string
		}{
			{"a guest cannot manage members", "guest", "other", team.MemberChange{Role: ptr("guest")}, "forbidden access.permission_required"},
			{"a manager cannot make an administrator", "manager", "other", team.MemberChange{Role: ptr("admin")}, "forbidden role.admin_only"},
			{"a manager cannot change an administrator", "manager", "admin", team.MemberChange{Title: ptr("Boss")}, "forbidden member.outranks"},
			{"a manager cannot grant billing", "manager", "other", team.MemberChange{Overrides: &[]equipe.Override{{Permission: "billing.access", Allow: true}}}, "forbidden role.beyond_own"},
			{"an unknown permission is refused", "admin", "other", team.MemberChange{Overrides: &[]equipe.Override{{Permission: "records.fly", Allow: true}}}, "invalid error.fields"},
			{"a scope the permission lacks is refused", "admin", "other", team.MemberChange{Overrides: &[]equipe.Override{{Permission: "billing.access", Allow: true, Scope: "owned"}}}, "invalid error.fields"},
			{"an unknown role is refused", "admin", "other", team.MemberChange{Role: ptr("pilot")}, "invalid error.fields"},
			{"the last active administrator cannot be demoted", "admin", "admin", team.MemberChange{Role: ptr("manager")}, "conflict member.last_admin"},
			{"the last active administrator cannot be suspended", "admin", "admin", team.MemberChange{Status: ptr(equipe.MemberSuspended)}, "conflict member.last_admin"},
			{"a required product stays assigned", "admin", "other", team.MemberChange{Resources: &[]equipe.ID{w.res[0].ID}}, "conflict member.required_resource"},
			{"a resource of another account is refused", "admin", "other", team.MemberChange{Resources: &[]equipe.ID{w.res[2].ID, equipe.NewID()}}, "not_found resource.unknown"},
			{"a collaborator cannot manage", "collab", "other", team.MemberChange{Title: ptr("x")}, "forbidden access.permission_required"},
			{"an unknown member is not found", "admin", "nobody", team.MemberChange{Title: ptr("x")}, "not_found error.not_found"},
			{"a manager may narrow a collaborator", "manager", "other", team.MemberChange{Overrides: &[]equipe.Override{{Permission: "records.edit", Allow: true, Scope: "owned"}}}, ""},
			{"a manager may give guest", "manager", "other", team.MemberChange{Role: ptr("guest"), Title: ptr("Comptable")}, ""},
			{"an administrator may make an administrator", "admin", "manager", team.MemberChange{Role: ptr("admin")}, ""},
			{"with two, an administrator may step down", "admin", "admin", team.MemberChange{Role: ptr("manager")}, ""},
		}
		for _, tt := range tests {
			target := equipe.NewID()
			if u := w.users[tt.target]; u != nil {
				target = u.ID
			}
			_, err := w.s.ChangeMember(ctx, w.actor(tt.actor), w.account, target, tt.ch)
			if got := code(err); got != tt.want {
				t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
			}
		}
		// "other" became a guest, but keeps the override narrowing edits to their own records.
		if d := w.check("other", "records.edit"); !d.Allowed || d.Reason != access.AllowedScopeOwned {
			t.Errorf("guest with an override: %v", d)
		}
		if d := w.check("other", "members.manage"); d.Allowed {
			t.Errorf("guest: %v", d)
		}
		if d := w.check("manager", "billing.access"); !d.Allowed {
			t.Errorf("the new administrator cannot access billing: %v", d)
		}
	})
}

func TestChangeMember_TakesEffectOnTheNextCheck(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.add("admin", "admin", equipe.MemberActive)
		w.add("m", "manager", equipe.MemberActive)
		if d := w.check("m", "members.manage"); !d.Allowed {
			t.Fatalf("manager: %v", d)
		}
		if _, err := w.s.ChangeMember(ctx, w.actor("admin"), w.account, w.users["m"].ID, team.MemberChange{Role: ptr("guest")}); err != nil {
			t.Fatal(err)
		}
		if d := w.check("m", "members.manage"); d.Allowed || d.Reason != access.DeniedNotGranted {
			t.Fatalf("right after the demotion: %v", d)
		}
		if _, err := w.s.ChangeMember(ctx, w.actor("admin"), w.account, w.users["m"].ID, team.MemberChange{Status: ptr(equipe.MemberSuspended)}); err != nil {
			t.Fatal(err)
		}
		if d := w.check("m", "records.view"); d.Allowed || d.Reason != access.DeniedMemberSuspended {
			t.Fatalf("right after the suspension: %v", d)
		}
		if _, err := w.s.ChangeMember(ctx, w.actor("admin"), w.account, w.users["m"].ID, team.MemberChange{Status: ptr(equipe.MemberActive)}); err != nil {
			t.Fatal(err)
		}
		if d := w.check("m", "records.view"); !d.Allowed {
			t.Fatalf("right after the reactivation: %v", d)
		}
	})
}

// TestChangeMember_TwoAdministratorsDemotingEachOtherLeaveOne runs the race
// many times: two administrators, each demoting the other at the same moment.
func TestChangeMember_TwoAdministratorsDemotingEachOtherLeaveOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for run := range 100 {
			w := newWorld(t, db)
			a, b := w.add(fmt.Sprintf("a%d", run), "admin", equipe.MemberActive), w.add(fmt.Sprintf("b%d", run), "admin", equipe.MemberActive)
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, pair := range [][2]*equipe.User{{a, b}, {b, a}} {
				wg.Go(func() {
					_, errs[i] = w.s.ChangeMember(ctx, team.Actor{User: pair[0]}, w.account, pair[1].ID, team.MemberChange{Role: ptr("manager")})
				})
			}
			wg.Wait()
			admins := 0
			for _, u := range []*equipe.User{a, b} {
				m, err := db.Member(ctx, w.account, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				if m.Role == "admin" {
					admins++
				}
			}
			if admins != 1 {
				t.Fatalf("run %d: %d administrators left (errors %v, %v)", run, admins, errs[0], errs[1])
			}
			for _, err := range errs {
				if c := code(err); err != nil && c != "conflict member.last_admin" && c != "forbidden access.changed" && c != "forbidden member.outranks" {
					t.Fatalf("run %d: unexpected error %v", run, err)
				}
			}
		}
	})
}

// TestChangeMember_ADemotedManagerActsNoMore runs another race many times:
// an administrator demotes a manager to guest while the manager suspends a
// collaborator. The manager's change may win only by committing first: a
// suspension recorded after the demotion was made with rights the manager
// no longer held.
func TestChangeMember_ADemotedManagerActsNoMore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		admin := w.add("admin", "admin", equipe.MemberActive)
		late := 0
		for run := range 60 {
			mgr := w.add(fmt.Sprintf("m%d", run), "manager", equipe.MemberActive)
			col := w.add(fmt.Sprintf("c%d", run), "collaborator", equipe.MemberActive)
			var wg sync.WaitGroup
			var demoted, suspended error
			wg.Go(func() {
				_, demoted = w.s.ChangeMember(ctx, team.Actor{User: admin}, w.account, mgr.ID, team.MemberChange{Role: ptr("guest")})
			})
			wg.Go(func() {
				_, suspended = w.s.ChangeMember(ctx, team.Actor{User: mgr}, w.account, col.ID, team.MemberChange{Status: ptr(equipe.MemberSuspended)})
			})
			wg.Wait()
			if demoted != nil {
				t.Fatalf("run %d: demotion: %v", run, demoted)
			}
			if suspended != nil {
				if c := code(suspended); c != "forbidden access.changed" && c != "forbidden access.permission_required" {
					t.Fatalf("run %d: unexpected error %v", run, suspended)
				}
				continue
			}
			events, err := db.AuditEvents(ctx, store.AuditFilter{AccountID: &w.account, Action: "member.changed", Limit: 500})
			if err != nil {
				t.Fatal(err)
			}
			var demotion, suspension equipe.AuditEvent
			for _, e := range events {
				switch e.TargetID {
				case mgr.ID.String():
					demotion = e
				case col.ID.String():
					suspension = e
				}
			}
			// Event IDs grow with time, and each is written under the lock.
			if suspension.ID.String() > demotion.ID.String() {
				late++
			}
		}
		if late > 0 {
			t.Fatalf("%d suspensions were made after the manager's demotion", late)
		}
	})
}
