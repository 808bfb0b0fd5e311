package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/uuid"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/team"
)

// nullableID is a JSON field that may be absent, null, or an ID: the check
// API tells "no record owner given" (absent) from "the record has no owner"
// (null).
type nullableID struct {
	present, null bool
	raw           string
}

// UnmarshalJSON reads null, or the string the JSON text says, escapes
// decoded ("jos\u00e9" is "josé", as a client that escapes every non-ASCII
// letter writes it). Anything else is of the wrong type, refused as a
// member of the wrong type is.
func (n *nullableID) UnmarshalJSON(b []byte) error {
	n.present = true
	switch jsontext.Value(b).Kind() {
	case 'n':
		n.null = true
		return nil
	case '"':
		return json.Unmarshal(b, &n.raw)
	}
	return errNotString
}

// errNotString is the error of a JSON value that should be a string.
var errNotString = errors.New("not a string")

// nullableText is a JSON field of a change that may be absent (no
// change), null (cleared) or a string (set).
type nullableText struct {
	present, null, bad bool
	text               string
}

func (n *nullableText) UnmarshalJSON(b []byte) error {
	n.present = true
	switch v := jsontext.Value(b); v.Kind() {
	case 'n':
		n.null = true
	case '"':
		return json.Unmarshal(b, &n.text)
	default:
		n.bad = true
	}
	return nil
}

// change returns the change to make (nil: none; "": clear), or the field
// error of a value that is no string, or an empty external ID (null clears
// it; an empty notification email clears it as null does).
func (n nullableText) change(field string) (*string, error) {
	switch {
	case !n.present:
		return nil, nil
	case n.bad:
		return nil, &equipe.Error{Code: equipe.EINVALID, Key: "error.fields",
			Fields: []equipe.FieldError{{Field: field, Key: "request.wrong_type"}}}
	case n.null:
		empty := ""
		return &empty, nil
	case n.text == "" && field == "external_id":
		return nil, &equipe.Error{Code: equipe.EINVALID, Key: "error.fields",
			Fields: []equipe.FieldError{{Field: field, Key: "external_id.invalid"}}}
	}
	return &n.text, nil
}

// textPtr is nil for "", else a pointer to s: a JSON null for none.
func textPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type checkRequest struct {
	UserID     string     `json:"user_id"`
	AccountID  string     `json:"account_id"`
	Permission string     `json:"permission"`
	ResourceID *string    `json:"resource_id"`
	OwnerID    nullableID `json:"owner_id"`
}

type checkAnswer struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason"`
}

// appendJSON appends the answer as JSON, as json.Marshal writes it: the
// check API's answer is written by hand, without reflection, as it is the
// one written tens of thousands of times a second.
func (c checkAnswer) appendJSON(b []byte) []byte {
	b = append(b, `{"allowed":`...)
	b = strconv.AppendBool(b, c.Allowed)
	b = append(b, `,"reason":`...)
	b, _ = jsontext.AppendQuote(b, c.Reason)
	return append(b, '}')
}

// respondCheck writes the answer of a check.
func respondCheck(w http.ResponseWriter, c checkAnswer) error {
	buf := getBuf()
	defer putBuf(buf)
	buf.Write(c.appendJSON(buf.AvailableBuffer()))
	return respondJSON(w, buf.Bytes())
}

// parsedID is an identifier of a check request: an ID, or text that is none.
type parsedID struct {
	id equipe.ID
	ok bool
}

func parseID(s string) parsedID {
	id, err := equipe.ParseID(s)
	return parsedID{id, err == nil}
}

// parseIDBytes is parseID of the text b (as equipe.ParseID: uuid.Parse's
// forms, of 36 characters only).
func parseIDBytes(b []byte) parsedID {
	id, err := uuid.ParseBytes(b)
	if err != nil || len(b) != 36 {
		return parsedID{}
	}
	return parsedID{id, true}
}

// checkQuestion is a check request with its identifiers parsed, however it
// was read.
type checkQuestion struct {
	account, user parsedID
	permission    string
	hasResource   bool
	resource      parsedID
	ownerPresent  bool
	ownerNull     bool
	owner         parsedID
	// userExt and ownerExt: the vendor's identifiers given as
	// external_id:{id} for the user and the owner, or nil.
	userExt, ownerExt *string
}

