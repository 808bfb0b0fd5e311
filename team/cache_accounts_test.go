package team

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
)

// accountFixture returns the i-th account of a test: resources in use and
// archived (none, a few, more than a slot counts), a parent firm for one
// in four, a second-factor requirement for one in three, no such account
// for one in eleven.
func accountFixture(id, firm equipe.ID, i int) (accountEntry, []equipe.ID, []equipe.ID) {
	if i%11 == 0 {
		return accountEntry{}, nil, nil
	}
	ids := func(n int) []equipe.ID {
		out := make([]equipe.ID, n)
		for j := range out {
			out[j] = equipe.NewID()
		}
		return out
	}
	res, arch := ids([]int{0, 1, 4, 20}[i%4]), ids([]int{0, 2, 17}[i%3])
	e := accountEntry{a: access.CompileAccount(id, res, arch), members: int32(i)}
	if i%4 == 1 {
		e.parent = &firm
	}
	if i%3 == 2 {
		e.mfa = mfaPolicy{since: time.Unix(1_700_000_000, int64(i)).UTC(), grace: time.Duration(i) * time.Hour}
	}
	return e, res, arch
}

// An account comes back from the cache as it went in: whether it exists,
// its resources in use and archived, its parent, its second-factor
// requirement and its count of members, also after members evicted around
// it moved the resource keys.
func TestCache_AccountComesBackWhole(t *testing.T) {
	f := newCacheFixture()
	c, _ := smallCache(t, f, 5000)
	firm := equipe.NewID()
	ids := apart(300, firm)
	type want struct {
		e         accountEntry
		res, arch []equipe.ID
	}
	wants := make([]want, len(ids))
	for i, id := range ids {
		e, res, arch := accountFixture(id, firm, i)
		wants[i] = want{e, res, arch}
		c.putAccount(c.generation(), id, e)
	}
	compare := func(step string) {
		t.Helper()
		for i, id := range ids {
			got, ok := c.account(id)
			if !ok {
				t.Fatalf("%s: account %d not cached", step, i)
			}
			w := wants[i]
			if (got.a == nil) != (w.e.a == nil) {
				t.Fatalf("%s: account %d exists %v, want %v", step, i, got.a != nil, w.e.a != nil)
			}
			if w.e.a == nil {
				continue
			}
			if got.a.ID() != id || got.members != w.e.members || fmt.Sprint(got.parent) != fmt.Sprint(w.e.parent) ||
				!got.mfa.since.Equal(w.e.mfa.since) || got.mfa.grace != w.e.mfa.grace || got.a.Len() != len(w.res) {
				t.Fatalf("%s: account %d came back as %+v, want %+v", step, i, got, w.e)
			}
			if (got.parent == nil) != (w.e.parent == nil) || got.parent != nil && *got.parent != firm {
				t.Fatalf("%s: account %d: parent %v", step, i, got.parent)
			}
			for _, r := range w.res {
				if !got.a.Has(r) || got.a.Archived(r) {
					t.Fatalf("%s: account %d: resource in use %v lost", step, i, r)
				}
			}
			for _, r := range w.arch {
				if got.a.Has(r) || !got.a.Archived(r) {
					t.Fatalf("%s: account %d: archived resource %v lost", step, i, r)
				}
			}
			if got.a.Has(equipe.NewID()) {
				t.Fatalf("%s: account %d has a resource it never had", step, i)
			}
		}
	}
	compare("put")
	for i, k := range memberKeys(20_000) {
		c.putMember(c.generation(), k, f.member(k.account, k.user, i))
		if i%200 == 0 {
			for _, id := range ids {
				c.account(id)
			}
		}
	}
	if c.members.evictions.Load() == 0 {
		t.Fatal("nothing evicted")
	}
	compare("after evictions")
}

