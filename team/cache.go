package team

import (
	"encoding/binary"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/store"
)

// DefaultCacheBudget is the memory the cache holds by default (see
// Service.SetCacheBudget).
const DefaultCacheBudget = 64 << 20

type memberKey struct{ account, user equipe.ID }

// memberEntry is what the cache knows of a user in an account: their
// compiled membership (direct or through the parent firm), or that they have
// none (whether or not the user exists).
type memberEntry struct {
	m *access.Member // nil: not a member
	// firm is the parent account whose membership m derives from (ViaFirm).
	firm equipe.ID
	// joined is when the membership m derives from was joined (zero: not
	// yet), from which a second factor's grace may count; active says it
	// is active (a second factor is asked only of those who may act).
	joined time.Time
	active bool
}

// userEntry is what the cache knows of a user for the instance keys they
// made: whether they exist, are an instance administrator, are disabled.
type userEntry struct {
	exists, instanceAdmin, disabled bool
}

// accountEntry is what the cache knows of an account.
type accountEntry struct {
	a      *access.Account // nil: no such account
	parent *equipe.ID
	// mfa is the account's second-factor requirement, read on every
	// request in the account (see Service.SecondFactorRule).
	mfa mfaPolicy
	// members is how many members the account had when read (see
	// Service.loadMember).
	members int32
}

type cachedUser struct {
	userEntry
	gen uint32
}

type cachedKey struct {
	keyEntry
	gen uint32
}

// generations counts the invalidations of each ID, by a hash of the ID: an
// entry records, when it is read from the store, the counts of the IDs it
// depends on (its account, its user, the firm it derives from), and is
// stale once any of them moved. Invalidating a user or an account is then
// a few atomic increments, with no index of the entries to keep: that
// index cost more memory than the entries. Two IDs that share a counter
// invalidate each other's entries, which costs a read from the store and
// never serves a stale entry.
type generations [1 << 16]atomic.Uint32

func (g *generations) of(id equipe.ID) uint32 { return g[mix(id)>>48].Load() }
func (g *generations) bump(id equipe.ID)      { g[mix(id)>>48].Add(1) }

// mix hashes an ID to 64 well-spread bits.
func mix(id equipe.ID) uint64 {
	h := binary.LittleEndian.Uint64(id[:8]) ^ binary.LittleEndian.Uint64(id[8:])*0xff51afd7ed558ccd
	h ^= h >> 33
	return h * 0x9e3779b97f4a7c15
}

// The cache's budget, in shares: members and accounts, in one table (see
// accountSlot), take most of it; API keys and the creators of instance
// keys are fewer: 1 MiB of a 64 MiB budget holds some 3,000 keys.
const (
	keyShare  = 64  // 1/64 of the budget
	userShare = 128 // 1/128
)

// Bytes an entry costs beyond its value: the index's slot and control
// byte at the map's fullest, and its slack after it grew (measured; see
// TestCache_BytesPerMember).
const (
	keyOverhead  = int(unsafe.Sizeof(clockSlot[keyHash, cachedKey]{})) + 2*(32+4+1) + int(unsafe.Sizeof(equipe.APIKey{}))
	userOverhead = int(unsafe.Sizeof(clockSlot[equipe.ID, cachedUser]{})) + 2*(16+4+1)
)

// cache holds members and accounts (see memberTable), API keys and the creators of
// instance keys, within a budget of bytes (see clock). Invalidation by
// account or user is exact through generations; a load happens outside
// any lock and is kept only if nothing at all was invalidated meanwhile
// (seq unchanged), so a change that committed during the load is never
// hidden by stale data.
type cache struct {
	seq     atomic.Uint64 // invalidations so far
	gens    generations
	members *memberTable // and accounts
	keys    *clock[keyHash, cachedKey]
	users   *clock[equipe.ID, cachedUser]
	// hits and misses count the lookups (for the metrics).
	hits, misses atomic.Uint64
	// staleMember and friends tell an entry that an invalidation passed
	// (made once: a method value allocates).
	staleKey  func(keyHash, *cachedKey) bool
	staleUser func(equipe.ID, *cachedUser) bool
}

func hashMember(k memberKey) uint64 { return mix(k.account) ^ mix(k.user)>>7 }
func hashID(id equipe.ID) uint64    { return mix(id) }
func hashKey(h keyHash) uint64      { return binary.LittleEndian.Uint64(h[:8]) }

func newCache() *cache {
	c := &cache{}
	c.members = newMemberTable(&c.gens)
	c.keys = newClock[keyHash, cachedKey](0, hashKey)
	c.users = newClock[equipe.ID, cachedUser](0, hashID)
	c.setBudget(DefaultCacheBudget)
	c.staleKey = func(_ keyHash, e *cachedKey) bool { return e.gen != c.gens.of(e.key.ID) }
	c.staleUser = func(id equipe.ID, e *cachedUser) bool { return e.gen != c.gens.of(id) }
	return c
}

