package scim

import (
	"cmp"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	filter "github.com/scim2/filter-parser/v2"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/team"
)

// parseFilter parses a filter (RFC 7644 §3.4.2.2). A refused one answers
// 400 invalidFilter.
func parseFilter(s string) (filter.Expression, error) {
	flat, ok := flattenValuePaths(s)
	if !ok {
		return nil, badRequest(invalidFilter, "scim.filter_invalid", map[string]any{"filter": s})
	}
	e, err := filter.ParseFilter([]byte(flat))
	if err != nil || !datesRead(e) {
		return nil, badRequest(invalidFilter, "scim.filter_invalid", map[string]any{"filter": s})
	}
	return e, nil
}

// isDateTime reports whether the path names a dateTime attribute: meta's
// created and lastModified, which compare by time (RFC 7644 3.4.2.2).
func isDateTime(p filter.AttributePath) bool {
	sub := p.SubAttributeName()
	return strings.EqualFold(p.AttributeName, "meta") &&
		(strings.EqualFold(sub, "created") || strings.EqualFold(sub, "lastModified"))
}

// dateTime reads a dateTime (RFC 3339, with or without fractions of a
// second).
func dateTime(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, unescape(s))
	return t, err == nil
}

// datesRead reports whether every comparison of a dateTime attribute in
// the filter is with a dateTime.
func datesRead(e filter.Expression) bool {
	switch e := e.(type) {
	case *filter.LogicalExpression:
		return datesRead(e.Left) && datesRead(e.Right)
	case *filter.NotExpression:
		return datesRead(e.Expression)
	case *filter.AttributeExpression:
		if isDateTime(e.AttributePath) && e.Operator != filter.PR {
			_, ok := dateTime(e.CompareValue)
			return ok
		}
	}
	return true
}

// flattenValuePaths rewrites each comparison of a value path's
// sub-attribute, emails[type eq "work"].value eq "x", as the value path it
// stands for, emails[type eq "work" and value eq "x"]: directories send the
// first (the form of a PATCH path) although the filter grammar has only the
// second, which the parser reads. It reports false for a form it cannot
// rewrite faithfully: an "or" inside the brackets, whose precedence the
// added "and" would change, or a comparison cut short.
func flattenValuePaths(s string) (string, bool) {
	var opens []int
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			i = stringEnd(s, i)
		case '[':
			opens = append(opens, i)
		case ']':
			if len(opens) == 0 {
				return s, true // the parser says what is wrong
			}
			open := opens[len(opens)-1]
			opens = opens[:len(opens)-1]
			if i+1 >= len(s) || s[i+1] != '.' {
				continue
			}
			j := i + 2
			for j < len(s) && nameChar(s[j]) {
				j++
			}
			sub := s[i+2 : j]
			k := skipSpaces(s, j)
			o := k
			for o < len(s) && nameChar(s[o]) {
				o++
			}
			op := s[k:o]
			end := o
			if !strings.EqualFold(op, "pr") {
				v := skipSpaces(s, o)
				if v >= len(s) {
					return "", false
				}
				if s[v] == '"' {
					end = stringEnd(s, v) + 1
				} else {
					end = v
					for end < len(s) && s[end] != ' ' && s[end] != ')' {
						end++
					}
				}
				if end > len(s) {
					return "", false
				}
			}
			inner := s[open+1 : i]
			if sub == "" || op == "" || hasOr(inner) {
				return "", false
			}
			return flattenValuePaths(s[:open+1] + inner + " and " + sub + " " + s[k:end] + "]" + s[end:])
		}
	}
	return s, true
}

// stringEnd returns the index of the quote that closes the string opening
// at i (len(s) when none does).
func stringEnd(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j
		}
	}
	return len(s)
}

func nameChar(b byte) bool {
	return b == '_' || b == '-' || b == '$' || b == ':' || b == '.' ||
		'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
}

