package team

import (
	"sync"
	"sync/atomic"
)

// clockShards is how many independent parts a clock splits into: readers
// of different parts share no lock word, and an eviction scans one part.
const clockShards = 64

// clock is a map bounded in bytes that makes room by the CLOCK algorithm:
// each entry has a bit set when it is read; past the budget, a hand sweeps
// the entries, clearing set bits and evicting the first entry found clear
// (or stale). An entry read since the hand last passed survives one more
// turn, so entries read often stay while a sweep of entries read once
// evicts only those: there is no cliff at the budget, and no reset.
//
// Reads take a shard's read lock and set the bit with an atomic store only
// when it is clear, so the entries read most do not bounce a cache line
// between cores.
type clock[K comparable, V any] struct {
	shards [clockShards]clockShard[K, V]
	hash   func(K) uint64
	// evictions counts the entries evicted to make room (not those
	// dropped by an invalidation of everything).
	evictions atomic.Uint64
	// held is the bytes the shards' entries are charged, budget the sum
	// of their budgets (see hasRoom).
	held, budget atomic.Int64
}

type clockShard[K comparable, V any] struct {
	mu     sync.RWMutex
	index  map[K]int32
	slots  []clockSlot[K, V]
	free   []int32 // slots emptied by eviction, for the next entries
	hand   int
	bytes  int64 // charged by the entries held
	budget int64
	_      [64]byte // keeps shards' locks on separate cache lines
}

type clockSlot[K comparable, V any] struct {
	key  K
	val  V
	size int32       // bytes charged
	used atomic.Bool // read since the hand last passed
	live bool
}

func newClock[K comparable, V any](budget int64, hash func(K) uint64) *clock[K, V] {
	c := &clock[K, V]{hash: hash}
	c.setBudget(budget)
	for i := range c.shards {
		c.shards[i].index = map[K]int32{}
	}
	return c
}

// setBudget bounds the bytes the clock holds; it takes effect at the next
// entry put in each shard.
func (c *clock[K, V]) setBudget(budget int64) {
	c.budget.Store(budget / clockShards * clockShards)
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.budget = budget / clockShards
		s.mu.Unlock()
	}
}

func (c *clock[K, V]) shard(k K) *clockShard[K, V] {
	return &c.shards[c.hash(k)%clockShards]
}

// get returns the entry of k and marks it used.
func (c *clock[K, V]) get(k K) (V, bool) {
	s := c.shard(k)
	s.mu.RLock()
	i, ok := s.index[k]
	if !ok {
		s.mu.RUnlock()
		var zero V
		return zero, false
	}
	sl := &s.slots[i]
	v := sl.val
	if !sl.used.Load() {
		sl.used.Store(true)
	}
	s.mu.RUnlock()
	return v, true
}

// peek returns the entry of k without marking it used.
func (c *clock[K, V]) peek(k K) (V, bool) {
	s := c.shard(k)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if i, ok := s.index[k]; ok {
		return s.slots[i].val, true
	}
	var zero V
	return zero, false
}

// hasRoom reports whether the entries held take less than the budget.
func (c *clock[K, V]) hasRoom() bool { return c.held.Load() < c.budget.Load() }

// putIfRoom keeps v under k, unused, if k is not held and size bytes fit
// in k's shard without evicting anything; it reports whether it kept it.
func (c *clock[K, V]) putIfRoom(k K, v V, size int) bool {
	s := c.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.index[k]; ok || s.bytes+int64(size) > s.budget {
		return false
	}
	c.insertLocked(s, k, v, size)
	return true
}

// put keeps v under k, charged size bytes, evicting what makes room:
// entries stale reports, or not read since the hand last passed. An entry
// larger than a shard's budget is not kept.
func (c *clock[K, V]) put(k K, v V, size int, stale func(K, *V) bool) {
	s := c.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	c.putLocked(s, k, v, size, stale)
}

func (c *clock[K, V]) putLocked(s *clockShard[K, V], k K, v V, size int, stale func(K, *V) bool) {
	if int64(size) > s.budget {
		s.remove(c, k)
		return
	}
	if i, ok := s.index[k]; ok {
		sl := &s.slots[i]
		s.charge(c, int64(size)-int64(sl.size))
		sl.val, sl.size = v, int32(size)
		sl.used.Store(true)
		c.makeRoom(s, 0, stale)
		return
	}
	c.makeRoom(s, int64(size), stale)
	c.insertLocked(s, k, v, size)
}

// insertLocked keeps v under k, which s does not hold, charged size bytes.
func (c *clock[K, V]) insertLocked(s *clockShard[K, V], k K, v V, size int) {
	var i int32
	if n := len(s.free); n > 0 {
		i, s.free = s.free[n-1], s.free[:n-1]
	} else {
		s.slots = append(s.slots, clockSlot[K, V]{})
		i = int32(len(s.slots) - 1)
	}
	sl := &s.slots[i]
	sl.key, sl.val, sl.size, sl.live = k, v, int32(size), true
	// A new entry starts unused: read once, it goes at the hand's next
	// pass, so a sweep of entries read once evicts only its own.
	sl.used.Store(false)
	s.index[k] = i
	s.charge(c, int64(size))
}

// charge counts n more bytes held in s (fewer when negative).
func (s *clockShard[K, V]) charge(c *clock[K, V], n int64) {
	s.bytes += n
	c.held.Add(n)
}

// makeRoom evicts until need more bytes fit. Two turns of the hand are
// enough: the first clears every bit it does not evict on.
func (c *clock[K, V]) makeRoom(s *clockShard[K, V], need int64, stale func(K, *V) bool) {
	for turns := 2 * len(s.slots); s.bytes+need > s.budget && turns > 0; turns-- {
		if s.hand >= len(s.slots) {
			s.hand = 0
		}
		sl := &s.slots[s.hand]
		s.hand++
		if !sl.live {
			continue
		}
		if sl.used.Load() && !stale(sl.key, &sl.val) {
			sl.used.Store(false)
			continue
		}
		s.evict(c, sl)
		c.evictions.Add(1)
	}
}

// update changes the entry of k in place, if there is one.
func (c *clock[K, V]) update(k K, f func(*V)) bool {
	s := c.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.index[k]
	if ok {
		f(&s.slots[i].val)
	}
	return ok
}

func (s *clockShard[K, V]) remove(c *clock[K, V], k K) {
	if i, ok := s.index[k]; ok {
		s.evict(c, &s.slots[i])
	}
}

func (s *clockShard[K, V]) evict(c *clock[K, V], sl *clockSlot[K, V]) {
	i := s.index[sl.key]
	delete(s.index, sl.key)
	s.charge(c, -int64(sl.size))
	var zero clockSlot[K, V]
	sl.key, sl.val, sl.size, sl.live = zero.key, zero.val, 0, false
	s.free = append(s.free, i)
}

// clear forgets every entry.
func (c *clock[K, V]) clear() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		clear(s.index)
		c.held.Add(-s.bytes)
		s.slots, s.free, s.hand, s.bytes = nil, nil, 0, 0
		s.mu.Unlock()
	}
}

// stats returns the entries held and the bytes charged.
func (c *clock[K, V]) stats() (entries int, bytes int64) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		entries += len(s.index)
		bytes += s.bytes
		s.mu.RUnlock()
	}
	return entries, bytes
}
