package team_test

import (
	"sync"
	"time"

	"fmt"
	"maps"
	"reflect"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/internal/servicetest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// outcomes returns each member's code in a bulk result, by name ("" when
// done).
func (s *scene) outcomes(res team.BulkResult) map[string]string {
	s.t.Helper()
	names := map[equipe.ID]string{}
	for n, u := range s.users {
		names[u.ID] = n
	}
	out := map[string]string{}
	for _, o := range res.Outcomes {
		out[names[o.User]] = o.Code()
	}
	return out
}

// ids returns the users of names.
func (s *scene) ids(names ...string) []equipe.ID {
	var out []equipe.ID
	for _, n := range names {
		out = append(out, s.users[n].ID)
	}
	return out
}

func TestBulk_DryRunAnswersWhatApplyDoesMemberByMember(t *testing.T) {
	tests := []struct {
		name   string
		by     string // the actor, "admin" unless set
		action string
		role   string
		// build adds the members and returns the selection, by name.
		build func(s *scene) []string
		// want is each member's outcome: "" done, else the reason skipped.
		want map[string]string
		kind event.Type // the one event of each member done
	}{
		{name: "suspend: the members active, not the one already suspended nor the last administrator",
			action: team.BulkSuspend, kind: event.MemberSuspended.Type,
			build: func(s *scene) []string {
				s.joined("ann", "collaborator")
				s.joined("bob", "guest")
				s.suspended("cy", "collaborator")
				return []string{"ann", "bob", "cy", "admin"}
			},
			want: map[string]string{"ann": "", "bob": "", "cy": "member.already_suspended", "admin": "member.last_admin"}},
		{name: "re-invite: those who have not joined; a throttled one waits",
			action: team.BulkReinvite, kind: event.InvitationResent.Type,
			build: func(s *scene) []string {
				s.added("ann", "collaborator", true)
				s.added("dan", "collaborator", true)
				for range 2 { // the invitation on adding and two reminders: the hour's three
					if _, err := s.s.Invite(ctx, s.admin(), s.account, s.users["dan"].ID); err != nil {
						s.t.Fatal(err)
					}
				}
				s.joined("bob", "collaborator")
				s.suspend(s.added("eve", "collaborator", true))
				return []string{"ann", "bob", "dan", "eve"}
			},
			want: map[string]string{"ann": "", "bob": "invitation.already_joined", "dan": "invite.throttled",
				"eve": "invitation.member_suspended"}},
		{name: "re-invite: a member added without an invitation gets their first",
			action: team.BulkReinvite, kind: event.InvitationSent.Type,
			build: func(s *scene) []string {
				s.added("ann", "collaborator", false)
				return []string{"ann"}
			},
			want: map[string]string{"ann": ""}},
		{name: "change role: the last administrator and a member who has the role already are skipped",
			action: team.BulkChangeRole, role: "guest", kind: event.MemberChanged.Type,
			build: func(s *scene) []string {
				s.joined("ann", "collaborator")
				s.joined("bob", "manager")
				s.joined("cy", "guest")
				return []string{"ann", "bob", "cy", "admin"}
			},
			want: map[string]string{"ann": "", "bob": "", "cy": "bulk.same_role", "admin": "member.last_admin"}},
		{name: "a manager acts only on members who hold nothing more than they do",
			by: "boss", action: team.BulkSuspend, kind: event.MemberSuspended.Type,
			build: func(s *scene) []string {
				s.joined("boss", "manager")
				s.joined("ann", "collaborator")
				s.joined("root", "admin")
				return []string{"ann", "root", "boss"}
			},
			want: map[string]string{"ann": "", "root": "member.outranks", "boss": "member.self"}},
		{name: "reactivate: the suspended only",
			action: team.BulkReactivate, kind: event.MemberReactivated.Type,
			build: func(s *scene) []string {
				s.suspended("ann", "collaborator")
				s.joined("bob", "collaborator")
				return []string{"ann", "bob"}
			},
			want: map[string]string{"ann": "", "bob": "member.not_suspended"}},
		{name: "remove: everyone but the last administrator",
			action: team.BulkRemove, kind: event.MemberRemoved.Type,
			build: func(s *scene) []string {
				s.joined("ann", "collaborator")
				s.added("bob", "guest", true)
				return []string{"ann", "bob", "admin"}
			},
			want: map[string]string{"ann": "", "bob": "", "admin": "member.last_admin"}},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				names := tt.build(s)
				by := s.admin()
				if tt.by != "" {
					by = s.actor(tt.by)
				}
				req := team.Bulk{Action: tt.action, Role: tt.role, Users: s.ids(names...)}

				before := s.snapshot()
				plan, err := s.s.PlanBulk(ctx, by, s.account, req)
				if err != nil {
					t.Fatal(err)
				}
				if got := s.outcomes(plan); !maps.Equal(got, tt.want) {
					t.Errorf("dry run: %v, want %v", got, tt.want)
				}
				after := s.snapshot()
				if !reflect.DeepEqual(before.counts, after.counts) || !reflect.DeepEqual(before.members, after.members) {
					t.Errorf("the dry run changed something: %v → %v", before.counts, after.counts)
				}

				res, err := s.s.ApplyBulk(ctx, by, s.account, req)
				if err != nil {
					t.Fatal(err)
				}
				if got := s.outcomes(res); !maps.Equal(got, tt.want) {
					t.Errorf("applied: %v, want %v", got, tt.want)
				}
				var kinds []event.Type
				done := 0
				for _, n := range names {
					if tt.want[n] == "" {
						kinds = append(kinds, tt.kind)
						done++
					}
				}
				if res.Done != done || res.Skipped != len(names)-done {
					t.Errorf("counted %d done, %d skipped; want %d, %d", res.Done, res.Skipped, done, len(names)-done)
				}
				es := s.wrote(t, before, kinds...)
				i := 0
				for _, n := range names {
					if tt.want[n] == "" {
						wantEvent(t, es[i], recorded(by), aboutUser(s.users[n]))
						i++
					}
				}
			})
		}
	})
}

