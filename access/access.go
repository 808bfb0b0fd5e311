package access

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"unsafe"

	"github.com/equipe-dev/equipe"
)

// Set is a set of permissions with their scopes, indexed by Permission.Index.
// It is a plain value (no pointers): copying it copies the set, == compares
// two sets, and reading it costs a load and a mask. A Set only makes sense
// with the catalogue that built it.
type Set struct {
	bits  bitset
	scope [MaxPermissions]Scope // the granted scope of each member of the set; ScopeNone for an unscoped permission
}

func (s *Set) add(i int, sc Scope) {
	s.bits[i>>6] |= 1 << (i & 63)
	s.scope[i] = sc
}

func (s *Set) remove(i int) {
	s.bits[i>>6] &^= 1 << (i & 63)
	s.scope[i] = ScopeNone
}

// Has reports whether the permission at index i is in the set.
func (s Set) Has(i int) bool {
	return uint(i) < MaxPermissions && s.bits[i>>6]&(1<<(i&63)) != 0
}

// Scope returns the scope at which the permission at index i is in the set:
// ScopeNone when it is absent or unscoped (tell the two apart with Has).
func (s Set) Scope(i int) Scope {
	if !s.Has(i) {
		return ScopeNone
	}
	return s.scope[i]
}

// Len returns the number of permissions in the set.
func (s Set) Len() int {
	n := 0
	for _, w := range s.bits {
		n += bits.OnesCount64(w)
	}
	return n
}

// bitset holds one bit per permission index.
type bitset = [MaxPermissions / 64]uint64

// eachBit calls f with the index of every bit set in bs, in order.
func eachBit(bs *bitset, f func(i int)) {
	for w, word := range bs {
		for word != 0 {
			f(w<<6 | bits.TrailingZeros64(word))
			word &= word - 1
		}
	}
}

// each calls f with the index of every permission of the set, in order.
func (s *Set) each(f func(i int)) { eachBit(&s.bits, f) }

// Grants returns the set the grants give under this catalogue. It is lenient
// on purpose, because grants come from the store and may predate a change of
// the catalogue: a permission the catalogue no longer declares is left out
// (so it is denied everywhere), a scope it no longer accepts falls to the
// broadest accepted one below it, and ScopeNone on a scoped permission means
// its default scope. A permission given twice gets the broader scope, as a
// union of grants should. Validate grants written by people with
// ValidateGrants.
func (c *Catalogue) Grants(gs []Grant) Set {
	var s Set
	for _, g := range gs {
		i, ok := c.perms[g.Permission]
		if !ok {
			continue
		}
		sc, ok := c.Permissions[i].resolve(g.Scope)
		if !ok {
			continue
		}
		if s.Has(i) && s.scope[i] >= sc {
			continue
		}
		s.add(i, sc)
	}
	return s
}

// GrantList returns the grants of the set, in catalogue order.
func (c *Catalogue) GrantList(s Set) []Grant {
	gs := make([]Grant, 0, s.Len())
	s.each(func(i int) {
		if i < len(c.Permissions) {
			gs = append(gs, Grant{Permission: c.Permissions[i].Key, Scope: s.scope[i]})
		}
	})
	return gs
}

// Override changes one permission of a member on top of their role. A
// denying override (Allow false) removes the permission whatever the role
// says. An allowing override grants the permission at Scope, replacing the
// role's scope, so an administrator can narrow as well as widen a member's
// reach ("Consultation: Propriétaire uniquement"); ScopeNone on a scoped
// permission means its default scope.
type Override struct {
	Permission string
	Allow      bool
	Scope      Scope
}

// Status is a member's status, as the evaluation sees it. The zero value is
// StatusUnknown, which is denied like every status but MemberActive.
type Status uint8

// Member statuses; they mirror equipe.MemberStatus.
const (
	StatusUnknown Status = iota
	MemberCreated
	MemberInvited
	MemberActive
	MemberSuspended
)