func skipSpaces(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

// hasOr reports whether the filter text has an "or" outside its strings.
func hasOr(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			i = stringEnd(s, i)
			continue
		}
		if i+4 <= len(s) && strings.EqualFold(s[i:i+4], " or ") {
			return true
		}
	}
	return false
}

// attrName returns the attribute a path names, lower-cased, with the core
// schema's URN taken off: "username", "emails"; "" for an attribute of
// another schema.
func attrName(p filter.AttributePath, core string) string {
	if uri := p.URI(); uri != "" && !strings.EqualFold(uri, core) {
		return ""
	}
	return strings.ToLower(p.AttributeName)
}

// userRefs returns the members a filter on Users can only match, found
// through an index (the login email, the external ID, the ID), and false
// when it could match members no index finds: those the caller scans.
func userRefs(e filter.Expression) ([]team.UserRef, bool) {
	switch e := e.(type) {
	case *filter.AttributeExpression:
		v, ok := e.CompareValue.(string)
		if e.Operator != filter.EQ || !ok {
			return nil, false
		}
		v = unescape(v)
		sub := strings.ToLower(e.AttributePath.SubAttributeName())
		switch attrName(e.AttributePath, schemaUser) {
		case "username":
			return []team.UserRef{{Kind: team.RefEmail, Text: v}}, true
		case "externalid":
			return []team.UserRef{{Kind: team.RefExternal, Text: v}}, true
		case "id":
			id, err := equipe.ParseID(v)
			if err != nil {
				return nil, true // names nobody
			}
			return []team.UserRef{{Kind: team.RefID, ID: id}}, true
		case "emails":
			if sub == "value" || sub == "" {
				return []team.UserRef{{Kind: team.RefEmail, Text: v}}, true
			}
		}
	case *filter.ValuePath:
		if attrName(e.AttributePath, schemaUser) == "emails" {
			if v, ok := valueEq(e.ValueFilter); ok {
				return []team.UserRef{{Kind: team.RefEmail, Text: v}}, true
			}
		}
	case *filter.LogicalExpression:
		l, lok := userRefs(e.Left)
		r, rok := userRefs(e.Right)
		if e.Operator == filter.AND {
			switch {
			case lok:
				return l, true
			case rok:
				return r, true
			}
			return nil, false
		}
		if lok && rok {
			return append(l, r...), true
		}
	}
	return nil, false
}

// valueEq finds, among the terms a value filter requires (those joined by
// and), value eq "x", and returns x.
func valueEq(e filter.Expression) (string, bool) {
	switch e := e.(type) {
	case *filter.AttributeExpression:
		v, ok := e.CompareValue.(string)
		if ok && e.Operator == filter.EQ && strings.EqualFold(e.AttributePath.AttributeName, "value") &&
			e.AttributePath.SubAttribute == nil && e.AttributePath.URIPrefix == nil {
			return unescape(v), true
		}
	case *filter.LogicalExpression:
		if e.Operator == filter.AND {
			if v, ok := valueEq(e.Left); ok {
				return v, true
			}
			return valueEq(e.Right)
		}
	}
	return "", false
}

// unescape decodes the escapes of a filter's string, which the parser
// leaves as written.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var out string
	if err := json.Unmarshal([]byte(`"`+s+`"`), &out); err != nil {
		return s
	}
	return out
}

// caseExact are the attributes compared exactly; the others ignore case
// (RFC 7643's caseExact).
var caseExact = map[string]bool{"id": true, "externalid": true}

