package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/store"
)

// Schedule is the default wait before each retry of a failed delivery: the
// first attempt and seven retries span about 27 hours and a half, so that
// a receiver down for a day loses nothing.
var Schedule = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
	10 * time.Hour, 10 * time.Hour}

// Worker defaults.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultBatch       = 100
	DefaultConcurrency = 8
	DefaultPoll        = time.Second
	// DefaultRate is how many requests a worker starts a second at most:
	// a burst of 10,000 events goes out in 25 s, using a share of the CPU
	// small enough that the service's requests hardly notice (see
	// docs/performance.md), rather than taking it all for a few seconds.
	DefaultRate = 400
	// DefaultLease is how long a claim holds a batch: longer than a batch can
	// take (each request gives up after Timeout), after which the
	// deliveries of a worker that died are due again.
	DefaultLease = 5 * time.Minute
)

// ResponseBytes is how much of an answer an attempt keeps.
const ResponseBytes = 1024

// Worker delivers the queued deliveries. Any number of workers, in one
// process or many, may run on one database: a claim holds a batch under a
// lease, and a delivery whose lease lapses (its worker died) is claimed
// again. Delivery is therefore at least once; a repeat carries the same
// webhook-id, by which receivers recognise it.
//
// The deliveries of a batch are sent concurrently (Concurrency at a time),
// so the deliveries of one endpoint are not in order: receivers order
// events by their ID or time, not by arrival.
//
// Set the fields before the first call to Run, RunOnce or Wake.
type Worker struct {
	DB     *store.DB
	Keys   *identity.Keyring // opens the endpoints' sealed secrets
	Client *http.Client      // default: Rules{}.Client(Timeout, nil)
	Logger *slog.Logger
	Now    func() time.Time // default time.Now

	// Schedule is the wait before each retry (default Schedule): a delivery
	// is abandoned when its last retry fails.
	Schedule []time.Duration
	// Timeout bounds each request (default 10 s).
	Timeout time.Duration
	// Batch is how many deliveries a round claims (default 100), and
	// Concurrency how many requests it makes at once (default 8).
	Batch, Concurrency int
	Lease              time.Duration
	// Rate is how many requests the worker starts a second at most
	// (default DefaultRate).
	Rate int
	// Poll is how often an idle worker looks for due deliveries (default
	// 1 s): those queued by other processes, and retries.
	Poll time.Duration
	// Disable is told of an endpoint whose deliveries failed throughout:
	// it disables it and tells its owners (team.Service.DisableFailingWebhook).
	Disable func(ctx context.Context, endpoint equipe.ID) error
	// OnRound, when set, is called after each round of Run: a test waits
	// on it instead of looking again and again.
	OnRound func()

	setupOnce sync.Once
	claim     string
	wake      chan struct{}
	next      time.Time // when the next request may start (Rate)

	delivered, failed, abandoned atomic.Uint64
}

func (w *Worker) setup() {
	w.setupOnce.Do(func() {
		b := make([]byte, 8)
		rand.Read(b)
		host, _ := os.Hostname()
		w.claim = fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
		w.wake = make(chan struct{}, 1)
		if w.Client == nil {
			w.Client = Rules{}.Client(w.timeout(), nil)
		}
		if w.Logger == nil {
			w.Logger = slog.New(slog.DiscardHandler)
		}
	})
}

func (w *Worker) now() time.Time {
	if w.Now == nil {
		return time.Now()
	}
	return w.Now()
}