// An account's entry and a member's are told apart by kind, not by key: a
// question about the user with the zero ID (which nobody has, but anyone
// may ask about) finds no member in the account's entry, and its entry
// does not replace the account's.
func TestCache_AccountIsNoMember(t *testing.T) {
	f := newCacheFixture()
	c, _ := smallCache(t, f, 100_000)
	id := equipe.NewID()
	e, _, _ := accountFixture(id, equipe.ID{}, 2)
	c.putAccount(c.generation(), id, e)
	if _, ok := c.member(memberKey{id, equipe.ID{}}); ok {
		t.Fatal("the account's entry answered as a member")
	}
	c.putMember(c.generation(), memberKey{id, equipe.ID{}}, memberEntry{})
	if a, ok := c.account(id); !ok || a.a == nil || a.a.Len() != 4 {
		t.Fatalf("a member with the zero ID replaced the account: %+v, %v", a, ok)
	}
	if _, ok := c.member(memberKey{id, equipe.ID{}}); !ok {
		t.Fatal("the member with the zero ID was not kept beside the account")
	}
	if n := c.size(); n != 2 {
		t.Fatalf("%d entries, want 2", n)
	}
}

// Invalidating an account forgets its entry, and so does invalidating its
// parent firm; a user's change leaves it; a miss recorded against it holds
// until it is read again.
func TestCache_AccountInvalidation(t *testing.T) {
	f := newCacheFixture()
	c, _ := smallCache(t, f, 100_000)
	ids := apart(3)
	firm, client, other := ids[0], ids[1], ids[2]
	put := func() {
		c.putAccount(c.generation(), client, accountEntry{a: access.CompileAccount(client, nil, nil), parent: &firm})
		c.putAccount(c.generation(), other, accountEntry{a: access.CompileAccount(other, nil, nil)})
	}
	held := func(id equipe.ID) bool { _, ok := c.peekAccount(id); return ok }
	put()
	if c.missedBefore(client) || !c.missedBefore(client) {
		t.Fatal("the first miss was not told from the second")
	}
	c.invalidate([]string{"u:" + equipe.NewUserID().String()})
	if !held(client) || !held(other) {
		t.Fatal("a user's change dropped accounts")
	}
	c.invalidate([]string{"a:" + firm.String()})
	if held(client) || !held(other) {
		t.Fatalf("after the firm's change: client held %v (want false), other %v (want true)", held(client), held(other))
	}
	put()
	if c.missedBefore(client) {
		t.Fatal("a miss survived the account's new entry")
	}
	c.invalidate([]string{"a:" + other.String()})
	if !held(client) || held(other) {
		t.Fatalf("after the account's change: client held %v (want true), other %v (want false)", held(client), held(other))
	}
	// A load that raced a change is not kept.
	gen := c.generation()
	c.invalidate([]string{"a:" + other.String()})
	c.putAccount(gen, other, accountEntry{a: access.CompileAccount(other, nil, nil)})
	if held(other) {
		t.Fatal("an account read before a change was kept")
	}
}

// TestCache_BytesPerAccount holds the cache's count of an account's bytes
// to the memory it takes (heap and mapped regions), for the scale run's accounts (four resources
// in use, none archived).
func TestCache_BytesPerAccount(t *testing.T) {
	const n = 100_000
	ids := make([]equipe.ID, n)
	for i := range ids {
		ids[i] = equipe.NewID()
	}
	res := make([]equipe.ID, 4)
	c := newCache()
	c.setBudget(1 << 30)
	entries := make([]accountEntry, n)
	for i, id := range ids {
		for j := range res {
			res[j] = equipe.NewID()
		}
		entries[i] = accountEntry{a: access.CompileAccount(id, res, nil), members: 10}
	}
	before := memoryInUse(c)
	for i, id := range ids {
		c.putAccount(c.generation(), id, entries[i])
	}
	after := memoryInUse(c)
	runtime.KeepAlive(entries)
	st := c.stats()
	if st.entries != n {
		t.Fatalf("%d entries cached, want %d", st.entries, n)
	}
	// The compiled accounts were live before; what the cache adds is its
	// own.
	perEntry, charged := float64(int64(after)-int64(before))/n, float64(st.bytes)/n
	t.Logf("cached account: %.0f bytes of live heap and mapped regions, %.0f bytes charged", perEntry, charged)
	if perEntry > charged {
		t.Errorf("a cached account takes %.0f bytes and is charged %.0f: the budget undercounts", perEntry, charged)
	}
	// A slot, its share of the index and four resource keys, and the
	// slack of arrays grown by half (some 260 bytes in a map of its own).
	if charged > 160 {
		t.Errorf("a cached account is charged %.0f bytes, want at most 160", charged)
	}
}

