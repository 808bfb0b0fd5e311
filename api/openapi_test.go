package api

import (
	"encoding/json"
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
