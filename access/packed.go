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
// pointer), their assigned resources sorted (not a copy: the caller must
// not change them) and their standing. Assemble puts them back together.
func (m *Member) Parts() (*Profile, []ResourceKey, Standing) {
	st := Standing(m.status) | Standing(m.blocked)<<standingBlocked
	if m.disabled {
		st |= standingDisabled
	}
	if m.viaFirm {
		st |= standingViaFirm
	}
	return (*Profile)(m.p), m.resources, st
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
