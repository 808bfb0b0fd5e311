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
