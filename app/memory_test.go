package app

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestLimitMemory(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	none := func(string) string { return "" }

	debug.SetMemoryLimit(math.MaxInt64)
	if got, set := LimitMemory(Config{CacheMB: 25}, nil, none); !set || got != 25<<20+MemoryHeadroom {
		t.Fatalf("a budget of 25 MiB: limit %d (set %v), want %d", got, set, 25<<20+MemoryHeadroom)
	}
	if got := debug.SetMemoryLimit(-1); got != 25<<20+MemoryHeadroom {
		t.Fatalf("the runtime's limit is %d, want %d", got, 25<<20+MemoryHeadroom)
	}

	debug.SetMemoryLimit(math.MaxInt64)
	if got, _ := LimitMemory(Config{}, nil, none); got != DefaultCacheMB<<20+MemoryHeadroom {
		t.Fatalf("the default budget: limit %d, want %d", got, DefaultCacheMB<<20+MemoryHeadroom)
	}

	// The operator's GOMEMLIMIT (applied by the runtime at start) stands.
	debug.SetMemoryLimit(300 << 20)
	env := func(k string) string {
		if k == "GOMEMLIMIT" {
			return "300MiB"
		}
		return ""
	}
	if got, set := LimitMemory(Config{CacheMB: 25}, nil, env); set || got != 300<<20 {
		t.Fatalf("with GOMEMLIMIT: limit %d (set %v), want 300 MiB left alone", got, set)
	}
	if got := debug.SetMemoryLimit(-1); got != 300<<20 {
		t.Fatalf("with GOMEMLIMIT the runtime's limit became %d", got)
	}
	// A limit set otherwise (debug.SetMemoryLimit by an embedding
	// program) stands too.
	if got, set := LimitMemory(Config{CacheMB: 25}, nil, none); set || got != 300<<20 {
		t.Fatalf("with a limit already set: %d (set %v), want it left alone", got, set)
	}
}

// The limit that follows the cache leaves the Go heap the budget less what
// the cache maps outside it, plus the headroom, and never less than the
// headroom.
func TestFollowCache_LimitLeavesOutTheMappedCache(t *testing.T) {
	cfg := Config{CacheMB: 64}
	if got, want := followed(cfg, 0), int64(64<<20+MemoryHeadroom); got != want {
		t.Errorf("nothing mapped: %d, want %d", got, want)
	}
	if got, want := followed(cfg, 40<<20), int64(24<<20+MemoryHeadroom); got != want {
		t.Errorf("40 MiB mapped: %d, want %d", got, want)
	}
	if got := followed(cfg, 200<<20); got != MemoryHeadroom {
		t.Errorf("more mapped than the budget: %d, want the headroom %d", got, MemoryHeadroom)
	}
}
