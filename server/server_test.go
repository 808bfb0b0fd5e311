package server

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/equipe-dev/equipe/internal/testenv"
)

// lockedBuffer collects log lines written from several goroutines.
// lockedBuffer is a log that tells waiters of each line written.
type lockedBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	written testenv.Signal
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	defer l.written.Notify()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestLog_ChecksAreSummedUpAndEverythingElseLogged(t *testing.T) {
	logs := &lockedBuffer{}
	s := &Server{Log: slog.New(slog.NewJSONHandler(logs, nil))}
	h := s.logAndRecover(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("X-Status") {
		case "401":
			w.WriteHeader(http.StatusUnauthorized)
		case "panic":
			panic("boom")
		}
		w.Write([]byte(`{}`))
	}))
	send := func(method, path, status string) {
		r := httptest.NewRequest(method, path, strings.NewReader(`{}`))
		r.Header.Set("X-Status", status)
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	for range 3 {
		send("POST", "/api/v1/check", "")
	}
	send("POST", "/api/v1/check/batch", "")
	if strings.Contains(logs.String(), `"msg":"request"`) {
		t.Fatalf("successful checks logged one by one:\n%s", logs)
	}
	send("POST", "/api/v1/check", "401")
	send("POST", "/api/v1/check", "panic")
	send("GET", "/api/v1/me", "")
	send("POST", "/password-reset/secret-token", "")
	out := logs.String()
	for _, want := range []string{
		`"msg":"request","method":"POST","path":"/api/v1/check","status":401`,
		`"msg":"panic"`,
		`"msg":"request","method":"POST","path":"/api/v1/check","status":500`,
		`"msg":"request","method":"GET","path":"/api/v1/me","status":200`,
		`"path":"/password-reset/…"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in\n%s", want, out)
		}
	}
	if strings.Contains(out, "secret-token") {
		t.Errorf("a link's secret in the log:\n%s", out)
	}
}

func TestQuietLog_SumsUpEachPeriodWhileCallsCome(t *testing.T) {
	logs := &lockedBuffer{}
	q := newQuietLog(slog.New(slog.NewJSONHandler(logs, nil)), 20*time.Millisecond)
	check := httptest.NewRequest("POST", "/api/v1/check", nil)
	batch := httptest.NewRequest("POST", "/api/v1/check/batch", nil)
	for i := range 5 {
		if !q.count(check, 200, 30, time.Duration(i+1)*time.Millisecond) {
			t.Fatal("a successful check is not counted")
		}
	}
	q.count(batch, 200, 3000, 2*time.Millisecond)
	for _, r := range []struct {
		req    *http.Request
		status int
	}{
		{check, 400}, {check, 503}, {httptest.NewRequest("GET", "/api/v1/check", nil), 405},
		{httptest.NewRequest("POST", "/api/v1/session", nil), 200},
	} {
		if q.count(r.req, r.status, 0, time.Millisecond) {
			t.Errorf("%s %s %d counted, not logged", r.req.Method, r.req.URL.Path, r.status)
		}
	}
	waitFor(t, logs, `"path":"/api/v1/check/batch","count":1`)
	out := logs.String()
	if !strings.Contains(out, `"msg":"requests","method":"POST","path":"/api/v1/check","count":5,"bytes":150,"period_s":0.02,"duration_ms_avg":3,"duration_ms_max":5`) {
		t.Fatalf("summary:\n%s", out)
	}
	// Calls after a summary make the next one; a quiet period logs nothing.
	q.count(check, 200, 30, time.Millisecond)
	waitFor(t, logs, `"path":"/api/v1/check","count":1,`)
	// A summary clears the schedule before it logs: once logged, with no
	// call since, no timer runs, so a quiet period can log nothing.
	if q.scheduled.Load() {
		t.Error("a summary is scheduled with no call since the last")
	}
	if n := strings.Count(logs.String(), `"msg":"requests"`); n != 3 {
		t.Errorf("%d summaries, want 3:\n%s", n, logs)
	}
}

func waitFor(t *testing.T, logs *lockedBuffer, s string) {
	t.Helper()
	if !testenv.Within(5*time.Second, logs.written.Wait, func() bool { return strings.Contains(logs.String(), s) }) {
		t.Fatalf("no %s in\n%s", s, logs)
	}
}

func TestQuietLog_FlushSumsUpAtOnceOverThePeriodSoFar(t *testing.T) {
	logs := &lockedBuffer{}
	q := newQuietLog(slog.New(slog.NewJSONHandler(logs, nil)), time.Hour)
	q.flush()
	if logs.String() != "" {
		t.Fatalf("a flush with no call logged:\n%s", logs)
	}
	q.count(httptest.NewRequest("POST", "/api/v1/check", nil), 200, 30, time.Millisecond)
	q.flush()
	out := logs.String()
	if !strings.Contains(out, `"msg":"requests","method":"POST","path":"/api/v1/check","count":1,`) || strings.Contains(out, `"period_s":3600`) {
		t.Fatalf("flush:\n%s", out)
	}
	if q.scheduled.Load() {
		t.Error("a summary is still due after the flush")
	}
}
