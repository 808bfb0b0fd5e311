package team

import (
	"hash/maphash"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
)

// memberSlot is a cached member as a shard of the members' table holds it:
// a fixed-size value with no pointer, so that a million of them are a few
// flat arrays the garbage collector does not scan, instead of a million
// objects it does. What members share lives once in the shard or the
// table: the profile (role, overrides, permissions) as a small number, the
// account as a number (see accountNumbers), the assigned resources as bits
// over their account's resources in use where they can be (see
// slotWithin), else in the shard's array of resource keys, and the rare
// firm membership beside it (extras). 32 bytes: the user's ID, the account's number, one
// generation, where the resources start, the profile, the flags and the
// standing.
//
// A slot may hold an account instead (slotAccount; see accountSlot): the
// table is the whole cache of members and accounts, under one budget and
// one CLOCK, and an account costs a slot and its resource keys instead of
// a compiled account on the heap.
type memberSlot struct {
	// user is the member's user; for an account slot, the account.
	user equipe.ID
	// acct is the account's number (see accountNumbers); for an account
	// slot, how many members it had when read.
	acct uint32
	// gen is the sum of the generations of the account and the user when
	// the entry was read (see slotGen).
	gen uint32
	// res is where the member's resources start in the shard's keys; for
	// a member without keys, its resources as bits over its account's
	// (see slotWithin).
	res     uint32
	profile uint16 // index in the shard's profiles; 0: no member
	// flags holds the flags below and, in its low bits, how many
	// resources the member has (resExtra: more, their count in extras).
	flags    uint8
	standing access.Standing
}

// slotGen is what an entry of user in account records of their
// generations: their sum. Generations only grow, so the sum moves when
// either does (it would take 2³² invalidations to come back), and one
// number in the slot does what two did.
func (g *generations) slotGen(account, user equipe.ID) uint32 { return g.of(account) + g.of(user) }

// memberSlot.flags.
const (
	slotNoJoined = 1 << (iota + 3) // the member's joined time was not kept (see cache.newMember)
	slotAccount                    // the slot holds an account (see accountSlot)
	slotLive                       // the slot holds an entry
	slotActive                     // the membership is active
	slotExtra                      // extras hold the firm, joined time or the count of resources
	// resExtra in the low bits says the count of resources is in extras.
	resExtra = 1<<3 - 1
)

// slotWithin reports whether slot sl holds its member's resources as bits
// in res over the resources in use of their account (see access.Within):
// a member with no resource key and bits set. A member without resources
// has neither.
func slotWithin(sl *memberSlot) bool {
	return sl.flags&(slotAccount|resExtra) == 0 && sl.res != 0
}

// withinSeed keys withinDigest.
var withinSeed = maphash.MakeSeed()

// withinDigest returns the digest of an account's resources in use that a
// member's bits are made over and read with (see accountNumbers.claimWithin).
func withinDigest(keys []access.ResourceKey) uint64 {
	if len(keys) == 0 {
		return 0
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(keys))), len(keys)*int(keyBytes))
	return maphash.Bytes(withinSeed, b)
}

// slotHash is where the index looks for the entry of user in the account
// numbered acct (0: the account slot of the account user): it needs no
// account ID, so the index is built again from the slots alone.
func slotHash(user equipe.ID, acct uint32) uint64 {
	return mix(user) ^ uint64(acct)*0x9e3779b97f4a7c15
}

// hash is the slot's slotHash.
func (sl *memberSlot) hash() uint64 {
	if sl.flags&slotAccount != 0 {
		return slotHash(sl.user, 0)
	}
	return slotHash(sl.user, sl.acct)
}

// count returns how many resources slot i has.
func (s *memberShard) count(i int) int {
	n := int(s.slots[i].flags & resExtra)
	if n == resExtra {
		n = int(s.extras[uint32(i)].nres)
	}
	return n
}

