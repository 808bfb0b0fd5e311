package access

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/equipe-dev/equipe"
	"go.yaml.in/yaml/v3"
)

// FormatVersion is the version of the catalogue format this package reads;
// a catalogue states it in its "version" field.
const FormatVersion = 1

// Length limits of a catalogue's texts, in bytes. They keep a catalogue's
// texts fit for a form's label or a help text, and its memory bounded.
const (
	MaxLabelLength       = 200
	MaxDescriptionLength = 2000
)

// ParseError is a catalogue that cannot be used. It names the file, the line
// (0 when the fault is the file as a whole) and, when there is one, the kind
// and key of the entry at fault.
type ParseError struct {
	File   string
	Line   int
	Entity string // "permission", "role", "resource type", "job title", "group"; or ""
	Key    string // the entry's key, or ""
	Msg    string
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("catalogue ")
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Entity != "" {
		b.WriteString(e.Entity)
		if e.Key != "" {
			b.WriteString(" ")
			b.WriteString(strconv.Quote(e.Key))
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Parse parses and validates the catalogue in data; name is the file's name
// for error messages. Parsing is strict, so that a mistake stops start-up
// instead of silently granting or denying: unknown fields, duplicate keys,
// references to undeclared permissions, groups or scopes, missing labels,
// malformed keys and a missing admin role are all errors (*ParseError).
func Parse(name string, data []byte) (*Catalogue, error) {
	p := &parser{file: name}
	return p.parse(data)
}

type parser struct {
	file        string
	actionNodes []actionNode
}

func (p *parser) fail(n *yaml.Node, entity, key, format string, args ...any) *ParseError {
	e := &ParseError{File: p.file, Entity: entity, Key: key, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line = n.Line
	}
	return e
}

// yamlLine finds the line in the text of a yaml.v3 syntax error, which
// carries it only as text ("yaml: line 3: …").
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are the problems yaml.v3's parser (not its scanner)
// reports. For those it counts lines from 0 where the scanner counts from 1
// (decode.go, parser.fail), so their line is one short.
var parserProblems = []string{
	"did not find expected <stream-start>",
	"did not find expected <document start>",
	"did not find expected node content",
	"did not find expected '-' indicator",
	"did not find expected key",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"found undefined tag handle",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found duplicate %TAG directive",
}

func (p *parser) syntax(err error) *ParseError {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if slices.Contains(parserProblems, m[2]) {
			line++
		}
		return &ParseError{File: p.file, Line: line, Msg: "invalid YAML: " + m[2]}
	}
	return &ParseError{File: p.file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// deref follows aliases (*name) to the node they name, so vendors may share
// a block with an anchor (&name).
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// mapping is a YAML mapping read strictly: keys are texts, appear once and
// are among the allowed ones.
type mapping struct {
	node *yaml.Node
	keys map[string]*yaml.Node
	vals map[string]*yaml.Node
}

func (m mapping) has(field string) bool { return m.vals[field] != nil }

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "empty"
		}
		return "a single value"
	}
	return "something else"
}

// keyOf returns the text of the "key" field of the mapping n, if any, so
// that an error found before the key is read still names the entry.
func keyOf(n *yaml.Node) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k, v := deref(n.Content[i]), deref(n.Content[i+1]); k.Value == "key" && v.Kind == yaml.ScalarNode {
			return strings.TrimSpace(v.Value)
		}
	}
	return ""
}

func (p *parser) mapping(n *yaml.Node, entity, key, what string, allowed ...string) (mapping, error) {
	n = deref(n)
	if key == "" && entity != "" && n.Kind == yaml.MappingNode {
		key = keyOf(n)
	}
	if n.Kind != yaml.MappingNode {
		return mapping{}, p.fail(n, entity, key, "%s must be a mapping (field: value), found %s", what, kindName(n))
	}
	m := mapping{node: n, keys: map[string]*yaml.Node{}, vals: map[string]*yaml.Node{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k.ShortTag() == "!!merge" {
			return mapping{}, p.fail(k, entity, key, "%s: merge keys (<<) are not supported; repeat the fields, or alias a whole value", what)
		}
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			return mapping{}, p.fail(k, entity, key, "%s: field names must be texts", what)
		}
		if first, dup := m.keys[k.Value]; dup {
			return mapping{}, p.fail(k, entity, key, "field %q is given twice in %s (first at line %d)", k.Value, what, first.Line)
		}
		if !slices.Contains(allowed, k.Value) {
			return mapping{}, p.fail(k, entity, key, "unknown field %q in %s (expected one of: %s)", k.Value, what, strings.Join(allowed, ", "))
		}
		m.keys[k.Value] = k
		m.vals[k.Value] = v
	}
	return m, nil
}