// A member of an account that requires no second factor is kept without
// their joined time; should the account come back requiring one (read
// again after it was evicted), the member is read again rather than
// answered without the time its grace counts from.
func TestCache_JoinedTimeComesBackWhenTheAccountRequiresIt(t *testing.T) {
	f := newCacheFixture()
	c := newCache()
	k := memberKeys(1)[0]
	c.putAccount(c.generation(), k.account, accountEntry{a: access.CompileAccount(k.account, nil, nil), members: 1})
	e := f.member(k.account, k.user, 0)
	e.joined = time.Unix(1_700_000_000, 5).UTC()
	c.putMember(c.generation(), k, e)
	if got, ok := c.member(k); !ok || !got.joined.IsZero() {
		t.Fatalf("member in an account without the requirement: %+v, %v; want held without a joined time", got, ok)
	}
	c.putAccount(c.generation(), k.account, accountEntry{a: access.CompileAccount(k.account, nil, nil), members: 1,
		mfa: mfaPolicy{since: time.Unix(1_600_000_000, 0).UTC(), grace: time.Hour}})
	if _, ok := c.member(k); ok {
		t.Fatal("the account requires a second factor and the member without a joined time was answered")
	}
	c.putMember(c.generation(), k, e)
	if got, ok := c.member(k); !ok || !got.joined.Equal(e.joined) {
		t.Fatalf("member read again: %+v, %v; want joined %v", got, ok, e.joined)
	}
}

// heldAsBits reports whether the cache holds k's resources as bits over
// its account's (see slotWithin).
func heldAsBits(c *cache, k memberKey) bool {
	s := c.members.shard(hashMember(k))
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, _ := s.findMember(k)
	return i >= 0 && slotWithin(&s.slots[i])
}

// bitsCase is an account of four resources whose members, collaborators,
// are each assigned its third (pool[2]), in a cache of its own.
type bitsCase struct {
	t       *testing.T
	f       *cacheFixture
	c       *cache
	account equipe.ID
	pool    []equipe.ID
}

func newBitsCase(t *testing.T) *bitsCase {
	f := newCacheFixture()
	f.resources = func(int) int { return 1 }
	b := &bitsCase{t: t, f: f, c: newCache(), account: equipe.NewID(),
		pool: []equipe.ID{equipe.NewID(), equipe.NewID(), equipe.NewID(), equipe.NewID()}}
	f.ofAccount = map[equipe.ID][]equipe.ID{b.account: b.pool}
	b.c.setBudget(1 << 20)
	return b
}

// putAccount puts the account's entry with the resources res, as read
// again without an invalidation.
func (b *bitsCase) putAccount(res []equipe.ID) {
	b.c.putAccount(b.c.generation(), b.account, accountEntry{a: access.CompileAccount(b.account, res, nil), members: 10})
}

// putMember puts the entry of k, a new member when k is zero, and returns
// k.
func (b *bitsCase) putMember(k memberKey) memberKey {
	if k == (memberKey{}) {
		k = memberKey{b.account, equipe.NewUserID()}
	}
	b.c.putMember(b.c.generation(), k, b.f.member(b.account, k.user, 2))
	return k
}

// check reports whether k may view the members of resource, and whether the
// cache answered.
func (b *bitsCase) check(k memberKey, resource equipe.ID) (allowed, cached bool) {
	a, h, ok := b.c.accountMember(k.account, k.user)
	if !ok {
		return false, false
	}
	return b.f.cat.Check(h.member(), a.account(), "members.view", access.Query{Resource: resource, HasResource: true}).Allowed, true
}

// answersAsAssigned fails unless the cache answers every check of k over
// resources, allowing pool[2] alone.
func (b *bitsCase) answersAsAssigned(k memberKey, resources []equipe.ID, when string) {
	b.t.Helper()
	for _, r := range resources {
		if allowed, cached := b.check(k, r); !cached || allowed != (r == b.pool[2]) {
			b.t.Fatalf("%s, resource %v: allowed %v, cached %v", when, r, allowed, cached)
		}
	}
}

