package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/outbox"
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
	DefaultBatch       = outbox.DefaultBatch
	DefaultConcurrency = outbox.DefaultConcurrency
	DefaultPoll        = outbox.DefaultPoll
	// DefaultRate is how many requests a worker starts a second at most:
	// a burst of 10,000 events goes out in 25 s, using a share of the CPU
	// small enough that the service's requests hardly notice (see
	// docs/performance.md), rather than taking it all for a few seconds.
	DefaultRate = 400
	// DefaultLease is how long a claim holds a batch: longer than a batch can
	// take (each request gives up after Timeout), after which the
	// deliveries of a worker that died are due again.
	DefaultLease = outbox.DefaultLease
)

// ResponseBytes is how much of an answer an attempt keeps.
const ResponseBytes = 1024

// Worker delivers the queued deliveries, through the loop of package
// outbox. Any number of workers, in one process or many, may run on one
// database: a claim holds a batch under a lease, and a delivery whose lease
// lapses (its worker died) is claimed again. Delivery is therefore at least
// once; a repeat carries the same webhook-id, by which receivers recognise
// it.
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
	// Viewer, when set, is asked at each round for how its events are
	// seen (team.Service.WebhookViewer): an endpoint receives an event as
	// its owner may read it. Without it, events go out as recorded.
	Viewer func() Viewer

	setupOnce sync.Once
	loop      outbox.Worker[job]

	delivered, failed, abandoned atomic.Uint64
}

func (w *Worker) setup() {
	w.setupOnce.Do(func() {
		if w.Client == nil {
			w.Client = Rules{}.Client(w.timeout(), nil)
		}
		if w.Logger == nil {
			w.Logger = slog.New(slog.DiscardHandler)
		}
		schedule := w.Schedule
		if schedule == nil {
			schedule = Schedule
		}
		w.loop = outbox.Worker[job]{Queue: queue{w}, Name: "webhook delivery", Log: w.Logger, Now: w.Now,
			Schedule: schedule, Batch: w.Batch, Concurrency: w.Concurrency, Lease: w.Lease,
			Rate: orDefault(w.Rate, DefaultRate), Poll: w.Poll, OnRound: w.OnRound}
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
	w.loop.Wake()
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
	return w.loop.Run(ctx)
}

// RunOnce claims the deliveries due now (up to Batch), sends them and
// records the outcomes. It returns how many it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	w.setup()
	return w.loop.RunOnce(ctx)
}

// Viewer returns the event e as an endpoint of the account (nil: of the
// instance) may receive it.
type Viewer func(ctx context.Context, endpoint *equipe.ID, e event.Event) (event.Event, error)

// job is a claimed delivery, the endpoint it goes to, and its body (or why
// it has none).
type job struct {
	d    equipe.WebhookDelivery
	t    *target
	body []byte
	err  error
}

// queue is the webhook deliveries as the outbox loop sees them.
type queue struct{ w *Worker }

// Claim claims a batch and reads each of its endpoints once.
func (q queue) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int, claim string, busy []string) ([]job, error) {
	ds, err := q.w.DB.ClaimWebhookDeliveries(ctx, now, lease, limit, claim, equipe.ParseIDs(busy)...)
	if err != nil {
		return nil, err
	}
	endpoints := map[equipe.ID]*target{}
	var view Viewer
	if q.w.Viewer != nil {
		view = q.w.Viewer()
	}
	jobs := make([]job, len(ds))
	for i, d := range ds {
		t, ok := endpoints[d.EndpointID]
		if !ok {
			t = q.w.target(ctx, d.EndpointID, now)
			endpoints[d.EndpointID] = t
		}
		jobs[i] = job{d: d, t: t}
		if t.err == nil {
			jobs[i].body, jobs[i].err = body(ctx, d, t.account, view)
		}
	}
	return jobs, nil
}

// Attempt is the delivery's place in the retry schedule, which counts the
// attempts the schedule made: a manual re-delivery takes the place of the
// last of them (at least the first), so that when it fails the wait that
// follows is the one the schedule was at, and a delivery whose schedule was
// spent is abandoned again. However many times someone re-delivers, the
// schedule, and the day it spans before the endpoint is disabled, stay.
func (q queue) Attempt(j job) int {
	scheduled := j.d.Attempts - j.d.ManualAttempts
	if j.d.Manual {
		return max(scheduled, 1)
	}
	return scheduled + 1
}

// Key is the delivery's endpoint: one that answers late holds up its own
// deliveries only.
func (q queue) Key(j job) string { return j.d.EndpointID.String() }

func (q queue) Attrs(j job) []any {
	return []any{"endpoint_id", j.d.EndpointID.String(), "event_id", j.d.EventID.String()}
}

// Send signs and POSTs the delivery: an answer other than 2xx fails it.
// A failure's error carries its code (ErrorCode).
func (q queue) Send(ctx context.Context, j job, _ time.Time) outbox.Result {
	code, response, err := q.w.send(ctx, j)
	if err == nil && (code < 200 || code > 299) {
		err = &deliveryError{code: ErrorStatus, err: fmt.Errorf("answered %d", code)}
		if code >= 300 && code < 400 {
			err = &deliveryError{code: ErrorRedirect, err: fmt.Errorf("answered %d: redirects are not followed", code)}
		}
	}
	return outbox.Result{Err: err, Code: code, Response: response}
}

