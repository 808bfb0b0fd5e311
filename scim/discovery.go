package scim

import (
	"net/http"
	"strings"
)

// The discovery endpoints (RFC 7644 §4) describe the service, the same for
// every account.

func (s *Service) serviceProviderConfig(w http.ResponseWriter, r *http.Request) {
	supported := func(ok bool) map[string]any { return map[string]any{"supported": ok} }
	write(w, http.StatusOK, map[string]any{
		"schemas":        []string{schemaConfig},
		"patch":          supported(true),
		"bulk":           map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":         map[string]any{"supported": true, "maxResults": maxCount},
		"changePassword": supported(false),
		"sort":           supported(false),
		"etag":           supported(false),
		"authenticationSchemes": []map[string]any{{
			"type": "oauthbearertoken", "name": "API key",
			"description": "An account API key made for SCIM, sent as a bearer token.",
			"primary":     true,
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": s.Base + Prefix + "/ServiceProviderConfig"},
	})
}

// resourceTypeList are the two resource types.
func (s *Service) resourceTypeList() []map[string]any {
	rt := func(id, endpoint, schema, desc string) map[string]any {
		return map[string]any{"schemas": []string{schemaType}, "id": id, "name": id, "endpoint": endpoint,
			"description": desc, "schema": schema,
			"meta": map[string]any{"resourceType": "ResourceType", "location": s.Base + Prefix + "/ResourceTypes/" + id}}
	}
	return []map[string]any{
		rt("User", "/Users", schemaUser, "A member of the account."),
		rt("Group", "/Groups", schemaGroup, "A role of the account; its members hold it."),
	}
}

func (s *Service) resourceTypes(w http.ResponseWriter, r *http.Request) {
	writeList(w, s.resourceTypeList())
}

func (s *Service) resourceType(w http.ResponseWriter, r *http.Request) {
	for _, t := range s.resourceTypeList() {
		if t["id"] == r.PathValue("id") {
			write(w, http.StatusOK, t)
			return
		}
	}
	s.fail(w, r, &scimError{status: http.StatusNotFound, key: "error.not_found"})
}

// attr describes an attribute for the Schemas endpoint.
func attr(name, typ, mutability string, required, caseExact bool, sub ...map[string]any) map[string]any {
	a := map[string]any{"name": name, "type": typ, "multiValued": false, "required": required, "caseExact": caseExact,
		"mutability": mutability, "returned": "default", "uniqueness": "none"}
	if len(sub) > 0 {
		a["subAttributes"] = sub
	}
	return a
}

func multi(a map[string]any) map[string]any {
	a["multiValued"] = true
	return a
}

// schemaList describes the attributes the service keeps; a directory's
// others are accepted and ignored (docs/scim.md).
func (s *Service) schemaList() []map[string]any {
	userName := attr("userName", "string", "immutable", true, false)
	userName["uniqueness"] = "server"
	externalID := attr("externalId", "string", "readWrite", false, true)
	externalID["uniqueness"] = "server"
	user := []map[string]any{
		attr("id", "string", "readOnly", false, true),
		userName,
		externalID,
		attr("name", "complex", "immutable", false, false,
			attr("givenName", "string", "immutable", false, false),
			attr("familyName", "string", "immutable", false, false),
			attr("formatted", "string", "readOnly", false, false)),
		attr("displayName", "string", "readOnly", false, false),
		attr("title", "string", "readWrite", false, false),
		attr("active", "boolean", "readWrite", false, false),
		// The login email, which userName sets: what a directory sends
		// here is ignored (RFC 7643 §2.2, readOnly).
		multi(attr("emails", "complex", "readOnly", false, false,
			attr("value", "string", "readOnly", false, false),
			attr("type", "string", "readOnly", false, false),
			attr("primary", "boolean", "readOnly", false, false))),
		multi(attr("groups", "complex", "readOnly", false, false,
			attr("value", "string", "readOnly", false, true),
			attr("$ref", "reference", "readOnly", false, true),
			attr("display", "string", "readOnly", false, false))),
	}
	group := []map[string]any{
		attr("id", "string", "readOnly", false, true),
		attr("displayName", "string", "immutable", true, false),
		multi(attr("members", "complex", "readWrite", false, false,
			attr("value", "string", "readWrite", false, true),
			attr("$ref", "reference", "readOnly", false, true),
			attr("type", "string", "readOnly", false, false))),
	}
	sc := func(id, name, desc string, attrs []map[string]any) map[string]any {
		return map[string]any{"schemas": []string{schemaSchema}, "id": id, "name": name, "description": desc, "attributes": attrs,
			"meta": map[string]any{"resourceType": "Schema", "location": s.Base + Prefix + "/Schemas/" + id}}
	}
	return []map[string]any{
		sc(schemaUser, "User", "A member of the account.", user),
		sc(schemaGroup, "Group", "A role of the account.", group),
	}
}

func (s *Service) schemas(w http.ResponseWriter, r *http.Request) {
	writeList(w, s.schemaList())
}

func (s *Service) schema(w http.ResponseWriter, r *http.Request) {
	for _, sc := range s.schemaList() {
		if strings.EqualFold(sc["id"].(string), r.PathValue("id")) {
			write(w, http.StatusOK, sc)
			return
		}
	}
	s.fail(w, r, &scimError{status: http.StatusNotFound, key: "error.not_found"})
}

// writeList answers items whole as a list response.
func writeList(w http.ResponseWriter, items []map[string]any) {
	res := make([]any, len(items))
	for i, it := range items {
		res[i] = it
	}
	write(w, http.StatusOK, listResponse{Schemas: []string{schemaList}, TotalResults: len(items), StartIndex: 1,
		ItemsPerPage: len(items), Resources: res})
}
