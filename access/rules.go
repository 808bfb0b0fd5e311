package access

import (
	"strings"

	"github.com/equipe-dev/equipe"
)

// MissingUnrestricted is the entry Covers… functions add to missing when a
// member limited to assigned resources would hand out, or act on, a role that
// reaches every resource. It cannot be mistaken for a permission key.
const MissingUnrestricted = "(unrestricted)"

// MissingAssigned is the entry CoversMember adds to missing when an actor
// limited to assigned resources would act on a member assigned to a
// resource the actor is not.
const MissingAssigned = "(assigned elsewhere)"

// missingNames name the entries of missing that are no permission.
var missingNames = map[string]Label{
	MissingUnrestricted: {FR: "l'accès à toutes les ressources (limitez le rôle aux ressources affectées)",
		EN: "access to every resource (limit the role to assigned resources)"},
	MissingAssigned: {FR: "l'accès à des ressources qui ne vous sont pas affectées",
		EN: "access to resources you are not assigned to"},
}

// GrantNames names what a granting rule found missing (Covers, CoversRole,
// CoversMember: "records.view:all", "billing.access", MissingUnrestricted…)
// as people read it, in each language: a permission by its label, with
// its scope's ("Consulter les enregistrements (Tout)"), a role's key (the
// administrator role, which only an administrator holds) by the role's
// name; the entries joined with ", ". An entry the catalogue does not know
// is left as it is.
func (c *Catalogue) GrantNames(missing []string) Label {
	var fr, en []string
	for _, m := range missing {
		name, ok := missingNames[m]
		if !ok {
			key, scope, _ := strings.Cut(m, ":")
			if p, found := c.Permission(key); found {
				name = p.Label
				if sc, ok := ParseScope(scope); ok {
					l := sc.Label()
					name = Label{FR: name.In("fr") + " (" + l.In("fr") + ")", EN: name.In("en") + " (" + l.In("en") + ")"}
				}
			} else if r, found := c.Role(m); found {
				name = r.Label
			} else {
				name = Label{FR: m, EN: m}
			}
		}
		fr, en = append(fr, name.In("fr")), append(en, name.In("en"))
	}
	return Label{FR: strings.Join(fr, ", "), EN: strings.Join(en, ", ")}
}

// Covers reports whether actor holds every permission of wanted at a scope at
// least as broad. Use cases rely on it for "nobody grants a role, permission
// or scope they do not hold themselves" and "nobody changes a member who
// holds more than they do". missing lists, in catalogue order, what actor
// lacks: the key of an unscoped permission ("billing.access"), the key and
// the wanted scope of a scoped one ("records.view:all").
func (c *Catalogue) Covers(actor Set, wanted Set) (ok bool, missing []string) {
	wanted.each(func(i int) {
		if i >= len(c.Permissions) {
			return
		}
		if actor.Has(i) && actor.scope[i] >= wanted.scope[i] {
			return
		}
		missing = append(missing, grantName(c.Permissions[i].Key, wanted.scope[i]))
	})
	return len(missing) == 0, missing
}

func grantName(key string, s Scope) string {
	if s == ScopeNone {
		return key
	}
	return key + ":" + s.String()
}

// CoversRole reports whether actor may give the role r to someone: actor
// holds every grant of r at a scope at least as broad, and, when actor is
// limited to assigned resources, r is restricted as well (otherwise the
// entry MissingUnrestricted is in missing). Whether actor may give the
// admin role at all is the use case's rule; this only compares holdings.
func (c *Catalogue) CoversRole(actor *Member, r Role) (ok bool, missing []string) {
	_, missing = c.Covers(actor.p.set, c.Grants(r.Grants))
	if actor.LimitedToAssigned() && !r.Restricted {
		missing = append(missing, MissingUnrestricted)
	}
	return len(missing) == 0, missing
}

