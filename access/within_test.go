package access

import (
	"slices"
	"testing"

	"github.com/equipe-dev/equipe"
)

// An account of 40 resources: a member's resources are held as bits only
// when each is among the first MaxWithin, and the bits answer exactly for
// every resource, those past MaxWithin included.
func TestWithin_HoldsOnlyWhatItsBitsReach(t *testing.T) {
	c, account := Default(), equipe.NewID()
	ids := make([]equipe.ID, 40)
	for i := range ids {
		ids[i] = equipe.NewID()
	}
	acct := CompileAccount(account, ids, nil)
	inUse, _ := acct.Parts()
	sorted := make([]equipe.ID, len(inUse))
	for i, k := range inUse {
		sorted[i] = k.id()
	}
	role, _ := c.Role("collaborator")
	compile := func(assigned ...equipe.ID) *Member {
		return c.Compile(Input{UserID: equipe.NewID(), AccountID: account, Role: role, Status: MemberActive, Resources: assigned})
	}

	_, far, _ := compile(sorted[3], sorted[35]).Parts()
	if _, ok := Within(inUse, far); ok {
		t.Fatal("a resource past the first 32 of the account's is held as a bit")
	}
	_, foreign, _ := compile(sorted[3], equipe.NewID()).Parts()
	if _, ok := Within(inUse, foreign); ok {
		t.Fatal("a resource of no account's list is held as a bit")
	}

	m := compile(sorted[0], sorted[3], sorted[31])
	p, res, st := m.Parts()
	b, ok := Within(inUse, res)
	if !ok || b != 1|1<<3|1<<31 {
		t.Fatalf("Within = %b, %v; want bits 0, 3 and 31", b, ok)
	}
	held := AssembleWithin(p, equipe.NewID(), account, inUse, b, st)
	if !slices.Equal(held.Resources(), m.Resources()) {
		t.Fatalf("resources held as bits: %v, want %v", held.Resources(), m.Resources())
	}
	for i, id := range sorted {
		q := Query{Resource: id, HasResource: true}
		want := c.Check(m, acct, "members.view", q)
		if got := c.Check(&held, acct, "members.view", q); got != want {
			t.Errorf("resource %d: held as bits %+v, compiled %+v", i, got, want)
		}
		if held.Assigned(id) != slices.Contains([]int{0, 3, 31}, i) {
			t.Errorf("resource %d: Assigned = %v", i, held.Assigned(id))
		}
	}
	q := Query{Resource: sorted[31], HasResource: true}
	if n := testing.AllocsPerRun(1000, func() { sink = c.Check(&held, acct, "members.view", q) }); n != 0 {
		t.Errorf("a check of a member held as bits allocates %v times", n)
	}
}
