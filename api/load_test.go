package api_test

// The load benchmarks carry the HTTP targets of docs/performance.md: POST
// /api/v1/check answers at least 30,000 checks/s with a p99 under 5 ms on
// loopback, with 2 cores shared by the service and the load generator, on
// SQLite and on PostgreSQL, and reaches at least 70 % of what a bare
// net/http handler answering the same JSON reaches in the same run; a batch
// of 100 checks takes under 1 ms of server time. They live next to the
// handlers they measure and start the real service (app.New and Serve, every
// middleware included) on a fresh database, seeded with an account of 1,000
// members.
//
// Figures are reported, never asserted: a timer in a test fails on a busy
// machine and proves nothing on an idle one. docs/performance.md has the
// figures and the commands:
//
//	go test -run '^$' -bench CheckHTTP -benchtime 1x ./api/
//	go test -run '^$' -bench 'CheckHandler|CheckBatch' ./api/

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// wrkDuration is how long each wrk run lasts.
const wrkDuration = 10 * time.Second

// loadService is the service under load with its seeded account.
type loadService struct {
	url     string
	app     *app.App
	account equipe.ID
	members []equipe.ID
	res     []equipe.ID
	key     string // an account API key acting as administrator
	stop    func() // stops the service (again: does nothing)
}

// startLoadService runs the whole service on a fresh database of engine e.
// Unlike apptest.Start, which keeps every log line in memory for tests to
// read, it logs as in production: JSON at level Info, to a file.
func startLoadService(b *testing.B, e store.Engine) *loadService {
	b.Helper()
	return startLoadServiceWith(b, e, nil)
}

// startLoadServiceWith is startLoadService with configure changing the
// configuration first.
func startLoadServiceWith(b *testing.B, e store.Engine, configure func(*app.Config)) *loadService {
	b.Helper()
	dbc := storetest.Config(b, e)
	if dbc.DataDir == "" {
		dbc.DataDir = b.TempDir() // the secret key's file, on PostgreSQL too
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	base := "http://" + l.Addr().String()
	pu, _ := url.Parse(base)
	cfg := app.Config{Addr: l.Addr().String(), DataDir: dbc.DataDir, DatabaseURL: dbc.URL, PublicURL: pu,
		MailFrom: "equipe <no-reply@equipe.test>",
		Policy:   equipe.PrivacyPolicy{Version: "2026-11", Text: "Politique de test.\nTest policy."}}
	if configure != nil {
		configure(&cfg)
	}
	logFile, err := os.Create(filepath.Join(b.TempDir(), "equipe.log"))
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(logFile, nil))
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, log, app.Options{Params: apptest.FastParams})
	if err != nil {
		cancel()
		b.Fatalf("start: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, l) }()
	stop := sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("serve: %v", err)
		}
		logFile.Close()
	})
	b.Cleanup(stop)
	s := &loadService{url: base, app: a, stop: stop}
	s.seed(b)
	return s
}

