package app

import (
	"context"
	"log/slog"
	"math"
	"runtime/debug"
	"time"
)

// MemoryHeadroom is what a serving process may hold beyond its permission
// cache in the memory the Go runtime manages: request buffers and
// goroutines of its connections, the database drivers' buffers, templates
// and the garbage between two collections (see LimitMemory). Measured under
// the scale run's load (cmd/equipe-scale, 32 connections), the live heap
// beside the cache is 8 to 10 MiB.
const MemoryHeadroom = 16 << 20

// MemoryLimit returns the soft memory limit of the Go runtime that suits
// cfg: the cache's budget plus MemoryHeadroom.
func MemoryLimit(cfg Config) int64 {
	mb := cfg.CacheMB
	if mb <= 0 {
		mb = DefaultCacheMB
	}
	return int64(mb)<<20 + MemoryHeadroom
}

// FollowCache lowers the limit LimitMemory set by what the permission
// cache maps outside the Go heap (mapped, see team.Service.CacheMapped),
// every period until ctx ends: the runtime's limit counts only what it
// manages, so a limit of the whole budget plus MemoryHeadroom let the heap
// grow, between two collections, into the room the mapped part of the
// cache already took. Without it the process's memory rose some 25 MiB
// past the budget and the headroom at a full cache (docs/performance.md,
// "A million members").
func FollowCache(ctx context.Context, cfg Config, mapped func() int64, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			debug.SetMemoryLimit(followed(cfg, mapped()))
		}
	}
}

// followed is the limit FollowCache sets when the cache maps mapped bytes:
// never below MemoryHeadroom.
func followed(cfg Config, mapped int64) int64 {
	return max(MemoryLimit(cfg)-mapped, MemoryHeadroom)
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
