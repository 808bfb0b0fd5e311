package access

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDefault_ParsesAndCoversTheProduct(t *testing.T) {
	c, err := Parse(DefaultName, defaultYAML)
	if err != nil {
		t.Fatalf("the embedded catalogue does not parse: %v", err)
	}
	if Default() == nil {
		t.Fatal("Default returned nil")
	}

	// The default catalogue's permissions, in the order docs/catalogue.md
	// lists them.
	wantPerms := []string{
		"account.manage", "members.view", "members.manage", "members.export", "roles.manage", "billing.access",
		"contacts.manage", "resources.manage", "subaccounts.manage", "audit.view", "api_keys.manage", "webhooks.manage",
		"records.view", "records.edit", "records.bulk_delete", "records.import", "records.export",
		"properties.manage",
	}
	var got []string
	for i, p := range c.Permissions {
		got = append(got, p.Key)
		if p.Index != i {
			t.Errorf("%s: Index %d, want %d", p.Key, p.Index, i)
		}
		if p.Label.FR == "" || p.Label.EN == "" || p.Description.FR == "" || p.Description.EN == "" {
			t.Errorf("%s: a label or description is empty: %+v %+v", p.Key, p.Label, p.Description)
		}
		if _, ok := c.Group(p.Group); !ok {
			t.Errorf("%s: group %q is not declared", p.Key, p.Group)
		}
		wantScoped := p.Key == "records.view" || p.Key == "records.edit"
		if p.Scoped() != wantScoped {
			t.Errorf("%s: Scoped() = %v", p.Key, p.Scoped())
		}
		if wantScoped && !slices.Equal(p.Scopes, []Scope{ScopeAll, ScopeOwnedOrUnassigned, ScopeOwned}) {
			t.Errorf("%s: scopes %v", p.Key, p.Scopes)
		}
	}
	if !slices.Equal(got, wantPerms) {
		t.Errorf("permissions:\n got %v\nwant %v", got, wantPerms)
	}

	var types []string
	for _, rt := range c.ResourceTypes {
		types = append(types, rt.Key)
		if rt.Required != (rt.Key == "product") {
			t.Errorf("resource type %s: Required = %v", rt.Key, rt.Required)
		}
	}
	if want := []string{"location", "company", "service", "product", "theme", "application"}; !slices.Equal(types, want) {
		t.Errorf("resource types %v, want %v", types, want)
	}

	names := map[string]Label{
		"admin":        {FR: "Administrateur", EN: "Administrator"},
		"manager":      {FR: "Manager", EN: "Manager"},
		"collaborator": {FR: "Collaborateur", EN: "Collaborator"},
		"guest":        {FR: "Invité", EN: "Guest"},
	}
	if len(c.Roles) != len(names) {
		t.Errorf("%d roles, want %d", len(c.Roles), len(names))
	}
	for key, label := range names {
		r, ok := c.Role(key)
		if !ok {
			t.Errorf("role %s missing", key)
			continue
		}
		if r.Label != label || !r.BuiltIn || r.Description.FR == "" || r.Description.EN == "" {
			t.Errorf("role %s: %+v", key, r)
		}
	}

	var titles []Label
	for _, jt := range c.JobTitles {
		titles = append(titles, jt.Label)
	}
	wantTitles := []Label{
		{"Chef d'entreprise", "Business owner"}, {"Salarié", "Employee"}, {"Gérant", "Managing director"},
		{"Président", "Chair"}, {"Autre", "Other"},
	}
	if !slices.Equal(titles, wantTitles) {
		t.Errorf("job titles %v, want %v", titles, wantTitles)
	}
}

func grantMap(r Role) map[string]Scope {
	m := map[string]Scope{}
	for _, g := range r.Grants {
		m[g.Permission] = g.Scope
	}
	return m
}

