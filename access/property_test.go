package access

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
)

// The property test draws thousands of random catalogues, roles, overrides,
// assignments, standings and questions, and checks every answer against a
// plain reference evaluation written with maps, and against the denial rules
// stated one by one. Its seed is fixed so a failure is reproducible; the
// failing case is printed in full.

// randomCatalogue builds a catalogue of up to 40 permissions, each unscoped
// or with a random non-empty set of scopes in a random order.
func randomCatalogue(t *testing.T, r *rand.Rand) *Catalogue {
	t.Helper()
	var b strings.Builder
	b.WriteString("version: 1\npermissions:\n")
	n := 1 + r.IntN(40)
	for i := range n {
		fmt.Fprintf(&b, "  - key: p%d.do\n    label: {fr: P%d, en: P%d}\n", i, i, i)
		if r.IntN(2) == 0 {
			continue
		}
		all := []string{"all", "owned_or_unassigned", "owned"}
		r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		scopes := all[:1+r.IntN(3)]
		fmt.Fprintf(&b, "    scopes: [%s]\n    default_scope: %s\n", strings.Join(scopes, ", "), scopes[r.IntN(len(scopes))])
	}
	b.WriteString("roles:\n  - key: admin\n    label: {fr: A, en: A}\n    permissions: all\n")
	c, err := Parse("random.yaml", []byte(b.String()))
	if err != nil {
		t.Fatalf("random catalogue: %v\n%s", err, b.String())
	}
	return c
}

type world struct {
	c         *Catalogue
	accountID equipe.ID
	otherID   equipe.ID
	users     []equipe.ID
	pool      []equipe.ID // the account's resources
	foreign   []equipe.ID // another account's resources
	keys      []string    // the catalogue's keys and a few it does not declare
}

func newWorld(c *Catalogue, r *rand.Rand) *world {
	w := &world{c: c, accountID: equipe.NewID(), otherID: equipe.NewID()}
	for range 3 {
		w.users = append(w.users, equipe.NewID())
	}
	for range 1 + r.IntN(12) {
		w.pool = append(w.pool, equipe.NewID())
	}
	for range 3 {
		w.foreign = append(w.foreign, equipe.NewID())
	}
	for _, p := range c.Permissions {
		w.keys = append(w.keys, p.Key)
	}
	w.keys = append(w.keys, "gone.permission", "also.gone", "")
	return w
}

func randomScope(r *rand.Rand) Scope { return Scope(r.IntN(5)) } // includes one out of range

func (w *world) input(r *rand.Rand) Input {
	in := Input{
		UserID:       w.users[r.IntN(len(w.users))],
		AccountID:    w.accountID,
		Status:       Status(r.IntN(6)),
		UserDisabled: r.IntN(8) == 0,
		ViaFirm:      r.IntN(6) == 0,
	}
	if r.IntN(3) != 0 { // most members are active, so allowances get exercised
		in.Status = MemberActive
	}
	in.Role = Role{Key: "random", Restricted: r.IntN(2) == 0}
	for range r.IntN(len(w.keys) + 1) {
		in.Role.Grants = append(in.Role.Grants, Grant{w.keys[r.IntN(len(w.keys))], randomScope(r)})
	}
	for range r.IntN(8) {
		in.Overrides = append(in.Overrides, Override{w.keys[r.IntN(len(w.keys))], r.IntN(3) != 0, randomScope(r)})
	}
	for _, id := range w.pool {
		if r.IntN(3) == 0 {
			in.Resources = append(in.Resources, id)
		}
	}
	if r.IntN(5) == 0 {
		in.Resources = append(in.Resources, w.foreign[0])
	}
	return in
}

// query draws a question; half of them about a permission the member's
// inputs mention, so that allowances are common enough to test.
func (w *world) query(r *rand.Rand, in Input) (string, Query) {
	var q Query
	switch n := r.IntN(20); {
	case n < 8:
		q.Resource, q.HasResource = w.pool[r.IntN(len(w.pool))], true
	case n < 10:
		q.Resource, q.HasResource = w.foreign[r.IntN(len(w.foreign))], true
	}
	switch r.IntN(4) {
	case 0:
		q.Owner, q.OwnerKnown = w.users[r.IntN(len(w.users))], true
	case 1:
		q.Unowned = true
	}
	if r.IntN(50) == 0 {
		q.Owner, q.OwnerKnown, q.Unowned = w.users[0], true, true
	}
	if r.IntN(2) == 0 && len(in.Role.Grants) > 0 {
		return in.Role.Grants[r.IntN(len(in.Role.Grants))].Permission, q
	}
	if r.IntN(2) == 0 && len(in.Overrides) > 0 {
		return in.Overrides[r.IntN(len(in.Overrides))].Permission, q
	}
	return w.keys[r.IntN(len(w.keys))], q
}

