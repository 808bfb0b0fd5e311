// Package outbox runs the workers that deliver what the database queues
// for another system: webhook deliveries (package webhook) and back-channel
// logout notices (package openid). Each is a queue in the database whose
// rows a worker claims under a lease, sends, and records the outcome of:
// delivered, queued again after a wait of a schedule, or abandoned after
// the schedule's last wait. Worker is that loop once, parameterised by the
// queue's three steps (Queue).
//
// Any number of workers, in one process or many, may run on one queue: a
// claim holds a batch under a lease, and an item whose lease lapses (its
// worker died) is claimed again. Delivery is therefore at least once.
package outbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Queue is what a Worker delivers: items of type T.
type Queue[T any] interface {
	// Claim claims up to limit items due at now for the worker whose
	// claim is claim, until now+lease, none of whose Key is among busy.
	Claim(ctx context.Context, now time.Time, lease time.Duration, limit int, claim string, busy []string) ([]T, error)
	// Key names the receiver item goes to: a receiver that is slow to
	// answer holds up its own items only (see Worker.PerKey).
	Key(item T) string
	// Attempt returns which attempt of item this one is, from 1.
	Attempt(item T) int
	// Send makes one attempt of item, begun at now.
	Send(ctx context.Context, item T, now time.Time) Result
	// Record records the outcomes of a batch the worker holds under claim.
	Record(ctx context.Context, claim string, outcomes []Outcome[T]) error
	// Attrs names item in the log, as slog's key-value pairs.
	Attrs(item T) []any
}

// Result is what an attempt came to: Err nil when the item was delivered.
// Code and Response are what the receiver answered, when it did.
type Result struct {
	Err      error
	Code     int
	Response string
}

// Final marks an error that retrying cannot mend: the item is abandoned at
// once.
func Final(err error) error { return finalError{err} }

type finalError struct{ error }

func (f finalError) Unwrap() error { return f.error }

// Status is what becomes of an item after an attempt.
type Status string

const (
	Delivered Status = "delivered"
	Queued    Status = "queued" // to be tried again at Next
	Abandoned Status = "abandoned"
)

// Outcome is the outcome of one attempt of Item.
type Outcome[T any] struct {
	Item T
	Result
	Status   Status
	At       time.Time // when the attempt began
	Duration time.Duration
	Next     time.Time // Queued: when to try again (the wait after the attempt ended); otherwise At
	Error    string    // Err as kept: one line, bounded, storable
}

// Worker defaults.
const (
	DefaultBatch       = 100
	DefaultConcurrency = 8
	DefaultPoll        = time.Second
	// DefaultLease is longer than a batch can take, after which the items
	// of a worker that died are due again.
	DefaultLease = 5 * time.Minute
)

// Worker delivers the items of Queue. Set the fields before the first call
// to Run, RunOnce or Wake.
type Worker[T any] struct {
	Queue Queue[T]
	Name  string // what the log calls an item ("webhook delivery")
	Log   *slog.Logger
	Now   func() time.Time // default time.Now

	// Schedule is the wait before each retry: an item is abandoned when
	// its last retry fails.
	Schedule []time.Duration
	// Batch is how many items a round claims, Concurrency how many it
	// sends at once, PerKey how many of those go to one receiver at most
	// (default: half of Concurrency), so that a receiver slow to answer
	// takes no more than its share while the others' items go on.
	Batch, Concurrency, PerKey int
	Lease                      time.Duration
	// Rate is how many attempts the worker starts a second at most (0: as
	// fast as they come).
	Rate int
	// Poll is how often an idle worker looks for due items: those queued
	// by other processes, and retries.
	Poll time.Duration
	// OnRound, when set, is called after each round of Run: a test waits
	// on it instead of looking again and again.
	OnRound func()

	once  sync.Once
	claim string
	wake  chan struct{}
	next  time.Time // when the next attempt may start (Rate)
}

func (w *Worker[T]) setup() {
	w.once.Do(func() {
		w.claim = NewClaim()
		w.wake = make(chan struct{}, 1)
		if w.Log == nil {
			w.Log = slog.New(slog.DiscardHandler)
		}
		if w.Now == nil {
			w.Now = time.Now
		}
	})
}

