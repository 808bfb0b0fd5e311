package api_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
	"github.com/equipe-dev/equipe/work"
)

// burstEvents is the size of the webhook burst, and burstChunk how long
// each wrk run lasts while measuring checks around and during it.
const (
	burstEvents = 10_000
	burstChunk  = 2 * time.Second
)

// BenchmarkWebhookBurst carries the webhook target of docs/performance.md:
// a burst of 10,000 events, to an endpoint subscribed to all of them, is
// delivered to a receiver on 127.0.0.1 in under 30 s, and POST
// /api/v1/check, loaded as fast as it answers by wrk meanwhile, is no more
// than 10 % slower than without the burst. The service is the one of
// BenchmarkCheckHTTP (1,000 members), its webhook worker as in production.
//
// The events are written 100 to a transaction through the units of work,
// as use cases write them (each with its delivery, in its transaction). The
// check rate is read in wrk runs of 2 s: three before the burst, as many as
// fit while it is delivered (those that end before the last delivery), and
// three after; the burst's rate is compared with the mean of the runs
// before and after, measured in the same process minutes apart. It reports
// the burst's delivery time, deliveries/s, the check rates and their ratio.
// It runs once whatever -benchtime says: use -benchtime 1x.
func BenchmarkWebhookBurst(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			s := startLoadServiceWith(b, e, func(c *app.Config) {
				c.WebhooksAllowHTTPLoopback = true
				// A key of its own: PostgreSQL has no data directory to make one in.
				c.SecretKey = make([]byte, identity.KeySize)
				rand.Read(c.SecretKey)
			})
			// The receiver counts messages and, once the burst is armed
			// (target set), notes the time its last message arrived.
			var received, target, startNanos atomic.Int64
			var delivered atomic.Int64 // nanoseconds from start to the last delivery
			rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n, t := received.Add(1), target.Load(); t != 0 && n == t {
					delivered.Store(time.Now().UnixNano() - startNanos.Load())
				}
				w.WriteHeader(http.StatusNoContent)
			}))
			b.Cleanup(rc.Close)
			ctx := context.Background()
			admin, err := s.app.DB.UserByID(ctx, s.members[0])
			if err != nil {
				b.Fatal(err)
			}
			if _, _, err := s.app.Team.CreateWebhook(ctx, team.Actor{User: &admin}, &s.account,
				team.WebhookInput{URL: rc.URL + "/hooks", Types: []string{"*"}, Enabled: true}); err != nil {
				b.Fatal(err)
			}
			bodies := s.checkBodies(4096)
			s.answers(b, bodies)
			host := s.url[len("http://"):]
			script := wrkScript(host, s.key, bodies)
			runWrk(b, s.url+"/api/v1/check", script, burstChunk) // warm up
			rates := func(n int) []float64 {
				var out []float64
				for range n {
					r := runWrk(b, s.url+"/api/v1/check", script, burstChunk)
					if r.non2xx > 0 || r.socks > 0 {
						b.Fatalf("errors under load:\n%s", r.out)
					}
					out = append(out, r.rps)
				}
				return out
			}
			b.ResetTimer()
			before := rates(3)

			// The burst: written as fast as the units of work go, then
			// delivered by the worker while wrk keeps loading checks.
			base := received.Load()
			start := time.Now()
			startNanos.Store(start.UnixNano())
			target.Store(base + burstEvents)
			go func() {
				after := event.Contact{LastName: "Burst", Kinds: []string{"billing"}}
				for i := 0; i < burstEvents; i += 100 {
					err := s.app.Team.Work.Do(ctx, event.System, equipe.Origin{}, func(u *work.Unit) error {
						for range 100 {
							if err := u.Record(ctx, event.ContactCreated.In(s.account, equipe.NewID().String(), nil, &after)); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			}()
			var during []float64
			for delivered.Load() == 0 && time.Since(start) < 60*time.Second {
				runStart := time.Since(start)
				r := rates(1)
				if d := delivered.Load(); d == 0 || time.Duration(d) > runStart+burstChunk {
					during = append(during, r[0])
				}
			}
			took := time.Duration(delivered.Load())
			if took == 0 {
				b.Fatalf("the burst was not delivered within 60 s: %d of %d", received.Load()-base, burstEvents)
			}
			afterRates := rates(3)
			b.StopTimer()
			quiet := mean(append(before, afterRates...))
			b.Logf("checks/s before %v, during %v, after %v; burst delivered in %s", before, during, afterRates, took)
			b.ReportMetric(took.Seconds(), "burst-s")
			b.ReportMetric(burstEvents/took.Seconds(), "deliveries/s")
			b.ReportMetric(quiet, "quiet-checks/s")
			if len(during) > 0 {
				b.ReportMetric(mean(during), "burst-checks/s")
				b.ReportMetric(100*mean(during)/quiet, "ratio-%")
			}
		})
	}
}

func mean(xs []float64) float64 {
	var sum float64
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}