func (c *cache) setBudget(bytes int64) {
	k, u := bytes/keyShare, bytes/userShare
	c.members.setBudget(bytes - k - u)
	c.keys.setBudget(k)
	c.users.setBudget(u)
}

// counted counts a lookup that found (ok) or missed.
func (c *cache) counted(ok bool) bool {
	if ok {
		c.hits.Add(1)
	} else {
		c.misses.Add(1)
	}
	return ok
}

// cacheStats are the cache's figures for the metrics.
type cacheStats struct {
	entries   int
	bytes     int64
	evictions uint64
}

func (c *cache) stats() cacheStats {
	var st cacheStats
	add := func(n int, b int64, ev uint64) {
		st.entries += n
		st.bytes += b
		st.evictions += ev
	}
	n, b := c.members.stats()
	add(n, b, c.members.evictions.Load())
	n, b = c.keys.stats()
	add(n, b, c.keys.evictions.Load())
	n, b = c.users.stats()
	add(n, b, c.users.evictions.Load())
	return st
}

// size returns the number of entries held.
func (c *cache) size() int { return c.stats().entries }

func (c *cache) reset() {
	c.seq.Add(1)
	c.members.clear()
	c.keys.clear()
	c.users.clear()
}

func (c *cache) generation() uint64 { return c.seq.Load() }

func (c *cache) user(id equipe.ID) (userEntry, bool) {
	e, ok := c.users.get(id)
	ok = ok && e.gen == c.gens.of(id)
	return e.userEntry, c.counted(ok)
}

// putUser keeps e if nothing changed since gen.
func (c *cache) putUser(gen uint64, id equipe.ID, e userEntry) {
	g := c.gens.of(id)
	if c.seq.Load() != gen {
		return
	}
	c.users.put(id, cachedUser{e, g}, userOverhead, c.staleUser)
}

func (c *cache) member(k memberKey) (memberEntry, bool) {
	e, ok := c.members.get(k, nil)
	if ok && e.noJoined && c.needsJoined(k.account) {
		// The account came to require a second factor, whose grace counts
		// from the joined time the entry did not keep: read it again.
		ok = false
	}
	return e.entry(), c.counted(ok)
}

// needsJoined reports whether a member of the account must be kept with
// their joined time: unless the cache holds the account, fresh, and it
// requires no second factor, the only use of that time (see
// mfaPolicy.deadline). Dropping it saves 8 bytes a member, and an entry
// in extras where it is kept.
func (c *cache) needsJoined(account equipe.ID) bool {
	a, ok := c.members.getAccount(account, false)
	return !ok || !a.exists || a.since != 0
}

// entry returns the member as a memberEntry, its compiled member on the
// heap.
func (h *heldMember) entry() memberEntry {
	e := memberEntry{firm: h.firm, active: h.active}
	if h.has {
		e.m = new(access.Member)
		*e.m = h.m
	}
	if h.joined != 0 {
		e.joined = time.Unix(0, h.joined).UTC()
	}
	return e
}

func (c *cache) account(id equipe.ID) (accountEntry, bool) {
	e, ok := c.members.getAccount(id, true)
	return e.entry(), c.counted(ok)
}

// peekAccount returns the account's entry if the cache holds it fresh,
// without counting a lookup nor marking the entry used.
func (c *cache) peekAccount(id equipe.ID) (accountEntry, bool) {
	e, ok := c.members.getAccount(id, false)
	return e.entry(), ok
}

// missedBefore records a miss of a member of the account and reports
// whether one was recorded before since the account was read.
func (c *cache) missedBefore(account equipe.ID) bool { return c.members.markMissed(account) }

// holdsMember reports whether the cache holds k fresh, without counting a
// lookup nor marking the entry used.
func (c *cache) holdsMember(k memberKey) bool { return c.members.peek(k) }

// membersHaveRoom reports whether the members held take less than their
// budget.
func (c *cache) membersHaveRoom() bool { return c.members.hasRoom() }

// accountMember returns the account and the user's membership of it when
// the cache knows both (or knows that the account does not exist),
// without allocating.
func (c *cache) accountMember(account, user equipe.ID) (heldAccount, heldMember, bool) {
	a, ok := c.members.getAccount(account, true)
	if !ok || !a.exists {
		return a, heldMember{}, c.counted(ok)
	}
	m, ok := c.members.get(memberKey{account, user}, &a)
	return a, m, c.counted(ok)
}

func (c *cache) key(h keyHash) (keyEntry, bool) {
	e, ok := c.keys.get(h)
	ok = ok && e.gen == c.gens.of(e.key.ID)
	return e.keyEntry, c.counted(ok)
}

