package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/outbox"
	"github.com/equipe-dev/equipe/store"
)

// Worker defaults.
const (
	DefaultMaxAttempts = 100
	DefaultMaxAge      = 72 * time.Hour
	DefaultBaseDelay   = 30 * time.Second
	DefaultMaxDelay    = time.Hour
	DefaultLease       = 20 * time.Second
	DefaultBatch       = 10
	DefaultPoll        = 2 * time.Second
)

// markTimeout bounds recording an outcome.
const markTimeout = 15 * time.Second

// maxErrorLen bounds the error kept in the outbox.
const maxErrorLen = 1000

// Worker delivers the outbox: it claims due emails, sends them and records
// the outcome, retrying failures with exponential back-off. Any number of
// workers, in one process or many, may run on one database: a claim holds
// an email under a lease, and an email whose lease lapses (its worker died)
// is claimed again. Delivery is therefore at least once; a repeat carries
// the same Message-ID.
//
// The lease is short and renewed. While a worker holds emails it renews
// their lease every Renew (a heartbeat), the email being sent included, so
// a slow SMTP server never lets a live claim lapse; when a worker dies its
// claims lapse within Lease of its last renewal, and its emails are
// claimed again that soon rather than after the longest send could take.
// A lease long enough to outlast any send (it was two minutes) makes the
// emails of a dead worker wait that long; a short lease without renewal
// lets a live but slow send be claimed and sent a second time. Holding a
// row lock for the length of the send instead would tie a transaction to
// a network call and, on SQLite, block every write meanwhile; and a
// process id means nothing across hosts, so a dead claim is known only by
// its lapse. The heartbeat costs one UPDATE every Renew while the worker
// holds emails, none while it is idle. What it cannot cover: a process
// frozen, or cut off from the database, for longer than the lease while a
// send is in flight, after which another worker may send the email too.
//
// The emails of a round are sent one at a time. When the server cannot be
// reached at all, the rest of the round fails with the same error and
// back-off without being tried, so an outage costs one timeout per round
// rather than one per email; and a round whose lease is not being renewed
// stops, giving its remaining emails back, before the lease could run out.
//
// Set the fields before the first call to Run, RunOnce or Wake and leave
// them alone afterwards.
type Worker struct {
	DB     *store.DB
	Sender Sender
	Logger *slog.Logger     // default: discard
	Now    func() time.Time // default time.Now

	// MaxAge is how long an email is retried after temporary failures
	// before it is abandoned with its last error kept (default 72 h): an
	// SMTP outage shorter than that delays mail and loses none.
	MaxAge time.Duration
	// MaxAttempts bounds the attempts whatever the age (default 100; with
	// the default back-off that is about four days).
	MaxAttempts int
	// BaseDelay and MaxDelay shape the back-off: the retry after attempt n
	// waits BaseDelay·2^(n-1), capped at MaxDelay, give or take 10 %
	// (defaults 30 s and 1 h).
	BaseDelay, MaxDelay time.Duration
	// Lease is how long a claim holds an email without renewal (default
	// 20 s): the longest the emails of a worker that died wait before
	// another claims them. It need not outlast a send, which renewal
	// covers, but it must outlast a few missed renewals and the clock
	// difference between the hosts of the workers, which compare their
	// own time with each other's lease ends.
	Lease time.Duration
	// Renew is how often a worker renews the lease of the emails it holds
	// (default Lease/4, 5 s: a claim survives three renewals missed or
	// slowed by a busy database).
	Renew time.Duration
	// Batch is how many emails a round claims (default 10).
	Batch int
	// Poll is how often an idle worker looks for due emails (default 2 s),
	// so that emails queued by other processes, and retries, are found
	// without a Wake.
	Poll time.Duration
	// OnRound, when set, is called after each round of Run, once its
	// outcomes are recorded: a test waits on it for what it expects of the
	// outbox instead of looking again and again.
	OnRound func()

	setupOnce sync.Once
	claim     string
	wake      chan struct{}

	sent, failed, abandoned atomic.Uint64
}

func (w *Worker) setup() {
	w.setupOnce.Do(func() {
		w.claim = outbox.NewClaim()
		w.wake = make(chan struct{}, 1)
	})
}

func (w *Worker) logger() *slog.Logger {
	if w.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Logger
}