func TestBulk_ReinvitationsAreQueuedToTheOutbox(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		ann := s.added("ann", "collaborator", true)
		bob := s.added("bob", "collaborator", false)
		res, err := s.s.ApplyBulk(ctx, s.admin(), s.account, team.Bulk{Action: team.BulkReinvite, Users: s.ids("ann", "bob")})
		if err != nil || res.Done != 2 {
			t.Fatalf("applied: %+v, %v", res, err)
		}
		if got := s.templates(ann.Email); !reflect.DeepEqual(got, []string{"invitation", "reinvitation"}) {
			t.Errorf("queued to ann: %v", got)
		}
		if got := s.templates(bob.Email); !reflect.DeepEqual(got, []string{"invitation"}) {
			t.Errorf("queued to bob: %v", got)
		}
	})
}

func TestBulk_MalformedRequestsAreRefusedAndChangeNothing(t *testing.T) {
	tooMany := make([]equipe.ID, team.MaxBulk+1)
	for i := range tooMany {
		tooMany[i] = equipe.NewID()
	}
	tests := []struct {
		name  string
		req   func(s *scene) team.Bulk
		field string
		want  string
	}{
		{"an unknown action", func(s *scene) team.Bulk {
			return team.Bulk{Action: "promote", Users: s.ids("ann")}
		}, "action", "bulk.action_unknown"},
		{"a role change with no role", func(s *scene) team.Bulk {
			return team.Bulk{Action: team.BulkChangeRole, Users: s.ids("ann")}
		}, "role", "bulk.role_required"},
		{"a role change to an unknown role", func(s *scene) team.Bulk {
			return team.Bulk{Action: team.BulkChangeRole, Role: "emperor", Users: s.ids("ann")}
		}, "role", "role.unknown"},
		{"no member", func(s *scene) team.Bulk { return team.Bulk{Action: team.BulkSuspend} }, "users", "bulk.selection_empty"},
		{"a filter that matches nobody", func(s *scene) team.Bulk {
			return team.Bulk{Action: team.BulkSuspend, Filter: &team.MemberFilter{Search: "nobody-by-this-name"}}
		}, "filter", "bulk.selection_empty"},
		{"a filter by an unknown status", func(s *scene) team.Bulk {
			return team.Bulk{Action: team.BulkSuspend, Filter: &team.MemberFilter{Status: "asleep"}}
		}, "filter.status", "member.status_filter_invalid"},
		{"a filter by a company that is not one of the firm's clients", func(s *scene) team.Bulk {
			other := equipe.NewID()
			return team.Bulk{Action: team.BulkSuspend, Filter: &team.MemberFilter{Client: &other}}
		}, "filter.client", "member.client_filter_invalid"},
		{"both members and a filter", func(s *scene) team.Bulk {
			return team.Bulk{Action: team.BulkSuspend, Users: s.ids("ann"), Filter: &team.MemberFilter{}}
		}, "users", "bulk.selection_both"},
		{"more members than a request takes", func(s *scene) team.Bulk {
			return team.Bulk{Action: team.BulkSuspend, Users: tooMany}
		}, "users", "bulk.too_many"},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				s.joined("ann", "collaborator")
				before := s.snapshot()
				for _, run := range []func() (team.BulkResult, error){
					func() (team.BulkResult, error) { return s.s.PlanBulk(ctx, s.admin(), s.account, tt.req(s)) },
					func() (team.BulkResult, error) { return s.s.ApplyBulk(ctx, s.admin(), s.account, tt.req(s)) },
				} {
					_, err := run()
					if equipe.ErrorCode(err) != equipe.EINVALID {
						t.Fatalf("answered %v, want EINVALID", err)
					}
					s.refused(t, err, "error.fields "+tt.field+"="+tt.want, before)
				}
			})
		}
	})
}

