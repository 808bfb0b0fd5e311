package team

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/work"
)

// RoleView is a role of an account, built-in or custom, with how many
// members hold it when the caller asked for the counts, and what the reader
// may do with it.
type RoleView struct {
	Role    access.Role
	Members int
	// Keys is how many API keys, not revoked, hold the role: counted by Role
	// only, for the deletion that must move them too.
	Keys    int
	Actions Actions
}

// Actions on a role.
const (
	RoleEdit   = "edit"
	RoleDelete = "delete"
)

// Roles returns the account's roles: the catalogue's built-in roles, then
// the account's custom roles, without counting their members (pages that
// only offer the roles as choices stay fast in accounts of any size). The
// actor must be able to view the members.
func (s *Service) Roles(ctx context.Context, actor Actor, account equipe.ID) ([]RoleView, error) {
	m, a, err := s.authorize(ctx, actor, account, "members.view")
	if err != nil {
		return nil, err
	}
	roles, err := s.accountRoles(ctx, account)
	if err != nil {
		return nil, err
	}
	return s.roleViews(ctx, m, a, account, roles)
}

// accountRoles returns the catalogue's built-in roles, then the account's
// custom roles.
func (s *Service) accountRoles(ctx context.Context, account equipe.ID) ([]access.Role, error) {
	custom, err := s.DB.Roles(ctx, account)
	if err != nil {
		return nil, err
	}
	out := make([]access.Role, 0, len(s.Catalogue.Roles)+len(custom))
	out = append(out, s.Catalogue.Roles...)
	for _, cr := range custom {
		out = append(out, customRole(cr))
	}
	return out, nil
}

// roleRule returns why the member m may not change or delete the role, or
// nil, as far as the role itself says: they need roles.manage, built-in
// roles are the catalogue's, and nobody changes a role that grants what they
// do not hold. Its holders may still outrank m (holdersOutrank).
func (s *Service) roleRule(m *access.Member, a *access.Account, r access.Role) error {
	if err := s.permission(m, a, "roles.manage"); err != nil {
		return err
	}
	if _, builtIn := s.Catalogue.Role(r.Key); builtIn {
		return forbidden("role.builtin_readonly", nil)
	}
	return s.mayGrantRole(m, r)
}

// roleActions answers what may be done with a role whose rule (roleRule,
// then holdersOutrank) answered refusal: changing and deleting it are
// refused alike.
func roleActions(refusal error) Actions {
	rule := allowed(refusal)
	return Actions{{RoleEdit, rule}, {RoleDelete, rule}}
}

// roleViews returns the roles with what the member m may do with each: the
// rule of the role (roleRule), then whether its holders outrank m
// (holdersOutrank, one query for all the roles), as UpdateRole and
// DeleteRole answer.
func (s *Service) roleViews(ctx context.Context, m *access.Member, a *access.Account, account equipe.ID, roles []access.Role) ([]RoleView, error) {
	rules := make([]error, len(roles))
	var given []access.Role
	for i, r := range roles {
		if rules[i] = s.roleRule(m, a, r); rules[i] == nil {
			given = append(given, r)
		}
	}
	outranked, err := s.holdersOutrank(ctx, s.DB.Queries, m, account, given)
	if err != nil {
		return nil, err
	}
	out := make([]RoleView, 0, len(roles))
	for i, r := range roles {
		rule := rules[i]
		if rule == nil {
			rule = outranked[r.Key]
		}
		out = append(out, RoleView{Role: r, Actions: roleActions(rule)})
	}
	return out, nil
}

// RolesCounted is a page of Roles (the whole list for the whole page), with
// how many members hold each role, counted in one pass over the account's
// members, and the cursor of the next page ("" after the last).
func (s *Service) RolesCounted(ctx context.Context, actor Actor, account equipe.ID, p equipe.Page) ([]RoleView, string, error) {
	m, a, err := s.authorize(ctx, actor, account, "members.view")
	if err != nil {
		return nil, "", err
	}
	if err := p.CheckOrWhole(); err != nil {
		return nil, "", err
	}
	roles, next, err := s.rolePage(ctx, account, p)
	if err != nil {
		return nil, "", err
	}
	counts, err := s.DB.CountMembersByRole(ctx, account)
	if err != nil {
		return nil, "", err
	}
	out, err := s.roleViews(ctx, m, a, account, roles)
	if err != nil {
		return nil, "", err
	}
	for i := range out {
		out[i].Members = counts[out[i].Role.Key]
	}
	return out, next, nil
}