// Record records the attempts, and disables the endpoints that failed
// throughout their retries.
func (q queue) Record(ctx context.Context, claim string, outcomes []outbox.Outcome[job]) error {
	w := q.w
	rows := make([]store.WebhookOutcome, len(outcomes))
	for i, o := range outcomes {
		d := o.Item.d
		rows[i] = store.WebhookOutcome{Attempt: equipe.WebhookAttempt{ID: equipe.NewID(), EndpointID: d.EndpointID,
			EventID: d.EventID, At: o.At, Duration: o.Duration, ResponseCode: o.Code, Response: o.Response,
			ErrorCode: ErrorCode(o.Err), Error: o.Error},
			Status: equipe.DeliveryStatus(o.Status), Next: o.Next, Manual: d.Manual}
		switch o.Status {
		case outbox.Delivered:
			w.delivered.Add(1)
		case outbox.Abandoned:
			w.abandoned.Add(1)
		default:
			w.failed.Add(1)
		}
	}
	failing, err := w.DB.RecordWebhookOutcomes(ctx, claim, rows, span(w.loop.Schedule))
	if err != nil {
		return fmt.Errorf("record deliveries: %w", err)
	}
	var errs []error
	for _, id := range failing {
		w.Logger.Warn("webhook endpoint failing throughout its retries: disabled", "endpoint_id", id.String())
		if w.Disable != nil {
			if err := w.Disable(ctx, id); err != nil {
				errs = append(errs, fmt.Errorf("disable endpoint %s: %w", id, err))
			}
		}
	}
	return errors.Join(errs...)
}

// target is an endpoint as a round sends to it: its URL and the secrets
// that sign (the previous one too until its rotation ends), or why none.
type target struct {
	url     string
	account *equipe.ID // the endpoint's (nil: the instance's)
	secrets []string
	err     error
}

func (w *Worker) target(ctx context.Context, id equipe.ID, now time.Time) *target {
	e, err := w.DB.WebhookEndpointByID(ctx, id)
	if err != nil {
		return &target{err: err}
	}
	t := &target{url: e.URL, account: e.AccountID}
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
// event's as recorded.
func Body(d equipe.WebhookDelivery) ([]byte, error) {
	return body(context.Background(), d, nil, nil)
}

// body returns the body of a delivery to an endpoint of the account (nil:
// of the instance): its event as view gives it (nil: as recorded).
func body(ctx context.Context, d equipe.WebhookDelivery, account *equipe.ID, view Viewer) ([]byte, error) {
	if d.Payload != "" {
		return []byte(d.Payload), nil
	}
	if d.Event == nil {
		return nil, errEventGone
	}
	e := event.Decode(*d.Event)
	if view != nil {
		var err error
		if e, err = view(ctx, account, e); err != nil {
			return nil, err
		}
	}
	return json.Marshal(Message{Type: string(e.Type), Timestamp: e.At.UTC(), Data: e.Public()})
}

// send signs and POSTs j's body to its endpoint, and returns the status
// code and the first bytes of the answer.
func (w *Worker) send(ctx context.Context, j job) (int, string, error) {
	t, d, body := j.t, j.d, j.body
	if t.err != nil {
		return 0, "", t.err
	}
	if j.err != nil {
		return 0, "", j.err
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
		return 0, "", withoutResolver(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, ResponseBytes))
	// Drain a little more so that the connection can be used again.
	io.CopyN(io.Discard, res.Body, 64<<10)
	return res.StatusCode, outbox.Storable(string(b)), nil
}

// withoutResolver is err as the delivery log keeps it, which the account's
// administrators read: a failed name lookup says which name and why, not
// which of the instance's DNS servers answered.
func withoutResolver(err error) error {
	var dns *net.DNSError
	if !errors.As(err, &dns) {
		return err
	}
	why := dns.Err
	if dns.IsNotFound {
		why = "no such host"
	}
	return &deliveryError{code: ErrorUnresolved, err: fmt.Errorf("could not resolve %s: %s", dns.Name, why)}
}

// span is how long a schedule's retries take: the least time between a
// delivery's first attempt and its abandonment.
func span(schedule []time.Duration) time.Duration {
	var d time.Duration
	for _, wait := range schedule {
		d += wait
	}
	return d
}

// Delivery errors, as the log keeps them beside the error's text: stable
// codes that are message keys, translated where they are shown.
const (
	ErrorStatus            = "webhooks.error_status"   // an answer other than 2xx (its code beside)
	ErrorRedirect          = "webhooks.error_redirect" // a 3xx answer, never followed
	ErrorTimeout           = "webhooks.error_timeout"
	ErrorConnectionRefused = "webhooks.error_connection_refused"
	ErrorAddressRefused    = "webhooks.error_address_refused" // the rules refuse the address dialled
	ErrorUnresolved        = "webhooks.error_unresolved"
	ErrorTLS               = "webhooks.error_tls"
	ErrorEventGone         = "webhooks.error_event_gone" // the retention removed the event
	ErrorOther             = "webhooks.error_other"
)

// deliveryError is a failure whose code is known where it happens.
type deliveryError struct {
	code string
	err  error
}

func (e *deliveryError) Error() string { return e.err.Error() }
func (e *deliveryError) Unwrap() error { return e.err }

// errEventGone is the failure of a delivery whose event is no longer kept.
var errEventGone = &deliveryError{code: ErrorEventGone, err: errors.New("the event is no longer kept")}

// ErrorCode returns the code of a delivery's failure, "" for none.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var de *deliveryError
	var cert *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var record tls.RecordHeaderError
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.As(err, &de):
		return de.code
	case errors.Is(err, errRefused):
		return ErrorAddressRefused
	case errors.As(err, &dns), errors.Is(err, errNoAddress):
		return ErrorUnresolved
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrorConnectionRefused
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return ErrorTimeout
	case errors.As(err, &cert), errors.As(err, &unknownAuthority), errors.As(err, &hostname),
		errors.As(err, &invalid), errors.As(err, &record):
		return ErrorTLS
	}
	return ErrorOther
}