func (w *Worker) now() time.Time {
	if w.Now == nil {
		return time.Now()
	}
	return w.Now()
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Wake asks the worker to look for due emails now rather than at its next
// poll: an email was just committed. It never blocks.
func (w *Worker) Wake() {
	w.setup()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Stats returns how many emails this worker sent, how many attempts failed
// (counting those not tried because the server was unavailable) and will be
// retried, and how many emails it abandoned.
func (w *Worker) Stats() (sent, failed, abandoned uint64) {
	return w.sent.Load(), w.failed.Load(), w.abandoned.Load()
}

// Run delivers emails until ctx is done, then returns nil. On shutdown it
// finishes the email in hand (the send and its record are not cancelled)
// and releases the rest of its claim for others. Database errors are logged
// and retried at the next poll. Run returns an error only when the worker
// lacks a DB or a Sender.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.check(); err != nil {
		return err
	}
	w.setup()
	batch := orDefault(w.Batch, DefaultBatch)
	poll := orDefault(w.Poll, DefaultPoll)
	timer := time.NewTimer(poll)
	defer timer.Stop()
	for {
		_, claimed, err := w.round(ctx)
		if w.OnRound != nil {
			w.OnRound()
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			w.logger().Warn("outbox round failed", "error", err)
		} else if claimed == batch {
			continue // a full batch: more may be due already
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

// RunOnce claims the emails due now (up to Batch), delivers them and
// records the outcomes. It returns how many were sent. The error reports a
// failure to claim or to record an outcome; delivery failures are recorded
// in the outbox, not returned.
func (w *Worker) RunOnce(ctx context.Context) (sent int, err error) {
	if err := w.check(); err != nil {
		return 0, err
	}
	w.setup()
	sent, _, err = w.round(ctx)
	return sent, err
}

func (w *Worker) check() error {
	if w.DB == nil || w.Sender == nil {
		return errors.New("mail: the worker needs a DB and a Sender")
	}
	return nil
}

func (w *Worker) round(ctx context.Context) (sent, claimed int, err error) {
	lease := orDefault(w.Lease, DefaultLease)
	emails, err := w.DB.ClaimEmails(ctx, w.now(), lease, orDefault(w.Batch, DefaultBatch), w.claim)
	if err != nil {
		return 0, 0, fmt.Errorf("claim emails: %w", err)
	}
	if len(emails) == 0 {
		return 0, 0, nil
	}
	// While processing, NextAttemptAt holds the end of the lease.
	leaseEnd, stop := w.renew(ctx, emails[0].NextAttemptAt)
	defer stop()
	var errs []error
	var down error
	for i, e := range emails {
		if ctx.Err() != nil {
			errs = append(errs, w.release(ctx, emails[i:]))
			break
		}
		if down != nil {
			// The server could not be reached for the previous email: this
			// one would wait out the same timeouts to fail the same way.
			errs = append(errs, w.record(ctx, e, fmt.Errorf("not tried, the server was unavailable: %w", down), 0))
			continue
		}
		// The renewals keep the lease of a batch ahead of its sends. When
		// they stop succeeding (the database is out of reach), start no
		// send whose lease may lapse before it ends, or another worker
		// could claim the email and send it too.
		if left := leaseEnd().Sub(w.now()); left < lease/2 {
			errs = append(errs, w.release(ctx, emails[i:]))
			break
		}
		start := time.Now()
		// The email in hand is finished even when shutdown begins:
		// cancelling a send half-way would leave the server unsure whether
		// it was delivered.
		sendErr := w.Sender.Send(context.WithoutCancel(ctx), e)
		took := time.Since(start)
		if sendErr == nil {
			sent++
		} else if unavailable(sendErr) {
			down = sendErr
		}
		errs = append(errs, w.record(ctx, e, sendErr, took))
	}
	return sent, len(emails), errors.Join(errs...)
}

// renew renews, every Renew until stop is called, the lease of the emails
// the worker holds, which the claim gave until end. leaseEnd returns the
// end of the lease last granted. The renewals go on after ctx is done,
// while shutdown finishes the email in hand; stop ends them and waits for
// the one in flight.
func (w *Worker) renew(ctx context.Context, end time.Time) (leaseEnd func() time.Time, stop func()) {
	lease := orDefault(w.Lease, DefaultLease)
	every := orDefault(w.Renew, max(lease/4, time.Millisecond))
	var last atomic.Int64
	last.Store(end.UnixNano())
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			until := w.now().Add(lease)
			// A renewal that comes after half the lease is of little use.
			rctx, rcancel := context.WithTimeout(ctx, lease/2)
			_, err := w.DB.RenewEmailClaims(rctx, w.claim, until)
			rcancel()
			switch {
			case err == nil:
				last.Store(until.UnixNano())
			case ctx.Err() == nil:
				w.logger().Warn("outbox lease not renewed", "error", err)
			}
		}
	}()
	return func() time.Time { return time.Unix(0, last.Load()) }, func() { cancel(); <-done }
}

// record writes the outcome of an attempt to the outbox and the log: sent,
// queued again after a back-off, or abandoned. It returns an error only
// when the outbox cannot be written (the email is then claimed again once
// the lease lapses).
func (w *Worker) record(ctx context.Context, e equipe.Email, sendErr error, took time.Duration) error {
	// Recording runs even after shutdown has begun: an email that left must
	// be marked sent, or it will leave again.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
	defer cancel()
	now := w.now()
	log := w.logger().With("email_id", e.ID.String(), "template", e.Template, "to_domain", domain(e.To),
		"attempt", e.Attempts)
	if sendErr == nil {
		w.sent.Add(1)
		log.Info("email sent", "outcome", "sent", "duration", took.Round(time.Millisecond))
		if err := w.DB.MarkEmailSent(ctx, e.ID, w.claim, now); err != nil {
			return fmt.Errorf("mark email %s sent: %w", e.ID, err)
		}
		return nil
	}
	msg := errorText(sendErr)
	logged := redactAddress(msg, e.To)
	maxAttempts := orDefault(w.MaxAttempts, DefaultMaxAttempts)
	maxAge := orDefault(w.MaxAge, DefaultMaxAge)
	if Permanent(sendErr) || e.Attempts >= maxAttempts || now.Sub(e.CreatedAt) >= maxAge {
		w.abandoned.Add(1)
		reason := "permanent failure"
		switch {
		case Permanent(sendErr):
		case e.Attempts >= maxAttempts:
			reason = fmt.Sprintf("%d attempts failed", e.Attempts)
		default:
			reason = fmt.Sprintf("still failing after %s", now.Sub(e.CreatedAt).Round(time.Minute))
		}
		log.Error("email abandoned", "outcome", "abandoned", "reason", reason, "error", logged)
		if err := w.DB.MarkEmailFailed(ctx, e.ID, w.claim, msg, now, true); err != nil {
			return fmt.Errorf("mark email %s abandoned: %w", e.ID, err)
		}
		return nil
	}
	w.failed.Add(1)
	next := now.Add(w.backoff(e.Attempts))
	log.Warn("email not sent, will retry", "outcome", "retry", "retry_at", next.UTC(), "error", logged)
	if err := w.DB.MarkEmailFailed(ctx, e.ID, w.claim, msg, next, false); err != nil {
		return fmt.Errorf("mark email %s failed: %w", e.ID, err)
	}
	return nil
}

// release gives back claimed emails left unsent (by shutdown, or for want
// of lease), due at once, so that no worker need wait for the lease to
// lapse. Their last
// error is kept; the claim has counted as an attempt.
func (w *Worker) release(ctx context.Context, emails []equipe.Email) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
	defer cancel()
	now := w.now()
	var errs []error
	for _, e := range emails {
		if err := w.DB.MarkEmailFailed(ctx, e.ID, w.claim, e.LastError, now, false); err != nil {
			errs = append(errs, fmt.Errorf("release email %s: %w", e.ID, err))
		}
	}
	return errors.Join(errs...)
}

