package team_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
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
	st      *servicetest.Stack
	s       *team.Service
	account equipe.ID
	domain  string                  // of the members' addresses: an address has one identity in the instance
	users   map[string]*equipe.User // by name
	res     []equipe.Resource
}

// newWorld makes an account on its own use cases, whose members' addresses
// are name@example.com.
func newWorld(t *testing.T, db *store.DB) *world {
	return worldOn(t, servicetest.New(t, db, identity.Params{}), "example.com")
}

// worldOn makes an account on the use cases st, whose members' addresses
// are name@domain: two locations, then two products.
func worldOn(t *testing.T, st *servicetest.Stack, domain string) *world {
	db := st.DB
	w := &world{t: t, db: db, st: st, s: st.Team, account: equipe.NewID(), domain: domain, users: map[string]*equipe.User{}}
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
// product, as the catalogue requires. Their address is verified, as it is
// for whoever joined with an emailed link.
func (w *world) add(name, role string, status equipe.MemberStatus) *equipe.User {
	w.t.Helper()
	u := &equipe.User{ID: equipe.NewID(), Email: w.email(name), EmailKey: w.email(name), FirstName: name,
		LastName: "X", Locale: "fr", EmailVerifiedAt: time.Now(), CreatedAt: time.Now()}
	err := w.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		m := &equipe.Member{AccountID: w.account, UserID: u.ID, Role: role, Status: status, CreatedAt: time.Now()}
		if status == equipe.MemberActive || status == equipe.MemberSuspended {
			m.JoinedAt = time.Now()
		} else {
			// Added under their names, as they will choose them.
			m.FirstName, m.LastName = u.FirstName, u.LastName
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

// email returns the address of the member name.
func (w *world) email(name string) string { return name + "@" + w.domain }

// domains numbers the accounts that share a database, so that their
// members' addresses differ.
var domains atomic.Int64

// freshDomain returns a domain no other account of the test binary uses.
func freshDomain() string { return fmt.Sprintf("a%d.example.com", domains.Add(1)) }

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

// TestChangeMember_Rules gives each row an account of its own with the same
// cast — admin (the only active administrator), manager, collab, guest,
// other (a collaborator) and admin2 (a suspended administrator) — so that no
// row depends on what another changed or on the order they run in.
func TestChangeMember_Rules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		st := servicetest.New(t, db, identity.Params{})
		narrow := &[]equipe.Override{{Permission: "records.edit", Allow: true, Scope: "owned"}}
		tests := []struct {
			name, actor, target string
			ch                  team.MemberChange
			resources           []int // the resources to assign, by index in the account's; -1: one of no account
			before              func(w *world) error
			want                string
			then                func(t *testing.T, w *world)
		}{
			{name: "a guest cannot manage members", actor: "guest", target: "other", ch: team.MemberChange{Role: ptr("guest")}, want: "forbidden access.permission_required"},
			{name: "a manager cannot make an administrator", actor: "manager", target: "other", ch: team.MemberChange{Role: ptr("admin")}, want: "forbidden role.admin_only"},
			{name: "a manager cannot change an administrator", actor: "manager", target: "admin", ch: team.MemberChange{Title: ptr("Boss")}, want: "forbidden member.outranks"},
			{name: "a manager cannot grant billing", actor: "manager", target: "other", ch: team.MemberChange{Overrides: &[]equipe.Override{{Permission: "billing.access", Allow: true}}}, want: "forbidden role.beyond_own"},
			{name: "an unknown permission is refused", actor: "admin", target: "other", ch: team.MemberChange{Overrides: &[]equipe.Override{{Permission: "records.fly", Allow: true}}}, want: "invalid error.fields"},
			{name: "a scope the permission lacks is refused", actor: "admin", target: "other", ch: team.MemberChange{Overrides: &[]equipe.Override{{Permission: "billing.access", Allow: true, Scope: "owned"}}}, want: "invalid error.fields"},
			{name: "an unknown role is refused", actor: "admin", target: "other", ch: team.MemberChange{Role: ptr("pilot")}, want: "invalid error.fields"},
			{name: "the last active administrator cannot be demoted", actor: "admin", target: "admin", ch: team.MemberChange{Role: ptr("manager")}, want: "conflict member.last_admin"},
			{name: "the last active administrator cannot be suspended", actor: "admin", target: "admin", ch: team.MemberChange{Status: ptr(equipe.MemberSuspended)}, want: "conflict member.last_admin"},
			{name: "a required product stays assigned", actor: "admin", target: "other", resources: []int{0}, want: "conflict member.required_resource"},
			{name: "a resource of another account is refused", actor: "admin", target: "other", resources: []int{2, -1}, want: "not_found resource.unknown"},
			{name: "a collaborator cannot manage", actor: "collab", target: "other", ch: team.MemberChange{Title: ptr("x")}, want: "forbidden access.permission_required"},
			{name: "an unknown member is not found", actor: "admin", target: "nobody", ch: team.MemberChange{Title: ptr("x")}, want: "not_found error.not_found"},
			{name: "a manager may narrow a collaborator", actor: "manager", target: "other", ch: team.MemberChange{Overrides: narrow},
				then: func(t *testing.T, w *world) {
					if d := w.check("other", "records.edit"); !d.Allowed || d.Reason != access.AllowedScopeOwned {
						t.Errorf("collaborator with an override: %v", d)
					}
				}},
			{name: "a manager may give guest, and the member keeps their overrides", actor: "manager", target: "other",
				ch: team.MemberChange{Role: ptr("guest"), Title: ptr("Comptable")},
				before: func(w *world) error {
					_, err := w.s.ChangeMember(ctx, w.actor("manager"), w.account, w.users["other"].ID, team.MemberChange{Overrides: narrow})
					return err
				},
				then: func(t *testing.T, w *world) {
					if d := w.check("other", "records.edit"); !d.Allowed || d.Reason != access.AllowedScopeOwned {
						t.Errorf("guest with an override: %v", d)
					}
					if d := w.check("other", "members.manage"); d.Allowed {
						t.Errorf("guest: %v", d)
					}
				}},
			{name: "an administrator may make an administrator", actor: "admin", target: "manager", ch: team.MemberChange{Role: ptr("admin")},
				then: func(t *testing.T, w *world) {
					if d := w.check("manager", "billing.access"); !d.Allowed {
						t.Errorf("the new administrator cannot access billing: %v", d)
					}
				}},
			{name: "with two, an administrator may step down", actor: "admin", target: "admin", ch: team.MemberChange{Role: ptr("manager")},
				before: func(w *world) error {
					_, err := w.s.ChangeMember(ctx, w.actor("admin"), w.account, w.users["manager"].ID, team.MemberChange{Role: ptr("admin")})
					return err
				}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				w := worldOn(t, st, freshDomain())
				w.add("admin", "admin", equipe.MemberActive)
				w.add("manager", "manager", equipe.MemberActive)
				w.add("collab", "collaborator", equipe.MemberActive)
				w.add("guest", "guest", equipe.MemberActive)
				w.add("other", "collaborator", equipe.MemberActive)
				w.add("admin2", "admin", equipe.MemberSuspended)
				if tt.before != nil {
					if err := tt.before(w); err != nil {
						t.Fatal(err)
					}
				}
				target := equipe.NewID()
				if u := w.users[tt.target]; u != nil {
					target = u.ID
				}
				ch := tt.ch
				if tt.resources != nil {
					ids := []equipe.ID{}
					for _, i := range tt.resources {
						if i < 0 {
							ids = append(ids, equipe.NewID())
						} else {
							ids = append(ids, w.res[i].ID)
						}
					}
					ch.Resources = &ids
				}
				_, err := w.s.ChangeMember(ctx, w.actor(tt.actor), w.account, target, ch)
				if got := code(err); got != tt.want {
					t.Fatalf("%q, want %q", got, tt.want)
				}
				if tt.then != nil {
					tt.then(t, w)
				}
			})
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
		// One set of use cases for every run: assembling them costs more than
		// a run, and each would follow every change to the database.
		st := servicetest.New(t, db, identity.Params{})
		for run := range 100 {
			w := worldOn(t, st, freshDomain())
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

// TestPages_ACursorOfAnotherAccountsListIsRefused: a person in two
// accounts who gives one account's cursor to the same list of the other is
// refused (the cursor's position means nothing there), as a cursor of
// another list is: members, resources, roles and the audit log.
func TestPages_ACursorOfAnotherAccountsListIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		other := worldOn(t, w.st, "other.example")
		zoe := w.add("zoe", "admin", equipe.MemberActive)
		w.add("adam", "collaborator", equipe.MemberActive)
		other.add("bea", "collaborator", equipe.MemberActive)
		other.add("carl", "collaborator", equipe.MemberActive)
		err := db.Write(ctx, func(tx *store.Tx) error {
			return tx.CreateMember(ctx, &equipe.Member{AccountID: other.account, UserID: zoe.ID, Role: "admin",
				Status: equipe.MemberActive, CreatedAt: time.Now(), JoinedAt: time.Now()})
		})
		if err != nil {
			t.Fatal(err)
		}
		a := w.actor("zoe")
		for _, acct := range []equipe.ID{w.account, other.account} {
			for _, name := range []string{"Hall", "Yard"} {
				if _, err := w.s.CreateResource(ctx, a, acct, "location", name, ""); err != nil {
					t.Fatal(err)
				}
			}
		}
		lists := []struct {
			name string
			page func(account equipe.ID, after string) (string, error)
		}{
			{"members", func(account equipe.ID, after string) (string, error) {
				_, next, err := w.s.TeamPage(ctx, a, team.MemberFilter{Account: account, After: after, Limit: 1})
				return next, err
			}},
			{"resources", func(account equipe.ID, after string) (string, error) {
				_, next, err := w.s.ResourceList(ctx, a, account, team.ResourceFilter{}, equipe.Page{After: after, Limit: 1})
				return next, err
			}},
			{"roles", func(account equipe.ID, after string) (string, error) {
				_, next, err := w.s.RolesCounted(ctx, a, account, equipe.Page{After: after, Limit: 1})
				return next, err
			}},
			{"audit", func(account equipe.ID, after string) (string, error) {
				_, next, err := w.s.AuditPage(ctx, a, account, team.AuditFilter{Page: equipe.Page{After: after, Limit: 1}})
				return next, err
			}},
		}
		for _, l := range lists {
			t.Run(l.name, func(t *testing.T) {
				cursor, err := l.page(w.account, "")
				if err != nil || cursor == "" {
					t.Fatalf("first page: cursor %q, %v", cursor, err)
				}
				if _, err := l.page(w.account, cursor); err != nil {
					t.Fatalf("next page in the same account: %v", err)
				}
				if _, err := l.page(other.account, cursor); code(err) != "bad_request error.fields" {
					t.Errorf("the cursor in another account: %s", code(err))
				}
			})
		}
	})
}
