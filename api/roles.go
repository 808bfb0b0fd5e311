package api

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/team"
)

type roleView struct {
	Key         string         `json:"key"`
	Label       labelView      `json:"label"`
	Description labelView      `json:"description"`
	BuiltIn     bool           `json:"built_in"`
	Restricted  bool           `json:"restricted"`
	Permissions map[string]any `json:"permissions"`
	Members     *int           `json:"members,omitempty"`
	Actions     actionsView    `json:"actions,omitempty"`
}

// viewRole shows a role's grants as {"permission": true} for an unscoped
// permission and {"permission": "scope"} for a scoped one.
func viewRole(r team.RoleView, withMembers bool) roleView {
	v := roleView{Key: r.Role.Key, Label: label(r.Role.Label), Description: label(r.Role.Description),
		BuiltIn: r.Role.BuiltIn, Restricted: r.Role.Restricted, Permissions: map[string]any{}, Actions: viewActions(r.Actions)}
	for _, g := range r.Role.Grants {
		if g.Scope == access.ScopeNone {
			v.Permissions[g.Permission] = true
		} else {
			v.Permissions[g.Permission] = g.Scope.String()
		}
	}
	if withMembers {
		n := r.Members
		v.Members = &n
	}
	return v
}

func (a *API) roles(w http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	p, err := pageParam(r)
	if err != nil {
		return err
	}
	roles, next, err := a.Team.RolesCounted(r.Context(), actor(r), account, p)
	if err != nil {
		return err
	}
	out := newList[roleView](len(roles), next)
	for _, ro := range roles {
		out.Items = append(out.Items, viewRole(ro, true))
	}
	return respond(w, http.StatusOK, out)
}

func (a *API) role(w http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	ro, err := a.Team.Role(r.Context(), actor(r), account, r.PathValue("role"))
	if err != nil {
		return err
	}
	return respond(w, http.StatusOK, viewRole(ro, true))
}

type roleRequest struct {
	Key         string                     `json:"key"`
	LabelFR     *string                    `json:"label_fr"`
	LabelEN     *string                    `json:"label_en"`
	Permissions *map[string]jsontext.Value `json:"permissions"`
	Restricted  *bool                      `json:"restricted"`
}

// grants reads {"permission": true | false | "scope"}: true grants the
// permission (at its default scope), false leaves it out, a string names the
// scope.
func (a *API) grants(m map[string]jsontext.Value) ([]equipe.Grant, error) {
	var out []equipe.Grant
	var v equipe.Invalid
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		raw := m[k]
		switch raw.Kind() {
		case 't':
			g := equipe.Grant{Permission: k}
			if p, ok := a.Catalogue.Permission(k); ok && p.Scoped() {
				g.Scope = p.DefaultScope.String()
			}
			out = append(out, g)
		case 'f':
		case '"':
			out = append(out, equipe.Grant{Permission: k, Scope: strings.Trim(string(raw), `"`)})
		default:
			v.Add("permissions."+k, "request.wrong_type")
		}
	}
	return out, v.Err()
}

func (a *API) createRole(w http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	var in roleRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	ri := team.RoleInput{Key: in.Key, LabelFR: deref(in.LabelFR), LabelEN: deref(in.LabelEN), Restricted: in.Restricted != nil && *in.Restricted}
	if in.Permissions != nil {
		if ri.Grants, err = a.grants(*in.Permissions); err != nil {
			return err
		}
	}
	// The use case answers with the role it created: reading it again would
	// take members.view, which a creator may lack, after the write.
	ro, err := a.Team.CreateRole(r.Context(), actor(r), account, ri)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/accounts/"+account.String()+"/roles/"+ro.Role.Key)
	return respond(w, http.StatusCreated, viewRole(ro, true))
}

func (a *API) updateRole(w http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	key := r.PathValue("role")
	var in roleRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Key != "" && in.Key != key {
		return &equipe.Error{Code: equipe.EINVALID, Key: "error.fields",
			Fields: []equipe.FieldError{{Field: "key", Key: "role.key_readonly"}}}
	}
	cur, err := a.Team.Role(r.Context(), actor(r), account, key)
	if err != nil {
		return err
	}
	ri := team.RoleInput{LabelFR: cur.Role.Label.FR, LabelEN: cur.Role.Label.EN, Restricted: cur.Role.Restricted}
	for _, g := range cur.Role.Grants {
		ri.Grants = append(ri.Grants, equipe.Grant{Permission: g.Permission, Scope: g.Scope.String()})
	}
	if in.LabelFR != nil {
		ri.LabelFR = *in.LabelFR
	}
	if in.LabelEN != nil {
		ri.LabelEN = *in.LabelEN
	}
	if in.Restricted != nil {
		ri.Restricted = *in.Restricted
	}
	if in.Permissions != nil {
		if ri.Grants, err = a.grants(*in.Permissions); err != nil {
			return err
		}
	}
	if _, err := a.Team.UpdateRole(r.Context(), actor(r), account, key, ri); err != nil {
		return err
	}
	ro, err := a.Team.Role(r.Context(), actor(r), account, key)
	if err != nil {
		return err
	}
	return respond(w, http.StatusOK, viewRole(ro, true))
}

