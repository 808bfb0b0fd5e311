package metrics_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/testenv"
	"github.com/equipe-dev/equipe/metrics"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

const password = "lovelace rode the number engine"

// families scrapes url and parses the answer as Prometheus does.
func families(t *testing.T, url string, headers ...string) (int, map[string]*dto.MetricFamily) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		io.Copy(io.Discard, res.Body)
		return res.StatusCode, nil
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parse the metrics: %v", err)
	}
	return res.StatusCode, fams
}

// value returns the value of the metric name whose labels include labels
// (name/value pairs): a counter's or gauge's value, a histogram's count;
// -1 when there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

// post sends a JSON body and returns the status.
func post(t *testing.T, env *apptest.Env, url, body string, headers ...string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := (&http.Client{Transport: env.Transport(nil)}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// TestMetrics_MoveWithWhatHappensAndHoldNoUserData scrapes /metrics on the
// main address from loopback before and after checks, logins and a
// password reset, on both engines, and finds each counted under its label;
// no label holds an address, an identifier or a secret.
func TestMetrics_MoveWithWhatHappensAndHoldNoUserData(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{Configure: func(c *app.Config) {
				c.MetricsNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
			}})
			ctx := context.Background()
			a := env.App
			account := equipe.NewID()
			now := time.Now()
			u := equipe.User{ID: equipe.NewID(), Email: "ada@metrics.example", EmailKey: "ada@metrics.example",
				FirstName: "Ada", LastName: "Lovelace", Locale: "en", EmailVerifiedAt: now, CreatedAt: now,
				PasswordHash: a.Identity.Hasher.Hash(password)}
			err := a.DB.Write(ctx, func(tx *store.Tx) error {
				if err := tx.CreateAccount(ctx, &equipe.Account{ID: account, Name: "Metrics", Locale: "en",
					InvitationTTLHours: equipe.DefaultInvitationTTLHours, CreatedAt: now}); err != nil {
					return err
				}
				if err := tx.CreateUser(ctx, &u); err != nil {
					return err
				}
				return tx.CreateMember(ctx, &equipe.Member{AccountID: account, UserID: u.ID, Role: "admin",
					Status: equipe.MemberActive, CreatedAt: now, JoinedAt: now})
			})
			if err != nil {
				t.Fatal(err)
			}
			_, key, err := a.Team.CreateKey(ctx, team.Actor{User: &u}, &account, team.NewKey{Name: "metrics", Role: "admin"})
			if err != nil {
				t.Fatal(err)
			}
			url := env.URL + "/metrics"
			status, before := families(t, url)
			if status != 200 {
				t.Fatalf("metrics from loopback: %d", status)
			}
			for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "go_sched_latencies_seconds", "process_resident_memory_bytes",
				"equipe_db_connections_max", "equipe_cache_entries", "equipe_cache_bytes", "equipe_cache_evictions_total", "equipe_outbox_emails", "equipe_outbox_oldest_email_age_seconds"} {
				if value(before, name) < 0 {
					t.Errorf("no %s", name)
				}
			}

			auth := []string{"Authorization", "Bearer " + key}
			check := func(user equipe.ID) string {
				return `{"user_id":"` + user.String() + `","account_id":"` + account.String() + `","permission":"members.view"}`
			}
			for range 3 {
				if s := post(t, env, env.URL+"/api/v1/check", check(u.ID), auth...); s != 200 {
					t.Fatalf("check: %d", s)
				}
			}
			if s := post(t, env, env.URL+"/api/v1/check", check(equipe.NewID()), auth...); s != 200 {
				t.Fatalf("check: %d", s)
			}
			if s := post(t, env, env.URL+"/api/v1/check/batch", `{"checks":[`+check(u.ID)+`]}`, auth...); s != 200 {
				t.Fatalf("batch: %d", s)
			}
			if s := post(t, env, env.URL+"/api/v1/session", `{"email":"ada@metrics.example","password":"`+password+`"}`); s != 200 {
				t.Fatalf("login: %d", s)
			}
			if s := post(t, env, env.URL+"/api/v1/session", `{"email":"ada@metrics.example","password":"not the password at all"}`); s != 401 {
				t.Fatalf("wrong password: %d", s)
			}
			if s := post(t, env, env.URL+"/api/v1/password-reset", `{"email":"ada@metrics.example"}`); s != 202 {
				t.Fatalf("reset: %d", s)
			}
			// The reset's email (and the new-browser alert of the login)
			// leave the outbox: the worker's deliveries are counted.
			var after map[string]*dto.MetricFamily
			testenv.Await(t, 20*time.Second, testenv.Every(20*time.Millisecond), "the emails delivered", func() bool {
				_, after = families(t, url)
				return value(after, "equipe_outbox_emails") == 0 &&
					value(after, "equipe_email_deliveries_total", "result", "sent") >= value(before, "equipe_email_deliveries_total", "result", "sent")+1
			})
			if got := value(after, "equipe_outbox_oldest_email_age_seconds"); got != 0 {
				t.Errorf("age of the oldest email with none waiting: %v", got)
			}
			moved := func(name string, want float64, labels ...string) {
				t.Helper()
				b := max(value(before, name, labels...), 0)
				if got := value(after, name, labels...) - b; got != want {
					t.Errorf("%s%v moved by %v, want %v", name, labels, got, want)
				}
			}
			moved("equipe_checks_total", 4, "decision", "allowed", "reason", "allowed")
			moved("equipe_checks_total", 1, "decision", "denied", "reason", "denied_not_member")
			moved("equipe_logins_total", 1, "step", "password", "outcome", "succeeded")
			moved("equipe_logins_total", 1, "step", "password", "outcome", "failed")
			moved("equipe_http_request_duration_seconds", 4, "route", "POST /api/v1/check", "status", "200")
			moved("equipe_http_request_duration_seconds", 1, "route", "POST /api/v1/check/batch", "status", "200")
			moved("equipe_http_request_duration_seconds", 1, "route", "POST /api/v1/session", "status", "200")
			moved("equipe_http_request_duration_seconds", 1, "route", "POST /api/v1/session", "status", "401")
			moved("equipe_http_request_duration_seconds", 1, "route", "POST /api/v1/password-reset", "status", "202")
			if value(after, "equipe_cache_lookups_total", "result", "hit") <= value(before, "equipe_cache_lookups_total", "result", "hit") {
				t.Error("no cache hit counted")
			}
			if value(after, "equipe_cache_bytes") <= 0 || value(after, "equipe_cache_entries") <= 0 {
				t.Errorf("cache of %v entries in %v bytes after checks", value(after, "equipe_cache_entries"), value(after, "equipe_cache_bytes"))
			}
			if value(after, "equipe_http_request_duration_seconds", "route", "GET /metrics", "status", "200") < 1 {
				t.Error("the scrapes themselves are not counted under GET /metrics")
			}
			for name, f := range after {
				for _, m := range f.Metric {
					for _, l := range m.Label {
						v := l.GetValue()
						if strings.Contains(v, "@") || strings.Contains(v, u.ID.String()) || strings.Contains(v, account.String()) ||
							strings.Contains(v, "equipe_") || strings.Contains(v, "127.0.0.1") {
							t.Errorf("%s has a label %s=%q", name, l.GetName(), v)
						}
					}
				}
			}
		})
	}
}