func (c checkRequest) question() checkQuestion {
	q := checkQuestion{account: parseID(c.AccountID), user: parseID(c.UserID), permission: c.Permission,
		ownerPresent: c.OwnerID.present, ownerNull: c.OwnerID.null}
	if !q.user.ok {
		q.userExt = externalRef([]byte(c.UserID))
	}
	if c.ResourceID != nil {
		q.hasResource, q.resource = true, parseID(*c.ResourceID)
	}
	if c.OwnerID.present && !c.OwnerID.null {
		q.owner = parseID(c.OwnerID.raw)
		if !q.owner.ok {
			q.ownerExt = externalRef([]byte(c.OwnerID.raw))
		}
	}
	return q
}

// query turns a check request into the service's question. Identifiers that
// are not IDs name nothing: the answer is a denial with the reason, never an
// error a caller could mistake for anything but "no".
func (c checkQuestion) query() (team.CheckQuery, *checkAnswer) {
	deny := func(r access.Reason) (team.CheckQuery, *checkAnswer) {
		return team.CheckQuery{}, &checkAnswer{Reason: string(r)}
	}
	if !c.account.ok {
		return deny(access.DeniedUnknownAccount)
	}
	q := team.CheckQuery{Account: c.account.id, User: c.user.id, Permission: c.permission}
	switch {
	case c.userExt != nil:
		q.UserRef = &team.UserRef{Kind: team.RefExternal, Text: *c.userExt}
	case !c.user.ok:
		return deny(access.DeniedNotMember)
	}
	if c.hasResource {
		if !c.resource.ok {
			return deny(access.DeniedUnknownResource)
		}
		q.Query.Resource, q.Query.HasResource = c.resource.id, true
	}
	switch {
	case c.ownerNull:
		q.Query.Unowned = true
	case c.ownerExt != nil:
		q.OwnerRef = &team.UserRef{Kind: team.RefExternal, Text: *c.ownerExt}
	case c.ownerPresent:
		if !c.owner.ok {
			return deny(access.DeniedInvalidQuery)
		}
		q.Query.Owner, q.Query.OwnerKnown = c.owner.id, true
	}
	return q, nil
}

func (a *API) check(w http.ResponseWriter, r *http.Request) error {
	buf, err := readObject(w, r, maxBody)
	if err != nil {
		return err
	}
	defer putBuf(buf)
	var in checkQuestion
	if !parseCheck(buf.Bytes(), a.perms, &in) {
		// Not in the plain form: json.Unmarshal reads it, or says why not.
		slow := new(checkRequest)
		if err := unmarshal(buf.Bytes(), slow); err != nil {
			return err
		}
		in = slow.question()
	}
	q, early := in.query()
	if early != nil {
		return respondCheck(w, *early)
	}
	d, err := a.Team.Check(r.Context(), actor(r), q)
	if err != nil {
		return err
	}
	return respondCheck(w, checkAnswer{Allowed: d.Allowed, Reason: string(d.Reason)})
}

type batchRequest struct {
	Checks []checkRequest `json:"checks"`
}

type batchAnswer struct {
	Results []checkAnswer `json:"results"`
}

func (a *API) checkBatch(w http.ResponseWriter, r *http.Request) error {
	var in batchRequest
	if err := decodeMax(w, r, &in, maxBatchBody); err != nil {
		return err
	}
	if len(in.Checks) > 1000 {
		return &equipe.Error{Code: equipe.EINVALID, Key: "error.fields",
			Fields: []equipe.FieldError{{Field: "checks", Key: "check.batch_too_large", Args: map[string]any{"max": 1000}}}}
	}
	out := batchAnswer{Results: make([]checkAnswer, len(in.Checks))}
	act := actor(r)
	for i, c := range in.Checks {
		q, early := c.question().query()
		if early != nil {
			out.Results[i] = *early
			continue
		}
		d, err := a.Team.Check(r.Context(), act, q)
		if err != nil {
			return err
		}
		out.Results[i] = checkAnswer{Allowed: d.Allowed, Reason: string(d.Reason)}
	}
	return respond(w, http.StatusOK, out)
}

type effectiveView struct {
	AccountID   equipe.ID        `json:"account_id"`
	UserID      equipe.ID        `json:"user_id"`
	Role        string           `json:"role"`
	ViaFirm     bool             `json:"via_firm"`
	Blocked     string           `json:"blocked,omitempty"`
	Restricted  bool             `json:"restricted_to_assigned_resources"`
	Permissions []effectiveGrant `json:"permissions"`
	Resources   []equipe.ID      `json:"resources"`
}

type effectiveGrant struct {
	Permission string `json:"permission"`
	Scope      string `json:"scope,omitempty"`
	Source     string `json:"source"`
}

