package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/store"
)

// auditActions are the actions the audit page filters by — every action the
// service records in an account's log — in the order of its list: those of a
// team's life first. A suspension and a reactivation are member changes.
var auditActions = []string{
	"member.added", "invitation.sent", "invitation.resent", "invitation.revoked", "member.joined", "member.changed",
	"member.password_reset_sent", "member.removed", "role.created", "role.changed", "role.deleted",
	"contact.created", "contact.changed", "contact.deleted", "resource.created",
	"client.staff_assigned", "client.staff_unassigned", "client.detached",
	"api_key.created", "api_key.revoked", "account.created", "account.changed",
}

// auditFilterLabels name in the filter list the actions whose own label
// would hide what they cover.
var auditFilterLabels = map[string]string{
	"member.changed": "audit.filter.member_changed",
}

// auditFieldOrder is the order in which an event's changes are listed.
var auditFieldOrder = []string{"first_name", "last_name", "email", "phone", "kinds", "user_id", "type", "name", "role",
	"owner", "creator", "status", "title", "overrides", "resources", "label_fr", "label_en", "grants", "restricted",
	"replacement", "members_moved", "locale", "first_resource", "parent_id", "requires_activation", "invitation_ttl_hours",
	"invitations_sent", "template", "expires_at", "reason"}

// contactFieldKeys label a contact's fields as its form does.
var contactFieldKeys = map[string]string{
	"first_name": "field.first_name",
	"last_name":  "field.last_name",
	"email":      "contacts.email",
	"phone":      "contacts.phone",
	"kinds":      "contacts.kinds",
}

const auditPageSize = 50

type auditPage struct {
	Frame   accountFrame
	Actions []option
	// Member and Actor are the names of the member filters, when set, with
	// the page without that filter.
	Member, MemberClear string
	Actor, ActorClear   string
	MemberID, ActorID   string
	Events              []auditLine
	Pages               pager
}

type auditLine struct {
	At         time.Time
	Actor      string
	ActorHref  string
	Action     string
	Target     string
	TargetHref string
	Changes    []auditChange
	IP         string
}

type auditChange struct {
	Field  string
	Before string // empty when the field is new
	After  string
}

func (w *Web) audit(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	act := actor(r)
	q := r.URL.Query()
	f := store.AuditFilter{Action: q.Get("action"), Limit: auditPageSize}
	if !slices.Contains(auditActions, f.Action) && !strings.Contains(f.Action, ".") {
		f.Action = ""
	}
	memberID, actorID := idParam(q, "member"), idParam(q, "actor")
	if memberID != nil {
		f.TargetID = memberID.String()
	}
	f.ActorID = actorID
	f.Before = idParam(q, "cursor")
	events, next, err := w.Team.AuditPage(r.Context(), act, account, f)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	frame, err := w.frame(r, account, "audit")
	if err != nil {
		return err
	}
	p := w.page(r, "page.audit")
	n := &auditNames{w: w, r: r, account: account, locale: p.Locale, users: map[string]string{}}
	if err := n.load(); err != nil {
		return err
	}
	base := frame.URL("/audit")
	link := func(member, actor *equipe.ID, cursor string) string {
		v := url.Values{}
		if f.Action != "" {
			v.Set("action", f.Action)
		}
		if member != nil {
			v.Set("member", member.String())
		}
		if actor != nil {
			v.Set("actor", actor.String())
		}
		if cursor != "" {
			v.Set("cursor", cursor)
		}
		if len(v) == 0 {
			return base
		}
		return base + "?" + v.Encode()
	}
	d := auditPage{Frame: frame}
	d.Actions = append(d.Actions, option{Value: "", Label: w.I18n.T(p.Locale, "audit.all_actions", nil)})
	actions := auditActions
	if f.Action != "" && !slices.Contains(actions, f.Action) {
		actions = append(slices.Clone(actions), f.Action)
	}
	for _, a := range actions {
		label := w.actionLabel(p.Locale, a)
		if key, ok := auditFilterLabels[a]; ok {
			label = w.I18n.T(p.Locale, key, nil)
		}
		d.Actions = append(d.Actions, option{Value: a, Label: label, Selected: a == f.Action})
	}
	if memberID != nil {
		d.Member, d.MemberID, d.MemberClear = n.user(memberID.String()), memberID.String(), link(nil, actorID, "")
	}
	if actorID != nil {
		d.Actor, d.ActorID, d.ActorClear = n.user(actorID.String()), actorID.String(), link(memberID, nil, "")
	}
	n.deletedRoles(events)
	for _, e := range events {
		d.Events = append(d.Events, w.auditLine(p.Locale, n, frame, e, func(id equipe.ID, asActor bool) string {
			if asActor {
				return link(memberID, &id, "")
			}
			return link(&id, actorID, "")
		}))
	}
	d.Pages.Newest = true
	if next != "" {
		d.Pages.Next = link(memberID, actorID, next)
	}
	if f.Before != nil {
		d.Pages.First = link(memberID, actorID, "")
	}
	p.Data = d
	return w.render(rw, r, http.StatusOK, "audit", p)
}