func (a *API) deleteRole(w http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	if err := a.Team.DeleteRole(r.Context(), actor(r), account, r.PathValue("role"), r.URL.Query().Get("replacement")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type keyView struct {
	ID         equipe.ID  `json:"id"`
	AccountID  *equipe.ID `json:"account_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Role       string     `json:"role,omitempty"`
	Purpose    string     `json:"purpose"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	// Status: active, inactive (its creator may not act now; InactiveReason
	// says why, with the code its requests are refused with) or revoked
	// (RevokedReason says why when the service revoked it).
	Status         string      `json:"status"`
	InactiveReason string      `json:"inactive_reason,omitempty"`
	RevokedReason  string      `json:"revoked_reason,omitempty"`
	Narrowed       bool        `json:"narrowed"`
	Secret         string      `json:"secret,omitempty"`
	Actions        actionsView `json:"actions,omitempty"`
}

func viewKey(kv team.KeyView) keyView {
	k := kv.APIKey
	v := keyView{ID: k.ID, AccountID: k.AccountID, Name: k.Name, Prefix: k.Prefix, Role: k.Role, Purpose: keyPurpose(k.Purpose),
		CreatedAt: k.CreatedAt, LastUsedAt: timePtr(k.LastUsedAt), RevokedAt: timePtr(k.RevokedAt), Status: "active",
		InactiveReason: kv.Inactive, RevokedReason: k.RevokedReason, Narrowed: kv.Narrowed, Actions: viewActions(kv.Actions)}
	switch {
	case !k.RevokedAt.IsZero():
		v.Status = "revoked"
	case kv.Inactive != "":
		v.Status = "inactive"
	}
	return v
}

// keyPurpose is how the API names a key's purpose: the JSON API's keys
// are "api".
func keyPurpose(p string) string {
	if p == equipe.KeyAPI {
		return "api"
	}
	return p
}

// purposeOfKey reads a key's purpose as the API names it (keyPurpose).
func purposeOfKey(p string) string {
	if p == "api" {
		return equipe.KeyAPI
	}
	return p
}

type keyRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
	// Purpose: "api" (the default) or "scim" (an account key for the SCIM
	// service alone).
	Purpose string `json:"purpose"`
}

func (a *API) listKeys(w http.ResponseWriter, r *http.Request, account *equipe.ID) error {
	p, err := pageParam(r)
	if err != nil {
		return err
	}
	keys, next, err := a.Team.Keys(r.Context(), actor(r), account, p)
	if err != nil {
		return err
	}
	out := newList[keyView](len(keys), next)
	for _, k := range keys {
		out.Items = append(out.Items, viewKey(k))
	}
	return respond(w, http.StatusOK, out)
}

func (a *API) createKey(w http.ResponseWriter, r *http.Request, account *equipe.ID) error {
	var in keyRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	k, secret, err := a.Team.CreateKey(r.Context(), actor(r), account, team.NewKey{Name: in.Name, Role: in.Role,
		Purpose: purposeOfKey(in.Purpose)})
	if err != nil {
		return err
	}
	v := viewKey(team.KeyView{APIKey: k})
	v.Secret = secret
	return respond(w, http.StatusCreated, v)
}

func (a *API) revokeKey(w http.ResponseWriter, r *http.Request, account *equipe.ID) error {
	id, err := pathID(r, "key")
	if err != nil {
		return err
	}
	if err := a.Team.RevokeKey(r.Context(), actor(r), account, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) accountKeys(w http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	return a.listKeys(w, r, &account)
}

func (a *API) createAccountKey(w http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	return a.createKey(w, r, &account)
}

func (a *API) revokeAccountKey(w http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	return a.revokeKey(w, r, &account)
}

func (a *API) instanceKeys(w http.ResponseWriter, r *http.Request) error {
	return a.listKeys(w, r, nil)
}

func (a *API) createInstanceKey(w http.ResponseWriter, r *http.Request) error {
	return a.createKey(w, r, nil)
}

func (a *API) revokeInstanceKey(w http.ResponseWriter, r *http.Request) error {
	return a.revokeKey(w, r, nil)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func sortOverrides(os []equipe.Override) {
	slices.SortFunc(os, func(a, b equipe.Override) int { return strings.Compare(a.Permission, b.Permission) })
}