func (p *parser) list(n *yaml.Node, field string) ([]*yaml.Node, error) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		return nil, p.fail(n, "", "", "%q must be a list, found %s", field, kindName(n))
	}
	return n.Content, nil
}

func (p *parser) text(n *yaml.Node, entity, key, field string) (string, error) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return "", p.fail(n, entity, key, "%s must be a text, found %s", field, kindName(n))
	}
	if n.ShortTag() != "!!str" {
		return "", p.fail(n, entity, key, "%s must be a text, found %q (quote it to make it one)", field, n.Value)
	}
	return strings.TrimSpace(n.Value), nil
}

func (p *parser) boolean(n *yaml.Node, entity, key, field string) (bool, error) {
	n = deref(n)
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		return false, p.fail(n, entity, key, "%s must be true or false", field)
	}
	return b, nil
}

func (p *parser) key(m mapping, entity string) (string, error) {
	kn, ok := m.vals["key"]
	if !ok {
		return "", p.fail(m.node, entity, "", "a %s needs a key", entity)
	}
	k, err := p.text(kn, entity, "", "key")
	if err != nil {
		return "", err
	}
	if !ValidKey(k) {
		return "", p.fail(kn, entity, k, "invalid key: a key is at most %d characters of lower-case letters, digits and underscores, in words separated by dots, each word starting with a letter (for example members.manage)", MaxKeyLength)
	}
	return k, nil
}

// label reads a Label: both languages are required, so no page or email ever
// shows an empty text.
func (p *parser) label(m mapping, entity, key, field string, required bool, max int) (Label, error) {
	n, ok := m.vals[field]
	if !ok {
		if required {
			return Label{}, p.fail(m.node, entity, key, "%s is missing (give it in fr and en)", field)
		}
		return Label{}, nil
	}
	lm, err := p.mapping(n, entity, key, field, "fr", "en")
	if err != nil {
		return Label{}, err
	}
	var l Label
	for _, lang := range []string{"fr", "en"} {
		v, ok := lm.vals[lang]
		if !ok {
			return Label{}, p.fail(lm.node, entity, key, "%s has no %q text", field, lang)
		}
		s, err := p.text(v, entity, key, field+"."+lang)
		if err != nil {
			return Label{}, err
		}
		if s == "" {
			return Label{}, p.fail(v, entity, key, "%s.%s is empty", field, lang)
		}
		if len(s) > max {
			return Label{}, p.fail(v, entity, key, "%s.%s is longer than %d bytes", field, lang, max)
		}
		if lang == "fr" {
			l.FR = s
		} else {
			l.EN = s
		}
	}
	return l, nil
}

// seen tracks the keys of one section, to refuse a key declared twice.
type seen map[string]*yaml.Node

func (p *parser) once(s seen, n *yaml.Node, entity, key string) error {
	if first, dup := s[key]; dup {
		return p.fail(n, entity, key, "declared twice (first at line %d)", first.Line)
	}
	s[key] = n
	return nil
}

func (p *parser) parse(data []byte) (*Catalogue, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &ParseError{File: p.file, Msg: "the file is empty"}
		}
		return nil, p.syntax(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, p.fail(&extra, "", "", "the file holds more than one YAML document")
	} else if !errors.Is(err, io.EOF) {
		return nil, p.syntax(err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, &ParseError{File: p.file, Msg: "the file is empty"}
	}
	top, err := p.mapping(doc.Content[0], "", "", "the catalogue",
		"version", "groups", "permissions", "resource_types", "roles", "job_titles")
	if err != nil {
		return nil, err
	}
	for _, f := range []string{"version", "permissions", "roles"} {
		if !top.has(f) {
			return nil, p.fail(top.node, "", "", "the catalogue has no %q", f)
		}
	}
	if v := deref(top.vals["version"]); v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" || v.Value != strconv.Itoa(FormatVersion) {
		return nil, p.fail(v, "", "", "version must be %d (the catalogue format this release reads), found %q", FormatVersion, v.Value)
	}

	c := &Catalogue{
		perms: map[string]int{}, actions: map[string]int{},
		groups:   map[string]int{},
		types:    map[string]int{},
		roles:    map[string]int{},
		titles:   map[string]int{},
		interned: newProfiles(),
	}
	if err := p.groups(c, top); err != nil {
		return nil, err
	}
	if err := p.permissions(c, top); err != nil {
		return nil, err
	}
	if err := p.resourceTypes(c, top); err != nil {
		return nil, err
	}
	if err := p.roleList(c, top); err != nil {
		return nil, err
	}
	if err := p.jobTitles(c, top); err != nil {
		return nil, err
	}
	return c, nil
}