// backoff returns the wait before the retry that follows the given attempt.
func (w *Worker) backoff(attempt int) time.Duration {
	base := orDefault(w.BaseDelay, DefaultBaseDelay)
	limit := orDefault(w.MaxDelay, DefaultMaxDelay)
	d := base
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	// A little jitter, so that emails failed by one outage do not all come
	// back at the same instant.
	if spread := int64(d) / 5; spread > 0 {
		d += time.Duration(mrand.Int64N(spread+1) - spread/2)
	}
	return min(d, limit)
}

// errorText is what the outbox keeps of a failure: one line, bounded.
func errorText(err error) string {
	s := oneLine(err.Error())
	if len(s) > maxErrorLen {
		s = strings.ToValidUTF8(s[:maxErrorLen], "") + "…"
	}
	return s
}

// domain returns the domain of an address: logs name the recipient's
// domain, which helps with a provider's outage, and not the person.
func domain(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(addr[i+1:])
	}
	return ""
}

// redactAddress removes the recipient's address from an error before it is
// logged: SMTP replies often quote it.
func redactAddress(s, addr string) string {
	if addr == "" {
		return s
	}
	r := "…@" + domain(addr)
	return strings.ReplaceAll(strings.ReplaceAll(s, addr, r), strings.ToLower(addr), r)
}

// Backlog returns how many emails wait to be sent and when the oldest of
// them was queued (zero when none waits).
func (w *Worker) Backlog(ctx context.Context) (int, time.Time, error) {
	return w.DB.OutboxBacklog(ctx)
}
