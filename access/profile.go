package access

import (
	"runtime"
	"sync"
	"weak"
)

// profiles interns the profiles of a catalogue's members: members of one
// role with the same overrides point to one profile instead of carrying
// its 350 bytes each. A profile no member holds any more is let go (the
// table holds it weakly), so custom roles and overrides that change over
// time do not accumulate.
type profiles struct {
	mu sync.Mutex
	m  map[profile]weak.Pointer[profile]
}

func newProfiles() *profiles { return &profiles{m: map[profile]weak.Pointer[profile]{}} }

// profile returns the interned profile equal to *p.
func (c *Catalogue) profile(p *profile) *profile {
	t := c.interned
	t.mu.Lock()
	defer t.mu.Unlock()
	if w, ok := t.m[*p]; ok {
		if q := w.Value(); q != nil {
			return q
		}
	}
	q := new(profile)
	*q = *p
	t.m[*q] = weak.Make(q)
	runtime.AddCleanup(q, t.forget, *q)
	return q
}

// forget removes the entry of a profile collected, unless a new one took
// its place meanwhile.
func (t *profiles) forget(k profile) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if w, ok := t.m[k]; ok && w.Value() == nil {
		delete(t.m, k)
	}
}
