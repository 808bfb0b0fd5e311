package store_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/internal/testenv"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// relaxedChallenge runs, in one relaxed batch, a login challenge for the
// user and its event, as a login's password step does; fail adds a
// statement that changes no row, which undoes the batch. It returns the
// event's ID and the setting that says whether the commit waits for the
// disk, read inside the batch's transaction.
func relaxedChallenge(t *testing.T, db *store.DB, user, challenge equipe.ID, fail bool) (equipe.ID, string, error) {
	t.Helper()
	b := db.NewBatch()
	b.Relaxed()
	c := store.LoginChallenge{ID: challenge, UserID: user, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := b.CreateLoginChallenge(ctx, &c); err != nil {
		t.Fatal(err)
	}
	id := equipe.NewID()
	if err := b.RecordAudit(ctx, &equipe.AuditEvent{ID: id, ActorType: "user", ActorID: &user, Action: "user.second_step_required",
		TargetType: "user", TargetID: user.String(), At: t0}); err != nil {
		t.Fatal(err)
	}
	var sync string
	if db.Engine() == store.Postgres {
		b.ReadForTest("SHOW synchronous_commit", &sync)
	} else {
		b.ReadForTest("PRAGMA synchronous", &sync)
	}
	if fail {
		b.UseLoginChallenge(ctx, expiredChallenge(user), "totp", t0)
	}
	return id, sync, db.RunBatch(ctx, b)
}

// streamed returns the IDs of the events the change stream serves after
// the cursor.
func streamed(t *testing.T, db *store.DB, after int64) []equipe.ID {
	t.Helper()
	evs, err := db.StreamEvents(ctx, store.StreamFilter{After: after, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	var ids []equipe.ID
	for _, e := range evs {
		ids = append(ids, e.Event.ID)
	}
	return ids
}

// inLog reports whether the audit log holds the event.
func inLog(t *testing.T, db *store.DB, user, id equipe.ID) bool {
	t.Helper()
	evs, err := db.AuditEvents(ctx, store.AuditFilter{ActorID: &user})
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(evs, func(e equipe.AuditEvent) bool { return e.ID == id })
}

// TestRelaxedBatch_AnEventCommitsWithItsRowsWithoutWaitingAndIsNumberedByTheNextDurableCommit:
// a relaxed batch that records an event (a login's challenge and
// user.second_step_required) commits without waiting for the disk
// (synchronous_commit off, synchronous NORMAL), the event and the
// challenge together or neither; the event is in the audit log at once but
// out of the change stream, numbered by the next commit that waits for the
// disk and records events (after that commit's own), or by
// NumberPendingEvents, or, with nothing else, within a second by a commit
// of its own.
func TestRelaxedBatch_AnEventCommitsWithItsRowsWithoutWaitingAndIsNumberedByTheNextDurableCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		u := newUser("ada@example.test")
		write(t, db, func(tx *store.Tx) error { return tx.CreateUser(ctx, u) })
		start, err := db.LastEventSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		notWaiting := map[store.Engine]string{store.Postgres: "off", store.SQLite: "1"}[db.Engine()]

		// A batch that fails writes neither the challenge nor the event.
		commits := db.Commits()
		failedChallenge := equipe.NewID()
		failed, _, err := relaxedChallenge(t, db, u.ID, failedChallenge, true)
		if equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("a relaxed batch with a statement that changed nothing: %v", err)
		}
		if _, err := db.LoginChallenge(ctx, failedChallenge); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Errorf("the failed batch's challenge: %v", err)
		}
		if inLog(t, db, u.ID, failed) {
			t.Error("the failed batch's event is in the audit log")
		}

		commits, relaxed := db.Commits(), db.RelaxedCommits()
		firstChallenge := equipe.NewID()
		first, sync, err := relaxedChallenge(t, db, u.ID, firstChallenge, false)
		if err != nil {
			t.Fatal(err)
		}
		if sync != notWaiting {
			t.Errorf("the relaxed batch ran with %q, want %q: its commit waits for the disk", sync, notWaiting)
		}
		if db.Commits()-commits != 1 || db.RelaxedCommits()-relaxed != 1 {
			t.Errorf("commits %d, relaxed %d: want 1 and 1", db.Commits()-commits, db.RelaxedCommits()-relaxed)
		}
		if _, err := db.LoginChallenge(ctx, firstChallenge); err != nil {
			t.Errorf("the challenge: %v", err)
		}
		if !inLog(t, db, u.ID, first) {
			t.Fatal("the relaxed batch's event is not in the audit log")
		}
		if got := streamed(t, db, start); len(got) != 0 {
			t.Fatalf("the stream serves %v before a commit that waits for the disk", got)
		}
		if last, _ := db.LastEventSeq(ctx); last != start {
			t.Errorf("the counter moved from %d to %d for an unnumbered event", start, last)
		}

		// The next commit that records an event numbers its own, then the
		// one left waiting.
		var own equipe.ID
		write(t, db, func(tx *store.Tx) error {
			var err error
			own, err = recordEvent(ctx, tx, nil, "user.logged_in")
			return err
		})
		if got := streamed(t, db, start); !slices.Equal(got, []equipe.ID{own, first}) {
			t.Fatalf("after a durable commit the stream serves %v, want %v", got, []equipe.ID{own, first})
		}
		if last, _ := db.LastEventSeq(ctx); last != start+2 {
			t.Errorf("the counter is at %d, want %d", last, start+2)
		}
		if n, _ := db.PendingEvents(ctx); n != 0 {
			t.Errorf("%d events still wait", n)
		}

		// NumberPendingEvents does it alone; with nothing waiting it
		// commits nothing.
		second, _, err := relaxedChallenge(t, db, u.ID, equipe.NewID(), false)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.NumberPendingEvents(ctx); err != nil {
			t.Fatal(err)
		}
		if got := streamed(t, db, start+2); !slices.Equal(got, []equipe.ID{second}) {
			t.Fatalf("after NumberPendingEvents the stream serves %v", got)
		}
		commits = db.Commits()
		if err := db.NumberPendingEvents(ctx); err != nil || db.Commits() != commits {
			t.Errorf("with nothing waiting NumberPendingEvents committed %d times (%v)", db.Commits()-commits, err)
		}

		// With nothing else, the event is numbered by a commit of its own,
		// and the stream's readers hear of it.
		var woken testenv.Signal
		db.OnChange(func(keys []string) {
			if slices.Contains(keys, store.EventsKey()) {
				woken.Notify()
			}
		})
		third, _, err := relaxedChallenge(t, db, u.ID, equipe.NewID(), false)
		if err != nil {
			t.Fatal(err)
		}
		testenv.Await(t, 30*time.Second, woken.Wait, "the waiting event numbered", func() bool {
			return slices.Equal(streamed(t, db, start+3), []equipe.ID{third})
		})
	})
}

