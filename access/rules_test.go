package access

import (
	"slices"
	"testing"

	"github.com/equipe-dev/equipe"
)

func TestCovers(t *testing.T) {
	c := Default()
	role := func(k string) Set { r, _ := c.Role(k); return c.Grants(r.Grants) }
	cases := []struct {
		name          string
		actor, wanted Set
		missing       []string
	}{
		{"admin covers admin", role("admin"), role("admin"), nil},
		{"admin covers everyone", role("admin"), role("guest"), nil},
		{"anyone covers nothing", Set{}, Set{}, nil},
		{"manager does not cover admin", role("manager"), role("admin"),
			[]string{"account.manage", "roles.manage", "billing.access", "subaccounts.manage", "api_keys.manage", "webhooks.manage"}},
		{"manager covers collaborator", role("manager"), role("collaborator"), nil},
		{"collaborator does not cover guest's broader scope", role("collaborator"), role("guest"), []string{"records.view:all"}},
		{"a broader scope covers a narrower one", c.Grants([]Grant{{"records.view", ScopeOwnedOrUnassigned}}), c.Grants([]Grant{{"records.view", ScopeOwned}}), nil},
		{"an equal scope covers", c.Grants([]Grant{{"records.view", ScopeOwned}}), c.Grants([]Grant{{"records.view", ScopeOwned}}), nil},
		{"a narrower scope does not", c.Grants([]Grant{{"records.view", ScopeOwned}}), c.Grants([]Grant{{"records.view", ScopeOwnedOrUnassigned}}), []string{"records.view:owned_or_unassigned"}},
		{"nothing covers a scoped permission", Set{}, c.Grants([]Grant{{"records.edit", ScopeOwned}, {"billing.access", ScopeNone}}), []string{"billing.access", "records.edit:owned"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ok, missing := c.Covers(tc.actor, tc.wanted)
			if ok != (len(tc.missing) == 0) || !slices.Equal(missing, tc.missing) {
				t.Errorf("Covers = %v, %v; want missing %v", ok, missing, tc.missing)
			}
		})
	}
}

