package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/equipe-dev/equipe/internal/testenv"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestVersion(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), []string{"version"}, nil, &out, io.Discard, env(nil)); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "equipe ") {
		t.Fatalf("version printed %q", out.String())
	}
}

func TestBadSettingsStopWithOneLineNamingTheSetting(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		vars map[string]string
		args []string
		want string
	}{
		{map[string]string{"EQUIPE_ADDR": "8080"}, nil, "EQUIPE_ADDR (--addr)"},
		{nil, []string{"--addr", "localhost"}, "EQUIPE_ADDR (--addr)"},
		{map[string]string{"EQUIPE_DATABASE_URL": "mysql://x"}, nil, "EQUIPE_DATABASE_URL (--database-url)"},
		{map[string]string{"EQUIPE_PUBLIC_URL": "example.com"}, nil, "EQUIPE_PUBLIC_URL (--public-url)"},
		{map[string]string{"EQUIPE_PUBLIC_URL": "https://example.com/app"}, nil, "EQUIPE_PUBLIC_URL (--public-url)"},
		{map[string]string{"EQUIPE_SMTP_URL": "ftp://mail.example.com"}, nil, "EQUIPE_SMTP_URL (--smtp-url)"},
		{map[string]string{"EQUIPE_SMTP_URL_FILE": filepath.Join(dir, "missing")}, nil, "EQUIPE_SMTP_URL_FILE (--smtp-url)"},
		{map[string]string{"EQUIPE_MAIL_FROM": "not an address"}, nil, "EQUIPE_MAIL_FROM (--mail-from)"},
		{map[string]string{"EQUIPE_CATALOGUE": filepath.Join(dir, "missing.yaml")}, nil, "EQUIPE_CATALOGUE (--catalogue)"},
		{map[string]string{"EQUIPE_LOG_FORMAT": "xml"}, nil, "EQUIPE_LOG_FORMAT (--log-format)"},
		{map[string]string{"EQUIPE_LOG_LEVEL": "verbose"}, nil, "EQUIPE_LOG_LEVEL (--log-level)"},
		{nil, []string{"--log-level", "trace"}, "EQUIPE_LOG_LEVEL (--log-level)"},
		{map[string]string{"EQUIPE_TRUSTED_PROXIES": "10.0.0.0/99"}, nil, "EQUIPE_TRUSTED_PROXIES (--trusted-proxies)"},
		{map[string]string{"EQUIPE_PRIVACY_POLICY_URL": "javascript:alert(1)"}, nil, "EQUIPE_PRIVACY_POLICY_URL (--privacy-policy-url)"},
		{map[string]string{"EQUIPE_TIME_ZONE": "Europe/Lutece"}, nil, "EQUIPE_TIME_ZONE (--time-zone)"},
		{nil, []string{"--time-zone", "Local"}, "EQUIPE_TIME_ZONE (--time-zone)"},
		{map[string]string{"EQUIPE_CACHE_MB": "64MB"}, nil, "EQUIPE_CACHE_MB (--cache-mb)"},
		{nil, []string{"--cache-mb", "0"}, "EQUIPE_CACHE_MB (--cache-mb)"},
	}
	for _, tt := range tests {
		vars := map[string]string{"EQUIPE_DATA": dir}
		for k, v := range tt.vars {
			vars[k] = v
		}
		err := run(context.Background(), append([]string{"serve"}, tt.args...), nil, io.Discard, io.Discard, env(vars))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v %v: error %q, want one line starting %q", tt.vars, tt.args, err, tt.want)
		}
	}
	// The SMTP password never shows in the message.
	err := run(context.Background(), []string{"serve"}, nil, io.Discard, io.Discard,
		env(map[string]string{"EQUIPE_DATA": dir, "EQUIPE_SMTP_URL": "smtp://user:s3cr3t-pw@mail.example.com:587?tls=bogus"}))
	if err == nil || strings.Contains(err.Error(), "s3cr3t-pw") {
		t.Fatalf("SMTP error %q", err)
	}
}

