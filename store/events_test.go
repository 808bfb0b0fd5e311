package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/internal/testenv"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

func recordEvent(ctx context.Context, tx *store.Tx, account *equipe.ID, action string) (equipe.ID, error) {
	id := equipe.NewID()
	return id, tx.RecordAudit(ctx, &equipe.AuditEvent{ID: id, AccountID: account, Action: action, At: t0})
}

// readAll reads the stream from after to its end, checking that every page
// starts right after the number it was asked to follow: numbers have no
// gaps here (nothing is deleted), so a reader that skipped an event would
// see one.
func readAll(t *testing.T, db *store.DB, after int64) ([]store.SequencedEvent, int64) {
	t.Helper()
	var out []store.SequencedEvent
	for {
		page, err := db.StreamEvents(ctx, store.StreamFilter{After: after, Limit: 7})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return out, after
		}
		for _, e := range page {
			if e.Seq != after+1 {
				t.Fatalf("after %d the stream gave %d: an event was skipped", after, e.Seq)
			}
			after = e.Seq
		}
		out = append(out, page...)
	}
}

// TestStreamEvents_ConcurrentWritersNeverMakeAReaderSkip runs writers in
// parallel, each transaction recording one to three events, while a reader
// follows the stream: every event is read once, in the order of the
// numbers, and the events of one transaction are consecutive, in the order
// they were recorded.
func TestStreamEvents_ConcurrentWritersNeverMakeAReaderSkip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		const writers, txs = 6, 25
		start, _ := db.LastEventSeq(ctx)
		var wg sync.WaitGroup
		var mu sync.Mutex
		written := map[equipe.ID][]equipe.ID{} // first event of a transaction → its events
		for w := range writers {
			wg.Go(func() {
				for i := range txs {
					var ids []equipe.ID
					err := db.Write(ctx, func(tx *store.Tx) error {
						ids = ids[:0]
						for range 1 + (w+i)%3 {
							id, err := recordEvent(ctx, tx, nil, "test.concurrent")
							if err != nil {
								return err
							}
							ids = append(ids, id)
						}
						return nil
					})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					written[ids[0]] = append([]equipe.ID(nil), ids...)
					mu.Unlock()
				}
			})
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		var seen []store.SequencedEvent
		after := start
		for reading := true; reading; {
			select {
			case <-done:
				reading = false
			default:
			}
			var page []store.SequencedEvent
			page, after = readAll(t, db, after)
			seen = append(seen, page...)
		}
		want := 0
		for _, ids := range written {
			want += len(ids)
		}
		if len(seen) != want {
			t.Fatalf("read %d events, %d were written", len(seen), want)
		}
		for i := 0; i < len(seen); {
			ids, ok := written[seen[i].Event.ID]
			if !ok {
				t.Fatalf("event %d is not the first of its transaction", seen[i].Seq)
			}
			for j, id := range ids {
				if seen[i+j].Event.ID != id {
					t.Fatalf("the events of a transaction are not consecutive in order at %d", seen[i+j].Seq)
				}
			}
			i += len(ids)
		}
		if last, err := db.LastEventSeq(ctx); err != nil || last != after {
			t.Errorf("last number %d, read up to %d (%v)", last, after, err)
		}
	})
}

// TestStreamEvents_ATransactionThatTookItsNumberCommitsBeforeTheNext holds a
// PostgreSQL transaction after its event was numbered and before it
// commits, and makes a second one (that recorded its event later) commit
// meanwhile: the second waits for the first, a reader sees neither until
// the first commits, then both in order.
func TestStreamEvents_ATransactionThatTookItsNumberCommitsBeforeTheNext(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	start, err := db.LastEventSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	db.OnNumberedForTest(func() {
		once.Do(func() { close(held); <-release })
	})
	var first, second equipe.ID
	firstDone, secondDone := make(chan error, 1), make(chan error, 1)
	go func() {
		firstDone <- db.Write(ctx, func(tx *store.Tx) error {
			var err error
			first, err = recordEvent(ctx, tx, nil, "test.first")
			return err
		})
	}()
	<-held
	go func() {
		secondDone <- db.Write(ctx, func(tx *store.Tx) error {
			var err error
			second, err = recordEvent(ctx, tx, nil, "test.second")
			return err
		})
	}()
	// The second transaction waits for the counter the first holds.
	var waiting int
	testenv.Await(t, 10*time.Second, testenv.Every(5*time.Millisecond), "the second transaction waits for the counter", func() bool {
		err := db.QueryRowForTest(ctx, `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'
			AND query LIKE '%UPDATE event_sequence%'`, &waiting)
		return err == nil && waiting == 1
	})
	if got, _ := readAll(t, db, start); len(got) != 0 {
		t.Fatalf("a reader sees %d events before the first commits", len(got))
	}
	close(release)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	if err := <-secondDone; err != nil {
		t.Fatal(err)
	}
	got, _ := readAll(t, db, start)
	if len(got) != 2 || got[0].Event.ID != first || got[1].Event.ID != second {
		t.Fatalf("the stream after both committed: %+v", got)
	}
}