func (p *parser) groups(c *Catalogue, top mapping) error {
	if !top.has("groups") {
		return nil
	}
	items, err := p.list(top.vals["groups"], "groups")
	if err != nil {
		return err
	}
	keys := seen{}
	for _, n := range items {
		m, err := p.mapping(n, "group", "", "a group", "key", "label")
		if err != nil {
			return err
		}
		k, err := p.key(m, "group")
		if err != nil {
			return err
		}
		if err := p.once(keys, m.keys["key"], "group", k); err != nil {
			return err
		}
		g := Group{Key: k}
		if g.Label, err = p.label(m, "group", k, "label", true, MaxLabelLength); err != nil {
			return err
		}
		c.groups[k] = len(c.Groups)
		c.Groups = append(c.Groups, g)
	}
	return nil
}

// actions reads a permission's action names: the names a caller of the
// AuthZEN API may give for it (such as can_read), each unique in the
// catalogue and none another permission's key.
func (p *parser) actions(c *Catalogue, m mapping, perm *Permission) error {
	const entity = "permission"
	an, ok := m.vals["actions"]
	if !ok {
		return nil
	}
	items, err := p.list(an, "actions")
	if err != nil {
		return err
	}
	for _, n := range items {
		name, err := p.text(n, entity, perm.Key, "actions")
		if err != nil {
			return err
		}
		if !ValidActionName(name) {
			return p.fail(n, entity, perm.Key, "action %q must be 1 to %d letters, digits, '_', '-', '.' or ':'", name, MaxKeyLength)
		}
		if other, taken := c.actions[name]; taken {
			owner := perm.Key
			if other < len(c.Permissions) {
				owner = c.Permissions[other].Key
			}
			return p.fail(n, entity, perm.Key, "action %q is already the name of %s", name, owner)
		}
		c.actions[name] = perm.Index
		p.actionNodes = append(p.actionNodes, actionNode{n, name, perm.Key})
		perm.Actions = append(perm.Actions, name)
	}
	return nil
}

func (p *parser) permissions(c *Catalogue, top mapping) error {
	const entity = "permission"
	items, err := p.list(top.vals["permissions"], "permissions")
	if err != nil {
		return err
	}
	keys := seen{}
	for _, n := range items {
		m, err := p.mapping(n, entity, "", "a permission", "key", "group", "label", "description", "scopes", "default_scope",
			"actions")
		if err != nil {
			return err
		}
		k, err := p.key(m, entity)
		if err != nil {
			return err
		}
		if err := p.once(keys, m.keys["key"], entity, k); err != nil {
			return err
		}
		if len(c.Permissions) == MaxPermissions {
			return p.fail(m.node, entity, k, "the catalogue declares more than %d permissions", MaxPermissions)
		}
		perm := Permission{Key: k, Index: len(c.Permissions)}
		if gn, ok := m.vals["group"]; ok {
			if perm.Group, err = p.text(gn, entity, k, "group"); err != nil {
				return err
			}
			if _, ok := c.groups[perm.Group]; !ok {
				return p.fail(gn, entity, k, "group %q is not declared under groups", perm.Group)
			}
		}
		if perm.Label, err = p.label(m, entity, k, "label", true, MaxLabelLength); err != nil {
			return err
		}
		if perm.Description, err = p.label(m, entity, k, "description", false, MaxDescriptionLength); err != nil {
			return err
		}
		if err := p.scopes(m, k, &perm); err != nil {
			return err
		}
		if err := p.actions(c, m, &perm); err != nil {
			return err
		}
		c.perms[k] = perm.Index
		c.Permissions = append(c.Permissions, perm)
		c.all.add(perm.Index, perm.Broadest())
	}
	// Once every key is known: an action may not be one of them.
	for _, a := range p.actionNodes {
		if _, taken := c.perms[a.name]; taken {
			return p.fail(a.node, entity, a.perm, "action %q is a permission's key: callers give that key as it is", a.name)
		}
	}
	return nil
}

