package team

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
)

// cacheFixture compiles members the way the service does: a role, a few
// overrides and a few assigned resources, each member with IDs of its own.
type cacheFixture struct {
	cat   *access.Catalogue
	roles []access.Role
	// resources is how many resources the i-th member holds (nil: three).
	resources func(i int) int
	// ofAccount, when set, gives an account's resources, from which its
	// members' are drawn (else each is a resource of its own).
	ofAccount map[equipe.ID][]equipe.ID
}

func newCacheFixture() *cacheFixture {
	f := &cacheFixture{cat: access.Default()}
	for _, k := range []string{"admin", "manager", "collaborator", "guest"} {
		r, ok := f.cat.Role(k)
		if !ok {
			panic("no role " + k)
		}
		f.roles = append(f.roles, r)
	}
	return f
}

// member compiles the i-th member of account: role by i, two overrides and
// three assigned resources (or as many as f.resources says).
func (f *cacheFixture) member(account, user equipe.ID, i int) memberEntry {
	n := 3
	if f.resources != nil {
		n = f.resources(i)
	}
	res := make([]equipe.ID, n)
	for j := range res {
		if pool := f.ofAccount[account]; len(pool) > 0 {
			res[j] = pool[(i+j)%len(pool)]
		} else {
			res[j] = equipe.NewID()
		}
	}
	in := access.Input{UserID: user, AccountID: account, Role: f.roles[i%len(f.roles)], Status: access.MemberActive,
		Overrides: []access.Override{{Permission: "records.export", Allow: i%3 == 0},
			{Permission: "contacts.manage", Allow: true}},
		Resources: res}
	// No joined time: members of accounts without a second-factor
	// requirement keep none (see cache.newMember); the tests that need one
	// set it.
	return memberEntry{m: f.cat.Compile(in), active: true}
}

// keys returns n member keys over n/10 accounts, with distinct
// generation counters for the accounts and users a test invalidates.
func memberKeys(n int) []memberKey {
	accounts := make([]equipe.ID, max(n/10, 1))
	for i := range accounts {
		accounts[i] = equipe.NewID()
	}
	ks := make([]memberKey, n)
	for i := range ks {
		ks[i] = memberKey{accounts[i%len(accounts)], equipe.NewUserID()}
	}
	return ks
}

// memoryInUse returns the live Go heap and the memory c's regions map
// outside it (see region).
func memoryInUse(c *cache) int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc) + c.members.mapped()
}

// TestCache_BytesPerMember measures the memory a cached member takes (its
// slot, its share of the index, its resources, its share of its account's
// number), counted by the heap and the regions mapped before and after
// filling, and holds the cache's own count to it: the budget the cache
// keeps is the memory it takes. The accounts (four resources each) are
// cached first, as the service reads an account before its members.
//
// Two mixes: three resources each, none of them the account's (kept as
// keys), and the scale run's (cmd/equipe-scale: half with none, a quarter
// with one, a quarter with two, 0.75 on average, each a resource of the
// account, so kept as bits over its resources), whose member must take at
// most 46 bytes, and at most 56 with its share of its account: 1,000,000
// members and their 100,000 accounts then fit in 54 MiB.
func TestCache_BytesPerMember(t *testing.T) {
	for _, mix := range []struct {
		name           string
		resources      func(i int) int
		ofAccount      bool
		most, withAcct float64
	}{{"three resources", nil, false, 0, 0}, {"the scale run's", func(i int) int { return []int{0, 0, 1, 2}[i%4] }, true, 46, 56}} {
		t.Run(mix.name, func(t *testing.T) {
			f := newCacheFixture()
			f.resources = mix.resources
			if mix.ofAccount {
				f.ofAccount = map[equipe.ID][]equipe.ID{}
			}
			member, withAcct := bytesPerMember(t, f)
			if mix.most > 0 && member > mix.most {
				t.Errorf("a cached member is charged %.1f bytes, want at most %.0f", member, mix.most)
			}
			if mix.withAcct > 0 && withAcct > mix.withAcct {
				t.Errorf("a cached member and its share of its account are charged %.1f bytes, want at most %.0f", withAcct, mix.withAcct)
			}
		})
	}
}