// TestStreamEvents_SelectsAnAccountItsClientsAndKinds checks the filters,
// with the events of a person's own identity about a member of the accounts
// selected.
func TestStreamEvents_SelectsAnAccountItsClientsAndKinds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		firm := &equipe.Account{ID: equipe.NewID(), Name: "Firm", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0}
		client := &equipe.Account{ID: equipe.NewID(), Name: "Client", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0,
			ParentID: &firm.ID}
		other := &equipe.Account{ID: equipe.NewID(), Name: "Other", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0}
		start, _ := db.LastEventSeq(ctx)
		write(t, db, func(tx *store.Tx) error {
			for _, a := range []*equipe.Account{firm, client, other} {
				if err := tx.CreateAccount(ctx, a); err != nil {
					return err
				}
			}
			for _, a := range []*equipe.ID{&firm.ID, &client.ID, &other.ID, nil} {
				for _, action := range []string{"test.a", "test.b"} {
					if _, err := recordEvent(ctx, tx, a, action); err != nil {
						return err
					}
				}
			}
			// Events of a person's own identity: ana is a member of the
			// client, bob of the other account; cy is invited to the other
			// account and has not joined it (it hears nothing of her).
			for name, account := range map[string]equipe.ID{"ana": client.ID, "bob": other.ID, "cy": other.ID} {
				u := &equipe.User{ID: equipe.NewID(), Email: name + "@example.com", EmailKey: name + "@example.com", FirstName: name,
					LastName: "Test", Locale: "fr", CreatedAt: t0}
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
				m := &equipe.Member{AccountID: account, UserID: u.ID, Role: "guest", Status: equipe.MemberActive, CreatedAt: t0, JoinedAt: t0}
				if name == "cy" {
					m.Status, m.JoinedAt = equipe.MemberInvited, time.Time{}
				}
				if err := tx.CreateMember(ctx, m); err != nil {
					return err
				}
				actions := []string{"user.disabled", "test.own"}
				if name == "bob" {
					actions = []string{"user.disabled", "test.own", "user.enabled"}
				}
				for _, action := range actions {
					if err := tx.RecordAudit(ctx, &equipe.AuditEvent{ID: equipe.NewID(), Action: action, TargetType: "user",
						TargetID: u.ID.String(), At: t0}); err != nil {
						return err
					}
				}
			}
			return nil
		})
		count := func(f store.StreamFilter) int {
			f.After = start
			got, err := db.StreamEvents(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i < len(got); i++ {
				if got[i].Seq <= got[i-1].Seq {
					t.Errorf("%+v: event %d numbered %d after %d", f, i, got[i].Seq, got[i-1].Seq)
				}
			}
			return len(got)
		}
		for name, c := range map[string]struct {
			f    store.StreamFilter
			want int
		}{
			"all":                                  {store.StreamFilter{}, 15},
			"firm alone":                           {store.StreamFilter{Account: &firm.ID}, 2},
			"firm with clients":                    {store.StreamFilter{Account: &firm.ID, Clients: true}, 4},
			"client":                               {store.StreamFilter{Account: &client.ID, Clients: true}, 2},
			"kinds":                                {store.StreamFilter{Types: []string{"test.b"}}, 4},
			"kinds of other":                       {store.StreamFilter{Account: &other.ID, Types: []string{"test.a", "test.c"}}, 1},
			"limit":                                {store.StreamFilter{Limit: 3}, 3},
			"firm alone and its members' own":      {store.StreamFilter{Account: &firm.ID, Members: true}, 2},
			"firm with clients and their members'": {store.StreamFilter{Account: &firm.ID, Clients: true, Members: true}, 5},
			"client and its members' own":          {store.StreamFilter{Account: &client.ID, Members: true}, 3},
			"other and its members' own":           {store.StreamFilter{Account: &other.ID, Members: true}, 4},
			"other and its members' own, the first 3": {store.StreamFilter{Account: &other.ID, Members: true, Limit: 3}, 3},
			"other, its members' own, of some kinds":  {store.StreamFilter{Account: &other.ID, Members: true, Types: []string{"test.a"}}, 1},
			"other, its members' own, of theirs":      {store.StreamFilter{Account: &other.ID, Members: true, Types: []string{"user.enabled", "test.own"}}, 1},
		} {
			if got := count(c.f); got != c.want {
				t.Errorf("%s: %d events, want %d", name, got, c.want)
			}
		}
	})
}

