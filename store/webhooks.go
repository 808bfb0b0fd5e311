package store

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/equipe-dev/equipe"
)

// Webhook deliveries are written with the event that causes them, in its
// transaction (RecordAudit), so that an event and its deliveries commit
// together or not at all. Most events have no subscriber, and the write path
// should not pay for webhooks it does not have:
//
//   - On PostgreSQL the deliveries are inserted by the very statement that
//     writes the event (a data-modifying WITH): the endpoints are read in the
//     transaction, so an endpoint created by another process is seen as soon
//     as it commits, and it costs no round trip more. A cache fed by NOTIFY
//     could not do this: a notification arrives after the commit that sends
//     it, and an event written meanwhile by another process would miss the
//     new endpoint.
//   - On SQLite, which serves one process with one writer, the process knows
//     every change of the endpoints: subscriptions caches which (account,
//     type) pairs have an enabled endpoint, so an event nobody subscribes to
//     costs one map lookup. The cache is forgotten inside the transaction
//     that changes an endpoint (before it commits: the next writer, which
//     waits for it, reloads) and again when its change keys are heard after
//     the commit; it is reloaded through the writer's own transaction.

// WebhooksKey is the change key of the webhook endpoints: access caches
// ignore it; the subscriptions cache forgets what it knows.
func WebhooksKey() string { return "w:" }

// deliveriesOf inserts the deliveries of the event $1 of the account $2
// (NULL for none) and type $6, made at $12, as RecordAudit's PostgreSQL
// statement numbers them; $13 is the person whose accounts hear of it too
// (see aboutMember), or NULL.
const deliveriesOf = `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, status, attempts,
	next_attempt_at, created_at)
	SELECT id, $1, $6, 'queued', 0, $12, $12 FROM webhook_endpoints
	WHERE enabled AND (account_id IS NULL OR account_id = $2 OR account_id IN (SELECT account_id FROM members WHERE user_id = $13 AND joined_at IS NOT NULL))
	AND (types = '*' OR strpos(' ' || types || ' ', ' ' || $6 || ' ') > 0)`

// aboutMember returns the person an event of a person's own identity is
// about when each account they are a member of hears of its kind
// (event.MemberTypes): the endpoints of the accounts they joined receive it
// too (an account learns what the instance does to an identity once the
// person joined it, as its team page tells). Otherwise nil. The account is
// the event's stored one (nil for none).
func aboutMember(account any, action, targetType, targetID string) any {
	if account != nil || targetType != "user" || !slices.Contains(memberTypes, action) {
		return nil
	}
	id, err := equipe.ParseID(targetID)
	if err != nil {
		return nil
	}
	return id.String()
}

// memberDeliveries inserts the deliveries of the event $1 of type $2 made
// at $3 to the endpoints of the accounts the person $4 is a member of: for
// a batch of events (eventsRecorded), whose statement queues the others.
const memberDeliveries = `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, status, attempts,
	next_attempt_at, created_at)
	SELECT id, $1, $2, 'queued', 0, $3, $3 FROM webhook_endpoints
	WHERE enabled AND account_id IN (SELECT account_id FROM members WHERE user_id = $4 AND joined_at IS NOT NULL)
	AND (types = '*' OR %s)`

// queueDeliveries is deliveriesOf on SQLite, where the subscriptions cache
// spares the statement for an event that no endpoint subscribes to.
func (w Writes) queueDeliveries(ctx context.Context, e *equipe.AuditEvent) error {
	member := aboutMember(idv(e.AccountID), e.Action, e.TargetType, e.TargetID)
	if _, batch := w.x.(*batchQueue); !batch {
		tw := w.x.(txWriter)
		if ok, err := w.subs.anyFor(ctx, tw.q, e.AccountID, e.Action, member != nil); err != nil || !ok {
			return err
		}
	}
	// A batch runs later, in a transaction of its own: the cache read now
	// might be stale by then, so its events always run the statement.
	n, err := w.exec(ctx, `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, status, attempts,
		next_attempt_at, created_at)
		SELECT id, $1, $3, 'queued', 0, $4, $4 FROM webhook_endpoints
		WHERE enabled AND (account_id IS NULL OR account_id = $2 OR account_id IN (SELECT account_id FROM members WHERE user_id = $5 AND joined_at IS NOT NULL))
		AND (types = '*' OR instr(' ' || types || ' ', ' ' || $3 || ' ') > 0)`,
		e.ID, idv(e.AccountID), e.Action, micros(e.At), member)
	if err == nil && n > 0 {
		w.x.queue()
	}
	return err
}

