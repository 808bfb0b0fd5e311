package outbox_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/equipe-dev/equipe/outbox"
)

// memQueue is a queue in memory: items by name, each answered by the
// results of answers in turn (nil: delivered).
type memQueue struct {
	mu       sync.Mutex
	due      map[string]time.Time
	attempts map[string]int
	answers  map[string][]error
	held     map[string]string // item → claim
	recorded []outbox.Outcome[string]
	records  int
	inFlight int
	most     int
	took     map[string]func() // run during an item's attempt (its time passing)
}

func (q *memQueue) Claim(_ context.Context, now time.Time, lease time.Duration, limit int, claim string) ([]string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []string
	for name, at := range q.due {
		if !at.After(now) && len(out) < limit {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	for _, name := range out {
		q.due[name], q.held[name] = now.Add(lease), claim
	}
	return out, nil
}

func (q *memQueue) Attempt(name string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.attempts[name] + 1
}

func (q *memQueue) Attrs(name string) []any { return []any{"item", name} }

func (q *memQueue) Send(_ context.Context, name string, _ time.Time) outbox.Result {
	q.mu.Lock()
	q.inFlight++
	q.most = max(q.most, q.inFlight)
	if f := q.took[name]; f != nil {
		f()
	}
	a := q.answers[name]
	var err error
	if len(a) > 0 {
		err, q.answers[name] = a[0], a[1:]
	}
	q.mu.Unlock()
	q.mu.Lock()
	q.inFlight--
	q.mu.Unlock()
	return outbox.Result{Err: err, Code: 200}
}

func (q *memQueue) Record(_ context.Context, claim string, outcomes []outbox.Outcome[string]) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.records++
	for _, o := range outcomes {
		if q.held[o.Item] != claim {
			continue
		}
		q.attempts[o.Item]++
		q.recorded = append(q.recorded, o)
		delete(q.held, o.Item)
		if o.Status == outbox.Queued {
			q.due[o.Item] = o.Next
		} else {
			delete(q.due, o.Item)
		}
	}
	return nil
}

func TestWorker_RetriesOnTheScheduleAbandonsAfterItAndAtOnceOnAFinalError(t *testing.T) {
	now := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	fail := errors.New("answered 503")
	q := &memQueue{due: map[string]time.Time{"ok": now, "flaky": now, "down": now, "refused": now},
		attempts: map[string]int{}, held: map[string]string{},
		answers: map[string][]error{"flaky": {fail}, "down": {fail, fail, fail},
			"refused": {outbox.Final(errors.New("answered 400"))}}}
	w := &outbox.Worker[string]{Queue: q, Name: "test item", Now: func() time.Time { return now },
		Schedule: []time.Duration{time.Minute, time.Hour}, Batch: 10}

	n, err := w.RunOnce(t.Context())
	if err != nil || n != 4 || q.records != 1 {
		t.Fatalf("first round: %d claimed (%v), %d records", n, err, q.records)
	}
	status := func(name string) []outbox.Status {
		var out []outbox.Status
		for _, o := range q.recorded {
			if o.Item == name {
				out = append(out, o.Status)
			}
		}
		return out
	}
	if !slices.Equal(status("ok"), []outbox.Status{outbox.Delivered}) ||
		!slices.Equal(status("refused"), []outbox.Status{outbox.Abandoned}) ||
		!slices.Equal(status("flaky"), []outbox.Status{outbox.Queued}) {
		t.Fatalf("first round: %+v", q.recorded)
	}
	for _, o := range q.recorded {
		if o.Item == "flaky" && (!o.Next.Equal(now.Add(time.Minute)) || o.Error != "answered 503") {
			t.Errorf("a failure: next %v error %q", o.Next, o.Error)
		}
	}
	// Nothing is due before the first wait has passed.
	if n, _ := w.RunOnce(t.Context()); n != 0 {
		t.Fatalf("%d claimed before their time", n)
	}
	now = now.Add(time.Minute)
	w.RunOnce(t.Context())
	now = now.Add(time.Hour)
	w.RunOnce(t.Context())
	if got := status("flaky"); !slices.Equal(got, []outbox.Status{outbox.Queued, outbox.Delivered}) {
		t.Errorf("flaky: %v", got)
	}
	// Two retries on a schedule of two waits: the third failure abandons.
	if got := status("down"); !slices.Equal(got, []outbox.Status{outbox.Queued, outbox.Queued, outbox.Abandoned}) {
		t.Errorf("down: %v", got)
	}
	if len(q.due) != 0 {
		t.Errorf("left queued: %v", q.due)
	}
}

func TestWorker_RunWakesOnRequestAndStopsWithItsContext(t *testing.T) {
	now := time.Now()
	q := &memQueue{due: map[string]time.Time{}, attempts: map[string]int{}, held: map[string]string{}, answers: map[string][]error{}}
	rounds := make(chan struct{}, 16)
	w := &outbox.Worker[string]{Queue: q, Name: "test item", Now: func() time.Time { return now },
		Poll: time.Hour, Concurrency: 2, OnRound: func() { rounds <- struct{}{} }}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	<-rounds // the first round finds nothing, then the worker waits an hour
	q.mu.Lock()
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		q.due[name] = now
	}
	q.mu.Unlock()
	w.Wake()
	<-rounds
	q.mu.Lock()
	delivered, most := len(q.recorded), q.most
	q.mu.Unlock()
	if delivered != 5 || most > 2 {
		t.Errorf("after a wake: %d recorded, %d at once (at most 2)", delivered, most)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestWorker_ARetryIsTimedFromTheFailure: an attempt that fails after
// taking its time (a receiver that times out) is retried the schedule's
// wait after it ended, not after it began.
func TestWorker_ARetryIsTimedFromTheFailure(t *testing.T) {
	now := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	q := &memQueue{due: map[string]time.Time{"slow": now}, attempts: map[string]int{}, held: map[string]string{},
		answers: map[string][]error{"slow": {errors.New("timeout")}},
		took:    map[string]func(){"slow": func() { mu.Lock(); now = now.Add(10 * time.Second); mu.Unlock() }}}
	w := &outbox.Worker[string]{Queue: q, Name: "test item", Now: clock, Schedule: []time.Duration{5 * time.Second}}
	start := clock()
	if _, err := w.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	o := q.recorded[0]
	if o.Status != outbox.Queued || !o.At.Equal(start) || o.Duration != 10*time.Second || !o.Next.Equal(start.Add(15*time.Second)) {
		t.Errorf("began %v, took %v, next %v; want the next at %v", o.At, o.Duration, o.Next, start.Add(15*time.Second))
	}
}
