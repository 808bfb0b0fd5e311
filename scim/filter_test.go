package scim

import (
	"encoding/json"
	"testing"

	"github.com/equipe-dev/equipe/team"
)

// TestFilter_ValuePathComparisonsAreRewrittenFaithfully: the PATCH-path
// form directories send in filters becomes the grammar's value path, and
// forms that cannot be rewritten without changing their meaning are
// refused.
func TestFilter_ValuePathComparisonsAreRewrittenFaithfully(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`userName eq "a@b.c"`, `userName eq "a@b.c"`},
		{`emails[type eq "work"].value eq "a@b.c"`, `emails[type eq "work" and value eq "a@b.c"]`},
		{`emails[type eq "work"].value pr`, `emails[type eq "work" and value pr]`},
		{`emails[type eq "]"].value eq "x]y" and active eq true`, `emails[type eq "]" and value eq "x]y"] and active eq true`},
		{`(emails[type eq "work"].value eq "a") or externalId eq "b"`, `(emails[type eq "work" and value eq "a"]) or externalId eq "b"`},
		{`emails[type eq "work"].value eq "a\"b"`, `emails[type eq "work" and value eq "a\"b"]`},
	} {
		got, ok := flattenValuePaths(c.in)
		if !ok || got != c.want {
			t.Errorf("%s: got %q (%v), want %q", c.in, got, ok, c.want)
		}
	}
	for _, in := range []string{`emails[type eq "a" or type eq "b"].value eq "x"`, `emails[type eq "work"].value eq`} {
		if got, ok := flattenValuePaths(in); ok {
			t.Errorf("%s: rewritten as %q", in, got)
		}
	}
}