// subscriptions caches, on SQLite, which accounts (the zero ID for the
// instance) have an enabled endpoint subscribed to which types.
type subscriptions struct {
	mu     sync.Mutex
	gen    uint64
	loaded bool
	set    map[subscription]struct{}
}

type subscription struct {
	account equipe.ID
	typ     string
}

func newSubscriptions() *subscriptions { return &subscriptions{} }

// forget drops what the cache knows.
func (s *subscriptions) forget() {
	s.mu.Lock()
	s.gen++
	s.loaded, s.set = false, nil
	s.mu.Unlock()
}

// heard is the OnChange hook: an endpoint changed, or changes may have been
// missed.
func (s *subscriptions) heard(keys []string) {
	for _, k := range keys {
		if k == WebhooksKey() || k == changeAll {
			s.forget()
			return
		}
	}
}

// anyFor reports whether an enabled endpoint of the account (or of the
// instance; or, for an event about a member, of any account) subscribes to
// typ, loading the cache through q (the writer's transaction) when it is
// empty.
func (s *subscriptions) anyFor(ctx context.Context, q querier, account *equipe.ID, typ string, member bool) (bool, error) {
	s.mu.Lock()
	if !s.loaded {
		gen := s.gen
		s.mu.Unlock()
		set, err := loadSubscriptions(ctx, q)
		if err != nil {
			return false, err
		}
		s.mu.Lock()
		if s.gen == gen {
			s.loaded, s.set = true, set
		}
		defer s.mu.Unlock()
		return set.has(account, typ, member), nil
	}
	defer s.mu.Unlock()
	return subscriptionSet(s.set).has(account, typ, member), nil
}

type subscriptionSet map[subscription]struct{}

// someAccount stands, in a subscription set, for any account: each account
// endpoint's types are also recorded under it.
var someAccount = uuid.Max

func (set subscriptionSet) has(account *equipe.ID, typ string, member bool) bool {
	if len(set) == 0 {
		return false
	}
	accounts := []equipe.ID{{}, deref(account)}
	if member {
		accounts = append(accounts, someAccount)
	}
	for _, a := range accounts {
		if _, ok := set[subscription{a, typ}]; ok {
			return true
		}
		if _, ok := set[subscription{a, equipe.WebhookAllTypes}]; ok {
			return true
		}
	}
	return false
}

func deref(id *equipe.ID) equipe.ID {
	if id == nil {
		return equipe.ID{}
	}
	return *id
}

func loadSubscriptions(ctx context.Context, q querier) (subscriptionSet, error) {
	rows, err := q.QueryContext(ctx, `SELECT account_id, types FROM webhook_endpoints WHERE enabled`)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	set := subscriptionSet{}
	for rows.Next() {
		var account *equipe.ID
		var types string
		if err := rows.Scan(idp(&account), &types); err != nil {
			return nil, wrap(err)
		}
		for _, t := range strings.Fields(types) {
			set[subscription{deref(account), t}] = struct{}{}
			if account != nil {
				set[subscription{someAccount, t}] = struct{}{}
			}
		}
	}
	return set, wrap(rows.Err())
}

