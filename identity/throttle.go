package identity

import (
	"net/netip"
	"time"

	"github.com/equipe-dev/equipe/store"
)

// The limits, documented in docs/security.md. Two kinds:
//
//   - progressive (failed logins): the first attempts pass; from then on each
//     attempt blocks the key for a delay that doubles, up to a ceiling; after a
//     quiet period the count starts again, and a success forgets it.
//   - fixed window (requests that send mail, sign-ups, guessed links): at most
//     so many attempts a window.
//
// Attempts are counted before they are evaluated, in the database, so that
// fifty concurrent attempts cannot all slip in before the first failure is
// recorded, and limits hold across restarts and processes.
var (
	// NIST SP 800-63B §5.2.2: at most 100 consecutive failures per account;
	// from the hundredth, one attempt a day until the password is reset.
	limitLoginEmail = store.Progressive{Free: 5, Decay: 24 * time.Hour, Delays: doubling(30*time.Second, 15*time.Minute),
		Cap: 100, CapDelay: 24 * time.Hour}
	limitLoginIP = store.Progressive{Free: 30, Decay: time.Hour, Delays: doubling(10*time.Second, 15*time.Minute)}
	// Codes of a second factor (six digits: a million codes, three valid
	// at a time): five wrong ones pass, then delays double up to 15
	// minutes, and from the hundredth one attempt a day. Per address, as
	// logins.
	limitCodeUser = store.Progressive{Free: 5, Decay: 24 * time.Hour, Delays: doubling(30*time.Second, 15*time.Minute),
		Cap: 100, CapDelay: 24 * time.Hour}
	limitCodeIP = store.Progressive{Free: 30, Decay: time.Hour, Delays: doubling(10*time.Second, 15*time.Minute)}
)

type window struct {
	Free   int
	Length time.Duration
}

var (
	limitSignupIP      = window{20, time.Hour}
	limitSignupNotice  = window{1, time.Hour}
	limitSignupConfirm = window{3, time.Hour}
	limitResetAddress  = window{3, time.Hour}
	limitResetIP       = window{20, time.Hour}
	limitVerifyResend  = window{3, time.Hour}
	limitTokenIP       = window{30, 10 * time.Minute}
	// Links confirming a notification address, per person.
	limitNotificationLink = window{5, time.Hour}
	// A person's login email change requests and resends together; and the
	// notices to an address another identity has, of someone's wish to use it.
	limitEmailChange      = window{5, time.Hour}
	limitEmailChangeTaken = window{1, time.Hour}
)

// doubling returns base, 2·base, 4·base… up to and ending with ceiling.
func doubling(base, ceiling time.Duration) []time.Duration {
	var ds []time.Duration
	for d := base; d < ceiling; d *= 2 {
		ds = append(ds, d)
	}
	return append(ds, ceiling)
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