// actionNode is an action's name as read, for the checks made once every
// permission is read.
type actionNode struct {
	node       *yaml.Node
	name, perm string
}

func (p *parser) scopes(m mapping, k string, perm *Permission) error {
	const entity = "permission"
	sn, hasScopes := m.vals["scopes"]
	dn, hasDefault := m.vals["default_scope"]
	switch {
	case !hasScopes && !hasDefault:
		return nil
	case !hasScopes:
		return p.fail(dn, entity, k, "default_scope is given but the permission declares no scopes")
	case !hasDefault:
		return p.fail(sn, entity, k, "scopes need a default_scope")
	}
	items, err := p.list(sn, "scopes")
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return p.fail(sn, entity, k, "scopes is empty (leave it out for an unscoped permission)")
	}
	for _, n := range items {
		word, err := p.text(n, entity, k, "a scope")
		if err != nil {
			return err
		}
		s, ok := ParseScope(word)
		if !ok {
			return p.fail(n, entity, k, "unknown scope %q (expected all, owned_or_unassigned or owned)", word)
		}
		if slices.Contains(perm.Scopes, s) {
			return p.fail(n, entity, k, "scope %q is listed twice", word)
		}
		perm.Scopes = append(perm.Scopes, s)
	}
	// Broadest first, whatever the file's order: Broadest and resolve rely on it.
	slices.SortFunc(perm.Scopes, func(a, b Scope) int { return int(b) - int(a) })
	word, err := p.text(dn, entity, k, "default_scope")
	if err != nil {
		return err
	}
	d, ok := ParseScope(word)
	if !ok {
		return p.fail(dn, entity, k, "unknown default_scope %q (expected all, owned_or_unassigned or owned)", word)
	}
	if !slices.Contains(perm.Scopes, d) {
		return p.fail(dn, entity, k, "default_scope %q is not one of its scopes (%s)", word, scopeList(perm.Scopes))
	}
	perm.DefaultScope = d
	return nil
}

func scopeList(ss []Scope) string {
	w := make([]string, len(ss))
	for i, s := range ss {
		w[i] = s.String()
	}
	return strings.Join(w, ", ")
}

func (p *parser) resourceTypes(c *Catalogue, top mapping) error {
	const entity = "resource type"
	if !top.has("resource_types") {
		return nil
	}
	items, err := p.list(top.vals["resource_types"], "resource_types")
	if err != nil {
		return err
	}
	keys := seen{}
	for _, n := range items {
		m, err := p.mapping(n, entity, "", "a resource type", "key", "label", "description", "required")
		if err != nil {
			return err
		}
		k, err := p.key(m, entity)
		if err != nil {
			return err
		}
		if err := p.once(keys, m.keys["key"], entity, k); err != nil {
			return err
		}
		t := ResourceType{Key: k}
		if t.Label, err = p.label(m, entity, k, "label", true, MaxLabelLength); err != nil {
			return err
		}
		if t.Description, err = p.label(m, entity, k, "description", false, MaxDescriptionLength); err != nil {
			return err
		}
		if rn, ok := m.vals["required"]; ok {
			if t.Required, err = p.boolean(rn, entity, k, "required"); err != nil {
				return err
			}
		}
		c.types[k] = len(c.ResourceTypes)
		c.ResourceTypes = append(c.ResourceTypes, t)
	}
	return nil
}

