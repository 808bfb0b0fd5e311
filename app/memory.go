package app

import (
	"log/slog"
	"math"
	"runtime/debug"
)

// MemoryHeadroom is what a serving process may hold beyond its permission
// cache in the memory the Go runtime manages: request buffers and
// goroutines of its connections, the database drivers' buffers, templates
// and the garbage between two collections (see LimitMemory).
const MemoryHeadroom = 40 << 20

// MemoryLimit returns the soft memory limit of the Go runtime that suits
// cfg: the cache's budget plus MemoryHeadroom.
func MemoryLimit(cfg Config) int64 {
	mb := cfg.CacheMB
	if mb <= 0 {
		mb = DefaultCacheMB
	}
	return int64(mb)<<20 + MemoryHeadroom
}

// LimitMemory sets the Go runtime's soft memory limit to MemoryLimit(cfg),
// so that the garbage collector runs sooner than its default pace (the
// heap growing to twice what is live) rather than let the process's memory
// grow far past its cache's budget under load. An operator's limit comes
// first: with GOMEMLIMIT set (getenv), or a limit already set, nothing
// changes. It returns the limit in force and whether it set it.
func LimitMemory(cfg Config, log *slog.Logger, getenv func(string) string) (int64, bool) {
	if getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1), false
	}
	if cur := debug.SetMemoryLimit(-1); cur != math.MaxInt64 {
		return cur, false
	}
	limit := MemoryLimit(cfg)
	debug.SetMemoryLimit(limit)
	if log != nil {
		log.Info("memory limit of the Go runtime set from the cache's budget (GOMEMLIMIT overrides it)",
			"limit_mib", limit>>20, "cache_mib", (limit-MemoryHeadroom)>>20)
	}
	return limit, true
}