// rolePage returns a page of the account's roles in the order of
// accountRoles: the catalogue's built-in roles (a few, in memory), then the
// custom roles by key, read from the cursor's key on.
func (s *Service) rolePage(ctx context.Context, account equipe.ID, p equipe.Page) ([]access.Role, string, error) {
	list := "roles/" + account.String()
	k, err := p.Key(list, 1)
	if err != nil {
		return nil, "", err
	}
	builtIn, customAfter := s.Catalogue.Roles, ""
	if k != nil {
		i := slices.IndexFunc(builtIn, func(r access.Role) bool { return r.Key == k[0] })
		if i >= 0 {
			builtIn = builtIn[i+1:]
		} else {
			builtIn, customAfter = nil, k[0]
		}
	}
	want := p.Limit + 1 // one more tells whether a page follows
	if p.Whole() {
		want = 0
	}
	out := make([]access.Role, 0, len(builtIn))
	out = append(out, builtIn...)
	if want == 0 || len(out) < want {
		n := 0
		if want > 0 {
			n = want - len(out)
		}
		custom, err := s.DB.RolesAfter(ctx, account, customAfter, n)
		if err != nil {
			return nil, "", err
		}
		for _, cr := range custom {
			out = append(out, customRole(cr))
		}
	}
	out, next := equipe.Cut(out, p, list, func(r access.Role) []string { return []string{r.Key} })
	return out, next, nil
}

// Granting is what an actor may give in an account: to a member, a key or
// a custom role.
type Granting struct {
	// Grants are the permissions the actor holds, at the scope they hold
	// them, in catalogue order: the most a role they make may grant, what
	// "select all" selects.
	Grants []access.Grant
	// Restricted is true when the actor reaches only the resources assigned
	// to them: the roles they make must be restricted as well.
	Restricted bool
	// Roles are the account's roles, each with whether the actor may give
	// it and, if not, why (as giving it would answer).
	Roles []RoleChoice
}

// RoleChoice is a role with whether the actor may give it.
type RoleChoice struct {
	Role access.Role
	Allowed
}

// Granting returns what the actor may give in the account. Anyone who
// reaches the account may know what they hold; an account out of reach
// answers ENOTFOUND.
func (s *Service) Granting(ctx context.Context, actor Actor, account equipe.ID) (Granting, error) {
	m, _, err := s.actorMember(ctx, actor, account)
	if err != nil {
		return Granting{}, err
	}
	if m == nil {
		s.refusedAcross(ctx, actor, account, "granting")
		return Granting{}, notFound()
	}
	roles, err := s.accountRoles(ctx, account)
	if err != nil {
		return Granting{}, err
	}
	g := Granting{Grants: s.Catalogue.GrantList(m.Set()), Restricted: m.LimitedToAssigned()}
	for _, r := range roles {
		g.Roles = append(g.Roles, RoleChoice{Role: r, Allowed: allowed(s.mayGrantRole(m, r))})
	}
	return g, nil
}

// Role returns one role of the account, with how many members and API keys
// hold it.
func (s *Service) Role(ctx context.Context, actor Actor, account equipe.ID, key string) (RoleView, error) {
	roles, err := s.Roles(ctx, actor, account)
	if err != nil {
		return RoleView{}, err
	}
	for _, r := range roles {
		if r.Role.Key == key {
			if r.Members, err = s.DB.CountMembersWithRole(ctx, account, key); err != nil {
				return RoleView{}, err
			}
			keys, err := s.DB.KeysWithRole(ctx, account, key)
			r.Keys = len(keys)
			return r, err
		}
	}
	return RoleView{}, notFound()
}

// RoleInput is a custom role as written by a person.
type RoleInput struct {
	// Key is given only when creating; empty, it is derived from the name
	// (see RoleKey).
	Key string
	// LabelFR and LabelEN name the role; one is enough, the other language
	// then shows it.
	LabelFR    string
	LabelEN    string
	Grants     []equipe.Grant
	Restricted bool
}

