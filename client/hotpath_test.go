package client

import (
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
)

// BenchmarkHotPath compares Check of a held member with the floor, package
// access checking the same compiled member, without a service: what the
// Checker adds to a check (two atomic loads and one map lookup). Run it
// under valgrind --tool=callgrind for exact instruction counts
// (docs/performance.md).
func BenchmarkHotPath(b *testing.B) {
	cat := access.Default()
	manager, _ := cat.Role("manager")
	k := &Checker{cat: cat}
	st := &checkerState{accounts: map[equipe.ID]*heldAccount{}, members: map[memberKey]*heldMember{}}
	var account, user equipe.ID
	for range 1000 { // a Checker holding a thousand members
		account, user = equipe.NewID(), equipe.NewID()
		a := access.CompileAccount(account, nil, nil)
		m := cat.Compile(access.Input{UserID: user, AccountID: account, Role: manager, Status: access.MemberActive})
		st.accounts[account] = &heldAccount{a: a, users: []equipe.ID{user}}
		st.members[memberKey{account, user}] = &heldMember{m: m, a: a}
	}
	k.state.Store(st)
	q := access.Query{Owner: user, OwnerKnown: true}
	ctx := b.Context()
	b.Run("checker", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			k.Check(ctx, account, user, "records.view", q)
		}
	})
	h := st.members[memberKey{account, user}]
	b.Run("access", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			cat.Check(h.m, h.a, "records.view", q)
		}
	})
}
