package team

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/equipe-dev/equipe"
)

// signInLists keeps each person's SignInAccounts list, which every token of
// an OpenID Connect client with the accounts scope carries: a refresh grant
// would otherwise read it again (two queries and a standing per account)
// many times a second for the same person. It saves about a tenth of a
// refresh's CPU (docs/performance.md, "OpenID Connect refresh grant").
//
// A list is exact: it is kept with the generations of the IDs it was read
// from (the person, every account it lists or came through, and the firms
// of the client accounts), and is stale once any of them moved. The store's
// change keys move them: a member's change (MemberKey) moves the person, a
// person's (UserKey) the person, an account's (AccountKey: a rename, a role
// replaced, a new or moved client account, which names its firm) the
// account; AllKey, or a key this does not know, forgets every list. A list
// read while anything at all changed is not kept.
type signInLists struct {
	seq   atomic.Uint64 // moves with every change heard
	epoch atomic.Uint32 // moves with AllKey
	gens  [1 << 12]atomic.Uint32

	mu      sync.Mutex
	entries map[equipe.ID]signInList
}

// maxSignInLists bounds the lists kept (a few hundred bytes each); past it,
// one is dropped for each one kept.
const maxSignInLists = 8192

type signInList struct {
	accounts []SignInAccount
	epoch    uint32
	deps     []signInDep
}

// signInDep is an ID a list was read from: its generation's slot and value.
type signInDep struct {
	slot uint16
	gen  uint32
}

func newSignInLists() *signInLists {
	return &signInLists{entries: make(map[equipe.ID]signInList)}
}

func (l *signInLists) slot(id equipe.ID) uint16 { return uint16(mix(id) >> 52) }

// dep returns id's current generation.
func (l *signInLists) dep(id equipe.ID) signInDep {
	s := l.slot(id)
	return signInDep{slot: s, gen: l.gens[s].Load()}
}

// get returns the user's list while none of what it was read from changed.
func (l *signInLists) get(user equipe.ID) ([]SignInAccount, bool) {
	l.mu.Lock()
	e, ok := l.entries[user]
	l.mu.Unlock()
	if !ok || e.epoch != l.epoch.Load() {
		return nil, false
	}
	for _, d := range e.deps {
		if l.gens[d.slot].Load() != d.gen {
			return nil, false
		}
	}
	return e.accounts, true
}

// put keeps a list read since seq, unless something changed meanwhile.
func (l *signInLists) put(user equipe.ID, seq uint64, epoch uint32, accounts []SignInAccount, deps []signInDep) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seq.Load() != seq {
		return
	}
	if _, ok := l.entries[user]; !ok && len(l.entries) >= maxSignInLists {
		for k := range l.entries {
			delete(l.entries, k)
			break
		}
	}
	l.entries[user] = signInList{accounts: accounts, epoch: epoch, deps: deps}
}

// invalidate is the store's OnChange hook.
func (l *signInLists) invalidate(keys []string) {
	l.seq.Add(1)
	for _, key := range keys {
		kind, rest, _ := strings.Cut(key, ":")
		switch kind {
		case "m":
			_, rest, _ = strings.Cut(rest, ":")
			fallthrough
		case "u", "a":
			if id, err := equipe.ParseID(rest); err == nil {
				l.gens[l.slot(id)].Add(1)
			} else {
				l.forget()
			}
		case "k", "e", "w":
			// API keys, events and webhook endpoints are in no list.
		default:
			l.forget()
		}
	}
}

func (l *signInLists) forget() {
	l.epoch.Add(1)
	l.mu.Lock()
	clear(l.entries)
	l.mu.Unlock()
}