func TestCreateAdmin_ReadsThePasswordFromStandardInput(t *testing.T) {
	dir := t.TempDir()
	vars := env(map[string]string{"EQUIPE_DATA": dir, "EQUIPE_LOG_FORMAT": "json"})
	args := []string{"create-admin", "--email", "Support@Example.com", "--first-name", "Grace", "--last-name", "Hopper", "--locale", "en"}
	var out strings.Builder
	if err := run(context.Background(), args, strings.NewReader("the compiler was my idea\n"), &out, io.Discard, vars); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "instance administrator Support@example.com created") {
		t.Fatalf("output %q", out.String())
	}
	// Again: the email is taken.
	err := run(context.Background(), args, strings.NewReader("the compiler was my idea\n"), io.Discard, io.Discard, vars)
	if err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Fatalf("second create-admin: %v", err)
	}
	// A weak password is refused with the reason.
	args[2] = "other@example.com"
	err = run(context.Background(), args, strings.NewReader("password1234\n"), io.Discard, io.Discard, vars)
	if err == nil || !strings.Contains(err.Error(), "--password") || !strings.Contains(err.Error(), "common") {
		t.Fatalf("weak password: %v", err)
	}
	err = run(context.Background(), args, strings.NewReader(""), io.Discard, io.Discard, vars)
	if err == nil || !strings.Contains(err.Error(), "no password") {
		t.Fatalf("no password: %v", err)
	}
	// The password is never a flag.
	for _, f := range []string{"--password", "-password"} {
		if err := run(context.Background(), append(args, f, "x"), strings.NewReader("y\n"), io.Discard, io.Discard, vars); err == nil {
			t.Fatalf("a password flag %s was accepted", f)
		}
	}
}

// serving runs "equipe serve" in the test's process and returns its base
// URL, and a function that stops it and returns what Serve returned.
func serving(t *testing.T, vars map[string]string) (string, func() error) {
	t.Helper()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, nil, io.Discard, pw, env(vars))
		pw.Close()
	}()
	addr, _ := servingAddr(pr, nil)
	select {
	case a := <-addr:
		return "http://" + a, func() error { cancel(); return <-done }
	case err := <-done:
		cancel()
		t.Fatalf("serve stopped: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("serve did not start")
	}
	return "", nil
}

// servingAddr reads the JSON log of "equipe serve" from r until it ends,
// copying it to w when w is not nil, and sends on addr the address of its
// "serving" line. done is closed once r has ended and w is complete.
func servingAddr(r io.Reader, w io.Writer) (addr <-chan string, done <-chan struct{}) {
	a := make(chan string, 1)
	d := make(chan struct{})
	go func() {
		defer close(d)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if w != nil {
				fmt.Fprintf(w, "%s\n", sc.Bytes())
			}
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == "serving" {
				select {
				case a <- line["addr"].(string):
				default:
				}
			}
		}
		// A reader that stops early would block the writer.
		io.Copy(io.Discard, r)
	}()
	return a, d
}

func TestServe_RunsWithNoConfigurationAndStopsGracefully(t *testing.T) {
	dir := t.TempDir()
	base, stop := serving(t, map[string]string{"EQUIPE_DATA": dir, "EQUIPE_ADDR": "127.0.0.1:0", "EQUIPE_LOG_FORMAT": "json"})
	for _, path := range []string{"/healthz", "/readyz", "/login", "/dev/mail", "/api/openapi.json"} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "equipe.db")); err != nil {
		t.Fatalf("no SQLite file in the data directory: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v on shutdown", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("still serving after shutdown")
	}
}

