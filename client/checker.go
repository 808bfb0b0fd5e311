package client

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
)

// CheckerOptions configures a Checker.
type CheckerOptions struct {
	// StaleAfter bounds how long the Checker answers from what it holds
	// while the change stream is down (it may miss changes meanwhile).
	// Past it, checks go to the service over HTTP, or, with FailClosed,
	// are denied. Default 10 s.
	StaleAfter time.Duration
	// FailClosed denies every check (ReasonStale, ErrStale) while the
	// stream has been down longer than StaleAfter, instead of asking the
	// service.
	FailClosed bool
	// StreamIdle is how long the stream may stay silent before the
	// Checker takes it for dead and connects again; the service sends a
	// heartbeat every 15 s. Default 35 s.
	StreamIdle time.Duration
	// OnError, when set, hears the errors of the stream and of loads (for
	// logging); checks never fail open because of them.
	OnError func(error)
	// MaxMembers bounds how many members (a user in an account, or a user
	// known not to be one) the Checker holds. Past it, a load forgets the
	// least recently asked tenth, which the next check of each loads
	// again. Default DefaultMaxMembers.
	MaxMembers int
}

// DefaultMaxMembers is the default of CheckerOptions.MaxMembers.
const DefaultMaxMembers = 100_000

// ReasonStale is the reason of a check denied because the change stream
// has been down longer than StaleAfter, with FailClosed.
const ReasonStale access.Reason = "denied_stream_stale"

// ErrStale is returned with a ReasonStale denial.
var ErrStale = errors.New("client: the change stream has been down longer than StaleAfter")

// Checker decides checks in the vendor's process with package access, the
// function the service decides with: it loads the compiled access of each
// member it is asked about once (GET …/access-state), then answers from
// memory in well under a microsecond without allocating. It follows the
// change stream (GET /api/v1/changes) and forgets an account's members as
// soon as an event of that account arrives (or of its firm, or of a person
// it holds), loading them again at the next check; a change made anywhere
// is thus reflected as fast as the stream delivers it.
//
// When the stream is down it reconnects with Last-Event-ID; past StaleAfter
// it answers through the service's POST /api/v1/check (or denies, with
// FailClosed), never from what may be out of date; when the service says
// its cursor is too old (changes.cursor_expired) it forgets everything.
// A Checker is safe for concurrent use; Close stops it.
type Checker struct {
	c      *Client
	stream *http.Client
	cat    *access.Catalogue
	opts   CheckerOptions

	state atomic.Pointer[checkerState]
	stale atomic.Bool
	// clock counts loads: a check stamps the member it finds with it, and
	// eviction forgets the members with the oldest stamps (see touch).
	clock atomic.Uint64

	mu sync.Mutex // serialises changes of state, the forgettings, cursor, down
	// forgot counts the times the Checker forgot something; forgotAccount
	// and forgotUser hold, for an account and for a person, the count of
	// the last time it was forgotten because of them while loads were
	// under way (loading counts them), and forgotAll that of the last time
	// everything was. A load installs what it read only if nothing it read
	// was forgotten since it began (see load); once no load is under way,
	// the maps are emptied, so that they hold no more than what happened
	// during loads.
	forgot        uint64
	forgotAccount map[equipe.ID]uint64
	forgotUser    map[equipe.ID]uint64
	forgotAll     uint64
	loading       int
	// follows says, for a firm, whether the key's stream carries its log
	// (see followsFirm).
	follows map[equipe.ID]bool
	cursor  string
	down    uint64 // how many times the stream went down (see watch)
	isDown  bool
	applied signal

	cancel context.CancelFunc
	done   chan struct{}
}

type memberKey struct{ account, user equipe.ID }

// checkerState is what the Checker holds: replaced as a whole on every
// change (copy on write), so that Check reads it without a lock.
type checkerState struct {
	accounts map[equipe.ID]*heldAccount
	members  map[memberKey]*heldMember
}