// bytesPerMember returns the bytes charged for a member, alone and with
// its share of its account.
func bytesPerMember(t *testing.T, f *cacheFixture) (member, withAccount float64) {
	const n = 100_000
	ks := memberKeys(n)
	var ids []equipe.ID
	var accounts []accountEntry
	seen := map[equipe.ID]bool{}
	for _, k := range ks {
		if !seen[k.account] {
			seen[k.account] = true
			res := []equipe.ID{equipe.NewID(), equipe.NewID(), equipe.NewID(), equipe.NewID()}
			if f.ofAccount != nil {
				f.ofAccount[k.account] = res
			}
			ids = append(ids, k.account)
			accounts = append(accounts, accountEntry{a: access.CompileAccount(k.account, res, nil), members: 10})
		}
	}
	entries := make([]memberEntry, n)
	for i, k := range ks {
		entries[i] = f.member(k.account, k.user, i)
		// A joined time, which members of accounts without a second-factor
		// requirement do not keep.
		entries[i].joined = time.Unix(1_700_000_000+int64(i), 0).UTC()
	}
	c := newCache()
	c.setBudget(1 << 30)
	before := memoryInUse(c)
	for i, id := range ids {
		c.putAccount(c.generation(), id, accounts[i])
	}
	c.members.fit()
	withAccounts := memoryInUse(c)
	_, accountBytes := c.members.stats()
	for i, k := range ks {
		c.putMember(c.generation(), k, entries[i])
	}
	// At its budget the table uses the room its arrays kept to grow; fit
	// takes that room away, to count what the entries take.
	c.members.fit()
	after := memoryInUse(c)
	runtime.KeepAlive(c)
	runtime.KeepAlive(entries)
	runtime.KeepAlive(accounts)
	runtime.KeepAlive(ks)
	runtime.KeepAlive(ids)
	runtime.KeepAlive(seen)
	st := c.stats()
	if st.entries != n+len(ids) {
		t.Fatalf("%d entries cached, want %d", st.entries, n+len(ids))
	}
	perEntry, charged := float64(after-withAccounts)/n, float64(st.bytes-accountBytes)/n
	withAccount = float64(st.bytes) / n
	t.Logf("cached member: %.1f bytes of live heap and mapped regions (index, slot, resources, account number), %.1f bytes charged; %.1f with its share of its account",
		perEntry, charged, withAccount)
	// Each shard's small maps (its profiles' numbers, its extras) take a
	// few KiB the budget does not count; and the live heap counts what the
	// rest of the process (the runtime, goroutines of the package's other
	// tests winding down) allocated meanwhile: a few hundred bytes to a few
	// KiB between two measurements, allowed for as 0.5 % of what is charged.
	const uncounted = clockShards * 2048
	noise := func(charged int64) int64 { return charged / 200 }
	if took, charged := after-withAccounts, st.bytes-accountBytes; took > charged+uncounted+noise(charged) {
		t.Errorf("the members take %d bytes and are charged %d: the budget undercounts", took, charged)
	}
	if all := after - before; all > st.bytes+uncounted+noise(st.bytes) {
		t.Errorf("members and accounts take %d bytes and are charged %d: the budget undercounts", all, st.bytes)
	}
	return charged, withAccount
}

// fit moves every shard's slots and resource keys to arrays of their
// size, without room to grow.
func (t *memberTable) fit() {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		s.grow(s.live)
		s.copyKeys(len(s.keys)-s.garbage, len(s.keys)-s.garbage, len(s.keys)-s.garbage)
		s.mu.Unlock()
	}
}

// smallCache returns a cache whose members' share holds about capacity
// members of the fixture, and that share's budget.
func smallCache(t testing.TB, f *cacheFixture, capacity int) (*cache, int64) {
	c := newCache()
	// A slot, its share of the index and of the CLOCK bits, the fixture's
	// three resources, and a share of its account's number (see
	// accountNumbers: 56 to 88 bytes an account with its index, whose
	// members the tests hold two or three at a time).
	per := slotBytes + 6 + 3*keyBytes + 44
	// The members and accounts get 125/128 of the whole (see setBudget).
	total := int64(capacity) * per * 128 / 125
	c.setBudget(total)
	return c, c.membersBudget()
}

func (c *cache) membersBudget() int64 { return c.members.budgetHeld() }