func TestBulk_TheFilterSelectsEveryMatchingMemberAtTheTime(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		s.joined("ann", "guest")
		s.joined("bob", "guest")
		s.joined("cy", "collaborator")
		req := team.Bulk{Action: team.BulkSuspend, Filter: &team.MemberFilter{Role: "guest"}}
		plan, err := s.s.PlanBulk(ctx, s.admin(), s.account, req)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := s.outcomes(plan), map[string]string{"ann": "", "bob": ""}; !maps.Equal(got, want) {
			t.Fatalf("planned %v, want %v", got, want)
		}
		s.joined("dee", "guest") // joins between the confirmation and the change
		res, err := s.s.ApplyBulk(ctx, s.admin(), s.account, req)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := s.outcomes(res), map[string]string{"ann": "", "bob": "", "dee": ""}; !maps.Equal(got, want) {
			t.Fatalf("applied %v, want %v", got, want)
		}
		for _, o := range plan.Outcomes {
			if o.Name() == "" || o.Email == "" {
				t.Errorf("an outcome without the member's name: %+v", o)
			}
		}
	})
}

func TestBulk_AMemberRemovedMeanwhileIsReportedNotAnError(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		s.joined("ann", "collaborator")
		gone := s.joined("bob", "collaborator")
		s.joined("cy", "collaborator")
		req := team.Bulk{Action: team.BulkSuspend, Users: append(s.ids("ann", "bob", "cy"), equipe.NewID())}
		if _, err := s.s.PlanBulk(ctx, s.admin(), s.account, req); err != nil {
			t.Fatal(err)
		}
		if err := s.s.RemoveMember(ctx, s.admin(), s.account, gone.ID); err != nil {
			t.Fatal(err)
		}
		res, err := s.s.ApplyBulk(ctx, s.admin(), s.account, req)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, o := range res.Outcomes {
			got[o.User.String()] = o.Code()
		}
		want := map[string]string{s.users["ann"].ID.String(): "", gone.ID.String(): "error.not_found",
			s.users["cy"].ID.String(): "", req.Users[3].String(): "error.not_found"}
		if !maps.Equal(got, want) {
			t.Fatalf("outcomes %v, want %v", got, want)
		}
	})
}