// heldMember is a compiled member (nil: known not to be one) with the
// account it was compiled in, found with one lookup, and when it was last
// asked about (a value of Checker.clock).
type heldMember struct {
	m     *access.Member
	a     *access.Account
	asked atomic.Uint64
}

// touch stamps h as asked now. It is what keeps the least recently asked
// order without a lock on the hot path: the clock moves only at loads, so
// that between two loads a member asked again and again is written once,
// and otherwise only read (no cache line bounced between CPUs).
func (k *Checker) touch(h *heldMember) {
	if now := k.clock.Load(); h.asked.Load() != now {
		h.asked.Store(now)
	}
}

type heldAccount struct {
	a      *access.Account // nil: no such account, or out of the key's reach
	parent *equipe.ID
	users  []equipe.ID
}

// NewChecker returns a Checker that follows the change stream from now on.
// It reads the instance's catalogue and the stream's end before returning.
func (c *Client) NewChecker(ctx context.Context, opts CheckerOptions) (*Checker, error) {
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = 10 * time.Second
	}
	if opts.StreamIdle <= 0 {
		opts.StreamIdle = 35 * time.Second
	}
	if opts.MaxMembers <= 0 {
		opts.MaxMembers = DefaultMaxMembers
	}
	cat, err := c.Catalogue(ctx)
	if err != nil {
		return nil, err
	}
	end, err := c.Changes(ctx, "now", 0)
	if err != nil {
		return nil, err
	}
	// The stream's requests last: the same transport, without a timeout
	// (the stream watches for heartbeats itself).
	sc := *c.http
	sc.Timeout = 0
	k := &Checker{c: c, stream: &sc, cat: cat, opts: opts, forgotAccount: map[equipe.ID]uint64{},
		forgotUser: map[equipe.ID]uint64{}, follows: map[equipe.ID]bool{}, cursor: end.NextCursor,
		done: make(chan struct{})}
	k.state.Store(&checkerState{accounts: map[equipe.ID]*heldAccount{}, members: map[memberKey]*heldMember{}})
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	k.cancel = cancel
	k.wentDown()
	go k.run(rctx)
	return k, nil
}

// Close stops following the stream. Checks still answer from what the
// Checker holds until StaleAfter, then as the stream being down says.
func (k *Checker) Close() {
	k.cancel()
	<-k.done
}

// Check answers whether the user may use the permission in the account for
// the query, as POST /api/v1/check would. Once the member is loaded it
// takes no lock and allocates nothing. The error is not nil when the
// answer could not be had (the service unreachable while the member is not
// loaded, or the stream stale with FailClosed): the decision is then a
// denial.
func (k *Checker) Check(ctx context.Context, account, user equipe.ID, permission string, q access.Query) (access.Decision, error) {
	if k.stale.Load() {
		return k.fallback(ctx, account, user, permission, q)
	}
	st := k.state.Load()
	if h, ok := st.members[memberKey{account, user}]; ok {
		k.touch(h)
		return k.cat.Check(h.m, h.a, permission, q), nil
	}
	m, a, err := k.load(ctx, account, user)
	if err != nil {
		return access.Decision{Reason: access.DeniedNotMember}, err
	}
	return k.cat.Check(m, a, permission, q), nil
}

func (k *Checker) fallback(ctx context.Context, account, user equipe.ID, permission string, q access.Query) (access.Decision, error) {
	if k.opts.FailClosed {
		return access.Decision{Reason: ReasonStale}, ErrStale
	}
	d, err := k.c.Check(ctx, CheckRequest{User: user, Account: account, Permission: permission, Query: q})
	if err != nil {
		return access.Decision{Reason: ReasonStale}, err
	}
	return d, nil
}

// Held returns how many members the Checker holds (at most
// CheckerOptions.MaxMembers).
func (k *Checker) Held() int { return len(k.state.Load().members) }

// Stale reports whether the stream has been down longer than StaleAfter.
func (k *Checker) Stale() bool { return k.stale.Load() }