// memberExtra is what few entries need beyond their slot: the firm their
// membership derives from (an account's parent) and its generation, a
// count of resources too large for the slot's bits, an account's
// second-factor requirement, and the joined time of a member of an account
// that requires one (or whose requirement was not known).
type memberExtra struct {
	firm  equipe.ID
	since int64 // UnixNano; 0: none; for a member, joined
	grace int64
	fgen  uint32
	nres  uint32
}

// Bytes each part of a shard costs, counted against its budget.
const (
	slotBytes  = int64(unsafe.Sizeof(memberSlot{}))
	keyBytes   = int64(unsafe.Sizeof(access.ResourceKey{}))
	extraBytes = 112 // a pointer-free map's entry of 44 bytes (48 aligned), its control byte and its slack
	// profileBytes is a profile's pointer, its entry in the map that finds
	// its number, and the map's slack (the profile itself is the
	// catalogue's, shared by every member and every cache).
	profileBytes = 48
)

// memberTable holds the cached members within a budget of bytes, in
// shards: each a flat array of slots, an open-addressing index of slot
// numbers, a CLOCK hand for eviction (see clock) and the arrays the slots
// point into by number. Everything is counted as it is allocated, so the
// bytes held are the memory taken, slack included.
type memberTable struct {
	shards [clockShards]memberShard
	gens   *generations
	nums   *accountNumbers
	// evictions counts the entries evicted to make room.
	evictions atomic.Uint64
	// full counts the shards that cannot take an entry without evicting
	// one (see hasRoom).
	full atomic.Int32
}

type memberShard struct {
	mu sync.RWMutex
	// arrays is the memory of slots, used and index (see region).
	arrays *region
	slots  []memberSlot
	// used holds the CLOCK bit of each slot, set (atomically, under the
	// read lock) when the slot is read.
	used []uint64
	// index maps a key's hash to its slot number + 1 (0: empty), by
	// linear probing from the hash's place (see place).
	index []uint32
	free  []uint32 // slots emptied, for the next entries
	live  int
	hand  int
	// keys holds the members' resources; an entry's are keys[res:res+n].
	// The array only grows by appending: the resources of an entry
	// replaced or evicted stay where they are (garbage) until the array is
	// copied into a new one without them, so a member assembled under the
	// read lock may use its resources after it is released.
	keys    []access.ResourceKey
	garbage int
	// profiles are numbered from 1; profileOf finds a profile's number.
	profiles  []*access.Profile
	profileOf map[*access.Profile]uint16
	// swept is how many profiles were left after the last sweep.
	swept  int
	extras map[uint32]memberExtra
	budget int64
	full   bool
	// resized counts the copies of the slots to an array of another size
	// (grow): what a put pays beyond its own entry.
	resized int
	nums    *accountNumbers
	_       [64]byte // keeps shards' locks on separate cache lines
}

// heldMember is a member as the cache answers it without allocating: the
// compiled member is assembled in the value.
type heldMember struct {
	m      access.Member
	has    bool // false: not a member
	firm   equipe.ID
	joined int64
	active bool
	// noJoined says joined was not kept: the member's account required no
	// second factor when they were read (see cache.member).
	noJoined bool
}

// member returns the compiled member, or nil when the user is none. Kept
// as a value, the caller does not allocate (see Service.check).
func (h *heldMember) member() *access.Member {
	if !h.has {
		return nil
	}
	return &h.m
}

func newMemberTable(gens *generations) *memberTable {
	t := &memberTable{gens: gens, nums: new(accountNumbers)}
	arrays := new([clockShards]region)
	for i := range t.shards {
		t.shards[i].arrays = &arrays[i]
		t.shards[i].nums = t.nums
		t.shards[i].reset()
	}
	// A table let go (tests make many) gives its mapped memory back.
	runtime.AddCleanup(t, func(arrays *[clockShards]region) {
		for i := range arrays {
			arrays[i].free()
		}
	}, arrays)
	return t
}

func (s *memberShard) reset() {
	s.arrays.free()
	s.slots, s.used, s.index, s.free, s.keys = nil, nil, nil, nil, nil
	s.live, s.hand, s.garbage, s.swept = 0, 0, 0, 0
	s.profiles = []*access.Profile{nil}
	s.profileOf = map[*access.Profile]uint16{}
	s.extras = map[uint32]memberExtra{}
}

