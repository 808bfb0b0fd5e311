package access

import (
	"fmt"

	"github.com/equipe-dev/equipe"
)

// InputJSON is the JSON form of an Input, without the account and the user
// it is about: what the service sends to a process that compiles members
// itself (the Go client's Checker), so that both compile with Compile and
// decide with Check.
type InputJSON struct {
	Role         RoleJSON       `json:"role"`
	Overrides    []OverrideJSON `json:"overrides"`
	Resources    []equipe.ID    `json:"resources"`
	Status       string         `json:"status"`
	UserDisabled bool           `json:"user_disabled"`
	ViaFirm      bool           `json:"via_firm"`
}

// RoleJSON is a role as compiling needs it: its key, whether it is
// restricted, and its grants.
type RoleJSON struct {
	Key        string      `json:"key"`
	Restricted bool        `json:"restricted"`
	Grants     []GrantJSON `json:"grants"`
}

// GrantJSON is a Grant; Scope is absent for an unscoped permission.
type GrantJSON struct {
	Permission string `json:"permission"`
	Scope      Scope  `json:"scope,omitempty"`
}

// OverrideJSON is an Override; Scope is absent for an unscoped permission
// or a denial.
type OverrideJSON struct {
	Permission string `json:"permission"`
	Allow      bool   `json:"allow"`
	Scope      Scope  `json:"scope,omitempty"`
}

// JSON returns the JSON form of in.
func (in Input) JSON() InputJSON {
	j := InputJSON{Role: RoleJSON{Key: in.Role.Key, Restricted: in.Role.Restricted, Grants: make([]GrantJSON, len(in.Role.Grants))},
		Overrides: make([]OverrideJSON, len(in.Overrides)), Resources: in.Resources, Status: in.Status.String(),
		UserDisabled: in.UserDisabled, ViaFirm: in.ViaFirm}
	if j.Resources == nil {
		j.Resources = []equipe.ID{}
	}
	for i, g := range in.Role.Grants {
		j.Role.Grants[i] = GrantJSON(g)
	}
	for i, o := range in.Overrides {
		j.Overrides[i] = OverrideJSON(o)
	}
	return j
}

// Input returns the Input of the user in the account that j describes. A
// status this package does not know is StatusUnknown (denied).
func (j InputJSON) Input(account, user equipe.ID) Input {
	in := Input{UserID: user, AccountID: account, Role: Role{Key: j.Role.Key, Restricted: j.Role.Restricted},
		Resources: j.Resources, Status: StatusOf(equipe.MemberStatus(j.Status)), UserDisabled: j.UserDisabled,
		ViaFirm: j.ViaFirm}
	for _, g := range j.Role.Grants {
		in.Role.Grants = append(in.Role.Grants, Grant(g))
	}
	for _, o := range j.Overrides {
		in.Overrides = append(in.Overrides, Override(o))
	}
	return in
}

// ForChecks returns a catalogue that declares the permissions ps, in this
// order, and nothing else: what compiling members and checking them needs,
// for a process that learns the permissions from the service (GET
// /api/v1/catalogue) rather than from the catalogue's file. Only each
// permission's Key, Scopes and DefaultScope are read.
func ForChecks(ps []Permission) (*Catalogue, error) {
	if len(ps) > MaxPermissions {
		return nil, fmt.Errorf("access: %d permissions, more than %d", len(ps), MaxPermissions)
	}
	c := &Catalogue{perms: map[string]int{}, groups: map[string]int{}, types: map[string]int{}, roles: map[string]int{},
		titles: map[string]int{}, interned: newProfiles()}
	for i, p := range ps {
		if !ValidKey(p.Key) {
			return nil, fmt.Errorf("access: permission key %q is not valid", p.Key)
		}
		if _, dup := c.perms[p.Key]; dup {
			return nil, fmt.Errorf("access: permission %q given twice", p.Key)
		}
		for j, s := range p.Scopes {
			if s == ScopeNone || s > ScopeAll || (j > 0 && s >= p.Scopes[j-1]) {
				return nil, fmt.Errorf("access: permission %q: scopes must be known, broadest first", p.Key)
			}
		}
		if (len(p.Scopes) == 0) != (p.DefaultScope == ScopeNone) || (len(p.Scopes) > 0 && !p.Accepts(p.DefaultScope)) {
			return nil, fmt.Errorf("access: permission %q: its default scope must be one of its scopes", p.Key)
		}
		perm := Permission{Key: p.Key, Scopes: append([]Scope(nil), p.Scopes...), DefaultScope: p.DefaultScope, Index: i}
		c.perms[p.Key] = i
		c.Permissions = append(c.Permissions, perm)
		c.all.add(i, perm.Broadest())
	}
	return c, nil
}
