package api_test

// An open-loop load generator for the latency benchmarks. It runs in a
// process of its own (the test binary started again, see TestMain), so that
// neither its goroutines nor its garbage collector pause the server it
// measures, and the server's pauses do not stop it from sending.
//
// Paced, it sends request i at start + i/rate whatever became of the
// earlier ones, and measures each latency from that intended moment to the
// last byte of the answer: a request that had to wait because the server
// (or the connection it shares) was stalled counts the wait. A generator
// that measures from the moment it actually sent hides exactly the stalls
// it should see (coordinated omission). Flat out, each connection sends its
// next request as soon as the previous one is answered: the server's
// ceiling.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// loadGenEnv names the environment variable that turns the test binary into
// the load generator; its value is the path of the generator's spec.
const loadGenEnv = "EQUIPE_LOADGEN_SPEC"

// loadSpec is one run of the generator.
type loadSpec struct {
	Addr     string        // host:port
	Path     string        // e.g. /api/v1/check
	Headers  [][2]string   // besides Host and Content-Length
	Bodies   []string      // sent in turn, each connection from its own point
	Conns    int           // connections
	Rate     float64       // requests a second in all; 0: flat out
	Duration time.Duration // how long requests are sent
}

// loadResult is what a run measured. Latencies are in microseconds.
type loadResult struct {
	Requests int     // answered
	Errors   int     // answers other than 200, broken connections
	Rate     float64 // answered a second
	P50      float64
	P99      float64
	P999     float64
	Max      float64
	// Late is the share, in percent, of the paced requests sent more than
	// 1 ms after their intended moment: the generator or the connection
	// could not keep up. Their latency still counts from the intended moment.
	Late float64
	// GenCPU is the generator process's CPU time, in percent of one core.
	GenCPU float64
	// Foreign is the share of the machine's CPU time that went to neither
	// the benchmark's process (the servers) nor the generator, in percent;
	// -1 when unknown. Other programs' work shows here.
	Foreign float64
	// What the server's process (this one) allocated per answer and how
	// many garbage collections it ran a second meanwhile.
	BytesPerReq, AllocsPerReq, GCPerSec float64
	// CPUPerReq is the server's process's CPU time per answer, in
	// microseconds (getrusage): what an answer costs the servers, which
	// other programs on the machine do not stretch as they stretch the
	// latencies. -1 when unknown.
	CPUPerReq float64
}

func (r loadResult) String() string {
	return fmt.Sprintf("%.0f req/s, p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.2f ms, %d answers, %d errors, "+
		"late %.2f %%, generator CPU %.0f %%, foreign CPU %.0f %%; server: %.1f µs of CPU, %.0f B and %.1f allocations an answer, %.1f GC/s",
		r.Rate, r.P50/1000, r.P99/1000, r.P999/1000, r.Max/1000, r.Requests, r.Errors, r.Late, r.GenCPU, r.Foreign,
		r.CPUPerReq, r.BytesPerReq, r.AllocsPerReq, r.GCPerSec)
}

// runLoad runs the generator in a process of its own and returns what it
// measured.
func runLoad(tb testing.TB, spec loadSpec) loadResult {
	tb.Helper()
	raw, err := json.Marshal(spec)
	if err != nil {
		tb.Fatal(err)
	}
	path := tb.TempDir() + "/spec.json"
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), loadGenEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start, mark := time.Now(), markCPU()
	out, err := cmd.Output()
	elapsed := time.Since(start)
	runtime.ReadMemStats(&m1)
	if err != nil {
		tb.Fatalf("load generator: %v\n%s", err, stderr.Bytes())
	}
	var r loadResult
	if err := json.Unmarshal(out, &r); err != nil {
		tb.Fatalf("load generator's answer %q: %v\n%s", out, err, stderr.Bytes())
	}
	r.Foreign, r.CPUPerReq = -1, -1
	if end := markCPU(); r.Requests > 0 && end.self > 0 {
		r.CPUPerReq = float64((end.self - mark.self).Nanoseconds()) / 1000 / float64(r.Requests)
	}
	if f, ok := foreignCPU(mark, cmd); ok {
		r.Foreign = 100 * f.Seconds() / (elapsed.Seconds() * float64(runtime.NumCPU()))
	}
	if r.Requests > 0 {
		r.BytesPerReq = float64(m1.TotalAlloc-m0.TotalAlloc) / float64(r.Requests)
		r.AllocsPerReq = float64(m1.Mallocs-m0.Mallocs) / float64(r.Requests)
	}
	r.GCPerSec = float64(m1.NumGC-m0.NumGC) / elapsed.Seconds()
	return r
}