// A member held as bits over their account's resources is read only with
// those resources: should the account's entry be read again with other
// resources before any invalidation arrives (evicted, then read again just
// after a resource was added), the bits, made over the first, are not read
// over the second, which would assign the member another resource.
func TestCache_MemberBitsAreReadOnlyOverTheResourcesTheyWereMadeOver(t *testing.T) {
	b := newBitsCase(t)
	b.putAccount(b.pool)
	k := memberKey{b.account, equipe.NewUserID()}
	if got := b.f.member(b.account, k.user, 2).m.Resources(); len(got) != 1 || got[0] != b.pool[2] {
		t.Fatalf("the fixture assigns %v", got)
	}
	b.putMember(k)
	if !heldAsBits(b.c, k) {
		t.Fatal("a member assigned one of their account's resources is not held as bits")
	}
	b.answersAsAssigned(k, b.pool, "held as bits")
	if got, ok := b.c.member(k); !ok || !slices.Equal(got.m.Resources(), []equipe.ID{b.pool[2]}) {
		t.Fatalf("read alone, the member holds %v (cached %v)", got.m, ok)
	}

	// The account read again with one more resource, no invalidation: a
	// resource that sorts before all the others moves every other one
	// place along.
	grown := append([]equipe.ID{{15: 1}}, b.pool...)
	b.putAccount(grown)
	for _, r := range grown {
		if allowed, cached := b.check(k, r); cached {
			t.Fatalf("resource %v: answered from bits made over other resources (allowed %v)", r, allowed)
		}
	}
	if _, ok := b.c.member(k); ok {
		t.Fatal("read alone, the member is answered from bits made over other resources")
	}

	// Read again, the member is kept as keys while other members' bits are
	// over the former resources, and answers right.
	b.putMember(k)
	b.answersAsAssigned(k, grown, "read again")

	// A member held as bits survives its account read again with the same
	// resources.
	k2 := b.putMember(memberKey{})
	if !heldAsBits(b.c, k2) {
		t.Fatal("once no member holds bits over the former resources, a member is not held as bits over the new ones")
	}
	b.putAccount(grown)
	b.answersAsAssigned(k2, grown, "the account read again unchanged")

	// The account changes again and its invalidation arrives: k2's slot,
	// bits over the former resources, is stale and never read again, so
	// a member read now is held as bits over the new resources, though
	// k2's slot is still there.
	b.c.invalidate([]string{"a:" + b.account.String()})
	again := append([]equipe.ID{{14: 1}}, grown...)
	b.putAccount(again)
	k3 := b.putMember(memberKey{})
	if !heldAsBits(b.c, k3) {
		t.Fatal("after the account's invalidation, a member is not held as bits over its new resources")
	}
	if !heldAsBits(b.c, k2) {
		t.Fatal("the stale slot is gone: the test no longer shows a new member claiming past it")
	}
	b.answersAsAssigned(k3, again, "bits over the new resources")
	for _, r := range again {
		if _, cached := b.check(k2, r); cached {
			t.Fatal("a member read before the account's invalidation is answered")
		}
	}
}

// Bits are made over the number's resources at the latest generation of
// the account any of them was read at: a member read after an invalidation
// that left the resources as they were keeps the number's resources in
// place, and another account entry, read before the next invalidation
// with other resources, cannot take their place while that member's bits
// can be read.
func TestCache_MemberBitsKeepTheirResourcesAcrossAnInvalidationThatChangedNone(t *testing.T) {
	b := newBitsCase(t)
	b.putAccount(b.pool)
	b.putMember(memberKey{})                            // bits at the account's first generation
	b.c.invalidate([]string{"a:" + b.account.String()}) // a setting changed, not the resources
	b.putAccount(b.pool)
	k := b.putMember(memberKey{}) // bits over the same resources, at the new generation
	if !heldAsBits(b.c, k) {
		t.Fatal("a member read after the invalidation is not held as bits")
	}

	// Read again with one resource more before the next invalidation.
	grown := append([]equipe.ID{{15: 1}}, b.pool...)
	b.putAccount(grown)
	if k2 := b.putMember(memberKey{}); heldAsBits(b.c, k2) {
		t.Fatal("bits over other resources took the number's place while a member read at this generation holds bits")
	}
	if allowed, _ := b.check(k, b.pool[1]); allowed {
		t.Fatal("bits made over the former resources were read over the new ones")
	}
}
