package team

import (
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
)

// accountSlot says how a slot of the members' table holds an account
// (slotAccount): its ID in user and no account number, apart from any
// member by its flag, with
//   - gen: the generations of the account and the zero ID;
//   - acct: how many members the account had when read;
//   - profile: how many of its resource keys are in use, the archived ones
//     after them (res and the count of resources as for a member);
//   - standing: accountExists and accountMissed;
//   - extras, for the few that have them: the parent firm (firm, fgen) and
//     the second-factor requirement (since, grace).
//
// An account so held costs a slot (32 bytes), its share of the index and
// 16 bytes a resource, against some 260 bytes as a compiled account in a
// map of its own; and accounts and members share one budget, so that what
// is asked about stays, whichever kind it is.
const (
	accountExists = 1 << iota // the account exists
	accountMissed             // a member of it was missed since it was read (see Service.loadMember)
)

// heldAccount is an account as the cache answers it without allocating:
// the compiled account is assembled in the value.
type heldAccount struct {
	a       access.Account
	exists  bool
	missed  bool
	members int32
	parent  equipe.ID // zero: none
	since   int64     // UnixNano; 0: no second factor required
	grace   int64
}

// account returns the compiled account, or nil when there is none. Kept as
// a value, the caller does not allocate (see Service.check).
func (h *heldAccount) account() *access.Account {
	if !h.exists {
		return nil
	}
	return &h.a
}

// entry returns the account as an accountEntry, its compiled account on
// the heap.
func (h *heldAccount) entry() accountEntry {
	if !h.exists {
		return accountEntry{}
	}
	e := accountEntry{a: new(access.Account), members: h.members}
	*e.a = h.a
	if h.parent != (equipe.ID{}) {
		p := h.parent
		e.parent = &p
	}
	if h.since != 0 {
		e.mfa = mfaPolicy{since: time.Unix(0, h.since).UTC(), grace: time.Duration(h.grace)}
	}
	return e
}

// newAccount returns e as the members' table keeps it under id (see
// accountSlot), or false if it cannot: an account with more resources in
// use than a slot counts is not cached.
func (c *cache) newAccount(id equipe.ID, e accountEntry) (newMember, bool) {
	nm := newMember{account: id, slot: memberSlot{user: id, flags: slotAccount,
		gen: c.gens.slotGen(id, equipe.ID{})}}
	if e.a == nil {
		return nm, true
	}
	res, arch := e.a.Parts()
	if len(res) > 1<<16-1 {
		return nm, false
	}
	nm.slot.standing = accountExists
	nm.slot.profile = uint16(len(res))
	nm.slot.acct = uint32(max(e.members, 0))
	nm.resources = append(res[:len(res):len(res)], arch...)
	if e.parent != nil {
		nm.firm, nm.fgen = *e.parent, c.gens.of(*e.parent)
	}
	if !e.mfa.since.IsZero() {
		nm.since, nm.grace = e.mfa.since.UnixNano(), int64(e.mfa.grace)
		if nm.since == 0 {
			nm.since = 1 // the epoch itself, told apart from none by a nanosecond
		}
	}
	return nm, true
}

// heldAccount assembles account slot i, and reports whether it is fresh.
// Call it under the shard's lock.
func (s *memberShard) heldAccount(t *memberTable, i int) (heldAccount, bool) {
	sl := &s.slots[i]
	if sl.gen != t.gens.slotGen(sl.user, equipe.ID{}) {
		return heldAccount{}, false
	}
	e := heldAccount{exists: sl.standing&accountExists != 0, missed: sl.standing&accountMissed != 0}
	if !e.exists {
		return e, true
	}
	e.members = int32(sl.acct)
	n := int(sl.flags & resExtra)
	if sl.flags&slotExtra != 0 {
		x := s.extras[uint32(i)]
		if x.firm != (equipe.ID{}) && x.fgen != t.gens.of(x.firm) {
			return heldAccount{}, false
		}
		e.parent, e.since, e.grace = x.firm, x.since, x.grace
		if n == resExtra {
			n = int(x.nres)
		}
	}
	var res, arch []access.ResourceKey
	if n > 0 {
		inUse := int(sl.res) + int(sl.profile)
		end := int(sl.res) + n
		res, arch = s.keys[sl.res:inUse:inUse], s.keys[inUse:end:end]
	}
	e.a = access.AssembleAccount(sl.user, res, arch)
	return e, true
}

// getAccount returns the account's entry, fresh, marking it used with
// mark.
func (t *memberTable) getAccount(id equipe.ID, mark bool) (heldAccount, bool) {
	s := t.shard(hashMember(memberKey{account: id}))
	s.mu.RLock()
	i := s.find(id, 0, slotHash(id, 0), true)
	if i < 0 {
		s.mu.RUnlock()
		return heldAccount{}, false
	}
	e, ok := s.heldAccount(t, i)
	if ok && mark {
		s.markUsed(i)
	}
	s.mu.RUnlock()
	return e, ok
}

// markMissed records a miss of a member of the account, if its entry is
// held, and reports whether one was recorded before since it was read.
func (t *memberTable) markMissed(id equipe.ID) bool {
	s := t.shard(hashMember(memberKey{account: id}))
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.find(id, 0, slotHash(id, 0), true)
	if i < 0 {
		return false
	}
	sl := &s.slots[i]
	before := sl.standing&accountMissed != 0
	sl.standing |= accountMissed
	return before
}