// endpointChanged forgets the subscriptions at once, inside the
// transaction, and names the change so that it is forgotten again once it
// commits (and, on PostgreSQL, in other processes).
func (w Writes) endpointChanged() {
	if w.subs != nil {
		w.subs.forget()
	}
	w.x.touch(WebhooksKey())
}

// OnDeliveriesQueued registers fn to hear, after a transaction commits,
// that it queued webhook deliveries: the worker then looks at once.
func (db *DB) OnDeliveriesQueued(fn func()) {
	db.hooksMu.Lock()
	db.queuedHooks = append(db.queuedHooks, fn)
	db.hooksMu.Unlock()
}

func (db *DB) deliveriesQueued() {
	db.hooksMu.RLock()
	defer db.hooksMu.RUnlock()
	for _, fn := range db.queuedHooks {
		fn()
	}
}

const endpointColumns = `id, account_id, url, description, types, enabled, disabled_reason, secret, key_id,
	previous_secret, previous_key_id, previous_until, created_at, updated_at`

func scanEndpoint(row interface{ Scan(...any) error }, e *equipe.WebhookEndpoint) error {
	var types string
	err := row.Scan(&e.ID, idp(&e.AccountID), &e.URL, &e.Description, &types, &e.Enabled, &e.DisabledReason,
		&e.Secret, &e.KeyID, &e.PreviousSecret, &e.PreviousKeyID, ts(&e.PreviousUntil), ts(&e.CreatedAt), ts(&e.UpdatedAt))
	e.Types = strings.Fields(types)
	return err
}

// nullTime stores the zero time as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return micros(t)
}

// CreateWebhookEndpoint writes a new endpoint.
func (w Writes) CreateWebhookEndpoint(ctx context.Context, e *equipe.WebhookEndpoint) error {
	w.endpointChanged()
	_, err := w.exec(ctx, `INSERT INTO webhook_endpoints (`+endpointColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		e.ID, idv(e.AccountID), e.URL, e.Description, strings.Join(e.Types, " "), e.Enabled, e.DisabledReason,
		e.Secret, e.KeyID, e.PreviousSecret, e.PreviousKeyID, nullTime(e.PreviousUntil), micros(e.CreatedAt), micros(e.UpdatedAt))
	return err
}

// UpdateWebhookEndpoint writes every field of an endpoint of its account
// (or of the instance). Returns ENOTFOUND when there is none.
func (w Writes) UpdateWebhookEndpoint(ctx context.Context, e *equipe.WebhookEndpoint) error {
	w.endpointChanged()
	return w.execOne(ctx, `UPDATE webhook_endpoints SET url = $3, description = $4, types = $5, enabled = $6,
		disabled_reason = $7, secret = $8, key_id = $9, previous_secret = $10, previous_key_id = $11,
		previous_until = $12, updated_at = $13
		WHERE id = $1 AND `+ownerIs("$2", e.AccountID), e.ID, idv(e.AccountID), e.URL, e.Description,
		strings.Join(e.Types, " "), e.Enabled, e.DisabledReason, e.Secret, e.KeyID, e.PreviousSecret, e.PreviousKeyID,
		nullTime(e.PreviousUntil), micros(e.UpdatedAt))
}

// DeleteWebhookEndpoint deletes an endpoint of the account (nil: the
// instance) and its deliveries. Returns ENOTFOUND when there is none.
func (w Writes) DeleteWebhookEndpoint(ctx context.Context, account *equipe.ID, id equipe.ID) error {
	w.endpointChanged()
	return w.execOne(ctx, `DELETE FROM webhook_endpoints WHERE id = $1 AND `+ownerIs("$2", account), id, idv(account))
}

// ownerIs is the condition that a row's account_id is the account given as
// param, or NULL when account is nil (the instance): every query of an
// endpoint names its owner, so that no account reaches another's.
func ownerIs(param string, account *equipe.ID) string {
	if account == nil {
		return "(account_id IS NULL AND CAST(" + param + " AS TEXT) IS NULL)"
	}
	return "account_id = " + param
}