// CoversOverrides reports whether actor may give the overrides: actor holds
// every permission an allowing override grants, at the scope it grants
// (ScopeNone meaning the permission's default scope). Denying overrides only
// take away, so they need nothing; overrides naming permissions the
// catalogue does not declare grant nothing (refuse them with
// ValidateOverrides).
func (c *Catalogue) CoversOverrides(actor *Member, ovs []Override) (ok bool, missing []string) {
	var gs []Grant
	for _, o := range ovs {
		if o.Allow {
			gs = append(gs, Grant{Permission: o.Permission, Scope: o.Scope})
		}
	}
	return c.Covers(actor.p.set, c.Grants(gs))
}

// CoversMember reports whether actor holds at least what target holds: every
// effective permission at a scope at least as broad, and the reach of every
// resource target reaches (all of them, or those assigned to target). A
// manager changing a member who holds more than they do is an escalation;
// use cases refuse it. It compares holdings only, not standing: a suspended
// member's permissions count.
func (c *Catalogue) CoversMember(actor, target *Member) (ok bool, missing []string) {
	_, missing = c.Covers(actor.p.set, target.p.set)
	if actor.LimitedToAssigned() {
		if !target.LimitedToAssigned() {
			missing = append(missing, MissingUnrestricted)
		} else {
			for _, r := range target.assignedList() {
				if !actor.assigned(r) {
					missing = append(missing, MissingAssigned)
					break
				}
			}
		}
	}
	return len(missing) == 0, missing
}

// CoversResources reports whether the member may hand out the resources ids
// (assign them to someone): a member limited to assigned resources may hand
// out only their own; anyone else, any resource of the account. missing
// lists the resources the member may not hand out, in the order given.
func (m *Member) CoversResources(ids []equipe.ID) (ok bool, missing []equipe.ID) {
	if !m.LimitedToAssigned() {
		return true, nil
	}
	for _, id := range ids {
		if !m.Assigned(id) {
			missing = append(missing, id)
		}
	}
	return len(missing) == 0, missing
}

// Set returns the member's effective permissions.
func (m *Member) Set() Set { return m.p.set }

// MissingRequired returns the keys, in catalogue order, of the required
// resource types of which the account has at least one resource but the
// member would be assigned none (in the default catalogue, a member keeps
// access to at least one product). resources are the account's resources;
// assigned, the IDs the member would be assigned. Resource types the
// catalogue does not declare are ignored.
func (c *Catalogue) MissingRequired(resources []equipe.Resource, assigned []equipe.ID) []string {
	mine := sortedRids(assigned)
	var has, covered []bool
	for _, r := range resources {
		i, ok := c.types[r.Type]
		if !ok || !c.ResourceTypes[i].Required {
			continue
		}
		if has == nil {
			has = make([]bool, len(c.ResourceTypes))
			covered = make([]bool, len(c.ResourceTypes))
		}
		has[i] = true
		if contains(mine, ridOf(r.ID)) {
			covered[i] = true
		}
	}
	var missing []string
	for i := range has {
		if has[i] && !covered[i] {
			missing = append(missing, c.ResourceTypes[i].Key)
		}
	}
	return missing
}

// Narrow returns m held within limit: what m may do, no more than limit
// may. Each permission is in the result only if both hold it, at the
// narrower of their scopes; the result reaches only limit's assigned
// resources when limit is limited to them; it is an administrator only if
// both are (else it goes by limit's role); it may do nothing when either
// may do nothing, for the reason of m first. An API key acts with its role
// narrowed by its creator's current rights.
func (c *Catalogue) Narrow(m, limit *Member) *Member {
	n := *m
	p := *m.p
	p.set = Set{}
	m.p.set.each(func(i int) {
		if !limit.p.set.Has(i) {
			return
		}
		sc := m.p.set.scope[i]
		if l := limit.p.set.scope[i]; l < sc {
			sc = l
		}
		p.set.add(i, sc)
	})
	if limit.LimitedToAssigned() {
		p.restricted, n.viaFirm = true, false
		n.resources, n.within, n.bits = limit.resources, limit.within, limit.bits
	}
	if m.p.role == equipe.RoleAdmin && limit.p.role != equipe.RoleAdmin {
		p.role = limit.p.role
	}
	if n.blocked == 0 {
		n.blocked = limit.blocked
	}
	n.p = c.profile(&p)
	return &n
}
