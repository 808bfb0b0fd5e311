package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/equipe-dev/equipe"
)

// Writes that change who may do what — a member's role, status, overrides or
// resources, a custom role, a user's suspension, an API key, the account
// tree — name what they changed with keys. Once the transaction commits,
// the process's hooks (OnChange) hear the keys at once, before Write
// returns, so the very next permission check in this process sees the
// change; on PostgreSQL the keys also travel to every other process sharing
// the database by NOTIFY, sent in the same transaction, so they arrive only
// if it commits. On SQLite, where the service is the one process that
// serves, the commands run beside it (Config.Beside) write their keys in a
// table of notices, in the same transaction, which the service reads
// several times a second (Listen).

// Change keys.
const changeAll = "*"

// MemberKey names one member's access.
func MemberKey(account, user equipe.ID) string { return "m:" + account.String() + ":" + user.String() }

// AccountKey names the access of every member of an account (a role changed,
// a resource went, the account moved in the tree).
func AccountKey(account equipe.ID) string { return "a:" + account.String() }

// UserKey names a user's access in every account (suspended or restored).
func UserKey(user equipe.ID) string { return "u:" + user.String() }

// KeyKey names an API key.
func KeyKey(id equipe.ID) string { return "k:" + id.String() }

// EventsKey says that events were recorded: the change stream wakes up. It
// names no access.
func EventsKey() string { return "e" }

// AllKey names everything: a listener that may have missed changes forgets
// all it knows.
func AllKey() string { return changeAll }

// notifyChannel is the PostgreSQL channel of access changes.
const notifyChannel = "equipe_access"

// listenQuiet, listenAnswer and listenConnect are how the listener makes
// sure that its connection still carries notifications. A connection that
// breaks is noticed at once, but one that stops answering without breaking
// (a network that drops packets, a proxy or a server that hangs) would go
// unnoticed for as long as TCP takes to give up, minutes or for ever, while
// the cache answered from what it holds and missed every change. So after listenQuiet without a notification the listener pings
// the server and gives up on the connection if no answer comes within
// listenAnswer; and each attempt to connect again gives up after
// listenConnect. The cache is then forgotten at most 15 s after the
// connection stopped answering, and entries loaded while no listener runs
// are forgotten at each failed attempt, at most 15 s apart (10 s to fail,
// then at most 5 s before the next attempt).
const (
	listenQuiet   = 10 * time.Second
	listenAnswer  = 5 * time.Second
	listenConnect = 10 * time.Second
)

// listenTimes are the listener's delays, in a value of their own so that a
// test can shorten them.
type listenTimes struct{ quiet, answer, connect, poll time.Duration }

// noticesPoll is how often the service reads the notices of the commands
// run beside it on SQLite, and noticesKept how long a notice is kept: a
// notice is a row of a few keys, read in a lookup of the table's last rows.
const (
	noticesPoll = 250 * time.Millisecond
	noticesKept = 10 * time.Minute
)

// OnChange registers fn to hear the keys of every committed change, in this
// process at once and (with Listen) from other processes.
func (db *DB) OnChange(fn func(keys []string)) {
	db.hooksMu.Lock()
	db.hooks = append(db.hooks, fn)
	db.hooksMu.Unlock()
}

func (db *DB) changed(keys []string) {
	if len(keys) == 0 {
		return
	}
	db.hooksMu.RLock()
	defer db.hooksMu.RUnlock()
	for _, fn := range db.hooks {
		fn(keys)
	}
}

// notify sends the keys to the other processes, in the transaction.
func (db *DB) notify(ctx context.Context, tx *sql.Tx, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	if db.engine == SQLite {
		if !db.beside {
			return nil
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO change_notices (keys, at) VALUES ($1, $2)", strings.Join(keys, " "),
			micros(time.Now()))
		return wrap(err)
	}
	// A NOTIFY payload is limited to 8000 bytes; keys are ≤ 76.
	for len(keys) > 0 {
		n := min(len(keys), 90)
		if _, err := tx.ExecContext(ctx, "SELECT pg_notify($1, $2)", notifyChannel, strings.Join(keys[:n], " ")); err != nil {
			return wrap(err)
		}
		keys = keys[n:]
	}
	return nil
}