func (a *API) effectivePermissions(w http.ResponseWriter, r *http.Request) error {
	account, user, err := a.accountUser(r)
	if err != nil {
		return err
	}
	e, err := a.Team.EffectivePermissions(r.Context(), actor(r), account, user)
	if err != nil {
		return err
	}
	v := effectiveView{AccountID: account, UserID: user, Role: e.Member.RoleKey(), ViaFirm: e.ViaFirm,
		Blocked: string(e.Blocked), Restricted: e.Member.LimitedToAssigned(), Permissions: []effectiveGrant{},
		Resources: e.Resources}
	if v.Resources == nil {
		v.Resources = []equipe.ID{}
	}
	for _, p := range e.Permissions {
		v.Permissions = append(v.Permissions, effectiveGrant{Permission: p.Permission, Scope: p.Scope.String(), Source: p.Source})
	}
	return respond(w, http.StatusOK, v)
}

type labelView struct {
	FR string `json:"fr"`
	EN string `json:"en"`
}

// label shows a label in both languages; one given in a single language
// (a custom role named once) shows it in the other as well.
func label(l access.Label) labelView {
	return labelView{FR: l.In(equipe.LocaleFR), EN: l.In(equipe.LocaleEN)}
}

type permissionView struct {
	Key          string    `json:"key"`
	Group        string    `json:"group,omitempty"`
	Label        labelView `json:"label"`
	Description  labelView `json:"description"`
	Scopes       []string  `json:"scopes,omitempty"`
	DefaultScope string    `json:"default_scope,omitempty"`
}

type catalogueView struct {
	Groups        []map[string]any `json:"groups"`
	Permissions   []permissionView `json:"permissions"`
	ResourceTypes []map[string]any `json:"resource_types"`
	Roles         []roleView       `json:"roles"`
	JobTitles     []map[string]any `json:"job_titles"`
}