// checkRole validates a role's labels and grants. A role needs a name in
// one language at least.
func (s *Service) checkRole(in *RoleInput, v *equipe.Invalid) []access.Grant {
	fr, en := strings.TrimSpace(in.LabelFR), strings.TrimSpace(in.LabelEN)
	switch {
	case fr == "" && en == "":
		v.Add("label_fr", "role.label_required")
	case fr == "":
		in.LabelFR, in.LabelEN = "", identity.CheckLabel(v, "label_en", en, 60)
	case en == "":
		in.LabelFR, in.LabelEN = identity.CheckLabel(v, "label_fr", fr, 60), ""
	default:
		in.LabelFR = identity.CheckLabel(v, "label_fr", fr, 60)
		in.LabelEN = identity.CheckLabel(v, "label_en", en, 60)
	}
	gs := make([]access.Grant, 0, len(in.Grants))
	for _, g := range in.Grants {
		sc := access.ScopeNone
		if g.Scope != "" {
			var ok bool
			if sc, ok = access.ParseScope(g.Scope); !ok {
				v.Add("permissions."+g.Permission, "role.scope_unknown")
				continue
			}
		}
		gs = append(gs, access.Grant{Permission: g.Permission, Scope: sc})
	}
	if err := s.Catalogue.ValidateGrants(gs); err != nil {
		addGrantError(v, "permissions", err)
	}
	return gs
}

// CreateRole creates a custom role in the account. The actor needs
// roles.manage and must hold every permission the role grants, at least at
// its scope. A role created without a key gets one derived from its name
// (RoleKey), made unique in the account with a suffix. It returns the role
// as created, with what the actor may do with it: roles.manage does not
// imply members.view, which reading a role takes (Role), so whoever created
// it is answered here rather than refused after the write.
func (s *Service) CreateRole(ctx context.Context, actor Actor, account equipe.ID, in RoleInput) (RoleView, error) {
	m, a, err := s.authorize(ctx, actor, account, "roles.manage")
	if err != nil {
		return RoleView{}, err
	}
	var v equipe.Invalid
	in.Key = strings.TrimSpace(in.Key)
	derive := in.Key == ""
	switch {
	case derive:
	case !access.ValidKey(in.Key) || len(in.Key) > 40:
		v.Add("key", "role.key_invalid")
	case func() bool { _, ok := s.Catalogue.Role(in.Key); return ok }():
		v.Add("key", "role.key_builtin")
	}
	gs := s.checkRole(&in, &v)
	if err := v.Err(); err != nil {
		return RoleView{}, err
	}
	role := access.Role{Key: in.Key, Grants: gs, Restricted: in.Restricted}
	if err := s.mayGrantRole(m, role); err != nil {
		return RoleView{}, err
	}
	cr := equipe.CustomRole{AccountID: account, Key: in.Key, LabelFR: in.LabelFR, LabelEN: in.LabelEN,
		Grants: storedGrants(gs), Restricted: in.Restricted}
	err = s.do(ctx, actor, func(u *work.Unit) error {
		if derive {
			custom, err := u.Roles(ctx, account)
			if err != nil {
				return err
			}
			taken := map[string]bool{}
			for _, r := range s.Catalogue.Roles {
				taken[r.Key] = true
			}
			for _, r := range custom {
				taken[r.Key] = true
			}
			cr.Key = uniqueKey(RoleKey(orDefault(cr.LabelFR, cr.LabelEN)), taken)
		}
		cr.CreatedAt, cr.UpdatedAt = u.Now(), u.Now()
		if err := u.CreateRole(ctx, &cr); err != nil {
			return err
		}
		after := event.RoleOf(cr)
		return u.Record(ctx, event.RoleCreated.In(account, cr.Key, nil, &after))
	})
	if e := equipe.AsError(err); e.Code == equipe.ECONFLICT {
		return RoleView{}, &equipe.Error{Code: equipe.EINVALID, Key: "error.fields",
			Fields: []equipe.FieldError{{Field: "key", Key: "role.exists"}}}
	}
	if err != nil {
		return RoleView{}, err
	}
	// Nobody holds the role yet: none outranks its creator.
	created := customRole(cr)
	return RoleView{Role: created, Actions: roleActions(s.roleRule(m, a, created))}, nil
}

