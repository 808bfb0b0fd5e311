package team

import (
	"context"
	"strconv"
	"sync"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/store"
)

// Page sizes of the change stream.
const (
	DefaultChangesPage = 100
	MaxChangesPage     = 200
)

// CursorNow, given as the cursor, starts the stream at its current end: only
// changes committed from then on.
const CursorNow = "now"

// ChangesQuery asks for the changes that follow a cursor.
type ChangesQuery struct {
	After string       // a cursor: "" for the start of the retained window, CursorNow for its end
	Types []event.Type // only these kinds (none: every kind)
	Limit int          // 1 to MaxChangesPage
}

// Change is one event of the stream with its cursor: the position right
// after it.
type Change struct {
	Cursor string
	Event  event.Event
}

// Changes returns the events that follow q.After and the caller may see, in
// the order their transactions committed, with the cursor to ask for the
// next ones (the same cursor when none followed). Only API keys read the
// stream: an instance key sees every event, of every account, person and
// of the instance; an account key, with audit.view, sees its account's log
// and, for a firm, its clients' logs. A cursor beyond the last event
// recorded (from another database, or one restored from a backup) answers
// EGONE changes.cursor_expired: the reader must resynchronise.
//
// A stream calls it for each page with the key it authenticated with when
// it began, and the key is authenticated again each time, as a new request
// would be: a key revoked since, or whose creator may no longer act (an
// instance key's no longer administers the instance), answers
// EUNAUTHORIZED with the code its next request would get, and the stream
// ends there.
func (s *Service) Changes(ctx context.Context, caller Actor, q ChangesQuery) ([]Change, string, error) {
	f := store.StreamFilter{Limit: q.Limit}
	if caller.Key == nil {
		return nil, "", forbidden("changes.key_required", nil)
	}
	k, err := s.stillActs(ctx, caller.Key)
	if err != nil {
		return nil, "", err
	}
	caller.Key = k
	if caller.Key.AccountID != nil {
		account := *caller.Key.AccountID
		if _, _, err := s.authorize(ctx, caller, account, "audit.view"); err != nil {
			return nil, "", err
		}
		f.Account, f.Clients = &account, true
		// A person's identity disabled or enabled again is in no account's
		// log, and changes every check about them in each account.
		f.Members = true
	}
	var fields []equipe.FieldError
	if q.Limit < 1 || q.Limit > MaxChangesPage {
		fields = append(fields, equipe.FieldError{Field: "limit", Key: "request.limit_invalid", Args: map[string]any{"max": MaxChangesPage}})
	}
	for _, t := range q.Types {
		if !event.Known(t) {
			fields = append(fields, equipe.FieldError{Field: "types", Key: "changes.type_unknown", Args: map[string]any{"type": string(t)}})
			break
		}
		f.Types = append(f.Types, string(t))
	}
	var after int64
	switch q.After {
	case "", CursorNow:
	default:
		// A cursor is one this stream gave: its number written out, no
		// sign, no leading zero.
		n, err := strconv.ParseInt(q.After, 10, 64)
		if err != nil || n < 0 || strconv.FormatInt(n, 10) != q.After {
			fields = append(fields, equipe.FieldError{Field: "after", Key: "request.cursor_invalid"})
		}
		after = n
	}
	if len(fields) > 0 {
		return nil, "", &equipe.Error{Code: equipe.EINVALID, Key: "error.fields", Fields: fields}
	}
	last, err := s.DB.LastEventSeq(ctx)
	if err != nil {
		return nil, "", err
	}
	switch {
	case q.After == CursorNow:
		return []Change{}, strconv.FormatInt(last, 10), nil
	case after > last:
		return nil, "", &equipe.Error{Code: equipe.EGONE, Key: "changes.cursor_expired"}
	}
	f.After = after
	rows, err := s.DB.StreamEvents(ctx, f)
	if err != nil {
		return nil, "", err
	}
	if len(rows) > 0 {
		// The key was authenticated before the page was read, through the
		// process's cache, which hears of a change only once the change's
		// transaction has committed: a revocation, or a change to the key
		// creator's standing, that committed in between is in the page,
		// the cache may not know it yet, and the page must not go out.
		if err := s.stillActsNow(ctx, caller.Key); err != nil {
			return nil, "", err
		}
	}
	rs := s.logReaders()
	out := make([]Change, len(rows))
	for i, r := range rows {
		e := event.Decode(r.Event)
		if e, err = s.changeSeen(ctx, rs, caller, e); err != nil {
			return nil, "", err
		}
		out[i] = Change{Cursor: strconv.FormatInt(r.Seq, 10), Event: e}
		after = r.Seq
	}
	if len(rows) < f.Limit {
		// The whole stream up to last was read: what the caller may not
		// see, or did not ask for, below last is behind them too.
		after = max(after, last)
	}
	return out, strconv.FormatInt(after, 10), nil
}

// changeSeen returns e as the caller reads it in the stream: as the log of
// its account reads it to them (logReader.seen), the firm's staff unnamed
// to a client's own key and the instance's administrators and keys to
// every account's key. An event of no account's log is read in the key's own
// account, whose member it is about; to an instance key, as recorded.
func (s *Service) changeSeen(ctx context.Context, rs *logReaders, caller Actor, e event.Event) (event.Event, error) {
	account := e.Account
	if account == nil {
		account = caller.Key.AccountID
	}
	if account == nil || e.Actor.ID == nil {
		return e, nil
	}
	aud, err := s.audienceOf(ctx, caller, *account)
	if err != nil {
		return e, err
	}
	return rs.seen(ctx, *account, aud, e)
}

// ChangesSignal returns a channel closed at the next commit that records
// events, in this process or (on PostgreSQL) in another one sharing the
// database, or when changes may have been missed (the listener lost its
// connection). A stream takes it before reading, then waits on it.
func (s *Service) ChangesSignal() <-chan struct{} { return s.signal.wait() }

// signal wakes the readers of the change stream.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (g *signal) wait() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ch == nil {
		g.ch = make(chan struct{})
	}
	return g.ch
}

func (g *signal) hear(keys []string) {
	for _, k := range keys {
		if k == store.EventsKey() || k == store.AllKey() {
			g.mu.Lock()
			if g.ch != nil {
				close(g.ch)
				g.ch = nil
			}
			g.mu.Unlock()
			return
		}
	}
}