func TestCache_EvictionKeepsTheBudget(t *testing.T) {
	f := newCacheFixture()
	c, budget := smallCache(t, f, 20_000)
	ks := memberKeys(100_000)
	for i, k := range ks {
		c.putMember(c.generation(), k, f.member(k.account, k.user, i))
		if i%500 == 0 || i == len(ks)-1 {
			if _, b := c.members.stats(); b > budget {
				t.Fatalf("after %d members: %d bytes held, budget %d", i+1, b, budget)
			}
		}
	}
	n, b := c.members.stats()
	if n < 19_000 || c.members.evictions.Load() == 0 {
		t.Fatalf("%d members held in %d bytes of %d, %d evicted: the budget is not used (numbers %d)", n, b, budget, c.members.evictions.Load(), c.members.nums.bytes.Load())
	}
	t.Logf("%d members held in %d bytes of %d; %d evicted; numbers %d", n, b, budget, c.members.evictions.Load(), c.members.nums.bytes.Load())
}

// A sweep of members asked about once, five times as many as fit, leaves
// the members asked about all along in the cache: no reset, and the cold
// sweep evicts its own.
func TestCache_HotMembersSurviveAColdSweep(t *testing.T) {
	f := newCacheFixture()
	c, _ := smallCache(t, f, 20_000)
	hot := memberKeys(500)
	for i, k := range hot {
		c.putMember(c.generation(), k, f.member(k.account, k.user, i))
	}
	cold := memberKeys(100_000)
	for i, k := range cold {
		c.putMember(c.generation(), k, f.member(k.account, k.user, i))
		// The hot members are read between cold ones, as a service's
		// regular users are between the vendor's sweep.
		h := hot[i%len(hot)]
		if _, ok := c.member(h); !ok && i > len(hot) {
			t.Fatalf("hot member %d gone after %d cold ones", i%len(hot), i)
		}
	}
	for i, k := range hot {
		if _, ok := c.member(k); !ok {
			t.Errorf("hot member %d gone after the sweep", i)
		}
	}
	if c.members.evictions.Load() < uint64(len(cold))/2 {
		t.Errorf("%d evictions for a sweep of %d", c.members.evictions.Load(), len(cold))
	}
}

// apart returns n IDs whose generation counters differ from each other
// and from those of avoid: invalidating one never touches another's
// entries, so a test can tell exact invalidation from a broad one.
func apart(n int, avoid ...equipe.ID) []equipe.ID {
	taken := map[uint64]bool{}
	for _, id := range avoid {
		taken[mix(id)>>48] = true
	}
	var ids []equipe.ID
	for len(ids) < n {
		id := equipe.NewID()
		if h := mix(id) >> 48; !taken[h] {
			taken[h] = true
			ids = append(ids, id)
		}
	}
	return ids
}