func TestDefault_BuiltInRoles(t *testing.T) {
	c := Default()
	admin, _ := c.Role("admin")
	if c.Grants(admin.Grants) != c.All() || admin.Restricted {
		t.Errorf("admin does not hold everything unrestricted: %+v", admin)
	}
	if g := grantMap(admin); g["records.view"] != ScopeAll || g["records.edit"] != ScopeAll {
		t.Errorf("admin's record scopes: %v", g)
	}

	manager, _ := c.Role("manager")
	mg := grantMap(manager)
	for _, k := range []string{"account.manage", "billing.access", "roles.manage", "api_keys.manage", "subaccounts.manage", "webhooks.manage"} {
		if _, ok := mg[k]; ok {
			t.Errorf("manager holds %s", k)
		}
	}
	for _, p := range c.Permissions {
		if _, ok := mg[p.Key]; !ok && !slices.Contains([]string{"account.manage", "billing.access", "roles.manage", "api_keys.manage", "subaccounts.manage", "webhooks.manage"}, p.Key) {
			t.Errorf("manager lacks %s", p.Key)
		}
	}
	if manager.Restricted || mg["records.view"] != ScopeAll || mg["records.edit"] != ScopeAll {
		t.Errorf("manager: %+v", manager)
	}

	collab, _ := c.Role("collaborator")
	cg := grantMap(collab)
	if !collab.Restricted || cg["records.view"] != ScopeOwnedOrUnassigned || cg["records.edit"] != ScopeOwnedOrUnassigned {
		t.Errorf("collaborator: %+v", collab)
	}
	if _, ok := cg["members.view"]; !ok {
		t.Error("collaborator cannot view members")
	}
	if _, ok := cg["members.manage"]; ok {
		t.Error("collaborator manages members")
	}

	guest, _ := c.Role("guest")
	for k := range grantMap(guest) {
		if !strings.HasSuffix(k, ".view") {
			t.Errorf("guest holds %s, which is not read-only", k)
		}
	}
	if len(guest.Grants) == 0 || !guest.Restricted {
		t.Errorf("guest: %+v", guest)
	}
}

func TestCatalogue_AccessorsReturnCopies(t *testing.T) {
	c := Default()
	r, _ := c.Role("manager")
	r.Grants[0].Permission = "changed"
	p, _ := c.Permission("records.view")
	p.Scopes[0] = ScopeNone
	r2, _ := c.Role("manager")
	p2, _ := c.Permission("records.view")
	if r2.Grants[0].Permission == "changed" || p2.Scopes[0] == ScopeNone {
		t.Error("changing a returned value changed the catalogue")
	}
	if _, ok := c.Role("nope"); ok {
		t.Error("unknown role found")
	}
	if _, ok := c.Permission("nope"); ok {
		t.Error("unknown permission found")
	}
	if rt, ok := c.ResourceType("product"); !ok || !rt.Required || rt.Label.FR != "Produit" {
		t.Errorf("ResourceType(product) = %+v, %v", rt, ok)
	}
	if _, ok := c.ResourceType("nope"); ok {
		t.Error("unknown resource type found")
	}
	if jt, ok := c.JobTitle("managing_director"); !ok || jt.Label.FR != "Gérant" {
		t.Errorf("JobTitle = %+v, %v", jt, ok)
	}
	if _, ok := c.JobTitle("nope"); ok {
		t.Error("unknown job title found")
	}
	if i, ok := c.Index("records.edit"); !ok || c.Permissions[i].Key != "records.edit" {
		t.Errorf("Index(records.edit) = %d, %v", i, ok)
	}
}

func TestLabel_In(t *testing.T) {
	l := Label{FR: "Invité", EN: "Guest"}
	for locale, want := range map[string]string{"fr": "Invité", "en": "Guest", "en-GB": "Guest", "": "Invité", "de": "Invité", "eng": "Invité"} {
		if got := l.In(locale); got != want {
			t.Errorf("In(%q) = %q, want %q", locale, got, want)
		}
	}
	if got := (Label{FR: "Seul"}).In("en"); got != "Seul" {
		t.Errorf("an empty English text does not fall back to French: %q", got)
	}
}

func TestScope_ParseStringAndOrder(t *testing.T) {
	for _, s := range []Scope{ScopeOwned, ScopeOwnedOrUnassigned, ScopeAll} {
		got, ok := ParseScope(s.String())
		if !ok || got != s {
			t.Errorf("ParseScope(%q) = %v, %v", s.String(), got, ok)
		}
		if s.Label().FR == "" || s.Label().EN == "" {
			t.Errorf("%v has no label", s)
		}
		b, _ := s.MarshalText()
		var back Scope
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Errorf("text round trip of %v: %v, %v", s, back, err)
		}
	}
	for _, bad := range []string{"", "ALL", "owned_only", "none"} {
		if _, ok := ParseScope(bad); ok {
			t.Errorf("ParseScope(%q) accepted", bad)
		}
	}
	var s Scope = ScopeAll
	if err := s.UnmarshalText(nil); err != nil || s != ScopeNone {
		t.Errorf("empty text: %v, %v", s, err)
	}
	if err := s.UnmarshalText([]byte("everything")); err == nil {
		t.Error("unknown scope text accepted")
	}
	if ScopeNone.String() != "" {
		t.Error("ScopeNone has a name")
	}
	if !(ScopeNone < ScopeOwned && ScopeOwned < ScopeOwnedOrUnassigned && ScopeOwnedOrUnassigned < ScopeAll) {
		t.Error("scopes are not ordered by breadth")
	}
}