// refResolve is resolve written another way: the broadest accepted scope not
// broader than s, found by search rather than by the order of Scopes.
func refResolve(p Permission, s Scope) (Scope, bool) {
	if s != ScopeNone && s != ScopeOwned && s != ScopeOwnedOrUnassigned && s != ScopeAll {
		return ScopeNone, false
	}
	if !p.Scoped() {
		return ScopeNone, s == ScopeNone || s == ScopeAll
	}
	if s == ScopeNone {
		return p.DefaultScope, true
	}
	best := ScopeNone
	for _, a := range p.Scopes {
		if a <= s && a > best {
			best = a
		}
	}
	return best, best != ScopeNone
}

// refEffective computes a member's effective permissions with maps.
func refEffective(c *Catalogue, in Input) (eff map[string]Scope, denied map[string]bool) {
	eff, denied = map[string]Scope{}, map[string]bool{}
	for _, g := range in.Role.Grants {
		p, ok := c.Permission(g.Permission)
		if !ok {
			continue
		}
		if sc, ok := refResolve(p, g.Scope); ok {
			if cur, has := eff[g.Permission]; !has || sc > cur {
				eff[g.Permission] = sc
			}
		}
	}
	allow := map[string]Scope{}
	for _, o := range in.Overrides {
		p, ok := c.Permission(o.Permission)
		if !ok {
			continue
		}
		sc, ok := refResolve(p, o.Scope)
		if !o.Allow || !ok {
			denied[o.Permission] = true
			continue
		}
		if cur, has := allow[o.Permission]; !has || sc < cur {
			allow[o.Permission] = sc
		}
	}
	for k, sc := range allow {
		eff[k] = sc
	}
	for k := range denied {
		delete(eff, k)
	}
	return eff, denied
}

func refCheck(c *Catalogue, in Input, accountID equipe.ID, accountRes []equipe.ID, key string, q Query) bool {
	var zero equipe.ID
	p, ok := c.Permission(key)
	if !ok || in.AccountID != accountID || in.UserID == zero || (q.OwnerKnown && q.Unowned) {
		return false
	}
	if in.UserDisabled || in.Status != MemberActive {
		return false
	}
	eff, _ := refEffective(c, in)
	sc, ok := eff[key]
	if !ok {
		return false
	}
	if q.HasResource {
		if !slices.Contains(accountRes, q.Resource) {
			return false
		}
		if in.Role.Restricted && !in.ViaFirm && !slices.Contains(in.Resources, q.Resource) {
			return false
		}
	}
	if !p.Scoped() {
		return true
	}
	switch {
	case q.OwnerKnown:
		return sc == ScopeAll || (q.Owner == in.UserID && sc >= ScopeOwned)
	case q.Unowned:
		return sc >= ScopeOwnedOrUnassigned
	}
	return true
}

// bound is the broadest scope the member's inputs ask for the permission:
// an allowing override's (the narrowest of them), else the role's (the
// broadest of its grants); a missing scope counts as the default.
func bound(p Permission, in Input) Scope {
	var fromRole, fromOverride Scope
	overridden := false
	for _, g := range in.Role.Grants {
		if g.Permission == p.Key {
			s := g.Scope
			if s == ScopeNone {
				s = p.DefaultScope
			}
			fromRole = max(fromRole, s)
		}
	}
	for _, o := range in.Overrides {
		if o.Permission == p.Key && o.Allow {
			s := o.Scope
			if s == ScopeNone {
				s = p.DefaultScope
			}
			if !overridden || s < fromOverride {
				fromOverride = s
			}
			overridden = true
		}
	}
	if overridden {
		return fromOverride
	}
	return fromRole
}

