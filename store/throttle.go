package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Throttles count attempts per key (a login email, a client address…) in the
// database, so that limits hold across restarts and across processes. Each
// attempt is one statement that counts it and says whether it may proceed:
// the database's row lock orders concurrent attempts, so fifty at once are
// counted one after the other. The rules (how many, how long) belong to the
// use cases and come in as parameters.

// Progressive is a limit that lets Free attempts through, then blocks the
// key after each further attempt for Delays[n] (the last delay repeating),
// and forgets the count after Decay without attempts. From the Cap-th
// attempt on (if Cap is set), each blocks the key for CapDelay.
type Progressive struct {
	Free     int
	Delays   []time.Duration
	Decay    time.Duration
	Cap      int
	CapDelay time.Duration
}

// delayAfter returns how long the key is blocked after its n-th attempt.
func (p Progressive) delayAfter(n int) time.Duration {
	switch {
	case p.Cap > 0 && n >= p.Cap:
		return p.CapDelay
	case n < p.Free || len(p.Delays) == 0:
		return 0
	}
	return p.Delays[min(n-p.Free, len(p.Delays)-1)]
}

// blockSQL is the SQL expression of blocked_until after an attempt whose
// count is the expression n, at $2. The delays are constants of the limit,
// written into the query text, so each limit is one prepared statement.
func (p Progressive) blockSQL(n string) string {
	var b strings.Builder
	b.WriteString("CASE")
	if p.Cap > 0 {
		fmt.Fprintf(&b, " WHEN %s >= %d THEN $2 + %d", n, p.Cap, p.CapDelay.Microseconds())
	}
	for i := len(p.Delays) - 1; i >= 0; i-- {
		cmp := "="
		if i == len(p.Delays)-1 {
			cmp = ">="
		}
		fmt.Fprintf(&b, " WHEN %s %s %d THEN $2 + %d", n, cmp, p.Free+i, p.Delays[i].Microseconds())
	}
	b.WriteString(" ELSE 0 END")
	return b.String()
}

// AttemptResult says whether an attempt may proceed. In a batch it is known
// once the batch has run.
type AttemptResult struct {
	id, got string
	blocked int64
}

// Allowed reports whether the attempt may proceed.
func (r *AttemptResult) Allowed() bool { return r.got == r.id }

// BlockedUntil returns when the key's block ends, for a refused attempt.
func (r *AttemptResult) BlockedUntil() time.Time { return time.UnixMicro(r.blocked).UTC() }

// Attempt counts an attempt against key at now under the limit p; the
// result says whether the attempt may proceed and, if not, until when the
// key is blocked. A blocked attempt is not counted.
func (w Writes) Attempt(ctx context.Context, key string, now time.Time, p Progressive) (*AttemptResult, error) {
	query, args, id := attemptSQL(key, now, p)
	r := &AttemptResult{id: id}
	err := w.queryRow(ctx, query+` RETURNING blocked_until, attempt`, args, &r.blocked, &r.got)
	return r, err
}

// AttemptAllowed counts an attempt against key at now under the limit p,
// as Attempt does, when the key is not blocked; when it is, it counts
// nothing and answers ENOTFOUND (in a batch: the whole batch takes no
// effect). It is for an attempt already known to be right, whose success
// commits in the same transaction only if the limit still lets it through.
func (w Writes) AttemptAllowed(ctx context.Context, key string, now time.Time, p Progressive) error {
	query, args, _ := attemptSQL(key, now, p)
	return w.execOne(ctx, query+` WHERE throttles.blocked_until <= $2`, args...)
}

// AttemptRefunded is AttemptAllowed followed by Refund(key, p.Free), in one
// statement: an attempt known to be right, let through only if the key is
// not blocked (ENOTFOUND otherwise, undoing a batch), and given back at
// once, as a successful login's is.
func (w Writes) AttemptRefunded(ctx context.Context, key string, now time.Time, p Progressive) error {
	// A first attempt, refunded, leaves a count of 0 and no block when Free
	// is above 0, as Refund leaves it.
	var block int64
	if d := p.delayAfter(1); d > 0 && p.Free <= 0 {
		block = now.Add(d).UnixMicro()
	}
	return w.execOne(ctx, attemptQueries(p).refunded, key, micros(now), block, p.Decay.Microseconds(), int64(p.Free))
}

