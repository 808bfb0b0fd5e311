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
	"runtime"
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

// BenchmarkAuthZENHTTP loads POST /access/v1/evaluation with wrk (2
// threads, 32 connections, 10 s), then POST /api/v1/check with the same
// questions, then a bare net/http handler in the same process, and reports
// each one's rate and p99, and the evaluation's rate as a share of the bare
// handler's and of the check API's. It runs once whatever -benchtime says.
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
			if want := s.answers(b, checks); len(want) != len(seen) {
				b.Fatalf("the evaluations' reasons %v differ from the checks' %v", seen, want)
			}
			b.Logf("answers of the %d evaluations: %v", len(bodies), seen)
			host := strings.TrimPrefix(s.url, "http://")
			runWrk(b, s.url+"/access/v1/evaluation", wrkScriptAt("/access/v1/evaluation", host, s.key, bodies), 2*time.Second)
			b.ResetTimer()
			az := runWrk(b, s.url+"/access/v1/evaluation", wrkScriptAt("/access/v1/evaluation", host, s.key, bodies), wrkDuration)
			chk := runWrk(b, s.url+"/api/v1/check", wrkScript(host, s.key, checks), wrkDuration)
			s.stop()
			runtime.GC()
			bare := startBare(b)
			base := runWrk(b, bare+"/access/v1/evaluation", wrkScriptAt("/access/v1/evaluation", strings.TrimPrefix(bare, "http://"), s.key, bodies), wrkDuration)
			b.StopTimer()
			for _, r := range []wrkResult{az, chk, base} {
				if r.non2xx > 0 || r.socks > 0 {
					b.Fatalf("errors under load:\n%s", r.out)
				}
			}
			b.Logf("evaluation:\n%s\ncheck:\n%s\nbare net/http:\n%s", az.out, chk.out, base.out)
			b.ReportMetric(az.rps, "evaluations/s")
			b.ReportMetric(ms(az.p99), "p99-ms")
			b.ReportMetric(chk.rps, "checks/s")
			b.ReportMetric(ms(chk.p99), "check-p99-ms")
			b.ReportMetric(base.rps, "bare-req/s")
			b.ReportMetric(100*az.rps/base.rps, "ratio-%")
			b.ReportMetric(100*chk.rps/base.rps, "check-ratio-%")
			if az.foreign >= 0 && base.foreign >= 0 {
				b.ReportMetric(max(az.foreign, chk.foreign, base.foreign), "foreign-cpu-%")
			}
		})
	}
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
				h.ServeHTTP(w, reqs[k])
				if w.status != 200 {
					b.Fatalf("status %d: %s", w.status, w.body)
				}
			}
		})
	}
}