func (w *Worker) timeout() time.Duration { return orDefault(w.Timeout, DefaultTimeout) }

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Wake asks the worker to look for due deliveries now. It never blocks.
func (w *Worker) Wake() {
	w.setup()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Stats returns how many deliveries this worker delivered, how many
// attempts failed and will be retried, and how many it abandoned.
func (w *Worker) Stats() (delivered, failed, abandoned uint64) {
	return w.delivered.Load(), w.failed.Load(), w.abandoned.Load()
}

// Run delivers until ctx is done, then returns nil; the requests in hand
// are finished and recorded. Database errors are logged and retried at the
// next poll.
func (w *Worker) Run(ctx context.Context) error {
	if w.DB == nil || w.Keys == nil {
		return errors.New("webhook: the worker needs a DB and Keys")
	}
	w.setup()
	w.DB.OnDeliveriesQueued(w.Wake)
	batch := orDefault(w.Batch, DefaultBatch)
	poll := orDefault(w.Poll, DefaultPoll)
	timer := time.NewTimer(poll)
	defer timer.Stop()
	for {
		claimed, err := w.round(ctx)
		if w.OnRound != nil {
			w.OnRound()
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			w.Logger.Warn("webhook round failed", "error", err)
		} else if claimed == batch {
			continue
		}
		timer.Reset(poll)
		select {
		case <-ctx.Done():
			return nil
		case <-w.wake:
		case <-timer.C:
		}
	}
}

// RunOnce claims the deliveries due now (up to Batch), sends them and
// records the outcomes. It returns how many it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	w.setup()
	return w.round(ctx)
}

func (w *Worker) round(ctx context.Context) (int, error) {
	now := w.now()
	ds, err := w.DB.ClaimWebhookDeliveries(ctx, now, orDefault(w.Lease, DefaultLease), orDefault(w.Batch, DefaultBatch), w.claim)
	if err != nil {
		return 0, fmt.Errorf("claim deliveries: %w", err)
	}
	if len(ds) == 0 {
		return 0, nil
	}
	endpoints := map[equipe.ID]*target{}
	for _, d := range ds {
		if _, ok := endpoints[d.EndpointID]; !ok {
			endpoints[d.EndpointID] = w.target(ctx, d.EndpointID, now)
		}
	}
	outcomes := make([]store.WebhookOutcome, len(ds))
	sem := make(chan struct{}, orDefault(w.Concurrency, DefaultConcurrency))
	var wg sync.WaitGroup
	for i, d := range ds {
		w.pace(ctx)
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			// A request in hand is finished even when shutdown begins.
			outcomes[i] = w.deliver(context.WithoutCancel(ctx), endpoints[d.EndpointID], d)
		})
	}
	wg.Wait()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	failing, err := w.DB.RecordWebhookOutcomes(rctx, w.claim, outcomes)
	if err != nil {
		return len(ds), fmt.Errorf("record deliveries: %w", err)
	}
	var errs []error
	for _, id := range failing {
		w.Logger.Warn("webhook endpoint failing throughout its retries: disabled", "endpoint_id", id.String())
		if w.Disable != nil {
			if err := w.Disable(rctx, id); err != nil {
				errs = append(errs, fmt.Errorf("disable endpoint %s: %w", id, err))
			}
		}
	}
	return len(ds), errors.Join(errs...)
}