func (a *API) catalogue(w http.ResponseWriter, r *http.Request) error {
	c := a.Catalogue
	v := catalogueView{Groups: []map[string]any{}, ResourceTypes: []map[string]any{}, JobTitles: []map[string]any{}}
	for _, g := range c.Groups {
		v.Groups = append(v.Groups, map[string]any{"key": g.Key, "label": label(g.Label)})
	}
	for _, p := range c.Permissions {
		pv := permissionView{Key: p.Key, Group: p.Group, Label: label(p.Label), Description: label(p.Description),
			DefaultScope: p.DefaultScope.String()}
		for _, s := range p.Scopes {
			pv.Scopes = append(pv.Scopes, s.String())
		}
		v.Permissions = append(v.Permissions, pv)
	}
	for _, t := range c.ResourceTypes {
		v.ResourceTypes = append(v.ResourceTypes, map[string]any{"key": t.Key, "label": label(t.Label), "required": t.Required})
	}
	for _, ro := range c.Roles {
		v.Roles = append(v.Roles, viewRole(team.RoleView{Role: ro}, false))
	}
	for _, j := range c.JobTitles {
		v.JobTitles = append(v.JobTitles, map[string]any{"key": j.Key, "label": label(j.Label)})
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	return respond(w, http.StatusOK, v)
}

type memberView struct {
	UserID          equipe.ID               `json:"user_id"`
	Actions         actionsView             `json:"actions,omitempty"`
	Email           string                  `json:"email"`
	FirstName       string                  `json:"first_name"`
	LastName        string                  `json:"last_name"`
	Role            string                  `json:"role"`
	Status          string                  `json:"status"`
	Title           string                  `json:"title"`
	Resources       []equipe.ID             `json:"resources"`
	Overrides       map[string]overrideView `json:"overrides"`
	InvitationsSent int                     `json:"invitations_sent"`
	LastInvitedAt   *time.Time              `json:"last_invited_at"`
	LastLoginAt     *time.Time              `json:"last_login_at"`
	JoinedAt        *time.Time              `json:"joined_at"`
	CreatedAt       time.Time               `json:"created_at"`
	// SecondFactor: the member joined and has a second factor (an
	// authenticator app or a passkey).
	SecondFactor bool `json:"second_factor"`
	// UserDisabled: the member joined and the instance disabled their
	// identity (no login, every check about them denied, in every account).
	UserDisabled bool `json:"user_disabled"`
	// ExternalID: the vendor's identifier of the member in the account.
	ExternalID *string `json:"external_id"`
	// NotificationEmail: where the account's emails to the member go
	// instead of their login email (null: their login email).
	NotificationEmail *string `json:"notification_email"`
}

type overrideView struct {
	Allow bool   `json:"allow"`
	Scope string `json:"scope,omitempty"`
}

func viewMember(mv team.MemberView) memberView {
	m, u, resources := mv.Member, mv.User, mv.Resources
	v := memberView{UserID: m.UserID, Actions: viewActions(mv.Actions), Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, Role: m.Role,
		Status: string(m.Status), Title: m.Title, Resources: resources, Overrides: map[string]overrideView{},
		InvitationsSent: m.InvitationsSent, LastInvitedAt: timePtr(m.LastInvitedAt), LastLoginAt: timePtr(m.LastLoginAt),
		JoinedAt: timePtr(m.JoinedAt), CreatedAt: m.CreatedAt, SecondFactor: mv.SecondFactor, UserDisabled: !u.DisabledAt.IsZero(),
		ExternalID: textPtr(m.ExternalID), NotificationEmail: textPtr(m.NotificationEmail)}
	if v.Resources == nil {
		v.Resources = []equipe.ID{}
	}
	for _, o := range m.Overrides {
		v.Overrides[o.Permission] = overrideView{Allow: o.Allow, Scope: o.Scope}
	}
	return v
}

func (a *API) member(w http.ResponseWriter, r *http.Request) error {
	account, user, err := a.accountUser(r)
	if err != nil {
		return err
	}
	return a.respondMember(w, r, http.StatusOK, account, user)
}

type memberPatch struct {
	Role      *string                  `json:"role"`
	Overrides *map[string]overrideView `json:"overrides"`
	Resources *[]string                `json:"resources"`
	Title     *string                  `json:"title"`
	Status    *string                  `json:"status"`
	Clients   *[]string                `json:"clients"`
	// ExternalID: a string sets the member's, null clears it.
	ExternalID nullableText `json:"external_id"`
	// NotificationEmail: a string sets where the account writes to the
	// member instead of their login email, null clears it.
	NotificationEmail nullableText `json:"notification_email"`
}

func (a *API) changeMember(w http.ResponseWriter, r *http.Request) error {
	account, user, err := a.accountUser(r)
	if err != nil {
		return err
	}
	var in memberPatch
	if err := decode(w, r, &in); err != nil {
		return err
	}
	ch := team.MemberChange{Role: in.Role, Title: in.Title}
	if ext, err := in.ExternalID.change("external_id"); err != nil {
		return err
	} else if ext != nil {
		ch.ExternalID = ext
	}
	if notify, err := in.NotificationEmail.change("notification_email"); err != nil {
		return err
	} else if notify != nil {
		ch.NotificationEmail = notify
	}
	if in.Status != nil {
		st := equipe.MemberStatus(*in.Status)
		ch.Status = &st
	}
	if in.Overrides != nil {
		ovs := overridesOf(*in.Overrides)
		ch.Overrides = &ovs
	}
	if in.Resources != nil {
		ids, err := resourceIDs(*in.Resources)
		if err != nil {
			return err
		}
		ch.Resources = &ids
	}
	if in.Clients != nil {
		ids, err := clientIDs(*in.Clients)
		if err != nil {
			return err
		}
		ch.Clients = &ids
	}
	if _, err := a.Team.ChangeMember(r.Context(), actor(r), account, user, ch); err != nil {
		return err
	}
	return a.respondMember(w, r, http.StatusOK, account, user)
}

// overridesOf turns the API's override map into a list in a stable order.
func overridesOf(m map[string]overrideView) []equipe.Override {
	out := make([]equipe.Override, 0, len(m))
	for k, o := range m {
		out = append(out, equipe.Override{Permission: k, Allow: o.Allow, Scope: o.Scope})
	}
	sortOverrides(out)
	return out
}

// clientIDs parses client account IDs; one that is not an ID is a field
// error.
func clientIDs(raw []string) ([]equipe.ID, error) {
	ids := make([]equipe.ID, 0, len(raw))
	for _, s := range raw {
		id, err := equipe.ParseID(s)
		if err != nil {
			return nil, &equipe.Error{Code: equipe.EINVALID, Key: "error.fields",
				Fields: []equipe.FieldError{{Field: "clients", Key: "client.unknown"}}}
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// resourceIDs parses resource IDs; one that is not an ID is a field error.
func resourceIDs(raw []string) ([]equipe.ID, error) {
	ids := make([]equipe.ID, 0, len(raw))
	for _, s := range raw {
		id, err := equipe.ParseID(s)
		if err != nil {
			return nil, &equipe.Error{Code: equipe.EINVALID, Key: "error.fields",
				Fields: []equipe.FieldError{{Field: "resources", Key: "resource.unknown"}}}
		}
		ids = append(ids, id)
	}
	return ids, nil
}