// Applied returns a channel closed once the next event of the stream has
// been applied (its account forgotten): for tests and measurements.
func (k *Checker) Applied() <-chan struct{} { return k.applied.wait() }

// Cursor returns the cursor of the last event the Checker applied.
func (k *Checker) Cursor() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.cursor
}

// load fetches the account's state for the user and those of its members
// already held, installs it unless an event that may change it arrived
// meanwhile, and returns the user's compiled member and the account. What
// may change it is an event of the account, of its firm (an event of a
// firm forgets the clients held, but this one is not held yet), or of one
// of the people loaded, or everything forgotten (a reconnection).
func (k *Checker) load(ctx context.Context, account, user equipe.ID) (*access.Member, *access.Account, error) {
	k.mu.Lock()
	began := k.forgot
	k.loading++
	users := []equipe.ID{user}
	if h := k.state.Load().accounts[account]; h != nil {
		for _, u := range h.users {
			if u != user && len(users) < 100 {
				users = append(users, u)
			}
		}
	}
	k.mu.Unlock()
	h := &heldAccount{users: users}
	members := make(map[memberKey]*heldMember, len(users))
	st, err := k.c.AccessState(ctx, account, users...)
	// asked is the user asked about, when they are not to be held.
	var asked *heldMember
	switch {
	case err == nil:
		h.a, h.parent = access.CompileAccount(account, st.Resources, st.Archived), st.ParentID
		var held []equipe.ID
		for _, u := range users {
			var m *access.Member
			in := st.Members[u]
			if in != nil {
				m = k.cat.Compile(in.Input(account, u))
			}
			hm := &heldMember{m: m, a: h.a}
			if in != nil && in.ViaFirm && st.ParentID != nil && !k.followsFirm(ctx, *st.ParentID, u) {
				// What the firm changes about them (their assignment,
				// their role or status in the firm) is in the firm's log,
				// which this key's stream does not carry: answered, not
				// held, so that each check asks again.
				if u == user {
					asked = hm
				}
				continue
			}
			held = append(held, u)
			members[memberKey{account, u}] = hm
		}
		h.users = held
	case IsProblem(err, "error.not_found"):
		// No such account, or out of the key's reach: denied, as the
		// service denies it (denied_unknown_account).
		for _, u := range users {
			members[memberKey{account, u}] = &heldMember{}
		}
	default:
		k.mu.Lock()
		k.loaded()
		k.mu.Unlock()
		k.report(err)
		return nil, nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	defer k.loaded()
	if asked != nil {
		return asked.m, h.a, nil
	}
	if !k.forgotSince(began, account, h.parent, users) {
		old := k.state.Load()
		// The user asked about is asked now; the others loaded with it
		// keep the age they had.
		now := k.clock.Add(1)
		for mk, m := range members {
			if prev, ok := old.members[mk]; ok && mk.user != user {
				m.asked.Store(prev.asked.Load())
			} else {
				m.asked.Store(now)
			}
		}
		next := &checkerState{accounts: make(map[equipe.ID]*heldAccount, len(old.accounts)+1),
			members: make(map[memberKey]*heldMember, len(old.members)+len(members))}
		for id, a := range old.accounts {
			next.accounts[id] = a
		}
		for mk, m := range old.members {
			next.members[mk] = m
		}
		next.accounts[account] = h
		for mk, m := range members {
			next.members[mk] = m
		}
		if len(next.members) > k.opts.MaxMembers {
			next.evict(k.opts.MaxMembers - k.opts.MaxMembers/10)
		}
		k.state.Store(next)
	}
	return members[memberKey{account, user}].m, h.a, nil
}

// followsFirm reports whether the key's stream carries the firm's log: the
// instance's keys and the firm's own read it, a client's key never does
// (docs/changes.md). The stream's reach is the key's reach of checks: the
// key may read the firm's access state exactly when its stream carries the
// firm's log. The answer is kept; a failure to learn it answers false
// (the member is then asked about again, never answered from memory).
func (k *Checker) followsFirm(ctx context.Context, firm, user equipe.ID) bool {
	k.mu.Lock()
	f, ok := k.follows[firm]
	k.mu.Unlock()
	if ok {
		return f
	}
	_, err := k.c.AccessState(ctx, firm, user)
	switch {
	case err == nil:
		f = true
	case IsProblem(err, "error.not_found"):
		f = false
	default:
		k.report(err)
		return false
	}
	k.mu.Lock()
	k.follows[firm] = f
	k.mu.Unlock()
	return f
}

// loaded notes that a load is no longer under way. k.mu is held.
func (k *Checker) loaded() {
	k.loading--
	if k.loading == 0 {
		clear(k.forgotAccount)
		clear(k.forgotUser)
	}
}

// forgotSince reports whether the account, its parent, one of the users or
// everything was forgotten after the forgetting numbered began: what a load
// that began then read may be out of date. k.mu is held.
func (k *Checker) forgotSince(began uint64, account equipe.ID, parent *equipe.ID, users []equipe.ID) bool {
	if k.forgotAll > began || k.forgotAccount[account] > began || (parent != nil && k.forgotAccount[*parent] > began) {
		return true
	}
	for _, u := range users {
		if k.forgotUser[u] > began {
			return true
		}
	}
	return false
}

// forget drops what the Checker holds of the accounts (all when accounts is
// nil), so that their next checks load them again; users are the people an
// event of their own identity was about, whose loads under way it makes
// out of date in any account.
func (k *Checker) forget(accounts map[equipe.ID]bool, users ...equipe.ID) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.forgot++
	if k.loading > 0 {
		for _, u := range users {
			k.forgotUser[u] = k.forgot
		}
	}
	old := k.state.Load()
	next := &checkerState{accounts: map[equipe.ID]*heldAccount{}, members: map[memberKey]*heldMember{}}
	if accounts != nil {
		for id, a := range old.accounts {
			if !accounts[id] {
				next.accounts[id] = a
			}
		}
		for mk, m := range old.members {
			if !accounts[mk.account] {
				next.members[mk] = m
			}
		}
		if k.loading > 0 {
			for id := range accounts {
				k.forgotAccount[id] = k.forgot
			}
		}
	} else {
		k.forgotAll = k.forgot
	}
	k.state.Store(next)
}

