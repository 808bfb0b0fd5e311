package access

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// MaxPermissions is the most permissions a catalogue may declare. It sizes
// the bitsets of Set, so a check never allocates and never loops over a
// slice whose length depends on the catalogue.
const MaxPermissions = 256

// MaxCatalogueSize is the largest catalogue file Load reads, in bytes.
const MaxCatalogueSize = 4 << 20

// DefaultName is the name the embedded default catalogue goes by in errors.
const DefaultName = "access/default.yaml"

//go:embed default.yaml
var defaultYAML []byte

// Label is a text in the two languages of the service.
type Label struct {
	FR string
	EN string
}

// In returns the label in locale: English for "en" (and "en-…"), French for
// anything else. A label given in one language only (a custom role's name)
// is shown in that language to every reader.
func (l Label) In(locale string) string {
	if l.EN != "" && (l.FR == "" || locale == "en" || strings.HasPrefix(locale, "en-") || strings.HasPrefix(locale, "en_")) {
		return l.EN
	}
	return l.FR
}

// Scope says which records a scoped permission reaches. Scopes are ordered
// by breadth: a greater scope allows everything a smaller one does.
type Scope uint8

// Scopes, narrowest first. ScopeNone is the scope of an unscoped permission
// (and of no grant at all).
const (
	ScopeNone              Scope = iota
	ScopeOwned                   // records the user owns
	ScopeOwnedOrUnassigned       // records the user owns and records nobody owns
	ScopeAll                     // every record
)

// ParseScope returns the scope named s: "owned", "owned_or_unassigned" or
// "all". Any other string, the empty one included, reports false.
func ParseScope(s string) (Scope, bool) {
	switch s {
	case "owned":
		return ScopeOwned, true
	case "owned_or_unassigned":
		return ScopeOwnedOrUnassigned, true
	case "all":
		return ScopeAll, true
	}
	return ScopeNone, false
}

// String returns the scope's name as written in catalogues and in the API,
// and "" for ScopeNone.
func (s Scope) String() string {
	switch s {
	case ScopeOwned:
		return "owned"
	case ScopeOwnedOrUnassigned:
		return "owned_or_unassigned"
	case ScopeAll:
		return "all"
	}
	return ""
}

// Label returns the scope's name for people, in the words of the
// help-centre articles the product follows.
func (s Scope) Label() Label {
	switch s {
	case ScopeOwned:
		return Label{FR: "Propriétaire uniquement", EN: "Owned only"}
	case ScopeOwnedOrUnassigned:
		return Label{FR: "Propriétaire et non attribué uniquement", EN: "Owned and unassigned only"}
	case ScopeAll:
		return Label{FR: "Tout", EN: "All"}
	}
	return Label{}
}

// MarshalText encodes the scope as its name ("" for ScopeNone).
func (s Scope) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a scope's name; the empty text is ScopeNone.
func (s *Scope) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*s = ScopeNone
		return nil
	}
	v, ok := ParseScope(string(b))
	if !ok {
		return fmt.Errorf("access: unknown scope %q", b)
	}
	*s = v
	return nil
}

// Group is a heading under which the UI shows permissions.
type Group struct {
	Key   string
	Label Label
}

// Permission is one permission of the catalogue. Index is its position in
// Catalogue.Permissions and its bit in a Set.
type Permission struct {
	Key          string
	Group        string // a key of Catalogue.Groups, or ""
	Label        Label
	Description  Label
	Scopes       []Scope // the scopes it accepts, broadest first; empty for an unscoped permission
	DefaultScope Scope   // ScopeNone exactly when Scopes is empty
	Index        int
	// Actions are other names of the permission that the AuthZEN API
	// accepts as an action's name (such as can_read), unique in the
	// catalogue.
	Actions []string
}

// Scoped reports whether the permission carries a scope.
func (p Permission) Scoped() bool { return len(p.Scopes) > 0 }

// Broadest returns the broadest scope the permission accepts (ScopeNone for
// an unscoped permission).
func (p Permission) Broadest() Scope {
	if len(p.Scopes) == 0 {
		return ScopeNone
	}
	return p.Scopes[0]
}

// Accepts reports whether s is one of the permission's scopes. An unscoped
// permission accepts only ScopeNone.
func (p Permission) Accepts(s Scope) bool {
	if len(p.Scopes) == 0 {
		return s == ScopeNone
	}
	return slices.Contains(p.Scopes, s)
}

// ResourceType is a kind of resource members can be assigned to. When
// Required, a member must keep at least one assigned resource of that type
// as long as the account has any.
type ResourceType struct {
	Key         string
	Label       Label
	Description Label
	Required    bool
}

// Grant gives one permission at one scope. Scope is ScopeNone for an
// unscoped permission.
type Grant struct {
	Permission string
	Scope      Scope
}

// Role is a named set of grants: a built-in role of the catalogue
// (BuiltIn) or an account's custom role. Members whose role is Restricted
// reach only the resources assigned to them.
type Role struct {
	Key         string
	Label       Label
	Description Label
	Restricted  bool
	BuiltIn     bool
	Grants      []Grant // in catalogue order for built-in roles
}