// NewClaim returns a new worker's claim, what its leases are recorded
// under: random so that two workers never share one, with the host and
// process so that a queue is readable when an operator looks.
func NewClaim() string {
	b := make([]byte, 8)
	rand.Read(b)
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

func orDefault[N int | time.Duration](v, def N) N {
	if v <= 0 {
		return def
	}
	return v
}

// Claim returns the worker's claim: what its leases are recorded under.
func (w *Worker[T]) Claim() string {
	w.setup()
	return w.claim
}

// Wake asks the worker to look for due items now. It never blocks.
func (w *Worker[T]) Wake() {
	w.setup()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is done, then returns nil; the attempts begun
// are finished and recorded, and the items claimed but not begun are begun
// first.
//
// It sends without rounds: as attempts end, their outcomes are recorded (a
// few at a time) and more items are claimed, so that an attempt that takes
// its time (a receiver that answers late, or not at all) holds up nothing
// but its receiver's items. At most PerKey attempts go to one receiver at
// once; a receiver that has them all has no more items claimed until one
// ends. Errors are logged, and the claim is tried again at the next poll.
func (w *Worker[T]) Run(ctx context.Context) error {
	w.setup()
	conc := orDefault(w.Concurrency, DefaultConcurrency)
	r := &runner[T]{w: w, ctx: ctx, conc: conc, perKey: orDefault(w.PerKey, max(1, conc/2)),
		// Claimed items wait at most this many of their receiver's
		// attempts (a timeout each) under their lease.
		claimSize: min(orDefault(w.Batch, DefaultBatch), 8*conc),
		done:      make(chan Outcome[T], conc), running: map[string]int{}}
	poll := time.NewTicker(orDefault(w.Poll, DefaultPoll))
	defer poll.Stop()
	var flush <-chan time.Time
	look := true
	for {
		stopping := ctx.Err() != nil
		r.start(stopping)
		if stopping {
			if r.busy == 0 && len(r.waiting) == 0 {
				r.record()
				return nil
			}
		} else if look && r.busy <= r.conc/2 {
			// Half the slots free at least (the items still waiting are
			// their receivers' turn, see start): claim, so that claims
			// come a batch at a time rather than one an attempt.
			look = r.claim()
			r.start(false)
		}
		if r.busy == 0 && len(r.waiting) == 0 {
			r.record()
			if w.OnRound != nil {
				w.OnRound()
			}
		}
		var stop <-chan struct{}
		if !stopping {
			stop = ctx.Done()
		}
		select {
		case o := <-r.done:
			r.ended(o)
			for more := true; more; {
				select {
				case o := <-r.done:
					r.ended(o)
				default:
					more = false
				}
			}
			if len(r.finished) >= r.claimSize/2 || (r.busy == 0 && len(r.waiting) == 0) {
				r.record()
				flush = nil
			} else if flush == nil {
				flush = time.After(recordWithin)
			}
			// More may be claimed when the last claim left some due, or
			// left out a receiver that now has room.
			look = look || r.freed()
		case <-flush:
			r.record()
			flush = nil
		case <-w.wake:
			look = true
		case <-poll.C:
			look = true
		case <-stop:
		}
	}
}

// recordWithin is the longest an outcome waits to be recorded with others.
const recordWithin = 100 * time.Millisecond

// runner is the state of Run.
type runner[T any] struct {
	w                       *Worker[T]
	ctx                     context.Context
	conc, perKey, claimSize int
	done                    chan Outcome[T]
	busy                    int            // attempts under way
	running                 map[string]int // of them, by receiver
	waiting                 []T            // claimed, not yet begun
	finished                []Outcome[T]   // ended, not yet recorded
	left                    []string       // the receivers the last claim left out
}

// freed reports whether a receiver the last claim left out has room now.
func (r *runner[T]) freed() bool {
	for _, k := range r.left {
		if r.running[k] < r.perKey && !slices.ContainsFunc(r.waiting, func(item T) bool { return r.w.Queue.Key(item) == k }) {
			return true
		}
	}
	return false
}

// claim claims the items due, but those of receivers with all their slots
// taken or items still waiting, and reports whether more may be due. A
// receiver's items waiting are thus at most one claim's, which their
// receiver's slots send well within their lease.
func (r *runner[T]) claim() bool {
	w := r.w
	var busy []string
	for k, n := range r.running {
		if n >= r.perKey {
			busy = append(busy, k)
		}
	}
	for _, item := range r.waiting {
		if k := w.Queue.Key(item); r.running[k] < r.perKey && !slices.Contains(busy, k) {
			busy = append(busy, k)
		}
	}
	r.left = busy
	items, err := w.Queue.Claim(r.ctx, w.Now(), orDefault(w.Lease, DefaultLease), r.claimSize, w.claim, busy)
	if err != nil {
		if r.ctx.Err() == nil {
			w.Log.Warn(w.Name+" claim failed", "error", err)
		}
		return false
	}
	r.waiting = append(r.waiting, items...)
	return len(items) == r.claimSize
}

// start begins the waiting items that a slot, and their receiver's share
// of the slots, let begin (when stopping, the share no longer holds: what
// was claimed is sent before Run returns).
func (r *runner[T]) start(stopping bool) {
	kept := r.waiting[:0]
	for _, item := range r.waiting {
		k := r.w.Queue.Key(item)
		if r.busy >= r.conc || (!stopping && r.running[k] >= r.perKey) {
			kept = append(kept, item)
			continue
		}
		r.w.pace(r.ctx)
		r.busy++
		r.running[k]++
		go func() {
			// An attempt in hand is finished even when shutdown begins.
			r.done <- r.w.attempt(context.WithoutCancel(r.ctx), item)
		}()
	}
	clear(r.waiting[len(kept):])
	r.waiting = kept
}

func (r *runner[T]) ended(o Outcome[T]) {
	r.busy--
	k := r.w.Queue.Key(o.Item)
	if r.running[k]--; r.running[k] <= 0 {
		delete(r.running, k)
	}
	r.finished = append(r.finished, o)
}

// record records the outcomes of the attempts ended.
func (r *runner[T]) record() {
	if len(r.finished) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), 30*time.Second)
	defer cancel()
	if err := r.w.Queue.Record(ctx, r.w.claim, r.finished); err != nil {
		r.w.Log.Warn(r.w.Name+" record failed", "error", err)
	}
	r.finished = nil
}