// evict forgets the least recently asked members of st, a state not yet
// published, until it holds keep, and the accounts left without members.
// It sorts them all, but only when the bound is passed, and then makes
// room for a tenth: a load in ten or more pays for it.
func (st *checkerState) evict(keep int) {
	type aged struct {
		key   memberKey
		asked uint64
	}
	all := make([]aged, 0, len(st.members))
	for mk, h := range st.members {
		all = append(all, aged{mk, h.asked.Load()})
	}
	slices.SortFunc(all, func(a, b aged) int { return cmp.Compare(a.asked, b.asked) })
	changed := map[equipe.ID]bool{}
	for _, v := range all[:max(0, len(all)-keep)] {
		delete(st.members, v.key)
		changed[v.key.account] = true
	}
	for id := range changed {
		old := st.accounts[id]
		if old == nil {
			continue
		}
		// A copy: the published state still shares the old one.
		h := &heldAccount{a: old.a, parent: old.parent}
		for _, u := range old.users {
			if _, ok := st.members[memberKey{id, u}]; ok {
				h.users = append(h.users, u)
			}
		}
		if len(h.users) == 0 {
			delete(st.accounts, id)
		} else {
			st.accounts[id] = h
		}
	}
}

// affected returns the accounts held whose checks the event may change: its
// account and that account's clients; for an account's deletion, recorded
// in the instance's log, the account deleted; for an event of a person's
// own identity, the accounts where that person is held.
func (k *Checker) affected(e Event) map[equipe.ID]bool {
	out := map[equipe.ID]bool{}
	st := k.state.Load()
	account := e.AccountID
	if account == nil && e.Subject.Type == "account" {
		if id, err := equipe.ParseID(e.Subject.ID); err == nil {
			account = &id
		}
	}
	switch {
	case account != nil:
		out[*account] = true
		for id, h := range st.accounts {
			if h.parent != nil && *h.parent == *account {
				out[id] = true
			}
		}
	case e.Subject.Type == "user":
		u, err := equipe.ParseID(e.Subject.ID)
		if err != nil {
			return out
		}
		for mk := range st.members {
			if mk.user == u {
				out[mk.account] = true
			}
		}
	}
	return out
}