// TestBulk_AFailingMemberIsUnchangedAndTheOthersAreDone makes the database
// refuse the event of one member's suspension — written after the member's
// row — and checks that this member's change is undone with it, whole, while
// the others' are done.
func TestBulk_AFailingMemberIsUnchangedAndTheOthersAreDone(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		s.joined("ann", "collaborator")
		bad := s.joined("bob", "collaborator")
		s.joined("cy", "collaborator")
		var stmts []string
		if s.db.Engine() == store.SQLite {
			stmts = []string{fmt.Sprintf(`CREATE TRIGGER refuse_bob BEFORE INSERT ON audit_events
				WHEN NEW.target_id = '%s' BEGIN SELECT RAISE(ABORT, 'refused'); END`, bad.ID)}
		} else {
			stmts = []string{`CREATE FUNCTION refuse_bob() RETURNS trigger AS $$
				BEGIN RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql`,
				fmt.Sprintf(`CREATE TRIGGER refuse_bob BEFORE INSERT ON audit_events
				FOR EACH ROW WHEN (NEW.target_id = '%s') EXECUTE FUNCTION refuse_bob()`, bad.ID)}
		}
		for _, q := range stmts {
			if _, err := b.raw.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		before := s.snapshot()
		res, err := s.s.ApplyBulk(ctx, s.admin(), s.account, team.Bulk{Action: team.BulkSuspend, Users: s.ids("ann", "bob", "cy")})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := s.outcomes(res), map[string]string{"ann": "", "bob": "error.internal", "cy": ""}; !maps.Equal(got, want) {
			t.Fatalf("outcomes %v, want %v", got, want)
		}
		if st := s.member(bad.ID).Status; st != equipe.MemberActive {
			t.Errorf("the failing member is %s, want still active", st)
		}
		for _, n := range []string{"ann", "cy"} {
			if st := s.member(s.users[n].ID).Status; st != equipe.MemberSuspended {
				t.Errorf("%s is %s, want suspended", n, st)
			}
		}
		s.wrote(t, before, event.MemberSuspended.Type, event.MemberSuspended.Type)
	})
}

