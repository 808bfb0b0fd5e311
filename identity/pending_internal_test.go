package identity

import (
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
)

// TestPendingLogins_BoundedTakenOnceAndForgottenWhenExpired: the logins
// kept for their second step are at most pendingMax, the oldest making
// room; each is taken once, and never after its challenge expired.
func TestPendingLogins_BoundedTakenOnceAndForgottenWhenExpired(t *testing.T) {
	var l pendingLogins
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	ids := make([]equipe.ID, pendingMax+10)
	for i := range ids {
		ids[i] = equipe.NewID()
		l.put(ids[i], pendingLogin{user: equipe.User{ID: ids[i]}, expiresAt: now.Add(5 * time.Minute)}, now)
		if n := l.len(); n > pendingMax {
			t.Fatalf("%d logins kept, at most %d", n, pendingMax)
		}
	}
	if l.len() != pendingMax {
		t.Fatalf("%d logins kept, want %d", l.len(), pendingMax)
	}
	for _, id := range ids[:10] {
		if _, ok := l.take(id, now); ok {
			t.Fatal("one of the oldest logins was kept past the bound")
		}
	}
	last := ids[len(ids)-1]
	if p, ok := l.take(last, now); !ok || p.user.ID != last {
		t.Fatalf("the newest login: %+v %v", p, ok)
	}
	if _, ok := l.take(last, now); ok {
		t.Fatal("a login was taken twice")
	}
	if _, ok := l.take(ids[10], now.Add(5*time.Minute)); ok {
		t.Fatal("a login was taken once its challenge expired")
	}

	// Once they expire, a new login makes them go, taken or not.
	later := now.Add(6 * time.Minute)
	fresh := equipe.NewID()
	l.put(fresh, pendingLogin{expiresAt: later.Add(5 * time.Minute)}, later)
	if n := l.len(); n != 1 {
		t.Fatalf("%d logins kept after the others expired, want 1", n)
	}
	if _, ok := l.take(fresh, later); !ok {
		t.Fatal("the fresh login was not kept")
	}
}
