package api

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPI_DescribesEveryRouteAndNoOther keeps the OpenAPI document and
// the route list in step.
func TestOpenAPI_DescribesEveryRouteAndNoOther(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	for _, rt := range routes {
		k := rt.method + " " + rt.path
		if !documented[k] {
			t.Errorf("route %s is not in openapi.json", k)
		}
		delete(documented, k)
	}
	for k := range documented {
		t.Errorf("openapi.json describes %s, which is not a route", k)
	}
}

// TestOpenAPI_ExtendedSchemasKeepTheirBasesProperties: a schema that
// extends another (Me a User, TeamRow a Member...) is written out whole, so
// that answers can be closed (additionalProperties false); a property
// added to the base must be added to each of them too.
func TestOpenAPI_ExtendedSchemasKeepTheirBasesProperties(t *testing.T) {
	type schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	s := doc.Components.Schemas
	var myAccount struct {
		Items schema `json:"items"`
	}
	if err := json.Unmarshal(s["MyAccounts"].Properties["items"], &myAccount); err != nil {
		t.Fatal(err)
	}
	extended := map[string]map[string]schema{
		"Account":       {"AccountWithActions": s["AccountWithActions"], "Client": s["Client"], "MyAccounts.items": myAccount.Items},
		"User":          {"Me": s["Me"], "InstanceUser": s["InstanceUser"], "UserDetail": s["UserDetail"]},
		"InstanceUser":  {"UserDetail": s["UserDetail"]},
		"Member":        {"TeamRow": s["TeamRow"]},
		"PrivacyPolicy": {"PrivacyPolicyVersion": s["PrivacyPolicyVersion"]},
	}
	for base, all := range extended {
		if len(s[base].Properties) == 0 {
			t.Fatalf("no schema %s", base)
		}
		for name, x := range all {
			for p := range s[base].Properties {
				if _, ok := x.Properties[p]; !ok {
					t.Errorf("%s extends %s but lacks its property %s", name, base, p)
				}
			}
		}
	}
}

// TestOpenAPI_QueryParametersAreTheDocumentsOwn: the query parameters each
// route takes are those its operation declares in: query, a $ref to
// components/parameters resolved, the path's own parameters included; an
// array is a list; a path or header parameter is no query parameter.
func TestOpenAPI_QueryParametersAreTheDocumentsOwn(t *testing.T) {
	doc := []byte(`{"paths": {"/x/{id}": {
		"parameters": [{"name": "id", "in": "path"}, {"name": "lang", "in": "query", "schema": {"type": "string"}}],
		"summary": "not an operation",
		"get": {"parameters": [{"$ref": "#/components/parameters/Cursor"}, {"name": "user", "in": "query",
			"schema": {"type": "array"}}, {"$ref": "#/components/parameters/Key"}]},
		"delete": {}}},
		"components": {"parameters": {"Cursor": {"name": "cursor", "in": "query", "schema": {"type": "string"}},
			"Key": {"name": "Idempotency-Key", "in": "header"}}}}`)
	got := mustQueryParams(doc)
	want := map[string][]queryParam{
		"GET /x/{id}":    {{name: "lang"}, {name: "cursor"}, {name: "user", list: true}},
		"DELETE /x/{id}": {{name: "lang"}},
	}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			t.Errorf("%s: %v, want %v", k, got[k], w)
		}
	}
	// The API's own: members takes its filters and the shared cursor,
	// limit and format; access-state's user is a list.
	names := func(k string) []string {
		var out []string
		for _, p := range queryParams[k] {
			out = append(out, p.name)
		}
		return out
	}
	for _, p := range []string{"status", "role", "q", "sort", "cursor", "limit", "format"} {
		if !slices.Contains(names("GET /api/v1/accounts/{account}/members"), p) {
			t.Errorf("members does not take %s: %v", p, names("GET /api/v1/accounts/{account}/members"))
		}
	}
	if qp := queryParams["GET /api/v1/accounts/{account}/access-state"]; len(qp) != 1 || qp[0] != (queryParam{name: "user", list: true}) {
		t.Errorf("access-state: %v", qp)
	}
	for _, rt := range routes {
		if _, ok := queryParams[rt.method+" "+rt.path]; !ok {
			t.Errorf("%s %s: no query parameters read from the document", rt.method, rt.path)
		}
	}
}
