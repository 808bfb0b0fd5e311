package team

import (
	"sync/atomic"

	"github.com/equipe-dev/equipe/access"
)

// checkCounts counts the checks answered, by reason. Its map is made once
// and only read afterwards: counting is a map lookup and an atomic add,
// with no lock and no allocation on the check's path.
type checkCounts struct {
	by    map[access.Reason]*atomic.Uint64
	other atomic.Uint64 // a reason the list does not know (none today)
}

func newCheckCounts() *checkCounts {
	c := &checkCounts{by: map[access.Reason]*atomic.Uint64{}}
	for _, r := range access.Reasons {
		c.by[r] = new(atomic.Uint64)
	}
	return c
}

func (c *checkCounts) count(r access.Reason) {
	if n, ok := c.by[r]; ok {
		n.Add(1)
	} else {
		c.other.Add(1)
	}
}

// Stats are the service's counters since it started, for the metrics.
type Stats struct {
	// Checks counts the checks answered (Check, CheckBatch), by reason.
	Checks map[access.Reason]uint64
	// The cache of compiled members, accounts, API keys and key creators:
	// its entries now, and its lookups that found what they asked (hits)
	// or went to the database (misses) since the start.
	CacheEntries           int
	CacheHits, CacheMisses uint64
	// CacheBytes is the memory its entries take, about, within the budget
	// (SetCacheBudget); CacheEvictions counts the entries it let go to make
	// room for others since the start.
	CacheBytes     int64
	CacheEvictions uint64
}

// Stats returns the service's counters.
func (s *Service) Stats() Stats {
	st := Stats{Checks: make(map[access.Reason]uint64, len(s.checks.by))}
	for r, n := range s.checks.by {
		st.Checks[r] = n.Load()
	}
	cs := s.cache.stats()
	st.CacheEntries, st.CacheBytes, st.CacheEvictions = cs.entries, cs.bytes, cs.evictions
	st.CacheHits, st.CacheMisses = s.cache.hits.Load(), s.cache.misses.Load()
	return st
}
