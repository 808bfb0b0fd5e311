package team_test

import (
	"fmt"
	"math/rand/v2"
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

// coldAccounts seeds n accounts of perAccount members each (the default
// catalogue's roles, one member in five with two overrides, one in three
// holding one or two of the account's four resources, one account in ten
// with a custom role held by one member) and returns every (account, user)
// pair.
func coldAccounts(t testing.TB, db *store.DB, n, perAccount int) [][2]equipe.ID {
	t.Helper()
	roles := []string{"admin", "manager", "manager", "collaborator", "collaborator", "collaborator", "collaborator",
		"collaborator", "guest", "guest"}
	now := time.Now()
	var pairs [][2]equipe.ID
	err := db.Write(ctx, func(tx *store.Tx) error {
		for a := range n {
			account := equipe.Account{ID: equipe.NewID(), Name: fmt.Sprintf("Account %d", a), Locale: "fr",
				InvitationTTLHours: 168, CreatedAt: now}
			if err := tx.CreateAccount(ctx, &account); err != nil {
				return err
			}
			var res []equipe.ID
			for r := range 4 {
				rs := equipe.Resource{ID: equipe.NewID(), AccountID: account.ID, Type: "location",
					Name: fmt.Sprintf("Location %d", r), CreatedAt: now}
				if err := tx.CreateResource(ctx, &rs); err != nil {
					return err
				}
				res = append(res, rs.ID)
			}
			custom := a%10 == 0
			if custom {
				if err := tx.CreateRole(ctx, &equipe.CustomRole{AccountID: account.ID, Key: "auditor", LabelFR: "Auditeur",
					LabelEN: "Auditor", Grants: []equipe.Grant{{Permission: "records.view"}, {Permission: "members.view"}},
					CreatedAt: now, UpdatedAt: now}); err != nil {
					return err
				}
			}
			for i := range perAccount {
				u := equipe.User{ID: equipe.NewUserID(), Email: fmt.Sprintf("u%d.%d@example.com", a, i), FirstName: "U",
					LastName: fmt.Sprint(i), Locale: "fr", CreatedAt: now}
				u.EmailKey = u.Email
				if err := tx.CreateUser(ctx, &u); err != nil {
					return err
				}
				m := equipe.Member{AccountID: account.ID, UserID: u.ID, Role: roles[i%len(roles)],
					Status: equipe.MemberActive, JoinedAt: now, CreatedAt: now}
				if custom && i == 3 {
					m.Role = "auditor"
				}
				if i%5 == 1 {
					m.Overrides = []equipe.Override{{Permission: "records.export", Allow: true},
						{Permission: "contacts.manage", Allow: false}}
				}
				if err := tx.CreateMember(ctx, &m); err != nil {
					return err
				}
				for r := range (i % 3) * (i % 2) {
					if err := tx.AssignResource(ctx, account.ID, u.ID, res[(i+r)%len(res)]); err != nil {
						return err
					}
				}
				pairs = append(pairs, [2]equipe.ID{account.ID, u.ID})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pairs
}

// BenchmarkCheck_Cold measures a check whose member the cache does not
// hold (as after a start): over 300 accounts of 10 members, each op checks
// the next (account, user) pair, and the cache is emptied once every pair
// was asked once. "every-member" asks about all of them in a scattered
// order; "one-a-member-an-account" asks about one member of each account
// only, the case where reading an account's other members is of no use.
// reads/op counts the statements the store ran.
//
//	go test -run '^$' -bench Check_Cold -benchtime 3000x ./team
func BenchmarkCheck_Cold(b *testing.B) {
	const accounts, per = 300, 10
	for _, e := range storetest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			db := storetest.Open(b, e)
			st := servicetest.New(b, db, identity.Params{})
			pairs := coldAccounts(b, db, accounts, per)
			r := rand.New(rand.NewPCG(3, 4))
			every := append([][2]equipe.ID(nil), pairs...)
			r.Shuffle(len(every), func(i, j int) { every[i], every[j] = every[j], every[i] })
			var one [][2]equipe.ID
			for i := 0; i < len(pairs); i += per {
				one = append(one, pairs[i+r.IntN(per)])
			}
			caller := team.Actor{Operator: true}
			for _, set := range []struct {
				name  string
				pairs [][2]equipe.ID
			}{{"every-member", every}, {"one-a-member-an-account", one}} {
				b.Run(set.name, func(b *testing.B) {
					st.Team.ForgetEverything()
					reads := db.Reads()
					for i := 0; b.Loop(); i++ {
						j := i % len(set.pairs)
						if j == 0 && i > 0 {
							st.Team.ForgetEverything()
						}
						p := set.pairs[j]
						if _, err := st.Team.Check(ctx, caller, team.CheckQuery{Account: p[0], User: p[1],
							Permission: "records.view"}); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(db.Reads()-reads)/float64(b.N), "reads/op")
				})
			}
		})
	}
}

// TestCheck_AMissReadsTheSmallAccountOnce holds the warm start: after a
// start, the first check in an account of ten reads the account and the
// member in two statements, the second the account's members in one, the
// checks of its other members none and of a stranger one (then none), and
// a change to one member reads that member alone again, whose next check
// says what changed. In an account of more than smallAccount members each
// member is read on its own, in one statement.
func TestCheck_AMissReadsTheSmallAccountOnce(t *testing.T) {
	storetest.EachConfig(t, func(t *testing.T, db *store.DB, cfg store.Config) {
		st := servicetest.New(t, db, identity.Params{})
		pairs := coldAccounts(t, db, 2, 10)
		caller := team.Actor{Operator: true}
		check := func(p [2]equipe.ID, perm string) (bool, uint64) {
			t.Helper()
			before := db.Reads()
			d, err := st.Team.Check(ctx, caller, team.CheckQuery{Account: p[0], User: p[1], Permission: perm})
			if err != nil {
				t.Fatal(err)
			}
			return d.Allowed, db.Reads() - before
		}
		st.Team.ForgetEverything()
		if _, n := check(pairs[0], "records.view"); n != 2 {
			t.Fatalf("the first check in an account read %d statements, want 2 (the account, the member)", n)
		}
		if _, n := check(pairs[1], "records.view"); n != 1 {
			t.Fatalf("the second check in an account read %d statements, want 1 (its members)", n)
		}
		for _, p := range pairs[2:10] {
			if _, n := check(p, "records.view"); n != 0 {
				t.Fatalf("a check of another member of the account read %d statements, want 0", n)
			}
		}
		stranger := [2]equipe.ID{pairs[0][0], equipe.NewUserID()}
		if ok, n := check(stranger, "records.view"); ok || n != 1 {
			t.Fatalf("a stranger: allowed %v after %d statements, want refused after 1", ok, n)
		}
		if ok, n := check(stranger, "records.view"); ok || n != 0 {
			t.Fatalf("a stranger again: allowed %v after %d statements, want refused after 0", ok, n)
		}
		// The guest (member 8) may not manage members; made an
		// administrator, they may, and only they are read again.
		guest := pairs[8]
		if ok, _ := check(guest, "members.manage"); ok {
			t.Fatal("a guest may manage members")
		}
		err := db.Write(ctx, func(tx *store.Tx) error {
			m, err := tx.LockMember(ctx, guest[0], guest[1])
			if err != nil {
				return err
			}
			m.Role = equipe.RoleAdmin
			return tx.UpdateMember(ctx, &m)
		})
		if err != nil {
			t.Fatal(err)
		}
		if ok, n := check(guest, "members.manage"); !ok || n != 1 {
			t.Fatalf("the guest made administrator: allowed %v after %d statements, want allowed after 1", ok, n)
		}
		if _, n := check(pairs[9], "records.view"); n != 0 {
			t.Fatalf("another member after a change to one read %d statements, want 0", n)
		}

		// A larger account: each member on its own.
		account := pairs[10][0]
		storetest.SeedMembers(t, cfg, account, 60)
		st.Team.ForgetEverything()
		if _, n := check(pairs[10], "records.view"); n != 2 {
			t.Fatalf("the first check in an account of 70 read %d statements, want 2 (the account, the member)", n)
		}
		if _, n := check(pairs[11], "records.view"); n != 1 {
			t.Fatalf("the next member of an account of 70 read %d statements, want 1", n)
		}
	})
}

// TestCheck_ADisabledIdentityIsRefusedHoweverItsMemberIsRead: whether a
// member's identity is disabled is read with the member, whether alone (the
// first miss in an account) or with the whole account (the second); an
// identity that is no member, like no identity at all, is no member (whether
// an identity exists elsewhere is no account's business); and restoring it
// is heard.
func TestCheck_ADisabledIdentityIsRefusedHoweverItsMemberIsRead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		st := servicetest.New(t, db, identity.Params{})
		pairs := coldAccounts(t, db, 2, 10)
		caller := team.Actor{Operator: true}
		reason := func(p [2]equipe.ID) access.Decision {
			t.Helper()
			d, err := st.Team.Check(ctx, caller, team.CheckQuery{Account: p[0], User: p[1], Permission: "records.view"})
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		disable := func(user equipe.ID, at time.Time) {
			t.Helper()
			if err := db.Write(ctx, func(tx *store.Tx) error { return tx.SetUserDisabled(ctx, user, at) }); err != nil {
				t.Fatal(err)
			}
		}
		admin := pairs[0] // the account's administrator, allowed everything
		disable(admin[1], time.Now())
		st.Team.ForgetEverything()
		if d := reason(admin); d.Reason != access.DeniedUserDisabled {
			t.Errorf("read alone: %+v", d)
		}
		st.Team.ForgetEverything()
		if d := reason(pairs[1]); !d.Allowed {
			t.Fatalf("another member: %+v", d)
		}
		if d := reason(admin); d.Reason != access.DeniedUserDisabled {
			t.Errorf("read with the account's members: %+v", d)
		}
		if d := reason([2]equipe.ID{admin[0], pairs[10][1]}); d.Reason != access.DeniedNotMember {
			t.Errorf("a member of another account: %+v", d)
		}
		if d := reason([2]equipe.ID{admin[0], equipe.NewUserID()}); d.Reason != access.DeniedNotMember {
			t.Errorf("nobody: %+v", d)
		}
		disable(admin[1], time.Time{})
		if d := reason(admin); !d.Allowed {
			t.Errorf("restored: %+v", d)
		}
	})
}

