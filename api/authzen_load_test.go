package api_test

// The AuthZEN target of docs/performance.md: POST /access/v1/evaluation
// answers at least 70 % of what a bare net/http handler answers in the same
// run, as POST /api/v1/check does. Figures are reported, never asserted:
//
//	go test -run '^$' -bench AuthZENHTTP -benchtime 1x ./api/
//	go test -run '^$' -bench 'AuthZENHandler|CheckHandler' ./api/

import (
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe/store/storetest"
)

// evaluationBodies returns AuthZEN evaluations that ask what checkBodies's
// checks ask, in the same order: the same users, permissions, resources
// (as locations) and owners (on the vendor's records, type "record").
func (s *loadService) evaluationBodies(checks []string) []string {
	out := make([]string, len(checks))
	for i, c := range checks {
		var q struct {
			UserID     string  `json:"user_id"`
			Permission string  `json:"permission"`
			ResourceID *string `json:"resource_id"`
			OwnerID    *string `json:"owner_id"`
		}
		json.Unmarshal([]byte(c), &q)
		hasOwner := strings.Contains(c, `"owner_id"`)
		props := ""
		if hasOwner {
			if q.OwnerID == nil {
				props = `,"properties":{"ownerID":null}`
			} else {
				props = `,"properties":{"ownerID":"` + *q.OwnerID + `"}`
			}
		}
		resource := `{"type":"account","id":"` + s.account.String() + `"}`
		switch {
		case q.ResourceID != nil:
			resource = `{"type":"location","id":"` + *q.ResourceID + `"` + props + `}`
		case hasOwner:
			resource = `{"type":"record","id":"r-` + q.UserID[:8] + `"` + props + `}`
		}
		out[i] = `{"subject":{"type":"user","id":"` + q.UserID + `"},"action":{"name":"` + q.Permission +
			`"},"resource":` + resource + `}`
	}
	return out
}

// evaluationAnswers sends every evaluation once and counts the reasons, as
// answers does for checks.
func (s *loadService) evaluationAnswers(b *testing.B, bodies []string) map[string]int {
	b.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	seen := map[string]int{}
	for _, body := range bodies {
		req, _ := http.NewRequest("POST", s.url+"/access/v1/evaluation", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+s.key)
		res, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var a struct {
			Decision bool
			Context  struct{ Reason string }
		}
		err = json.NewDecoder(res.Body).Decode(&a)
		res.Body.Close()
		if res.StatusCode != 200 || err != nil {
			b.Fatalf("evaluation %s: %d %v", body, res.StatusCode, err)
		}
		seen[a.Context.Reason]++
	}
	return seen
}

// authzenRounds and authzenRun: the three loads take turns, a few seconds
// each, several times, so that a neighbour's burst of work on the shared
// machine weighs on all three alike; each round gives its ratios.
const (
	authzenRounds = 5
	authzenRun    = 3 * time.Second
)

// BenchmarkAuthZENHTTP loads POST /access/v1/evaluation, POST /api/v1/check
// with the same questions, and a bare net/http handler (another loopback
// server in this process, up alongside the service) with wrk (2 threads,
// 32 connections), in turns of authzenRun, authzenRounds times. It reports
// the median over the rounds of each one's rate and p99, of the
// evaluation's rate as a share of the bare handler's (ratio-%) and of the
// check API's (vs-check-%), with the lowest and highest round's ratio. It
// runs once whatever -benchtime says.
func BenchmarkAuthZENHTTP(b *testing.B) {
	if _, err := exec.LookPath("wrk"); err != nil {
		b.Skip("skipping: wrk is not on the PATH (apt-get install wrk)")
	}
	for _, e := range storetest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			s := startLoadService(b, e)
			checks := s.checkBodies(4096)
			bodies := s.evaluationBodies(checks)
			seen := s.evaluationAnswers(b, bodies)
			if want := s.answers(b, checks); !reflect.DeepEqual(want, seen) {
				b.Fatalf("the evaluations' reasons %v differ from the checks' %v", seen, want)
			}
			b.Logf("answers of the %d evaluations: %v", len(bodies), seen)
			host := strings.TrimPrefix(s.url, "http://")
			bare := startBare(b)
			azScript := wrkScriptAt("/access/v1/evaluation", host, s.key, bodies)
			chkScript := wrkScript(host, s.key, checks)
			bareScript := wrkScriptAt("/access/v1/evaluation", strings.TrimPrefix(bare, "http://"), s.key, bodies)
			runWrk(b, s.url+"/access/v1/evaluation", azScript, 2*time.Second)
			runWrk(b, s.url+"/api/v1/check", chkScript, 2*time.Second)
			b.ResetTimer()
			var az, chk, base, ratio, vsCheck, chkRatio, azP99, chkP99, foreign []float64
			for range authzenRounds {
				a := runWrk(b, s.url+"/access/v1/evaluation", azScript, authzenRun)
				c := runWrk(b, s.url+"/api/v1/check", chkScript, authzenRun)
				n := runWrk(b, bare+"/access/v1/evaluation", bareScript, authzenRun)
				for _, r := range []wrkResult{a, c, n} {
					if r.non2xx > 0 || r.socks > 0 {
						b.Fatalf("errors under load:\n%s", r.out)
					}
				}
				az, chk, base = append(az, a.rps), append(chk, c.rps), append(base, n.rps)
				ratio, vsCheck = append(ratio, 100*a.rps/n.rps), append(vsCheck, 100*a.rps/c.rps)
				chkRatio = append(chkRatio, 100*c.rps/n.rps)
				azP99, chkP99 = append(azP99, ms(a.p99)), append(chkP99, ms(c.p99))
				foreign = append(foreign, max(a.foreign, c.foreign, n.foreign))
				b.Logf("round: evaluation %.0f/s, check %.0f/s, bare %.0f/s: %.1f %% of bare, %.1f %% of check (foreign CPU %.0f %%)",
					a.rps, c.rps, n.rps, 100*a.rps/n.rps, 100*a.rps/c.rps, max(a.foreign, c.foreign, n.foreign))
			}
			b.StopTimer()
			b.ReportMetric(median(az), "evaluations/s")
			b.ReportMetric(median(azP99), "p99-ms")
			b.ReportMetric(median(chk), "checks/s")
			b.ReportMetric(median(chkP99), "check-p99-ms")
			b.ReportMetric(median(base), "bare-req/s")
			b.ReportMetric(median(ratio), "ratio-%")
			b.ReportMetric(slices.Min(ratio), "ratio-min-%")
			b.ReportMetric(slices.Max(ratio), "ratio-max-%")
			b.ReportMetric(median(chkRatio), "check-ratio-%")
			b.ReportMetric(median(vsCheck), "vs-check-%")
			b.ReportMetric(median(foreign), "foreign-cpu-%")
		})
	}
}