// WebhookEndpoint returns the endpoint id of the account (nil: of the
// instance), or ENOTFOUND.
func (q Queries) WebhookEndpoint(ctx context.Context, account *equipe.ID, id equipe.ID) (equipe.WebhookEndpoint, error) {
	var e equipe.WebhookEndpoint
	err := scanEndpoint(q.q.QueryRowContext(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints
		WHERE id = $1 AND `+ownerIs("$2", account), id, idv(account)), &e)
	return e, wrap(err)
}

// WebhookEndpointByID returns the endpoint id whoever owns it (for the
// delivery worker), or ENOTFOUND.
func (q Queries) WebhookEndpointByID(ctx context.Context, id equipe.ID) (equipe.WebhookEndpoint, error) {
	var e equipe.WebhookEndpoint
	err := scanEndpoint(q.q.QueryRowContext(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE id = $1`, id), &e)
	return e, wrap(err)
}

// WebhookEndpoints returns a page of the endpoints of the account (nil: of
// the instance), oldest first, with the cursor of the next page ("" after
// the last).
func (q Queries) WebhookEndpoints(ctx context.Context, account *equipe.ID, p equipe.Page) ([]equipe.WebhookEndpoint, string, error) {
	// Each account's endpoints are a list of their own, and the
	// instance's another: a cursor of another's is refused, not read as a
	// position.
	list := "instance_webhooks"
	if account != nil {
		list = "webhooks/" + account.String()
	}
	pos, err := after(p, list, number, id)
	if err != nil {
		return nil, "", err
	}
	args := []any{idv(account)}
	rows, err := q.q.QueryContext(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints
		WHERE `+ownerIs("$1", account)+keyset(&args, []string{"created_at", "id"}, false, pos, readRows(p)), args...)
	if err != nil {
		return nil, "", wrap(err)
	}
	defer rows.Close()
	var out []equipe.WebhookEndpoint
	for rows.Next() {
		var e equipe.WebhookEndpoint
		if err := scanEndpoint(rows, &e); err != nil {
			return nil, "", wrap(err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(err)
	}
	out, next := equipe.Cut(out, p, list, func(e equipe.WebhookEndpoint) []string { return []string{keyTime(e.CreatedAt), keyID(e.ID)} })
	return out, next, nil
}

const deliveryColumns = `endpoint_id, event_id, event_type, payload, status, attempts, next_attempt_at, response_code,
	last_error_code, last_error, manual, manual_attempts, created_at, last_attempt_at, delivered_at`

func deliveryDest(d *equipe.WebhookDelivery) []any {
	return []any{&d.EndpointID, &d.EventID, &d.EventType, &d.Payload, &d.Status, &d.Attempts, ts(&d.NextAttemptAt),
		&d.ResponseCode, &d.LastErrorCode, &d.LastError, &d.Manual, &d.ManualAttempts, ts(&d.CreatedAt),
		ts(&d.LastAttemptAt), ts(&d.DeliveredAt)}
}

// EnqueueWebhookDelivery writes a delivery that no event causes (a test
// message, with its payload), queued at d.NextAttemptAt.
func (w Writes) EnqueueWebhookDelivery(ctx context.Context, d *equipe.WebhookDelivery) error {
	d.Status = equipe.DeliveryQueued
	_, err := w.exec(ctx, `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, payload, status,
		attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6)`,
		d.EndpointID, d.EventID, d.EventType, d.Payload, micros(d.NextAttemptAt), micros(d.CreatedAt))
	if err == nil {
		w.x.queue()
	}
	return err
}

// SkipQueuedWebhookDeliveries abandons the deliveries of the endpoint that
// wait to be sent (queued), with reason (a message key) as their last
// error and its code, and returns how many: an endpoint enabled again does
// not send at once everything that waited while it was disabled. Each can
// be re-delivered (RequeueWebhookDelivery).
func (w Writes) SkipQueuedWebhookDeliveries(ctx context.Context, endpoint equipe.ID, reason string) (int64, error) {
	return w.exec(ctx, `UPDATE webhook_deliveries SET status = 'abandoned', last_error_code = $2, last_error = $2,
		manual = 0, claim = NULL WHERE endpoint_id = $1 AND status = 'queued'`, endpoint, reason)
}

// RequeueWebhookDelivery makes a delivery of the endpoint due again at now
// (a manual re-delivery), whatever its status but processing: its next
// attempt is manual, outside the retry schedule, which neither it nor its
// failure moves on. A delivery that was delivered is so no longer: it
// waits for its new attempt, which dates it again when it succeeds (the
// earlier success stays among its attempts). Returns ENOTFOUND when there
// is none, ECONFLICT while it is being sent.
func (w Writes) RequeueWebhookDelivery(ctx context.Context, endpoint, event equipe.ID, now time.Time) error {
	n, err := w.exec(ctx, `UPDATE webhook_deliveries SET status = 'queued', next_attempt_at = $3, manual = 1,
		delivered_at = NULL WHERE endpoint_id = $1 AND event_id = $2 AND status <> 'processing'`, endpoint, event, micros(now))
	if err != nil {
		return err
	}
	if n == 0 {
		return equipe.Errorf(equipe.ECONFLICT, "webhook.delivery_in_progress")
	}
	w.x.queue()
	return nil
}

// WebhookDelivery returns a delivery of the endpoint, or ENOTFOUND.
func (q Queries) WebhookDelivery(ctx context.Context, endpoint, event equipe.ID) (equipe.WebhookDelivery, error) {
	var d equipe.WebhookDelivery
	err := q.q.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE endpoint_id = $1 AND event_id = $2`, endpoint, event).Scan(deliveryDest(&d)...)
	return d, wrap(err)
}