// setBudget bounds the bytes the table holds; it takes effect at the next
// entry put in each shard.
func (t *memberTable) setBudget(budget int64) {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		s.budget = budget / clockShards
		s.mu.Unlock()
	}
}

func (t *memberTable) shard(h uint64) *memberShard { return &t.shards[h%clockShards] }

// place is where in an index of n places the probe for hash h starts.
func place(h uint64, n int) int { return int((h >> 32) * uint64(n) >> 32) }

// The members' shards and the account numbers' stripes keep the same kind
// of index: an open-addressing table of uint32, entry i held as i+1 (0 is
// free), probed linearly from place(hash), at most three quarters full.

// indexAdd puts entry i, whose hash is h, in the first free place from its
// own.
func indexAdd(idx []uint32, h uint64, i uint32) {
	n := len(idx)
	p := place(h, n)
	for idx[p] != 0 {
		if p++; p == n {
			p = 0
		}
	}
	idx[p] = i + 1
}

// indexRemove takes entry i, whose hash is h, out of idx, moving back the
// entries after it that probed past its place (no tombstones); hash gives
// the hash of entry j.
func indexRemove(idx []uint32, h uint64, i uint32, hash func(j uint32) uint64) {
	size := len(idx)
	p := place(h, size)
	for idx[p] != i+1 {
		if p++; p == size {
			p = 0
		}
	}
	for q := p; ; {
		if q++; q == size {
			q = 0
		}
		j := idx[q]
		if j == 0 {
			break
		}
		home := place(hash(j-1), size)
		// j may move to p unless its home lies cyclically in (p, q].
		if p <= q && (home <= p || home > q) || p > q && home <= p && home > q {
			idx[p] = j
			p = q
		}
	}
	idx[p] = 0
}

// find returns the slot number of user's entry in the account numbered
// acct, or of the account user's entry with account (acct 0), or -1; h is
// slotHash(user, acct).
func (s *memberShard) find(user equipe.ID, acct uint32, h uint64, account bool) int {
	var kind uint8
	if account {
		kind = slotAccount
	}
	n := len(s.index)
	if n == 0 {
		return -1
	}
	for p := place(h, n); ; p++ {
		if p == n {
			p = 0
		}
		i := s.index[p]
		if i == 0 {
			return -1
		}
		if sl := &s.slots[i-1]; sl.user == user && sl.flags&slotAccount == kind && (account || sl.acct == acct) {
			return int(i - 1)
		}
	}
}

// findMember returns the slot number of k's member entry, or -1, and the
// digest of the account's resources that members held as bits were made
// over. Call it under the shard's lock: the account's number is read under
// it, so a slot found with that number is that account's (see
// accountNumbers).
func (s *memberShard) findMember(k memberKey) (int, uint64) {
	n, within, ok := s.nums.lookup(k.account)
	if !ok {
		return -1, 0
	}
	return s.find(k.user, n, slotHash(k.user, n), false), within
}

// bytes returns what the shard's arrays take.
func (s *memberShard) bytes() int64 {
	return s.bytesWith(cap(s.slots), cap(s.keys), len(s.profiles))
}

func (s *memberShard) bytesWith(slots, keys, profiles int) int64 {
	return int64(slots)*slotBytes + int64(indexLen(slots))*4 + int64((slots+63)/64)*8 +
		int64(keys)*keyBytes + int64(len(s.extras))*extraBytes + int64(profiles-1)*profileBytes +
		s.nums.bytes.Load()/clockShards
}

// indexLen is the index's length for n slots: at most three quarters
// full.
func indexLen(n int) int {
	if n == 0 {
		return 0
	}
	return n + n/3 + 1
}

// get returns k's entry, fresh, and marks it used. a is its account's
// entry, if the caller has it, fresh: a member held as bits over the
// account's resources is read with them (else get reads the account's
// entry itself).
func (t *memberTable) get(k memberKey, a *heldAccount) (heldMember, bool) {
	return t.lookup(k, a, true)
}

