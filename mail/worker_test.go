package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/internal/testenv"
	"github.com/equipe-dev/equipe/mail/mailtest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

func TestWorker_DeliversAnEmailAndEmptiesItsBodies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		srv := mailtest.StartSMTP(t)
		clk := newClock()
		e := compose(t, testTemplates(t, clk.Now), "ada@example.org", "tok")
		enqueue(t, db, clk.Now(), e)

		w := &Worker{DB: db, Sender: smtpSender(t, srv), Now: clk.Now}
		sent, err := w.RunOnce(ctx)
		if err != nil || sent != 1 {
			t.Fatalf("RunOnce = %d, %v; want 1, nil", sent, err)
		}
		m := srv.WaitFor(t, 1, 5*time.Second)[0]
		if m.MessageID != e.MessageID || !strings.Contains(m.Text, "/password-reset/tok") {
			t.Errorf("received Message-ID %q, want %q", m.MessageID, e.MessageID)
		}
		got := emailByID(t, db, e.ID)
		if got.Status != equipe.EmailSent || got.Attempts != 1 || !got.SentAt.Equal(clk.Now()) {
			t.Errorf("status %s, attempts %d, sent at %v", got.Status, got.Attempts, got.SentAt)
		}
		if got.Text != "" || got.HTML != "" {
			t.Error("a sent email keeps its bodies, one-time link included")
		}
		if s, f, a := w.Stats(); s != 1 || f != 0 || a != 0 {
			t.Errorf("Stats() = %d, %d, %d", s, f, a)
		}
		if sent, err := w.RunOnce(ctx); sent != 0 || err != nil {
			t.Errorf("second round = %d, %v; want nothing to do", sent, err)
		}
	})
}

func TestWorker_SMTPDownKeepsTheEmailQueuedUntilTheServerIsBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		srv := mailtest.StartSMTP(t)
		clk := newClock()
		e := compose(t, testTemplates(t, clk.Now), "ada@example.org", "tok")
		srv.Stop()
		enqueue(t, db, clk.Now(), e)

		w := &Worker{DB: db, Sender: smtpSender(t, srv), Now: clk.Now, BaseDelay: time.Minute}
		if sent, err := w.RunOnce(ctx); sent != 0 || err != nil {
			t.Fatalf("RunOnce = %d, %v; want 0, nil", sent, err)
		}
		got := emailByID(t, db, e.ID)
		if got.Status != equipe.EmailQueued || got.Attempts != 1 || !strings.Contains(got.LastError, "connection refused") {
			t.Errorf("status %s, attempts %d, error %q", got.Status, got.Attempts, got.LastError)
		}
		if wait := got.NextAttemptAt.Sub(clk.Now()); wait < 54*time.Second || wait > 66*time.Second {
			t.Errorf("next attempt in %v, want about a minute", wait)
		}
		if got.Text == "" || got.HTML == "" {
			t.Error("a queued email lost its bodies")
		}
		// Not due yet: nothing is tried.
		srv.Start()
		if sent, _ := w.RunOnce(ctx); sent != 0 {
			t.Errorf("an email was sent before its retry time")
		}
		clk.Add(2 * time.Minute)
		if sent, err := w.RunOnce(ctx); sent != 1 || err != nil {
			t.Fatalf("RunOnce after the outage = %d, %v", sent, err)
		}
		if ms := srv.WaitFor(t, 1, 5*time.Second); len(ms) != 1 || ms[0].MessageID != e.MessageID {
			t.Errorf("received %d messages", len(ms))
		}
		got = emailByID(t, db, e.ID)
		if got.Status != equipe.EmailSent || got.Attempts != 2 || got.LastError != "" {
			t.Errorf("status %s, attempts %d, error %q", got.Status, got.Attempts, got.LastError)
		}
		if s, f, a := w.Stats(); s != 1 || f != 1 || a != 0 {
			t.Errorf("Stats() = %d, %d, %d", s, f, a)
		}
	})
}