// AttemptCleared is AttemptAllowed followed by DeleteThrottle(key), in one
// statement: an attempt known to be right, let through only if the key is
// not blocked (ENOTFOUND otherwise, undoing a batch), after which the key
// counts no attempt, as if it had none. The key keeps a row with no count,
// no block and no last attempt, which every reader takes as no row (the
// next attempt starts its count and window afresh); DeleteStaleThrottles
// removes it.
func (w Writes) AttemptCleared(ctx context.Context, key string, now time.Time) error {
	return w.execOne(ctx, `INSERT INTO throttles (key, count, window_start, blocked_until, last_at, attempt)
		VALUES ($1, 0, 0, 0, 0, '')
		ON CONFLICT (key) DO UPDATE SET count = 0, window_start = 0, blocked_until = 0, last_at = 0, attempt = ''
		WHERE throttles.blocked_until <= $2`, key, micros(now))
}

// attemptQuery is the text of the statements of a limit, which depends on
// the limit alone: it is written once per limit, not at every attempt.
type attemptQuery struct {
	attempt  string // see attemptSQL
	refunded string // see AttemptRefunded
}

// limitKey names a limit among the cached statements: the fields the
// statements' text is made of (Decay is an argument). Limits are package
// variables, each with its own array of delays, so the array's address
// tells them apart.
type limitKey struct {
	delays       *time.Duration
	n, free, cap int
	capDelay     time.Duration
}

var attemptQueriesCache sync.Map // limitKey → *attemptQuery

func attemptQueries(p Progressive) *attemptQuery {
	k := limitKey{n: len(p.Delays), free: p.Free, cap: p.Cap, capDelay: p.CapDelay}
	if len(p.Delays) > 0 {
		k.delays = &p.Delays[0]
	}
	if q, ok := attemptQueriesCache.Load(k); ok {
		return q.(*attemptQuery)
	}
	// The count starts again after Decay ($4) without attempts, unless it
	// reached the cap: that takes a success (or the caller deleting the
	// key).
	quiet := `$2 - throttles.last_at > $4`
	if p.Cap > 0 {
		quiet += fmt.Sprintf(" AND throttles.count < %d", p.Cap)
	}
	n := `CASE WHEN ` + quiet + ` THEN 1 ELSE throttles.count + 1 END`
	q := &attemptQuery{attempt: `INSERT INTO throttles (key, count, window_start, blocked_until, last_at, attempt)
		VALUES ($1, 1, $2, $3, $2, $5)
		ON CONFLICT (key) DO UPDATE SET
		count = CASE WHEN throttles.blocked_until > $2 THEN throttles.count ELSE ` + n + ` END,
		window_start = CASE WHEN throttles.blocked_until > $2 OR NOT (` + quiet + `) THEN throttles.window_start ELSE $2 END,
		blocked_until = CASE WHEN throttles.blocked_until > $2 THEN throttles.blocked_until ELSE ` + p.blockSQL("("+n+")") + ` END,
		last_at = CASE WHEN throttles.blocked_until > $2 THEN throttles.last_at ELSE $2 END,
		attempt = CASE WHEN throttles.blocked_until > $2 THEN throttles.attempt ELSE $5 END`}
	// The attempt's count n, then the refund: the count n - 1, and no
	// block below Free ($5), else the block of the n-th attempt. Only an
	// unblocked key is changed, so the cases of a block in force go.
	q.refunded = `INSERT INTO throttles (key, count, window_start, blocked_until, last_at, attempt)
		VALUES ($1, 0, $2, $3, $2, '')
		ON CONFLICT (key) DO UPDATE SET
		count = (` + n + `) - 1,
		window_start = CASE WHEN ` + quiet + ` THEN $2 ELSE throttles.window_start END,
		blocked_until = CASE WHEN (` + n + `) - 1 < $5 THEN 0 ELSE ` + p.blockSQL("("+n+")") + ` END,
		last_at = $2,
		attempt = ''
		WHERE throttles.blocked_until <= $2`
	got, _ := attemptQueriesCache.LoadOrStore(k, q)
	return got.(*attemptQuery)
}

// attemptSQL returns the statement that counts an attempt against key at
// now under p (without its RETURNING or WHERE clause), its arguments and
// the attempt's nonce.
func attemptSQL(key string, now time.Time, p Progressive) (string, []any, string) {
	nonce := make([]byte, 8)
	rand.Read(nonce)
	id := hex.EncodeToString(nonce)
	var block int64
	if d := p.delayAfter(1); d > 0 {
		block = now.Add(d).UnixMicro()
	}
	return attemptQueries(p).attempt, []any{key, micros(now), block, p.Decay.Microseconds(), id}, id
}