// pace waits until the next request may start, Rate a second at most. It
// reads the real time, not Now: it spreads the work over the machine's
// time.
func (w *Worker) pace(ctx context.Context) {
	now := time.Now()
	// Time spent between requests (claiming, recording) counts, up to a
	// second: the rate is an average, not a gap after each request.
	if floor := now.Add(-time.Second); w.next.Before(floor) {
		w.next = floor
	}
	w.next = w.next.Add(time.Second / time.Duration(orDefault(w.Rate, DefaultRate)))
	if wait := w.next.Sub(now); wait > time.Millisecond {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
}

// target is an endpoint as a round sends to it: its URL and the secrets
// that sign (the previous one too until its rotation ends), or why none.
type target struct {
	url     string
	secrets []string
	err     error
}

func (w *Worker) target(ctx context.Context, id equipe.ID, now time.Time) *target {
	e, err := w.DB.WebhookEndpointByID(ctx, id)
	if err != nil {
		return &target{err: err}
	}
	t := &target{url: e.URL}
	label := SealLabel(e.ID)
	plain, _, err := w.Keys.Open(e.Secret, e.KeyID, label)
	if err != nil {
		return &target{err: err}
	}
	t.secrets = append(t.secrets, string(plain))
	if e.PreviousSecret != nil && now.Before(e.PreviousUntil) {
		if prev, _, err := w.Keys.Open(e.PreviousSecret, e.PreviousKeyID, label); err == nil {
			t.secrets = append(t.secrets, string(prev))
		}
	}
	return t
}

// SealLabel binds an endpoint's sealed secret to the endpoint, so that a
// sealed secret copied to another endpoint's row does not open.
func SealLabel(endpoint equipe.ID) string { return "webhook:" + endpoint.String() }

// Message is the body of a webhook: the event's type, when it happened,
// and the event in its public form (without the address it came from).
type Message struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// Body returns the body of a delivery: a test message's own, or its
// event's.
func Body(d equipe.WebhookDelivery) ([]byte, error) {
	if d.Payload != "" {
		return []byte(d.Payload), nil
	}
	if d.Event == nil {
		return nil, errors.New("the event is no longer kept")
	}
	e := event.Decode(*d.Event)
	return json.Marshal(Message{Type: string(e.Type), Timestamp: e.At.UTC(), Data: e.Public()})
}

// deliver makes one attempt of d and returns its outcome.
func (w *Worker) deliver(ctx context.Context, t *target, d equipe.WebhookDelivery) store.WebhookOutcome {
	start := w.now()
	a := equipe.WebhookAttempt{ID: equipe.NewID(), EndpointID: d.EndpointID, EventID: d.EventID, At: start}
	code, response, err := w.send(ctx, t, d)
	a.Duration = w.now().Sub(start)
	a.ResponseCode, a.Response = code, response
	if err == nil && (code < 200 || code > 299) {
		err = fmt.Errorf("answered %d", code)
		if code >= 300 && code < 400 {
			err = fmt.Errorf("answered %d: redirects are not followed", code)
		}
	}
	o := store.WebhookOutcome{Attempt: a, Status: equipe.DeliveryDelivered, Next: start}
	if err == nil {
		w.delivered.Add(1)
		return o
	}
	o.Attempt.Error = errorText(err)
	schedule := w.Schedule
	if schedule == nil {
		schedule = Schedule
	}
	attempt := d.Attempts + 1 // this one
	if attempt > len(schedule) {
		w.abandoned.Add(1)
		o.Status = equipe.DeliveryAbandoned
		w.Logger.Warn("webhook delivery abandoned", "endpoint_id", d.EndpointID.String(), "event_id", d.EventID.String(),
			"attempts", attempt, "error", o.Attempt.Error)
		return o
	}
	w.failed.Add(1)
	o.Status, o.Next = equipe.DeliveryQueued, start.Add(schedule[attempt-1])
	return o
}

// send signs and POSTs d to t, and returns the status code and the first
// bytes of the answer.
func (w *Worker) send(ctx context.Context, t *target, d equipe.WebhookDelivery) (int, string, error) {
	if t.err != nil {
		return 0, "", t.err
	}
	body, err := Body(d)
	if err != nil {
		return 0, "", err
	}
	id, at := d.EventID.String(), w.now()
	sig, err := Sign(t.secrets, id, at, body)
	if err != nil {
		return 0, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "equipe-webhooks/1")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	res, err := w.Client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, ResponseBytes))
	// Drain a little more so that the connection can be used again.
	io.CopyN(io.Discard, res.Body, 64<<10)
	return res.StatusCode, storable(string(b)), nil
}

// storable returns s as both engines can store it: valid UTF-8 without NUL
// bytes, which PostgreSQL's text refuses.
func storable(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// errorText is what an attempt keeps of an error: one line, bounded.
func errorText(err error) string {
	s := storable(strings.Join(strings.Fields(err.Error()), " "))
	if len(s) > 500 {
		s = s[:500]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return s
}
