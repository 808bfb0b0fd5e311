package scim

import (
	"context"
	"net/http"
	"slices"
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/team"
)

// groupResource is one of the account's roles as a SCIM Group (RFC 7643
// §4.2): its id is the role's key, its members the members who hold it.
// Each member holds exactly one role, so each is in exactly one group.
type groupResource struct {
	Schemas     []string    `json:"schemas"`
	ID          string      `json:"id"`
	DisplayName string      `json:"displayName"`
	Members     []memberRef `json:"members,omitempty"`
	Meta        meta        `json:"meta"`
}

type memberRef struct {
	Value string `json:"value"`
	Ref   string `json:"$ref"`
	Type  string `json:"type"`
}

// group is the role as a Group, with its members when withMembers.
func (c *call) group(r access.Role, withMembers bool) (groupResource, error) {
	if c.times == nil {
		times, err := c.s.Team.RoleTimes(c.r.Context(), c.actor, c.account.ID)
		if err != nil {
			return groupResource{}, err
		}
		c.times = times
	}
	t := c.times[r.Key]
	g := groupResource{Schemas: []string{schemaGroup}, ID: r.Key, DisplayName: r.Label.In(c.locale),
		Meta: meta{ResourceType: "Group", Created: stamp(t.Created), LastModified: stamp(t.Changed),
			Location: c.location("/Groups/" + r.Key)}}
	if !withMembers {
		return g, nil
	}
	ids, err := c.s.Team.MembersWithRole(c.r.Context(), c.actor, c.account.ID, r.Key)
	if err != nil {
		return g, err
	}
	for _, id := range ids {
		g.Members = append(g.Members, memberRef{Value: id.String(), Ref: c.location("/Users/" + id.String()), Type: "User"})
	}
	return g, nil
}

// wantsMembers reports whether the answer shows groups' members: unless
// the query leaves them out.
func (c *call) wantsMembers() bool {
	q := c.r.URL.Query()
	if a := q.Get("attributes"); a != "" && !parseAttrs(a).names("members") {
		return false
	}
	// Leaving out a part of each member still shows the others.
	subs, excluded := parseAttrs(q.Get("excludedAttributes"))["members"]
	return !excluded || subs != nil
}

// roles returns the account's roles.
func (c *call) accountRoles() ([]access.Role, error) {
	views, err := c.s.Team.Roles(c.r.Context(), c.actor, c.account.ID)
	if err != nil {
		return nil, err
	}
	out := make([]access.Role, 0, len(views))
	for _, v := range views {
		out = append(out, v.Role)
	}
	return out, nil
}

// role returns the role the path names.
func (c *call) role() (access.Role, error) {
	roles, err := c.accountRoles()
	if err != nil {
		return access.Role{}, err
	}
	id := c.r.PathValue("id")
	for _, r := range roles {
		if r.Key == id {
			return r, nil
		}
	}
	return access.Role{}, &scimError{status: http.StatusNotFound, key: "error.not_found"}
}

func (c *call) listGroups() error {
	q := c.r.URL.Query()
	start, count, err := c.paging()
	if err != nil {
		return err
	}
	var expr filter.Expression
	text := q.Get("filter")
	if text != "" {
		if expr, err = parseFilter(text); err != nil {
			return err
		}
	}
	roles, err := c.accountRoles()
	if err != nil {
		return err
	}
	// Members are read when shown or filtered on.
	withMembers := c.wantsMembers() || strings.Contains(strings.ToLower(text), "members")
	var found []map[string]any
	for _, r := range roles {
		g, err := c.group(r, withMembers)
		if err != nil {
			return err
		}
		obj := asObject(g)
		if expr == nil || matches(expr, obj, schemaGroup) {
			found = append(found, obj)
		}
	}
	out := listResponse{Schemas: []string{schemaList}, StartIndex: start, TotalResults: len(found), Resources: []any{}}
	if start-1 < len(found) {
		found = found[start-1:]
		for _, g := range found[:min(count, len(found))] {
			out.Resources = append(out.Resources, c.projectGroup(g))
		}
	}
	out.ItemsPerPage = len(out.Resources)
	write(c.w, http.StatusOK, out)
	return nil
}