// BlockedUntil reads, without counting anything, until when the
// progressive throttles with keys block attempts: the latest of their
// blocks, or a time not after now when none is in force (as Attempt
// would find them).
func (q Queries) BlockedUntil(ctx context.Context, keys ...string) (time.Time, error) {
	if len(keys) == 0 {
		return time.UnixMicro(0).UTC(), nil
	}
	args := make([]any, 0, len(keys))
	in := make([]string, 0, len(keys))
	for _, k := range keys {
		args = append(args, k)
		in = append(in, "$"+itoa(len(args)))
	}
	var until int64
	err := q.q.QueryRowContext(ctx, `SELECT COALESCE(MAX(blocked_until), 0) FROM throttles WHERE key IN (`+strings.Join(in, ", ")+`)`, args...).Scan(&until)
	return time.UnixMicro(until).UTC(), wrap(err)
}

// Refund takes back one attempt of key (it turned out well), lifting the
// block if the count falls below free.
func (w Writes) Refund(ctx context.Context, key string, free int) error {
	_, err := w.exec(ctx, `UPDATE throttles SET count = CASE WHEN count > 0 THEN count - 1 ELSE 0 END,
		blocked_until = CASE WHEN count - 1 < $2 THEN 0 ELSE blocked_until END WHERE key = $1`, key, free)
	return err
}

// Hit counts an attempt against key in fixed windows of length window and
// reports whether it is within the first free of its window; if not, when
// the window ends.
func (w Writes) Hit(ctx context.Context, key string, now time.Time, window time.Duration, free int) (bool, time.Time, error) {
	count, start, err := w.HitCount(ctx, key, now, window)
	if err != nil {
		return false, time.Time{}, err
	}
	if count <= free {
		return true, time.Time{}, nil
	}
	return false, start.Add(window), nil
}

// HitCount counts one more request against key in fixed windows of length
// window, and returns the request's rank in its window and when the window
// started.
func (w Writes) HitCount(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	var count int
	var start int64
	// No deferred write touches the throttles: a unit that defers its
	// writes keeps them waiting (see Tx.Defer).
	err := w.x.queryRowAside(ctx, `INSERT INTO throttles (key, count, window_start, blocked_until, last_at)
		VALUES ($1, 1, $2, 0, $2)
		ON CONFLICT (key) DO UPDATE SET
		count = CASE WHEN $2 - throttles.window_start >= $3 THEN 1 ELSE throttles.count + 1 END,
		window_start = CASE WHEN $2 - throttles.window_start >= $3 THEN $2 ELSE throttles.window_start END,
		last_at = $2
		RETURNING count, window_start`, []any{key, micros(now), window.Microseconds()}, &count, &start)
	if err != nil {
		return 0, time.Time{}, err
	}
	return count, time.UnixMicro(start).UTC(), nil
}

// DeleteThrottle forgets the throttle with key.
func (w Writes) DeleteThrottle(ctx context.Context, key string) error {
	_, err := w.exec(ctx, `DELETE FROM throttles WHERE key = $1`, key)
	return err
}

// DeleteStaleThrottles forgets throttles with no attempt since before and no
// block in force at before. Returns how many.
func (db *DB) DeleteStaleThrottles(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM throttles WHERE last_at < $1 AND blocked_until < $1`, micros(before))
	if err != nil {
		return 0, wrap(err)
	}
	return res.RowsAffected()
}

// HitWindow is where a fixed-window throttle of Hit stands: the requests
// counted in its current window and when that window began.
type HitWindow struct {
	Count int
	Start time.Time
}

// BlockedUntil returns when a request against the throttle may next
// proceed under a limit of free a window, or the zero time when one may
// now: it is what Hit would answer, without counting.
func (h HitWindow) BlockedUntil(now time.Time, window time.Duration, free int) time.Time {
	end := h.Start.Add(window)
	if h.Count < free || !now.Before(end) {
		return time.Time{}
	}
	return end
}

// HitWindows reads, without counting anything, where the fixed-window
// throttles with keys stand; a key never hit is absent.
func (q Queries) HitWindows(ctx context.Context, keys []string) (map[string]HitWindow, error) {
	out := map[string]HitWindow{}
	if len(keys) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(keys))
	in := make([]string, 0, len(keys))
	for _, k := range keys {
		args = append(args, k)
		in = append(in, "$"+itoa(len(args)))
	}
	rows, err := q.q.QueryContext(ctx, `SELECT key, count, window_start FROM throttles WHERE key IN (`+strings.Join(in, ", ")+`)`, args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int
		var start int64
		if err := rows.Scan(&k, &n, &start); err != nil {
			return nil, wrap(err)
		}
		out[k] = HitWindow{Count: n, Start: time.UnixMicro(start).UTC()}
	}
	return out, wrap(rows.Err())
}