// StatusOf returns the Status of s; a status this package does not know is
// StatusUnknown (denied).
func StatusOf(s equipe.MemberStatus) Status {
	switch s {
	case equipe.MemberCreated:
		return MemberCreated
	case equipe.MemberInvited:
		return MemberInvited
	case equipe.MemberActive:
		return MemberActive
	case equipe.MemberSuspended:
		return MemberSuspended
	}
	return StatusUnknown
}

// String returns the status's name in equipe.MemberStatus terms, or
// "unknown".
func (s Status) String() string {
	switch s {
	case MemberCreated:
		return string(equipe.MemberCreated)
	case MemberInvited:
		return string(equipe.MemberInvited)
	case MemberActive:
		return string(equipe.MemberActive)
	case MemberSuspended:
		return string(equipe.MemberSuspended)
	}
	return "unknown"
}

// Input is everything Compile needs to know about a member, gathered by the
// caller from the store.
type Input struct {
	UserID    equipe.ID
	AccountID equipe.ID
	Role      Role // resolved by the caller: a built-in role or the account's custom role
	Overrides []Override
	Resources []equipe.ID // assigned resources, in any order
	Status    Status
	// UserDisabled is true when the user (the person, across all accounts)
	// is disabled.
	UserDisabled bool
	// ViaFirm is true when the user acts in a client account through their
	// membership of its parent firm. AccountID is then the client account,
	// Role the firm role, and Status the firm membership's. The firm
	// assigned the whole client account to the member, so a restricted role
	// does not further limit them to resources inside it.
	ViaFirm bool
}

// rid is a resource ID as two integers: comparing two of them is two
// compares, where comparing [16]byte values goes through memequal.
type rid struct{ hi, lo uint64 }

func ridOf(id equipe.ID) rid {
	return rid{binary.BigEndian.Uint64(id[:8]), binary.BigEndian.Uint64(id[8:])}
}

func (r rid) id() equipe.ID {
	var id equipe.ID
	binary.BigEndian.PutUint64(id[:8], r.hi)
	binary.BigEndian.PutUint64(id[8:], r.lo)
	return id
}

func (r rid) less(o rid) bool { return r.hi < o.hi || r.hi == o.hi && r.lo < o.lo }

func cmpRid(a, b rid) int {
	switch {
	case a.less(b):
		return -1
	case b.less(a):
		return 1
	}
	return 0
}

// sortedRids returns the IDs as sorted, de-duplicated rids.
func sortedRids(ids []equipe.ID) []rid {
	rs := make([]rid, len(ids))
	for i, id := range ids {
		rs[i] = ridOf(id)
	}
	slices.SortFunc(rs, cmpRid)
	return slices.Compact(rs)
}

// contains is a binary search written out: it is on the hot path, and a
// generic search with a comparison function does not inline.
func contains(rs []rid, k rid) bool {
	lo := lowerBound(rs, k)
	return lo < len(rs) && rs[lo] == k
}

// search returns where k is in rs and whether it is there (see
// Member.assigned).
func search(rs []rid, k rid) (int, bool) {
	lo := lowerBound(rs, k)
	return lo, lo < len(rs) && rs[lo] == k
}

// lowerBound returns the place of the first key of rs not less than k.
func lowerBound(rs []rid, k rid) int {
	lo, hi := 0, len(rs)
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if rs[h].less(k) {
			lo = h + 1
		} else {
			hi = h
		}
	}
	return lo
}

// Member is a member compiled for checking: their effective permissions as a
// Set, their assigned resources sorted, and the reason, if any, that they
// may do nothing at all. Compile it once, cache it (keyed by account and
// user), check it many times; it is immutable and safe to share.
//
// What it costs in memory matters: a service caches a member per user and
// account asked about, hundreds of thousands of them. The permissions,
// which members of one role and the same overrides share, live once in a
// profile that they point to (see Catalogue.profile); a member itself is
// its IDs, its resources and a few bytes of standing, 96 bytes plus 16
// per assigned resource (a cache keeps far less a member: see Parts and
// AssembleWithin).
type Member struct {
	p         *profile
	userID    equipe.ID
	accountID equipe.ID
	resources []rid
	// within, when set, holds the member's resources instead of
	// resources: those of its list whose bit is set in bits (see
	// AssembleWithin).
	within   []rid
	bits     uint32
	viaFirm  bool
	disabled bool
	status   Status
	blocked  blockCode // why the member may do nothing, if they may not
}