func TestCoversRoleAndMember(t *testing.T) {
	f := newFixture()
	c := f.c
	manager := f.member("manager")
	collaborator := f.member("collaborator")
	viaFirm := f.member("collaborator", func(in *Input) { in.ViaFirm = true })
	wideReader := Role{Key: "wide_reader", Grants: []Grant{{"members.view", ScopeNone}}} // unrestricted custom role
	narrowReader := Role{Key: "narrow_reader", Restricted: true, Grants: []Grant{{"members.view", ScopeNone}}}

	roleCases := []struct {
		name    string
		actor   *Member
		role    Role
		missing []string
	}{
		{"manager gives collaborator", manager, f.role("collaborator"), nil},
		{"manager gives manager", manager, f.role("manager"), nil},
		{"manager cannot give admin", manager, f.role("admin"), []string{"account.manage", "roles.manage", "billing.access", "subaccounts.manage", "api_keys.manage", "webhooks.manage"}},
		{"collaborator cannot give guest's broader view", collaborator, f.role("guest"), []string{"records.view:all"}},
		{"restricted member cannot give an unrestricted role", collaborator, wideReader, []string{MissingUnrestricted}},
		{"restricted member gives a restricted role", collaborator, narrowReader, nil},
		{"through the firm the restriction does not bind", viaFirm, wideReader, nil},
		{"a denied override counts", f.member("manager", overrides(Override{"members.view", false, ScopeNone})), narrowReader, []string{"members.view"}},
		{"an allowing override counts", f.member("guest", overrides(Override{"billing.access", true, ScopeNone})), Role{Restricted: true, Grants: []Grant{{"billing.access", ScopeNone}}}, nil},
	}
	for _, tc := range roleCases {
		t.Run("role/"+tc.name, func(t *testing.T) {
			ok, missing := c.CoversRole(tc.actor, tc.role)
			if ok != (len(tc.missing) == 0) || !slices.Equal(missing, tc.missing) {
				t.Errorf("CoversRole = %v, %v; want missing %v", ok, missing, tc.missing)
			}
		})
	}

	memberCases := []struct {
		name          string
		actor, target *Member
		missing       []string
	}{
		{"manager over collaborator", manager, collaborator, nil},
		{"manager over manager", manager, f.member("manager"), nil},
		{"manager over admin", manager, f.member("admin"), []string{"account.manage", "roles.manage", "billing.access", "subaccounts.manage", "api_keys.manage", "webhooks.manage"}},
		{"manager over a manager with an extra override", manager, f.member("manager", overrides(Override{"billing.access", true, ScopeNone})), []string{"billing.access"}},
		{"manager over a manager with a denial", manager, f.member("manager", overrides(Override{"members.manage", false, ScopeNone})), nil},
		{"manager narrowed by an override over collaborator", f.member("manager", overrides(Override{"records.edit", true, ScopeOwned})), collaborator, []string{"records.edit:owned_or_unassigned"}},
		{"collaborator over an unrestricted member", collaborator, f.member("manager", overrides(
			Override{"members.manage", false, ScopeNone}, Override{"members.export", false, ScopeNone},
			Override{"contacts.manage", false, ScopeNone}, Override{"resources.manage", false, ScopeNone},
			Override{"audit.view", false, ScopeNone}, Override{"records.view", false, ScopeNone}, Override{"records.edit", false, ScopeNone},
			Override{"records.bulk_delete", false, ScopeNone}, Override{"records.import", false, ScopeNone}, Override{"records.export", false, ScopeNone},
			Override{"properties.manage", false, ScopeNone})), []string{MissingUnrestricted}},
		{"restricted over a restricted member of the same resources", collaborator, f.member("guest", func(in *Input) { in.Role = f.role("collaborator") }), nil},
		{"restricted over a member assigned elsewhere", collaborator, f.member("collaborator", func(in *Input) { in.Resources = []equipe.ID{f.r2} }), []string{MissingAssigned}},
		{"restricted over a member assigned to more", collaborator, f.member("collaborator", func(in *Input) { in.Resources = []equipe.ID{f.r1, f.r2} }), []string{MissingAssigned}},
		{"restricted over a member assigned to less", f.member("collaborator", func(in *Input) { in.Resources = []equipe.ID{f.r1, f.r2} }), collaborator, nil},
		{"through the firm, resources do not bind", viaFirm, f.member("collaborator", func(in *Input) { in.Resources = []equipe.ID{f.r2} }), nil},
		{"a suspended target's permissions still count", manager, f.member("admin", func(in *Input) { in.Status = MemberSuspended }), []string{"account.manage", "roles.manage", "billing.access", "subaccounts.manage", "api_keys.manage", "webhooks.manage"}},
	}
	for _, tc := range memberCases {
		t.Run("member/"+tc.name, func(t *testing.T) {
			ok, missing := c.CoversMember(tc.actor, tc.target)
			if ok != (len(tc.missing) == 0) || !slices.Equal(missing, tc.missing) {
				t.Errorf("CoversMember = %v, %v; want missing %v", ok, missing, tc.missing)
			}
		})
	}
}

func TestCoversOverrides(t *testing.T) {
	f := newFixture()
	manager := f.member("manager")
	cases := []struct {
		name    string
		actor   *Member
		os      []Override
		missing []string
	}{
		{"nothing", manager, nil, nil},
		{"what the manager holds", manager, []Override{{"records.view", true, ScopeAll}, {"members.manage", true, ScopeNone}}, nil},
		{"a denial of what the manager lacks", manager, []Override{{"billing.access", false, ScopeNone}}, nil},
		{"billing", manager, []Override{{"billing.access", true, ScopeNone}, {"members.view", true, ScopeNone}}, []string{"billing.access"}},
		{"a scope beyond the actor's", f.member("collaborator"), []Override{{"records.view", true, ScopeAll}}, []string{"records.view:all"}},
		{"the default scope counts when none is given", f.member("collaborator", overrides(Override{"records.edit", true, ScopeOwned})), []Override{{"records.edit", true, ScopeNone}}, []string{"records.edit:owned_or_unassigned"}},
	}
	for _, tc := range cases {
		ok, missing := f.c.CoversOverrides(tc.actor, tc.os)
		if ok != (len(tc.missing) == 0) || !slices.Equal(missing, tc.missing) {
			t.Errorf("%s: CoversOverrides = %v, %v; want missing %v", tc.name, ok, missing, tc.missing)
		}
	}
}

