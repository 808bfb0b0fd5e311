package openid_test

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/testenv"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/team"
)

// BenchmarkRefreshGrant measures the token endpoint's refresh grant over
// HTTP on loopback: each iteration spends a refresh token and receives a
// new one with an ID token and an access token carrying the account and
// role (docs/performance.md). The target is 2,000 a second on the
// reference machine. Each engine runs twice: refreshes that get an ID token
// (no scope parameter: id_token), and refreshes that ask for their scopes
// without openid and get none (access_only).
func BenchmarkRefreshGrant(b *testing.B) {
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		for _, v := range []struct{ name, scope string }{{"id_token", ""}, {"access_only", "offline_access accounts"}} {
			b.Run(string(e)+"/"+v.name, func(b *testing.B) { benchmarkRefreshGrant(b, e, v.scope) })
		}
	}
}

// benchmarkRefreshGrant runs the benchmark on the engine, the clients
// sending scope with each refresh unless it is empty.
func benchmarkRefreshGrant(b *testing.B, e store.Engine, scope string) {
	env := apptest.Start(b, e, apptest.Options{})
	ada := signUp(b, env, "ada@example.com")
	p := newRP(b, env, team.OIDCClientInput{Name: "Vendor app", RedirectURIs: []string{redirect},
		Scopes: []string{"offline_access", "accounts"}})
	// Clients refresh in parallel, each its own grant, as a vendor's
	// many sessions do.
	const chains = 16
	refresh := make(chan string, chains)
	for range chains {
		verifier := oauth2.GenerateVerifier()
		q := p.authorize(b, ada.browser, p.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), nil)
		tok, err := p.oauth.Exchange(b.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil || tok.RefreshToken == "" {
			b.Fatalf("first tokens: %v", err)
		}
		refresh <- tok.RefreshToken
	}
	id, secret := p.oauth.ClientID, p.oauth.ClientSecret
	var tokens []string
	for range chains {
		tokens = append(tokens, <-refresh)
	}
	// The clients run in a process of their own (this test binary
	// again, TestRefreshClients), so that this process's CPU time
	// is the service's alone, and the clients' is told apart.
	server := serverCPU(b, env)
	commits, reads := env.App.DB.Commits(), env.App.DB.Reads()
	groups, batches := env.App.DB.BatchGroups()
	b.ResetTimer()
	start, cpu := time.Now(), testenv.ProcessCPU()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRefreshClients$", "-test.count=1")
	cmd.Env = append(os.Environ(), "EQUIPE_REFRESH_URL="+env.URL, "EQUIPE_REFRESH_CLIENT="+id,
		"EQUIPE_REFRESH_SECRET="+secret, "EQUIPE_REFRESH_TOKENS="+strings.Join(tokens, ","),
		"EQUIPE_REFRESH_N="+strconv.Itoa(b.N), "EQUIPE_REFRESH_SCOPE="+scope)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("clients: %v\n%s", err, out)
	}
	elapsed, service := time.Since(start), testenv.ProcessCPU()-cpu
	clients := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "refreshes/s")
	// The CPU time spent a refresh, the service's and the clients':
	// on a machine shared with other work, the figures that say
	// what a change saves, where the rate says mostly how busy the
	// machine was.
	b.ReportMetric(float64(service.Microseconds())/float64(b.N), "service-cpu-µs/refresh")
	b.ReportMetric(float64(clients.Microseconds())/float64(b.N), "client-cpu-µs/refresh")
	if e == store.Postgres {
		// The database server's own, that of the backends of the
		// benchmark's database (at 100 ticks a second).
		b.ReportMetric(float64((serverCPU(b, env)-server).Microseconds())/float64(b.N), "db-cpu-µs/refresh")
	}
	// Exact counts: statements outside transactions and commits a
	// refresh, and how many batches group commit put in a commit.
	b.ReportMetric(float64(env.App.DB.Reads()-reads)/float64(b.N), "reads/refresh")
	b.ReportMetric(float64(env.App.DB.Commits()-commits)/float64(b.N), "commits/refresh")
	g, n := env.App.DB.BatchGroups()
	if g > groups {
		b.ReportMetric(float64(n-batches)/float64(g-groups), "batches/commit")
	}
}

// TestRefreshClients is the clients of BenchmarkRefreshGrant, run by it in
// a process of their own: each chain refreshes its grant in turn, over
// HTTP on loopback, until EQUIPE_REFRESH_N refreshes are done in all.
func TestRefreshClients(t *testing.T) {
	base := os.Getenv("EQUIPE_REFRESH_URL")
	if base == "" {
		t.Skip("run by BenchmarkRefreshGrant")
	}
	id, secret := os.Getenv("EQUIPE_REFRESH_CLIENT"), os.Getenv("EQUIPE_REFRESH_SECRET")
	tokens := strings.Split(os.Getenv("EQUIPE_REFRESH_TOKENS"), ",")
	n, _ := strconv.Atoi(os.Getenv("EQUIPE_REFRESH_N"))
	scope := os.Getenv("EQUIPE_REFRESH_SCOPE")
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: len(tokens)}}
	var left atomic.Int64
	left.Store(int64(n))
	var wg sync.WaitGroup
	for _, rt := range tokens {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
				if scope != "" {
					form.Set("scope", scope)
				}
				req, _ := http.NewRequest("POST", base+"/oidc/token", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(id, secret)
				res, err := hc.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				var out struct {
					RefreshToken string `json:"refresh_token"`
					IDToken      string `json:"id_token"`
				}
				err = json.NewDecoder(res.Body).Decode(&out)
				res.Body.Close()
				if err != nil || res.StatusCode != 200 || out.RefreshToken == "" || (out.IDToken == "") != (scope != "") {
					t.Errorf("refresh: %d %v", res.StatusCode, err)
					return
				}
				rt = out.RefreshToken
			}
		})
	}
	wg.Wait()
}

// serverCPU returns the CPU time spent so far by the PostgreSQL server's
// backends connected to the database env uses (0 on SQLite, or where the
// server's processes cannot be read): the server runs on the same machine
// and the same cores as the service.
func serverCPU(b *testing.B, env *apptest.Env) time.Duration {
	if env.Engine != store.Postgres {
		return 0
	}
	db, err := sql.Open("pgx", env.DB.URL)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(b.Context(), `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var total time.Duration
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			b.Fatal(err)
		}
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue
		}
		// utime and stime are the 14th and 15th fields, after the
		// command's name in parentheses.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.Atoi(f[11])
		st, _ := strconv.Atoi(f[12])
		total += time.Duration(ut+st) * 10 * time.Millisecond
	}
	return total
}
