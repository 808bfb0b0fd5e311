package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
)

// The API reference (GET /docs/api) is the OpenAPI document the API serves,
// rendered on the server into one readable page: no script, nothing from
// another site, so that it keeps to the pages' Content-Security-Policy and
// works wherever equipe does. The document is read once, when the pages
// are built; a document the page cannot read stops the service from
// starting, like a template that does not parse.

// apiReference is the page's data.
type apiReference struct {
	Title, Version, Description string
	Groups                      []apiGroup
	Schemas                     []apiSchema
}

// apiGroup is the operations of one tag, in the document's order.
type apiGroup struct {
	Name, ID, Description string
	Operations            []apiOperation
}

type apiOperation struct {
	ID, Method, Path, Summary, Description string
	// Public: the operation takes no credentials.
	Public     bool
	Parameters []apiParameter
	Body       []apiContent
	Responses  []apiResponse
}

type apiParameter struct {
	Name, In, Description string
	Type                  apiType
	Required              bool
}

type apiContent struct {
	MediaType string
	Type      apiType
}

type apiResponse struct {
	Status, Description string
	Headers             []apiParameter
	Contents            []apiContent
}

// apiType says a schema in a few words; Ref names the component schema it
// is (or holds), which the page links to.
type apiType struct {
	Text, Ref string
}

type apiSchema struct {
	Name, Description string
	Type              apiType
	Fields            []apiField
}

// apiField is a property of an object schema; those of objects nested
// inline are listed too, with a dotted name.
type apiField struct {
	Name, Description, Values, Example string
	Type                               apiType
	Required                           bool
}

// schemaJSON is the part of a JSON Schema the page shows.
type schemaJSON struct {
	Ref                  string            `json:"$ref"`
	Type                 json.RawMessage   `json:"type"`
	Format               string            `json:"format"`
	Description          string            `json:"description"`
	Properties           orderedSchemas    `json:"properties"`
	Required             []string          `json:"required"`
	Items                *schemaJSON       `json:"items"`
	AdditionalProperties json.RawMessage   `json:"additionalProperties"`
	Enum                 []any             `json:"enum"`
	Const                any               `json:"const"`
	OneOf                []*schemaJSON     `json:"oneOf"`
	AnyOf                []*schemaJSON     `json:"anyOf"`
	AllOf                []*schemaJSON     `json:"allOf"`
	Examples             []json.RawMessage `json:"examples"`
	Example              json.RawMessage   `json:"example"`
	Minimum              *float64          `json:"minimum"`
	Maximum              *float64          `json:"maximum"`
	MinLength            *int              `json:"minLength"`
	MaxLength            *int              `json:"maxLength"`
	Pattern              string            `json:"pattern"`
}

// orderedSchemas keeps the properties in the document's order.
type orderedSchemas struct {
	names   []string
	schemas map[string]*schemaJSON
}

func (o *orderedSchemas) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &o.schemas); err != nil {
		return err
	}
	names, err := objectKeys(b)
	o.names = names
	return err
}