// RunOnce claims the items due now (up to Batch), sends them (Concurrency
// at a time, Rate a second at most) and records their outcomes in one call
// of Record. It returns how many it claimed.
func (w *Worker[T]) RunOnce(ctx context.Context) (int, error) {
	w.setup()
	items, err := w.Queue.Claim(ctx, w.Now(), orDefault(w.Lease, DefaultLease), orDefault(w.Batch, DefaultBatch), w.claim, nil)
	if err != nil {
		return 0, fmt.Errorf("claim: %w", err)
	}
	if len(items) == 0 {
		return 0, nil
	}
	outcomes := make([]Outcome[T], len(items))
	sem := make(chan struct{}, orDefault(w.Concurrency, DefaultConcurrency))
	var wg sync.WaitGroup
	for i, item := range items {
		w.pace(ctx)
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			// An attempt in hand is finished even when shutdown begins.
			outcomes[i] = w.attempt(context.WithoutCancel(ctx), item)
		})
	}
	wg.Wait()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := w.Queue.Record(rctx, w.claim, outcomes); err != nil {
		return len(items), fmt.Errorf("record: %w", err)
	}
	return len(items), nil
}

// attempt sends item once and returns its outcome.
func (w *Worker[T]) attempt(ctx context.Context, item T) Outcome[T] {
	start := w.Now()
	r := w.Queue.Send(ctx, item, start)
	end := w.Now()
	o := Outcome[T]{Item: item, Result: r, Status: Delivered, At: start, Duration: end.Sub(start), Next: start}
	if r.Err == nil {
		return o
	}
	o.Error = ErrorText(r.Err)
	n := w.Queue.Attempt(item)
	if f := (finalError{}); errors.As(r.Err, &f) || n > len(w.Schedule) {
		o.Status = Abandoned
		w.Log.Warn(w.Name+" abandoned", append(w.Queue.Attrs(item), "attempts", n, "error", o.Error)...)
		return o
	}
	// The wait is counted from the failure: an attempt that took its
	// timeout would otherwise be due again before it ended.
	o.Status, o.Next = Queued, end.Add(w.Schedule[n-1])
	return o
}

// pace waits until the next attempt may start, Rate a second at most. It
// reads the real time, not Now: it spreads the work over the machine's
// time.
func (w *Worker[T]) pace(ctx context.Context) {
	if w.Rate <= 0 {
		return
	}
	now := time.Now()
	// Time spent between attempts (claiming, recording) counts, up to a
	// second: the rate is an average, not a gap after each attempt.
	if floor := now.Add(-time.Second); w.next.Before(floor) {
		w.next = floor
	}
	w.next = w.next.Add(time.Second / time.Duration(w.Rate))
	if wait := w.next.Sub(now); wait > time.Millisecond {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
}

// Storable returns s as both engines can store it: valid UTF-8 without NUL
// bytes, which PostgreSQL's text refuses.
func Storable(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// ErrorText is what an outcome keeps of an error: one line, bounded,
// storable.
func ErrorText(err error) string {
	s := Storable(strings.Join(strings.Fields(err.Error()), " "))
	if len(s) > 500 {
		s = s[:500]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return s
}
