package webhook_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/internal/testenv"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
	"github.com/equipe-dev/equipe/work"
)

// BenchmarkDeliver measures what one delivery costs the service, from its
// claim to its record (the event's write excluded): b.N events to an
// endpoint on 127.0.0.1 that answers 204 at once, sent by the worker a
// batch at a time, as fast as it goes (no Rate). Besides the time, it
// reports the process's CPU time per delivery (cpu-µs/delivery: the
// worker, the database on SQLite, and the receiver's side of each request;
// on PostgreSQL the server's work is left out), which other programs on
// the machine do not stretch as they stretch the time. Run it with
// -cpuprofile to see where the time goes.
func BenchmarkDeliver(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			db, cfg := storetest.OpenConfig(b, e)
			r := newRig(b, db, cfg)
			rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
			b.Cleanup(rc.Close)
			if _, _, err := r.st.Team.CreateWebhook(ctx, r.admin, &r.account, team.WebhookInput{URL: rc.URL, Types: []string{"*"}, Enabled: true}); err != nil {
				b.Fatal(err)
			}
			after := event.Contact{LastName: "Bench", Kinds: []string{"billing"}}
			for i := 0; i < b.N; i += 100 {
				err := r.st.Work.Do(ctx, event.System, equipe.Origin{}, func(u *work.Unit) error {
					for range min(100, b.N-i) {
						if err := u.Record(ctx, event.ContactCreated.In(r.account, equipe.NewID().String(), nil, &after)); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			r.worker.Rate = 1 << 30 // its cost, not its pace
			b.ResetTimer()
			cpu := testenv.ProcessCPU()
			sent := 0
			for sent < b.N {
				n, err := r.worker.RunOnce(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if n == 0 {
					break
				}
				sent += n
			}
			cpu = testenv.ProcessCPU() - cpu
			b.StopTimer()
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/delivery")
			if sent < b.N {
				b.Fatalf("sent %d of %d", sent, b.N)
			}
		})
	}
}
