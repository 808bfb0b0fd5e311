package team

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/store"
)

// entryBytes is what a cached member or account costs in memory, about.
const entryBytes = 1400

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
}

// cache holds compiled members and accounts. Readers take a read lock; a
// load happens outside the lock and is kept only if nothing was invalidated
// meanwhile (gen unchanged), so a change that committed during the load is
// never hidden by stale data.
type cache struct {
	mu       sync.RWMutex
	gen      uint64
	members  map[memberKey]memberEntry
	accounts map[equipe.ID]accountEntry
	// byAccount and byUser index the member entries for invalidation; a
	// member through a firm is indexed under the firm too.
	byAccount map[equipe.ID]map[memberKey]struct{}
	byUser    map[equipe.ID]map[memberKey]struct{}
	keys      map[keyHash]keyEntry // API keys by the hash of their secret
	keyIDs    map[equipe.ID]keyHash
	users     map[equipe.ID]userEntry // the creators of instance keys
	// maxCached bounds each map; beyond it the cache starts afresh, so
	// that questions about millions of made-up identifiers cannot fill
	// memory.
	maxCached int
	// hits and misses count the lookups (for the metrics).
	hits, misses atomic.Uint64
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

// size returns the number of entries held.
func (c *cache) size() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.members) + len(c.accounts) + len(c.keys) + len(c.users)
}

func newCache() *cache {
	c := &cache{maxCached: DefaultCacheBudget / entryBytes}
	c.reset()
	return c
}

func (c *cache) reset() {
	c.gen++
	c.members = map[memberKey]memberEntry{}
	c.accounts = map[equipe.ID]accountEntry{}
	c.byAccount = map[equipe.ID]map[memberKey]struct{}{}
	c.byUser = map[equipe.ID]map[memberKey]struct{}{}
	c.keys = map[keyHash]keyEntry{}
	c.keyIDs = map[equipe.ID]keyHash{}
	c.users = map[equipe.ID]userEntry{}
}

func (c *cache) user(id equipe.ID) (userEntry, bool) {
	c.mu.RLock()
	e, ok := c.users[id]
	c.mu.RUnlock()
	return e, c.counted(ok)
}

// putUser keeps e if nothing changed since gen.
func (c *cache) putUser(gen uint64, id equipe.ID, e userEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen && len(c.users) < c.maxCached {
		c.users[id] = e
	}
}

func (c *cache) member(k memberKey) (memberEntry, bool) {
	c.mu.RLock()
	e, ok := c.members[k]
	c.mu.RUnlock()
	return e, c.counted(ok)
}

func (c *cache) account(id equipe.ID) (accountEntry, bool) {
	c.mu.RLock()
	e, ok := c.accounts[id]
	c.mu.RUnlock()
	return e, c.counted(ok)
}

// accountMember returns the account and the user's membership of it when
// the cache knows both (or knows that the account does not exist).
func (c *cache) accountMember(account, user equipe.ID) (accountEntry, memberEntry, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	a, ok := c.accounts[account]
	if !ok || a.a == nil {
		return a, memberEntry{}, c.counted(ok)
	}
	m, ok := c.members[memberKey{account, user}]
	return a, m, c.counted(ok)
}

func (c *cache) key(h keyHash) (keyEntry, bool) {
	c.mu.RLock()
	e, ok := c.keys[h]
	c.mu.RUnlock()
	return e, c.counted(ok)
}

// putKey keeps e if nothing changed since gen.
func (c *cache) putKey(gen uint64, h keyHash, e keyEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		c.keys[h] = e
		c.keyIDs[e.key.ID] = h
	}
}

// claimTouch reports whether the caller is the one to record the key's use
// at now: the first to find it unrecorded for keyTouchEvery. Requests that
// come together with the key do not all write the same time.
func (c *cache) claimTouch(h keyHash, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.keys[h]
	if !ok {
		return true
	}
	if now.Sub(e.touched) < keyTouchEvery {
		return false
	}
	e.touched = now
	c.keys[h] = e
	return true
}

func (c *cache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

func index(ix map[equipe.ID]map[memberKey]struct{}, id equipe.ID, k memberKey) {
	s := ix[id]
	if s == nil {
		s = map[memberKey]struct{}{}
		ix[id] = s
	}
	s[k] = struct{}{}
}

// putMember keeps e if nothing changed since gen.
func (c *cache) putMember(gen uint64, k memberKey, e memberEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.members) >= c.maxCached {
		c.reset()
		return
	}
	c.members[k] = e
	index(c.byAccount, k.account, k)
	index(c.byUser, k.user, k)
	if e.firm != (equipe.ID{}) {
		index(c.byAccount, e.firm, k)
	}
}

func (c *cache) putAccount(gen uint64, id equipe.ID, e accountEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.accounts) >= c.maxCached {
		c.reset()
		return
	}
	c.accounts[id] = e
}

func (c *cache) dropMembers(ix map[equipe.ID]map[memberKey]struct{}, id equipe.ID) {
	for k := range ix[id] {
		delete(c.members, k)
	}
	delete(ix, id)
}

// invalidate forgets what the change keys name (see store.MemberKey and
// friends). A member's change drops every entry of the user: entries in
// client accounts derive from their firm membership.
func (c *cache) invalidate(keys []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, key := range keys {
		kind, rest, _ := strings.Cut(key, ":")
		switch kind {
		case "m":
			_, u, _ := strings.Cut(rest, ":")
			if id, err := equipe.ParseID(u); err == nil {
				c.dropMembers(c.byUser, id)
			}
		case "u":
			if id, err := equipe.ParseID(rest); err == nil {
				c.dropMembers(c.byUser, id)
				delete(c.users, id)
			}
		case "a":
			if id, err := equipe.ParseID(rest); err == nil {
				c.dropMembers(c.byAccount, id)
				delete(c.accounts, id)
			}
		case "e": // events were recorded: no access changed by that alone
		case "k":
			if id, err := equipe.ParseID(rest); err == nil {
				delete(c.keys, c.keyIDs[id])
				delete(c.keyIDs, id)
			}
		case "w":
			// Webhook endpoints (store.WebhooksKey) grant nothing.
		default:
			c.reset()
		}
	}
}

// watch makes the cache hear the store's changes.
func (c *cache) watch(db *store.DB) { db.OnChange(c.invalidate) }

// SetCacheBudget bounds the memory of the service's cache to about bytes.
// Call it before the service answers anything.
func (s *Service) SetCacheBudget(bytes int64) {
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	s.cache.maxCached = int(max(bytes/entryBytes, 1))
}