// TestFilter_IndexedLookups: the filters a directory sends are answered
// through an index; those that are not say so, and are scanned.
func TestFilter_IndexedLookups(t *testing.T) {
	for _, c := range []struct {
		filter string
		kinds  []team.UserRefKind // nil: scanned
		texts  []string
	}{
		{`userName eq "A@b.c"`, []team.UserRefKind{team.RefEmail}, []string{"A@b.c"}},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a@b.c"`, []team.UserRefKind{team.RefEmail}, []string{"a@b.c"}},
		{`externalId eq "x\"y"`, []team.UserRefKind{team.RefExternal}, []string{`x"y`}},
		{`emails[type eq "work"].value eq "a@b.c"`, []team.UserRefKind{team.RefEmail}, []string{"a@b.c"}},
		{`emails.value eq "a@b.c"`, []team.UserRefKind{team.RefEmail}, []string{"a@b.c"}},
		{`userName eq "a@b.c" and active eq true`, []team.UserRefKind{team.RefEmail}, []string{"a@b.c"}},
		{`active eq true and externalId eq "e"`, []team.UserRefKind{team.RefExternal}, []string{"e"}},
		{`userName eq "a@b.c" or externalId eq "e"`, []team.UserRefKind{team.RefEmail, team.RefExternal}, []string{"a@b.c", "e"}},
		{`userName eq "a@b.c" or active eq true`, nil, nil},
		{`userName co "a"`, nil, nil},
		{`not (userName eq "a@b.c")`, nil, nil},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "7"`, nil, nil},
	} {
		e, err := parseFilter(c.filter)
		if err != nil {
			t.Fatalf("%s: %v", c.filter, err)
		}
		refs, ok := userRefs(e)
		if ok != (c.kinds != nil) || len(refs) != len(c.kinds) {
			t.Fatalf("%s: %v %v", c.filter, refs, ok)
		}
		for i, r := range refs {
			if r.Kind != c.kinds[i] || r.Text != c.texts[i] {
				t.Fatalf("%s: %+v", c.filter, refs)
			}
		}
	}
}

// TestFilter_Matches evaluates filters on a resource as clients read it.
func TestFilter_Matches(t *testing.T) {
	user := map[string]any{"id": "u1", "userName": "Ada@Example.com", "externalId": "Ext", "active": true, "title": "",
		"name":   map[string]any{"givenName": "Ada"},
		"emails": []any{map[string]any{"value": "ada@example.com", "type": "work", "primary": true}},
		"meta":   map[string]any{"created": "2026-01-02T00:00:00Z"}}
	for _, c := range []struct {
		filter string
		want   bool
	}{
		{`userName eq "ada@example.com"`, true},
		{`USERNAME Eq "ADA@EXAMPLE.COM"`, true},
		{`externalId eq "ext"`, false},
		{`externalId eq "Ext"`, true},
		{`name.givenName sw "a"`, true},
		{`emails[type eq "work" and primary eq true]`, true},
		{`emails[type eq "home"]`, false},
		{`emails eq "ada@example.com"`, true},
		{`title pr`, false},
		{`name pr and not (active eq false)`, true},
		{`meta.created gt "2026-01-01T00:00:00Z"`, true},
		{`meta.created lt "2025-01-01T00:00:00Z"`, false},
		// A dateTime compares by time (RFC 7644 3.4.2.2), not as text:
		// fractions of a second, another offset, the same instant.
		{`meta.created eq "2026-01-02T00:00:00.000Z"`, true},
		{`meta.created ge "2026-01-02T00:00:00.000Z"`, true},
		{`meta.created gt "2026-01-01T23:59:59.5Z"`, true},
		{`meta.created eq "2026-01-02T01:00:00+01:00"`, true},
		{`meta.created lt "2026-01-02T00:30:00+01:00"`, false},
		{`meta.created ne "2026-01-02T01:00:00+01:00"`, false},
		{`meta.lastModified gt "2020-01-01T00:00:00Z"`, false},
		{`nickName ne "x"`, true},
	} {
		e, err := parseFilter(c.filter)
		if err != nil {
			t.Fatalf("%s: %v", c.filter, err)
		}
		if got := matches(e, user, schemaUser); got != c.want {
			t.Errorf("%s: %v, want %v", c.filter, got, c.want)
		}
	}
}

// TestFilter_ADateTimeMustBeOne: a dateTime attribute compared with a value
// that is no dateTime is an invalid filter, not a comparison of text.
func TestFilter_ADateTimeMustBeOne(t *testing.T) {
	for _, f := range []string{`meta.created gt "yesterday"`, `meta.lastModified le 2026`,
		`userName eq "a" and meta.LASTMODIFIED ge "2026-01-02"`} {
		_, err := parseFilter(f)
		if se, ok := err.(*scimError); !ok || se.scimType != invalidFilter {
			t.Errorf("%s: %v, want invalidFilter", f, err)
		}
	}
	for _, f := range []string{`meta.created pr`, `meta.created gt "2026-01-02T00:00:00Z"`, `meta.resourceType eq "User"`} {
		if _, err := parseFilter(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestProject_AttributesWholeOrByPart: attributes and excludedAttributes
// keep or leave out attributes whole, or sub-attributes of a complex
// attribute and of each value of a multi-valued one; id, schemas and meta
// always stay.
func TestProject_AttributesWholeOrByPart(t *testing.T) {
	user := func() map[string]any {
		return asObject(map[string]any{"schemas": []string{schemaUser}, "id": "1", "meta": map[string]any{"resourceType": "User"},
			"userName": "ada@example.com", "title": "Analyst",
			"name":   map[string]any{"givenName": "Ada", "familyName": "Lovelace", "formatted": "Ada Lovelace"},
			"emails": []any{map[string]any{"value": "ada@example.com", "type": "work", "primary": true}}})
	}
	for _, c := range []struct {
		attributes, excluded, want string
	}{
		{"", "", `{"emails":[{"primary":true,"type":"work","value":"ada@example.com"}],"id":"1","meta":{"resourceType":"User"},"name":{"familyName":"Lovelace","formatted":"Ada Lovelace","givenName":"Ada"},"schemas":["` + schemaUser + `"],"title":"Analyst","userName":"ada@example.com"}`},
		{"name.givenName", "", `{"id":"1","meta":{"resourceType":"User"},"name":{"givenName":"Ada"},"schemas":["` + schemaUser + `"]}`},
		{"emails.value,userName", "", `{"emails":[{"value":"ada@example.com"}],"id":"1","meta":{"resourceType":"User"},"schemas":["` + schemaUser + `"],"userName":"ada@example.com"}`},
		{"name.givenName,name", "", `{"id":"1","meta":{"resourceType":"User"},"name":{"familyName":"Lovelace","formatted":"Ada Lovelace","givenName":"Ada"},"schemas":["` + schemaUser + `"]}`},
		{schemaUser + ":name.familyName", "", `{"id":"1","meta":{"resourceType":"User"},"name":{"familyName":"Lovelace"},"schemas":["` + schemaUser + `"]}`},
		{"", "name.familyName,emails.type,title", `{"emails":[{"primary":true,"value":"ada@example.com"}],"id":"1","meta":{"resourceType":"User"},"name":{"formatted":"Ada Lovelace","givenName":"Ada"},"schemas":["` + schemaUser + `"],"userName":"ada@example.com"}`},
		{"", "name,emails,id,meta", `{"id":"1","meta":{"resourceType":"User"},"schemas":["` + schemaUser + `"],"title":"Analyst","userName":"ada@example.com"}`},
	} {
		got, _ := json.Marshal(project(user(), c.attributes, c.excluded))
		if string(got) != c.want {
			t.Errorf("attributes %q, excluded %q:\n got %s\nwant %s", c.attributes, c.excluded, got, c.want)
		}
	}
}