// seed creates an account with 200 resources and 1,000 members of every
// built-in role: a fifth with overrides, the resource-restricted ones with
// a few assigned resources, a few suspended. Then an administrator key.
func (s *loadService) seed(b *testing.B) {
	b.Helper()
	ctx := context.Background()
	now := time.Now()
	s.account = equipe.NewID()
	roles := []string{"admin", "manager", "manager", "collaborator", "collaborator", "collaborator",
		"collaborator", "collaborator", "guest", "guest"}
	overrides := [][]equipe.Override{
		{{Permission: "records.export", Allow: true}},
		{{Permission: "records.view", Allow: true, Scope: "all"}, {Permission: "records.bulk_delete", Allow: false}},
		{{Permission: "members.view", Allow: false}, {Permission: "records.edit", Allow: true, Scope: "owned"},
			{Permission: "contacts.manage", Allow: true}},
	}
	err := s.app.DB.Write(ctx, func(tx *store.Tx) error {
		if err := tx.CreateAccount(ctx, &equipe.Account{ID: s.account, Name: "Load", Locale: "en",
			InvitationTTLHours: equipe.DefaultInvitationTTLHours, CreatedAt: now}); err != nil {
			return err
		}
		for i := range 200 {
			typ := "location"
			if i%4 == 0 {
				typ = "product"
			}
			r := equipe.Resource{ID: equipe.NewID(), AccountID: s.account, Type: typ, Name: fmt.Sprintf("%s %d", typ, i),
				CreatedAt: now}
			if err := tx.CreateResource(ctx, &r); err != nil {
				return err
			}
			s.res = append(s.res, r.ID)
		}
		for i := range 1000 {
			u := equipe.User{ID: equipe.NewID(), Email: fmt.Sprintf("m%d@load.example", i),
				EmailKey: fmt.Sprintf("m%d@load.example", i), FirstName: "Member", LastName: strconv.Itoa(i),
				Locale: "en", EmailVerifiedAt: now, CreatedAt: now}
			if err := tx.CreateUser(ctx, &u); err != nil {
				return err
			}
			m := equipe.Member{AccountID: s.account, UserID: u.ID, Role: roles[i%len(roles)], Status: equipe.MemberActive,
				CreatedAt: now, JoinedAt: now}
			if i == 0 {
				m.Role = "admin"
			}
			if i%5 == 1 {
				m.Overrides = overrides[i%len(overrides)]
			}
			if i%50 == 7 {
				m.Status = equipe.MemberSuspended
			}
			if err := tx.CreateMember(ctx, &m); err != nil {
				return err
			}
			for j := range 1 + i%5 {
				if err := tx.AssignResource(ctx, s.account, u.ID, s.res[(i*13+j*29)%len(s.res)]); err != nil {
					return err
				}
			}
			s.members = append(s.members, u.ID)
		}
		return nil
	})
	if err != nil {
		b.Fatalf("seed: %v", err)
	}
	admin, err := s.app.DB.UserByID(ctx, s.members[0])
	if err != nil {
		b.Fatal(err)
	}
	_, s.key, err = s.app.Team.CreateKey(ctx, team.Actor{User: &admin}, &s.account, team.NewKey{Name: "load", Role: "admin"})
	if err != nil {
		b.Fatalf("key: %v", err)
	}
}

// checkBodies returns n check requests over the seeded account: members in
// a scattered order (and a few unknown users), several permissions, with or
// without a resource, a record owner, an unowned record.
func (s *loadService) checkBodies(n int) []string {
	perms := []string{"records.view", "records.edit", "members.view", "records.export", "members.manage",
		"records.bulk_delete", "contacts.manage", "billing.access"}
	out := make([]string, n)
	for i := range out {
		user := s.members[(i*7919)%len(s.members)].String()
		if i%64 == 63 {
			user = equipe.NewID().String()
		}
		body := `{"user_id":"` + user + `","account_id":"` + s.account.String() + `","permission":"` + perms[i%len(perms)] + `"`
		if i%3 == 0 {
			body += `,"resource_id":"` + s.res[(i*31)%len(s.res)].String() + `"`
		}
		switch i % 4 {
		case 1:
			body += `,"owner_id":null`
		case 2:
			body += `,"owner_id":"` + user + `"`
		case 3:
			body += `,"owner_id":"` + s.members[(i*104729)%len(s.members)].String() + `"`
		}
		out[i] = body + "}"
	}
	return out
}

// answers sends every body once and counts the answers, so that a benchmark
// is known to measure real allows and denials (and warms the cache).
func (s *loadService) answers(b *testing.B, bodies []string) map[string]int {
	b.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	seen := map[string]int{}
	for _, body := range bodies {
		req, _ := http.NewRequest("POST", s.url+"/api/v1/check", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+s.key)
		res, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var a struct {
			Allowed bool
			Reason  string
		}
		err = json.NewDecoder(res.Body).Decode(&a)
		res.Body.Close()
		if res.StatusCode != 200 || err != nil {
			b.Fatalf("check %s: %d %v", body, res.StatusCode, err)
		}
		seen[a.Reason]++
	}
	return seen
}