func (k *Checker) report(err error) {
	if k.opts.OnError != nil && err != nil {
		k.opts.OnError(err)
	}
}

// wentDown notes that the stream is down; past StaleAfter, if it is still
// down, the Checker is stale.
func (k *Checker) wentDown() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.isDown {
		return
	}
	k.isDown = true
	k.down++
	n := k.down
	time.AfterFunc(k.opts.StaleAfter, func() {
		k.mu.Lock()
		defer k.mu.Unlock()
		if k.isDown && k.down == n {
			k.stale.Store(true)
		}
	})
}

// cameUp notes that the stream is connected again. What the Checker held
// may have been changed while it was down: it forgets it all (the events
// missed are replayed too, but only as they arrive).
func (k *Checker) cameUp() {
	k.mu.Lock()
	was := k.isDown
	k.isDown = false
	k.mu.Unlock()
	if was {
		k.forget(nil)
	}
	k.stale.Store(false)
}

// run follows the stream until ctx ends, connecting again with back-off.
func (k *Checker) run(ctx context.Context) {
	defer close(k.done)
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		connected, err := k.follow(ctx)
		if ctx.Err() != nil {
			return
		}
		k.wentDown()
		k.report(err)
		if IsProblem(err, "changes.cursor_expired") {
			k.forget(nil)
			if end, err := k.c.Changes(ctx, "now", 0); err == nil {
				k.mu.Lock()
				k.cursor = end.NextCursor
				k.mu.Unlock()
			}
		}
		if connected {
			backoff = 50 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// follow reads the stream from the cursor until it ends or stays silent
// longer than StreamIdle.
func (k *Checker) follow(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	u := *k.c.base
	u.Path += "/api/v1/changes"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Authorization", "Bearer "+k.c.key)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Last-Event-ID", k.Cursor())
	res, err := k.stream.Do(req)
	if err != nil {
		return false, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return false, readProblem(res)
	}
	k.cameUp()
	idle := time.AfterFunc(k.opts.StreamIdle, cancel)
	defer idle.Stop()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var id, data string
	for sc.Scan() {
		idle.Reset(k.opts.StreamIdle)
		line := sc.Text()
		switch {
		case line == "":
			if data != "" {
				k.apply(id, data)
			}
			id, data = "", ""
		case strings.HasPrefix(line, "id:"):
			id = strings.TrimSpace(line[3:])
		case strings.HasPrefix(line, "data:"):
			data = strings.TrimSpace(line[5:])
		}
	}
	if err := sc.Err(); err != nil {
		return true, err
	}
	return true, errors.New("client: the change stream ended")
}

// apply forgets what the event may have changed and moves the cursor.
func (k *Checker) apply(id, data string) {
	var e Event
	if err := json.Unmarshal([]byte(data), &e); err != nil {
		k.report(err)
		k.forget(nil) // an event not understood may have changed anything
	} else {
		var users []equipe.ID
		if e.AccountID == nil && e.Subject.Type == "user" {
			if u, err := equipe.ParseID(e.Subject.ID); err == nil {
				users = append(users, u)
			}
		}
		if acc := k.affected(e); len(acc) > 0 || len(users) > 0 {
			k.forget(acc, users...)
		}
	}
	k.mu.Lock()
	if id != "" {
		k.cursor = id
	}
	k.mu.Unlock()
	k.applied.notify()
}

// signal is a channel closed at the next notify.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *signal) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}
