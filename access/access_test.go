package access

import (
	"slices"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
)

// fixture is an account with a few resources, a foreign resource, and two
// users, to check members of the default catalogue against.
type fixture struct {
	c                *Catalogue
	acct             *Account
	accountID, other equipe.ID
	me, you          equipe.ID
	r1, r2, r3       equipe.ID // the account's resources
	foreign          equipe.ID // a resource of another account
}

func newFixture() *fixture {
	f := &fixture{
		c: Default(), accountID: equipe.NewID(), other: equipe.NewID(),
		me: equipe.NewID(), you: equipe.NewID(),
		r1: equipe.NewID(), r2: equipe.NewID(), r3: equipe.NewID(), foreign: equipe.NewID(),
	}
	f.acct = CompileAccount(f.accountID, []equipe.ID{f.r3, f.r1, f.r2}, nil)
	return f
}

func (f *fixture) role(key string) Role {
	r, ok := f.c.Role(key)
	if !ok {
		panic("no role " + key)
	}
	return r
}

// member returns an active member of the fixture's account with the role
// key, then applies the changes.
func (f *fixture) member(role string, changes ...func(*Input)) *Member {
	in := Input{UserID: f.me, AccountID: f.accountID, Role: f.role(role), Status: MemberActive, Resources: []equipe.ID{f.r1}}
	for _, ch := range changes {
		ch(&in)
	}
	return f.c.Compile(in)
}

func overrides(os ...Override) func(*Input) { return func(in *Input) { in.Overrides = os } }