// peek reports whether the table holds k fresh, without marking it used.
func (t *memberTable) peek(k memberKey) bool {
	_, ok := t.lookup(k, nil, false)
	return ok
}

// lookup is get, marking the entry used with mark.
func (t *memberTable) lookup(k memberKey, a *heldAccount, mark bool) (heldMember, bool) {
	s := t.shard(hashMember(k))
	var acct heldAccount // declared outside the loop, so that &acct stays on the stack
	for {
		s.mu.RLock()
		i, within := s.findMember(k)
		if i < 0 {
			s.mu.RUnlock()
			return heldMember{}, false
		}
		if a == nil && slotWithin(&s.slots[i]) {
			// The account's entry is read without the member's shard
			// locked: shards are never locked two at once.
			s.mu.RUnlock()
			var held bool
			if acct, held = t.getAccount(k.account, false); !held {
				return heldMember{}, false
			}
			a = &acct
			continue
		}
		e, ok := s.held(t, i, k.account, a, within)
		if ok && mark {
			s.markUsed(i)
		}
		s.mu.RUnlock()
		return e, ok
	}
}

// markUsed sets slot i's CLOCK bit, under the shard's read lock: the bit
// is read first, so that a slot already marked, the common case, costs no
// write to the shared cache line.
func (s *memberShard) markUsed(i int) {
	w, b := &s.used[i>>6], uint64(1)<<(i&63)
	if atomic.LoadUint64(w)&b == 0 {
		atomic.OrUint64(w, b)
	}
}

// held assembles slot i, a member of account, and reports whether it is
// fresh; a is the account's entry, for a member held as bits over its
// resources in use, and within the digest of the resources the number's
// bits were made over (see accountNumbers.claimWithin): bits over other
// resources than a's are not read. Call it under the shard's lock.
func (s *memberShard) held(t *memberTable, i int, account equipe.ID, a *heldAccount, within uint64) (heldMember, bool) {
	sl := &s.slots[i]
	if sl.gen != t.gens.slotGen(account, sl.user) {
		return heldMember{}, false
	}
	var inUse []access.ResourceKey
	if slotWithin(sl) {
		if a == nil || !a.exists {
			return heldMember{}, false
		}
		if inUse, _ = a.a.Parts(); withinDigest(inUse) != within {
			return heldMember{}, false
		}
	}
	e := heldMember{active: sl.flags&slotActive != 0, noJoined: sl.flags&slotNoJoined != 0}
	n := int(sl.flags & resExtra)
	if sl.flags&slotExtra != 0 {
		x := s.extras[uint32(i)]
		if x.firm != (equipe.ID{}) && x.fgen != t.gens.of(x.firm) {
			return heldMember{}, false
		}
		e.firm, e.joined = x.firm, x.since
		if n == resExtra {
			n = int(x.nres)
		}
	}
	switch {
	case sl.profile == 0:
	case inUse != nil:
		e.m, e.has = access.AssembleWithin(s.profiles[sl.profile], sl.user, account, inUse, sl.res, sl.standing), true
	default:
		var rs []access.ResourceKey
		if n > 0 {
			rs = s.keys[sl.res : int(sl.res)+n : int(sl.res)+n]
		}
		e.m, e.has = access.Assemble(s.profiles[sl.profile], sl.user, account, rs, sl.standing), true
	}
	return e, true
}

// fresh reports whether slot i's generations are current.
func (s *memberShard) fresh(t *memberTable, i int) bool {
	sl := &s.slots[i]
	account, user := sl.user, equipe.ID{}
	if sl.flags&slotAccount == 0 {
		account, user = s.nums.id(sl.acct), sl.user
	}
	if sl.gen != t.gens.slotGen(account, user) {
		return false
	}
	if sl.flags&slotExtra != 0 {
		x := s.extras[uint32(i)]
		return x.firm == (equipe.ID{}) || x.fgen == t.gens.of(x.firm)
	}
	return true
}

// hasRoom reports whether most shards can take an entry without evicting.
func (t *memberTable) hasRoom() bool { return t.full.Load() < clockShards/2 }

