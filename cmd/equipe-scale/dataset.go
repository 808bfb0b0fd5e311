package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/store"
)

// dataset describes the seeded population as pure functions of an index:
// the seeder writes row i from them, and the load generator finds the same
// IDs again without holding a million of them in memory.
type dataset struct {
	Accounts   int // accounts
	PerAccount int // members of each account, users of their own
	Resources  int // resources of each account
	// Base is the creation time of everything; account and resource IDs
	// are UUIDv7 a millisecond apart from it, so that they sort in the
	// order they are inserted (as the service's own NewID makes them).
	Base time.Time
}

// Users returns the number of users, one per member.
func (d dataset) Users() int { return d.Accounts * d.PerAccount }

// mix is SplitMix64's finaliser: a bijection of 64-bit integers that
// scatters consecutive inputs.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Kinds of ID, salting mix so that no two kinds share one.
const (
	kindUser = iota + 1
	kindAccount
	kindResource
	kindStranger
	kindAdmin
)

// randomID is a UUIDv4 derived from (kind, i), as random as NewUserID's to
// the service.
func randomID(kind, i uint64) uuid.UUID {
	var u uuid.UUID
	binary.BigEndian.PutUint64(u[:8], mix(kind<<56^i))
	binary.BigEndian.PutUint64(u[8:], mix(kind<<56^i^0x5555_5555_5555_5555))
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}

// timedID is a UUIDv7 of the millisecond at, its random bits derived from
// (kind, i).
func timedID(kind, i uint64, at time.Time) uuid.UUID {
	u := randomID(kind, i)
	ms := uint64(at.UnixMilli())
	u[0], u[1], u[2], u[3], u[4], u[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	u[6] = u[6]&0x0f | 0x70
	return u
}

// AccountID returns the ID of account a.
func (d dataset) AccountID(a int) uuid.UUID {
	return timedID(kindAccount, uint64(a), d.Base.Add(time.Duration(a)*time.Millisecond))
}

// UserID returns the ID of user u, the member u%PerAccount of account
// u/PerAccount.
func (d dataset) UserID(u int) uuid.UUID { return randomID(kindUser, uint64(u)) }

// ResourceID returns the ID of resource r of account a.
func (d dataset) ResourceID(a, r int) uuid.UUID {
	return timedID(kindResource, uint64(a*d.Resources+r), d.Base.Add(time.Duration(a)*time.Millisecond))
}

// StrangerID returns the ID of no user: the checks about someone unknown.
func (d dataset) StrangerID(i int) uuid.UUID { return randomID(kindStranger, uint64(i)) }

var firstNames = []string{"Amélie", "Bruno", "Chloé", "Denis", "Élodie", "François", "Gaëlle", "Hugo", "Inès",
	"Jérôme", "Karima", "Louis", "Maëlys", "Nicolas", "Océane", "Pierre", "Rose", "Sébastien", "Thérèse", "Yann"}
var lastNames = []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
	"Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "García", "David", "Bertrand", "Roux", "Vincent", "Fournier"}

// AdminID returns the ID of the instance administrator who makes the scale
// run's API keys.
func (d dataset) AdminID() uuid.UUID { return randomID(kindAdmin, 0) }

// Name returns the first and last names of user u.
func (d dataset) Name(u int) (first, last string) {
	h := mix(uint64(u))
	return firstNames[h%uint64(len(firstNames))], lastNames[(h>>16)%uint64(len(lastNames))]
}

// Email returns the address of user u: unique, and what a test logs in
// with.
func (d dataset) Email(u int) string {
	first, last := d.Name(u)
	return store.Fold(first)[:1] + "." + asciiLower(last) + "." + strconv.Itoa(u) + "@scale.example"
}

// asciiLower folds a name to lower-case ASCII for an address.
func asciiLower(s string) string {
	out := []byte(nil)
	for _, r := range store.Fold(s) {
		if r < 0x80 && r != ' ' {
			out = append(out, byte(r))
		}
	}
	return string(out)
}

// memberRoles are the roles of an account's members by their place in it:
// an administrator, two managers, five collaborators, two guests (built-in
// roles of the default catalogue).
var memberRoles = []string{"admin", "manager", "manager", "collaborator", "collaborator", "collaborator",
	"collaborator", "collaborator", "guest", "guest"}

// Role returns the role of user u in their account.
func (d dataset) Role(u int) string { return memberRoles[(u%d.PerAccount)%len(memberRoles)] }

// Suspended reports whether user u's membership is suspended: one in 50.
func (d dataset) Suspended(u int) bool { return u%50 == 7 && u%d.PerAccount != 0 }

// overrideSets are the permission overrides a fifth of the members have.
var overrideSets = [][]equipe.Override{
	{{Permission: "records.export", Allow: true}},
	{{Permission: "records.view", Allow: true, Scope: "all"}, {Permission: "records.bulk_delete", Allow: false}},
	{{Permission: "members.view", Allow: false}, {Permission: "records.edit", Allow: true, Scope: "owned"},
		{Permission: "contacts.manage", Allow: true}},
}

// overrideTexts are overrideSets as the members table holds them.
var overrideTexts = func() []string {
	out := make([]string, len(overrideSets))
	for i, o := range overrideSets {
		b, err := json.Marshal(o)
		if err != nil {
			panic(err)
		}
		out[i] = string(b)
	}
	return out
}()

// Overrides returns user u's overrides as stored ("[]" for none): one
// member in five has some.
func (d dataset) Overrides(u int) string {
	if u%5 != 1 {
		return "[]"
	}
	return overrideTexts[(u/5)%len(overrideTexts)]
}

// Assigned returns how many of the account's resources are assigned to
// user u (0, 1 or 2), the first being resource Assignment(u, 0).
func (d dataset) Assigned(u int) int {
	if d.Resources == 0 {
		return 0
	}
	return min([]int{0, 1, 2, 0}[u%4], d.Resources)
}

// Assignment returns the index, in its account, of user u's k-th assigned
// resource.
func (d dataset) Assignment(u, k int) int { return (u/d.PerAccount + u + k) % d.Resources }

// ResourceName returns the kind and name of resource r of account a.
func (d dataset) ResourceName(a, r int) (kind, name string) {
	if r%2 == 0 {
		return "location", fmt.Sprintf("Site %d-%d", a, r)
	}
	return "product", fmt.Sprintf("Product %d-%d", a, r)
}

// emailKey is the service's comparison key of an address.
func emailKey(email string) string { return identity.EmailKey(email) }
