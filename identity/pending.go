package identity

import (
	"sync"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
)

// pendingLogins keeps, for the logins this process gave a challenge to,
// what their password step read of the person: their record, their
// authenticator app and their browser's standing. A second step answered
// by the same process with a right code of the app then needs no read: its
// one write is made under conditions (the challenge unused, the code's step
// not accepted, the seed unchanged, the person not disabled, the codes'
// throttles not blocking) that hold exactly when the read would have let it
// through. Whatever else happens (a wrong code, a write refused, another
// process) the second step reads as it does without it, so that what is
// kept here never decides an answer other than a success.
//
// It holds at most pendingMax logins, the oldest making room, each until
// its challenge expires; an entry is taken by the first answer to its
// challenge.
type pendingLogins struct {
	mu   sync.Mutex
	m    map[equipe.ID]pendingLogin
	ring [pendingMax]equipe.ID // challenges in the order they were kept
	head int                   // the oldest in ring
	n    int                   // how many of ring are in use
}

// pendingMax bounds the logins kept waiting for their second step: about
// half a kilobyte each, and for those from a browser new to their person
// the new-browser email composed ahead (see alertAhead), about 4 KiB more:
// some 4.5 MiB at most in all.
const pendingMax = 1024

// pendingLogin is what a second step answered by a code of the person's
// app reads, as its password step read it.
type pendingLogin struct {
	user      equipe.User
	totp      store.TOTPFactor
	browser   browserRead
	expiresAt time.Time
}

// put keeps p for the challenge id, dropping those expired at now and,
// when full, the oldest.
func (l *pendingLogins) put(id equipe.ID, p pendingLogin, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = make(map[equipe.ID]pendingLogin)
	}
	for l.n > 0 {
		old := l.ring[l.head]
		e, ok := l.m[old]
		if ok && l.n < pendingMax && now.Before(e.expiresAt) {
			break
		}
		delete(l.m, old)
		l.ring[l.head] = equipe.ID{}
		l.head = (l.head + 1) % pendingMax
		l.n--
	}
	l.ring[(l.head+l.n)%pendingMax] = id
	l.n++
	l.m[id] = p
}

// take returns and forgets what was kept for the challenge id, if it is
// still kept and unexpired at now.
func (l *pendingLogins) take(id equipe.ID, now time.Time) (pendingLogin, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.m[id]
	if ok {
		delete(l.m, id)
	}
	return p, ok && now.Before(p.expiresAt)
}

// len returns how many logins are kept.
func (l *pendingLogins) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}