// newMember is an entry to put: the slot without its numbers, and what
// they number.
type newMember struct {
	slot memberSlot // its acct unset for a member (see memberTable.put)
	// account is the member's account; for an account, its ID (also in
	// slot.user).
	account   equipe.ID
	profile   *access.Profile // nil: no member
	resources []access.ResourceKey
	// within says the resources may be held as bits instead of keys
	// (see slotWithin) over the account's resources in use whose digest
	// is digest; agen is the account's generation in slot.gen.
	within bool
	bits   uint32
	digest uint64
	agen   uint32
	firm   equipe.ID
	fgen   uint32
	// since and grace are an account's second-factor requirement; since
	// is a member's joined time when kept (see cache.newMember).
	since, grace int64
}

// put keeps e under its key, evicting what makes room: stale entries, or
// entries not read since the hand last passed. With ifRoom, it keeps e
// only if the key is not held and e fits without evicting, unused; it
// reports whether it kept e.
func (t *memberTable) put(e *newMember, ifRoom bool) bool {
	k := memberKey{e.account, e.slot.user}
	if e.slot.flags&slotAccount != 0 {
		k = memberKey{account: e.account}
	}
	s := t.shard(hashMember(k))
	s.mu.Lock()
	defer s.mu.Unlock()
	var kept bool
	if e.slot.flags&slotAccount != 0 {
		kept = s.put(t, e, 0, false, ifRoom)
	} else {
		// The slot holds the number from now; it lets it go if it is not
		// kept after all, or when it is removed.
		n := t.nums.acquire(e.account)
		bits := e.within && t.nums.claimWithin(n, e.digest, e.agen)
		if kept = s.put(t, e, n, bits, ifRoom); !kept {
			t.nums.release(n, bits)
		}
	}
	t.setFull(s)
	return kept
}

func (t *memberTable) setFull(s *memberShard) {
	full := len(s.free) == 0 && s.bytesWith(grown(cap(s.slots)), cap(s.keys), len(s.profiles)) > s.budget
	if full != s.full {
		s.full = full
		if full {
			t.full.Add(1)
		} else {
			t.full.Add(-1)
		}
	}
}

// grown is the number of slots the next growth gives.
func grown(n int) int { return max(16, n+n/2) }

// put keeps e, a member of the account numbered acct (or an account, acct
// 0) under the shard's lock; with bits, its resources as e.bits (see
// slotWithin).
func (s *memberShard) put(t *memberTable, e *newMember, acct uint32, bits, ifRoom bool) bool {
	account := e.slot.flags&slotAccount != 0
	h := slotHash(e.slot.user, acct)
	i := s.find(e.slot.user, acct, h, account)
	if i >= 0 {
		if ifRoom {
			return false
		}
		s.remove(i)
	}
	nres := len(e.resources)
	if bits {
		nres = 0
	}
	// The smallest the entry can take: its slot, its share of the index,
	// its resources, its extras and a profile.
	least := slotBytes + 6 + int64(nres)*keyBytes + extraBytes + profileBytes
	if least > s.budget {
		return false
	}
	p, ok := s.number(t, e.profile, ifRoom)
	if !ok {
		return false
	}
	if !s.roomForKeys(t, nres, ifRoom) {
		return false
	}
	i, ok = s.slot(t, ifRoom)
	if !ok {
		return false
	}
	sl := e.slot
	if !account {
		sl.profile, sl.acct = p, acct
	}
	sl.flags |= slotLive
	switch {
	case bits:
		sl.res = e.bits
	case nres > 0:
		sl.res = uint32(len(s.keys))
		s.keys = append(s.keys, e.resources...)
	}
	sl.flags |= uint8(min(nres, resExtra))
	if e.firm != (equipe.ID{}) || nres >= resExtra || e.since != 0 || e.grace != 0 {
		sl.flags |= slotExtra
		s.extras[uint32(i)] = memberExtra{firm: e.firm, fgen: e.fgen, nres: uint32(nres), since: e.since, grace: e.grace}
	}
	s.slots[i] = sl
	w, b := &s.used[i>>6], uint64(1)<<(i&63)
	// A new entry starts unused: read once, it goes at the hand's next
	// pass, so a sweep of entries read once evicts only its own.
	atomic.StoreUint64(w, atomic.LoadUint64(w)&^b)
	s.insertIndex(h, uint32(i))
	s.live++
	// The extras may have grown past the budget.
	if over := s.bytes() - s.budget; over > 0 {
		s.release(t, over, i)
	}
	return true
}