// projectGroup applies the query's attributes to a group's JSON object.
func (c *call) projectGroup(g map[string]any) map[string]any {
	q := c.r.URL.Query()
	return project(g, q.Get("attributes"), q.Get("excludedAttributes"))
}

func (c *call) getGroup() error {
	r, err := c.role()
	if err != nil {
		return err
	}
	g, err := c.group(r, c.wantsMembers())
	if err != nil {
		return err
	}
	write(c.w, http.StatusOK, c.projectGroup(asObject(g)))
	return nil
}

// replaceGroup (PUT) sets the group's members: those listed take the
// role, the others holding it go back to the base role.
func (c *call) replaceGroup() error {
	r, err := c.role()
	if err != nil {
		return err
	}
	body, err := c.body()
	if err != nil {
		return err
	}
	if err := c.sameName(r, field(body, "displayName")); err != nil {
		return err
	}
	ids, err := memberIDs(field(body, "members"))
	if err != nil {
		return err
	}
	if err := c.together(func() error { return c.setMembers(r, ids) }); err != nil {
		return err
	}
	g, err := c.group(r, c.wantsMembers())
	if err != nil {
		return err
	}
	write(c.w, http.StatusOK, c.projectGroup(asObject(g)))
	return nil
}

// sameName refuses a group's new name: a role is renamed in equipe. The
// name is compared without regard to case, as the schema declares
// displayName (caseExact false, RFC 7643 2.2) and as filters match it: a
// directory that found the group as "Administrator" sends that name back.
func (c *call) sameName(r access.Role, name any) error {
	s, ok := name.(string)
	if name == nil || ok && slices.ContainsFunc([]string{r.Key, r.Label.In("en"), r.Label.In("fr")},
		func(n string) bool { return strings.EqualFold(n, s) }) {
		return nil
	}
	return badRequest(mutability, "scim.group_name_immutable", nil)
}