// WebhookDeliveries returns the endpoint's deliveries, newest first, older
// than the event before (none: from the newest), limit at most.
func (q Queries) WebhookDeliveries(ctx context.Context, endpoint equipe.ID, before *equipe.ID, limit int) ([]equipe.WebhookDelivery, error) {
	query := `SELECT ` + deliveryColumns + ` FROM webhook_deliveries WHERE endpoint_id = $1`
	args := []any{endpoint, limit}
	if before != nil {
		query += ` AND event_id < $3`
		args = append(args, *before)
	}
	rows, err := q.q.QueryContext(ctx, query+` ORDER BY event_id DESC LIMIT $2`, args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []equipe.WebhookDelivery
	for rows.Next() {
		var d equipe.WebhookDelivery
		if err := rows.Scan(deliveryDest(&d)...); err != nil {
			return nil, wrap(err)
		}
		out = append(out, d)
	}
	return out, wrap(rows.Err())
}

// WebhookAttempts returns the attempts of a delivery, oldest first.
func (q Queries) WebhookAttempts(ctx context.Context, endpoint, event equipe.ID) ([]equipe.WebhookAttempt, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT id, endpoint_id, event_id, at, duration_ms, response_code, response,
		error_code, error FROM webhook_attempts WHERE endpoint_id = $1 AND event_id = $2 ORDER BY at, id`, endpoint, event)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []equipe.WebhookAttempt
	for rows.Next() {
		var a equipe.WebhookAttempt
		var ms int64
		if err := rows.Scan(&a.ID, &a.EndpointID, &a.EventID, ts(&a.At), &ms, &a.ResponseCode, &a.Response, &a.ErrorCode, &a.Error); err != nil {
			return nil, wrap(err)
		}
		a.Duration = time.Duration(ms) * time.Millisecond
		out = append(out, a)
	}
	return out, wrap(rows.Err())
}

// ClaimWebhookDeliveries claims up to limit deliveries due at now for the
// worker whose claim is claim, of enabled endpoints, each with its event's
// row. A claimed delivery is processing until its lease ends (it is then due
// again: a worker that died). Two workers never hold the same delivery: on
// PostgreSQL the rows are locked with SKIP LOCKED, on SQLite the single
// writer serialises claims. Deliveries to the endpoints busy are left:
// their worker has as many under way as it sends them at once.
//
// A batch costs two statements whatever its size, the claim and the read of
// its events, rather than two per delivery: on PostgreSQL each statement is
// a round trip, which is what bounded a burst's deliveries.
func (db *DB) ClaimWebhookDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int, claim string, busy ...equipe.ID) ([]equipe.WebhookDelivery, error) {
	var out []equipe.WebhookDelivery
	until := micros(now.Add(lease))
	except, exceptArgs := notAmong("endpoint_id", 5, busy)
	err := db.Write(ctx, func(tx *Tx) error {
		out = out[:0]
		// While processing, next_attempt_at holds the end of the lease: a
		// claim that lapses makes the delivery due again.
		rows, err := tx.q.QueryContext(ctx, tx.Queries.d.claimStatement("webhook_deliveries", "(endpoint_id, event_id)",
			" AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE enabled)"+except, "", deliveryColumns),
			append([]any{micros(now), limit, claim, until}, exceptArgs...)...)
		if err != nil {
			return wrap(err)
		}
		events := 0
		for rows.Next() {
			var d equipe.WebhookDelivery
			if err := rows.Scan(deliveryDest(&d)...); err != nil {
				rows.Close()
				return wrap(err)
			}
			if d.Payload == "" {
				events++
			}
			out = append(out, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap(err)
		}
		if events == 0 {
			return nil
		}
		// The batch's events, found by the lease the claim just gave: an
		// event the retention removed is missing, its delivery fails.
		rows, err = tx.q.QueryContext(ctx, `SELECT id, account_id, actor_type, actor_id, actor_name, action,
			target_type, target_id, before, after, ip, at FROM audit_events WHERE id IN (SELECT event_id
			FROM webhook_deliveries WHERE status = 'processing' AND next_attempt_at = $2 AND claim = $1 AND payload = '')`,
			claim, until)
		if err != nil {
			return wrap(err)
		}
		defer rows.Close()
		byID := make(map[equipe.ID]*equipe.AuditEvent, events)
		for rows.Next() {
			e := new(equipe.AuditEvent)
			if err := rows.Scan(&e.ID, idp(&e.AccountID), &e.ActorType, idp(&e.ActorID), &e.ActorName, &e.Action,
				&e.TargetType, &e.TargetID, &e.Before, &e.After, &e.IP, ts(&e.At)); err != nil {
				return wrap(err)
			}
			byID[e.ID] = e
		}
		if err := rows.Err(); err != nil {
			return wrap(err)
		}
		for i := range out {
			if out[i].Payload == "" {
				out[i].Event = byID[out[i].EventID]
			}
		}
		return nil
	})
	// The claim's statement returns its rows in no set order: oldest first.
	slices.SortFunc(out, func(a, b equipe.WebhookDelivery) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), bytes.Compare(a.EventID[:], b.EventID[:]))
	})
	return out, err
}

// WebhookOutcome is the result of one attempt of a claimed delivery: the
// attempt, and what becomes of the delivery (delivered, queued again at
// Next, or abandoned). Manual is an attempt outside the schedule (a
// re-delivery).
type WebhookOutcome struct {
	Attempt equipe.WebhookAttempt
	Status  equipe.DeliveryStatus
	Next    time.Time
	Manual  bool
}

// outcomeRow is a WebhookOutcome as RecordWebhookOutcomes passes it to the
// database, one element of a JSON array read as a table (jsonRows).
type outcomeRow struct {
	Endpoint equipe.ID `json:"endpoint_id"`
	Event    equipe.ID `json:"event_id"`
	Attempt  equipe.ID `json:"attempt_id"`
	Status   string    `json:"status"`
	Next     int64     `json:"next_at"`
	At       int64     `json:"at"`
	Millis   int64     `json:"duration_ms"`
	Code     int       `json:"response_code"`
	Response string    `json:"response"`
	ErrCode  string    `json:"error_code"`
	Error    string    `json:"error"`
}

// outcomeColumns are outcomeRow's columns with their PostgreSQL types.
var outcomeColumns = [][2]string{{"endpoint_id", "uuid"}, {"event_id", "uuid"}, {"attempt_id", "uuid"},
	{"status", "text"}, {"next_at", "bigint"}, {"at", "bigint"}, {"duration_ms", "integer"},
	{"response_code", "integer"}, {"response", "text"}, {"error_code", "text"}, {"error", "text"}}

// RecordWebhookOutcomes records, in one transaction, the attempts of
// deliveries the worker holds under claim, and returns the endpoints that
// have failed throughout window (the retry schedule's span): an endpoint
// one of whose deliveries was abandoned at the end of its schedule (not
// after a manual attempt), whose first attempt was window or longer
// before, and none of whose deliveries succeeded since that one was
// queued. An outcome of a delivery the worker no longer holds (its lease
// lapsed and another worker took it) is left out.
//
// However many outcomes, it costs two statements, one for the attempts and
// one for the deliveries, each reading the outcomes from one JSON parameter
// (and one more statement for each abandoned delivery, which is rare).
func (db *DB) RecordWebhookOutcomes(ctx context.Context, claim string, outcomes []WebhookOutcome, window time.Duration) ([]equipe.ID, error) {
	if len(outcomes) == 0 {
		return nil, nil
	}
	rows := make([]outcomeRow, len(outcomes))
	for i, o := range outcomes {
		a := o.Attempt
		rows[i] = outcomeRow{Endpoint: a.EndpointID, Event: a.EventID, Attempt: a.ID, Status: string(o.Status),
			Next: micros(o.Next), At: micros(a.At), Millis: a.Duration.Milliseconds(), Code: a.ResponseCode,
			Response: a.Response, ErrCode: a.ErrorCode, Error: a.Error}
	}
	param, err := json.Marshal(rows)
	if err != nil {
		return nil, err
	}
	v := jsonRows(db.d, "$1", outcomeColumns)
	var failing []equipe.ID
	err = db.Write(ctx, func(tx *Tx) error {
		failing = failing[:0]
		// The attempts first, while the claim still names the deliveries
		// this worker holds.
		if _, err := tx.exec(ctx, `INSERT INTO webhook_attempts (id, endpoint_id, event_id, at, duration_ms,
			response_code, response, error_code, error) SELECT v.attempt_id, v.endpoint_id, v.event_id, v.at,
			v.duration_ms, v.response_code, v.response, v.error_code, v.error FROM `+v+` JOIN webhook_deliveries d
			ON d.endpoint_id = v.endpoint_id AND d.event_id = v.event_id WHERE d.claim = $2 AND d.status = 'processing'`,
			param, claim); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, db.d.recordStatement("webhook_deliveries", outcomeColumns,
			"webhook_deliveries.endpoint_id = v.endpoint_id AND webhook_deliveries.event_id = v.event_id",
			", attempts = attempts + 1, manual_attempts = manual_attempts + manual, manual = 0,"+
				" last_error_code = v.error_code, response_code = v.response_code, last_attempt_at = v.at"), param, claim); err != nil {
			return err
		}
		for _, o := range outcomes {
			if o.Status != equipe.DeliveryAbandoned || o.Manual {
				continue
			}
			a := o.Attempt
			// A success is an attempt without error: a delivery
			// re-delivered since it succeeded shows no delivered_at,
			// but its success still proves the endpoint alive.
			var recorded bool
			var first, since sql.NullInt64
			if err := tx.q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM webhook_attempts WHERE id = $3),
				(SELECT MIN(at) FROM webhook_attempts WHERE endpoint_id = $1 AND event_id = $2),
				(SELECT MAX(at) FROM webhook_attempts WHERE endpoint_id = $1 AND error_code = ''
				AND at >= (SELECT created_at FROM webhook_deliveries WHERE endpoint_id = $1 AND event_id = $2))`,
				a.EndpointID, a.EventID, a.ID).Scan(&recorded, &first, &since); err != nil {
				return wrap(err)
			}
			// The first attempt as far back as the window: failures that
			// came faster than the schedule (whatever made them) are no
			// day of failing.
			if recorded && !since.Valid && first.Valid && first.Int64 <= micros(a.At.Add(-window)) {
				failing = append(failing, a.EndpointID)
			}
		}
		return nil
	})
	return failing, err
}

