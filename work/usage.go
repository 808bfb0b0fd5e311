package work

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Usage is where a request stands against a limit that counted it: what
// the RateLimit and RateLimit-Policy headers of the API tell the client.
type Usage struct {
	// Policy names the limit: the first two parts of its key, what is
	// limited and per what ("reset:ip", "invite:account").
	Policy    string
	Quota     int           // requests a window
	Window    time.Duration // the window's length
	Remaining int           // requests left in the current window
	Reset     time.Duration // until the current window ends
}

// Usages collects the limits a request was counted against. Safe for
// concurrent use.
type Usages struct {
	mu   sync.Mutex
	list []Usage
}

type usagesKey struct{}

// WithUsages returns a context whose units of work record in the Usages
// returned the limits they count the request against (Unit.Limit).
func WithUsages(ctx context.Context) (context.Context, *Usages) {
	u := &Usages{}
	return context.WithValue(ctx, usagesKey{}, u), u
}

// List returns the usages recorded, one per policy (the last count of a
// policy: a unit of work run again counts again).
func (u *Usages) List() []Usage {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]Usage(nil), u.list...)
}

func (u *Usages) record(x Usage) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for i := range u.list {
		if u.list[i].Policy == x.Policy {
			u.list[i] = x
			return
		}
	}
	u.list = append(u.list, x)
}

// reportedScopes are the limits' scopes whose standing a client may learn:
// its own address, its own person, its own account, a member of its
// account. A limit per target address (an invitation to an email, a reset
// of an email) counts what other accounts and strangers did too: its
// standing is never told.
var reportedScopes = []string{"ip", "user", "account", "member"}

// recordUsage records, when ctx collects usages and the limit's scope may
// be told, that the request was the count-th of the window that started at
// start.
func recordUsage(ctx context.Context, key string, free int, window time.Duration, count int, reset time.Duration) {
	us, _ := ctx.Value(usagesKey{}).(*Usages)
	if us == nil {
		return
	}
	parts := strings.SplitN(key, ":", 3)
	if len(parts) < 3 {
		return
	}
	told := false
	for _, s := range reportedScopes {
		told = told || parts[1] == s
	}
	if !told {
		return
	}
	us.record(Usage{Policy: parts[0] + ":" + parts[1], Quota: free, Window: window, Remaining: max(0, free-count),
		Reset: max(0, reset)})
}
