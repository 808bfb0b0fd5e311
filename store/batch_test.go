package store_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/internal/testenv"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// TestRunBatch_ConcurrentBatchesCommitTogetherAndAFailingOneFailsAlone:
// durable batches that wait while a group runs are committed in one
// transaction (group commit); a batch whose statement fails in that group
// (a challenge used twice, an ID taken) takes no effect and its caller
// gets its own error, while the others commit, their events numbered in
// the change stream.
func TestRunBatch_ConcurrentBatchesCommitTogetherAndAFailingOneFailsAlone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		u := newUser("ada@example.test")
		write(t, db, func(tx *store.Tx) error { return tx.CreateUser(ctx, u) })
		p := store.Progressive{Free: 100, Delays: []time.Duration{time.Minute}}
		// A transaction holds what the first batch writes (on SQLite the
		// writer, on PostgreSQL the throttle's row), so that the batches
		// run meanwhile wait for the next group.
		hold, held := make(chan struct{}), make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			write(t, db, func(tx *store.Tx) error {
				if _, err := tx.Attempt(ctx, "hold", t0, p); err != nil {
					return err
				}
				close(held)
				<-hold
				return nil
			})
		})
		<-held
		groups0, batches0 := db.BatchGroups()
		commits0 := db.Commits()
		after, err := db.LastEventSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		first := make(chan error, 1)
		wg.Go(func() {
			b := db.NewBatch()
			if _, err := b.Attempt(ctx, "hold", t0, p); err != nil {
				first <- err
				return
			}
			first <- db.RunBatch(ctx, b)
		})
		waitGroup(t, db, 0)
		// Eight batches queue behind it: five create a challenge and record
		// an event, one uses a challenge expired, one records an event
		// under an ID taken, one uses a challenge another of them uses
		// first.
		type outcome struct {
			challenge store.LoginChallenge
			event     equipe.ID
			err       error
		}
		kinds := []string{"ok", "missing", "ok", "taken", "ok", "ok", "ok", "twice"}
		out := make([]outcome, len(kinds))
		for i, kind := range kinds {
			c := store.LoginChallenge{ID: equipe.NewID(), UserID: u.ID,
				CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
			out[i].challenge, out[i].event = c, equipe.NewID()
			b := db.NewBatch()
			switch kind {
			case "missing":
				b.UseLoginChallenge(ctx, expiredChallenge(u.ID), "totp", t0)
			case "taken":
				out[i].event = out[0].event
			case "twice":
				b.UseLoginChallenge(ctx, &out[0].challenge, "totp", t0)
			}
			if kind != "missing" {
				if err := b.CreateLoginChallenge(ctx, &c); err != nil {
					t.Fatal(err)
				}
			}
			if kind == "ok" && i == 0 {
				b.UseLoginChallenge(ctx, &c, "totp", t0)
			}
			if err := b.RecordAudit(ctx, &equipe.AuditEvent{ID: out[i].event, ActorType: "user", ActorID: &u.ID,
				Action: "user.second_step_required", TargetType: "user", TargetID: u.ID.String(), At: t0}); err != nil {
				t.Fatal(err)
			}
			wg.Go(func() { out[i].err = db.RunBatch(ctx, b) })
			waitGroup(t, db, i+1)
		}
		close(hold)
		wg.Wait()
		if err := <-first; err != nil {
			t.Fatalf("the first batch: %v", err)
		}
		var want []equipe.ID
		for i, kind := range kinds {
			o := out[i]
			_, err := db.LoginChallenge(ctx, o.challenge.ID)
			switch kind {
			case "ok":
				if o.err != nil || err != nil {
					t.Errorf("batch %d: %v; its challenge: %v", i, o.err, err)
				}
				want = append(want, o.event)
			case "missing", "twice":
				if equipe.ErrorCode(o.err) != equipe.ENOTFOUND || equipe.ErrorCode(err) != equipe.ENOTFOUND {
					t.Errorf("batch %d (%s): %v, want ENOTFOUND; its challenge: %v", i, kind, o.err, err)
				}
			case "taken":
				if equipe.ErrorCode(o.err) != equipe.ECONFLICT || equipe.ErrorCode(err) != equipe.ENOTFOUND {
					t.Errorf("batch %d (taken ID): %v, want ECONFLICT; its challenge: %v", i, o.err, err)
				}
			}
		}
		// The challenge that "twice" used was used by batch 0, once.
		if c, err := db.LoginChallenge(ctx, out[0].challenge.ID); err != nil || c.UsedAt.IsZero() {
			t.Errorf("batch 0's challenge: %+v %v", c, err)
		}
		if got := streamed(t, db, after); !slices.Equal(got, want) {
			t.Errorf("events streamed %v, want those of the batches that committed, in their order: %v", got, want)
		}
		groups, batches := db.BatchGroups()
		if groups-groups0 != 2 || batches-batches0 != 1+5 {
			t.Errorf("%d groups of %d batches, want 2 groups (the first batch, then the five that committed)", groups-groups0, batches-batches0)
		}
		if n := db.Commits() - commits0; n != 3 {
			t.Errorf("%d commits, want 3 (the holding transaction and the two groups)", n)
		}
	})
}