// objectKeys returns the member names of the JSON object b, in order.
func objectKeys(b []byte) ([]string, error) {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var names []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		names = append(names, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return names, nil
}

type parameterJSON struct {
	Ref         string      `json:"$ref"`
	Name        string      `json:"name"`
	In          string      `json:"in"`
	Description string      `json:"description"`
	Required    bool        `json:"required"`
	Schema      *schemaJSON `json:"schema"`
}

type mediaJSON struct {
	Schema *schemaJSON `json:"schema"`
}

type responseJSON struct {
	Ref         string                    `json:"$ref"`
	Description string                    `json:"description"`
	Headers     map[string]*parameterJSON `json:"headers"`
	Content     map[string]mediaJSON      `json:"content"`
}

type operationJSON struct {
	OperationID string           `json:"operationId"`
	Summary     string           `json:"summary"`
	Description string           `json:"description"`
	Tags        []string         `json:"tags"`
	Security    *json.RawMessage `json:"security"`
	Parameters  []parameterJSON  `json:"parameters"`
	RequestBody *struct {
		Content map[string]mediaJSON `json:"content"`
	} `json:"requestBody"`
	Responses map[string]responseJSON `json:"responses"`
}

type documentJSON struct {
	Info struct {
		Title, Version, Description string
	} `json:"info"`
	Tags []struct {
		Name, Description string
	} `json:"tags"`
	Paths      json.RawMessage `json:"paths"`
	Components struct {
		Schemas    json.RawMessage           `json:"schemas"`
		Parameters map[string]parameterJSON  `json:"parameters"`
		Responses  map[string]responseJSON   `json:"responses"`
		Headers    map[string]*parameterJSON `json:"headers"`
	} `json:"components"`
}

// methods are the operations of a path item, in the order shown.
var methods = []string{"get", "post", "put", "patch", "delete"}

// readAPIReference turns an OpenAPI document into the page's data.
func readAPIReference(raw []byte) (*apiReference, error) {
	var doc documentJSON
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("web: the OpenAPI document: %w", err)
	}
	ref := &apiReference{Title: doc.Info.Title, Version: doc.Info.Version, Description: doc.Info.Description}
	groups := map[string]*apiGroup{}
	for _, t := range doc.Tags {
		ref.Groups = append(ref.Groups, apiGroup{Name: t.Name, ID: "tag-" + anchor(t.Name), Description: t.Description})
	}
	for i := range ref.Groups {
		groups[ref.Groups[i].Name] = &ref.Groups[i]
	}
	var paths map[string]map[string]json.RawMessage
	if err := json.Unmarshal(doc.Paths, &paths); err != nil {
		return nil, fmt.Errorf("web: the OpenAPI document's paths: %w", err)
	}
	pathNames, err := objectKeys(doc.Paths)
	if err != nil {
		return nil, err
	}
	for _, path := range pathNames {
		for _, m := range methods {
			rawOp, ok := paths[path][m]
			if !ok {
				continue
			}
			var op operationJSON
			if err := json.Unmarshal(rawOp, &op); err != nil {
				return nil, fmt.Errorf("web: the OpenAPI document, %s %s: %w", m, path, err)
			}
			o, err := readOperation(&doc, m, path, op)
			if err != nil {
				return nil, err
			}
			tag := "Other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			g := groups[tag]
			if g == nil {
				ref.Groups = append(ref.Groups, apiGroup{Name: tag, ID: "tag-" + anchor(tag)})
				// The slice may have moved: index the groups again.
				for i := range ref.Groups {
					groups[ref.Groups[i].Name] = &ref.Groups[i]
				}
				g = groups[tag]
			}
			g.Operations = append(g.Operations, o)
		}
	}
	ref.Groups = slices.DeleteFunc(ref.Groups, func(g apiGroup) bool { return len(g.Operations) == 0 })
	var schemas orderedSchemas
	if len(doc.Components.Schemas) > 0 {
		if err := json.Unmarshal(doc.Components.Schemas, &schemas); err != nil {
			return nil, fmt.Errorf("web: the OpenAPI document's schemas: %w", err)
		}
	}
	for _, name := range schemas.names {
		s := schemas.schemas[name]
		as := apiSchema{Name: name, Description: s.Description, Type: typeOf(s)}
		as.Fields = fields("", s)
		ref.Schemas = append(ref.Schemas, as)
	}
	return ref, nil
}

