package testenv

import (
	"sync"
	"testing"
	"time"
)

// Signal tells whoever waits that something they may be waiting for has
// happened: a round of the mail worker, a line of log. The zero Signal is
// ready to use.
type Signal struct {
	mu sync.Mutex
	ch chan struct{}
}

// Notify wakes every waiter of the current Wait channel.
func (s *Signal) Notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// Wait returns a channel closed at the next Notify.
func (s *Signal) Wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// Await returns once cond holds. It checks cond at once, then again each
// time the channel wake returns is closed, and fails the test with what
// when timeout passes first.
func Await(t testing.TB, timeout time.Duration, wake func() <-chan struct{}, what string, cond func() bool) {
	t.Helper()
	if !Within(timeout, wake, cond) {
		t.Fatalf("%s: not within %v", what, timeout)
	}
}

// Within is Await reporting whether cond held in time, for a caller that
// says more of what it found when it did not. The channel is taken before
// each check, so a change that comes between the check and the wait is not
// missed.
func Within(timeout time.Duration, wake func() <-chan struct{}, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		next := wake()
		if cond() {
			return true
		}
		select {
		case <-next:
		case <-deadline.C:
			return cond()
		}
	}
}

// Every is a wake for Await for a state that no code of the test's process
// signals (another process, PostgreSQL coming back, a browser, the
// kernel): Await then looks at it every d.
func Every(d time.Duration) func() <-chan struct{} {
	return func() <-chan struct{} {
		ch := make(chan struct{})
		time.AfterFunc(d, func() { close(ch) })
		return ch
	}
}