// TestMetrics_PathsNoRouteMatchesAreUnrouted asks for a path no route
// matches, which the pages answer with their not-found page, and for the
// home page: the first is counted as unrouted, the second under its route.
func TestMetrics_PathsNoRouteMatchesAreUnrouted(t *testing.T) {
	env := apptest.Start(t, store.SQLite, apptest.Options{Configure: func(c *app.Config) {
		c.MetricsNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	}})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for path, want := range map[string]int{"/zzz/unrouted": 404, "/": 303} {
		res, err := client.Get(env.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Fatalf("GET %s: %d, want %d", path, res.StatusCode, want)
		}
	}
	_, fams := families(t, env.URL+"/metrics")
	if got := value(fams, "equipe_http_request_duration_seconds", "route", "unrouted", "status", "404"); got != 1 {
		t.Errorf("unrouted 404s: %v, want 1", got)
	}
	if got := value(fams, "equipe_http_request_duration_seconds", "route", "GET /{$}", "status", "303"); got != 1 {
		t.Errorf("the home page: %v, want 1", got)
	}
	if f := fams["equipe_http_request_duration_seconds"]; f != nil {
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if l.GetName() == "route" && l.GetValue() == "/" {
					t.Errorf("a request counted under the route \"/\"")
				}
			}
		}
	}
}

