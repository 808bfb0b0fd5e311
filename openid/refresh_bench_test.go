package openid_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/team"
)

// BenchmarkRefreshGrant measures the token endpoint's refresh grant over
// HTTP on loopback: each iteration spends a refresh token and receives a
// new one with an ID token and an access token carrying the account and
// role (docs/performance.md). The target is 2,000 a second on the
// reference machine.
func BenchmarkRefreshGrant(b *testing.B) {
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		b.Run(string(e), func(b *testing.B) {
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
			hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: chains}}
			b.SetParallelism(chains / runtime.GOMAXPROCS(0))
			b.ResetTimer()
			start, cpu := time.Now(), processCPU()
			b.RunParallel(func(pb *testing.PB) {
				rt := <-refresh
				for pb.Next() {
					form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
					req, _ := http.NewRequest("POST", env.URL+"/oidc/token", strings.NewReader(form.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.SetBasicAuth(id, secret)
					res, err := hc.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					var out struct {
						RefreshToken string `json:"refresh_token"`
						IDToken      string `json:"id_token"`
					}
					err = json.NewDecoder(res.Body).Decode(&out)
					res.Body.Close()
					if err != nil || res.StatusCode != 200 || out.RefreshToken == "" || out.IDToken == "" {
						b.Errorf("refresh: %d %v", res.StatusCode, err)
						return
					}
					rt = out.RefreshToken
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "refreshes/s")
			// The CPU time the process (service and clients) spent a refresh:
			// on a machine shared with other work, the figure that says what
			// a change saves, where the rate says mostly how busy the
			// machine was.
			b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/refresh")
		})
	}
}

// processCPU returns the CPU time (user and system) the process has spent.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