func readOperation(doc *documentJSON, method, path string, op operationJSON) (apiOperation, error) {
	o := apiOperation{ID: op.OperationID, Method: strings.ToUpper(method), Path: path, Summary: op.Summary,
		Description: op.Description}
	if o.ID == "" {
		o.ID = anchor(method + path)
	}
	o.Public = op.Security != nil && strings.TrimSpace(string(*op.Security)) == "[]"
	for _, p := range op.Parameters {
		if p.Ref != "" {
			shared, ok := doc.Components.Parameters[refName(p.Ref)]
			if !ok {
				return o, fmt.Errorf("web: the OpenAPI document, %s %s: no parameter %s", method, path, p.Ref)
			}
			if p.Description != "" {
				shared.Description = p.Description
			}
			p = shared
		}
		o.Parameters = append(o.Parameters, apiParameter{Name: p.Name, In: p.In, Description: p.Description,
			Required: p.Required, Type: typeOf(p.Schema)})
	}
	if op.RequestBody != nil {
		o.Body = contents(op.RequestBody.Content)
	}
	statuses := make([]string, 0, len(op.Responses))
	for st := range op.Responses {
		statuses = append(statuses, st)
	}
	sort.Strings(statuses)
	for _, st := range statuses {
		r := op.Responses[st]
		if r.Ref != "" {
			shared, ok := doc.Components.Responses[refName(r.Ref)]
			if !ok {
				return o, fmt.Errorf("web: the OpenAPI document, %s %s: no response %s", method, path, r.Ref)
			}
			r = shared
		}
		ar := apiResponse{Status: st, Description: r.Description, Contents: contents(r.Content)}
		names := make([]string, 0, len(r.Headers))
		for n := range r.Headers {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			h := r.Headers[n]
			if h.Ref != "" {
				if shared, ok := doc.Components.Headers[refName(h.Ref)]; ok {
					h = shared
				}
			}
			ar.Headers = append(ar.Headers, apiParameter{Name: n, Description: h.Description, Required: h.Required,
				Type: typeOf(h.Schema)})
		}
		o.Responses = append(o.Responses, ar)
	}
	return o, nil
}

func contents(c map[string]mediaJSON) []apiContent {
	var out []apiContent
	for mt, m := range c {
		out = append(out, apiContent{MediaType: mt, Type: typeOf(m.Schema)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].MediaType < out[j].MediaType })
	return out
}

// fields lists the properties of s, and those of the objects it holds
// inline, under prefix.
func fields(prefix string, s *schemaJSON) []apiField {
	if s == nil {
		return nil
	}
	var out []apiField
	for _, name := range s.Properties.names {
		p := s.Properties.schemas[name]
		f := apiField{Name: prefix + name, Description: p.Description, Type: typeOf(p),
			Required: slices.Contains(s.Required, name), Values: values(p), Example: example(p)}
		out = append(out, f)
		if p.Ref == "" && len(p.Properties.names) > 0 {
			out = append(out, fields(prefix+name+".", p)...)
		}
		if p.Items != nil && p.Items.Ref == "" && len(p.Items.Properties.names) > 0 {
			out = append(out, fields(prefix+name+"[].", p.Items)...)
		}
	}
	return out
}

// typeOf says a schema in a few words: "string (uuid) or null", "array of
// Member", "map of string".
func typeOf(s *schemaJSON) apiType {
	if s == nil {
		return apiType{Text: "any"}
	}
	if s.Ref != "" {
		n := refName(s.Ref)
		return apiType{Text: n, Ref: n}
	}
	var types []string
	if len(s.Type) > 0 {
		var one string
		if json.Unmarshal(s.Type, &one) == nil {
			types = []string{one}
		} else {
			json.Unmarshal(s.Type, &types)
		}
	}
	nullable := slices.Contains(types, "null")
	types = slices.DeleteFunc(types, func(t string) bool { return t == "null" })
	var t apiType
	switch {
	case len(s.OneOf) > 0 || len(s.AnyOf) > 0:
		alts := append(append([]*schemaJSON{}, s.OneOf...), s.AnyOf...)
		var texts []string
		for _, a := range alts {
			at := typeOf(a)
			texts = append(texts, at.Text)
			if t.Ref == "" {
				t.Ref = at.Ref
			}
		}
		t.Text = strings.Join(texts, " | ")
	case len(s.AllOf) == 1:
		t = typeOf(s.AllOf[0])
	case len(types) == 1 && types[0] == "array":
		it := typeOf(s.Items)
		t = apiType{Text: "array of " + it.Text, Ref: it.Ref}
	case len(types) == 1 && types[0] == "object" && len(s.Properties.names) == 0 && len(s.AdditionalProperties) > 0 &&
		string(s.AdditionalProperties) != "false" && string(s.AdditionalProperties) != "true":
		var v schemaJSON
		json.Unmarshal(s.AdditionalProperties, &v)
		vt := typeOf(&v)
		t = apiType{Text: "map of " + vt.Text, Ref: vt.Ref}
	case len(types) > 0:
		t.Text = strings.Join(types, " | ")
		if s.Format != "" {
			t.Text += " (" + s.Format + ")"
		}
	case s.Const != nil:
		b, _ := json.Marshal(s.Const)
		t.Text = string(b)
	default:
		t.Text = "any"
	}
	if nullable {
		t.Text += " | null"
	}
	return t
}