// median returns the median of xs.
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// BenchmarkAuthZENHandler is BenchmarkCheckHandler for POST
// /access/v1/evaluation: the root handler in process, with allocations.
func BenchmarkAuthZENHandler(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			s := startLoadService(b, e)
			bodies := s.evaluationBodies(s.checkBodies(4096))
			s.evaluationAnswers(b, bodies)
			reqs, rbs := handlerRequests(s, "/access/v1/evaluation", bodies)
			w := &nopWriter{h: http.Header{}}
			h := s.app.Handler
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				k := i % len(reqs)
				rbs[k].Seek(0, io.SeekStart)
				w.reset()
				serve(h, w, reqs[k])
				if w.status != 200 {
					b.Fatalf("status %d: %s", w.status, w.body)
				}
			}
		})
	}
}

// BenchmarkAuthZENHandlerCPU compares the service's own work for an
// evaluation and for a check: the root handler in process, the same
// questions, in alternating chunks of 2,000 requests, counting this
// process's CPU time (getrusage) rather than the wall clock, which
// neighbours on a shared machine stretch. It reports each one's CPU µs per
// request (medians over the chunks) and the evaluation's cost as a share of
// the check's.
func BenchmarkAuthZENHandlerCPU(b *testing.B) {
	const chunk, chunks = 2000, 15
	for _, e := range storetest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			s := startLoadService(b, e)
			checks := s.checkBodies(4096)
			bodies := s.evaluationBodies(checks)
			s.evaluationAnswers(b, bodies)
			s.answers(b, checks)
			azReqs, azBodies := handlerRequests(s, "/access/v1/evaluation", bodies)
			chkReqs, chkBodies := handlerRequests(s, "/api/v1/check", checks)
			w := &nopWriter{h: http.Header{}}
			h := s.app.Handler
			run := func(reqs []*http.Request, rbs []*rewindBody, from int) time.Duration {
				start := markCPU()
				for i := range chunk {
					k := (from + i) % len(reqs)
					rbs[k].Seek(0, io.SeekStart)
					w.reset()
					h.ServeHTTP(w, reqs[k])
					if w.status != 200 {
						b.Fatalf("status %d: %s", w.status, w.body)
					}
				}
				return markCPU().self - start.self
			}
			run(azReqs, azBodies, 0)
			run(chkReqs, chkBodies, 0)
			var az, chk, share []float64
			for i := range chunks {
				a := run(azReqs, azBodies, i*chunk)
				c := run(chkReqs, chkBodies, i*chunk)
				az = append(az, float64(a.Microseconds())/chunk)
				chk = append(chk, float64(c.Microseconds())/chunk)
				share = append(share, 100*float64(a)/float64(c))
			}
			b.ReportMetric(median(az), "evaluation-cpu-us/op")
			b.ReportMetric(median(chk), "check-cpu-us/op")
			b.ReportMetric(median(share), "evaluation-cost-%-of-check")
			b.ReportMetric(slices.Min(share), "min-%")
			b.ReportMetric(slices.Max(share), "max-%")
		})
	}
}