// matches reports whether the resource, as its JSON object, meets the
// filter. core is the resource's core schema URN: its attributes may be
// named with it or without.
func matches(e filter.Expression, res map[string]any, core string) bool {
	switch e := e.(type) {
	case *filter.LogicalExpression:
		if e.Operator == filter.AND {
			return matches(e.Left, res, core) && matches(e.Right, res, core)
		}
		return matches(e.Left, res, core) || matches(e.Right, res, core)
	case *filter.NotExpression:
		return !matches(e.Expression, res, core)
	case *filter.ValuePath:
		for _, el := range asList(lookup(res, e.AttributePath, core, false)) {
			if m, ok := el.(map[string]any); ok && matches(e.ValueFilter, m, "") {
				return true
			}
		}
		return false
	case *filter.AttributeExpression:
		name := strings.ToLower(e.AttributePath.AttributeName)
		exact := caseExact[name] && e.AttributePath.SubAttribute == nil
		if isDateTime(e.AttributePath) && e.Operator != filter.PR {
			return compareTimes(lookup(res, e.AttributePath, core, true), e.Operator, e.CompareValue)
		}
		for _, v := range asList(lookup(res, e.AttributePath, core, true)) {
			if compare(v, e.Operator, e.CompareValue, exact) {
				return true
			}
		}
	}
	return false
}

// lookup returns the value the path names in res: nil when absent. With
// sub, a multi-valued attribute's sub-attribute is the list of its
// elements' (emails.value); a multi-valued attribute of simple objects
// with no sub-attribute compares by their value (emails eq "x").
func lookup(res map[string]any, p filter.AttributePath, core string, sub bool) any {
	if uri := p.URI(); uri != "" && !strings.EqualFold(uri, core) {
		ext, _ := field(res, uri).(map[string]any)
		if ext == nil {
			return nil
		}
		res = ext
	}
	v := field(res, p.AttributeName)
	if !sub {
		return v
	}
	name := p.SubAttributeName()
	if name == "" {
		if list, ok := v.([]any); ok {
			var out []any
			for _, el := range list {
				if m, ok := el.(map[string]any); ok {
					out = append(out, field(m, "value"))
				} else {
					out = append(out, el)
				}
			}
			return out
		}
		return v
	}
	switch v := v.(type) {
	case map[string]any:
		return field(v, name)
	case []any:
		var out []any
		for _, el := range v {
			if m, ok := el.(map[string]any); ok {
				out = append(out, field(m, name))
			}
		}
		return out
	}
	return nil
}

