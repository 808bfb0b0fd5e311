package identity_test

import (
	"context"
	"maps"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/internal/servicetest"
	"github.com/equipe-dev/equipe/store"
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

// TestLogIn_KnownAndUnknownAddressesDoTheSameWorkBeforeAFailureIsAnswered:
// until a wrong password is answered, a login to an address with an
// identity commits what a login to an address without one commits (a
// throttle count for each of its two keys, in one commit); the failure's
// event, which only the first has, is written after the answer.
func TestLogIn_KnownAndUnknownAddressesDoTheSameWorkBeforeAFailureIsAnswered(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			db, cfg := storetest.OpenConfig(t, engine)
			raw := storetest.Raw(t, cfg)
			st := servicetest.New(t, db, testParams)
			ctx := context.Background()
			signUp(t, st.Identity, "ada@example.com")
			db.WaitDetached()
			hold := make(chan struct{})
			db.HoldDetachedForTest(hold)
			delta := func(email, ip string) map[string]int {
				t.Helper()
				before, commits := storetest.Counts(t, raw), db.Commits()
				_, _, err := st.Identity.LogIn(ctx, email, "not the right sentence", equipe.Origin{IP: ip})
				if servicetest.Key(err) != "login.failed" {
					t.Fatalf("login to %s: %v, want login.failed", email, err)
				}
				d := map[string]int{"commits": int(db.Commits() - commits)}
				for k, v := range storetest.Counts(t, raw) {
					if v != before[k] {
						d[k] = v - before[k]
					}
				}
				return d
			}
			known := delta("ada@example.com", "198.51.100.1")
			unknown := delta("nobody@example.com", "198.51.100.2")
			if !maps.Equal(known, unknown) || known["throttles"] != 2 || known["commits"] != 1 {
				t.Fatalf("written before the answer: known %v, unknown %v", known, unknown)
			}
			before := storetest.Counts(t, raw)
			close(hold)
			db.HoldDetachedForTest(nil)
			db.WaitDetached()
			if got := storetest.Counts(t, raw)["audit_events"] - before["audit_events"]; got != 1 {
				t.Fatalf("%d events written after the answers, want the known address's failure", got)
			}
			events, err := db.AuditEvents(ctx, store.AuditFilter{Action: string(event.UserLoginFailed.Type)})
			if err != nil || len(events) != 1 {
				t.Fatalf("failures recorded: %v %v", events, err)
			}
		})
	}
}
