package identity_test

import (
	"context"
	"maps"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/internal/servicetest"
	"github.com/equipe-dev/equipe/store/storetest"
)

// TestRequestReset_KnownAndUnknownAddressesDoTheSameWorkBeforeTheAnswer:
// until the answer, a request for an address with an identity writes the
// very rows a request for an address without one writes (a throttle count
// each and a queued request); what differs — a link, an email, an event —
// is written afterwards, by ProcessResets.
func TestRequestReset_KnownAndUnknownAddressesDoTheSameWorkBeforeTheAnswer(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			db, cfg := storetest.OpenConfig(t, engine)
			raw := storetest.Raw(t, cfg)
			st := servicetest.New(t, db, identity.Params{})
			ctx := context.Background()
			addUsers(t, db, "known", 1)
			delta := func(email, ip string) map[string]int {
				before := storetest.Counts(t, raw)
				if err := st.Identity.RequestReset(ctx, email, equipe.Origin{IP: ip}); err != nil {
					t.Fatal(err)
				}
				after := storetest.Counts(t, raw)
				d := map[string]int{}
				for k, v := range after {
					if v != before[k] {
						d[k] = v - before[k]
					}
				}
				return d
			}
			known := delta("known0@example.com", "198.51.100.1")
			unknown := delta("nobody@example.com", "198.51.100.2")
			if !maps.Equal(known, unknown) || known["reset_requests"] != 1 {
				t.Fatalf("rows written before the answer: known %v, unknown %v", known, unknown)
			}
			before := storetest.Counts(t, raw)
			if n, err := st.Identity.ProcessResets(ctx); n != 2 || err != nil {
				t.Fatalf("handled %d: %v", n, err)
			}
			after := storetest.Counts(t, raw)
			for table, want := range map[string]int{"reset_requests": -2, "outbox": 1, "tokens": 1, "audit_events": 1} {
				if got := after[table] - before[table]; got != want {
					t.Errorf("%s: %+d rows after the requests were handled, want %+d", table, got, want)
				}
			}
			emails, err := db.Emails(ctx, equipe.EmailQueued, 10)
			if err != nil || len(emails) != 1 || emails[0].To != "known0@example.com" || emails[0].Template != "password_reset" {
				t.Fatalf("queued emails: %+v %v", emails, err)
			}
		})
	}
}