// profile is what members of one role and the same overrides share: the
// catalogue they were compiled with, the role, and the resulting
// permissions. It is a comparable value, interned by its catalogue.
type profile struct {
	cat        *Catalogue
	role       string
	set        Set
	denied     bitset // permissions a denying override removed
	overridden bitset // permissions an allowing override set
	restricted bool
}

// blockCode is a Reason that denies every check of a member, as a byte.
type blockCode uint8

var blockReasons = [...]Reason{"", DeniedUnknownUser, DeniedNotMember, DeniedUserDisabled, DeniedMemberSuspended,
	DeniedMemberNotActive}

func blockOf(r Reason) blockCode {
	for i, b := range blockReasons {
		if b == r {
			return blockCode(i)
		}
	}
	panic("access: no block code for " + string(r))
}

// Compile compiles a member against the catalogue. Effective permissions are
// the role's grants, plus allowing overrides, minus denying overrides;
// overrides and grants naming permissions the catalogue does not declare
// are ignored, which denies them. When overrides name one permission more
// than once, a denial wins over any allowance and the narrowest allowance
// wins over broader ones, so the result never depends on their order.
func (c *Catalogue) Compile(in Input) *Member {
	p := profile{cat: c, role: in.Role.Key, set: c.Grants(in.Role.Grants), restricted: in.Role.Restricted}
	var allowed bitset
	var scope [MaxPermissions]Scope
	for _, o := range in.Overrides {
		i, ok := c.perms[o.Permission]
		if !ok {
			continue
		}
		w, b := i>>6, uint64(1)<<(i&63)
		sc, ok := c.Permissions[i].resolve(o.Scope)
		if !o.Allow || !ok {
			// An allowance that resolves to no scope (narrower than any
			// the permission still accepts, or no scope at all) cannot be
			// honoured without widening it: deny.
			p.denied[w] |= b
			continue
		}
		if allowed[w]&b == 0 || sc < scope[i] {
			scope[i] = sc
		}
		allowed[w] |= b
	}
	for w := range allowed {
		allowed[w] &^= p.denied[w]
	}
	p.overridden = allowed
	eachBit(&allowed, func(i int) { p.set.add(i, scope[i]) })
	eachBit(&p.denied, p.set.remove)

	m := &Member{
		p:         c.profile(&p),
		userID:    in.UserID,
		accountID: in.AccountID,
		viaFirm:   in.ViaFirm,
		disabled:  in.UserDisabled,
		status:    in.Status,
	}
	if len(in.Resources) > 0 {
		m.resources = sortedRids(in.Resources)
	}
	var zero equipe.ID
	var blocked Reason
	switch {
	case in.UserID == zero:
		blocked = DeniedUnknownUser
	case in.AccountID == zero:
		blocked = DeniedNotMember
	case in.UserDisabled:
		blocked = DeniedUserDisabled
	case in.Status == MemberSuspended:
		blocked = DeniedMemberSuspended
	case in.Status != MemberActive:
		blocked = DeniedMemberNotActive
	}
	m.blocked = blockOf(blocked)
	return m
}

// UserID returns the member's user.
func (m *Member) UserID() equipe.ID { return m.userID }

// AccountID returns the account the member was compiled for.
func (m *Member) AccountID() equipe.ID { return m.accountID }

// RoleKey returns the key of the member's role.
func (m *Member) RoleKey() string { return m.p.role }

// Restricted reports whether the member's role limits them to their
// assigned resources.
func (m *Member) Restricted() bool { return m.p.restricted }

// ViaFirm reports whether the member acts through their firm's membership.
func (m *Member) ViaFirm() bool { return m.viaFirm }