// Invalidating an account or a user forgets exactly its entries (and, for
// a firm, those of its staff in its clients), after evictions and fills
// have moved entries around.
func TestCache_InvalidationIsExactAfterEviction(t *testing.T) {
	f := newCacheFixture()
	c, _ := smallCache(t, f, 3000)
	ids := apart(8)
	firm, client, acctA, acctB := ids[0], ids[1], ids[2], ids[3]
	ann, bob, cy, dee := ids[4], ids[5], ids[6], ids[7]
	put := func(k memberKey, firm equipe.ID) {
		e := f.member(k.account, k.user, 1)
		if firm != (equipe.ID{}) {
			in := access.Input{UserID: k.user, AccountID: k.account, Role: f.roles[0], Status: access.MemberActive, ViaFirm: true}
			e = memberEntry{m: f.cat.Compile(in), firm: firm, active: true}
		}
		c.putMember(c.generation(), k, e)
	}
	fill := func() {
		put(memberKey{acctA, ann}, equipe.ID{})
		put(memberKey{acctA, bob}, equipe.ID{})
		put(memberKey{acctB, ann}, equipe.ID{})
		put(memberKey{acctB, cy}, equipe.ID{})
		put(memberKey{firm, dee}, equipe.ID{})
		put(memberKey{client, dee}, firm) // dee acts in the client through the firm
	}
	has := func(k memberKey) bool { return c.members.peek(k) }
	all := []memberKey{{acctA, ann}, {acctA, bob}, {acctB, ann}, {acctB, cy}, {firm, dee}, {client, dee}}
	expect := func(step string, gone ...memberKey) {
		t.Helper()
		for _, k := range all {
			want := true
			for _, g := range gone {
				want = want && g != k
			}
			if got := has(k); got != want {
				t.Errorf("%s: entry %v cached %v, want %v", step, k, got, want)
			}
		}
	}
	for round := range 3 {
		fill()
		// Fill past the budget around them, reading them all along so
		// that they stay.
		for i, k := range memberKeys(6000) {
			put(k, equipe.ID{})
			if i%100 == 0 {
				for _, k := range all {
					c.member(k)
				}
			}
		}
		// Reading them keeps them through the sweeps of single entries;
		// a shard that must free room at once (release, when its arrays
		// pass its budget) evicts what it must, read or not, about once
		// in 300 runs here. What is checked is that invalidation forgets
		// exactly what it must wherever the entries went: those evicted
		// are put back among the others.
		fill()
		expect(fmt.Sprintf("round %d, filled", round))
		c.invalidate([]string{"u:" + ann.String()})
		expect("ann changed", memberKey{acctA, ann}, memberKey{acctB, ann})
		c.invalidate([]string{"a:" + acctB.String()})
		expect("account B changed", memberKey{acctA, ann}, memberKey{acctB, ann}, memberKey{acctB, cy})
		c.invalidate([]string{"a:" + firm.String()})
		expect("the firm changed", memberKey{acctA, ann}, memberKey{acctB, ann}, memberKey{acctB, cy},
			memberKey{firm, dee}, memberKey{client, dee})
		fill()
		expect("filled again")
		// A change of dee's membership of the firm reaches their entry in
		// the client: entries derive from the firm membership.
		c.invalidate([]string{"m:" + firm.String() + ":" + dee.String()})
		expect("dee's firm membership changed", memberKey{firm, dee}, memberKey{client, dee})
		if !has(memberKey{acctA, bob}) {
			t.Fatal("bob's entry went with others'")
		}
	}
	// Only an invalidation of everything empties the cache.
	c.invalidate([]string{"*"})
	if n, b := c.members.stats(); n != 0 || b != 0 {
		t.Errorf("after invalidating everything: %d entries in %d bytes", n, b)
	}
}

// Loads race invalidations: a loader reads a version of a member, then
// keeps it, while writers change the version and invalidate. Once they
// are done, every entry the cache answers with holds the last version:
// a load that overlapped a change is never kept over it. Run with -race.
func TestCache_LoadsRacingInvalidationsKeepNoStaleEntry(t *testing.T) {
	f := newCacheFixture()
	c, _ := smallCache(t, f, 200)
	ks := memberKeys(400) // twice the capacity: evictions race too
	versions := make([]atomic.Int64, len(ks))
	base := f.member(ks[0].account, ks[0].user, 0).m
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := r.IntN(len(ks))
				if _, ok := c.member(ks[i]); ok {
					continue
				}
				gen := c.generation()
				v := versions[i].Load()
				runtime.Gosched() // let a change land between the read and the keep
				c.putMember(gen, ks[i], memberEntry{m: base, joined: time.Unix(0, v+1), active: true})
			}
		})
	}
	for range 20_000 {
		i := rand.IntN(len(ks))
		versions[i].Add(1)
		kind := "u:" + ks[i].user.String()
		if i%2 == 0 {
			kind = "m:" + ks[i].account.String() + ":" + ks[i].user.String()
		}
		c.invalidate([]string{kind})
	}
	close(stop)
	wg.Wait()
	stale := 0
	for i, k := range ks {
		if e, ok := c.member(k); ok && e.joined.UnixNano() != versions[i].Load()+1 {
			stale++
		}
	}
	if stale > 0 {
		t.Errorf("%d entries older than the last change", stale)
	}
}