// release frees at least n bytes, evicting entries (never slot keep) and
// moving the others to a smaller array of slots; it reports whether it
// did. The slots and the resource keys are counted as allocated, so
// evicting alone frees nothing: it only makes room in them.
func (s *memberShard) release(t *memberTable, n int64, keep int) bool {
	// A sixty-fourth at least: the room freed lasts a while, rather than
	// each put past the budget copying the shard again.
	target := cap(s.slots) - max(int(n/(slotBytes+4))+1, cap(s.slots)/64)
	if target < 0 {
		return false
	}
	for s.live > target {
		if !s.evictOne(t, keep) {
			return false
		}
	}
	s.grow(target)
	return true
}

// number returns p's number in the shard, numbering it if it has none.
func (s *memberShard) number(t *memberTable, p *access.Profile, ifRoom bool) (uint16, bool) {
	if p == nil {
		return 0, true
	}
	if n, ok := s.profileOf[p]; ok {
		return n, true
	}
	if len(s.profiles) > max(2*s.swept, 16) || len(s.profiles) > 1<<16-1 {
		s.sweepProfiles()
		if len(s.profiles) > 1<<16-1 {
			return 0, false
		}
	}
	if over := s.bytesWith(cap(s.slots), cap(s.keys), len(s.profiles)+1) - s.budget; over > 0 {
		if ifRoom || !s.release(t, over, -1) {
			return 0, false
		}
	}
	s.profileOf[p] = uint16(len(s.profiles))
	s.profiles = append(s.profiles, p)
	return uint16(len(s.profiles) - 1), true
}

// sweepProfiles renumbers the profiles the entries use and forgets the
// others: custom roles and overrides that change over time leave profiles
// no entry uses.
func (s *memberShard) sweepProfiles() {
	renum := make([]uint16, len(s.profiles))
	profiles := []*access.Profile{nil}
	clear(s.profileOf)
	for i := range s.slots {
		sl := &s.slots[i]
		if sl.flags&slotLive == 0 || sl.flags&slotAccount != 0 || sl.profile == 0 {
			continue
		}
		if renum[sl.profile] == 0 {
			p := s.profiles[sl.profile]
			profiles = append(profiles, p)
			renum[sl.profile] = uint16(len(profiles) - 1)
			s.profileOf[p] = renum[sl.profile]
		}
		sl.profile = renum[sl.profile]
	}
	s.profiles = profiles
	s.swept = len(profiles)
}

// roomForKeys makes room for n more resource keys: in the array's spare
// capacity, or in a new array without the garbage, as large as the budget
// allows up to half again what it holds, evicting what must go.
func (s *memberShard) roomForKeys(t *memberTable, n int, ifRoom bool) bool {
	if n == 0 || cap(s.keys)-len(s.keys) >= n {
		return true
	}
	for {
		used := len(s.keys) - s.garbage
		want := max(used+n+(used+n)/2, 64)
		least := used + n
		room := (s.budget-s.bytesWith(cap(s.slots), 0, len(s.profiles)))/keyBytes - int64(least)
		// Some slack, or each entry with resources would copy them all;
		// little, as evicting for it evicts at once.
		if room >= int64(min(least/32, want-least)) {
			s.copyKeys(least, least+int(min(int64(want-least), room)), least+int(room))
			return true
		}
		// Empty slots beyond a sixteenth of them give their room to the
		// keys.
		if cap(s.slots)-s.live > cap(s.slots)/16+16 {
			s.grow(s.live + s.live/16 + 1)
			continue
		}
		if ifRoom || !s.evictOne(t, -1) {
			return false
		}
	}
}