// JobTitle is one entry of the catalogue's list of job titles.
type JobTitle struct {
	Key   string
	Label Label
}

// Catalogue is a parsed, validated permission catalogue. It is immutable
// once built: share it freely between goroutines, and treat its slices as
// read-only (the accessor methods return copies).
type Catalogue struct {
	Groups        []Group
	Permissions   []Permission
	ResourceTypes []ResourceType
	Roles         []Role
	JobTitles     []JobTitle

	perms   map[string]int
	actions map[string]int // an action name's permission
	groups  map[string]int
	types   map[string]int
	roles   map[string]int
	titles  map[string]int
	all     Set // every permission at its broadest scope
	// interned holds the profiles of the members compiled with the
	// catalogue (see Member).
	interned *profiles
}

// keyPattern is the shape of every key of a catalogue: lower-case words of
// letters, digits and underscores, separated by dots, each starting with a
// letter. Keys appear in URLs, JSON, logs and SQL, so they stay plain.
var keyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

// actionPattern is the shape of an action's name: the words of a key, or the
// names other systems give actions (can_read, records:edit, view-record).
var actionPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.:-]*$`)

// ValidActionName reports whether s may be an action's name in a
// catalogue.
func ValidActionName(s string) bool { return len(s) <= MaxKeyLength && actionPattern.MatchString(s) }

// ActionPermission returns the key of the permission that name names: a
// permission's key, or one of its action names; false for neither.
func (c *Catalogue) ActionPermission(name string) (string, bool) {
	if i, ok := c.perms[name]; ok {
		return c.Permissions[i].Key, true
	}
	if i, ok := c.actions[name]; ok {
		return c.Permissions[i].Key, true
	}
	return "", false
}

// ActionPermissionBytes is ActionPermission of the text name, without
// copying it (for the AuthZEN API's plain path).
func (c *Catalogue) ActionPermissionBytes(name []byte) (string, bool) {
	if i, ok := c.perms[string(name)]; ok {
		return c.Permissions[i].Key, true
	}
	if i, ok := c.actions[string(name)]; ok {
		return c.Permissions[i].Key, true
	}
	return "", false
}

// DeclaresTypeBytes reports whether the catalogue declares the resource
// type named by the text typ, without copying it.
func (c *Catalogue) DeclaresTypeBytes(typ []byte) bool {
	_, ok := c.types[string(typ)]
	return ok
}

// MaxKeyLength is the longest key a catalogue or a custom role may use.
const MaxKeyLength = 64

// ValidKey reports whether s has the shape of a catalogue key (for example
// "members.manage" or "business_owner"). Custom roles use the same rule.
func ValidKey(s string) bool {
	return len(s) <= MaxKeyLength && keyPattern.MatchString(s)
}

// Default returns the catalogue embedded in the binary. It cannot fail: a
// test parses the embedded file, so a broken default never ships.
func Default() *Catalogue { return defaultCatalogue() }

var defaultCatalogue = sync.OnceValue(func() *Catalogue {
	c, err := Parse(DefaultName, defaultYAML)
	if err != nil {
		panic("access: the embedded catalogue is invalid: " + err.Error())
	}
	return c
})

// DefaultYAML returns the text of the embedded default catalogue, the
// starting point for a vendor's own.
func DefaultYAML() []byte { return slices.Clone(defaultYAML) }

// Load reads and parses the catalogue at path; the empty path means the
// embedded default. Errors name the file and, for a bad catalogue, the line
// and the key at fault (*ParseError).
func Load(path string) (*Catalogue, error) {
	if path == "" {
		return Default(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("access: catalogue: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxCatalogueSize+1))
	if err != nil {
		return nil, fmt.Errorf("access: catalogue %s: %w", path, err)
	}
	if len(data) > MaxCatalogueSize {
		return nil, &ParseError{File: path, Msg: fmt.Sprintf("the file is larger than %d bytes", MaxCatalogueSize)}
	}
	return Parse(path, data)
}

// Index returns the index of the permission key, the bit it occupies in a
// Set; callers resolve it once and check with CheckIndex.
func (c *Catalogue) Index(key string) (int, bool) {
	i, ok := c.perms[key]
	return i, ok
}

// Permission returns the permission key.
func (c *Catalogue) Permission(key string) (Permission, bool) {
	i, ok := c.perms[key]
	if !ok {
		return Permission{}, false
	}
	p := c.Permissions[i]
	p.Scopes = slices.Clone(p.Scopes)
	return p, true
}

// Group returns the permission group key.
func (c *Catalogue) Group(key string) (Group, bool) {
	i, ok := c.groups[key]
	if !ok {
		return Group{}, false
	}
	return c.Groups[i], true
}

// Role returns the built-in role key. Accounts' custom roles live in the
// store, not in the catalogue.
func (c *Catalogue) Role(key string) (Role, bool) {
	i, ok := c.roles[key]
	if !ok {
		return Role{}, false
	}
	r := c.Roles[i]
	r.Grants = slices.Clone(r.Grants)
	return r, true
}

// ResourceType returns the resource type key.
func (c *Catalogue) ResourceType(key string) (ResourceType, bool) {
	i, ok := c.types[key]
	if !ok {
		return ResourceType{}, false
	}
	return c.ResourceTypes[i], true
}

// JobTitle returns the job title key.
func (c *Catalogue) JobTitle(key string) (JobTitle, bool) {
	i, ok := c.titles[key]
	if !ok {
		return JobTitle{}, false
	}
	return c.JobTitles[i], true
}

// All returns the set of every permission at its broadest scope: what
// "select all" grants, and what the admin role holds.
func (c *Catalogue) All() Set { return c.all }

// Errors a GrantError wraps, for errors.Is.
var (
	ErrUnknownPermission = errors.New("unknown permission")
	ErrScopeNotAccepted  = errors.New("scope not accepted by the permission")
	ErrDuplicateGrant    = errors.New("permission given twice")
	ErrScopeOnDenial     = errors.New("a denial takes no scope")
)

// GrantError is a grant or override that the catalogue refuses. Permission
// names the key at fault; Err is one of the Err* values above.
type GrantError struct {
	Permission string
	Scope      Scope
	Err        error
}

func (e *GrantError) Error() string {
	switch e.Err {
	case ErrScopeNotAccepted:
		if e.Scope == ScopeNone {
			return fmt.Sprintf("access: permission %q needs a scope", e.Permission)
		}
		return fmt.Sprintf("access: permission %q does not accept the scope %q", e.Permission, e.Scope)
	case ErrScopeOnDenial:
		return fmt.Sprintf("access: permission %q: a denial takes no scope", e.Permission)
	}
	return fmt.Sprintf("access: permission %q: %v", e.Permission, e.Err)
}

func (e *GrantError) Unwrap() error { return e.Err }

// ValidateGrants checks grants written by a person (a custom role): every
// permission must exist, appear once, and carry a scope it accepts —
// ScopeNone for an unscoped permission, one of its scopes for a scoped one.
// Returns a *GrantError naming the first key at fault.
func (c *Catalogue) ValidateGrants(gs []Grant) error {
	var seen bitset
	for _, g := range gs {
		i, ok := c.perms[g.Permission]
		if !ok {
			return &GrantError{Permission: g.Permission, Scope: g.Scope, Err: ErrUnknownPermission}
		}
		if seen[i>>6]&(1<<(i&63)) != 0 {
			return &GrantError{Permission: g.Permission, Scope: g.Scope, Err: ErrDuplicateGrant}
		}
		seen[i>>6] |= 1 << (i & 63)
		if !c.Permissions[i].Accepts(g.Scope) {
			return &GrantError{Permission: g.Permission, Scope: g.Scope, Err: ErrScopeNotAccepted}
		}
	}
	return nil
}

// ValidateOverrides checks a member's overrides as written by a person: every
// permission must exist and appear once; an allowing override carries
// ScopeNone (meaning the permission's default scope) or a scope the
// permission accepts; a denying override carries no scope. Returns a
// *GrantError naming the first key at fault.
func (c *Catalogue) ValidateOverrides(ovs []Override) error {
	var seen bitset
	for _, o := range ovs {
		i, ok := c.perms[o.Permission]
		if !ok {
			return &GrantError{Permission: o.Permission, Scope: o.Scope, Err: ErrUnknownPermission}
		}
		if seen[i>>6]&(1<<(i&63)) != 0 {
			return &GrantError{Permission: o.Permission, Scope: o.Scope, Err: ErrDuplicateGrant}
		}
		seen[i>>6] |= 1 << (i & 63)
		switch {
		case !o.Allow && o.Scope != ScopeNone:
			return &GrantError{Permission: o.Permission, Scope: o.Scope, Err: ErrScopeOnDenial}
		case o.Allow && o.Scope != ScopeNone && !c.Permissions[i].Accepts(o.Scope):
			return &GrantError{Permission: o.Permission, Scope: o.Scope, Err: ErrScopeNotAccepted}
		}
	}
	return nil
}

// resolve returns the scope at which a stored grant of permission p at s
// takes effect under this catalogue, and false when it takes no effect.
// Stored grants may predate a change of the catalogue; the rule is that such
// a change never widens access: a scope the permission no longer accepts
// falls to the broadest accepted scope below it, a permission that lost its
// scopes is granted only to holders of "all", and ScopeNone on a scoped
// permission means its default scope. A value that is no scope at all grants
// nothing.
func (p *Permission) resolve(s Scope) (Scope, bool) {
	if s > ScopeAll {
		return ScopeNone, false
	}
	if len(p.Scopes) == 0 {
		return ScopeNone, s == ScopeNone || s == ScopeAll
	}
	if s == ScopeNone {
		return p.DefaultScope, true
	}
	for _, a := range p.Scopes { // broadest first
		if a <= s {
			return a, true
		}
	}
	return ScopeNone, false
}