// field returns the member of m named name, ignoring case (attribute
// names are case-insensitive).
func field(m map[string]any, name string) any {
	if v, ok := m[name]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// compare applies the operator to a value of the resource and the
// filter's.
func compare(have any, op filter.CompareOperator, want any, exact bool) bool {
	if op == filter.PR {
		switch h := have.(type) {
		case nil:
			return false
		case string:
			return h != ""
		case []any:
			return len(h) > 0
		}
		return true
	}
	switch h := have.(type) {
	case string:
		w, ok := want.(string)
		if !ok {
			return op == filter.NE
		}
		w = unescape(w)
		if !exact {
			h, w = strings.ToLower(h), strings.ToLower(w)
		}
		switch op {
		case filter.CO:
			return strings.Contains(h, w)
		case filter.SW:
			return strings.HasPrefix(h, w)
		case filter.EW:
			return strings.HasSuffix(h, w)
		}
		return ordered(op, cmp.Compare(h, w))
	case bool:
		w, ok := want.(bool)
		switch op {
		case filter.EQ:
			return ok && h == w
		case filter.NE:
			return !ok || h != w
		}
	case float64:
		var w float64
		switch v := want.(type) {
		case int:
			w = float64(v)
		case float64:
			w = v
		default:
			return op == filter.NE
		}
		return ordered(op, cmp.Compare(h, w))
	case nil:
		return op == filter.NE
	}
	return false
}

// compareTimes applies the operator to a dateTime of the resource and the
// filter's, by time; an absent one meets only ne. A text operator (co, sw,
// ew) compares the text as written.
func compareTimes(have any, op filter.CompareOperator, want any) bool {
	h, hok := dateTime(have)
	w, _ := dateTime(want) // parseFilter checked it
	switch {
	case op == filter.CO || op == filter.SW || op == filter.EW:
		return compare(have, op, want, true)
	case !hok:
		return op == filter.NE
	}
	return ordered(op, h.Compare(w))
}

// ordered applies a comparison operator to the result of cmp.Compare.
func ordered(op filter.CompareOperator, c int) bool {
	switch op {
	case filter.EQ:
		return c == 0
	case filter.NE:
		return c != 0
	case filter.GT:
		return c > 0
	case filter.GE:
		return c >= 0
	case filter.LT:
		return c < 0
	case filter.LE:
		return c <= 0
	}
	return false
}

// asObject is the resource as the JSON object a client reads, for filters
// and projections.
func asObject(v any) map[string]any {
	b, _ := json.Marshal(v)
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

// attrList is a query's attributes or excludedAttributes (RFC 7644
// §3.4.2.5), lower-cased: for each attribute named, the sub-attributes
// named (none: the attribute whole).
type attrList map[string]map[string]bool

// parseAttrs reads a comma-separated list of attribute paths: name or
// name.sub, a core attribute possibly with its schema's URN before it.
func parseAttrs(list string) attrList {
	out := attrList{}
	for _, a := range strings.Split(list, ",") {
		a = strings.TrimSpace(a)
		if i := strings.LastIndex(a, ":"); i >= 0 && strings.HasPrefix(strings.ToLower(a), "urn:") {
			// A core attribute named with its schema's URN.
			if base := strings.ToLower(a[:i]); base == strings.ToLower(schemaUser) || base == strings.ToLower(schemaGroup) {
				a = a[i+1:]
			}
		}
		name, sub, _ := strings.Cut(strings.ToLower(a), ".")
		if name == "" {
			continue
		}
		subs, seen := out[name]
		switch {
		case sub == "":
			out[name] = nil // whole, whatever else names a part of it
		case !seen:
			out[name] = map[string]bool{sub: true}
		case subs != nil:
			subs[sub] = true
		}
	}
	return out
}

// names reports whether the list names attribute name, whole or in part.
func (l attrList) names(name string) bool {
	_, ok := l[strings.ToLower(name)]
	return ok
}

// project keeps, of a resource's JSON object, the attributes the query's
// attributes asks for (all when empty) less those excludedAttributes
// names (RFC 7644 §3.4.2.5), whole or by sub-attribute (name.givenName,
// emails.value: of a complex attribute, or of each value of a multi-valued
// one). id, schemas and meta are always returned.
func project(res map[string]any, attributes, excluded string) map[string]any {
	keep, drop := parseAttrs(attributes), parseAttrs(excluded)
	for k, v := range res {
		lk := strings.ToLower(k)
		if lk == "id" || lk == "schemas" || lk == "meta" {
			continue
		}
		if len(keep) > 0 {
			subs, ok := keep[lk]
			if !ok {
				delete(res, k)
				continue
			}
			if subs != nil {
				v = subAttrs(v, func(sub string) bool { return subs[sub] })
			}
		}
		if subs, ok := drop[lk]; ok {
			if subs == nil {
				delete(res, k)
				continue
			}
			v = subAttrs(v, func(sub string) bool { return !subs[sub] })
		}
		res[k] = v
	}
	return res
}

// subAttrs keeps of a complex value, or of each value of a multi-valued
// one, the sub-attributes keep says to keep.
func subAttrs(v any, keep func(sub string) bool) any {
	only := func(m map[string]any) map[string]any {
		out := map[string]any{}
		for k, x := range m {
			if keep(strings.ToLower(k)) {
				out[k] = x
			}
		}
		return out
	}
	switch v := v.(type) {
	case map[string]any:
		return only(v)
	case []any:
		out := make([]any, 0, len(v))
		for _, el := range v {
			if m, ok := el.(map[string]any); ok {
				el = only(m)
			}
			out = append(out, el)
		}
		return out
	}
	return v
}