// copyKeys moves the live resource keys to a new array of capacity n, or
// as near it as whole pages allow between least and most. The old array
// stays as it is for the members assembled from it.
func (s *memberShard) copyKeys(least, n, most int) {
	// An array past 32 KiB takes whole pages of 8 KiB: its capacity takes
	// the rest of its last page, which the budget counts anyway, or stops
	// at the page before when the rest would pass most (the room the
	// budget leaves) and that page still holds least: a page more than the
	// room put the shard over its budget, which then shrank its slots,
	// which grew again at the next entry, each time a copy of the whole
	// shard.
	if b := int64(n) * keyBytes; b > 32<<10 {
		const page = 8 << 10
		up, down := int((b+page-1)&^(page-1)/keyBytes), int(b&^(page-1)/keyBytes)
		switch {
		case up <= most:
			n = up
		case down >= least:
			n = down
		default:
			n = up // no whole page fits between: the memory taken is counted
		}
	}
	keys := make([]access.ResourceKey, 0, n)
	for i := range s.slots {
		sl := &s.slots[i]
		if sl.flags&slotLive == 0 {
			continue
		}
		c := s.count(i)
		if c == 0 {
			continue
		}
		start := len(keys)
		keys = append(keys, s.keys[sl.res:int(sl.res)+c]...)
		sl.res = uint32(start)
	}
	s.keys, s.garbage = keys, 0
}

// slot returns a free slot: an emptied one, a new one while the budget
// allows, or one evicted.
func (s *memberShard) slot(t *memberTable, ifRoom bool) (int, bool) {
	for {
		if n := len(s.free); n > 0 {
			i := s.free[n-1]
			s.free = s.free[:n-1]
			return int(i), true
		}
		if c := cap(s.slots); len(s.slots) < c {
			s.slots = s.slots[:len(s.slots)+1]
			return len(s.slots) - 1, true
		}
		if n := s.slotsFitting(); worthGrowing(cap(s.slots), n) {
			s.grow(n)
			continue
		}
		// The budget is taken; resource keys that hold more than a
		// sixteenth of spare room give it to the slots.
		if used := len(s.keys) - s.garbage; cap(s.keys)-used > used/8+16 {
			s.copyKeys(used, used+used/16, cap(s.keys))
			if n := s.slotsFitting(); worthGrowing(cap(s.slots), n) {
				s.grow(n)
				continue
			}
		}
		if ifRoom || !s.evictOne(t, -1) {
			return 0, false
		}
	}
}

// worthGrowing reports whether growing the slots from c to n is worth a
// copy of them all: by the usual half again, or near the budget by at
// least a sixteenth; else the shard evicts. A growth of a few slots, which
// the next keys, extras or accounts' numbers took back (release), made
// puts at a full cache copy their shard again and again.
func worthGrowing(c, n int) bool { return n > c && (n >= grown(c) || n-c >= c/16+16) }

// slotsFitting returns how many slots the shard may grow to: half again
// as many, or as many as the budget holds.
func (s *memberShard) slotsFitting() int {
	n := grown(cap(s.slots))
	if s.bytesWith(n, s.keysFor(n), len(s.profiles)) <= s.budget {
		return n
	}
	lo, hi := cap(s.slots), n // lo fits (or is the current), hi does not
	for hi-lo > 1 {
		m := (lo + hi) / 2
		if s.bytesWith(m, s.keysFor(m), len(s.profiles)) <= s.budget {
			lo = m
		} else {
			hi = m
		}
	}
	return lo
}

// keysFor returns the resource keys the shard's entries are expected to
// need in n slots: as many a slot as its entries hold now, and an eighth
// more, the room a compaction of them takes (copyKeys); never fewer than
// the array holds. Slots that grew into the room the keys need took it
// from them: near the budget, each compaction of the keys then evicted
// and shrank the slots, and the next entries grew them again, each time a
// copy of the whole shard.
func (s *memberShard) keysFor(n int) int {
	used := len(s.keys) - s.garbage
	if s.live == 0 || used == 0 {
		return cap(s.keys)
	}
	want := used * n / s.live
	return max(cap(s.keys), want+want/8)
}