// LimitedToAssigned reports whether checks on a resource require the member
// to be assigned to it: a restricted role, not acting through the firm.
func (m *Member) LimitedToAssigned() bool { return m.p.restricted && !m.viaFirm }

// Status returns the member's status.
func (m *Member) Status() Status { return m.status }

// UserDisabled reports whether the member's user is disabled.
func (m *Member) UserDisabled() bool { return m.disabled }

// Blocked returns the reason every check of the member is denied (user
// disabled, member suspended or not yet active), or "" when they may act.
func (m *Member) Blocked() Reason { return blockReasons[m.blocked] }

// Resources returns the member's assigned resources, sorted.
func (m *Member) Resources() []equipe.ID {
	rs := m.assignedList()
	ids := make([]equipe.ID, len(rs))
	for i, r := range rs {
		ids[i] = r.id()
	}
	return ids
}

// assigned reports whether the member is assigned to k.
func (m *Member) assigned(k rid) bool {
	if m.within == nil {
		return contains(m.resources, k)
	}
	i, ok := search(m.within, k)
	return ok && i < MaxWithin && m.bits&(1<<i) != 0
}

// assignedList returns the member's assigned resources, sorted: a new
// slice when they are held as bits (see AssembleWithin).
func (m *Member) assignedList() []rid {
	if m.within == nil {
		return m.resources
	}
	rs := make([]rid, 0, bits.OnesCount32(m.bits))
	for i, r := range m.within[:min(len(m.within), MaxWithin)] {
		if m.bits&(1<<i) != 0 {
			rs = append(rs, r)
		}
	}
	return rs
}

// Size returns the bytes the member takes in memory, for the budget of a
// cache that holds members.
func (m *Member) Size() int {
	return int(unsafe.Sizeof(*m)) + cap(m.resources)*int(unsafe.Sizeof(rid{}))
}

// Assigned reports whether the member is assigned to the resource id.
func (m *Member) Assigned(id equipe.ID) bool { return m.assigned(ridOf(id)) }

// Account is an account compiled for checking: its ID, its resources in
// use and its archived resources, each sorted. A resource in neither is
// unknown to every check in the account; an archived one denies every
// check.
type Account struct {
	id        equipe.ID
	resources []rid
	archived  []rid
}

// CompileAccount compiles the account id with the IDs of its resources in
// use and of its archived resources.
func CompileAccount(id equipe.ID, resources, archived []equipe.ID) *Account {
	return &Account{id: id, resources: sortedRids(resources), archived: sortedRids(archived)}
}

// ID returns the account's ID.
func (a *Account) ID() equipe.ID { return a.id }

// Has reports whether the resource id belongs to the account and is in use
// (not archived).
func (a *Account) Has(id equipe.ID) bool { return contains(a.resources, ridOf(id)) }

// Archived reports whether the resource id belongs to the account and is
// archived.
func (a *Account) Archived(id equipe.ID) bool { return contains(a.archived, ridOf(id)) }

// Len returns the number of the account's resources in use.
func (a *Account) Len() int { return len(a.resources) }

// Query is what a check asks about beyond the permission: optionally a
// resource, and optionally the owner of a record.
//
// With OwnerKnown, the record belongs to Owner; with Unowned, the record
// has no owner; with neither, the question is about the permission in
// general, which a scoped permission answers yes at any scope (the reason
// says which). Owner questions matter to scoped permissions only; an
// unscoped permission ignores them.
type Query struct {
	Resource    equipe.ID
	HasResource bool
	Owner       equipe.ID
	OwnerKnown  bool
	Unowned     bool
}

// Reason is the stable code that says why a check allowed or denied. Codes
// are part of the API: new ones may be added, existing ones never change.
type Reason string