// idParam returns the ID a query parameter names, or nil.
func idParam(q url.Values, name string) *equipe.ID {
	id, err := equipe.ParseID(q.Get(name))
	if err != nil {
		return nil
	}
	return &id
}

// actionLabel names an audit action in locale (the action keys are message
// keys); an action without a message goes by its key.
func (w *Web) actionLabel(locale, action string) string {
	if w.I18n.Has(action) {
		return w.I18n.T(locale, action, nil)
	}
	return action
}

// auditNames names the people, roles, resources, contacts, keys and
// accounts events speak of, as the reader may see them.
type auditNames struct {
	w         *Web
	r         *http.Request
	account   equipe.ID
	locale    string
	acct      equipe.Account // the account whose log it is
	users     map[string]string
	roles     map[string]string
	resources map[string]string
	contacts  map[string]string // "": not readable now
	accounts  map[string]string // "": out of the reader's reach
	keys      map[string]string // nil until an event names a key
}

func (n *auditNames) load() error {
	acct, err := n.w.Team.Account(n.r.Context(), actor(n.r), n.account)
	if err != nil {
		return err
	}
	n.acct = acct
	n.contacts, n.accounts = map[string]string{}, map[string]string{}
	roles, err := n.w.Team.Roles(n.r.Context(), actor(n.r), n.account)
	if equipe.ErrorCode(err) == equipe.EFORBIDDEN {
		roles, err = nil, nil
	}
	if err != nil {
		return err
	}
	n.roles = map[string]string{}
	for _, r := range n.w.Catalogue.Roles {
		n.roles[r.Key] = roleName(r, n.locale)
	}
	for _, ro := range roles {
		n.roles[ro.Role.Key] = roleName(ro.Role, n.locale)
	}
	resources, err := n.w.Team.Resources(n.r.Context(), actor(n.r), n.account)
	if equipe.ErrorCode(err) == equipe.EFORBIDDEN {
		resources, err = nil, nil
	}
	if err != nil {
		return err
	}
	n.resources = map[string]string{}
	for _, res := range resources {
		n.resources[res.ID.String()] = res.Name
	}
	return nil
}

// deletedRoles names the custom roles deleted since by the names the
// events record for them (the newest first).
func (n *auditNames) deletedRoles(events []equipe.AuditEvent) {
	for _, e := range events {
		if e.TargetType != "role" {
			continue
		}
		if _, ok := n.roles[e.TargetID]; ok {
			continue
		}
		for _, s := range []string{e.Before, e.After} {
			if name := stringArg(auditState(s), "label_"+n.locale); name != "" {
				n.roles[e.TargetID] = name
				break
			}
		}
	}
}

// user names a user by their membership of the account: someone who left is
// a former member, since the account has no business knowing them now. In a
// client account, the firm's staff act without being members: they go by
// their membership of the firm, for readers who may see its members.
func (n *auditNames) user(id string) string {
	if name, ok := n.users[id]; ok {
		return name
	}
	name := n.w.I18n.T(n.locale, "audit.former_member", nil)
	if uid, err := equipe.ParseID(id); err == nil {
		_, u, _, err := n.w.Team.Member(n.r.Context(), actor(n.r), n.account, uid)
		if equipe.ErrorCode(err) == equipe.ENOTFOUND && n.acct.ParentID != nil {
			_, u, _, err = n.w.Team.Member(n.r.Context(), actor(n.r), *n.acct.ParentID, uid)
		}
		switch equipe.ErrorCode(err) {
		case "":
			name = personName(u)
		case equipe.EFORBIDDEN:
			name = n.w.I18n.T(n.locale, "audit.a_member", nil)
		}
	}
	n.users[id] = name
	return name
}

// contact names a contact as the contacts page does; one deleted (or out of
// the reader's sight) goes by the name its event recorded.
func (n *auditNames) contact(id string, states ...map[string]any) string {
	name, ok := n.contacts[id]
	if !ok {
		if cid, err := equipe.ParseID(id); err == nil {
			if c, err := n.w.Team.Contact(n.r.Context(), actor(n.r), n.account, cid); err == nil {
				name = contactName(c)
			}
		}
		n.contacts[id] = name
	}
	for _, s := range states {
		if name != "" {
			break
		}
		name = contactName(equipe.Contact{FirstName: stringArg(s, "first_name"), LastName: stringArg(s, "last_name"),
			Email: stringArg(s, "email")})
	}
	if name == "" {
		return n.w.I18n.T(n.locale, "audit.a_contact", nil)
	}
	return name
}