func (p *parser) roleList(c *Catalogue, top mapping) error {
	const entity = "role"
	items, err := p.list(top.vals["roles"], "roles")
	if err != nil {
		return err
	}
	keys := seen{}
	for _, n := range items {
		m, err := p.mapping(n, entity, "", "a role", "key", "label", "description", "restricted", "permissions")
		if err != nil {
			return err
		}
		k, err := p.key(m, entity)
		if err != nil {
			return err
		}
		if err := p.once(keys, m.keys["key"], entity, k); err != nil {
			return err
		}
		r := Role{Key: k, BuiltIn: true}
		if r.Label, err = p.label(m, entity, k, "label", true, MaxLabelLength); err != nil {
			return err
		}
		if r.Description, err = p.label(m, entity, k, "description", false, MaxDescriptionLength); err != nil {
			return err
		}
		if rn, ok := m.vals["restricted"]; ok {
			if r.Restricted, err = p.boolean(rn, entity, k, "restricted"); err != nil {
				return err
			}
		}
		pn, ok := m.vals["permissions"]
		if !ok {
			return p.fail(m.node, entity, k, "permissions is missing (write all, or a mapping of permission: true or a scope; {} for none)")
		}
		if r.Grants, err = p.roleGrants(c, pn, k); err != nil {
			return err
		}
		c.roles[k] = len(c.Roles)
		c.Roles = append(c.Roles, r)
	}
	// The service relies on admin: an account's first member gets it, the
	// last one cannot lose it, and only an admin grants it. Since nobody may
	// grant what they do not hold, an admin who lacked a permission would
	// leave that permission out of everyone's reach.
	i, ok := c.roles[equipe.RoleAdmin]
	if !ok {
		return p.fail(top.keys["roles"], entity, equipe.RoleAdmin, "the catalogue must declare the role %q, which the service relies on", equipe.RoleAdmin)
	}
	admin := c.Roles[i]
	at := keys[equipe.RoleAdmin]
	if admin.Restricted {
		return p.fail(at, entity, admin.Key, "the admin role cannot be restricted")
	}
	if c.Grants(admin.Grants) != c.all {
		return p.fail(at, entity, admin.Key, "the admin role must hold every permission at its broadest scope (write permissions: all)")
	}
	return nil
}

func (p *parser) roleGrants(c *Catalogue, n *yaml.Node, role string) ([]Grant, error) {
	const entity = "role"
	n = deref(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		if n.Value != "all" {
			return nil, p.fail(n, entity, role, "permissions must be all or a mapping, found %q", n.Value)
		}
		return c.GrantList(c.all), nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, p.fail(n, entity, role, "permissions must be all or a mapping (permission: true or a scope), found %s", kindName(n))
	}
	var set Set
	given := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, v := deref(n.Content[i]), deref(n.Content[i+1])
		if kn.Kind != yaml.ScalarNode || kn.ShortTag() != "!!str" {
			return nil, p.fail(kn, entity, role, "permissions: keys must be permission keys")
		}
		key := kn.Value
		if first, dup := given[key]; dup {
			return nil, p.fail(kn, entity, role, "permission %q is given twice (first at line %d)", key, first.Line)
		}
		given[key] = kn
		idx, ok := c.perms[key]
		if !ok {
			return nil, p.fail(kn, entity, role, "permission %q is not declared under permissions", key)
		}
		perm := &c.Permissions[idx]
		switch {
		case v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool":
			b, err := p.boolean(v, entity, role, key)
			if err != nil {
				return nil, err
			}
			if b {
				set.add(perm.Index, perm.DefaultScope)
			}
		case v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str":
			s, ok := ParseScope(v.Value)
			if !ok {
				return nil, p.fail(v, entity, role, "%s: expected true, false or a scope, found %q", key, v.Value)
			}
			if !perm.Scoped() {
				return nil, p.fail(v, entity, role, "%s: the permission has no scopes, write true", key)
			}
			if !perm.Accepts(s) {
				return nil, p.fail(v, entity, role, "%s: scope %q is not one of the permission's scopes (%s)", key, v.Value, scopeList(perm.Scopes))
			}
			set.add(perm.Index, s)
		default:
			return nil, p.fail(v, entity, role, "%s: expected true, false or a scope, found %s", key, kindName(v))
		}
	}
	return c.GrantList(set), nil
}

func (p *parser) jobTitles(c *Catalogue, top mapping) error {
	const entity = "job title"
	if !top.has("job_titles") {
		return nil
	}
	items, err := p.list(top.vals["job_titles"], "job_titles")
	if err != nil {
		return err
	}
	keys := seen{}
	for _, n := range items {
		m, err := p.mapping(n, entity, "", "a job title", "key", "label")
		if err != nil {
			return err
		}
		k, err := p.key(m, entity)
		if err != nil {
			return err
		}
		if err := p.once(keys, m.keys["key"], entity, k); err != nil {
			return err
		}
		t := JobTitle{Key: k}
		if t.Label, err = p.label(m, entity, k, "label", true, MaxLabelLength); err != nil {
			return err
		}
		c.titles[k] = len(c.JobTitles)
		c.JobTitles = append(c.JobTitles, t)
	}
	return nil
}