func TestProperty_DenialRulesAreNeverBypassed(t *testing.T) {
	r := rand.New(rand.NewPCG(20240611, 4))
	catalogues := []*Catalogue{Default()}
	for range 30 {
		catalogues = append(catalogues, randomCatalogue(t, r))
	}
	checks, allowed, withinHeld := 0, 0, 0
	for _, c := range catalogues {
		w := newWorld(c, r)
		acct := CompileAccount(w.accountID, w.pool, nil)
		otherAcct := CompileAccount(w.otherID, w.foreign, nil)
		for range 300 {
			in := w.input(r)
			m := c.Compile(in)

			// Order never matters.
			shuffled := in
			shuffled.Overrides = slices.Clone(in.Overrides)
			shuffled.Resources = slices.Clone(in.Resources)
			shuffled.Role.Grants = slices.Clone(in.Role.Grants)
			r.Shuffle(len(shuffled.Overrides), func(i, j int) {
				shuffled.Overrides[i], shuffled.Overrides[j] = shuffled.Overrides[j], shuffled.Overrides[i]
			})
			r.Shuffle(len(shuffled.Resources), func(i, j int) {
				shuffled.Resources[i], shuffled.Resources[j] = shuffled.Resources[j], shuffled.Resources[i]
			})
			r.Shuffle(len(shuffled.Role.Grants), func(i, j int) {
				shuffled.Role.Grants[i], shuffled.Role.Grants[j] = shuffled.Role.Grants[j], shuffled.Role.Grants[i]
			})
			m2 := c.Compile(shuffled)
			if m.Set() != m2.Set() || !slices.Equal(m.Resources(), m2.Resources()) || !slices.Equal(c.Effective(m), c.Effective(m2)) {
				t.Fatalf("compiling depends on order:\n%+v\n%+v", in, shuffled)
			}

			// The member held as bits over the account's resources, as a
			// cache keeps it, is the same member.
			var mw *Member
			prof, res, st := m.Parts()
			inUse, _ := acct.Parts()
			if b, ok := Within(inUse, res); ok {
				a := AssembleWithin(prof, in.UserID, w.accountID, inUse, b, st)
				mw, withinHeld = &a, withinHeld+1
				if !slices.Equal(mw.Resources(), m.Resources()) {
					t.Fatalf("held as bits, the resources are %v, not %v", mw.Resources(), m.Resources())
				}
				if _, back, _ := mw.Parts(); !slices.Equal(back, res) {
					t.Fatalf("taken apart again, the resources are %v, not %v", back, res)
				}
				if ok, _ := c.CoversMember(mw, m2); !ok {
					t.Fatal("held as bits, the member does not cover itself compiled")
				}
				if ok, _ := c.CoversMember(m2, mw); !ok {
					t.Fatal("held as bits, the member is not covered by itself compiled")
				}
			} else if !slices.ContainsFunc(in.Resources, func(id equipe.ID) bool { return !slices.Contains(w.pool, id) }) {
				t.Fatalf("resources %v of the account's %v not held as bits", in.Resources, w.pool)
			}

			eff, denied := refEffective(c, in)
			for i, p := range c.Permissions {
				s := m.Set()
				if sc, ok := eff[p.Key]; ok != s.Has(i) || sc != s.Scope(i) {
					t.Fatalf("%s: set has %v at %v, reference %v at %v\ninput %+v", p.Key, s.Has(i), s.Scope(i), ok, sc, in)
				}
				// A scope never reaches beyond what the inputs asked for.
				if p.Scoped() && s.Has(i) && (s.Scope(i) > bound(p, in) || !p.Accepts(s.Scope(i))) {
					t.Fatalf("%s: scope %v beyond the bound %v\ninput %+v", p.Key, s.Scope(i), bound(p, in), in)
				}
			}

			for range 10 {
				key, q := w.query(r, in)
				d := c.Check(m, acct, key, q)
				checks++
				if d.Allowed {
					allowed++
				}
				fail := func(rule string) {
					t.Helper()
					t.Fatalf("%s: %s %+v → %+v\ninput %+v", rule, key, q, d, in)
				}
				if want := refCheck(c, in, w.accountID, w.pool, key, q); d.Allowed != want {
					fail(fmt.Sprintf("differs from the reference (want %v)", want))
				}
				if d2 := c.Check(m2, acct, key, q); d2 != d {
					fail("depends on the order of the input")
				}
				if mw != nil {
					if d3 := c.Check(mw, acct, key, q); d3 != d {
						fail(fmt.Sprintf("held as bits, answered %+v", d3))
					}
				}
				if d.Allowed != strings.HasPrefix(string(d.Reason), "allowed") || !slices.Contains(Reasons, d.Reason) {
					fail("reason does not match the answer")
				}
				if !d.Allowed {
					continue
				}
				p, ok := c.Permission(key)
				switch {
				case !ok:
					fail("a permission absent from the catalogue is allowed")
				case denied[key]:
					fail("a denying override is bypassed")
				case in.Status != MemberActive:
					fail("a member who is not active is allowed")
				case in.UserDisabled:
					fail("a disabled user is allowed")
				case q.HasResource && !slices.Contains(w.pool, q.Resource):
					fail("a resource of another account is allowed")
				case q.HasResource && in.Role.Restricted && !in.ViaFirm && !slices.Contains(in.Resources, q.Resource):
					fail("a restricted member is allowed on an unassigned resource")
				case p.Scoped() && q.OwnerKnown && q.Owner != in.UserID && eff[key] != ScopeAll:
					fail("a scope narrower than all reaches someone else's record")
				case p.Scoped() && q.Unowned && eff[key] < ScopeOwnedOrUnassigned:
					fail("the scope owned reaches an unowned record")
				}
				// Another account's check never allows, whatever the question.
				if d := c.Check(m, otherAcct, key, q); d.Allowed {
					fail("allowed in another account")
				}
			}
		}
	}
	t.Logf("%d checks, %d allowed, %d members held as bits", checks, allowed, withinHeld)
	if withinHeld < 1000 {
		t.Errorf("only %d members held as bits: the generator rarely exercises them", withinHeld)
	}
	if allowed < checks/10 {
		t.Errorf("only %d of %d checks allowed: the generator rarely exercises allowances", allowed, checks)
	}
}