func TestCheck_Rules(t *testing.T) {
	f := newFixture()
	otherCat, err := Parse(DefaultName, defaultYAML)
	if err != nil {
		t.Fatal(err)
	}
	onResource := func(id equipe.ID) Query { return Query{Resource: id, HasResource: true} }
	ownedBy := func(id equipe.ID) Query { return Query{Owner: id, OwnerKnown: true} }
	unowned := Query{Unowned: true}
	general := Query{}

	cases := []struct {
		name    string
		m       *Member
		a       *Account
		perm    string
		q       Query
		allowed bool
		reason  Reason
	}{
		// Who is asking.
		{"no account", f.member("admin"), nil, "members.view", general, false, DeniedUnknownAccount},
		{"no member", nil, f.acct, "members.view", general, false, DeniedNotMember},
		{"member of another account", f.member("admin", func(in *Input) { in.AccountID = f.other }), f.acct, "members.view", general, false, DeniedNotMember},
		{"member compiled with another catalogue", otherCat.Compile(Input{UserID: f.me, AccountID: f.accountID, Role: f.role("admin"), Status: MemberActive}), f.acct, "members.view", general, false, DeniedStaleMember},
		{"unknown user", f.member("admin", func(in *Input) { in.UserID = equipe.ID{} }), f.acct, "members.view", general, false, DeniedUnknownUser},
		{"unknown permission", f.member("admin"), f.acct, "members.fly", general, false, DeniedUnknownPermission},
		{"empty permission", f.member("admin"), f.acct, "", general, false, DeniedUnknownPermission},
		{"owner and unowned at once", f.member("admin"), f.acct, "records.view", Query{Owner: f.you, OwnerKnown: true, Unowned: true}, false, DeniedInvalidQuery},

		// Standing: the member must be active and the user not disabled, whatever the role.
		{"active admin", f.member("admin"), f.acct, "account.manage", general, true, Allowed},
		{"disabled user", f.member("admin", func(in *Input) { in.UserDisabled = true }), f.acct, "account.manage", general, false, DeniedUserDisabled},
		{"disabled user who is also suspended", f.member("admin", func(in *Input) { in.UserDisabled = true; in.Status = MemberSuspended }), f.acct, "account.manage", general, false, DeniedUserDisabled},
		{"suspended member", f.member("admin", func(in *Input) { in.Status = MemberSuspended }), f.acct, "account.manage", general, false, DeniedMemberSuspended},
		{"created member", f.member("admin", func(in *Input) { in.Status = MemberCreated }), f.acct, "account.manage", general, false, DeniedMemberNotActive},
		{"invited member", f.member("admin", func(in *Input) { in.Status = MemberInvited }), f.acct, "account.manage", general, false, DeniedMemberNotActive},
		{"unknown status", f.member("admin", func(in *Input) { in.Status = StatusUnknown }), f.acct, "account.manage", general, false, DeniedMemberNotActive},
		{"status out of range", f.member("admin", func(in *Input) { in.Status = Status(99) }), f.acct, "account.manage", general, false, DeniedMemberNotActive},

		// Role ∪ allowing overrides − denying overrides.
		{"not in the role", f.member("manager"), f.acct, "billing.access", general, false, DeniedNotGranted},
		{"in the role", f.member("manager"), f.acct, "members.manage", general, true, Allowed},
		{"granted by an override", f.member("manager", overrides(Override{"billing.access", true, ScopeNone})), f.acct, "billing.access", general, true, Allowed},
		{"denied by an override over the role", f.member("admin", overrides(Override{"billing.access", false, ScopeNone})), f.acct, "billing.access", general, false, DeniedByOverride},
		{"denied by an override, not in the role anyway", f.member("guest", overrides(Override{"billing.access", false, ScopeNone})), f.acct, "billing.access", general, false, DeniedByOverride},
		{"denial wins over an allowance for the same permission", f.member("manager", overrides(Override{"billing.access", true, ScopeNone}, Override{"billing.access", false, ScopeNone})), f.acct, "billing.access", general, false, DeniedByOverride},
		{"override of an unknown permission is ignored", f.member("manager", overrides(Override{"billing.everything", true, ScopeNone})), f.acct, "billing.access", general, false, DeniedNotGranted},
		{"other permissions untouched by an override", f.member("admin", overrides(Override{"billing.access", false, ScopeNone})), f.acct, "account.manage", general, true, Allowed},

		// Scopes.
		{"all: someone else's record", f.member("admin"), f.acct, "records.edit", ownedBy(f.you), true, Allowed},
		{"all: general question", f.member("admin"), f.acct, "records.edit", general, true, AllowedScopeAll},
		{"owned_or_unassigned: own record", f.member("collaborator"), f.acct, "records.edit", ownedBy(f.me), true, Allowed},
		{"owned_or_unassigned: unowned record", f.member("collaborator"), f.acct, "records.edit", unowned, true, Allowed},
		{"owned_or_unassigned: someone else's record", f.member("collaborator"), f.acct, "records.edit", ownedBy(f.you), false, DeniedScope},
		{"owned_or_unassigned: general question", f.member("collaborator"), f.acct, "records.edit", general, true, AllowedScopeOwnedOrUnassigned},
		{"owned: own record", f.member("collaborator", overrides(Override{"records.view", true, ScopeOwned})), f.acct, "records.view", ownedBy(f.me), true, Allowed},
		{"owned: unowned record", f.member("collaborator", overrides(Override{"records.view", true, ScopeOwned})), f.acct, "records.view", unowned, false, DeniedScope},
		{"owned: someone else's record", f.member("collaborator", overrides(Override{"records.view", true, ScopeOwned})), f.acct, "records.view", ownedBy(f.you), false, DeniedScope},
		{"owned: general question", f.member("collaborator", overrides(Override{"records.view", true, ScopeOwned})), f.acct, "records.view", general, true, AllowedScopeOwned},
		{"owned: a record owned by the zero ID", f.member("collaborator", overrides(Override{"records.view", true, ScopeOwned})), f.acct, "records.view", ownedBy(equipe.ID{}), false, DeniedScope},
		{"override narrows the role's scope", f.member("admin", overrides(Override{"records.view", true, ScopeOwned})), f.acct, "records.view", ownedBy(f.you), false, DeniedScope},
		{"override widens the role's scope", f.member("collaborator", overrides(Override{"records.view", true, ScopeAll})), f.acct, "records.view", ownedBy(f.you), true, Allowed},
		{"override without a scope gives the default scope", f.member("guest", overrides(Override{"records.edit", true, ScopeNone})), f.acct, "records.edit", general, true, AllowedScopeOwnedOrUnassigned},
		{"an allowance with a value that is no scope denies", f.member("admin", overrides(Override{"records.view", true, Scope(7)})), f.acct, "records.view", general, false, DeniedByOverride},
		{"two allowances: the narrowest wins", f.member("guest", overrides(Override{"records.edit", true, ScopeAll}, Override{"records.edit", true, ScopeOwned})), f.acct, "records.edit", general, true, AllowedScopeOwned},
		{"unscoped permission ignores the owner", f.member("manager"), f.acct, "records.export", ownedBy(f.you), true, Allowed},
		{"unscoped permission ignores unowned", f.member("manager"), f.acct, "records.export", unowned, true, Allowed},

		// Resources.
		{"unrestricted role: any resource of the account", f.member("manager"), f.acct, "records.view", onResource(f.r2), true, AllowedScopeAll},
		{"restricted role: assigned resource", f.member("collaborator"), f.acct, "records.view", onResource(f.r1), true, AllowedScopeOwnedOrUnassigned},
		{"restricted role: unassigned resource", f.member("collaborator"), f.acct, "records.view", onResource(f.r2), false, DeniedResourceNotAssigned},
		{"restricted role with no resources", f.member("guest", func(in *Input) { in.Resources = nil }), f.acct, "records.view", onResource(f.r1), false, DeniedResourceNotAssigned},
		{"restricted role: general question needs no resource", f.member("collaborator", func(in *Input) { in.Resources = nil }), f.acct, "members.view", general, true, Allowed},
		{"restricted role via the firm: any resource of the client account", f.member("collaborator", func(in *Input) { in.ViaFirm = true; in.Resources = nil }), f.acct, "records.view", onResource(f.r2), true, AllowedScopeOwnedOrUnassigned},
		{"foreign resource: admin", f.member("admin"), f.acct, "records.view", onResource(f.foreign), false, DeniedUnknownResource},
		{"foreign resource: assigned to it anyway", f.member("collaborator", func(in *Input) { in.Resources = []equipe.ID{f.foreign} }), f.acct, "records.view", onResource(f.foreign), false, DeniedUnknownResource},
		{"foreign resource: via the firm", f.member("admin", func(in *Input) { in.ViaFirm = true }), f.acct, "records.view", onResource(f.foreign), false, DeniedUnknownResource},
		{"resource and owner: both must pass", f.member("collaborator"), f.acct, "records.edit", Query{Resource: f.r1, HasResource: true, Owner: f.you, OwnerKnown: true}, false, DeniedScope},
		{"resource and owner: allowed", f.member("collaborator"), f.acct, "records.edit", Query{Resource: f.r1, HasResource: true, Owner: f.me, OwnerKnown: true}, true, Allowed},
		{"resource checked before the scope", f.member("collaborator"), f.acct, "records.edit", Query{Resource: f.r2, HasResource: true, Owner: f.me, OwnerKnown: true}, false, DeniedResourceNotAssigned},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := f.c
			d := c.Check(tc.m, tc.a, tc.perm, tc.q)
			if d.Allowed != tc.allowed || d.Reason != tc.reason {
				t.Errorf("Check = %+v, want allowed=%v %s", d, tc.allowed, tc.reason)
			}
			i, ok := c.Index(tc.perm)
			if !ok {
				i = -1
			}
			if d2 := c.CheckIndex(tc.m, tc.a, i, tc.q); d2 != d {
				t.Errorf("CheckIndex = %+v, Check = %+v", d2, d)
			}
			if !slices.Contains(Reasons, d.Reason) {
				t.Errorf("reason %q is not listed in Reasons", d.Reason)
			}
		})
	}
}