// UpdateRole changes a custom role; every member holding it is affected on
// their next request. The actor must hold what the role grants, before and
// after the change, and outrank every member holding it (outranks), as
// editing them would require. A change that changes nothing writes nothing
// and returns the role as it was.
func (s *Service) UpdateRole(ctx context.Context, actor Actor, account equipe.ID, key string, in RoleInput) (equipe.CustomRole, error) {
	m, _, err := s.authorize(ctx, actor, account, "roles.manage")
	if err != nil {
		return equipe.CustomRole{}, err
	}
	if _, ok := s.Catalogue.Role(key); ok {
		return equipe.CustomRole{}, forbidden("role.builtin_readonly", nil)
	}
	var v equipe.Invalid
	gs := s.checkRole(&in, &v)
	if err := v.Err(); err != nil {
		return equipe.CustomRole{}, err
	}
	var cr equipe.CustomRole
	err = s.do(ctx, actor, func(u *work.Unit) error {
		old, err := u.Role(ctx, account, key)
		if err != nil {
			return err
		}
		if err := s.mayGrantRole(m, customRole(old)); err != nil {
			return err
		}
		if err := s.mayGrantRole(m, access.Role{Key: key, Grants: gs, Restricted: in.Restricted}); err != nil {
			return err
		}
		cr = old
		cr.LabelFR, cr.LabelEN, cr.Grants, cr.Restricted, cr.UpdatedAt = in.LabelFR, in.LabelEN, storedGrants(gs), in.Restricted, u.Now()
		b, a := event.RoleOf(old), event.RoleOf(cr)
		if event.Same(b, a) {
			cr = old
			return nil
		}
		if err := s.mayChangeHolders(ctx, u, m, account, customRole(old)); err != nil {
			return err
		}
		if err := u.UpdateRole(ctx, &cr); err != nil {
			return err
		}
		if cr.LabelFR != old.LabelFR || cr.LabelEN != old.LabelEN {
			// Its holders' groups show its name.
			if err := u.RolesRenamed(ctx, account, []string{key}, u.Now()); err != nil {
				return err
			}
		}
		return u.Record(ctx, event.RoleChanged.In(account, key, &b, &a))
	})
	return cr, err
}

// DeleteRole deletes a custom role. Members and API keys (not revoked)
// holding it get replacement, which must be given when there are any
// (ECONFLICT "role.in_use" otherwise), and which the actor must be able to
// give, as to a member or a key (EINVALID on the field "replacement",
// "role.admin_only" or "role.beyond_own" otherwise; Granting says which
// they may give); the actor must outrank every member
// holding it (outranks), as editing them would require. A key is moved rather than left with a
// role that no longer exists: it would act with no rights while listed
// active, and with the rights of any role later created under the same key.
func (s *Service) DeleteRole(ctx context.Context, actor Actor, account equipe.ID, key, replacement string) error {
	m, _, err := s.authorize(ctx, actor, account, "roles.manage")
	if err != nil {
		return err
	}
	if _, ok := s.Catalogue.Role(key); ok {
		return forbidden("role.builtin_readonly", nil)
	}
	return s.do(ctx, actor, func(u *work.Unit) error {
		old, err := u.Role(ctx, account, key)
		if err != nil {
			return err
		}
		if err := s.mayGrantRole(m, customRole(old)); err != nil {
			return err
		}
		n, err := u.CountMembersWithRole(ctx, account, key)
		if err != nil {
			return err
		}
		keys, err := u.KeysWithRole(ctx, account, key)
		if err != nil {
			return err
		}
		if n > 0 || len(keys) > 0 {
			if replacement == "" || replacement == key {
				return &equipe.Error{Code: equipe.ECONFLICT, Key: "role.in_use",
					Args: map[string]any{"count": n + len(keys), "members": n, "keys": len(keys)}}
			}
			repl, found, err := s.resolveRole(ctx, u.Tx.Queries, account, replacement)
			if err != nil {
				return err
			}
			if !found {
				return fieldError("replacement", "role.unknown")
			}
			if err := s.mayGrantRole(m, repl); err != nil {
				// The replacement is the request's own choice: a problem with
				// that field, beside it, as an unknown role is.
				e := equipe.AsError(err)
				return &equipe.Error{Code: equipe.EINVALID, Key: "error.fields",
					Fields: []equipe.FieldError{{Field: "replacement", Key: e.Key, Args: e.Args}}}
			}
			if err := s.mayChangeHolders(ctx, u, m, account, customRole(old)); err != nil {
				return err
			}
			if _, err := u.ReplaceRole(ctx, account, key, replacement, u.Now()); err != nil {
				return err
			}
			if _, err := u.ReplaceKeyRole(ctx, account, keys, key, replacement); err != nil {
				return err
			}
		}
		if err := u.DeleteRole(ctx, account, key); err != nil {
			return err
		}
		b := event.RoleOf(old)
		return u.Record(ctx, event.RoleDeleted.In(account, key, &b,
			&event.RoleRemoval{Replacement: replacement, MembersMoved: n, KeysMoved: len(keys)}))
	})
}

