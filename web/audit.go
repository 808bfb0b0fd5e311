package web

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/team"
)

// auditFieldKeys label fields whose name means something else for a
// contact: a contact's fields go by the labels of its form.
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
	// Invalid: a filter can select nothing; the page lists no events.
	Invalid bool
	// Export downloads the events the filters select, as CSV.
	Export string
	Events []auditLine
	Pages  pager
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
	p := w.page(r, "page.audit")
	p.Form.label("action", "audit.action", "member", "audit.target", "actor", "audit.who")
	// The member and actor filters are chosen on the log itself: they have
	// no input to link their problems to.
	p.Form.unlink("member", "actor")
	f, err := auditFilter(q)
	status := http.StatusOK
	var events []event.Event
	var next string
	if err == nil {
		events, next, err = w.Team.AuditPage(r.Context(), act, account, f)
		if cursorRefused(err) && f.Page.After != "" {
			f.Page.After = ""
			events, next, err = w.Team.AuditPage(r.Context(), act, account, f)
		}
	}
	if err != nil {
		if equipe.ErrorCode(err) != equipe.EINVALID || !p.Form.absorb(err, map[string]string{"type": "action", "target": "member"}) {
			return w.refuse(rw, r, err)
		}
		// A filter that can select nothing selects nothing: the page says
		// which, and lists no events.
		status, events, next = http.StatusUnprocessableEntity, nil, ""
	}
	frame, err := w.frame(r, account, "audit")
	if err != nil {
		return err
	}
	n := &auditNames{w: w, r: r, account: account, locale: p.Locale, persons: map[string]team.Person{}}
	if err := n.load(); err != nil {
		return err
	}
	// The filters kept in the links: those that select something.
	var memberID, actorID *equipe.ID
	if p.Form.Err("member") == nil && f.Subject != "" {
		id := equipe.MustParse(f.Subject)
		memberID = &id
	}
	if p.Form.Err("actor") == nil {
		actorID = f.ActorID
	}
	kind := f.Type
	if p.Form.Err("action") != nil {
		kind = ""
	}
	base := frame.URL("/audit")
	link := func(member, actor *equipe.ID, cursor string) string {
		v := url.Values{}
		if kind != "" {
			v.Set("action", string(kind))
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
	d := auditPage{Frame: frame, Export: frame.URL("/audit/export.csv") + strings.TrimPrefix(link(memberID, actorID, ""), base),
		MemberClear: link(nil, actorID, ""), ActorClear: link(memberID, nil, ""), Invalid: p.Form.HasErrors()}
	d.Actions = append(d.Actions, option{Value: "", Label: w.I18n.T(p.Locale, "audit.all_actions", nil)})
	for _, t := range event.AccountTypes() {
		d.Actions = append(d.Actions, option{Value: string(t), Label: w.eventLabel(p.Locale, t), Selected: t == kind})
	}
	if memberID != nil {
		d.Member, d.MemberID = n.user(memberID.String()), memberID.String()
	}
	if actorID != nil {
		d.Actor, d.ActorID = n.actor(*actorID, events), actorID.String()
	}
	n.deletedRoles(events)
	for _, e := range events {
		d.Events = append(d.Events, w.auditLine(p.Locale, n, frame, e, func(id equipe.ID, asActor bool) string {
			if asActor {
				return link(memberID, &id, "")
			}
			return link(&id, actorID, "")
		}))
		n.roleBefore(e)
	}
	d.Pages.Newest = true
	if next != "" {
		d.Pages.Next = link(memberID, actorID, next)
	}
	if f.Page.After != "" {
		d.Pages.First = link(memberID, actorID, "")
	}
	p.Data = d
	return w.render(rw, r, status, "audit", p)
}

// auditFilter reads the audit page's filters from the query: the kind of
// event (action), the member it is about (member), who made it (actor),
// and the cursor. A member or an actor that is no ID is refused as the use
// case refuses a kind it does not know (EINVALID, naming the parameter).
func auditFilter(q url.Values) (team.AuditFilter, error) {
	f := team.AuditFilter{Type: event.Type(q.Get("action")), Page: equipe.Page{After: q.Get("cursor"), Limit: auditPageSize}}
	var v equipe.Invalid
	for _, name := range []string{"member", "actor"} {
		s := q.Get(name)
		if s == "" {
			continue
		}
		id, err := equipe.ParseID(s)
		switch {
		case err != nil:
			v.Add(name, "request.id_invalid")
		case name == "member":
			f.Subject = id.String()
		default:
			f.ActorID = &id
		}
	}
	return f, v.Err()
}

// eventLabel names a kind of event in locale ("event.<type>"); a kind no
// longer declared goes by its name.
func (w *Web) eventLabel(locale string, t event.Type) string {
	if key := "event." + string(t); w.I18n.Has(key) {
		return w.I18n.T(locale, key, nil)
	}
	return string(t)
}

// auditNames names the people, roles, resources, contacts, keys and
// accounts events speak of, as the reader may see them.
type auditNames struct {
	w         *Web
	r         *http.Request
	account   equipe.ID
	locale    string
	acct      equipe.Account // the account whose log it is
	persons   map[string]team.Person
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
func (n *auditNames) deletedRoles(events []event.Event) {
	for _, e := range events {
		if e.Subject.Kind != event.SubjectRole {
			continue
		}
		if _, ok := n.roles[e.Subject.ID]; ok {
			continue
		}
		for _, st := range []event.State{e.Before, e.After} {
			if name := n.roleState(st); name != "" {
				n.roles[e.Subject.ID] = name
				break
			}
		}
	}
}

// roleState returns the name of the role a role event's state records, ""
// for a state that is no role or has no name.
func (n *auditNames) roleState(st event.State) string {
	r, ok := st.(event.Role)
	if !ok {
		return ""
	}
	return access.Label{FR: r.LabelFR, EN: r.LabelEN}.In(n.locale)
}

// roleBefore names the role of the role event e, for the events older
// than e (the page goes from the newest), as it was named before e: a role
// deleted and another made later under the same key keeps its own name in
// the events of its time. Before its creation the key named no role the
// page knows: older events show the key.
func (n *auditNames) roleBefore(e event.Event) {
	if e.Subject.Kind != event.SubjectRole {
		return
	}
	if name := n.roleState(e.Before); name != "" {
		n.roles[e.Subject.ID] = name
	} else if e.Before == nil {
		delete(n.roles, e.Subject.ID)
	}
}

// user names a user as the reader may know them (team.AuditPerson): a
// member by their name, one of the firm's staff by their name to who may
// know them, else as someone from the firm, an instance administrator as
// the service's support; someone who left is a former member, since the
// account has no business knowing them now.
func (n *auditNames) user(id string) string {
	return n.personLabel(n.person(id))
}

// person says who the user id is to the account, as the reader may know
// them; an ID the log cannot hold is a former member.
func (n *auditNames) person(id string) team.Person {
	if p, ok := n.persons[id]; ok {
		return p
	}
	p := team.Person{Kind: team.PersonFormerMember}
	if uid, err := equipe.ParseID(id); err == nil {
		if got, err := n.w.Team.AuditPerson(n.r.Context(), actor(n.r), n.account, uid); err == nil {
			p = got
		}
	}
	n.persons[id] = p
	return p
}

func (n *auditNames) personLabel(p team.Person) string {
	if p.User.ID != (equipe.ID{}) {
		return personName(p.User)
	}
	key := "audit.former_member"
	switch p.Kind {
	case team.PersonMember:
		key = "audit.a_member"
	case team.PersonFirmStaff:
		key = "team.firm_staff_someone"
	case team.PersonInstanceAdmin:
		key = "audit.instance_support"
	}
	return n.w.I18n.T(n.locale, key, nil)
}

// actor names who the actor filter selects as the events' author column
// does: by one of their events on the page, else as one of the account's
// keys, else as a person.
func (n *auditNames) actor(id equipe.ID, events []event.Event) string {
	for _, e := range events {
		if e.Actor.ID != nil && *e.Actor.ID == id {
			return n.author(e.Actor)
		}
	}
	n.loadKeys()
	if _, ok := n.keys[id.String()]; ok {
		return n.key(id.String(), "")
	}
	return n.user(id.String())
}

// author names who made a change, for the log's author column.
func (n *auditNames) author(a event.Actor) string {
	switch a.Kind {
	case event.ActorUser:
		if a.ID == nil {
			// Someone the reader may not know: one of the firm's staff,
			// or the instance's support.
			if a.Via == event.ViaInstance {
				return n.personLabel(team.Person{Kind: team.PersonInstanceAdmin})
			}
			return n.personLabel(team.Person{Kind: team.PersonFirmStaff})
		}
		return n.user(a.ID.String())
	case event.ActorKey:
		return n.key(a.ID.String(), a.Name)
	case event.ActorInstanceKey:
		// Not one of the account's keys, which its keys page lists: the
		// vendor's.
		if a.Name == "" {
			return n.w.I18n.T(n.locale, "audit.instance_key", nil)
		}
		return n.w.I18n.T(n.locale, "audit.instance_key_named", map[string]any{"name": a.Name})
	}
	return n.w.I18n.T(n.locale, "audit.system", nil)
}

// contact names a contact as the contacts page does; one deleted (or out of
// the reader's sight) goes by the name its event recorded.
func (n *auditNames) contact(id string, states ...event.State) string {
	name, ok := n.contacts[id]
	if !ok {
		if cid, err := equipe.ParseID(id); err == nil {
			if c, err := n.w.Team.Contact(n.r.Context(), actor(n.r), n.account, cid); err == nil {
				name = contactName(c.Contact)
			}
		}
		n.contacts[id] = name
	}
	for _, st := range states {
		if c, ok := st.(event.Contact); ok && name == "" {
			name = contactName(equipe.Contact{FirstName: c.FirstName, LastName: c.LastName, Email: c.Email})
		}
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
func (n *auditNames) key(id, name string) string {
	if name == "" {
		n.loadKeys()
		name = n.keys[id]
	}
	if name == "" {
		return n.w.I18n.T(n.locale, "audit.api_key", nil)
	}
	return n.w.I18n.T(n.locale, "audit.api_key_named", map[string]any{"name": name})
}

// loadKeys reads the account's keys, once, for readers who manage them.
func (n *auditNames) loadKeys() {
	if n.keys != nil {
		return
	}
	n.keys = map[string]string{}
	keys, _, err := n.w.Team.Keys(n.r.Context(), actor(n.r), &n.account, equipe.Page{})
	if err == nil {
		for _, k := range keys {
			n.keys[k.ID.String()] = k.Name
		}
	}
}

// auditSubject is what the wording of an event's changes depends on besides
// the values: the kind of thing the event is about, and whether an
// invitation it speaks of is an account's activation.
type auditSubject struct {
	kind       event.SubjectKind
	activation bool
}

func (w *Web) auditLine(locale string, n *auditNames, frame accountFrame, e event.Event, filter func(equipe.ID, bool) string) auditLine {
	l := auditLine{At: e.At, Action: w.eventLabel(locale, e.Type), IP: e.IP}
	l.Actor = n.author(e.Actor)
	// Only a person the reader may know is one to filter by.
	if e.Actor.Kind == event.ActorUser && e.Actor.ID != nil {
		l.ActorHref = filter(*e.Actor.ID, true)
	}
	id := e.Subject.ID
	switch e.Subject.Kind {
	case event.SubjectUser:
		l.Target = n.user(id)
		if uid, err := equipe.ParseID(id); err == nil {
			l.TargetHref = filter(uid, false)
		}
	case event.SubjectAccount:
		l.Target = n.accountName(id)
		switch {
		case l.Target != "":
		case id == frame.ID.String():
			l.Target = w.I18n.T(locale, "audit.this_account", nil)
		default:
			// A client of the firm the reader does not reach, or no
			// longer: it was detached.
			l.Target = w.I18n.T(locale, "audit.a_client", nil)
		}
	case event.SubjectRole:
		// The role as the event records it, else as it is named now.
		l.Target = cmp.Or(n.roleState(e.After), n.roleState(e.Before), n.roles[id], id)
	case event.SubjectKey:
		name := ""
		if k, ok := e.After.(event.Key); ok {
			name = k.Name
		}
		l.Target = n.key(id, name)
	case event.SubjectResource:
		l.Target = n.resources[id]
		if r, ok := e.After.(event.Resource); ok && l.Target == "" {
			l.Target = r.Name
		}
	case event.SubjectContact:
		l.Target = n.contact(id, e.After, e.Before)
	}
	if l.Target == "" {
		l.Target = id
	}
	sub := auditSubject{kind: e.Subject.Kind, activation: n.acct.RequiresActivation}
	if inv, ok := e.After.(event.Invitation); ok {
		sub.activation = inv.Template == event.TemplateActivation
	}
	for _, c := range e.Changes() {
		ch := auditChange{Field: w.fieldLabel(locale, sub, c.Name), After: w.auditValue(locale, n, sub, c.Kind, c.After)}
		if c.HasBefore {
			ch.Before = w.auditValue(locale, n, sub, c.Kind, c.Before)
			if ch.Before == ch.After {
				continue
			}
		}
		l.Changes = append(l.Changes, ch)
	}
	return l
}

// fieldLabel names a state's field in locale ("audit.field.<name>"; a
// contact's fields as its form does).
func (w *Web) fieldLabel(locale string, sub auditSubject, name string) string {
	key := auditKey("field", name)
	if sub.kind == event.SubjectContact && contactFieldKeys[name] != "" {
		key = contactFieldKeys[name]
	}
	if w.I18n.Has(key) {
		return w.I18n.T(locale, key, nil)
	}
	return name
}

// auditValue says a state's value of kind in locale.
func (w *Web) auditValue(locale string, n *auditNames, sub auditSubject, kind event.ValueKind, v any) string {
	none := w.I18n.T(locale, "audit.none", nil)
	switch kind {
	case event.ValueRole:
		s, _ := v.(string)
		if name, ok := n.roles[s]; ok {
			return name
		}
	case event.ValueStatus:
		s, _ := v.(equipe.MemberStatus)
		if s == equipe.MemberInvited && sub.activation {
			return w.I18n.T(locale, "status.activation_sent", nil)
		}
		if w.I18n.Has("status." + string(s)) {
			return w.I18n.T(locale, "status."+string(s), nil)
		}
	case event.ValueContactKinds:
		list, _ := v.([]string)
		var parts []string
		for _, k := range list {
			if key, ok := contactKinds[k]; ok {
				k = w.I18n.T(locale, key, nil)
			}
			parts = append(parts, k)
		}
		if len(parts) == 0 {
			return none
		}
		return strings.Join(parts, ", ")
	case event.ValueUser:
		if id, ok := v.(equipe.ID); ok {
			return n.user(id.String())
		}
	case event.ValueAccount:
		if id, ok := v.(equipe.ID); ok {
			if name := n.accountName(id.String()); name != "" {
				return name
			}
			return w.I18n.T(locale, "audit.the_firm", nil)
		}
	case event.ValueResourceType:
		s, _ := v.(string)
		if rt, ok := w.Catalogue.ResourceType(s); ok {
			return rt.Label.In(locale)
		}
	case event.ValueResource:
		if r, ok := v.(event.Resource); ok {
			return w.auditValue(locale, n, sub, event.ValueResourceType, r.Type) + w.I18n.T(locale, "audit.colon", nil) + " " + r.Name
		}
	case event.ValueResources:
		ids, _ := v.([]equipe.ID)
		var names []string
		for _, id := range ids {
			if name, ok := n.resources[id.String()]; ok {
				names = append(names, name)
			} else {
				names = append(names, w.I18n.T(locale, "audit.a_resource", nil))
			}
		}
		if len(names) == 0 {
			return none
		}
		slices.Sort(names)
		return strings.Join(names, ", ")
	case event.ValueReason:
		if s, ok := v.(string); ok && w.I18n.Has(s) {
			return w.I18n.T(locale, s, nil)
		}
	case event.ValueLocale:
		switch v {
		case equipe.LocaleFR:
			return "Français"
		case equipe.LocaleEN:
			return "English"
		}
	case event.ValueGrants:
		gs, _ := v.([]equipe.Grant)
		var parts []string
		for _, g := range gs {
			parts = append(parts, w.grantLabel(locale, g.Permission, g.Scope))
		}
		if len(parts) == 0 {
			return none
		}
		return strings.Join(parts, ", ")
	case event.ValueOverrides:
		os, _ := v.([]equipe.Override)
		var parts []string
		for _, o := range os {
			sign := "− "
			if o.Allow {
				sign = "+ "
			}
			parts = append(parts, sign+w.grantLabel(locale, o.Permission, o.Scope))
		}
		if len(parts) == 0 {
			return none
		}
		return strings.Join(parts, ", ")
	case event.ValueTemplate:
		if s, ok := v.(string); ok && w.I18n.Has(auditKey("template", s)) {
			return w.I18n.T(locale, auditKey("template", s), nil)
		}
	case event.ValueJoinedFrom:
		if s, ok := v.(string); ok && w.I18n.Has(auditKey("from", s)) {
			return w.I18n.T(locale, auditKey("from", s), nil)
		}
	case event.ValueNotifyAdder:
		if s, ok := v.(string); ok && w.I18n.Has(notifyAdderKey(s)) {
			return w.I18n.T(locale, notifyAdderKey(s), nil)
		}
	case event.ValueTime:
		if t, ok := v.(time.Time); ok {
			return dateIn(locale, t, w.readerZone(n.r, n.acct))
		}
	case event.ValueHours:
		if h, ok := v.(int); ok && h > 0 {
			return w.duration(locale, time.Duration(h)*time.Hour)
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
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		if x == "" {
			return "—"
		}
		return x
	case equipe.MemberStatus:
		return string(x)
	case []any:
		var parts []string
		for _, item := range x {
			parts = append(parts, w.auditValue(locale, n, sub, event.ValueRaw, item))
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

// grantLabel names a permission, with its scope, in locale.
func (w *Web) grantLabel(locale, permission, scope string) string {
	label := permission
	if p, ok := w.Catalogue.Permission(permission); ok {
		label = p.Label.In(locale)
	}
	if sc, ok := access.ParseScope(scope); ok && sc != access.ScopeNone {
		label += " (" + sc.Label().In(locale) + ")"
	}
	return label
}

// auditKey is the message key naming an event's field or email template.
func auditKey(kind, name string) string { return "audit." + kind + "." + name }

// notifyAdderKey is the message key naming a notify_adder setting, as the
// settings page words it.
func notifyAdderKey(setting string) string {
	return strings.Join([]string{"settings", "notify_adder", setting}, ".")
}