// bareAnswer is what the bare handler writes: a check's answer.
var bareAnswer = []byte(`{"allowed":true,"reason":"allowed"}`)

// bareHandler reads the request's body and writes a check's JSON answer.
var bareHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if _, err := io.ReadAll(r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(bareAnswer)
})

// startBare runs a bare net/http server on another loopback port whose
// handler reads the request's body and writes a check's JSON answer: the
// ceiling that the service's middleware, authentication, decoding and
// evaluation are measured against.
func startBare(b *testing.B) string {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: bareHandler}
	go srv.Serve(l)
	b.Cleanup(func() { srv.Close() })
	return "http://" + l.Addr().String()
}

// wrkScript returns a wrk script that cycles through bodies, each thread
// from its own starting point. Requests are formatted once, at start, so
// that the load generator spends its share of the 2 cores on sending.
func wrkScript(host, key string, bodies []string) string {
	return wrkScriptAt("/api/v1/check", host, key, bodies)
}

// wrkScriptAt is wrkScript for the endpoint at path.
func wrkScriptAt(path, host, key string, bodies []string) string {
	var sb strings.Builder
	sb.WriteString("local bodies = {\n")
	for _, body := range bodies {
		fmt.Fprintf(&sb, "  %q,\n", body)
	}
	fmt.Fprintf(&sb, `}
local reqs = {}
local i = 0
local thread_no = 0
setup = function(thread)
  thread:set("thread_no", thread_no)
  thread_no = thread_no + 1
end
init = function(args)
  for k, body in ipairs(bodies) do
    reqs[k] = wrk.format("POST", %q, {
      ["Host"] = %q,
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer %s",
    }, body)
  end
  i = (thread_no * 997) %% #reqs
end
request = function()
  i = i + 1
  if i > #reqs then i = 1 end
  return reqs[i]
end
`, path, host, key)
	return sb.String()
}

// pacedRate is the rate, in checks a second, of the paced run.
const pacedRate = 32_000

// paced returns a wrk script's addition that holds the load near rate
// requests a second. wrk pauses a connection before a request for as many
// whole milliseconds as delay returns: each thread pauses before a share of
// its requests, and corrects that share every second from the rate it
// reached (os.time ticks in seconds).
func paced(rate int) string {
	return fmt.Sprintf(`
local rate = %d / 2 -- each of the 2 threads
local share, acc, n, sec = 0.5, 0, 0, nil
delay = function()
  local now = os.time()
  if sec == nil then sec = now end
  if now ~= sec then
    share = math.max(0, math.min(1, share + 0.5 * (n - rate) / rate))
    n, sec = 0, now
  end
  n = n + 1
  acc = acc + share
  if acc >= 1 then
    acc = acc - 1
    return 1
  end
  return 0
end
`, rate)
}

// wrkResult is what a wrk run reports.
type wrkResult struct {
	rps           float64
	p50, p99      time.Duration
	requests      int
	non2xx, socks int
	out           string
	// foreign is the share of the machine's CPU time that went to
	// neither the service's process nor wrk (other programs, and the
	// kernel's interrupt work), in percent; -1 when unknown. A run that
	// shared the machine with other work shows it here.
	foreign float64
}

