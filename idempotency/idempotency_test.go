package idempotency_test

import (
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/idempotency"
	"github.com/equipe-dev/equipe/internal/servicetest"
	"github.com/equipe-dev/equipe/store/storetest"
)

func TestService_ClaimAnswerLeaseAndPrune(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			db := storetest.Open(t, e)
			clock := servicetest.NewClock(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
			s := &idempotency.Service{DB: db, Now: clock.Now}
			ctx := t.Context()
			req := idempotency.Request{Scope: "user:1", Key: "k", Fingerprint: idempotency.Fingerprint("POST", "/a", []byte(`{"x":1}`))}

			claim, ans, err := s.Begin(ctx, req)
			if err != nil || claim == nil || ans != nil {
				t.Fatalf("first: %v %v %v", claim, ans, err)
			}
			// While it runs: in progress, for the same request; reused for another.
			if _, _, err := s.Begin(ctx, req); equipe.AsError(err).Key != "idempotency.in_progress" || equipe.ErrorCode(err) != equipe.ECONFLICT {
				t.Fatalf("while running: %v", err)
			}
			other := req
			other.Fingerprint = idempotency.Fingerprint("POST", "/a", []byte(`{"x":2}`))
			if _, _, err := s.Begin(ctx, other); equipe.AsError(err).Key != "idempotency.key_reused" || equipe.ErrorCode(err) != equipe.EINVALID {
				t.Fatalf("another body: %v", err)
			}
			// Another scope's same key is another key.
			if c, _, err := s.Begin(ctx, idempotency.Request{Scope: "key:2", Key: "k", Fingerprint: other.Fingerprint}); err != nil || c == nil {
				t.Fatalf("another scope: %v %v", c, err)
			}

			want := idempotency.Answer{Status: 201, Header: map[string]string{"Location": "/x"}, Body: []byte(`{"id":"x"}`)}
			if err := s.Finish(ctx, claim, want); err != nil {
				t.Fatal(err)
			}
			c, got, err := s.Begin(ctx, req)
			if err != nil || c != nil || got == nil || got.Status != 201 || got.Header["Location"] != "/x" || string(got.Body) != `{"id":"x"}` {
				t.Fatalf("replay: %v %+v %v", c, got, err)
			}

			// A released key runs again.
			req2 := idempotency.Request{Scope: "user:1", Key: "k2", Fingerprint: req.Fingerprint}
			c2, _, _ := s.Begin(ctx, req2)
			if err := s.Release(ctx, c2); err != nil {
				t.Fatal(err)
			}
			if c, _, err := s.Begin(ctx, req2); err != nil || c == nil {
				t.Fatalf("after release: %v %v", c, err)
			}
			// A claim left by a stopped process runs out after the lease:
			// the same request takes it over, and the late first answer
			// no longer lands.
			clock.Set(clock.Now().Add(idempotency.Lease + time.Second))
			stale, _, _ := s.Begin(ctx, req2)
			if stale == nil {
				t.Fatal("a claim past its lease was not taken over")
			}
			if err := s.Finish(ctx, c2, idempotency.Answer{Status: 500}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.Begin(ctx, req2); equipe.AsError(err).Key != "idempotency.in_progress" {
				t.Fatalf("the old claim's answer replaced the new claim: %v", err)
			}

			// Kept 24 hours: then pruned, and the key is free again (the
			// claim taken over a lease later is a lease younger).
			clock.Set(clock.Now().Add(idempotency.TTL - time.Second))
			n, err := s.Prune(ctx)
			if err != nil || n != 2 {
				t.Fatalf("prune: %d %v, want 2", n, err)
			}
			if c, _, err := s.Begin(ctx, other); err != nil || c == nil {
				t.Fatalf("after 24 hours: %v %v", c, err)
			}
		})
	}
}
