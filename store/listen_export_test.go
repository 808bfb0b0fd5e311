package store

import "time"

// SetListenTimesForTest shortens Listen's delays (see listenQuiet), for
// tests that wait for the listener to give up on a connection that stopped
// answering. Call it before Listen.
func (db *DB) SetListenTimesForTest(quiet, answer, connect time.Duration) {
	db.listenTimes = listenTimes{quiet: quiet, answer: answer, connect: connect}
}

// OnNoticesFromForTest sets fn to hear the notice after which the SQLite
// listener reads, once it knows it. Call it before Listen.
func (db *DB) OnNoticesFromForTest(fn func(int64)) { db.noticesFrom = fn }