// jsonRows returns a FROM item, named v, that reads the JSON array of
// objects in the parameter param as a table with the given columns (name,
// PostgreSQL type): one parameter carries any number of rows, so that a
// statement's text, and its prepared form, does not depend on how many.
//
// On SQLite the subquery ends in LIMIT -1 (no limit) so that it is read
// once into a table of its own: without it, the planner merged it into the
// join and read the array again, every element parsed, for each row it
// joined, which made a round's record quadratic in its size (at 100
// deliveries a round, two thirds of the process's CPU time per delivery:
// see docs/performance.md, Webhooks).
func jsonRows(d *dialect, param string, columns [][2]string) string {
	var b strings.Builder
	if d.engine == Postgres {
		b.WriteString("jsonb_to_recordset(CAST(" + param + " AS jsonb)) AS v(")
		for i, c := range columns {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c[0] + " " + c[1])
		}
		b.WriteString(")")
		return b.String()
	}
	b.WriteString("(SELECT ")
	for i, c := range columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("json_extract(value, '$." + c[0] + "') AS " + c[0])
	}
	b.WriteString(" FROM json_each(" + param + ") LIMIT -1) AS v")
	return b.String()
}

// NextWebhookDue returns when the earliest queued or processing delivery of
// an enabled endpoint is due, and false when there is none.
func (q Queries) NextWebhookDue(ctx context.Context) (time.Time, bool, error) {
	var t time.Time
	err := q.q.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM webhook_deliveries
		WHERE status IN ('queued', 'processing')
		AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE enabled)`).Scan(ts(&t))
	if err != nil {
		return time.Time{}, false, wrap(err)
	}
	return t, !t.IsZero(), nil
}

// WebhookEndpointsSealedElsewhere returns the endpoints whose signing
// secret, or previous secret, is sealed under a key other than keyID, at
// most limit, for sealing again under the current key.
func (q Queries) WebhookEndpointsSealedElsewhere(ctx context.Context, keyID string, limit int) ([]equipe.WebhookEndpoint, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints
		WHERE key_id <> $1 OR (previous_key_id <> '' AND previous_key_id <> $1) ORDER BY id LIMIT `+itoa(limit), keyID)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []equipe.WebhookEndpoint
	for rows.Next() {
		var e equipe.WebhookEndpoint
		if err := scanEndpoint(rows, &e); err != nil {
			return nil, wrap(err)
		}
		out = append(out, e)
	}
	return out, wrap(rows.Err())
}

// ResealWebhookSecrets writes e's secret and previous secret, sealed again,
// if they are still sealed under oldKeyID and oldPreviousKeyID: ENOTFOUND
// if the endpoint went or its secret was rotated meanwhile.
func (w Writes) ResealWebhookSecrets(ctx context.Context, e *equipe.WebhookEndpoint, oldKeyID, oldPreviousKeyID string) error {
	return w.execOne(ctx, `UPDATE webhook_endpoints SET secret = $2, key_id = $3, previous_secret = $4, previous_key_id = $5
		WHERE id = $1 AND key_id = $6 AND previous_key_id = $7`,
		e.ID, e.Secret, e.KeyID, e.PreviousSecret, e.PreviousKeyID, oldKeyID, oldPreviousKeyID)
}