func TestCheckIndex_OutOfRangeIsUnknown(t *testing.T) {
	f := newFixture()
	m := f.member("admin")
	for _, i := range []int{-1, len(f.c.Permissions), MaxPermissions, 1 << 40} {
		if d := f.c.CheckIndex(m, f.acct, i, Query{}); d.Allowed || d.Reason != DeniedUnknownPermission {
			t.Errorf("CheckIndex(%d) = %+v", i, d)
		}
	}
}

func TestCheck_ZeroMemberAndStatus(t *testing.T) {
	f := newFixture()
	// A zero Input is denied, never allowed by accident.
	m := f.c.Compile(Input{})
	if d := f.c.Check(m, CompileAccount(equipe.ID{}, nil, nil), "members.view", Query{}); d.Allowed {
		t.Errorf("zero input allowed: %+v", d)
	}
	for s, want := range map[equipe.MemberStatus]Status{
		equipe.MemberActive: MemberActive, equipe.MemberCreated: MemberCreated, equipe.MemberInvited: MemberInvited,
		equipe.MemberSuspended: MemberSuspended, "expired": StatusUnknown, "": StatusUnknown,
	} {
		if got := StatusOf(s); got != want {
			t.Errorf("StatusOf(%q) = %v, want %v", s, got, want)
		}
		if want != StatusUnknown && want.String() != string(s) {
			t.Errorf("%v.String() = %q", want, want.String())
		}
	}
	if StatusUnknown.String() != "unknown" {
		t.Error("StatusUnknown has a name")
	}
}