// grow moves the slots to an array of n (more, or fewer but as many as
// are held), without the empty ones, and builds the index again for them.
func (s *memberShard) grow(n int) {
	s.resized++
	arrays, slots, used, index := slotArrays(n, indexLen(n))
	extras := make(map[uint32]memberExtra, len(s.extras))
	for i := range s.slots {
		sl := &s.slots[i]
		if sl.flags&slotLive == 0 {
			continue
		}
		j := len(slots)
		slots = append(slots, *sl)
		if atomic.LoadUint64(&s.used[i>>6])&(1<<(i&63)) != 0 {
			used[j>>6] |= 1 << (j & 63)
		}
		if sl.flags&slotExtra != 0 {
			extras[uint32(j)] = s.extras[uint32(i)]
		}
	}
	// Nothing reads the old arrays once the lock is released.
	s.arrays.free()
	*s.arrays = arrays
	s.slots, s.used, s.extras, s.free, s.index = slots, used, extras, s.free[:0], index
	if s.hand >= len(slots) {
		s.hand = 0
	}
	for i := range s.slots {
		sl := &s.slots[i]
		s.insertIndex(sl.hash(), uint32(i))
	}
}

func (s *memberShard) insertIndex(h uint64, i uint32) { indexAdd(s.index, h, i) }

// evictOne moves the hand to the first entry that is stale or not read
// since it last passed, clearing the bits it passes, and evicts it; never
// slot keep. It reports whether it evicted one. Two turns are enough: the
// first clears every bit.
func (s *memberShard) evictOne(t *memberTable, keep int) bool {
	for turns := 2 * len(s.slots); turns > 0; turns-- {
		if s.hand >= len(s.slots) {
			s.hand = 0
		}
		i := s.hand
		s.hand++
		if s.slots[i].flags&slotLive == 0 || i == keep {
			continue
		}
		w, b := &s.used[i>>6], uint64(1)<<(i&63)
		if atomic.LoadUint64(w)&b != 0 && s.fresh(t, i) {
			atomic.AndUint64(w, ^b)
			continue
		}
		s.remove(i)
		t.evictions.Add(1)
		return true
	}
	return false
}

// remove empties slot i.
func (s *memberShard) remove(i int) {
	sl := &s.slots[i]
	h := sl.hash()
	if sl.flags&slotAccount == 0 {
		s.nums.release(sl.acct, slotWithin(sl))
	}
	s.garbage += s.count(i)
	if sl.flags&slotExtra != 0 {
		delete(s.extras, uint32(i))
	}
	*sl = memberSlot{}
	s.free = append(s.free, uint32(i))
	s.live--
	indexRemove(s.index, h, uint32(i), func(j uint32) uint64 { return s.slots[j].hash() })
}

// clear forgets every entry.
func (t *memberTable) clear() {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for i := range s.slots {
			if sl := &s.slots[i]; sl.flags&slotLive != 0 && sl.flags&slotAccount == 0 {
				s.nums.release(sl.acct, slotWithin(sl))
			}
		}
		s.reset()
		if s.full {
			s.full = false
			t.full.Add(-1)
		}
		s.mu.Unlock()
	}
}

// stats returns the entries held and the bytes taken.
func (t *memberTable) stats() (entries int, bytes int64) {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.RLock()
		entries += s.live
		bytes += s.bytes()
		s.mu.RUnlock()
	}
	return entries, bytes
}

// mapped returns the bytes the shards' regions map outside the Go heap.
func (t *memberTable) mapped() int64 {
	var n int64
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.RLock()
		if s.arrays.mapped {
			n += int64(len(s.arrays.mem))
		}
		s.mu.RUnlock()
	}
	return n
}

// budgetHeld returns the sum of the shards' budgets.
func (t *memberTable) budgetHeld() int64 {
	var b int64
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.RLock()
		b += s.budget
		s.mu.RUnlock()
	}
	return b
}
