package team

import (
	"sync"
	"sync/atomic"

	"github.com/equipe-dev/equipe"
)

// accountNumbers numbers the accounts that cached members belong to, so
// that a member's slot holds its account as 4 bytes instead of a 16-byte
// ID: at ten members an account, the numbers cost some 4 bytes a member
// where the IDs in the slots took 16. Beside each number, the digest of the
// account's resources that its members held as bits are made over (see
// claimWithin), 16 bytes with its count and generation. A number lives as long as a slot
// holds it (a count of references), so a slot's number names the same
// account for as long as the slot exists: a lookup that finds a slot with
// the number read under the shard's lock (see memberTable.get) found that
// account's member, never another's that reused a freed number.
//
// The accounts are spread over stripes by a hash of their ID, each with
// its lock, its array of IDs and counts and an open-addressing index (no
// pointers: the garbage collector does not scan them). A number is the
// stripe in its low bits and the place in the stripe's arrays, plus one,
// above them; 0 is no number.
type accountNumbers struct {
	stripes [numberStripes]numberStripe
	// bytes is what the stripes' arrays take, counted against the cache's
	// budget (see memberShard.bytesWith).
	bytes atomic.Int64
}

const (
	numberStripes = 64
	stripeBits    = 6
)

type numberStripe struct {
	mu   sync.RWMutex
	ids  []equipe.ID
	refs []uint32 // 0: place free
	// within is the digest of the account's resources in use that the
	// members held as bits over them were made over (see claimWithin),
	// bitRefs how many slots so hold a member, and withinGen the latest
	// generation of the account they were read at.
	within    []uint64
	bitRefs   []uint32
	withinGen []uint32
	free      []uint32
	index     []uint32 // place + 1, by linear probing from the ID's hash (see place)
	n         int      // places in use
	_         [64]byte // keeps stripes' locks on separate cache lines
}

func (a *accountNumbers) stripe(h uint64) *numberStripe {
	return &a.stripes[(h>>20)&(numberStripes-1)]
}

// lookup returns the account's number, if a slot holds it, and the digest
// of the resources its members held as bits were made over (see
// claimWithin).
func (a *accountNumbers) lookup(id equipe.ID) (uint32, uint64, bool) {
	h := mix(id)
	st := a.stripe(h)
	st.mu.RLock()
	p, ok := st.find(id, h)
	var within uint64
	if ok {
		within = st.within[p]
	}
	st.mu.RUnlock()
	if !ok {
		return 0, 0, false
	}
	return number(h, p), within, true
}

// claimWithin counts one more slot holding a member of the account
// numbered n as bits over the account's resources in use whose digest is
// within, read at the account's generation gen, and reports whether it
// may: the slots that may still be read all hold bits over the same
// resources, so that a check, which compares the digest of the resources
// it has with the number's, never reads bits over other resources (an
// account's entry read again, its resources changed, before the
// invalidation arrives). Other resources take the number's place once no
// slot holds bits, or once every slot that does was read at an older
// generation of the account than gen: those are stale, and a slot's
// generations are compared before its bits are read. A slot holds n
// already.
func (a *accountNumbers) claimWithin(n uint32, within uint64, gen uint32) bool {
	st := &a.stripes[n&(numberStripes-1)]
	p := int(n>>stripeBits) - 1
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case st.bitRefs[p] == 0 || st.within[p] != within && olderGen(st.withinGen[p], gen):
		st.within[p], st.withinGen[p] = within, gen
	case st.within[p] != within:
		return false
	case olderGen(st.withinGen[p], gen):
		st.withinGen[p] = gen
	}
	st.bitRefs[p]++
	return true
}

// olderGen reports whether generation a came before b (generations only
// grow, and wrap around after 2³²).
func olderGen(a, b uint32) bool { return int32(a-b) < 0 }

func number(h uint64, p int) uint32 {
	return uint32(p+1)<<stripeBits | uint32((h>>20)&(numberStripes-1))
}

// find returns the place of id in the stripe. Call it under the lock.
func (st *numberStripe) find(id equipe.ID, h uint64) (int, bool) {
	n := len(st.index)
	if n == 0 {
		return 0, false
	}
	for q := place(h, n); ; q++ {
		if q == n {
			q = 0
		}
		i := st.index[q]
		if i == 0 {
			return 0, false
		}
		if st.ids[i-1] == id {
			return int(i - 1), true
		}
	}
}

// acquire returns the account's number, numbering it if it has none, and
// counts one more slot holding it.
func (a *accountNumbers) acquire(id equipe.ID) uint32 {
	h := mix(id)
	st := a.stripe(h)
	st.mu.Lock()
	defer st.mu.Unlock()
	if p, ok := st.find(id, h); ok {
		st.refs[p]++
		return number(h, p)
	}
	before := st.size()
	var p int
	if k := len(st.free); k > 0 {
		p = int(st.free[k-1])
		st.free = st.free[:k-1]
	} else {
		p = len(st.ids)
		st.ids = append(st.ids, equipe.ID{})
		st.refs = append(st.refs, 0)
		st.within = append(st.within, 0)
		st.bitRefs = append(st.bitRefs, 0)
		st.withinGen = append(st.withinGen, 0)
	}
	st.ids[p], st.refs[p] = id, 1
	st.n++
	if 4*st.n > 3*len(st.index) {
		st.rebuild(max(64, 2*len(st.index)))
	} else {
		st.insert(h, p)
	}
	a.bytes.Add(st.size() - before)
	return number(h, p)
}

// release counts one slot fewer holding the number n (one that held its
// member as bits with bits, see claimWithin), and forgets the account when
// none does.
func (a *accountNumbers) release(n uint32, bits bool) {
	st := &a.stripes[n&(numberStripes-1)]
	p := int(n>>stripeBits) - 1
	st.mu.Lock()
	defer st.mu.Unlock()
	if bits {
		st.bitRefs[p]--
	}
	if st.refs[p]--; st.refs[p] > 0 {
		return
	}
	indexRemove(st.index, mix(st.ids[p]), uint32(p), func(j uint32) uint64 { return mix(st.ids[j]) })
	st.ids[p] = equipe.ID{}
	before := st.size()
	st.free = append(st.free, uint32(p))
	if st.n--; st.n == 0 {
		// An empty stripe gives its arrays back (the cache emptied, or
		// turned over every account of the stripe).
		st.ids, st.refs, st.within, st.bitRefs, st.withinGen, st.free, st.index = nil, nil, nil, nil, nil, nil, nil
	}
	a.bytes.Add(st.size() - before)
}

// id returns the account numbered n; a slot must hold n.
func (a *accountNumbers) id(n uint32) equipe.ID {
	st := &a.stripes[n&(numberStripes-1)]
	st.mu.RLock()
	id := st.ids[int(n>>stripeBits)-1]
	st.mu.RUnlock()
	return id
}

func (st *numberStripe) insert(h uint64, p int) { indexAdd(st.index, h, uint32(p)) }

func (st *numberStripe) rebuild(n int) {
	st.index = make([]uint32, n)
	for p, r := range st.refs {
		if r > 0 {
			st.insert(mix(st.ids[p]), p)
		}
	}
}

// size returns the bytes the stripe's arrays take.
func (st *numberStripe) size() int64 {
	return int64(cap(st.ids))*16 + int64(cap(st.within))*8 +
		int64(cap(st.refs)+cap(st.bitRefs)+cap(st.withinGen)+cap(st.free)+len(st.index))*4
}
