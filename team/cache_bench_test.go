package team

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
)

// BenchmarkCache_WorkingSet looks members up in a cache that holds about
// 50,000 of them, over working sets of half, once and twice that, each
// member asked about at random; a miss keeps the member (compiled
// beforehand: the store's read is not what is measured). The hit rate is
// reported with the time: crossing the budget lowers the hit rate by what
// no longer fits, and nothing else (no reset, no step in the cost of a
// lookup).
func BenchmarkCache_WorkingSet(b *testing.B) {
	const capacity = 50_000
	f := newCacheFixture()
	ks := memberKeys(2 * capacity)
	entries := make([]memberEntry, len(ks))
	for i, k := range ks {
		entries[i] = f.member(k.account, k.user, i)
	}
	for _, ws := range []struct {
		name string
		n    int
	}{{"0.5x", capacity / 2}, {"1x", capacity}, {"2x", 2 * capacity}} {
		b.Run(fmt.Sprintf("working_set=%s", ws.name), func(b *testing.B) {
			c, _ := smallCache(b, f, capacity)
			r := rand.New(rand.NewPCG(1, 2))
			order := make([]int32, 1<<20)
			for i := range order {
				order[i] = int32(r.IntN(ws.n))
			}
			// Warm: every member of the working set asked about once.
			for i := range ws.n {
				c.putMember(c.generation(), ks[i], entries[i])
			}
			var hits, lookups int
			for i := 0; b.Loop(); i++ {
				j := order[i&(len(order)-1)]
				lookups++
				if _, ok := c.member(ks[j]); ok {
					hits++
					continue
				}
				c.putMember(c.generation(), ks[j], entries[j])
			}
			b.ReportMetric(float64(hits)/float64(lookups), "hit-rate")
			if n, bytes := c.members.stats(); bytes > c.membersBudget() {
				b.Fatalf("%d members in %d bytes, over the budget of %d", n, bytes, c.membersBudget())
			}
		})
	}
}

// BenchmarkCache_AccountMember looks up an account and a member of it, as
// every check answered from the cache does, over 100,000 members in 10,000
// accounts of four resources, all held; it must not allocate. The members'
// resources are others than their account's (kept as keys) or the
// account's, read first (kept as bits over them).
func BenchmarkCache_AccountMember(b *testing.B) {
	for _, bits := range []bool{false, true} {
		b.Run(map[bool]string{false: "keys", true: "bits"}[bits], func(b *testing.B) {
			f := newCacheFixture()
			f.resources = func(i int) int { return []int{0, 0, 1, 2}[i%4] }
			if bits {
				f.ofAccount = map[equipe.ID][]equipe.ID{}
			}
			ks := memberKeys(100_000)
			c := newCache()
			c.setBudget(256 << 20)
			for _, k := range ks[:10_000] {
				res := []equipe.ID{equipe.NewID(), equipe.NewID(), equipe.NewID(), equipe.NewID()}
				if bits {
					f.ofAccount[k.account] = res
				}
				c.putAccount(c.generation(), k.account, accountEntry{a: access.CompileAccount(k.account, res, nil), members: 10})
			}
			for i, k := range ks {
				c.putMember(c.generation(), k, f.member(k.account, k.user, i))
				if heldAsBits(c, k) != (bits && i%4 >= 2) {
					b.Fatalf("member %d held as bits: %v", i, heldAsBits(c, k))
				}
			}
			r := rand.New(rand.NewPCG(1, 2))
			order := make([]int32, 1<<16)
			for i := range order {
				order[i] = int32(r.IntN(len(ks)))
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				k := ks[order[i&(len(order)-1)]]
				if _, _, ok := c.accountMember(k.account, k.user); !ok {
					b.Fatal("not held")
				}
			}
		})
	}
}