// TestMigrate_EventsWrittenBeforeTheStreamAreNumberedInTheirOrder writes
// events before the sequence existed (version 25), out of their ID order,
// then migrates: they are numbered in the order of their IDs (the order
// they were written), and the next event recorded follows them.
func TestMigrate_EventsWrittenBeforeTheStreamAreNumberedInTheirOrder(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			db, cfg := openAt(t, engine, 25)
			raw := storetest.Raw(t, cfg)
			ids := []string{"0193a000-0000-7000-8000-000000000003", "0193a000-0000-7000-8000-000000000001",
				"0193a000-0000-7000-8000-000000000002"}
			for _, id := range ids {
				if _, err := raw.Exec(`INSERT INTO audit_events (id, action, at) VALUES ($1, 'test.old', 1)`, id); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			var newest equipe.ID
			write(t, db, func(tx *store.Tx) error {
				var err error
				newest, err = recordEvent(ctx, tx, nil, "test.new")
				return err
			})
			got, end := readAll(t, db, 0)
			if len(got) != 4 || end != 4 {
				t.Fatalf("%d events up to %d", len(got), end)
			}
			for i, want := range []string{ids[1], ids[2], ids[0], newest.String()} {
				if got[i].Event.ID.String() != want || got[i].Seq != int64(i+1) {
					t.Errorf("event %d: %s numbered %d, want %s", i, got[i].Event.ID, got[i].Seq, want)
				}
			}
		})
	}
}

// TestStreamEvents_EventsUndoneToASavepointLeaveNoGap records an event,
// then one undone to a savepoint, then another, and commits; the next
// transaction records one more. The stream gives the three kept events in
// the order they were recorded, numbered without a gap (readAll fails on
// one), then the next transaction's.
func TestStreamEvents_EventsUndoneToASavepointLeaveNoGap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		start, err := db.LastEventSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var want []equipe.ID
		write(t, db, func(tx *store.Tx) error {
			id, err := recordEvent(ctx, tx, nil, "test.kept")
			if err != nil {
				return err
			}
			want = append(want, id)
			sp, err := tx.Savepoint(ctx)
			if err != nil {
				return err
			}
			if _, err := recordEvent(ctx, tx, nil, "test.undone"); err != nil {
				return err
			}
			if err := sp.Rollback(ctx); err != nil {
				return err
			}
			id, err = recordEvent(ctx, tx, nil, "test.kept")
			want = append(want, id)
			return err
		})
		write(t, db, func(tx *store.Tx) error {
			id, err := recordEvent(ctx, tx, nil, "test.next")
			want = append(want, id)
			return err
		})
		got, last := readAll(t, db, start)
		if len(got) != len(want) {
			t.Fatalf("%d events in the stream, want %d", len(got), len(want))
		}
		for i, e := range got {
			if e.Event.ID != want[i] {
				t.Errorf("event %d of the stream is %s (%s), want %s", i, e.Event.ID, e.Event.Action, want[i])
			}
		}
		if l, err := db.LastEventSeq(ctx); err != nil || l != last {
			t.Errorf("last number %d (%v), want %d", l, err, last)
		}
	})
}