// putKey keeps e if nothing changed since gen.
func (c *cache) putKey(gen uint64, h keyHash, e keyEntry) {
	g := c.gens.of(e.key.ID)
	if c.seq.Load() != gen {
		return
	}
	c.keys.put(h, cachedKey{e, g}, keyOverhead, c.staleKey)
}

// claimTouch reports whether the caller is the one to record the key's use
// at now: the first to find it unrecorded for keyTouchEvery. Requests that
// come together with the key do not all write the same time.
func (c *cache) claimTouch(h keyHash, now time.Time) bool {
	claimed := true
	c.keys.update(h, func(e *cachedKey) {
		if now.Sub(e.touched) < keyTouchEvery {
			claimed = false
			return
		}
		e.touched = now
	})
	return claimed
}

// putMember keeps e if nothing changed since gen.
func (c *cache) putMember(gen uint64, k memberKey, e memberEntry) {
	if nm, ok := c.newMember(gen, k, e); ok {
		c.members.put(&nm, false)
	}
}

// putMemberIfRoom keeps e if nothing changed since gen and it fits without
// evicting anything; it reports whether it kept it. A member nobody asked
// about yet (read with another) takes only room no one else needs.
func (c *cache) putMemberIfRoom(gen uint64, k memberKey, e memberEntry) bool {
	nm, ok := c.newMember(gen, k, e)
	return ok && c.members.put(&nm, true)
}

// newMember returns e as the cache keeps it under k, or false if anything
// changed since gen.
func (c *cache) newMember(gen uint64, k memberKey, e memberEntry) (newMember, bool) {
	// The account's generation is read once, for the slot's and for the
	// bits' (see accountNumbers.claimWithin).
	agen := c.gens.of(k.account)
	nm := newMember{account: k.account, slot: memberSlot{user: k.user, gen: agen + c.gens.of(k.user)},
		firm: e.firm, agen: agen}
	if e.active {
		nm.slot.flags |= slotActive
	}
	acct, held := c.members.getAccount(k.account, false)
	if !e.joined.IsZero() {
		if !held || !acct.exists || acct.since != 0 { // see needsJoined
			nm.since = e.joined.UnixNano()
		} else {
			nm.slot.flags |= slotNoJoined
		}
	}
	if e.firm != (equipe.ID{}) {
		nm.fgen = c.gens.of(e.firm)
	}
	if e.m != nil {
		nm.profile, nm.resources, nm.slot.standing = e.m.Parts()
		// Resources among the first of the account's in use, as the cache
		// holds them, are kept as bits over those: 4 bytes a member
		// instead of 16 a resource. Made over the entry the cache holds,
		// whatever the member was read with: a check reads the bits only
		// with the same resources (see memberShard.held).
		if len(nm.resources) > 0 && held && acct.exists {
			inUse, _ := acct.a.Parts()
			nm.bits, nm.within = access.Within(inUse, nm.resources)
			nm.digest = withinDigest(inUse)
		}
	}
	// The generations are read before seq: an invalidation moves seq
	// first, so generations that already count it come with a seq that
	// refuses the entry.
	return nm, c.seq.Load() == gen
}

// putAccount keeps e if nothing changed since gen.
func (c *cache) putAccount(gen uint64, id equipe.ID, e accountEntry) {
	// The generations are read (in newAccount) before seq, as in
	// newMember.
	nm, ok := c.newAccount(id, e)
	if ok && c.seq.Load() == gen {
		c.members.put(&nm, false)
	}
}

// invalidate forgets what the change keys name (see store.MemberKey and
// friends). A member's change drops every entry of the user: entries in
// client accounts derive from their firm membership.
func (c *cache) invalidate(keys []string) {
	c.seq.Add(1)
	for _, key := range keys {
		kind, rest, _ := strings.Cut(key, ":")
		switch kind {
		case "m":
			_, u, _ := strings.Cut(rest, ":")
			if id, err := equipe.ParseID(u); err == nil {
				c.gens.bump(id)
			}
		case "u", "a", "k":
			if id, err := equipe.ParseID(rest); err == nil {
				c.gens.bump(id)
			}
		case "e": // events were recorded: no access changed by that alone
		case "w":
			// Webhook endpoints (store.WebhooksKey) grant nothing.
		default:
			c.reset()
		}
	}
}

// watch makes the cache hear the store's changes.
func (c *cache) watch(db *store.DB) { db.OnChange(c.invalidate) }

// CacheMapped returns the bytes of the cache mapped outside the Go heap
// (see region): part of its budget the Go runtime's memory limit does not
// count.
func (s *Service) CacheMapped() int64 { return s.cache.members.mapped() }

// SetCacheBudget bounds the memory of the service's cache to about bytes.
// Call it before the service answers anything.
func (s *Service) SetCacheBudget(bytes int64) { s.cache.setBudget(bytes) }