func TestValidKey(t *testing.T) {
	for _, k := range []string{"members.manage", "a", "api_keys.manage", "records.view2", "a.b.c"} {
		if !ValidKey(k) {
			t.Errorf("ValidKey(%q) = false", k)
		}
	}
	for _, k := range []string{"", "Members.manage", "members..manage", ".members", "members.", "1a", "a.1b", "a-b", "a b", "é", strings.Repeat("a", MaxKeyLength+1)} {
		if ValidKey(k) {
			t.Errorf("ValidKey(%q) = true", k)
		}
	}
}

// base is a small valid catalogue the error cases change.
const base = `version: 1
groups:
  - key: g
    label: {fr: G, en: G}
permissions:
  - key: a.view
    group: g
    label: {fr: Voir A, en: View A}
  - key: rec.view
    label: {fr: Voir, en: View}
    scopes: [all, owned]
    default_scope: all
roles:
  - key: admin
    label: {fr: Administrateur, en: Administrator}
    permissions: all
  - key: reader
    label: {fr: Lecteur, en: Reader}
    permissions:
      a.view: true
resource_types:
  - key: product
    label: {fr: Produit, en: Product}
    required: true
job_titles:
  - key: other
    label: {fr: Autre, en: Other}
`

func TestParse_Base(t *testing.T) {
	c, err := Parse("base.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := c.Role("reader")
	if !slices.Equal(r.Grants, []Grant{{"a.view", ScopeNone}}) || r.Restricted {
		t.Errorf("reader: %+v", r)
	}
	p, _ := c.Permission("rec.view")
	if !slices.Equal(p.Scopes, []Scope{ScopeAll, ScopeOwned}) || p.DefaultScope != ScopeAll || p.Group != "" {
		t.Errorf("rec.view: %+v", p)
	}
}

// edit returns base with the line holding old replaced by repl (which may
// span lines). The line marked "#!" in the result is where an error is
// expected.
func edit(t *testing.T, old, repl string) string {
	t.Helper()
	if !strings.Contains(base, old) {
		t.Fatalf("base has no %q", old)
	}
	return strings.Replace(base, old, repl, 1)
}

func markedLine(s string) int {
	for i, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "#!") {
			return i + 1
		}
	}
	return 0
}