// values says the values a schema allows beyond its type.
func values(s *schemaJSON) string {
	var parts []string
	if len(s.Enum) > 0 {
		var vs []string
		for _, v := range s.Enum {
			b, _ := json.Marshal(v)
			vs = append(vs, string(b))
		}
		parts = append(parts, strings.Join(vs, ", "))
	}
	if s.Const != nil {
		b, _ := json.Marshal(s.Const)
		parts = append(parts, "= "+string(b))
	}
	if s.MinLength != nil || s.MaxLength != nil {
		parts = append(parts, bounds("length", intPtr(s.MinLength), intPtr(s.MaxLength)))
	}
	if s.Minimum != nil || s.Maximum != nil {
		parts = append(parts, bounds("", s.Minimum, s.Maximum))
	}
	if s.Pattern != "" {
		parts = append(parts, "/"+s.Pattern+"/")
	}
	return strings.Join(parts, "; ")
}

func intPtr(n *int) *float64 {
	if n == nil {
		return nil
	}
	f := float64(*n)
	return &f
}

func bounds(what string, lo, hi *float64) string {
	s := what
	if s != "" {
		s += " "
	}
	switch {
	case lo != nil && hi != nil:
		return fmt.Sprintf("%s%g–%g", s, *lo, *hi)
	case lo != nil:
		return fmt.Sprintf("%s≥ %g", s, *lo)
	default:
		return fmt.Sprintf("%s≤ %g", s, *hi)
	}
}

func example(s *schemaJSON) string {
	if len(s.Examples) > 0 {
		return string(s.Examples[0])
	}
	return string(s.Example)
}

func refName(ref string) string { return ref[strings.LastIndexByte(ref, '/')+1:] }

// anchor makes a fragment identifier of s.
func anchor(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// apiReferencePage shows the API reference.
func (w *Web) apiReferencePage(rw http.ResponseWriter, r *http.Request) error {
	ref, err := w.apiReference()
	if err != nil {
		return err
	}
	p := w.page(r, "apiref.title")
	p.Data = ref
	return w.render(rw, r, http.StatusOK, "api_reference", p)
}

// brandedRef is the API reference of one brand's name and key prefix.
type brandedRef struct {
	name, keyPrefix string
	ref             *apiReference
}

// apiReference is the reference of the brand in force (APIDocumentOf), or
// of APIDocument.
func (w *Web) apiReference() (*apiReference, error) {
	b := w.Brand.Load()
	if c := w.brandRef.Load(); c != nil && c.name == b.Name && c.keyPrefix == b.KeyPrefix {
		return c.ref, nil
	}
	doc := w.APIDocument
	if w.APIDocumentOf != nil {
		doc = w.APIDocumentOf(b)
	}
	ref, err := readAPIReference(doc)
	if err != nil {
		return nil, err
	}
	w.brandRef.Store(&brandedRef{name: b.Name, keyPrefix: b.KeyPrefix, ref: ref})
	return ref, nil
}
