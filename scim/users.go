package scim

import (
	"net/http"
	"strings"
	"time"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/team"
)

// userResource is a member as a SCIM User (RFC 7643 §4.1). id is the
// person's user ID, userName their login email, externalId the member's
// external ID in the account; active is false while they are suspended;
// groups holds their role.
type userResource struct {
	Schemas     []string   `json:"schemas"`
	ID          string     `json:"id"`
	ExternalID  string     `json:"externalId,omitempty"`
	UserName    string     `json:"userName"`
	Name        *userName  `json:"name,omitempty"`
	DisplayName string     `json:"displayName,omitempty"`
	Title       string     `json:"title,omitempty"`
	Active      bool       `json:"active"`
	Emails      []email    `json:"emails"`
	Groups      []groupRef `json:"groups"`
	Meta        meta       `json:"meta"`
}

type userName struct {
	GivenName  string `json:"givenName,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
	Formatted  string `json:"formatted,omitempty"`
}

type email struct {
	Value   string `json:"value"`
	Type    string `json:"type"`
	Primary bool   `json:"primary"`
}

type groupRef struct {
	Value   string `json:"value"`
	Ref     string `json:"$ref"`
	Display string `json:"display,omitempty"`
}

// user is the member e as a User.
func (c *call) user(e team.DirectoryEntry) userResource {
	m := e.Member
	u := userResource{Schemas: []string{schemaUser}, ID: m.UserID.String(), ExternalID: m.ExternalID, UserName: e.Email,
		Title: m.Title, Active: m.Status != equipe.MemberSuspended,
		Emails: []email{{Value: e.Email, Type: "work", Primary: true}},
		Groups: []groupRef{{Value: m.Role, Ref: c.location("/Groups/" + m.Role), Display: c.roleName(m.Role)}},
		Meta: meta{ResourceType: "User", Created: stamp(m.CreatedAt), LastModified: stamp(later(m.CreatedAt, m.UpdatedAt)),
			Location: c.location("/Users/" + m.UserID.String())}}
	if e.FirstName != "" || e.LastName != "" {
		formatted := strings.TrimSpace(e.FirstName + " " + e.LastName)
		u.Name = &userName{GivenName: e.FirstName, FamilyName: e.LastName, Formatted: formatted}
		u.DisplayName = formatted
	}
	return u
}

// later is the later of a and b.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// roleName is the role's name in the request's language (the key for a
// role the account no longer has).
func (c *call) roleName(key string) string {
	if r, ok := c.s.Team.Catalogue.Role(key); ok {
		return r.Label.In(c.locale)
	}
	if c.roles == nil {
		c.roles = map[string]string{}
		if roles, err := c.s.Team.Roles(c.r.Context(), c.actor, c.account.ID); err == nil {
			for _, r := range roles {
				c.roles[r.Role.Key] = r.Role.Label.In(c.locale)
			}
		}
	}
	if n, ok := c.roles[key]; ok {
		return n
	}
	return key
}

// userID reads the path's user ID: one that is not an ID names nobody.
func (c *call) userID() (equipe.ID, error) {
	id, err := equipe.ParseID(c.r.PathValue("id"))
	if err != nil {
		return equipe.ID{}, &scimError{status: http.StatusNotFound, key: "error.not_found"}
	}
	return id, nil
}

// member returns the member the path names.
func (c *call) member() (team.DirectoryEntry, error) {
	id, err := c.userID()
	if err != nil {
		return team.DirectoryEntry{}, err
	}
	return c.s.Team.DirectoryMember(c.r.Context(), c.actor, c.account.ID, id)
}

func (c *call) getUser() error {
	e, err := c.member()
	if err != nil {
		return err
	}
	return c.respondUser(http.StatusOK, e)
}

// respondUser answers the member as a User, with the query's projection.
func (c *call) respondUser(status int, e team.DirectoryEntry) error {
	q := c.r.URL.Query()
	if status == http.StatusCreated {
		c.w.Header().Set("Location", c.location("/Users/"+e.Member.UserID.String()))
	}
	write(c.w, status, project(asObject(c.user(e)), q.Get("attributes"), q.Get("excludedAttributes")))
	return nil
}

// maxScan is the most members a filter that no index answers reads
// through; in a larger account it answers 400 tooMany.
const maxScan = 10_000

func (c *call) listUsers() error {
	ctx := c.r.Context()
	q := c.r.URL.Query()
	start, count, err := c.paging()
	if err != nil {
		return err
	}
	out := listResponse{Schemas: []string{schemaList}, StartIndex: start, Resources: []any{}}
	add := func(e team.DirectoryEntry) {
		out.Resources = append(out.Resources, project(asObject(c.user(e)), q.Get("attributes"), q.Get("excludedAttributes")))
	}
	text := q.Get("filter")
	if text == "" {
		page, total, err := c.s.Team.DirectoryPage(ctx, c.actor, c.account.ID, start-1, count)
		if err != nil {
			return err
		}
		for _, e := range page {
			add(e)
		}
		out.TotalResults, out.ItemsPerPage = total, len(out.Resources)
		write(c.w, http.StatusOK, out)
		return nil
	}
	expr, err := parseFilter(text)
	if err != nil {
		return err
	}
	var found []team.DirectoryEntry
	keep := func(e team.DirectoryEntry) {
		if matches(expr, asObject(c.user(e)), schemaUser) {
			found = append(found, e)
		}
	}
	if refs, ok := userRefs(expr); ok {
		seen := map[equipe.ID]bool{}
		for _, ref := range refs {
			id, ok, err := c.s.Team.FindMember(ctx, c.actor, c.account.ID, ref)
			if err != nil {
				return err
			}
			if !ok || seen[id] {
				continue
			}
			seen[id] = true
			e, err := c.s.Team.DirectoryMember(ctx, c.actor, c.account.ID, id)
			if err != nil {
				return err
			}
			keep(e)
		}
	} else {
		for offset := 0; ; offset += team.MaxDirectoryPage {
			page, total, err := c.s.Team.DirectoryPage(ctx, c.actor, c.account.ID, offset, team.MaxDirectoryPage)
			if err != nil {
				return err
			}
			if total > maxScan {
				return badRequest(tooMany, "scim.filter_too_broad", map[string]any{"max": maxScan})
			}
			for _, e := range page {
				keep(e)
			}
			if len(page) < team.MaxDirectoryPage {
				break
			}
		}
	}
	out.TotalResults = len(found)
	if start-1 < len(found) {
		found = found[start-1:]
		found = found[:min(count, len(found))]
		for _, e := range found {
			add(e)
		}
	}
	out.ItemsPerPage = len(out.Resources)
	write(c.w, http.StatusOK, out)
	return nil
}

// userState is what a directory may set of a member: what PUT and PATCH
// change, compared with what was there.
type userState struct {
	email      string
	externalID string
	title      string
	active     bool
	first      string
	last       string
}

func stateOf(e team.DirectoryEntry) userState {
	return userState{email: e.Email, externalID: e.Member.ExternalID, title: e.Member.Title,
		active: e.Member.Status != equipe.MemberSuspended, first: e.FirstName, last: e.LastName}
}

func (c *call) createUser() error {
	body, err := c.body()
	if err != nil {
		return err
	}
	if err := userSchemas(body); err != nil {
		return err
	}
	st := userState{active: true}
	if err := st.read(body, true); err != nil {
		return err
	}
	if st.email == "" {
		return badRequest(invalidValue, "scim.username_required", nil)
	}
	ctx := c.r.Context()
	in := team.NewMember{Email: st.email, FirstName: st.first, LastName: st.last, Role: c.s.Team.BaseRole(),
		Title: st.title, SendInvitation: st.active, Suspended: !st.active}
	if st.externalID != "" {
		// An empty externalId is unassigned, as an absent one (and as
		// PUT and PATCH read it): the member has none.
		in.ExternalID = &st.externalID
	}
	added, err := c.s.Team.AddMember(ctx, c.actor, c.account.ID, in)
	if err != nil {
		return err
	}
	e, err := c.s.Team.DirectoryMember(ctx, c.actor, c.account.ID, added.User.ID)
	if err != nil {
		return err
	}
	return c.respondUser(http.StatusCreated, e)
}

// userSchemas checks that a User created names the User schema among its
// schemas, which a resource requires (RFC 7643 3; RFC 7644 3.3 creates the
// resource the body describes): a body meant for another resource (a
// Group sent to the wrong endpoint) adds no member. Absent, the required
// value is missing (invalidValue); present without it, the body is not a
// User (invalidSyntax).
func userSchemas(body map[string]any) error {
	list, ok := field(body, "schemas").([]any)
	if !ok || len(list) == 0 {
		return badRequest(invalidValue, "scim.user_schema_required", nil)
	}
	for _, s := range list {
		if s, ok := s.(string); ok && strings.EqualFold(s, schemaUser) {
			return nil
		}
	}
	return badRequest(invalidSyntax, "scim.user_schema_required", nil)
}

// read sets the state from a whole User (POST and PUT): every attribute it
// keeps is set from the body, absent ones emptied, except active, which
// stays as it was when absent. creating takes the login email from
// userName; otherwise userName must stay the login email.
func (st *userState) read(body map[string]any, creating bool) error {
	name, ok := field(body, "userName").(string)
	switch {
	case !ok || strings.TrimSpace(name) == "":
		return badRequest(invalidValue, "scim.username_required", nil)
	case creating:
		st.email = strings.TrimSpace(name)
	case !sameEmail(name, st.email):
		return badRequest(mutability, "scim.username_immutable", nil)
	}
	var err error
	if st.externalID, err = optionalString(body, "externalId"); err != nil {
		return err
	}
	if st.title, err = optionalString(body, "title"); err != nil {
		return err
	}
	if v := field(body, "active"); v != nil {
		if st.active, err = boolean("active", v); err != nil {
			return err
		}
	}
	if !creating {
		// The names are taken on creation only (names); a PUT's
		// displayName, read-only, is ignored (RFC 7644 3.5.1).
		if n := field(body, "name"); n != nil {
			return st.names("name", nil, n)
		}
		return nil
	}
	if n, ok := field(body, "name").(map[string]any); ok {
		if st.first, err = optionalString(n, "givenName"); err != nil {
			return err
		}
		if st.last, err = optionalString(n, "familyName"); err != nil {
			return err
		}
	}
	return nil
}

// sameEmail reports whether a and b are the same address, ignoring case.
func sameEmail(a, b string) bool { return strings.EqualFold(strings.TrimSpace(a), b) }

// optionalString reads an attribute that is a string or absent ("").
func optionalString(m map[string]any, name string) (string, error) {
	switch v := field(m, name).(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	}
	return "", badRequest(invalidValue, "scim.value_type", map[string]any{"attribute": name, "type": "string"})
}

// boolean reads a boolean, also as the strings "True" and "False" that
// Entra ID sends.
func boolean(name string, v any) (bool, error) {
	switch v := v.(type) {
	case bool:
		return v, nil
	case string:
		switch strings.ToLower(v) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, badRequest(invalidValue, "scim.value_type", map[string]any{"attribute": name, "type": "boolean"})
}

func (c *call) replaceUser() error {
	e, err := c.member()
	if err != nil {
		return err
	}
	body, err := c.body()
	if err != nil {
		return err
	}
	st := stateOf(e)
	if err := st.read(body, false); err != nil {
		return err
	}
	return c.change(e, st)
}

func (c *call) patchUser() error {
	e, err := c.member()
	if err != nil {
		return err
	}
	ops, err := c.operations()
	if err != nil {
		return err
	}
	st := stateOf(e)
	for _, op := range ops {
		if op.path == nil {
			values, ok := op.value.(map[string]any)
			if !ok || op.op == "remove" {
				return badRequest(noTarget, "scim.patch_no_path", nil)
			}
			values, err := underSchema(values, schemaUser)
			if err != nil {
				return err
			}
			for k, v := range values {
				if strings.EqualFold(k, schemaEnterprise) {
					continue // nothing of the extension is kept
				}
				p, err := filter.ParsePath([]byte(k))
				if err != nil {
					return badRequest(invalidPath, "scim.path_invalid", map[string]any{"path": k})
				}
				if err := st.apply(op.op, p, v); err != nil {
					return err
				}
			}
			continue
		}
		if err := st.apply(op.op, *op.path, op.value); err != nil {
			return err
		}
	}
	return c.change(e, st)
}

// underSchema returns the attributes of a PATCH operation without a path,
// with those it names under their core schema's URN (as a resource carries
// an extension's: {"urn:…:core:2.0:User": {"title": "…"}}) brought up
// beside the others (they win over the same names outside it). A value
// there that is not an object is refused.
func underSchema(values map[string]any, core string) (map[string]any, error) {
	out := make(map[string]any, len(values))
	for k, v := range values {
		if !strings.EqualFold(k, core) {
			out[k] = v
		}
	}
	for k, v := range values {
		if !strings.EqualFold(k, core) {
			continue
		}
		inner, ok := v.(map[string]any)
		if !ok {
			return nil, badRequest(invalidValue, "scim.value_type", map[string]any{"attribute": k, "type": "complex"})
		}
		for ik, iv := range inner {
			out[ik] = iv
		}
	}
	return out, nil
}

// ignored are the User attributes equipe does not keep: a directory may
// send them, and they change nothing (the names, taken on creation, are
// not among them: see names).
var ignored = map[string]bool{"nickname": true, "profileurl": true, "usertype": true,
	"preferredlanguage": true, "locale": true, "timezone": true, "phonenumbers": true, "addresses": true, "photos": true,
	"ims": true, "entitlements": true, "roles": true, "x509certificates": true, "password": true}

// readOnly are the attributes the service sets.
var readOnly = map[string]bool{"id": true, "meta": true, "groups": true, "schemas": true}

// apply applies one operation of a PATCH (add, replace or remove) at path.
func (st *userState) apply(op string, path filter.Path, value any) error {
	if uri := path.AttributePath.URI(); uri != "" && !strings.EqualFold(uri, schemaUser) {
		return nil // an extension's attribute: nothing of it is kept
	}
	name := strings.ToLower(path.AttributePath.AttributeName)
	remove := op == "remove"
	var err error
	switch {
	case ignored[name]:
		return nil
	case name == "name" || name == "displayname":
		if remove {
			value = nil
		}
		return st.names(name, path.AttributePath.SubAttribute, value)
	case readOnly[name]:
		return badRequest(mutability, "scim.read_only", map[string]any{"attribute": path.AttributePath.AttributeName})
	case name == "active":
		if remove {
			return badRequest(invalidValue, "scim.value_type", map[string]any{"attribute": "active", "type": "boolean"})
		}
		st.active, err = boolean("active", value)
	case name == "externalid" || name == "title":
		s := ""
		if !remove && value != nil { // null is unassigned (RFC 7643 §2.5): cleared
			var ok bool
			if s, ok = value.(string); !ok {
				return badRequest(invalidValue, "scim.value_type", map[string]any{"attribute": path.AttributePath.AttributeName, "type": "string"})
			}
		}
		if name == "title" {
			st.title = s
		} else {
			st.externalID = s
		}
	case name == "username":
		if s, ok := value.(string); remove || !ok || !sameEmail(s, st.email) {
			return badRequest(mutability, "scim.username_immutable", nil)
		}
	case name == "emails":
		// The addresses are the login email, which is the person's (see
		// userName): whatever a directory sends there is not kept, as on
		// creation and in a PUT. A directory whose mail is not its
		// userName (Entra's mail beside a UPN) sends its own address
		// there with every change, and the change must go through.
		return nil
	default:
		return badRequest(invalidPath, "scim.path_invalid", map[string]any{"path": path.String()})
	}
	return err
}

// names takes, at the User's name (attr "name", whole or one of sub's) or
// its displayName, what a directory sends after the member was added, and
// keeps none of it, as it keeps none of the addresses it sends (emails):
// the names a member is added under are taken on creation and shown until
// they join, and from then on they are the person's own, set by them for
// every account they belong to, which no account's key may change. A
// directory sends its names with every change of a member whose names
// differ from its own (Entra ID with its default mappings, Okta with a
// profile push): refused, the rest of the change would be refused with
// them, again at every synchronisation, a deactivation included. Only the
// value's form is checked: name is complex, its parts and displayName
// strings.
func (st *userState) names(attr string, sub *string, value any) error {
	str := func(v any) bool {
		_, ok := v.(string)
		return ok || v == nil
	}
	switch {
	case attr == "displayname" || sub != nil:
		if !str(value) {
			return badRequest(invalidValue, "scim.value_type", map[string]any{"attribute": attr, "type": "string"})
		}
	case value != nil:
		m, ok := value.(map[string]any)
		if !ok {
			return badRequest(invalidValue, "scim.value_type", map[string]any{"attribute": "name", "type": "complex"})
		}
		for k, v := range m {
			if !str(v) {
				return badRequest(invalidValue, "scim.value_type", map[string]any{"attribute": "name." + k, "type": "string"})
			}
		}
	}
	return nil
}

// change applies to the member what the directory changed of them, in
// one unit of work, and answers the member as they stand.
func (c *call) change(e team.DirectoryEntry, st userState) error {
	was := stateOf(e)
	var ch team.MemberChange
	changed := false
	if st.externalID != was.externalID {
		ch.ExternalID, changed = &st.externalID, true
	}
	if st.title != was.title {
		ch.Title, changed = &st.title, true
	}
	if st.active != was.active {
		status := equipe.MemberSuspended
		if st.active {
			status = equipe.MemberActive
		}
		ch.Status, changed = &status, true
	}
	user := e.Member.UserID
	if changed {
		// The change and the invitation it calls for commit together: an
		// invitation refused (throttled) undoes the reactivation, so that
		// the directory's retry finds the member suspended and invites them.
		err := c.together(func() error {
			ctx := c.r.Context()
			after, err := c.s.Team.ChangeMember(ctx, c.actor, c.account.ID, user, ch)
			if err != nil {
				return err
			}
			// A member reactivated who was never sent their invitation
			// (created suspended) is sent it now.
			if ch.Status != nil && st.active && after.Status == equipe.MemberCreated && after.InvitationsSent == 0 {
				_, err = c.s.Team.Invite(ctx, c.actor, c.account.ID, user)
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	now, err := c.s.Team.DirectoryMember(c.r.Context(), c.actor, c.account.ID, user)
	if err != nil {
		return err
	}
	return c.respondUser(http.StatusOK, now)
}

func (c *call) deleteUser() error {
	id, err := c.userID()
	if err != nil {
		return err
	}
	if err := c.s.Team.RemoveMember(c.r.Context(), c.actor, c.account.ID, id); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// operation is one of a PATCH's Operations: op lower-cased, its path
// parsed (nil when absent).
type operation struct {
	op    string
	path  *filter.Path
	value any
}

// operations reads the request's PatchOp message (RFC 7644 §3.5.2).
func (c *call) operations() ([]operation, error) {
	body, err := c.body()
	if err != nil {
		return nil, err
	}
	schemas, _ := field(body, "schemas").([]any)
	isPatch := false
	for _, s := range schemas {
		if s, ok := s.(string); ok && strings.EqualFold(s, schemaPatch) {
			isPatch = true
		}
	}
	list, ok := field(body, "Operations").([]any)
	if !isPatch || !ok || len(list) == 0 {
		return nil, badRequest(invalidSyntax, "scim.patch_invalid", nil)
	}
	var out []operation
	for _, el := range list {
		m, ok := el.(map[string]any)
		if !ok {
			return nil, badRequest(invalidSyntax, "scim.patch_invalid", nil)
		}
		op, _ := field(m, "op").(string)
		op = strings.ToLower(op)
		if op != "add" && op != "replace" && op != "remove" {
			return nil, badRequest(invalidSyntax, "scim.patch_op_invalid", map[string]any{"op": op})
		}
		o := operation{op: op, value: field(m, "value")}
		if p, _ := field(m, "path").(string); p != "" {
			parsed, err := filter.ParsePath([]byte(p))
			if err != nil {
				return nil, badRequest(invalidPath, "scim.path_invalid", map[string]any{"path": p})
			}
			o.path = &parsed
		} else if op == "remove" {
			return nil, badRequest(noTarget, "scim.patch_no_path", nil)
		}
		out = append(out, o)
	}
	return out, nil
}