func TestWorker_RunRetriesInRealTimeUntilTheServerIsBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := mailtest.StartSMTP(t)
		srv.Stop()
		e := compose(t, testTemplates(t, nil), "ada@example.org", "tok")
		var rounds testenv.Signal
		w := &Worker{DB: db, Sender: smtpSender(t, srv), BaseDelay: 20 * time.Millisecond,
			MaxDelay: 50 * time.Millisecond, Poll: 10 * time.Millisecond, OnRound: rounds.Notify}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- w.Run(ctx) }()

		enqueue(t, db, time.Now(), e)
		w.Wake()
		testenv.Await(t, 5*time.Second, rounds.Wait, "two failed attempts", func() bool {
			_, failed, _ := w.Stats()
			return failed >= 2
		})
		srv.Start()
		srv.WaitFor(t, 1, 5*time.Second)
		testenv.Await(t, 5*time.Second, rounds.Wait, "the email recorded sent", func() bool {
			return emailByID(t, db, e.ID).Status == equipe.EmailSent
		})
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
		if n := len(srv.Messages()); n != 1 {
			t.Errorf("%d messages, want 1", n)
		}
	})
}

func TestWorker_ClaimOfADeadWorkerLapsesAndTheEmailIsDelivered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		srv := mailtest.StartSMTP(t)
		clk := newClock()
		e := compose(t, testTemplates(t, clk.Now), "ada@example.org", "tok")
		enqueue(t, db, clk.Now(), e)

		// A worker claims the email, then its process dies before sending.
		claimed, err := db.ClaimEmails(ctx, clk.Now(), time.Minute, 10, "dead-worker")
		if err != nil || len(claimed) != 1 {
			t.Fatalf("ClaimEmails = %d, %v", len(claimed), err)
		}

		w := &Worker{DB: db, Sender: smtpSender(t, srv), Now: clk.Now, Lease: time.Minute}
		if sent, _ := w.RunOnce(ctx); sent != 0 {
			t.Fatal("an email held by another worker's claim was sent")
		}
		clk.Add(time.Minute + time.Second)
		if sent, err := w.RunOnce(ctx); sent != 1 || err != nil {
			t.Fatalf("RunOnce after the lease = %d, %v", sent, err)
		}
		ms := srv.WaitFor(t, 1, 5*time.Second)
		if len(ms) != 1 || ms[0].MessageID != e.MessageID {
			t.Errorf("received %d messages, Message-ID %q, want %q", len(ms), ms[0].MessageID, e.MessageID)
		}
		if got := emailByID(t, db, e.ID); got.Status != equipe.EmailSent || got.Attempts != 2 {
			t.Errorf("status %s, attempts %d", got.Status, got.Attempts)
		}
	})
}

func TestWorker_EmailSentButNotRecordedIsSentAgainWithTheSameMessageID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		srv := mailtest.StartSMTP(t)
		sender := smtpSender(t, srv)
		clk := newClock()
		e := compose(t, testTemplates(t, clk.Now), "ada@example.org", "tok-kept")
		enqueue(t, db, clk.Now(), e)

		// The server accepts the email, then the process dies before
		// recording it.
		claimed, err := db.ClaimEmails(ctx, clk.Now(), time.Minute, 10, "dead-worker")
		if err != nil || len(claimed) != 1 {
			t.Fatalf("ClaimEmails = %d, %v", len(claimed), err)
		}
		if err := sender.Send(ctx, claimed[0]); err != nil {
			t.Fatal(err)
		}

		clk.Add(2 * time.Minute)
		w := &Worker{DB: db, Sender: sender, Now: clk.Now}
		if sent, err := w.RunOnce(ctx); sent != 1 || err != nil {
			t.Fatalf("RunOnce = %d, %v", sent, err)
		}
		ms := srv.WaitFor(t, 2, 5*time.Second)
		if ms[0].MessageID != e.MessageID || ms[1].MessageID != e.MessageID {
			t.Errorf("Message-IDs %q and %q, want %q twice", ms[0].MessageID, ms[1].MessageID, e.MessageID)
		}
		if !strings.Contains(ms[1].Text, "/password-reset/tok-kept") {
			t.Error("the second copy does not carry the original link")
		}
	})
}