var (
	wrkRPS     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkPct     = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$`)
	wrkTotal   = regexp.MustCompile(`(\d+) requests in`)
	wrkNon2xx  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkSockets = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// runWrk runs wrk -t2 -c32 with script against target for d.
func runWrk(b *testing.B, target, script string, d time.Duration) wrkResult {
	b.Helper()
	path := filepath.Join(b.TempDir(), "check.lua")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command("wrk", "-t2", "-c32", "-d"+strconv.Itoa(int(d.Seconds()))+"s", "--latency", "-s", path, target)
	start, mark := time.Now(), markCPU()
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, out)
	}
	r := wrkResult{out: string(out), foreign: -1}
	if f, ok := foreignCPU(mark, cmd); ok {
		r.foreign = 100 * f.Seconds() / (time.Since(start).Seconds() * float64(runtime.NumCPU()))
	}
	m := wrkRPS.FindStringSubmatch(r.out)
	if m == nil {
		b.Fatalf("no Requests/sec in wrk's output:\n%s", out)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	for _, m := range wrkPct.FindAllStringSubmatch(r.out, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[m[3]]
		dur := time.Duration(v * float64(unit))
		if m[1] == "50" {
			r.p50 = dur
		} else {
			r.p99 = dur
		}
	}
	if m := wrkTotal.FindStringSubmatch(r.out); m != nil {
		r.requests, _ = strconv.Atoi(m[1])
	}
	if m := wrkNon2xx.FindStringSubmatch(r.out); m != nil {
		r.non2xx, _ = strconv.Atoi(m[1])
	}
	if m := wrkSockets.FindStringSubmatch(r.out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.Atoi(s)
			r.socks += n
		}
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkCheckHTTP loads POST /api/v1/check with wrk (2 threads, 32
// connections, 10 s per run) three times: paced near 32,000 checks/s, to
// read the latency at the target's rate; then as fast as the service
// answers; then, right after, a bare net/http handler in the same process.
// It reports checks/s, p50 and p99 in ms of the fastest run (where 4 busy
// threads share 2 cores, so p99 measures the kernel's time slices as much
// as the service), the paced run's checks/s and p99, the bare handler's
// requests/s and p99, and the ratio of the service's rate to the bare
// handler's in percent. foreign-cpu-% is the largest share of the machine's
// CPU time that, during the fast run or the bare one, went to neither this
// process nor wrk: when other programs were busy, the figures are not the
// service's. It runs once whatever -benchtime says: use -benchtime 1x.
func BenchmarkCheckHTTP(b *testing.B) {
	if _, err := exec.LookPath("wrk"); err != nil {
		b.Skip("skipping: wrk is not on the PATH (apt-get install wrk)")
	}
	for _, e := range storetest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			s := startLoadService(b, e)
			bodies := s.checkBodies(4096)
			seen := s.answers(b, bodies)
			b.Logf("answers of the %d bodies: %v", len(bodies), seen)
			host := strings.TrimPrefix(s.url, "http://")
			// A short run first: connections, buffers and the heap grow
			// to their working size before anything is measured.
			runWrk(b, s.url+"/api/v1/check", wrkScript(host, s.key, bodies), 2*time.Second)
			b.ResetTimer()
			pace := runWrk(b, s.url+"/api/v1/check", wrkScript(host, s.key, bodies)+paced(pacedRate), wrkDuration)
			svc := runWrk(b, s.url+"/api/v1/check", wrkScript(host, s.key, bodies), wrkDuration)
			// The bare handler runs in this process too: the service stops
			// first, so that neither its goroutines nor its heap (which
			// the garbage collector would scan) weigh on it.
			s.stop()
			runtime.GC()
			bare := startBare(b)
			base := runWrk(b, bare+"/api/v1/check", wrkScript(strings.TrimPrefix(bare, "http://"), s.key, bodies), wrkDuration)
			b.StopTimer()
			for _, r := range []wrkResult{svc, pace, base} {
				if r.non2xx > 0 || r.socks > 0 {
					b.Fatalf("errors under load:\n%s", r.out)
				}
			}
			b.Logf("service, as fast as it answers:\n%s\nservice, paced at %d checks/s:\n%s\nbare net/http:\n%s",
				svc.out, pacedRate, pace.out, base.out)
			b.ReportMetric(svc.rps, "checks/s")
			b.ReportMetric(ms(svc.p50), "p50-ms")
			b.ReportMetric(ms(svc.p99), "p99-ms")
			b.ReportMetric(pace.rps, "paced-checks/s")
			b.ReportMetric(ms(pace.p99), "paced-p99-ms")
			b.ReportMetric(base.rps, "bare-req/s")
			b.ReportMetric(ms(base.p99), "bare-p99-ms")
			b.ReportMetric(100*svc.rps/base.rps, "ratio-%")
			if svc.foreign >= 0 && base.foreign >= 0 {
				b.ReportMetric(max(svc.foreign, base.foreign), "foreign-cpu-%")
			}
		})
	}
}

// nopWriter is a ResponseWriter that keeps the status and the body's size:
// reused across iterations, it leaves in allocs/op only what the service's
// handler allocates.
type nopWriter struct {
	h      http.Header
	status int
	n      int
	body   []byte
}

func (w *nopWriter) Header() http.Header { return w.h }
func (w *nopWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
}
func (w *nopWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	w.n += len(p)
	w.body = append(w.body, p...)
	return len(p), nil
}
func (w *nopWriter) reset() {
	clear(w.h)
	w.status, w.n, w.body = 0, 0, w.body[:0]
}

// rewindBody is a request body that can be read again.
type rewindBody struct{ bytes.Reader }

func (*rewindBody) Close() error { return nil }

// handlerRequests builds one reusable request per body, as the HTTP server
// would hand them to the root handler.
func handlerRequests(s *loadService, path string, bodies []string) ([]*http.Request, []*rewindBody) {
	reqs := make([]*http.Request, len(bodies))
	rbs := make([]*rewindBody, len(bodies))
	for i, body := range bodies {
		rb := &rewindBody{}
		rb.Reset([]byte(body))
		r, _ := http.NewRequest("POST", s.url+path, rb)
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+s.key)
		r.Header.Set("User-Agent", "load")
		r.RemoteAddr = "127.0.0.1:40000"
		r.RequestURI = path
		r.Host = strings.TrimPrefix(s.url, "http://")
		reqs[i], rbs[i] = r, rb
	}
	return reqs, rbs
}

// BenchmarkCheckHandler runs the service's root handler in process (every
// middleware, the API key, decoding, the check, encoding) without the
// network, with its allocations: the part of a request that is the
// service's own, to profile and optimise.
func BenchmarkCheckHandler(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			s := startLoadService(b, e)
			bodies := s.checkBodies(4096)
			s.answers(b, bodies)
			reqs, rbs := handlerRequests(s, "/api/v1/check", bodies)
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

// BenchmarkBareHandler is BenchmarkCheckHandler for the bare handler the
// HTTP benchmarks measure the service against (bareHandler, the same
// requests): what the service's root handler does beyond it is its
// middleware, the key, decoding, the check and encoding.
func BenchmarkBareHandler(b *testing.B) {
	s := &loadService{url: "http://127.0.0.1:1", key: "none"}
	bodies := make([]string, 64)
	for i := range bodies {
		bodies[i] = fmt.Sprintf(`{"user_id":"%s","account_id":"%s","permission":"records.view"}`, equipe.NewID(), equipe.NewID())
	}
	reqs, rbs := handlerRequests(s, "/api/v1/check", bodies)
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := i % len(reqs)
		rbs[k].Seek(0, io.SeekStart)
		w.reset()
		serve(bareHandler, w, reqs[k])
		if w.status != 200 {
			b.Fatalf("status %d: %s", w.status, w.body)
		}
	}
}

// serve hands r to h: the call the in-process benchmarks repeat, a
// function of its own so that callgrind can count its instructions alone
// (--toggle-collect='github.com/equipe-dev/equipe/api_test.serve', see
// docs/performance.md).
//
//go:noinline
func serve(h http.Handler, w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }

// BenchmarkCheckBatch100 measures the server time of a batch of 100 checks
// through the root handler, in µs per batch.
func BenchmarkCheckBatch100(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			s := startLoadService(b, e)
			bodies := s.checkBodies(4096)
			s.answers(b, bodies)
			var batches []string
			for i := 0; i+100 <= len(bodies); i += 100 {
				batches = append(batches, `{"checks":[`+strings.Join(bodies[i:i+100], ",")+`]}`)
			}
			reqs, rbs := handlerRequests(s, "/api/v1/check/batch", batches)
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
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "us/batch")
		})
	}
}
