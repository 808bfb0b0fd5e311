package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
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
	sending  map[string]int    // attempts under way by receiver
	onRecord func()            // after each Record
}

func (q *memQueue) Claim(_ context.Context, now time.Time, lease time.Duration, limit int, claim string, busy []string) ([]string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var due []string
	for name, at := range q.due {
		if !at.After(now) && !slices.Contains(busy, q.Key(name)) {
			due = append(due, name)
		}
	}
	slices.Sort(due)
	out := due[:min(limit, len(due))]
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

// Key is the item's receiver: what its name has before a slash, else the
// name.
func (q *memQueue) Key(name string) string {
	receiver, _, _ := strings.Cut(name, "/")
	return receiver
}

func (q *memQueue) Send(_ context.Context, name string, _ time.Time) outbox.Result {
	q.mu.Lock()
	q.inFlight++
	q.most = max(q.most, q.inFlight)
	q.sending[q.Key(name)]++
	f := q.took[name]
	q.mu.Unlock()
	if f != nil {
		f()
	}
	q.mu.Lock()
	q.sending[q.Key(name)]--
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
	defer func() {
		q.mu.Unlock()
		if q.onRecord != nil {
			q.onRecord()
		}
	}()
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
		attempts: map[string]int{}, held: map[string]string{}, sending: map[string]int{},
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
	q := &memQueue{due: map[string]time.Time{}, attempts: map[string]int{}, held: map[string]string{}, sending: map[string]int{}, answers: map[string][]error{}}
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
	q := &memQueue{due: map[string]time.Time{"slow": now}, attempts: map[string]int{}, held: map[string]string{}, sending: map[string]int{},
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

// TestWorker_AReceiverThatAnswersLateHoldsUpItsOwnItemsOnly: a receiver
// whose sixteen items all hang takes at most its share of the slots (half),
// and an item of another receiver that comes due meanwhile is sent and
// recorded while they still hang; once they answer, all are recorded.
func TestWorker_AReceiverThatAnswersLateHoldsUpItsOwnItemsOnly(t *testing.T) {
	now := time.Now()
	release := make(chan struct{})
	q := &memQueue{due: map[string]time.Time{}, attempts: map[string]int{}, held: map[string]string{}, sending: map[string]int{},
		answers: map[string][]error{}, took: map[string]func(){}}
	for i := range 16 {
		name := fmt.Sprintf("slow/%02d", i)
		q.due[name], q.took[name] = now, func() { <-release }
	}
	recorded := make(chan struct{}, 64)
	q.onRecord = func() { recorded <- struct{}{} }
	w := &outbox.Worker[string]{Queue: q, Name: "test item", Now: func() time.Time { return now }, Poll: time.Hour, Concurrency: 8}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	sending := func(key string) int {
		q.mu.Lock()
		defer q.mu.Unlock()
		return q.sending[key]
	}
	for sending("slow") < 4 {
		runtime.Gosched()
	}
	q.mu.Lock()
	q.due["fast/1"] = now
	q.mu.Unlock()
	w.Wake()
	for {
		<-recorded
		q.mu.Lock()
		fast := slices.ContainsFunc(q.recorded, func(o outbox.Outcome[string]) bool { return o.Item == "fast/1" })
		q.mu.Unlock()
		if fast {
			break
		}
	}
	if n := sending("slow"); n != 4 {
		t.Errorf("the late receiver has %d attempts under way, want its share, 4", n)
	}
	close(release)
	for {
		q.mu.Lock()
		n := len(q.recorded)
		q.mu.Unlock()
		if n == 17 {
			break
		}
		<-recorded
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if q.most > 8 {
		t.Errorf("%d attempts at once, more than the 8 slots", q.most)
	}
}