// BenchmarkServeStartup builds the binary and measures, per start on an
// empty SQLite database, the time until /readyz answers 200; then, after a
// sign-up and ten logins (each hash takes 19 MiB), the resident memory once
// the service has returned the hashes' memory (it logs so at debug level,
// once hashing has been quiet for five seconds). Run with -benchtime 5x.
func BenchmarkServeStartup(b *testing.B) {
	bin := buildEquipe(b)
	var ready []time.Duration
	var rss []float64
	for b.Loop() {
		port := freePort(b)
		cmd := exec.Command(bin, "serve")
		cmd.Env = append(os.Environ(), "EQUIPE_DATA="+b.TempDir(), fmt.Sprintf("EQUIPE_ADDR=127.0.0.1:%d", port), "EQUIPE_LOG_FORMAT=json",
			"EQUIPE_LOG_LEVEL=debug")
		stderr := newLogWatch(memoryReturned)
		cmd.Stderr = stderr
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		if err := waitReady(fmt.Sprintf("http://127.0.0.1:%d", port), 10*time.Second); err != nil {
			cmd.Process.Kill()
			b.Fatal(err)
		}
		ready = append(ready, time.Since(start))
		b.StopTimer()
		// The memory is read once the hashes' memory has gone back to the
		// system after the last login: the runtime would otherwise give
		// it back in steps, the readings staying flat for seconds before
		// falling, so "until it stops falling" stops too early. Returns
		// logged before the last login answered do not count (the next
		// comes five seconds after the last hash).
		use(b, fmt.Sprintf("http://127.0.0.1:%d", port))
		returned := stderr.count()
		if !stderr.await(returned, 30*time.Second) {
			cmd.Process.Kill()
			b.Fatalf("no %q logged within 30 s of the last login:\n%s", memoryReturned, stderr)
		}
		rss = append(rss, residentMB(b, cmd.Process.Pid))
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			b.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
		}
		b.StartTimer()
	}
	b.ReportMetric(median(ready).Seconds()*1000, "ready-ms")
	b.ReportMetric(medianF(rss), "idle-rss-MB")
}

func residentMB(b *testing.B, pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Skip("no /proc: resident memory is measured on Linux")
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}

func medianF(f []float64) float64 {
	s := append([]float64(nil), f...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}

// buildEquipe builds the command into a temporary directory, static as
// released (no cgo), and returns the binary's path.
func buildEquipe(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "equipe")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// waitReady waits until base/readyz answers 200, asking every millisecond
// (the start-up benchmark measures the wait: the service is another
// process, which tells nothing until asked), and gives up after timeout.
func waitReady(base string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	var err error
	ready := testenv.Within(timeout, testenv.Every(time.Millisecond), func() bool {
		var res *http.Response
		if res, err = client.Get(base + "/readyz"); err != nil {
			return false
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			err = fmt.Errorf("status %d", res.StatusCode)
		}
		return res.StatusCode == 200
	})
	if !ready {
		return fmt.Errorf("%s/readyz not ready after %v: %v", base, timeout, err)
	}
	return nil
}

// freePort returns a loopback port that was free a moment ago.
func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// use signs up and logs in ten times.
func use(b *testing.B, base string) {
	post := func(path, body string, want int) {
		res, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			b.Fatalf("%s: %d", path, res.StatusCode)
		}
	}
	post("/api/v1/signup", `{"email":"ada@example.com","password":"lovelace rode the number engine","first_name":"Ada","last_name":"Lovelace","account_name":"Engines"}`, 201)
	for range 10 {
		post("/api/v1/session", `{"email":"ada@example.com","password":"lovelace rode the number engine"}`, 200)
	}
}

// memoryReturned is what the service logs (debug) when it has returned the
// memory of its password hashes.
const memoryReturned = "hashing memory returned to the operating system"

// logWatch keeps a process's log and counts the lines holding a message.
type logWatch struct {
	msg     string
	mu      sync.Mutex
	buf     strings.Builder
	seen    int
	changed chan struct{} // closed and replaced at each new line seen
}

func newLogWatch(msg string) *logWatch {
	return &logWatch{msg: msg, changed: make(chan struct{})}
}

func (w *logWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if n := strings.Count(w.buf.String(), w.msg); n != w.seen {
		w.seen = n
		close(w.changed)
		w.changed = make(chan struct{})
	}
	return len(p), nil
}

// count returns how many lines held the message so far.
func (w *logWatch) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen
}

// await waits until more than after lines held the message, or timeout.
func (w *logWatch) await(after int, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		w.mu.Lock()
		seen, changed := w.seen, w.changed
		w.mu.Unlock()
		if seen > after {
			return true
		}
		select {
		case <-changed:
		case <-deadline:
			return false
		}
	}
}

func (w *logWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