func TestWorker_ManyWorkersDeliverEachEmailExactlyOnce(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			db, cfg := storetest.OpenConfig(t, engine)
			handles := []*store.DB{db, db, db, db}
			if engine == store.Postgres {
				// As if from four processes: one connection pool each.
				for i := 1; i < len(handles); i++ {
					h, err := store.Open(context.Background(), cfg)
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { h.Close() })
					handles[i] = h
				}
			}
			srv := mailtest.StartSMTP(t)
			sender := smtpSender(t, srv)
			tm := testTemplates(t, nil)
			const n = 200
			want := map[string]bool{}
			var emails []equipe.Email
			for i := range n {
				e := compose(t, tm, fmt.Sprintf("user%d@example.org", i), fmt.Sprint("tok", i))
				want[e.MessageID] = true
				emails = append(emails, e)
			}
			enqueue(t, db, time.Now(), emails...)

			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			workers := make([]*Worker, len(handles))
			var rounds testenv.Signal
			for i, h := range handles {
				workers[i] = &Worker{DB: h, Sender: sender, Poll: 10 * time.Millisecond, Lease: time.Minute,
					OnRound: rounds.Notify}
				wg.Go(func() { workers[i].Run(ctx) })
			}
			srv.WaitFor(t, n, 15*time.Second)
			testenv.Await(t, 5*time.Second, rounds.Wait, "every email recorded sent", func() bool {
				counts, err := db.EmailCounts(context.Background())
				return err == nil && counts[equipe.EmailSent] == n
			})
			cancel()
			wg.Wait()

			seen := map[string]int{}
			for _, m := range srv.Messages() {
				seen[m.MessageID]++
			}
			for id, c := range seen {
				if c != 1 || !want[id] {
					t.Errorf("Message-ID %s received %d times (known: %v)", id, c, want[id])
				}
			}
			if len(seen) != n {
				t.Errorf("%d distinct messages, want %d", len(seen), n)
			}
			var total uint64
			for _, w := range workers {
				s, f, a := w.Stats()
				total += s
				if f != 0 || a != 0 {
					t.Errorf("a worker failed %d and abandoned %d", f, a)
				}
			}
			if total != n {
				t.Errorf("the workers sent %d, want %d", total, n)
			}
		})
	}
}

func TestWorker_AbandonsAfterMaxAttemptsKeepingTheLastError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		srv := mailtest.StartSMTP(t)
		clk := newClock()
		e := compose(t, testTemplates(t, clk.Now), "ada@example.org", "tok")
		enqueue(t, db, clk.Now(), e)
		srv.FailNext(100, 451)

		w := &Worker{DB: db, Sender: smtpSender(t, srv), Now: clk.Now, MaxAttempts: 3,
			BaseDelay: time.Second, MaxDelay: 10 * time.Second}
		for attempt := 1; attempt <= 3; attempt++ {
			if sent, err := w.RunOnce(ctx); sent != 0 || err != nil {
				t.Fatalf("attempt %d: RunOnce = %d, %v", attempt, sent, err)
			}
			got := emailByID(t, db, e.ID)
			if got.Attempts != attempt {
				t.Fatalf("attempts %d, want %d", got.Attempts, attempt)
			}
			clk.Add(11 * time.Second)
		}
		got := emailByID(t, db, e.ID)
		if got.Status != equipe.EmailAbandoned || !strings.Contains(got.LastError, "451") {
			t.Errorf("status %s, error %q; want abandoned with the 451", got.Status, got.LastError)
		}
		if got.Text != "" || got.HTML != "" {
			t.Error("an abandoned email keeps its bodies")
		}
		if s, f, a := w.Stats(); s != 0 || f != 2 || a != 1 {
			t.Errorf("Stats() = %d, %d, %d; want 0, 2, 1", s, f, a)
		}
		clk.Add(time.Hour)
		if sent, _ := w.RunOnce(ctx); sent != 0 || len(srv.Messages()) != 0 {
			t.Error("an abandoned email was tried again")
		}
	})
}

func TestWorker_TemporaryFailuresAreRetriedUntilMaxAge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		srv := mailtest.StartSMTP(t)
		clk := newClock()
		e := compose(t, testTemplates(t, clk.Now), "ada@example.org", "tok")
		enqueue(t, db, clk.Now(), e)
		srv.Stop()

		// An outage of a day and a half: twenty failed attempts, none fatal.
		w := &Worker{DB: db, Sender: smtpSender(t, srv), Now: clk.Now, BaseDelay: time.Minute, MaxDelay: 2 * time.Hour}
		for range 20 {
			w.RunOnce(ctx)
			clk.Add(2 * time.Hour)
		}
		if got := emailByID(t, db, e.ID); got.Status != equipe.EmailQueued || got.Attempts != 20 {
			t.Fatalf("after a 40 h outage: %s after %d attempts", got.Status, got.Attempts)
		}
		srv.Start()
		if sent, err := w.RunOnce(ctx); sent != 1 || err != nil {
			t.Fatalf("once the server is back: RunOnce = %d, %v", sent, err)
		}

		// Past MaxAge, the next failure abandons it.
		old := compose(t, testTemplates(t, clk.Now), "bob@example.org", "tok2")
		enqueue(t, db, clk.Now(), old)
		srv.FailNext(100, 451)
		clk.Add(DefaultMaxAge)
		w.RunOnce(ctx)
		if got := emailByID(t, db, old.ID); got.Status != equipe.EmailAbandoned || !strings.Contains(got.LastError, "451") {
			t.Fatalf("past MaxAge: %s %q", got.Status, got.LastError)
		}
	})
}

func TestWorker_PermanentRejectionAbandonsAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := mailtest.StartSMTP(t)
		clk := newClock()
		e := compose(t, testTemplates(t, clk.Now), "nobody@example.org", "tok")
		enqueue(t, db, clk.Now(), e)
		srv.FailNext(1, 550)

		w := &Worker{DB: db, Sender: smtpSender(t, srv), Now: clk.Now}
		if sent, err := w.RunOnce(context.Background()); sent != 0 || err != nil {
			t.Fatalf("RunOnce = %d, %v", sent, err)
		}
		got := emailByID(t, db, e.ID)
		if got.Status != equipe.EmailAbandoned || got.Attempts != 1 || !strings.Contains(got.LastError, "550") {
			t.Errorf("status %s, attempts %d, error %q", got.Status, got.Attempts, got.LastError)
		}
		if s, f, a := w.Stats(); s != 0 || f != 0 || a != 1 {
			t.Errorf("Stats() = %d, %d, %d", s, f, a)
		}
	})
}

func TestWorker_ASenderTheServerRefusesKeepsEveryEmailQueued(t *testing.T) {
	// A relay that requires a login the settings lack refuses MAIL FROM
	// with a 5xx reply, as it refuses a sender address it does not accept: a fault of
	// the settings, the same for every email, not of this one. The emails
	// wait, and leave once the settings are right; abandoning them would
	// lose them, since an abandoned email's bodies are emptied.
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := mailtest.StartSMTP(t, mailtest.STARTTLS(), mailtest.Auth("relay", "relay-pass"))
		clk := newClock()
		tm := testTemplates(t, clk.Now)
		emails := []equipe.Email{compose(t, tm, "ada@example.org", "tok"), compose(t, tm, "grace@example.org", "tok")}
		enqueue(t, db, clk.Now(), emails...)

		cfg, err := ParseSMTPURL(strings.Replace(srv.URL(), "relay:relay-pass@", "", 1))
		if err != nil {
			t.Fatal(err)
		}
		cfg.TLSConfig = &tls.Config{RootCAs: srv.RootCAs()}
		anonymous, err := NewSMTPSender(cfg, "equipe <no-reply@equipe.example.test>")
		if err != nil {
			t.Fatal(err)
		}
		w := &Worker{DB: db, Sender: anonymous, Now: clk.Now, BaseDelay: time.Minute}
		if sent, err := w.RunOnce(context.Background()); sent != 0 || err != nil {
			t.Fatalf("RunOnce = %d, %v", sent, err)
		}
		for _, e := range emails {
			got := emailByID(t, db, e.ID)
			if got.Status != equipe.EmailQueued || !strings.Contains(got.LastError, "MAIL FROM") {
				t.Errorf("after a refused sender: status %s, error %q", got.Status, got.LastError)
			}
		}
		if _, failed, abandoned := w.Stats(); failed != 2 || abandoned != 0 {
			t.Errorf("%d failures, %d abandoned; want 2 and 0", failed, abandoned)
		}

		clk.Add(time.Hour)
		w = &Worker{DB: db, Sender: smtpSender(t, srv), Now: clk.Now}
		if sent, err := w.RunOnce(context.Background()); sent != 2 || err != nil {
			t.Fatalf("with the login: RunOnce = %d, %v", sent, err)
		}
		srv.WaitFor(t, 2, 5*time.Second)
	})
}

// cancellingSender cancels the worker's context during its first send, as
// a shutdown signal arriving mid-batch would.
type cancellingSender struct {
	Sender
	cancel context.CancelFunc
	once   sync.Once
}

func (s *cancellingSender) Send(ctx context.Context, e equipe.Email) error {
	s.once.Do(s.cancel)
	if ctx.Err() != nil {
		return fmt.Errorf("the send was cancelled: %w", ctx.Err())
	}
	return s.Sender.Send(ctx, e)
}