// shrunk is the default catalogue after a vendor removed records.export and
// records.bulk_delete, reduced records.view to all and owned, and made
// records.edit unscoped.
func shrunk(t *testing.T) *Catalogue {
	t.Helper()
	y := string(defaultYAML)
	for _, cut := range []string{"records.export", "records.bulk_delete"} {
		i := strings.Index(y, "  - key: "+cut+"\n")
		j := strings.Index(y[i+1:], "  - key: ") + i + 1
		y = y[:i] + y[j:]
		y = strings.Replace(y, "      "+cut+": true\n", "", 1)
	}
	y = strings.Replace(y, "    scopes: [all, owned_or_unassigned, owned]\n    default_scope: all\n", "    scopes: [all, owned]\n    default_scope: all\n", 1)
	y = strings.Replace(y, "    scopes: [all, owned_or_unassigned, owned]\n    # Writing is granted narrowly unless someone chooses otherwise.\n    default_scope: owned_or_unassigned\n", "", 1)
	y = strings.Replace(y, "      records.view: owned_or_unassigned\n      records.edit: owned_or_unassigned\n", "      records.view: owned\n      records.edit: true\n", 1)
	y = strings.Replace(y, "      records.edit: all\n", "      records.edit: true\n", 1)
	c, err := Parse("shrunk.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCatalogueChange_NeverWidensAccess(t *testing.T) {
	f := newFixture()
	c := shrunk(t)
	if _, ok := c.Permission("records.export"); ok {
		t.Fatal("records.export still declared")
	}
	acct := CompileAccount(f.accountID, nil, nil)
	// Grants and overrides stored under the old catalogue.
	custom := Role{Key: "custom", Grants: []Grant{
		{"records.export", ScopeNone},
		{"records.view", ScopeOwnedOrUnassigned},
		{"records.edit", ScopeOwned},
		{"members.view", ScopeNone},
	}}
	m := c.Compile(Input{UserID: f.me, AccountID: f.accountID, Role: custom, Status: MemberActive,
		Overrides: []Override{{"records.bulk_delete", true, ScopeNone}}})
	for perm, want := range map[string]Reason{
		"records.export":      DeniedUnknownPermission, // removed: denied everywhere
		"records.bulk_delete": DeniedUnknownPermission,
		"members.view":        Allowed,
		"records.edit":        DeniedNotGranted, // was owned, is now unscoped: granting it would widen
	} {
		if d := c.Check(m, acct, perm, Query{}); d.Reason != want {
			t.Errorf("%s: %+v, want %s", perm, d, want)
		}
	}
	// owned_or_unassigned is no longer offered: it falls to owned, not to all.
	if d := c.Check(m, acct, "records.view", Query{}); d.Reason != AllowedScopeOwned {
		t.Errorf("records.view: %+v, want %s", d, AllowedScopeOwned)
	}
	if d := c.Check(m, acct, "records.view", Query{Unowned: true}); d.Allowed {
		t.Errorf("records.view on an unowned record: %+v", d)
	}
	for _, e := range c.Effective(m) {
		if e.Permission == "records.export" || e.Permission == "records.bulk_delete" {
			t.Errorf("Effective lists a removed permission: %+v", e)
		}
	}
	// An allowance narrower than anything left is a denial, not the role's scope.
	admin, _ := c.Role("admin")
	m = c.Compile(Input{UserID: f.me, AccountID: f.accountID, Role: admin, Status: MemberActive,
		Overrides: []Override{{"records.view", true, ScopeOwnedOrUnassigned}}})
	if d := c.Check(m, acct, "records.view", Query{Owner: f.you, OwnerKnown: true}); d.Allowed {
		t.Errorf("a narrowing override widened back to all: %+v", d)
	}
	// "all" on a permission that became unscoped keeps it.
	m = c.Compile(Input{UserID: f.me, AccountID: f.accountID, Role: Role{Grants: []Grant{{"records.edit", ScopeAll}}}, Status: MemberActive})
	if d := c.Check(m, acct, "records.edit", Query{}); !d.Allowed {
		t.Errorf("records.edit at all: %+v", d)
	}
}

func TestCompile_CopiesItsInput(t *testing.T) {
	f := newFixture()
	in := Input{UserID: f.me, AccountID: f.accountID, Role: f.role("collaborator"), Status: MemberActive,
		Resources: []equipe.ID{f.r1}, Overrides: []Override{{"billing.access", true, ScopeNone}}}
	m := f.c.Compile(in)
	in.Resources[0] = f.r2
	in.Overrides[0].Allow = false
	in.Role.Grants[0].Permission = "account.manage"
	if !m.Assigned(f.r1) || m.Assigned(f.r2) {
		t.Error("the member follows changes to the input's resources")
	}
	if d := f.c.Check(m, f.acct, "billing.access", Query{}); !d.Allowed {
		t.Error("the member follows changes to the input's overrides")
	}
	if d := f.c.Check(m, f.acct, "account.manage", Query{}); d.Allowed {
		t.Error("the member follows changes to the input's role")
	}
}

func TestMember_Getters(t *testing.T) {
	f := newFixture()
	m := f.member("collaborator", func(in *Input) {
		in.Resources = []equipe.ID{f.r3, f.r1, f.r3}
		in.Status = MemberSuspended
	})
	if m.UserID() != f.me || m.AccountID() != f.accountID || m.RoleKey() != "collaborator" || !m.Restricted() ||
		m.ViaFirm() || !m.LimitedToAssigned() || m.Status() != MemberSuspended || m.UserDisabled() || m.Blocked() != DeniedMemberSuspended {
		t.Errorf("getters: %+v", m)
	}
	want := []equipe.ID{f.r1, f.r3}
	slices.SortFunc(want, func(a, b equipe.ID) int { return strings.Compare(string(a[:]), string(b[:])) })
	if got := m.Resources(); !slices.Equal(got, want) {
		t.Errorf("Resources() = %v, want %v (sorted, without duplicates)", got, want)
	}
	if !f.acct.Has(f.r2) || f.acct.Has(f.foreign) || f.acct.Len() != 3 || f.acct.ID() != f.accountID {
		t.Error("account getters")
	}
	via := f.member("collaborator", func(in *Input) { in.ViaFirm = true })
	if via.LimitedToAssigned() || !via.ViaFirm() || via.Blocked() != "" {
		t.Error("via firm getters")
	}
}

func TestEffective(t *testing.T) {
	f := newFixture()
	m := f.member("collaborator", overrides(
		Override{"members.view", false, ScopeNone},
		Override{"records.view", true, ScopeAll},
		Override{"records.export", true, ScopeNone},
		Override{"nope.nope", true, ScopeNone},
	))
	got := f.c.Effective(m)
	want := []Effective{
		{"records.view", ScopeAll, SourceOverride},
		{"records.edit", ScopeOwnedOrUnassigned, SourceRole},
		{"records.export", ScopeNone, SourceOverride},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Effective:\n got %+v\nwant %+v", got, want)
	}
	if f.c.Effective(nil) != nil {
		t.Error("Effective(nil) is not nil")
	}
	other, _ := Parse(DefaultName, defaultYAML)
	if other.Effective(m) != nil {
		t.Error("Effective with another catalogue is not nil")
	}
	all := f.c.Effective(f.member("admin"))
	if len(all) != len(f.c.Permissions) {
		t.Errorf("admin holds %d permissions, want %d", len(all), len(f.c.Permissions))
	}
	for i, e := range all {
		if e.Permission != f.c.Permissions[i].Key || e.Source != SourceRole {
			t.Errorf("admin's effective %d: %+v", i, e)
		}
	}
}

func TestGrants(t *testing.T) {
	c := Default()
	s := c.Grants([]Grant{
		{"records.view", ScopeOwned}, {"records.view", ScopeAll}, // union: the broader
		{"records.edit", ScopeNone},    // the default scope
		{"members.view", ScopeNone},    // unscoped
		{"members.manage", ScopeOwned}, // unscoped with a narrower scope: not granted
		{"billing.access", ScopeAll},   // unscoped with all: granted
		{"records.import", Scope(9)},   // no scope at all: not granted
		{"records.view", Scope(4)},     // no scope at all: not granted
		{"nope.nope", ScopeNone},       // unknown: ignored
	})
	want := []Grant{{"members.view", ScopeNone}, {"billing.access", ScopeNone}, {"records.view", ScopeAll}, {"records.edit", ScopeOwnedOrUnassigned}}
	if got := c.GrantList(s); !slices.Equal(got, want) {
		t.Errorf("GrantList:\n got %v\nwant %v", got, want)
	}
	if s.Len() != 4 {
		t.Errorf("Len = %d", s.Len())
	}
	i, _ := c.Index("records.view")
	if !s.Has(i) || s.Scope(i) != ScopeAll || s.Has(-1) || s.Has(MaxPermissions) || s.Scope(MaxPermissions) != ScopeNone {
		t.Error("Has/Scope")
	}
	if c.Grants(c.GrantList(s)) != s {
		t.Error("GrantList and Grants do not round trip")
	}
	if c.All().Len() != len(c.Permissions) {
		t.Errorf("All has %d permissions", c.All().Len())
	}
}

func TestCheck_AnArchivedResourceIsDeniedToEveryoneWithItsOwnReason(t *testing.T) {
	f := newFixture()
	archived := equipe.NewID()
	acct := CompileAccount(f.accountID, []equipe.ID{f.r1, f.r2}, []equipe.ID{archived, f.r3})
	on := func(id equipe.ID) Query { return Query{Resource: id, HasResource: true} }
	assigned := func(in *Input) { in.Resources = []equipe.ID{f.r1, f.r3} }
	for _, c := range []struct {
		name string
		m    *Member
		q    Query
		want Reason
	}{
		{"an administrator, on an archived resource", f.member("admin"), on(archived), DeniedResourceArchived},
		{"a collaborator, on an archived resource assigned to them", f.member("collaborator", assigned), on(f.r3), DeniedResourceArchived},
		{"a collaborator, on a resource in use assigned to them", f.member("collaborator", assigned), on(f.r1), AllowedScopeOwnedOrUnassigned},
		{"an administrator, on a resource of nowhere", f.member("admin"), on(f.foreign), DeniedUnknownResource},
		{"a permission not held comes first", f.member("guest"), on(archived), DeniedNotGranted},
	} {
		perm := "records.view"
		if c.want == DeniedNotGranted {
			perm = "records.edit"
		}
		if d := f.c.Check(c.m, acct, perm, c.q); d.Reason != c.want || d.Allowed != (c.want == AllowedScopeOwnedOrUnassigned) {
			t.Errorf("%s: %+v, want %s", c.name, d, c.want)
		}
	}
	if acct.Has(archived) || !acct.Archived(archived) || acct.Archived(f.r1) || acct.Len() != 2 {
		t.Error("the account does not tell archived resources from those in use")
	}
}