// loadGenerator runs the spec named by the environment and writes its
// result as JSON to stdout.
func loadGenerator(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var spec loadSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return err
	}
	r, err := generate(spec)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// generate sends the spec's load and measures it.
func generate(spec loadSpec) (loadResult, error) {
	if spec.Conns <= 0 || len(spec.Bodies) == 0 {
		return loadResult{}, errors.New("no connections or no bodies")
	}
	// Every request is formatted once, before the clock starts.
	reqs := make([][]byte, len(spec.Bodies))
	for i, body := range spec.Bodies {
		var b bytes.Buffer
		fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\n", spec.Path, spec.Addr)
		for _, h := range spec.Headers {
			fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
		}
		fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
		reqs[i] = b.Bytes()
	}
	conns := make([]net.Conn, spec.Conns)
	for i := range conns {
		c, err := net.Dial("tcp", spec.Addr)
		if err != nil {
			return loadResult{}, err
		}
		defer c.Close()
		conns[i] = c
	}
	var cpu0 cpuTime
	cpu0.read()
	expect := int(spec.Duration.Seconds()*max(spec.Rate, 1)) / spec.Conns
	lat := make([][]int64, spec.Conns)
	errs := make([]int, spec.Conns)
	late := make([]int, spec.Conns)
	start := time.Now().Add(10 * time.Millisecond)
	end := start.Add(spec.Duration)
	var wg sync.WaitGroup
	for k := range conns {
		lat[k] = make([]int64, 0, expect+expect/4+16)
		wg.Go(func() {
			c := conns[k]
			rd := bufio.NewReaderSize(c, 16<<10)
			next := (k * 997) % len(reqs)
			for j := 0; ; j++ {
				var intended time.Time
				if spec.Rate > 0 {
					// Connection k sends requests k, k+Conns, k+2·Conns…
					// of the whole schedule.
					i := k + j*spec.Conns
					intended = start.Add(time.Duration(float64(i) * float64(time.Second) / spec.Rate))
					if !intended.Before(end) {
						return
					}
					// The due time is the schedule itself, not a state to
					// wait for: an open-loop generator sends at it
					// whatever became of the earlier requests.
					if d := time.Until(intended); d > 0 {
						time.Sleep(d)
					} else if d < -time.Millisecond {
						late[k]++
					}
				} else {
					intended = time.Now()
					if !intended.Before(end) {
						return
					}
				}
				if _, err := c.Write(reqs[next]); err != nil {
					errs[k]++
					return
				}
				next = (next + 1) % len(reqs)
				status, err := readAnswer(rd)
				if err != nil {
					errs[k]++
					return
				}
				if status != 200 {
					errs[k]++
				}
				lat[k] = append(lat[k], int64(time.Since(intended)/time.Microsecond))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var cpu1 cpuTime
	cpu1.read()
	var all []int64
	r := loadResult{}
	for k := range lat {
		all = append(all, lat[k]...)
		r.Errors += errs[k]
		r.Late += float64(late[k])
	}
	if len(all) == 0 {
		return r, errors.New("no answer")
	}
	slices.Sort(all)
	pct := func(p float64) float64 { return float64(all[min(len(all)-1, int(p*float64(len(all))))]) }
	r.Requests = len(all)
	r.Rate = float64(len(all)) / min(elapsed, spec.Duration).Seconds()
	r.P50, r.P99, r.P999, r.Max = pct(0.50), pct(0.99), pct(0.999), float64(all[len(all)-1])
	r.Late = 100 * r.Late / float64(len(all))
	r.GenCPU = 100 * (cpu1.total() - cpu0.total()).Seconds() / elapsed.Seconds()
	return r, nil
}

// readAnswer reads one HTTP/1.1 answer with a Content-Length and returns its
// status.
func readAnswer(rd *bufio.Reader) (int, error) {
	line, err := rd.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, fmt.Errorf("status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, err
	}
	length := -1
	for {
		line, err := rd.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(line) <= 2 {
			break
		}
		if name, value, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(name, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil {
				return 0, err
			}
		}
	}
	if length < 0 {
		return 0, errors.New("answer without Content-Length")
	}
	_, err = rd.Discard(length)
	return status, err
}