func TestCoversResources(t *testing.T) {
	f := newFixture()
	ids := []equipe.ID{f.r2, f.r1, f.r3}
	if ok, missing := f.member("manager").CoversResources(ids); !ok || missing != nil {
		t.Errorf("unrestricted: %v %v", ok, missing)
	}
	if ok, missing := f.member("collaborator", func(in *Input) { in.ViaFirm = true }).CoversResources(ids); !ok || missing != nil {
		t.Errorf("via firm: %v %v", ok, missing)
	}
	ok, missing := f.member("collaborator").CoversResources(ids) // assigned r1 only
	if ok || !slices.Equal(missing, []equipe.ID{f.r2, f.r3}) {
		t.Errorf("restricted: %v %v", ok, missing)
	}
	if ok, _ := f.member("collaborator").CoversResources([]equipe.ID{f.r1}); !ok {
		t.Error("restricted member cannot hand out their own resource")
	}
	if ok, _ := f.member("collaborator").CoversResources(nil); !ok {
		t.Error("no resources is not covered")
	}
}

func TestMissingRequired(t *testing.T) {
	c := Default()
	p1, p2, loc := equipe.NewID(), equipe.NewID(), equipe.NewID()
	res := []equipe.Resource{{ID: p1, Type: "product"}, {ID: loc, Type: "location"}, {ID: p2, Type: "product"}, {ID: equipe.NewID(), Type: "spaceship"}}
	cases := []struct {
		name      string
		resources []equipe.Resource
		assigned  []equipe.ID
		want      []string
	}{
		{"no product assigned", res, []equipe.ID{loc}, []string{"product"}},
		{"nothing assigned", res, nil, []string{"product"}},
		{"one product is enough", res, []equipe.ID{p2}, nil},
		{"an account without products requires none", res[1:2], nil, nil},
		{"a product of another account does not count", res, []equipe.ID{equipe.NewID()}, []string{"product"}},
		{"no resources at all", nil, nil, nil},
	}
	for _, tc := range cases {
		if got := c.MissingRequired(tc.resources, tc.assigned); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestMember_SetIsTheEffectiveSet(t *testing.T) {
	f := newFixture()
	r := f.role("manager")
	if f.member("manager").Set() != f.c.Grants(r.Grants) {
		t.Error("without overrides, the set is the role's")
	}
	s := f.member("manager", overrides(Override{"members.view", false, ScopeNone}, Override{"billing.access", true, ScopeNone})).Set()
	iv, _ := f.c.Index("members.view")
	ib, _ := f.c.Index("billing.access")
	if s.Has(iv) || !s.Has(ib) {
		t.Error("overrides are not in the set")
	}
}

func TestGrantNames_NameWhatIsMissingAsPeopleReadIt(t *testing.T) {
	c := Default()
	for _, tt := range []struct {
		missing []string
		want    Label
	}{
		{nil, Label{}},
		{[]string{"billing.access"}, Label{FR: "Accéder à la facturation", EN: "Access billing"}},
		{[]string{"records.view:all", "billing.access"}, Label{FR: "Consulter les enregistrements (Tout), Accéder à la facturation",
			EN: "View records (All), Access billing"}},
		{[]string{MissingUnrestricted}, missingNames[MissingUnrestricted]},
		{[]string{MissingAssigned}, missingNames[MissingAssigned]},
		{[]string{equipe.RoleAdmin}, Label{FR: "Administrateur", EN: "Administrator"}},
		{[]string{"no.such"}, Label{FR: "no.such", EN: "no.such"}},
	} {
		if got := c.GrantNames(tt.missing); got != tt.want {
			t.Errorf("GrantNames(%q) = %+v, want %+v", tt.missing, got, tt.want)
		}
	}
}