// TestCheck_FromTheCacheAllocatesNothing: a check whose account and member
// are cached assembles the member from the cache's flat arrays on the
// stack, resources included, and allocates nothing.
func TestCheck_FromTheCacheAllocatesNothing(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) { checkFromTheCache(t, storetest.Open(t, e)) })
	}
}

func checkFromTheCache(t *testing.T, db *store.DB) {
	st := servicetest.New(t, db, identity.Params{})
	pairs := coldAccounts(t, db, 2, 10)
	caller := team.Actor{Operator: true}
	resource := func(p [2]equipe.ID) access.Query {
		rs, err := db.MemberResources(ctx, p[0], p[1])
		if err != nil || len(rs) == 0 {
			return access.Query{}
		}
		return access.Query{Resource: rs[0], HasResource: true}
	}
	qs := make([]team.CheckQuery, len(pairs))
	for i, p := range pairs {
		qs[i] = team.CheckQuery{Account: p[0], User: p[1], Permission: "records.view", Query: resource(p)}
		if _, err := st.Team.Check(ctx, caller, qs[i]); err != nil {
			t.Fatal(err)
		}
	}
	withResource := 0
	for _, q := range qs {
		if q.Query.HasResource {
			withResource++
		}
	}
	if withResource == 0 {
		t.Fatal("no member holds a resource")
	}
	i := 0
	if n := testing.AllocsPerRun(1000, func() {
		if _, err := st.Team.Check(ctx, caller, qs[i%len(qs)]); err != nil {
			t.Fatal(err)
		}
		i++
	}); n != 0 {
		t.Errorf("a check from the cache allocates %v times", n)
	}
}