// mayChangeHolders returns why the actor m, who may give the role
// (mayGrantRole), may not change or take it away from the account's members
// who hold it: member.outranks, as editing the first of them who holds
// something m does not would answer (holdersOutrank). The keys holding the
// role need no such check: a key holds its role alone, within its creator's
// rights, and the actor must be able to give the role.
func (s *Service) mayChangeHolders(ctx context.Context, u *work.Unit, m *access.Member, account equipe.ID, role access.Role) error {
	refusals, err := s.holdersOutrank(ctx, u.Tx.Queries, m, account, []access.Role{role})
	if err != nil {
		return err
	}
	return refusals[role.Key]
}

// holdersOutrank returns, for each of roles that the member m may give
// (mayGrantRole, checked by the caller), the refusal of changing it or taking
// it away from its holders: member.outranks, as editing the first holder
// who holds something m does not would answer (outranks). A role none of
// whose holders outranks m is not in the map.
//
// It reads only the holders who may hold more than their role grants
// (store.RoleHoldersBeyond: those with overrides, and, for an actor limited
// to assigned resources, those assigned elsewhere), in one query for every
// role: the others hold the role and nothing more, which m, who may give
// it, covers. A manager changing a role in an account of thousands of
// members reads a few of them, not all (BenchmarkUpdateRole_ByAManager).
func (s *Service) holdersOutrank(ctx context.Context, q store.Queries, m *access.Member, account equipe.ID, roles []access.Role) (map[string]error, error) {
	if len(roles) == 0 || isAdmin(m) {
		return nil, nil
	}
	byKey := make(map[string]access.Role, len(roles))
	keys := make([]string, 0, len(roles))
	for _, r := range roles {
		byKey[r.Key] = r
		keys = append(keys, r.Key)
	}
	holders, err := q.RoleHoldersBeyond(ctx, account, keys, m.LimitedToAssigned(), m.Resources())
	if err != nil {
		return nil, err
	}
	out := map[string]error{}
	for _, h := range holders {
		if out[h.Role] != nil {
			continue
		}
		err := s.outranks(m, h.Role, func() (*access.Member, error) {
			resources, err := q.MemberResources(ctx, account, h.UserID)
			if err != nil {
				return nil, err
			}
			return s.Catalogue.Compile(access.Input{UserID: h.UserID, AccountID: h.AccountID, Role: byKey[h.Role],
				Overrides: overrides(h.Overrides), Resources: resources, Status: access.StatusOf(h.Status)}), nil
		})
		switch {
		case isRefusal(err):
			out[h.Role] = err
		case err != nil:
			return nil, err
		}
	}
	return out, nil
}

func storedGrants(gs []access.Grant) []equipe.Grant {
	out := make([]equipe.Grant, 0, len(gs))
	for _, g := range gs {
		out = append(out, equipe.Grant{Permission: g.Permission, Scope: g.Scope.String()})
	}
	return out
}

// roleKeyLength is the longest key derived from a role's name, leaving room
// for a suffix within the 40 characters a key may have.
const roleKeyLength = 36

// RoleKey derives a role's key from its name: lower-case ASCII letters and
// digits, accents removed ("Comptabilité générale" gives
// "comptabilite_generale"), other characters joined into underscores,
// starting with a letter, at most 36 characters. A name with nothing to
// keep gives "role".
func RoleKey(name string) string {
	var b strings.Builder
	gap := false
	for _, r := range norm.NFD.String(name) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		r = unicode.ToLower(r)
		if w, ok := ligatures[r]; ok {
			if gap && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteString(w)
			gap = false
			continue
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if gap && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
			gap = false
			continue
		}
		gap = true
	}
	key := b.String()
	if key != "" && (key[0] < 'a' || key[0] > 'z') {
		key = "role_" + key
	}
	if len(key) > roleKeyLength {
		key = strings.TrimRight(key[:roleKeyLength], "_")
	}
	if key == "" {
		return "role"
	}
	return key
}

// ligatures are the letters that decompose into two ASCII letters rather
// than into a letter and an accent.
var ligatures = map[rune]string{'œ': "oe", 'æ': "ae", 'ß': "ss", 'ø': "o", 'ł': "l", 'đ': "d", 'ð': "d", 'þ': "th"}

// uniqueKey returns key, or key with the first suffix _2, _3… that is not
// taken.
func uniqueKey(key string, taken map[string]bool) string {
	if !taken[key] {
		return key
	}
	for i := 2; ; i++ {
		if k := key + "_" + strconv.Itoa(i); !taken[k] {
			return k
		}
	}
}