// waitGroup waits until a group runs and n batches wait for the next.
func waitGroup(t *testing.T, db *store.DB, n int) {
	t.Helper()
	var moved testenv.Signal
	db.OnBatchGroupForTest(moved.Notify)
	defer db.OnBatchGroupForTest(nil)
	testenv.Await(t, 30*time.Second, moved.Wait, fmt.Sprintf("a group running and %d batches waiting", n), func() bool {
		queued, running := db.BatchGroupForTest()
		return running && queued == n
	})
}

// TestRunBatch_AReadThatFindsNothingUndoesTheWholeBatch: a batch's read
// that finds no row fails the batch, and none of its writes take effect, on
// both engines, durable or relaxed (on PostgreSQL the statements are sent
// together, so the server itself must fail the read).
func TestRunBatch_AReadThatFindsNothingUndoesTheWholeBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		u := newUser("ada@example.test")
		write(t, db, func(tx *store.Tx) error { return tx.CreateUser(ctx, u) })
		for _, relaxed := range []bool{false, true} {
			c := store.LoginChallenge{ID: equipe.NewID(), UserID: u.ID,
				CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
			b := db.NewBatch()
			if relaxed {
				b.Relaxed()
			}
			if err := b.CreateLoginChallenge(ctx, &c); err != nil {
				t.Fatal(err)
			}
			var email string
			b.ReadForTest(`SELECT email FROM users WHERE id = '`+equipe.NewID().String()+`'`, &email)
			err := db.RunBatch(ctx, b)
			if equipe.ErrorCode(err) != equipe.ENOTFOUND {
				t.Errorf("relaxed %v: RunBatch = %v, want not found", relaxed, err)
			}
			if _, err := db.LoginChallenge(ctx, c.ID); equipe.ErrorCode(err) != equipe.ENOTFOUND {
				t.Errorf("relaxed %v: the batch's challenge was written: %v", relaxed, err)
			}
			// The same read of a row that exists reads it.
			b = db.NewBatch()
			if relaxed {
				b.Relaxed()
			}
			b.ReadForTest(`SELECT email FROM users WHERE id = '`+u.ID.String()+`'`, &email)
			if err := b.CreateLoginChallenge(ctx, &c); err != nil {
				t.Fatal(err)
			}
			if err := db.RunBatch(ctx, b); err != nil || email != u.Email {
				t.Errorf("relaxed %v: RunBatch = %v, read %q, want %q", relaxed, err, email, u.Email)
			}
			if _, err := db.LoginChallenge(ctx, c.ID); err != nil {
				t.Errorf("relaxed %v: the challenge: %v", relaxed, err)
			}
		}
	})
}

// TestRunBatch_ABatchsOneEventWrittenLastIsNumberedAsItIsWritten: on
// PostgreSQL, a batch whose one event is its last write numbers it in the
// statement that writes it, rather than in one more after it; a batch
// whose event another write follows, or with several events, numbers them
// after its writes. Either way its events reach the change stream after
// those before, in the order they were recorded, and the counter moves
// past them.
func TestRunBatch_ABatchsOneEventWrittenLastIsNumberedAsItIsWritten(t *testing.T) {
	tests := []struct {
		name   string
		events int
		then   bool // a write follows the events
		// numbering is how many statements RunBatch adds on PostgreSQL
		// (besides the one that wakes the change stream); on SQLite, two
		// whatever the batch.
		numbering int
	}{
		{name: "one event, written last", events: 1},
		{name: "one event, then a write", events: 1, then: true, numbering: 1},
		{name: "two events", events: 2, numbering: 1},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		u := newUser("ada@example.test")
		write(t, db, func(tx *store.Tx) error { return tx.CreateUser(ctx, u) })
		p := store.Progressive{Free: 100, Delays: []time.Duration{time.Minute}}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				after, err := db.LastEventSeq(ctx)
				if err != nil {
					t.Fatal(err)
				}
				b := db.NewBatch()
				if _, err := b.Attempt(ctx, fmt.Sprintf("before-%d", i), t0, p); err != nil {
					t.Fatal(err)
				}
				var want []equipe.ID
				for range tt.events {
					e := &equipe.AuditEvent{ID: equipe.NewID(), ActorType: "user", ActorID: &u.ID,
						Action: "user.logged_in", TargetType: "user", TargetID: u.ID.String(), At: t0}
					if err := b.RecordAudit(ctx, e); err != nil {
						t.Fatal(err)
					}
					want = append(want, e.ID)
				}
				if tt.then {
					if _, err := b.Attempt(ctx, fmt.Sprintf("after-%d", i), t0, p); err != nil {
						t.Fatal(err)
					}
				}
				queued := b.StatementsForTest()
				if err := db.RunBatch(ctx, b); err != nil {
					t.Fatal(err)
				}
				if got := streamed(t, db, after); !slices.Equal(got, want) {
					t.Errorf("events streamed %v, want %v", got, want)
				}
				if last, err := db.LastEventSeq(ctx); err != nil || last != after+int64(tt.events) {
					t.Errorf("the counter moved from %d to %d (%v), want %d", after, last, err, after+int64(tt.events))
				}
				added, wantAdded := b.StatementsForTest()-queued, 2
				if db.Engine() == store.Postgres {
					added-- // the change stream woken
					wantAdded = tt.numbering
				}
				if added != wantAdded {
					t.Errorf("the batch's events took %d statements more to number, want %d", added, wantAdded)
				}
			})
		}
	})
}
