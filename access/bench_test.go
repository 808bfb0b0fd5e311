package access

import (
	"testing"

	"github.com/equipe-dev/equipe"
)

// The benchmarks carry the target of docs/performance.md: a check under
// 200 ns and without allocation for a member with a role, five overrides and
// 50 assigned resources. The member's role is restricted, so a check on a
// resource searches both the account's resources and the member's.

type benchCase struct {
	c        *Catalogue
	in       Input
	m        *Member
	acct     *Account
	assigned []equipe.ID
	other    equipe.ID
}

func newBenchCase() *benchCase {
	c := Default()
	role, _ := c.Role("collaborator")
	b := &benchCase{c: c, other: equipe.NewID()}
	var all []equipe.ID
	for i := range 1000 { // the account has 1,000 resources, the member 50 of them
		id := equipe.NewID()
		all = append(all, id)
		if i%20 == 0 {
			b.assigned = append(b.assigned, id)
		}
	}
	b.in = Input{
		UserID: equipe.NewID(), AccountID: equipe.NewID(), Role: role, Status: MemberActive,
		Overrides: []Override{
			{"records.view", true, ScopeAll},
			{"records.edit", true, ScopeOwned},
			{"records.export", true, ScopeNone},
			{"contacts.manage", true, ScopeNone},
			{"members.view", false, ScopeNone},
		},
		Resources: b.assigned,
	}
	b.m = c.Compile(b.in)
	b.acct = CompileAccount(b.in.AccountID, all, nil)
	return b
}

var sink Decision

func BenchmarkCheck(b *testing.B) {
	bc := newBenchCase()
	c, m, acct := bc.c, bc.m, bc.acct
	view, _ := c.Index("records.view")
	edit, _ := c.Index("records.edit")
	resource := func(i int) Query { return Query{Resource: bc.assigned[i%len(bc.assigned)], HasResource: true} }
	owner := Query{Owner: bc.other, OwnerKnown: true}
	own := Query{Owner: bc.in.UserID, OwnerKnown: true}

	// Each case first proves the answer it measures.
	expect := func(b *testing.B, d Decision, allowed bool) {
		b.Helper()
		if d.Allowed != allowed {
			b.Fatalf("unexpected decision %+v", d)
		}
	}
	b.Run("index/resource", func(b *testing.B) {
		expect(b, c.CheckIndex(m, acct, view, resource(0)), true)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			sink = c.CheckIndex(m, acct, view, resource(i))
		}
	})
	b.Run("index/owner", func(b *testing.B) {
		expect(b, c.CheckIndex(m, acct, edit, own), true)
		b.ReportAllocs()
		for b.Loop() {
			sink = c.CheckIndex(m, acct, edit, own)
		}
	})
	b.Run("index/resource_and_owner_denied", func(b *testing.B) {
		q := resource(3)
		q.Owner, q.OwnerKnown = bc.other, true
		expect(b, c.CheckIndex(m, acct, edit, q), false)
		b.ReportAllocs()
		for b.Loop() {
			sink = c.CheckIndex(m, acct, edit, q)
		}
	})
	b.Run("index/unassigned_resource", func(b *testing.B) {
		q := Query{Resource: bc.acct.resources[1].id(), HasResource: true}
		expect(b, c.CheckIndex(m, acct, view, q), false)
		b.ReportAllocs()
		for b.Loop() {
			sink = c.CheckIndex(m, acct, view, q)
		}
	})
	b.Run("key/resource", func(b *testing.B) {
		expect(b, c.Check(m, acct, "records.view", resource(0)), true)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			sink = c.Check(m, acct, "records.view", resource(i))
		}
	})
	b.Run("key/owner", func(b *testing.B) {
		expect(b, c.Check(m, acct, "records.view", owner), true)
		b.ReportAllocs()
		for b.Loop() {
			sink = c.Check(m, acct, "records.view", owner)
		}
	})
	// The cases above check one member again and again, so it stays in the
	// CPU's caches. A service checks many: here 10,000 members of the same
	// shape, visited in a scattered order, so most checks start with cache
	// misses, as they would behind a per-process cache of members.
	b.Run("key/resource_10000_members", func(b *testing.B) {
		members := make([]*Member, 10000)
		for i := range members {
			in := bc.in
			in.UserID = equipe.NewID()
			members[i] = c.Compile(in)
		}
		expect(b, c.Check(members[0], acct, "records.view", resource(0)), true)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			sink = c.Check(members[(i*7919)%len(members)], acct, "records.view", resource(i))
		}
	})
	b.Run("key/general", func(b *testing.B) {
		expect(b, c.Check(m, acct, "records.export", Query{}), true)
		b.ReportAllocs()
		for b.Loop() {
			sink = c.Check(m, acct, "records.export", Query{})
		}
	})
}

func TestCheck_DoesNotAllocate(t *testing.T) {
	bc := newBenchCase()
	q := Query{Resource: bc.assigned[7], HasResource: true, Owner: bc.other, OwnerKnown: true}
	if n := testing.AllocsPerRun(1000, func() { sink = bc.c.Check(bc.m, bc.acct, "records.view", q) }); n != 0 {
		t.Errorf("Check allocates %v times", n)
	}
	if n := testing.AllocsPerRun(1000, func() { sink = bc.c.CheckIndex(bc.m, bc.acct, 10, q) }); n != 0 {
		t.Errorf("CheckIndex allocates %v times", n)
	}
}

var memberSink *Member

func BenchmarkCompile(b *testing.B) {
	bc := newBenchCase()
	b.ReportAllocs()
	for b.Loop() {
		memberSink = bc.c.Compile(bc.in)
	}
}

var effectiveSink []Effective

func BenchmarkEffective(b *testing.B) {
	bc := newBenchCase()
	b.ReportAllocs()
	for b.Loop() {
		effectiveSink = bc.c.Effective(bc.m)
	}
}