// patchGroup adds members to the role's group (they take the role) and
// removes them (they go back to the base role), the way Entra ID and Okta
// send it: each member is changed through the use case that changes a
// member's role, in the order sent, all in one unit of work; the first
// refusal undoes the request's changes.
func (c *call) patchGroup() error {
	r, err := c.role()
	if err != nil {
		return err
	}
	ops, err := c.operations()
	if err != nil {
		return err
	}
	// All the request's changes or none: a refusal part-way undoes the
	// members changed before it.
	if err := c.together(func() error { return c.applyGroupPatch(r, ops) }); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// together runs fn with the request's context joined to one unit of work
// (team.Service.Together), so that the members fn changes are changed
// together or not at all.
func (c *call) together(fn func() error) error {
	r := c.r
	defer func() { c.r = r }()
	return c.s.Team.Together(r.Context(), c.actor, func(ctx context.Context) error {
		c.r = r.WithContext(ctx)
		return fn()
	})
}

// applyGroupPatch applies a PATCH's operations to the role's group.
func (c *call) applyGroupPatch(r access.Role, ops []operation) error {
	for _, op := range ops {
		if op.path == nil {
			values, ok := op.value.(map[string]any)
			if !ok {
				return badRequest(noTarget, "scim.patch_no_path", nil)
			}
			values, err := underSchema(values, schemaGroup)
			if err != nil {
				return err
			}
			for k, v := range values {
				switch strings.ToLower(k) {
				case "displayname":
					if err := c.sameName(r, v); err != nil {
						return err
					}
				case "members":
					if err := c.patchMembers(r, op.op, nil, v); err != nil {
						return err
					}
				case "id", "externalid", "schemas", "meta":
				default:
					return badRequest(invalidPath, "scim.path_invalid", map[string]any{"path": k})
				}
			}
			continue
		}
		if uri := op.path.AttributePath.URI(); uri != "" && !strings.EqualFold(uri, schemaGroup) {
			return badRequest(invalidPath, "scim.path_invalid", map[string]any{"path": op.path.String()})
		}
		switch strings.ToLower(op.path.AttributePath.AttributeName) {
		case "displayname":
			if op.op == "remove" {
				return badRequest(mutability, "scim.group_name_immutable", nil)
			}
			if err := c.sameName(r, op.value); err != nil {
				return err
			}
		case "members":
			if err := c.patchMembers(r, op.op, op.path.ValueExpression, op.value); err != nil {
				return err
			}
		case "externalid":
			// A directory's identifier of its group (Entra maps its
			// objectId here): accepted, as with no path or in a PUT, and
			// not kept; the group is the role.
		default:
			return badRequest(invalidPath, "scim.path_invalid", map[string]any{"path": op.path.String()})
		}
	}
	return nil
}

// patchMembers applies one operation on the group's members: add gives
// the role to the members listed, replace makes them the group's only
// members, remove takes out those the path's filter (members[value eq
// "…"]) or the value lists, or every member when neither does.
func (c *call) patchMembers(r access.Role, op string, which filter.Expression, value any) error {
	if which != nil {
		id, ok := valueEq(which)
		if !ok || op != "remove" {
			return badRequest(invalidPath, "scim.path_invalid", map[string]any{"path": "members[...]"})
		}
		value = []any{map[string]any{"value": id}}
	}
	var ids []equipe.ID
	if value != nil {
		var err error
		if ids, err = memberIDs(value); err != nil {
			return err
		}
	}
	switch op {
	case "add":
		for _, id := range ids {
			if err := c.grant(r, id); err != nil {
				return err
			}
		}
	case "replace":
		return c.setMembers(r, ids)
	case "remove":
		if value == nil {
			all, err := c.s.Team.MembersWithRole(c.r.Context(), c.actor, c.account.ID, r.Key)
			if err != nil {
				return err
			}
			ids = all
		}
		for _, id := range ids {
			if err := c.withdraw(r, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// setMembers makes ids the group's members.
func (c *call) setMembers(r access.Role, ids []equipe.ID) error {
	have, err := c.s.Team.MembersWithRole(c.r.Context(), c.actor, c.account.ID, r.Key)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if !slices.Contains(have, id) {
			if err := c.grant(r, id); err != nil {
				return err
			}
		}
	}
	for _, id := range have {
		if !slices.Contains(ids, id) {
			if err := c.withdraw(r, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// grant gives the member the role.
func (c *call) grant(r access.Role, user equipe.ID) error {
	_, err := c.s.Team.ChangeMember(c.r.Context(), c.actor, c.account.ID, user, team.MemberChange{Role: &r.Key})
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return badRequest(invalidValue, "scim.member_unknown", map[string]any{"id": user.String()})
	}
	return err
}

// withdraw takes the member out of the role's group: back to the base
// role. A member who does not hold the role, and the base role's group,
// which nobody leaves but for another, are left as they are.
func (c *call) withdraw(r access.Role, user equipe.ID) error {
	base := c.s.Team.BaseRole()
	if r.Key == base {
		return nil
	}
	e, err := c.s.Team.DirectoryMember(c.r.Context(), c.actor, c.account.ID, user)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if e.Member.Role != r.Key {
		return nil
	}
	_, err = c.s.Team.ChangeMember(c.r.Context(), c.actor, c.account.ID, user, team.MemberChange{Role: &base})
	return err
}

// memberIDs reads a list of members ([{"value": "<user ID>"}]).
func memberIDs(v any) ([]equipe.ID, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	var out []equipe.ID
	for _, el := range list {
		m, _ := el.(map[string]any)
		s, _ := field(m, "value").(string)
		id, err := equipe.ParseID(s)
		if err != nil {
			return nil, badRequest(invalidValue, "scim.member_unknown", map[string]any{"id": s})
		}
		out = append(out, id)
	}
	return out, nil
}