func TestWorker_ShutdownFinishesTheEmailInHandAndReleasesTheRest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := mailtest.StartSMTP(t)
		clk := newClock()
		tm := testTemplates(t, clk.Now)
		var ids []equipe.ID
		var emails []equipe.Email
		for i := range 3 {
			e := compose(t, tm, fmt.Sprintf("user%d@example.org", i), "tok")
			ids = append(ids, e.ID)
			emails = append(emails, e)
		}
		enqueue(t, db, clk.Now(), emails...)

		ctx, cancel := context.WithCancel(context.Background())
		w := &Worker{DB: db, Sender: &cancellingSender{Sender: smtpSender(t, srv), cancel: cancel}, Now: clk.Now}
		sent, _ := w.RunOnce(ctx)
		if sent != 1 || len(srv.WaitFor(t, 1, 5*time.Second)) != 1 {
			t.Fatalf("sent %d, want the email in hand only", sent)
		}
		var statuses []equipe.EmailStatus
		for _, id := range ids {
			got := emailByID(t, db, id)
			statuses = append(statuses, got.Status)
			if got.Status == equipe.EmailQueued && got.NextAttemptAt.After(clk.Now()) {
				t.Errorf("a released email is due only at %v", got.NextAttemptAt)
			}
		}
		want := []equipe.EmailStatus{equipe.EmailSent, equipe.EmailQueued, equipe.EmailQueued}
		if fmt.Sprint(statuses) != fmt.Sprint(want) {
			t.Errorf("statuses %v, want %v", statuses, want)
		}
		// Another worker takes the released emails at once.
		other := &Worker{DB: db, Sender: smtpSender(t, srv), Now: clk.Now}
		if sent, err := other.RunOnce(context.Background()); sent != 2 || err != nil {
			t.Errorf("the next worker sent %d, %v; want 2", sent, err)
		}
	})
}

func TestWorker_UnreachableServerFailsTheBatchAfterOneTry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		addr, accepted := hangingServer(t)
		clk := newClock()
		tm := testTemplates(t, clk.Now)
		var emails []equipe.Email
		for i := range 4 {
			emails = append(emails, compose(t, tm, fmt.Sprintf("user%d@example.org", i), "tok"))
		}
		enqueue(t, db, clk.Now(), emails...)

		w := &Worker{DB: db, Sender: hangingSender(t, addr), Now: clk.Now, BaseDelay: time.Minute}
		start := time.Now()
		if sent, err := w.RunOnce(context.Background()); sent != 0 || err != nil {
			t.Fatalf("RunOnce = %d, %v", sent, err)
		}
		if n := accepted(); n != 1 {
			t.Errorf("%d connections to a hanging server, want 1: one timeout fails the batch", n)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("the round took %v", d)
		}
		for _, e := range emails {
			got := emailByID(t, db, e.ID)
			if got.Status != equipe.EmailQueued || got.Attempts != 1 || got.LastError == "" || !got.NextAttemptAt.After(clk.Now()) {
				t.Errorf("status %s, attempts %d, error %q, next %v", got.Status, got.Attempts, got.LastError, got.NextAttemptAt)
			}
		}
		if _, failed, _ := w.Stats(); failed != 4 {
			t.Errorf("%d failures counted, want 4", failed)
		}
	})
}

// slowSender takes its time over every email, as a congested relay would:
// each send moves the worker's clock on by delay.
type slowSender struct {
	Sender
	clock *testClock
	delay time.Duration
}

func (s slowSender) Send(ctx context.Context, e equipe.Email) error {
	s.clock.Add(s.delay)
	return s.Sender.Send(ctx, e)
}

func TestWorker_BatchStopsBeforeAnUnrenewedLeaseRunsOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := mailtest.StartSMTP(t)
		tm := testTemplates(t, nil)
		var emails []equipe.Email
		for i := range 5 {
			emails = append(emails, compose(t, tm, fmt.Sprintf("user%d@example.org", i), "tok"))
		}
		enqueue(t, db, time.Now(), emails...)

		// Five sends of 60 ms do not fit in a lease of 200 ms that is not
		// renewed (as when the database is out of reach, here by a renewal
		// interval longer than the test): the worker must give the rest
		// back rather than send past its lease.
		clock := newClock()
		w := &Worker{DB: db, Sender: slowSender{smtpSender(t, srv), clock, 60 * time.Millisecond},
			Lease: 200 * time.Millisecond, Renew: time.Hour, Now: clock.Now}
		first, err := w.RunOnce(context.Background())
		if err != nil || first == 0 || first == 5 {
			t.Fatalf("first round sent %d (%v), want some but not all", first, err)
		}
		total := first
		for round := 0; total < 5 && round < 10; round++ {
			n, err := w.RunOnce(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			total += n
		}
		seen := map[string]int{}
		for _, m := range srv.WaitFor(t, 5, 5*time.Second) {
			seen[m.MessageID]++
		}
		for _, e := range emails {
			if seen[e.MessageID] != 1 {
				t.Errorf("email %s received %d times", e.ID, seen[e.MessageID])
			}
		}
	})
}

