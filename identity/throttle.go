package identity

import (
	"context"
	"net/netip"
	"time"

	"github.com/equipe-dev/equipe/store"
)

// A limit says how many attempts a key allows. Two kinds:
//
//   - progressive (login failures): the first Free attempts pass; from then on
//     each attempt blocks the key for Base·2^(n−Free), at most Max; after Decay
//     without attempts the count starts again. A success forgets the key.
//   - fixed window (requests that send mail, sign-ups, token guesses): at most
//     Free attempts per Window.
//
// The state lives in the database (store.Throttle), so limits hold across
// restarts and processes, and attempts are counted before they are evaluated,
// under a row lock: fifty concurrent attempts cannot all slip in before the
// first failure is recorded.
type limit struct {
	Free        int
	Progressive bool
	Base, Max   time.Duration // progressive
	Decay       time.Duration // progressive
	Window      time.Duration // fixed
}

// The limits. They are documented in docs/security.md.
var (
	limitLoginAccount = limit{Free: 5, Progressive: true, Base: 30 * time.Second, Max: 15 * time.Minute, Decay: 24 * time.Hour}
	limitLoginIP      = limit{Free: 30, Progressive: true, Base: 10 * time.Second, Max: 15 * time.Minute, Decay: time.Hour}
	limitSignupIP     = limit{Free: 20, Window: time.Hour}
	limitSignupNotice = limit{Free: 1, Window: time.Hour}
	limitResetAddress = limit{Free: 3, Window: time.Hour}
	limitResetIP      = limit{Free: 20, Window: time.Hour}
	limitVerifyResend = limit{Free: 3, Window: time.Hour}
	limitTokenIP      = limit{Free: 30, Window: 10 * time.Minute}
)

// reserve counts an attempt against key and reports whether it may proceed,
// and if not, for how long the key is blocked.
func reserve(ctx context.Context, tx *store.Tx, key string, l limit, now time.Time) (bool, time.Duration, error) {
	t, err := tx.LockThrottle(ctx, key, now)
	if err != nil {
		return false, 0, err
	}
	if l.Progressive {
		if now.Before(t.BlockedUntil) {
			return false, t.BlockedUntil.Sub(now), nil
		}
		if now.Sub(t.LastAt) > l.Decay {
			t.Count, t.WindowStart = 0, now
		}
		t.Count++
		t.LastAt = now
		if t.Count >= l.Free {
			d := l.Base << min(t.Count-l.Free, 20)
			t.BlockedUntil = now.Add(min(d, l.Max))
		}
		return true, 0, tx.SaveThrottle(ctx, t)
	}
	if now.Sub(t.WindowStart) >= l.Window || t.Count == 0 {
		t.Count, t.WindowStart = 0, now
	}
	if t.Count >= l.Free {
		return false, t.WindowStart.Add(l.Window).Sub(now), nil
	}
	t.Count++
	t.LastAt = now
	return true, 0, tx.SaveThrottle(ctx, t)
}

// ipKey returns the part of an address that throttles count by: the address
// for IPv4, its /64 for IPv6 (one subscriber gets a whole /64).
func ipKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
