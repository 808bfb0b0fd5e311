package main

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// cacheMetrics are the permission cache's samples in the service's
// /metrics (equipe_cache_…), by name with their labels, e.g.
// `equipe_cache_lookups_total{result="hit"}`.
type cacheMetrics map[string]float64

// readCacheMetrics reads the cache's samples from base/metrics (which
// answers loopback clients by default).
func readCacheMetrics(base string) (cacheMetrics, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	res, err := c.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return nil, fmt.Errorf("GET /metrics: %d", res.StatusCode)
	}
	m := cacheMetrics{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "equipe_cache_") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil && i > 0 {
			m[line[:i]] = v
		}
	}
	return m, sc.Err()
}

// cacheFigures are what a line reports of the cache.
type cacheFigures struct {
	Entries   float64 // at the end
	Bytes     float64 // at the end; -1 when the service does not say
	HitShare  float64 // of the lookups during the measurement, in percent; -1 when unknown
	Evictions float64 // during the measurement; -1 when the service does not say
}

// figures compares the samples at the end of a measurement (m) with those
// at its start.
func (m cacheMetrics) figures(start cacheMetrics) cacheFigures {
	f := cacheFigures{Entries: m["equipe_cache_entries"], Bytes: -1, HitShare: -1, Evictions: -1}
	if v, ok := m["equipe_cache_bytes"]; ok {
		f.Bytes = v
	}
	hit := `equipe_cache_lookups_total{result="hit"}`
	miss := `equipe_cache_lookups_total{result="miss"}`
	if h, ok := m[hit]; ok {
		hits, misses := h-start[hit], m[miss]-start[miss]
		if hits+misses > 0 {
			f.HitShare = 100 * hits / (hits + misses)
		}
	}
	if v, ok := m["equipe_cache_evictions_total"]; ok {
		f.Evictions = v - start["equipe_cache_evictions_total"]
	}
	return f
}
