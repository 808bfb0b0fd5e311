package api_test

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe/store/storetest"
)

// latencyConns is the number of connections of the latency runs, as many
// as the throughput benchmark's wrk uses.
const latencyConns = 32

// latencyRounds and latencyRun: each endpoint is paced latencyRounds times
// for latencyRun, alternating with the bare handler, so that a change in
// the machine's other load weighs on both alike. At 15,000 requests a
// second, a run holds 75,000 latencies, 75 of them beyond p99.9.
const (
	latencyRounds = 3
	latencyRun    = 5 * time.Second
)

// latencyTarget is an endpoint measured against the bare handler.
type latencyTarget struct {
	name, path string
	bodies     []string
}

// BenchmarkCheckLatency measures the tail latency of POST /api/v1/check
// and of the AuthZEN evaluation (POST /access/v1/evaluation, the same
// questions) against a bare net/http handler at the same load, in one run: the bare
// handler's rate flat out (5 s), then, paced at half that rate by an
// open-loop generator in a process of its own (loadgen_test.go), the bare
// handler and the service in turn, latencyRounds times each. Latencies run
// from each request's intended send time, so a stall delays and counts
// every request due during it. It reports the bare handler's rate, the
// medians over the rounds of p50, p99 and p99.9 of each, and the median of
// the rounds' ratios of the service's p99 and p99.9 to the bare handler's
// of the same round (check-p99-ratio, evaluation-p99-ratio: the target is
// ≤ 1.5), and the largest
// share of the machine's CPU that went to other programs (foreign-cpu-%).
// It runs once whatever -benchtime says; repeat with -count.
func BenchmarkCheckLatency(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			s := startLoadService(b, e)
			bodies := s.checkBodies(4096)
			s.answers(b, bodies)
			evaluations := s.evaluationBodies(bodies)
			s.evaluationAnswers(b, evaluations)
			targets := []latencyTarget{{"check", "/api/v1/check", bodies}, {"evaluation", "/access/v1/evaluation", evaluations}}
			measureLatency(b, s, targets)
		})
	}
}

// measureLatency runs the latency benchmark's rounds over targets.
func measureLatency(b *testing.B, s *loadService, targets []latencyTarget) {
	bare := strings.TrimPrefix(startBare(b), "http://")
	addr := strings.TrimPrefix(s.url, "http://")
	headers := [][2]string{{"Content-Type", "application/json"}, {"Authorization", "Bearer " + s.key}}
	spec := func(addr string, t latencyTarget, rate float64, d time.Duration) loadSpec {
		return loadSpec{Addr: addr, Path: t.path, Headers: headers, Bodies: t.bodies,
			Conns: latencyConns, Rate: rate, Duration: d}
	}
	// Warm-up: connections, buffers and heaps grow to their working size
	// before anything is measured.
	for _, t := range targets {
		runLoad(b, spec(addr, t, 0, 2*time.Second))
	}
	runLoad(b, spec(bare, targets[0], 0, time.Second))
	runtime.GC()
	b.ResetTimer()
	ceiling := runLoad(b, spec(bare, targets[0], 0, 5*time.Second))
	b.Logf("bare net/http, flat out: %s", ceiling)
	rate := ceiling.Rate / 2
	foreign := ceiling.Foreign
	check := func(r loadResult) loadResult {
		if r.Errors > 0 {
			b.Fatalf("errors under load: %s", r)
		}
		foreign = max(foreign, r.Foreign)
		return r
	}
	base := make([]loadResult, latencyRounds)
	got := make([][]loadResult, len(targets))
	for i := range latencyRounds {
		base[i] = check(runLoad(b, spec(bare, targets[0], rate, latencyRun)))
		b.Logf("round %d, bare net/http, paced at %.0f/s: %s", i+1, rate, base[i])
		for j, t := range targets {
			got[j] = append(got[j], check(runLoad(b, spec(addr, t, rate, latencyRun))))
			b.Logf("round %d, %s, paced at %.0f/s: %s", i+1, t.path, rate, got[j][i])
		}
	}
	b.StopTimer()
	b.ReportMetric(ceiling.Rate, "bare-max-req/s")
	b.ReportMetric(rate, "paced-req/s")
	reportLatency(b, "bare", base, nil)
	for j, t := range targets {
		reportLatency(b, t.name, got[j], base)
	}
	if foreign >= 0 {
		b.ReportMetric(foreign, "foreign-cpu-%")
	}
}

// reportLatency reports the medians over the rounds rs of p50, p99 and
// p99.9, and, against the bare handler's rounds, the medians of the rounds'
// ratios.
func reportLatency(b *testing.B, name string, rs, base []loadResult) {
	med := func(f func(i int) float64) float64 {
		v := make([]float64, len(rs))
		for i := range rs {
			v[i] = f(i)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	b.ReportMetric(med(func(i int) float64 { return rs[i].P50 / 1000 }), name+"-p50-ms")
	b.ReportMetric(med(func(i int) float64 { return rs[i].P99 / 1000 }), name+"-p99-ms")
	b.ReportMetric(med(func(i int) float64 { return rs[i].P999 / 1000 }), name+"-p99.9-ms")
	b.ReportMetric(med(func(i int) float64 { return rs[i].CPUPerReq }), name+"-cpu-µs/req")
	if base != nil {
		var ratios []string
		for i := range rs {
			ratios = append(ratios, fmt.Sprintf("%.2f", rs[i].P99/base[i].P99))
		}
		b.Logf("%s: p99 over the bare handler's, round by round: %s", name, strings.Join(ratios, " "))
		b.ReportMetric(med(func(i int) float64 { return rs[i].P99 / base[i].P99 }), name+"-p99-ratio")
		b.ReportMetric(med(func(i int) float64 { return rs[i].P999 / base[i].P999 }), name+"-p99.9-ratio")
	}
}
