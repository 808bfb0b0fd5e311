package access

import "github.com/equipe-dev/equipe"

// Profile is what members of one role and the same overrides share: the
// catalogue, the role and the resulting permissions. Profiles are interned
// by their catalogue, so members with equal profiles hold one pointer, and
// a cache may keep a small number per profile instead of a pointer per
// member (see Member.Parts).
type Profile profile

// ResourceKey is an assigned resource as a compiled member holds it. A
// cache may keep the keys of many members in one array of its own, which
// holds no pointer for the garbage collector to scan (see Member.Parts).
type ResourceKey = rid

// Standing is a member's standing packed in a byte: their status, whether
// their user is disabled, whether they act through their firm, and why
// every check of them is denied, if one is.
type Standing uint8

// Bits of a Standing: status in the low three, then the two flags, then
// the block code.
const (
	standingStatus   = 0x07
	standingDisabled = 1 << 3
	standingViaFirm  = 1 << 4
	standingBlocked  = 5 // shift of the block code
)

// Parts returns the member taken apart for a cache that holds many members
// without a pointer each: their profile (interned: equal profiles are one
// pointer), their assigned resources sorted (not a copy unless they were
// held as bits: the caller must not change them) and their standing.
// Assemble puts them back together.
func (m *Member) Parts() (*Profile, []ResourceKey, Standing) {
	st := Standing(m.status) | Standing(m.blocked)<<standingBlocked
	if m.disabled {
		st |= standingDisabled
	}
	if m.viaFirm {
		st |= standingViaFirm
	}
	return (*Profile)(m.p), m.assignedList(), st
}

// Assemble returns the member of user in account made of the parts of a
// member compiled for them (see Member.Parts). It copies nothing: the
// member uses resources as they are, so they must not change while it is
// in use. It does not allocate; a check of the member it returns, by its
// address, allocates nothing either.
func Assemble(p *Profile, user, account equipe.ID, resources []ResourceKey, st Standing) Member {
	return Member{
		p:         (*profile)(p),
		userID:    user,
		accountID: account,
		resources: resources,
		viaFirm:   st&standingViaFirm != 0,
		disabled:  st&standingDisabled != 0,
		status:    Status(st & standingStatus),
		blocked:   blockCode(st >> standingBlocked),
	}
}

// MaxWithin is how many of its account's resources in use a member's
// resources may be held as bits over (see Within).
const MaxWithin = 32

// Within returns the member's resources as bits over within, an account's
// resources in use, sorted (see Account.Parts): bit i set for within[i].
// It reports false when one of the resources is not among the first
// MaxWithin of within; resources and within must be sorted.
func Within(within, resources []ResourceKey) (uint32, bool) {
	var b uint32
	for _, r := range resources {
		i, ok := search(within, r)
		if !ok || i >= MaxWithin {
			return 0, false
		}
		b |= 1 << i
	}
	return b, true
}

// AssembleWithin returns the member of user in account whose assigned
// resources are the resources of within whose bit is set in bits (see
// Within), within being their account's resources in use, exactly as the
// bits were made over. Like Assemble, it copies and allocates nothing: a
// cache that holds an account's resources once keeps 4 bytes a member
// instead of 16 a resource.
func AssembleWithin(p *Profile, user, account equipe.ID, within []ResourceKey, bits uint32, st Standing) Member {
	m := Assemble(p, user, account, nil, st)
	m.within, m.bits = within, bits
	return m
}

// Parts returns the account taken apart for a cache that holds many
// accounts without a pointer each: its resources in use and its archived
// resources, sorted (not copies: the caller must not change them).
// AssembleAccount puts them back together.
func (a *Account) Parts() (resources, archived []ResourceKey) {
	return a.resources, a.archived
}

// AssembleAccount returns the account id made of the parts of an account
// compiled for it (see Account.Parts). It copies nothing, so the
// parts must not change while it is in use, and does not allocate.
func AssembleAccount(id equipe.ID, resources, archived []ResourceKey) Account {
	return Account{id: id, resources: resources, archived: archived}
}