// Reasons, in the order the checks are made (the first failing one is
// given).
const (
	// Allowed: granted; for a scoped permission, the record's owner fits
	// the member's scope.
	Allowed Reason = "allowed"
	// AllowedScopeAll, AllowedScopeOwnedOrUnassigned, AllowedScopeOwned:
	// a general question (no owner) about a scoped permission, granted at
	// that scope.
	AllowedScopeAll               Reason = "allowed_scope_all"
	AllowedScopeOwnedOrUnassigned Reason = "allowed_scope_owned_or_unassigned"
	AllowedScopeOwned             Reason = "allowed_scope_owned"

	// DeniedUnknownAccount: no such account (nil Account).
	DeniedUnknownAccount Reason = "denied_unknown_account"
	// DeniedUnknownUser: Check returns it for a member compiled without a
	// user. The service answers a user who does not exist with
	// DeniedNotMember, as one who is not a member: whether an identity
	// exists is not a caller's to learn.
	DeniedUnknownUser Reason = "denied_unknown_user"
	// DeniedNotMember: the user is not a member of the account (nil Member,
	// or a member of another account).
	DeniedNotMember Reason = "denied_not_member"
	// DeniedStaleMember: the member was compiled with another catalogue
	// (the catalogue was reloaded); compile it again.
	DeniedStaleMember Reason = "denied_stale_member"
	// DeniedUnknownPermission: the catalogue declares no such permission.
	DeniedUnknownPermission Reason = "denied_unknown_permission"
	// DeniedInvalidQuery: the query says both that the record has an owner
	// and that it has none.
	DeniedInvalidQuery Reason = "denied_invalid_query"
	// DeniedUserDisabled: the user is disabled, in every account.
	DeniedUserDisabled Reason = "denied_user_disabled"
	// DeniedMemberSuspended: the membership is suspended.
	DeniedMemberSuspended Reason = "denied_member_suspended"
	// DeniedMemberNotActive: the membership is created or invited, not yet
	// active.
	DeniedMemberNotActive Reason = "denied_member_not_active"
	// DeniedByOverride: the member's role grants the permission (or not),
	// and an override denies it.
	DeniedByOverride Reason = "denied_by_override"
	// DeniedNotGranted: neither the role nor an override grants it.
	DeniedNotGranted Reason = "denied_not_granted"
	// DeniedUnknownResource: the resource does not belong to the account.
	DeniedUnknownResource Reason = "denied_unknown_resource"
	// DeniedResourceArchived: the resource belongs to the account and is
	// archived: nobody acts on it until it is restored.
	DeniedResourceArchived Reason = "denied_resource_archived"
	// DeniedResourceNotAssigned: the member's role is restricted and they
	// are not assigned to the resource.
	DeniedResourceNotAssigned Reason = "denied_resource_not_assigned"
	// DeniedScope: the permission is granted at a scope that does not reach
	// the record (someone else's record, or an unowned one with the scope
	// "owned").
	DeniedScope Reason = "denied_scope"
)

// Reasons lists every reason code, for documentation and API schemas.
var Reasons = []Reason{
	Allowed, AllowedScopeAll, AllowedScopeOwnedOrUnassigned, AllowedScopeOwned,
	DeniedUnknownAccount, DeniedUnknownUser, DeniedNotMember, DeniedStaleMember,
	DeniedUnknownPermission, DeniedInvalidQuery, DeniedUserDisabled,
	DeniedMemberSuspended, DeniedMemberNotActive, DeniedByOverride,
	DeniedNotGranted, DeniedUnknownResource, DeniedResourceArchived, DeniedResourceNotAssigned, DeniedScope,
}

// Decision is the answer of a check.
type Decision struct {
	Allowed bool
	Reason  Reason
}

func deny(r Reason) Decision { return Decision{Reason: r} }

var allowedIn = [...]Reason{
	ScopeOwned:             AllowedScopeOwned,
	ScopeOwnedOrUnassigned: AllowedScopeOwnedOrUnassigned,
	ScopeAll:               AllowedScopeAll,
}

// Check answers whether the member m may use the permission key in account a,
// for the query q. It denies by default: a nil account or member, an
// unknown permission, and anything not positively allowed are denied. See
// CheckIndex for the rules.
func (c *Catalogue) Check(m *Member, a *Account, permission string, q Query) Decision {
	i, ok := c.perms[permission]
	if !ok {
		i = -1
	}
	return c.CheckIndex(m, a, i, q)
}