// TestMetrics_RefusedOutsideTheTrustedNetworksOrServedApart: on the main
// address, a client outside the trusted networks, and a request a proxy
// that is not trusted forwarded, get 403; with a separate metrics address,
// the main address no longer serves them and the separate one does.
func TestMetrics_RefusedOutsideTheTrustedNetworksOrServedApart(t *testing.T) {
	env := apptest.Start(t, store.SQLite, apptest.Options{Configure: func(c *app.Config) {
		c.MetricsNetworks = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	}})
	if s, _ := families(t, env.URL+"/metrics"); s != 403 {
		t.Errorf("from loopback, outside 10.0.0.0/8: %d", s)
	}
	env = apptest.Start(t, store.SQLite, apptest.Options{Configure: func(c *app.Config) {
		c.MetricsNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	}})
	if s, _ := families(t, env.URL+"/metrics"); s != 200 {
		t.Errorf("from loopback: %d", s)
	}
	for _, h := range [][]string{{"X-Forwarded-For", "203.0.113.9"}, {"Forwarded", "for=203.0.113.9"}, {"X-Real-IP", "203.0.113.9"}} {
		if s, _ := families(t, env.URL+"/metrics", h...); s != 403 {
			t.Errorf("forwarded by an untrusted proxy (%s): %d", h[0], s)
		}
	}
	none := apptest.Start(t, store.SQLite, apptest.Options{})
	if s, _ := families(t, none.URL+"/metrics"); s != 403 {
		t.Errorf("no trusted network: %d", s)
	}
	apart := apptest.Start(t, store.SQLite, apptest.Options{Configure: func(c *app.Config) {
		c.MetricsNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		c.MetricsAddr = "127.0.0.1:0"
	}})
	if s, _ := families(t, apart.URL+"/metrics"); s != 404 {
		t.Errorf("main address with a separate metrics address: %d", s)
	}
	s, fams := families(t, "http://"+apart.App.MetricsAddr()+"/metrics")
	if s != 200 || value(fams, "go_goroutines") < 0 {
		t.Errorf("separate metrics address: %d", s)
	}
}

// TestMetrics_OutboxAgeAndPoolsFromTheirSources reads the metrics of
// sources that say an email has waited 90 seconds, webhooks were delivered
// or not, and a pool is busy.
func TestMetrics_OutboxAgeAndPoolsFromTheirSources(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	m := metrics.New(metrics.Sources{
		Backlog:  func(context.Context) (int, time.Time, error) { return 2, now.Add(-90 * time.Second), nil },
		Webhooks: func() (uint64, uint64, uint64) { return 12, 3, 1 },
		Pools: func() []metrics.Pool {
			return []metrics.Pool{{Name: "writer", Stats: sql.DBStats{MaxOpenConnections: 1, InUse: 1, WaitCount: 7,
				WaitDuration: 1500 * time.Millisecond}}}
		},
		Now: func() time.Time { return now },
	})
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	_, fams := families(t, srv.URL)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"equipe_outbox_emails", nil, 2},
		{"equipe_webhook_deliveries_total", []string{"result", "delivered"}, 12},
		{"equipe_webhook_deliveries_total", []string{"result", "failed"}, 3},
		{"equipe_webhook_deliveries_total", []string{"result", "abandoned"}, 1},
		{"equipe_outbox_oldest_email_age_seconds", nil, 90},
		{"equipe_db_connections", []string{"pool", "writer", "state", "in_use"}, 1},
		{"equipe_db_connections", []string{"pool", "writer", "state", "idle"}, 0},
		{"equipe_db_connections_max", []string{"pool", "writer"}, 1},
		{"equipe_db_connection_waits_total", []string{"pool", "writer"}, 7},
		{"equipe_db_connection_wait_seconds_total", []string{"pool", "writer"}, 1.5},
		{"equipe_metrics_source_errors", []string{"source", "outbox"}, 0},
	} {
		if got := value(fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	m = metrics.New(metrics.Sources{
		Backlog: func(context.Context) (int, time.Time, error) {
			return 0, time.Time{}, errors.New("database unreachable")
		},
	})
	srv2 := httptest.NewServer(m.Handler())
	defer srv2.Close()
	_, fams = families(t, srv2.URL)
	if got := value(fams, "equipe_metrics_source_errors", "source", "outbox"); got != 1 {
		t.Errorf("outbox unreadable: source error %v", got)
	}
	if got := value(fams, "equipe_outbox_emails"); got != -1 {
		t.Errorf("outbox unreadable, yet a depth of %v", got)
	}
}