// TestRelaxedBatch_TheSettingThatWaitsLessEndsWithTheBatch: with the
// settings the service runs with, a relaxed batch runs with the setting
// that does not wait for the disk (PostgreSQL: synchronous_commit off;
// SQLite: synchronous NORMAL), and the setting ends with it: the batches
// after it, on whichever connection, wait for the disk. A relaxed batch
// whose statement fails takes no effect, and leaves the setting as well.
func TestRelaxedBatch_TheSettingThatWaitsLessEndsWithTheBatch(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			db := storetest.OpenDurable(t, e)
			setting, relaxed, durable := "SHOW synchronous_commit", "off", "on"
			if e == store.SQLite {
				setting, relaxed, durable = "PRAGMA synchronous", "1", "2"
			}
			p := store.Progressive{Free: 100, Delays: []time.Duration{time.Minute}}
			reads := 0
			run := func(key string, relax, fail bool) (string, error) {
				t.Helper()
				b := db.NewBatch()
				if relax {
					b.Relaxed()
				}
				if _, err := b.Attempt(ctx, key, t0, p); err != nil {
					t.Fatal(err)
				}
				// Each read its own statement: SQLite answers a pragma with
				// the value it had when the statement was prepared, and the
				// writer keeps its statements prepared.
				reads++
				var got string
				b.ReadForTest(fmt.Sprintf("%s /* %d */", setting, reads), &got)
				if fail {
					b.UseLoginChallenge(ctx, expiredChallenge(equipe.NewID()), "totp", t0)
				}
				return got, db.RunBatch(ctx, b)
			}
			counted := func(key string) bool {
				t.Helper()
				var n int
				if err := db.QueryRowForTest(ctx, `SELECT COUNT(*) FROM throttles WHERE key = '`+key+`'`, &n); err != nil {
					t.Fatal(err)
				}
				return n == 1
			}
			if got, err := run("before", false, false); err != nil || got != durable {
				t.Fatalf("a batch before: %q (%v), want %q", got, err, durable)
			}
			for i, fail := range []bool{false, true} {
				key := fmt.Sprintf("relaxed-%d", i)
				got, err := run(key, true, fail)
				switch {
				case fail && equipe.ErrorCode(err) != equipe.ENOTFOUND:
					t.Fatalf("a relaxed batch with a statement that changed nothing: %v", err)
				case fail && counted(key):
					t.Error("the failed relaxed batch's attempt was counted")
				case !fail && (err != nil || got != relaxed || !counted(key)):
					t.Fatalf("a relaxed batch ran with %q (%v), want %q; its attempt counted: %v", got, err, relaxed, counted(key))
				}
				for j := range 16 {
					if got, err := run(fmt.Sprintf("after-%d-%d", i, j), false, false); err != nil || got != durable {
						t.Fatalf("batch %d after relaxed batch %d ran with %q (%v), want %q", j, i, got, err, durable)
					}
				}
			}
		})
	}
}