func TestWorker_RunDeliversOnWakeAndStopsWhenCancelled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := mailtest.StartSMTP(t)
		// An hour's poll: only Wake can explain a prompt delivery.
		w := &Worker{DB: db, Sender: smtpSender(t, srv), Poll: time.Hour}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- w.Run(ctx) }()

		e := compose(t, testTemplates(t, nil), "ada@example.org", "tok")
		enqueue(t, db, time.Now(), e)
		w.Wake()
		w.Wake() // never blocks
		srv.WaitFor(t, 1, 5*time.Second)

		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not stop")
		}
	})
}

func TestWorker_DeliversToTheDevelopmentMailbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		box := &DevMailbox{}
		e := compose(t, testTemplates(t, nil), "ada@example.org", "tok")
		enqueue(t, db, time.Now(), e)
		w := &Worker{DB: db, Sender: box}
		if sent, err := w.RunOnce(context.Background()); sent != 1 || err != nil {
			t.Fatalf("RunOnce = %d, %v", sent, err)
		}
		ms := box.Messages()
		if len(ms) != 1 || ms[0].ID != e.ID.String() || ms[0].Links[0] != testPublicURL+"/password-reset/tok" {
			t.Errorf("mailbox holds %+v", ms)
		}
	})
}

func TestWorker_LogsNeitherBodiesNorAddresses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		srv := mailtest.StartSMTP(t)
		clk := newClock()
		e := compose(t, testTemplates(t, clk.Now), "ada.lovelace@example.org", "s3cret-token")
		enqueue(t, db, clk.Now(), e)
		var buf bytes.Buffer
		w := &Worker{DB: db, Sender: smtpSender(t, srv), Now: clk.Now,
			Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
		srv.FailNext(1, 451)
		w.RunOnce(ctx)
		clk.Add(2 * time.Minute)
		if sent, err := w.RunOnce(ctx); sent != 1 || err != nil {
			t.Fatalf("RunOnce = %d, %v", sent, err)
		}
		logs := buf.String()
		for _, secret := range []string{"s3cret-token", "ada.lovelace@", e.Subject, "Ada Lovelace"} {
			if strings.Contains(logs, secret) {
				t.Errorf("the log holds %q:\n%s", secret, logs)
			}
		}
		for _, want := range []string{`"to_domain":"example.org"`, `"outcome":"retry"`, `"outcome":"sent"`, e.ID.String(), `"template":"password_reset"`} {
			if !strings.Contains(logs, want) {
				t.Errorf("the log lacks %s:\n%s", want, logs)
			}
		}
	})
	if got := redactAddress("550 5.1.1 <Ada@Example.org>: unknown user ada@example.org", "ada@example.org"); strings.Contains(got, "ada@") {
		t.Errorf("redactAddress left the address: %q", got)
	}
}

func TestWorker_BackoffDoublesAndIsCapped(t *testing.T) {
	w := &Worker{BaseDelay: time.Second, MaxDelay: 30 * time.Second}
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second,
		5: 16 * time.Second, 6: 30 * time.Second, 40: 30 * time.Second} {
		for range 20 {
			got := w.backoff(attempt)
			if got > w.MaxDelay || got < want*9/10 || got > want*11/10 {
				t.Fatalf("backoff(%d) = %v, want %v ±10%% and at most %v", attempt, got, want, w.MaxDelay)
			}
		}
	}
	if d := (&Worker{}).backoff(1); d < 27*time.Second || d > 33*time.Second {
		t.Errorf("default first delay %v, want about 30s", d)
	}
}

func TestWorker_RefusesToRunWithoutDBOrSender(t *testing.T) {
	if err := (&Worker{}).Run(context.Background()); err == nil {
		t.Error("Run without a DB returned nil")
	}
	if _, err := (&Worker{Sender: &DevMailbox{}}).RunOnce(context.Background()); err == nil {
		t.Error("RunOnce without a DB returned nil")
	}
}