func TestParse_ErrorsNameFileLineAndKey(t *testing.T) {
	var many strings.Builder
	many.WriteString("version: 1\npermissions:\n")
	for i := range MaxPermissions + 1 {
		mark := ""
		if i == MaxPermissions {
			mark = " #!"
		}
		fmt.Fprintf(&many, "  - key: p%d.view%s\n    label: {fr: P, en: P}\n", i, mark)
	}
	many.WriteString("roles:\n  - key: admin\n    label: {fr: A, en: A}\n    permissions: all\n")

	cases := []struct {
		name   string
		yaml   string
		entity string
		key    string
		msg    string
	}{
		{"unknown top-level field", base + "colour: blue #!\n", "", "", `unknown field "colour"`},
		{"an action that is a permission's key", edit(t, "    group: g\n", "    group: g\n    actions: [rec.view] #!\n"), "permission", "a.view", `action "rec.view" is a permission's key`},
		{"an action given twice", edit(t, "    group: g\n", "    group: g\n    actions: [can_read, can_read] #!\n"), "permission", "a.view", `action "can_read" is already the name of a.view`},
		{"an action of bad shape", edit(t, "    group: g\n", "    group: g\n    actions: [\"can read\"] #!\n"), "permission", "a.view", `action "can read" must be`},
		{"unknown permission field", edit(t, "    group: g\n", "    group: g\n    colour: blue #!\n"), "permission", "a.view", `unknown field "colour"`},
		{"unknown role field", edit(t, "    label: {fr: Lecteur, en: Reader}\n", "    label: {fr: Lecteur, en: Reader}\n    admin: true #!\n"), "role", "reader", `unknown field "admin"`},
		{"unknown label language", edit(t, "label: {fr: Voir A, en: View A}", "label: {fr: Voir A, en: View A, de: Sehen A} #!"), "permission", "a.view", `unknown field "de"`},
		{"field given twice", edit(t, "    group: g\n", "    group: g\n    group: g #!\n"), "permission", "a.view", `field "group" is given twice`},
		{"duplicate permission", edit(t, "  - key: rec.view\n", "  - key: a.view #!\n    label: {fr: X, en: X}\n  - key: rec.view\n"), "permission", "a.view", "declared twice (first at line 6)"},
		{"duplicate role", edit(t, "resource_types:\n", "  - key: reader #!\n    label: {fr: L, en: R}\n    permissions: {}\nresource_types:\n"), "role", "reader", "declared twice (first at line 17)"},
		{"duplicate resource type", edit(t, "job_titles:\n", "  - key: product #!\n    label: {fr: P, en: P}\njob_titles:\n"), "resource type", "product", "declared twice"},
		{"duplicate job title", base + "  - key: other #!\n    label: {fr: A, en: O}\n", "job title", "other", "declared twice"},
		{"duplicate group", edit(t, "permissions:\n", "  - key: g #!\n    label: {fr: G, en: G}\npermissions:\n"), "group", "g", "declared twice"},
		{"unknown permission in a role", edit(t, "      a.view: true\n", "      a.view: true\n      b.view: true #!\n"), "role", "reader", `permission "b.view" is not declared`},
		{"permission twice in a role", edit(t, "      a.view: true\n", "      a.view: true\n      a.view: false #!\n"), "role", "reader", `permission "a.view" is given twice`},
		{"scope the permission does not declare", edit(t, "      a.view: true\n", "      rec.view: owned_or_unassigned #!\n"), "role", "reader", `scope "owned_or_unassigned" is not one of the permission's scopes (all, owned)`},
		{"scope on an unscoped permission", edit(t, "      a.view: true\n", "      a.view: all #!\n"), "role", "reader", "has no scopes"},
		{"unknown scope in a role", edit(t, "      a.view: true\n", "      rec.view: mine #!\n"), "role", "reader", `found "mine"`},
		{"number as a role's grant", edit(t, "      a.view: true\n", "      a.view: 1 #!\n"), "role", "reader", "expected true, false or a scope"},
		{"role permissions neither all nor a mapping", edit(t, "    permissions:\n      a.view: true\n", "    permissions: everything #!\n"), "role", "reader", `permissions must be all or a mapping, found "everything"`},
		{"role without permissions", edit(t, "  - key: reader\n    label: {fr: Lecteur, en: Reader}\n    permissions:\n      a.view: true\n", "  - key: reader #!\n    label: {fr: Lecteur, en: Reader}\n    restricted: true\n"), "role", "reader", "permissions is missing"},
		{"restricted not a boolean", edit(t, "    permissions:\n      a.view: true\n", "    restricted: yes #!\n    permissions: {}\n"), "role", "reader", "restricted must be true or false"},
		{"default scope outside the scopes", edit(t, "    default_scope: all\n", "    default_scope: owned_or_unassigned #!\n"), "permission", "rec.view", `default_scope "owned_or_unassigned" is not one of its scopes (all, owned)`},
		{"unknown default scope", edit(t, "    default_scope: all\n", "    default_scope: everything #!\n"), "permission", "rec.view", `unknown default_scope "everything"`},
		{"scopes without a default", edit(t, "    scopes: [all, owned]\n    default_scope: all\n", "    scopes: [all, owned] #!\n"), "permission", "rec.view", "scopes need a default_scope"},
		{"default scope without scopes", edit(t, "    group: g\n", "    group: g\n    default_scope: all #!\n"), "permission", "a.view", "declares no scopes"},
		{"unknown scope", edit(t, "    scopes: [all, owned]\n", "    scopes: [all, mine] #!\n"), "permission", "rec.view", `unknown scope "mine"`},
		{"scope listed twice", edit(t, "    scopes: [all, owned]\n", "    scopes: [all, all] #!\n"), "permission", "rec.view", `scope "all" is listed twice`},
		{"empty scopes", edit(t, "    scopes: [all, owned]\n", "    scopes: [] #!\n"), "permission", "rec.view", "scopes is empty"},
		{"missing label", edit(t, "  - key: a.view\n    group: g\n    label: {fr: Voir A, en: View A}\n", "  - key: a.view #!\n    group: g\n"), "permission", "a.view", "label is missing"},
		{"label without English", edit(t, "label: {fr: Voir A, en: View A}", "label: {fr: Voir A} #!"), "permission", "a.view", `label has no "en" text`},
		{"empty French label", edit(t, "label: {fr: Voir A, en: View A}", "label: {fr: '', en: View A} #!"), "permission", "a.view", "label.fr is empty"},
		{"label as a number", edit(t, "label: {fr: Voir A, en: View A}", "label: {fr: 12, en: View A} #!"), "permission", "a.view", `label.fr must be a text, found "12"`},
		{"label as a plain text", edit(t, "label: {fr: Voir A, en: View A}", "label: Voir A #!"), "permission", "a.view", "label must be a mapping"},
		{"label too long", edit(t, "label: {fr: Voir A, en: View A}", "label: {fr: Voir A, en: "+strings.Repeat("x", MaxLabelLength+1)+"} #!"), "permission", "a.view", "longer than"},
		{"role label missing", edit(t, "  - key: reader\n    label: {fr: Lecteur, en: Reader}\n", "  - key: reader #!\n"), "role", "reader", "label is missing"},
		{"resource type label missing English", edit(t, "label: {fr: Produit, en: Product}", "label: {fr: Produit} #!"), "resource type", "product", `no "en" text`},
		{"job title label missing", edit(t, "  - key: other\n    label: {fr: Autre, en: Other}\n", "  - key: other #!\n"), "job title", "other", "label is missing"},
		{"upper-case key", edit(t, "  - key: a.view\n", "  - key: A.View #!\n"), "permission", "A.View", "invalid key"},
		{"key with an empty word", edit(t, "  - key: a.view\n", "  - key: a..view #!\n"), "permission", "a..view", "invalid key"},
		{"role key with a hyphen", edit(t, "  - key: reader\n", "  - key: read-only #!\n"), "role", "read-only", "invalid key"},
		{"merge key", edit(t, "    group: g\n", "    group: g\n    <<: {x: y} #!\n"), "permission", "a.view", "merge keys (<<) are not supported"},
		{"entry without a key", edit(t, "  - key: reader\n", "  - restricted: false #!\n"), "role", "", "needs a key"},
		{"required not a boolean", edit(t, "    required: true\n", "    required: \"yes\" #!\n"), "resource type", "product", "required must be true or false"},
		{"undeclared group", edit(t, "    group: g\n", "    group: h #!\n"), "permission", "a.view", `group "h" is not declared`},
		{"too many permissions", many.String(), "permission", fmt.Sprintf("p%d.view", MaxPermissions), "more than 256 permissions"},
		{"admin missing", edit(t, "roles:\n  - key: admin\n    label: {fr: Administrateur, en: Administrator}\n    permissions: all\n", "roles: #!\n"), "role", "admin", `must declare the role "admin"`},
		{"admin restricted", edit(t, "  - key: admin\n", "  - key: admin #!\n    restricted: true\n"), "role", "admin", "cannot be restricted"},
		{"admin lacking a permission", edit(t, "  - key: admin\n    label: {fr: Administrateur, en: Administrator}\n    permissions: all\n", "  - key: admin #!\n    label: {fr: Administrateur, en: Administrator}\n    permissions: {a.view: true, rec.view: owned}\n"), "role", "admin", "must hold every permission at its broadest scope"},
		{"version missing", strings.Replace(base, "version: 1\ngroups:\n", "groups: #!\n", 1), "", "", `the catalogue has no "version"`},
		{"version unknown", strings.Replace(base, "version: 1\n", "version: 2 #!\n", 1), "", "", "version must be 1"},
		{"permissions missing", "version: 1 #!\nroles: []\n", "", "", `the catalogue has no "permissions"`},
		{"permissions not a list", "version: 1\npermissions: none #!\nroles: []\n", "", "", `"permissions" must be a list`},
		{"YAML syntax: unclosed list", base + "roles: [unclosed #!\n", "", "", "invalid YAML: did not find expected ',' or ']'"},
		{"YAML syntax: bad indentation", edit(t, "  - key: rec.view\n", "  - key: rec.view\n     bad: x #!\n"), "", "", "invalid YAML: mapping values are not allowed"},
		{"two documents", base + "--- #!\nversion: 1\n", "", "", "more than one YAML document"},
		{"empty file", "", "", "", "the file is empty"},
		{"top level not a mapping", "- a #!\n- b\n", "", "", "the catalogue must be a mapping"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("vendor.yaml", []byte(tc.yaml))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *ParseError", err)
			}
			if want := markedLine(tc.yaml); pe.Line != want {
				t.Errorf("line %d, want %d (%v)", pe.Line, want, err)
			}
			if pe.File != "vendor.yaml" || pe.Entity != tc.entity || pe.Key != tc.key {
				t.Errorf("file %q entity %q key %q, want vendor.yaml %q %q", pe.File, pe.Entity, pe.Key, tc.entity, tc.key)
			}
			if !strings.Contains(pe.Msg, tc.msg) {
				t.Errorf("message %q does not say %q", pe.Msg, tc.msg)
			}
			prefix := "catalogue vendor.yaml"
			if pe.Line > 0 {
				prefix += fmt.Sprintf(":%d", pe.Line)
			}
			if !strings.HasPrefix(err.Error(), prefix+": ") {
				t.Errorf("error %q does not start with %q", err, prefix)
			}
			if tc.key != "" && !strings.Contains(err.Error(), `"`+tc.key+`"`) {
				t.Errorf("error %q does not name the key %q", err, tc.key)
			}
		})
	}
}