// accountName names an account an event speaks of — this one, a client of
// the firm, a client's firm — when the reader reaches it, or returns "".
func (n *auditNames) accountName(id string) string {
	if id == n.acct.ID.String() {
		return n.acct.Name
	}
	if name, ok := n.accounts[id]; ok {
		return name
	}
	name := ""
	if aid, err := equipe.ParseID(id); err == nil {
		if a, err := n.w.Team.Account(n.r.Context(), actor(n.r), aid); err == nil {
			name = a.Name
		}
	}
	n.accounts[id] = name
	return name
}

// key names an API key: by the name its event recorded, else by the name it
// has, for readers who manage keys.
func (n *auditNames) key(id string, state map[string]any) string {
	name := stringArg(state, "name")
	if name == "" {
		if n.keys == nil {
			n.keys = map[string]string{}
			keys, err := n.w.Team.Keys(n.r.Context(), actor(n.r), &n.account)
			if err == nil {
				for _, k := range keys {
					n.keys[k.ID.String()] = k.Name
				}
			}
		}
		name = n.keys[id]
	}
	if name == "" {
		return n.w.I18n.T(n.locale, "audit.api_key", nil)
	}
	return n.w.I18n.T(n.locale, "audit.api_key_named", map[string]any{"name": name})
}

// auditSubject is what the wording of an event's changes depends on besides
// the values: the kind of thing the event is about, and whether an
// invitation it speaks of is an account's activation.
type auditSubject struct {
	targetType string
	activation bool
}

func (w *Web) auditLine(locale string, n *auditNames, frame accountFrame, e equipe.AuditEvent, filter func(equipe.ID, bool) string) auditLine {
	before, after := auditState(e.Before), auditState(e.After)
	l := auditLine{At: e.At, Action: w.auditActionLabel(locale, e.Action, before, after), IP: e.IP}
	switch {
	case e.ActorID != nil:
		l.Actor, l.ActorHref = n.user(e.ActorID.String()), filter(*e.ActorID, true)
	case after["api_key"] != nil:
		l.Actor = n.key(stringArg(after, "api_key"), nil)
	default:
		l.Actor = w.I18n.T(locale, "audit.system", nil)
	}
	switch e.TargetType {
	case "user":
		l.Target = n.user(e.TargetID)
		if id, err := equipe.ParseID(e.TargetID); err == nil {
			l.TargetHref = filter(id, false)
		}
	case "account":
		l.Target = n.accountName(e.TargetID)
		switch {
		case l.Target != "":
		case e.TargetID == frame.ID.String():
			l.Target = w.I18n.T(locale, "audit.this_account", nil)
		default:
			// A client of the firm the reader does not reach, or no
			// longer: it was detached.
			l.Target = w.I18n.T(locale, "audit.a_client", nil)
		}
	case "role":
		l.Target = e.TargetID
		if name, ok := n.roles[e.TargetID]; ok {
			l.Target = name
		}
	case "api_key":
		l.Target = n.key(e.TargetID, after)
	case "resource":
		l.Target = n.resources[e.TargetID]
		if l.Target == "" {
			l.Target = stringArg(after, "name")
		}
	case "contact":
		l.Target = n.contact(e.TargetID, after, before)
	}
	if l.Target == "" {
		l.Target = e.TargetID
	}
	sub := auditSubject{targetType: e.TargetType, activation: n.acct.RequiresActivation}
	if t, ok := after["template"].(string); ok {
		sub.activation = t == mail.TemplateActivation
	}
	l.Changes = w.auditChanges(locale, n, sub, before, after)
	return l
}

// auditActionLabel names an event's action. The service records a
// suspension and a reactivation as a member's change: the change of status
// says which.
func (w *Web) auditActionLabel(locale, action string, before, after map[string]any) string {
	if action == "member.changed" {
		b, a := stringArg(before, "status"), stringArg(after, "status")
		switch {
		case b != a && a == string(equipe.MemberSuspended):
			return w.I18n.T(locale, "audit.member_suspended", nil)
		case b == string(equipe.MemberSuspended) && a == string(equipe.MemberActive):
			return w.I18n.T(locale, "audit.member_reactivated", nil)
		}
	}
	return w.actionLabel(locale, action)
}

// auditKey is the message key naming an event's field or email template.
func auditKey(kind, name string) string { return "audit." + kind + "." + name }

// auditState reads an event's before or after state: a JSON object, or
// nothing.
func auditState(s string) map[string]any {
	m := map[string]any{}
	if s != "" {
		_ = json.Unmarshal([]byte(s), &m)
	}
	return m
}

