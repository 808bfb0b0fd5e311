package testenv

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestAwait_WakesOnEachNotifyUntilTheStateHolds(t *testing.T) {
	var s Signal
	var n atomic.Int32
	checks := 0
	go func() {
		for range 3 {
			n.Add(1)
			s.Notify()
		}
	}()
	Await(t, 5*time.Second, s.Wait, "three changes", func() bool {
		checks++
		return n.Load() == 3
	})
	if checks > 4 {
		t.Errorf("%d checks for 3 changes: the state was looked at without a wake", checks)
	}
}

func TestWithin_TakesTheWakeBeforeEachCheckAndGivesUpAtTheDeadline(t *testing.T) {
	var order []string
	wake := func() <-chan struct{} {
		order = append(order, "wake")
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	calls := 0
	if !Within(time.Second, wake, func() bool {
		order = append(order, "check")
		calls++
		return calls == 2
	}) {
		t.Fatal("the state held, Within says it did not")
	}
	if got := len(order); got != 4 || order[0] != "wake" || order[1] != "check" || order[2] != "wake" {
		t.Errorf("order %v, want the wake taken before each check", order)
	}

	var s Signal
	start := time.Now()
	if Within(20*time.Millisecond, s.Wait, func() bool { return false }) {
		t.Fatal("a state that never holds held")
	}
	if time.Since(start) < 20*time.Millisecond {
		t.Error("Within gave up before its deadline")
	}
}

func TestSignal_NotifyWithoutWaitersIsNotKept(t *testing.T) {
	var s Signal
	s.Notify()
	select {
	case <-s.Wait():
		t.Fatal("a channel taken after the notification is closed")
	default:
	}
	ch := s.Wait()
	s.Notify()
	select {
	case <-ch:
	default:
		t.Fatal("the channel taken before the notification is open")
	}
}