// TestCheck_AnIdentityDisabledBeforeJoiningIsAMemberNotActiveYet: an
// account learns that the instance disabled a person's identity once the
// person joined it, as its team page tells it (the person's identity is
// theirs and the instance's before that): a member invited and not joined
// is denied as not active yet, in checks and in their effective
// permissions; a joined one as disabled.
func TestCheck_AnIdentityDisabledBeforeJoiningIsAMemberNotActiveYet(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		ann := s.added("ann", "collaborator", true)
		bob := s.joined("bob", "collaborator")
		for _, u := range []*equipe.User{ann, bob} {
			if err := s.b.st.DB.Write(ctx, func(tx *store.Tx) error { return tx.SetUserDisabled(ctx, u.ID, time.Now()) }); err != nil {
				t.Fatal(err)
			}
		}
		s.s.ForgetEverything()
		for _, tc := range []struct {
			name string
			who  *equipe.User
			want access.Reason
		}{{"Ann", ann, access.DeniedMemberNotActive}, {"Bob", bob, access.DeniedUserDisabled}} {
			d, err := s.s.Check(ctx, team.Actor{Operator: true}, team.CheckQuery{Account: s.account, User: tc.who.ID, Permission: "records.view"})
			if err != nil || d.Reason != tc.want {
				t.Errorf("check about %s: %+v %v, want %s", tc.name, d, err, tc.want)
			}
			e, err := s.s.EffectivePermissions(ctx, s.admin(), s.account, tc.who.ID)
			if err != nil || e.Blocked != tc.want {
				t.Errorf("effective permissions of %s: blocked %q %v, want %s", tc.name, e.Blocked, err, tc.want)
			}
		}
	})
}