func TestParse_AcceptsAnchorsFalseGrantsAndAnyScopeOrder(t *testing.T) {
	y := strings.Replace(base, "    scopes: [all, owned]\n", "    scopes: [owned, all]\n", 1)
	y = strings.Replace(y, "    permissions:\n      a.view: true\n", "    restricted: true\n    permissions: &reader\n      a.view: true\n      rec.view: false\n", 1)
	y += "roles_again: x\n"
	y = strings.Replace(y, "roles_again: x\n", "", 1)
	y = strings.Replace(y, "resource_types:\n", "  - key: reader2\n    label: {fr: L2, en: R2}\n    permissions: *reader\nresource_types:\n", 1)
	c, err := Parse("anchors.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := c.Permission("rec.view")
	if !slices.Equal(p.Scopes, []Scope{ScopeAll, ScopeOwned}) {
		t.Errorf("scopes not sorted broadest first: %v", p.Scopes)
	}
	r, _ := c.Role("reader2")
	if !slices.Equal(r.Grants, []Grant{{"a.view", ScopeNone}}) {
		t.Errorf("aliased grants: %+v", r.Grants)
	}
	r, _ = c.Role("reader")
	if !r.Restricted {
		t.Error("restricted lost")
	}
}

func TestParse_RoleTrueMeansDefaultScope(t *testing.T) {
	y := strings.Replace(base, "    default_scope: all\n", "    default_scope: owned\n", 1)
	y = strings.Replace(y, "      a.view: true\n", "      a.view: true\n      rec.view: true\n", 1)
	c, err := Parse("t.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := c.Role("reader")
	if g := grantMap(r); g["rec.view"] != ScopeOwned {
		t.Errorf("rec.view: true gave %v, want the default scope", g["rec.view"])
	}
	admin, _ := c.Role("admin")
	if g := grantMap(admin); g["rec.view"] != ScopeAll {
		t.Errorf("admin's all gave %v, want the broadest scope", g["rec.view"])
	}
}

func TestLoad(t *testing.T) {
	c, err := Load("")
	if err != nil || c != Default() {
		t.Fatalf("Load(\"\") = %p, %v; want the default", c, err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "catalogue.yaml")
	if err := os.WriteFile(good, []byte(base), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load(good)
	if err != nil || len(c.Permissions) != 2 {
		t.Fatalf("Load(good) = %v, %v", c, err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(strings.Replace(base, "    group: g\n", "    group: h\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bad)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.File != bad || pe.Line != 7 || !strings.Contains(err.Error(), bad+":7:") {
		t.Errorf("Load(bad) = %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v", err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(base+"#"+strings.Repeat("x", MaxCatalogueSize)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); !errors.As(err, &pe) || !strings.Contains(pe.Msg, "larger than") {
		t.Errorf("Load(big) = %v", err)
	}
	if !slices.Equal(DefaultYAML(), defaultYAML) {
		t.Error("DefaultYAML differs from the embedded file")
	}
}

func TestValidateGrants(t *testing.T) {
	c := Default()
	ok := []Grant{{"members.view", ScopeNone}, {"records.view", ScopeOwned}, {"records.edit", ScopeAll}}
	if err := c.ValidateGrants(ok); err != nil {
		t.Errorf("valid grants refused: %v", err)
	}
	if err := c.ValidateGrants(nil); err != nil {
		t.Errorf("no grants refused: %v", err)
	}
	cases := []struct {
		gs   []Grant
		key  string
		want error
	}{
		{[]Grant{{"members.view", ScopeNone}, {"members.fly", ScopeNone}}, "members.fly", ErrUnknownPermission},
		{[]Grant{{"members.view", ScopeAll}}, "members.view", ErrScopeNotAccepted},
		{[]Grant{{"records.view", ScopeNone}}, "records.view", ErrScopeNotAccepted},
		{[]Grant{{"records.view", Scope(9)}}, "records.view", ErrScopeNotAccepted},
		{[]Grant{{"records.view", ScopeAll}, {"records.view", ScopeOwned}}, "records.view", ErrDuplicateGrant},
	}
	for _, tc := range cases {
		err := c.ValidateGrants(tc.gs)
		var ge *GrantError
		if !errors.As(err, &ge) || ge.Permission != tc.key || !errors.Is(err, tc.want) || !strings.Contains(err.Error(), `"`+tc.key+`"`) {
			t.Errorf("ValidateGrants(%v) = %v, want %v naming %s", tc.gs, err, tc.want, tc.key)
		}
	}

	y := strings.Replace(base, "    scopes: [all, owned]\n    default_scope: all\n", "    scopes: [all, owned]\n    default_scope: owned\n", 1)
	small, err := Parse("t.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if err := small.ValidateGrants([]Grant{{"rec.view", ScopeOwnedOrUnassigned}}); !errors.Is(err, ErrScopeNotAccepted) {
		t.Errorf("a scope the permission does not declare: %v", err)
	}
}

func TestValidateOverrides(t *testing.T) {
	c := Default()
	ok := []Override{{"billing.access", true, ScopeNone}, {"records.view", true, ScopeNone}, {"records.edit", true, ScopeOwned}, {"members.view", false, ScopeNone}}
	if err := c.ValidateOverrides(ok); err != nil {
		t.Errorf("valid overrides refused: %v", err)
	}
	cases := []struct {
		os   []Override
		key  string
		want error
	}{
		{[]Override{{"nope.nope", true, ScopeNone}}, "nope.nope", ErrUnknownPermission},
		{[]Override{{"members.view", true, ScopeOwned}}, "members.view", ErrScopeNotAccepted},
		{[]Override{{"records.view", false, ScopeAll}}, "records.view", ErrScopeOnDenial},
		{[]Override{{"records.view", false, ScopeNone}, {"records.view", true, ScopeAll}}, "records.view", ErrDuplicateGrant},
	}
	for _, tc := range cases {
		err := c.ValidateOverrides(tc.os)
		var ge *GrantError
		if !errors.As(err, &ge) || ge.Permission != tc.key || !errors.Is(err, tc.want) || !strings.Contains(err.Error(), `"`+tc.key+`"`) {
			t.Errorf("ValidateOverrides(%v) = %v, want %v naming %s", tc.os, err, tc.want, tc.key)
		}
	}
}

// The documentation carries the complete default catalogue; it must be the
// file that is built in, byte for byte.
func TestDocs_ShowTheDefaultCatalogue(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "catalogue.md"))
	if err != nil {
		t.Fatal(err)
	}
	const open = "### The complete file\n"
	i := strings.Index(string(doc), open)
	if i < 0 {
		t.Fatal("docs/catalogue.md has no section \"The complete file\"")
	}
	rest := string(doc[i:])
	start := strings.Index(rest, "```yaml\n")
	if start < 0 {
		t.Fatal("no YAML block in the section")
	}
	rest = rest[start+len("```yaml\n"):]
	end := strings.Index(rest, "```\n")
	if end < 0 || rest[:end] != string(defaultYAML) {
		t.Error("the catalogue in docs/catalogue.md differs from access/default.yaml; copy the file into the doc")
	}
	for _, r := range Reasons {
		if !strings.Contains(string(doc), "`"+string(r)+"`") {
			t.Errorf("docs/catalogue.md does not explain the reason %s", r)
		}
	}
}