// auditChanges lists what an event changed: each field whose value differs
// between before and after, in a fixed order.
func (w *Web) auditChanges(locale string, n *auditNames, sub auditSubject, before, after map[string]any) []auditChange {
	var keys []string
	for k := range before {
		keys = append(keys, k)
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			keys = append(keys, k)
		}
	}
	rank := func(k string) int {
		if i := slices.Index(auditFieldOrder, k); i >= 0 {
			return i
		}
		return len(auditFieldOrder)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	var out []auditChange
	for _, k := range keys {
		if k == "api_key" {
			continue
		}
		b, inBefore := before[k]
		a, inAfter := after[k]
		c := auditChange{Field: k}
		key := auditKey("field", k)
		if sub.targetType == "contact" && contactFieldKeys[k] != "" {
			key = contactFieldKeys[k]
		}
		if w.I18n.Has(key) {
			c.Field = w.I18n.T(locale, key, nil)
		}
		switch {
		case inBefore && inAfter:
			c.Before, c.After = w.auditValue(locale, n, sub, k, b), w.auditValue(locale, n, sub, k, a)
			if c.Before == c.After {
				continue
			}
		case inAfter:
			c.After = w.auditValue(locale, n, sub, k, a)
		case len(after) == 0:
			// Something removed: what it was.
			c.After = w.auditValue(locale, n, sub, k, b)
		default:
			// The state before an action that records other facts after it
			// (an invitation's email and link): context, not a change.
			continue
		}
		out = append(out, c)
	}
	return out
}

// auditValue says a value of an event's state in locale.
func (w *Web) auditValue(locale string, n *auditNames, sub auditSubject, key string, v any) string {
	switch key {
	case "role", "replacement":
		if s, ok := v.(string); ok {
			if name, ok := n.roles[s]; ok {
				return name
			}
		}
	case "status":
		if v == string(equipe.MemberInvited) && sub.activation {
			return w.I18n.T(locale, "status.activation_sent", nil)
		}
		if s, ok := v.(string); ok && w.I18n.Has("status."+s) {
			return w.I18n.T(locale, "status."+s, nil)
		}
	case "kinds":
		if sub.targetType != "contact" {
			break
		}
		list, _ := v.([]any)
		var parts []string
		for _, item := range list {
			k, _ := item.(string)
			if key, ok := contactKinds[k]; ok {
				k = w.I18n.T(locale, key, nil)
			}
			parts = append(parts, k)
		}
		if len(parts) == 0 {
			return w.I18n.T(locale, "audit.none", nil)
		}
		return strings.Join(parts, ", ")
	case "user_id":
		if s, ok := v.(string); ok {
			return n.user(s)
		}
	case "parent_id":
		if s, ok := v.(string); ok {
			if name := n.accountName(s); name != "" {
				return name
			}
			return w.I18n.T(locale, "audit.the_firm", nil)
		}
	case "type":
		s, _ := v.(string)
		if rt, ok := w.Catalogue.ResourceType(s); ok {
			return rt.Label.In(locale)
		}
	case "reason":
		if s, ok := v.(string); ok && w.I18n.Has(s) {
			return w.I18n.T(locale, s, nil)
		}
	case "locale":
		switch v {
		case equipe.LocaleFR:
			return "Français"
		case equipe.LocaleEN:
			return "English"
		}
	case "overrides", "grants":
		list, _ := v.([]any)
		var parts []string
		for _, item := range list {
			o, _ := item.(map[string]any)
			perm, _ := o["permission"].(string)
			label := perm
			if p, ok := w.Catalogue.Permission(perm); ok {
				label = p.Label.In(locale)
			}
			if sc, ok := access.ParseScope(stringArg(o, "scope")); ok {
				label += " (" + sc.Label().In(locale) + ")"
			}
			if allow, ok := o["allow"].(bool); ok {
				if allow {
					label = "+ " + label
				} else {
					label = "− " + label
				}
			}
			parts = append(parts, label)
		}
		if len(parts) == 0 {
			return w.I18n.T(locale, "audit.none", nil)
		}
		return strings.Join(parts, ", ")
	case "template":
		if s, ok := v.(string); ok && w.I18n.Has(auditKey("template", s)) {
			return w.I18n.T(locale, auditKey("template", s), nil)
		}
	case "from":
		if v == "account_list" {
			return w.I18n.T(locale, "audit.from_account_list", nil)
		}
	case "expires_at":
		if s, ok := v.(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				return w.date(locale, t)
			}
		}
	}
	switch x := v.(type) {
	case nil:
		return "—"
	case bool:
		if x {
			return w.I18n.T(locale, "form.yes", nil)
		}
		return w.I18n.T(locale, "form.no", nil)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		if x == "" {
			return "—"
		}
		return x
	case []any:
		var parts []string
		for _, item := range x {
			parts = append(parts, w.auditValue(locale, n, sub, "", item))
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		if name, ok := x["name"].(string); ok {
			return name
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}