// Listen delivers other processes' changes to the OnChange hooks until ctx
// is done. On PostgreSQL it keeps a connection of its own; whenever that
// connection is lost or stops answering (see listenQuiet), the hooks hear
// AllKey (changes may have been missed) and it connects again. On SQLite it
// reads the notices of the commands run beside the service (Config.Beside)
// every noticesPoll.
func (db *DB) Listen(ctx context.Context) {
	if db.engine == SQLite {
		db.readNotices(ctx)
		return
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := db.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		db.log.Warn("access change listener lost its connection", "err", err)
		db.changed([]string{changeAll})
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (db *DB) listen(ctx context.Context) error {
	times := db.listenTimes
	cctx, cancel := context.WithTimeout(ctx, times.connect)
	defer cancel()
	conn, err := pgx.Connect(cctx, db.url)
	if err != nil {
		return err
	}
	defer func() {
		// Closing says goodbye to the server, which may not answer.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), times.answer)
		defer cancel()
		conn.Close(cctx)
	}()
	if _, err := conn.Exec(cctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	// Changes made while no listener ran are unknown.
	db.changed([]string{changeAll})
	for {
		wctx, cancel := context.WithTimeout(ctx, times.quiet)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			db.changed(strings.Fields(n.Payload))
			continue
		case ctx.Err() != nil:
			return nil
		case !errors.Is(err, context.DeadlineExceeded):
			return err
		}
		// Quiet for a while: does the connection still answer?
		pctx, cancel := context.WithTimeout(ctx, times.answer)
		err = conn.Ping(pctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("no answer to a ping within %s: %w", times.answer, err)
		}
	}
}

// readNotices delivers the notices written after it starts, every
// listenTimes.poll, until ctx is done, and deletes those older than
// noticesKept, read long before. Notices it could not read (an error) may
// have been missed: the hooks hear AllKey.
func (db *DB) readNotices(ctx context.Context) {
	var last int64
	if err := db.r.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM change_notices").Scan(&last); err != nil {
		if ctx.Err() == nil {
			db.log.Warn("reading the notices of the commands run beside the service", "err", err)
		}
		last = -1
	}
	if db.noticesFrom != nil {
		db.noticesFrom(last)
	}
	tick := time.NewTicker(db.listenTimes.poll)
	defer tick.Stop()
	swept := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		next, err := db.notices(ctx, last)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			db.log.Warn("reading the notices of the commands run beside the service", "err", err)
			db.changed([]string{changeAll})
			last = -1
			continue
		}
		last = next
		if time.Since(swept) > noticesKept/10 {
			swept = time.Now()
			if _, err := db.w.ExecContext(ctx, "DELETE FROM change_notices WHERE at < $1", micros(time.Now().Add(-noticesKept))); err != nil && ctx.Err() == nil {
				db.log.Warn("deleting old notices", "err", err)
			}
		}
	}
}

// notices delivers the notices after last (-1: unknown, everything is
// forgotten and reading starts after the newest) and returns the newest
// number read. Notices are numbered in the order they commit (one writer),
// and only notices read are deleted.
func (db *DB) notices(ctx context.Context, last int64) (int64, error) {
	if last < 0 {
		var n int64
		if err := db.r.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM change_notices").Scan(&n); err != nil {
			return -1, wrap(err)
		}
		db.changed([]string{changeAll})
		return n, nil
	}
	rows, err := db.r.QueryContext(ctx, "SELECT seq, keys FROM change_notices WHERE seq > $1 ORDER BY seq", last)
	if err != nil {
		return last, wrap(err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var seq int64
		var k string
		if err := rows.Scan(&seq, &k); err != nil {
			return last, wrap(err)
		}
		keys = append(keys, strings.Fields(k)...)
		last = seq
	}
	if err := rows.Err(); err != nil {
		return last, wrap(err)
	}
	if len(keys) > 0 {
		db.changed(keys)
	}
	return last, nil
}