// CheckIndex is Check with the permission given by its index (see Index),
// for callers that resolve keys once. The rules, in order, the first that
// fails giving the reason: the account exists; the member exists, belongs
// to the account and was compiled with this catalogue; the permission
// exists; the query is consistent; the user is not disabled and the member
// is active; the member holds the permission (role ∪ allowing overrides −
// denying overrides); a resource in the query belongs to the account, is not archived and,
// for a restricted role not acting through a firm, is assigned to the
// member; and the member's scope reaches the record's owner ("all" any
// owner, "owned_or_unassigned" their own and unowned records, "owned" their
// own only).
func (c *Catalogue) CheckIndex(m *Member, a *Account, perm int, q Query) Decision {
	switch {
	case a == nil:
		return deny(DeniedUnknownAccount)
	case m == nil || m.accountID != a.id:
		return deny(DeniedNotMember)
	case m.p.cat != c:
		return deny(DeniedStaleMember)
	case uint(perm) >= uint(len(c.Permissions)):
		return deny(DeniedUnknownPermission)
	case q.OwnerKnown && q.Unowned:
		return deny(DeniedInvalidQuery)
	case m.blocked != 0:
		return deny(blockReasons[m.blocked])
	}
	p := m.p
	w, b := perm>>6, uint64(1)<<(perm&63)
	if p.set.bits[w]&b == 0 {
		if p.denied[w]&b != 0 {
			return deny(DeniedByOverride)
		}
		return deny(DeniedNotGranted)
	}
	if q.HasResource {
		k := ridOf(q.Resource)
		if !contains(a.resources, k) {
			// Off the path of a resource in use: an archived resource is
			// told from an unknown one only once the first search failed.
			if contains(a.archived, k) {
				return deny(DeniedResourceArchived)
			}
			return deny(DeniedUnknownResource)
		}
		// A member held as bits has no resources of their own (see
		// AssembleWithin): contains, which inlines, answers first, so that
		// a member compiled pays next to nothing for the bits.
		if p.restricted && !m.viaFirm && !contains(m.resources, k) && (m.within == nil || !m.assigned(k)) {
			return deny(DeniedResourceNotAssigned)
		}
	}
	sc := p.set.scope[perm]
	if sc == ScopeNone { // an unscoped permission: owners do not matter
		return Decision{Allowed: true, Reason: Allowed}
	}
	switch {
	case q.OwnerKnown:
		if sc == ScopeAll || (q.Owner == m.userID && sc >= ScopeOwned) {
			return Decision{Allowed: true, Reason: Allowed}
		}
		return deny(DeniedScope)
	case q.Unowned:
		if sc >= ScopeOwnedOrUnassigned {
			return Decision{Allowed: true, Reason: Allowed}
		}
		return deny(DeniedScope)
	}
	return Decision{Allowed: true, Reason: allowedIn[sc]}
}

// Effective is one permission a member holds, for display: its key, its
// scope, and whether it comes from the member's "role" or an "override".
type Effective struct {
	Permission string
	Scope      Scope
	Source     string
}

// Sources of an Effective permission.
const (
	SourceRole     = "role"
	SourceOverride = "override"
)

// Effective lists the permissions the member holds, in catalogue order. It
// does not repeat the member's standing: a suspended member still holds
// their permissions but every check denies them (see Member.Blocked). A
// member compiled with another catalogue holds nothing here.
func (c *Catalogue) Effective(m *Member) []Effective {
	if m == nil || m.p.cat != c {
		return nil
	}
	p := m.p
	es := make([]Effective, 0, p.set.Len())
	p.set.each(func(i int) {
		src := SourceRole
		if p.overridden[i>>6]&(1<<(i&63)) != 0 {
			src = SourceOverride
		}
		es = append(es, Effective{Permission: c.Permissions[i].Key, Scope: p.set.scope[i], Source: src})
	})
	return es
}
