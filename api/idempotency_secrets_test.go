package api

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestIdempotency_RoutesWithSecretsRefuseKeys walks the served OpenAPI
// document: a POST route of a caller whose success answer holds a secret
// shown once, or whose body carries a password or a one-time code, must
// refuse an Idempotency-Key, or its answer (or a fingerprint of the
// password) would be kept for a day. A route added later with such an
// answer fails here until it joins notIdempotent.
func TestIdempotency_RoutesWithSecretsRefuseKeys(t *testing.T) {
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	// names collects every property name a schema holds, following
	// references and nested objects and arrays.
	var names func(raw json.RawMessage, seen map[string]bool, into map[string]bool)
	names = func(raw json.RawMessage, seen map[string]bool, into map[string]bool) {
		var s struct {
			Ref        string                     `json:"$ref"`
			Properties map[string]json.RawMessage `json:"properties"`
			Items      json.RawMessage            `json:"items"`
			AllOf      []json.RawMessage          `json:"allOf"`
			OneOf      []json.RawMessage          `json:"oneOf"`
			AnyOf      []json.RawMessage          `json:"anyOf"`
		}
		if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
			return
		}
		if s.Ref != "" {
			name := s.Ref[strings.LastIndex(s.Ref, "/")+1:]
			if !seen[name] {
				seen[name] = true
				names(doc.Components.Schemas[name], seen, into)
			}
			return
		}
		for k, v := range s.Properties {
			into[k] = true
			names(v, seen, into)
		}
		names(s.Items, seen, into)
		for _, list := range [][]json.RawMessage{s.AllOf, s.OneOf, s.AnyOf} {
			for _, v := range list {
				names(v, seen, into)
			}
		}
	}
	type content map[string]struct {
		Schema json.RawMessage `json:"schema"`
	}
	var post struct {
		RequestBody struct {
			Content content `json:"content"`
		} `json:"requestBody"`
		Responses map[string]struct {
			Content content `json:"content"`
		} `json:"responses"`
	}
	secretAnswer := []string{"secret", "token", "recovery_codes", "otpauth_url"}
	checked := 0
	for _, rt := range routes {
		if rt.method != "POST" || rt.access == public {
			continue
		}
		op, ok := doc.Paths[rt.path]["post"]
		if !ok {
			t.Errorf("POST %s is not in the OpenAPI document", rt.path)
			continue
		}
		post.RequestBody.Content, post.Responses = nil, nil
		if err := json.Unmarshal(op, &post); err != nil {
			t.Fatalf("POST %s: %v", rt.path, err)
		}
		answer, body := map[string]bool{}, map[string]bool{}
		for status, r := range post.Responses {
			if strings.HasPrefix(status, "2") {
				for _, c := range r.Content {
					names(c.Schema, map[string]bool{}, answer)
				}
			}
		}
		for _, c := range post.RequestBody.Content {
			names(c.Schema, map[string]bool{}, body)
		}
		var why []string
		for _, n := range secretAnswer {
			if answer[n] {
				why = append(why, "answers "+n)
			}
		}
		for n := range body {
			if strings.Contains(n, "password") || n == "code" {
				why = append(why, "takes "+n)
			}
		}
		if len(why) == 0 {
			continue
		}
		checked++
		if idempotencyRefusal(rt) == "" {
			t.Errorf("POST %s %s but takes an Idempotency-Key: add it to notIdempotent", rt.path, strings.Join(why, ", "))
		}
	}
	if checked < 8 {
		t.Errorf("only %d routes with secrets found: the walk of the document is broken", checked)
	}
}