// BenchmarkBulk measures bulk actions on 1,000 members of an account: the
// dry run (each member's change rehearsed in its unit of work, then rolled
// back), and the change itself (suspending, then reactivating, the
// members: one unit of work each). One op is one request of 1,000 members.
//
//	go test -run '^$' -bench Bulk -benchtime 5x ./team/
func BenchmarkBulk(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			db, cfg := storetest.OpenConfig(b, e)
			st := servicetest.New(b, db, identity.Params{})
			account := equipe.NewID()
			admin := equipe.User{ID: equipe.NewID(), Email: "admin@bench.example", EmailKey: "admin@bench.example",
				FirstName: "Ada", LastName: "Admin", Locale: "fr", CreatedAt: time.Now()}
			err := db.Write(ctx, func(tx *store.Tx) error {
				if err := tx.CreateAccount(ctx, &equipe.Account{ID: account, Name: "Bench", Locale: "fr", InvitationTTLHours: 168, CreatedAt: time.Now()}); err != nil {
					return err
				}
				if err := tx.CreateUser(ctx, &admin); err != nil {
					return err
				}
				return tx.CreateMember(ctx, &equipe.Member{AccountID: account, UserID: admin.ID, Role: "admin",
					Status: equipe.MemberActive, CreatedAt: time.Now(), JoinedAt: time.Now()})
			})
			if err != nil {
				b.Fatal(err)
			}
			storetest.SeedMembers(b, cfg, account, team.MaxBulk)
			ms, err := db.Members(ctx, account)
			if err != nil {
				b.Fatal(err)
			}
			var users []equipe.ID
			for _, m := range ms {
				if m.UserID != admin.ID {
					users = append(users, m.UserID)
				}
			}
			actor := team.Actor{User: &admin}
			b.Run("dry-run", func(b *testing.B) {
				for b.Loop() {
					if _, err := st.Team.PlanBulk(ctx, actor, account, team.Bulk{Action: team.BulkSuspend, Users: users}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("apply", func(b *testing.B) {
				i := 0
				for b.Loop() {
					action := []string{team.BulkSuspend, team.BulkReactivate}[i%2]
					i++
					if _, err := st.Team.ApplyBulk(ctx, actor, account, team.Bulk{Action: action, Users: users}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// TestBulk_TwoAdministratorsSuspendingEachOtherAtOnceLeaveOne runs two bulk
// suspensions at the same moment, each administrator's selection holding
// the other: the account keeps an active administrator, and the refused
// member is reported, not an error.
func TestBulk_TwoAdministratorsSuspendingEachOtherAtOnceLeaveOne(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		s.joined("root", "admin")
		s.joined("ann", "collaborator")
		var wg sync.WaitGroup
		results := make([]team.BulkResult, 2)
		errs := make([]error, 2)
		for i, pair := range [][2]string{{"admin", "root"}, {"root", "admin"}} {
			wg.Go(func() {
				results[i], errs[i] = s.s.ApplyBulk(ctx, s.actor(pair[0]), s.account,
					team.Bulk{Action: team.BulkSuspend, Users: s.ids(pair[1], "ann")})
			})
		}
		wg.Wait()
		done := 0
		for i, res := range results {
			if errs[i] != nil {
				// The actor suspended by the other before their request was
				// authorized: refused as a whole.
				if equipe.ErrorCode(errs[i]) != equipe.EFORBIDDEN && equipe.ErrorCode(errs[i]) != equipe.ENOTFOUND {
					t.Fatalf("request %d: %v", i, errs[i])
				}
				continue
			}
			for _, o := range res.Outcomes {
				if o.Err != nil && o.Err.Code == equipe.EINTERNAL {
					t.Errorf("request %d: a member failed: %+v", i, o)
				}
				if o.User != s.users["ann"].ID && o.Done() {
					done++
				}
			}
		}
		if done != 1 {
			t.Errorf("%d administrators suspended, want exactly one", done)
		}
		active := 0
		for _, n := range []string{"admin", "root"} {
			if s.member(s.users[n].ID).Status == equipe.MemberActive {
				active++
			}
		}
		if active != 1 {
			t.Errorf("%d active administrators left, want 1", active)
		}
	})
}

// TestBulk_TheFilterByClientSelectsItsAssignedStaff: on a firm's team, "all
// matching" under a filter by client company selects the staff assigned to
// it, as the team page lists them, and no one else.
func TestBulk_TheFilterByClientSelectsItsAssignedStaff(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		bakery, err := s.s.CreateClient(ctx, s.admin(), s.account, team.NewAccount{Name: "Boulangerie Martin", Locale: "fr"})
		if err != nil {
			t.Fatal(err)
		}
		garage, err := s.s.CreateClient(ctx, s.admin(), s.account, team.NewAccount{Name: "Garage Dupont", Locale: "fr"})
		if err != nil {
			t.Fatal(err)
		}
		for name, client := range map[string]equipe.ID{"ann": bakery.ID, "bob": bakery.ID, "cy": garage.ID} {
			u := s.joined(name, "collaborator")
			if err := s.s.AssignStaff(ctx, s.admin(), s.account, client, u.ID); err != nil {
				t.Fatal(err)
			}
		}
		s.joined("dee", "collaborator")
		req := team.Bulk{Action: team.BulkSuspend, Filter: &team.MemberFilter{Client: &bakery.ID}}
		plan, err := s.s.PlanBulk(ctx, s.admin(), s.account, req)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := s.outcomes(plan), map[string]string{"ann": "", "bob": ""}; !maps.Equal(got, want) {
			t.Fatalf("planned %v, want %v", got, want)
		}
		res, err := s.s.ApplyBulk(ctx, s.admin(), s.account, req)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := s.outcomes(res), map[string]string{"ann": "", "bob": ""}; !maps.Equal(got, want) {
			t.Fatalf("applied %v, want %v", got, want)
		}
		for name, want := range map[string]equipe.MemberStatus{"ann": equipe.MemberSuspended, "bob": equipe.MemberSuspended,
			"cy": equipe.MemberActive, "dee": equipe.MemberActive} {
			if got := s.member(s.ids(name)[0]).Status; got != want {
				t.Errorf("%s: %s, want %s", name, got, want)
			}
		}
	})
}