// A member comes back from the cache as it went in: role, standing,
// resources (none, a few, more than a slot counts), firm, joined and
// active, also after evictions moved the resources of the others around.
func TestCache_MemberComesBackWhole(t *testing.T) {
	f := newCacheFixture()
	c, _ := smallCache(t, f, 5000)
	ks := memberKeys(300)
	firm := equipe.NewID()
	want := make([]memberEntry, len(ks))
	for i, k := range ks {
		res := make([]equipe.ID, []int{0, 1, 3, 40}[i%4])
		for j := range res {
			res[j] = equipe.NewID()
		}
		in := access.Input{UserID: k.user, AccountID: k.account, Role: f.roles[i%len(f.roles)], Resources: res,
			Status:       []access.Status{access.MemberActive, access.MemberSuspended, access.MemberInvited}[i%3],
			UserDisabled: i%7 == 0, ViaFirm: i%5 == 0}
		e := memberEntry{m: f.cat.Compile(in), joined: time.Unix(1_700_000_000, int64(i)).UTC(), active: i%3 == 0}
		if i%5 == 0 {
			e.firm = firm
		}
		if i%11 == 0 {
			e = memberEntry{} // no member
		}
		want[i] = e
	}
	compare := func(step string) {
		t.Helper()
		for i, k := range ks {
			c.member(k) // keeps them used
			got, ok := c.member(k)
			if !ok {
				t.Fatalf("%s: member %d not cached", step, i)
			}
			w := want[i]
			if (got.m == nil) != (w.m == nil) || got.firm != w.firm || !got.joined.Equal(w.joined) || got.active != w.active {
				t.Fatalf("%s: member %d came back as %+v, want %+v", step, i, got, w)
			}
			if w.m == nil {
				continue
			}
			g, m := got.m, w.m
			if g.UserID() != m.UserID() || g.AccountID() != m.AccountID() || g.RoleKey() != m.RoleKey() ||
				g.Blocked() != m.Blocked() || g.Status() != m.Status() || g.ViaFirm() != m.ViaFirm() ||
				g.UserDisabled() != m.UserDisabled() || fmt.Sprint(g.Resources()) != fmt.Sprint(m.Resources()) {
				t.Fatalf("%s: member %d came back different", step, i)
			}
			for _, perm := range []string{"records.view", "members.manage", "records.export"} {
				a := access.CompileAccount(k.account, m.Resources(), nil)
				q := access.Query{}
				if rs := m.Resources(); len(rs) > 0 {
					q = access.Query{Resource: rs[len(rs)-1], HasResource: true}
				}
				if dg, dm := f.cat.Check(g, a, perm, q), f.cat.Check(m, a, perm, q); dg != dm {
					t.Fatalf("%s: member %d, %s: %v from the cache, %v compiled", step, i, perm, dg, dm)
				}
			}
		}
	}
	for i, k := range ks {
		c.putMember(c.generation(), k, want[i])
	}
	compare("put")
	// Others come and go around them.
	for i, k := range memberKeys(20_000) {
		c.putMember(c.generation(), k, f.member(k.account, k.user, i))
		if i%200 == 0 {
			for _, k := range ks {
				c.member(k)
			}
		}
	}
	if c.members.evictions.Load() == 0 {
		t.Fatal("nothing evicted")
	}
	compare("after evictions")
}

// TestCache_AFullCacheEvictsWithoutCopyingItsShards asks about twice as
// many members as the cache holds, at random, once it is full: each miss
// evicts an entry and keeps the new one in its place. The shards' arrays
// keep their size: near its budget a shard's slots and its resource keys
// took the room from each other (a compaction of the keys rounded up to a
// page past the room left, slots grown into the room the keys needed), and
// about every 135 entries put a shard copied its slots again, up and down,
// at the cost of the whole shard each time.
func TestCache_AFullCacheEvictsWithoutCopyingItsShards(t *testing.T) {
	// Shards of some 800 members, whose resource keys pass 32 KiB: the
	// size past which they are counted in whole pages.
	const capacity = 50_000
	f := newCacheFixture()
	c, budget := smallCache(t, f, capacity)
	ks := memberKeys(2 * capacity)
	entries := make([]memberEntry, len(ks))
	for i, k := range ks {
		entries[i] = f.member(k.account, k.user, i)
		c.putMember(c.generation(), k, entries[i])
	}
	resized := func() int {
		n := 0
		for i := range c.members.shards {
			s := &c.members.shards[i]
			s.mu.RLock()
			n += s.resized
			s.mu.RUnlock()
		}
		return n
	}
	before := resized()
	r := rand.New(rand.NewPCG(1, 2))
	puts := 0
	for range 200_000 {
		j := r.IntN(len(ks))
		if _, ok := c.member(ks[j]); ok {
			continue
		}
		puts++
		c.putMember(c.generation(), ks[j], entries[j])
	}
	if puts < 20_000 {
		t.Fatalf("only %d members put: the cache is not full", puts)
	}
	if n := resized() - before; n > clockShards {
		t.Errorf("the shards copied their slots %d times for %d members put", n, puts)
	}
	if n, b := c.members.stats(); b > budget || n < capacity*9/10 {
		t.Errorf("%d members in %d bytes, budget %d", n, b, budget)
	}
}
