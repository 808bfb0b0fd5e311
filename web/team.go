package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/team"
)

// teamNotices are the notices the team page may show after a redirect, each
// naming the member (?user=) when they are still in the account.
var teamNotices = map[string]string{
	"added":              "team.done_added",
	"welcomed":           "team.done_welcomed",
	"added_inactive":     "team.done_added_inactive",
	"invited":            "team.done_invited",
	"reinvited":          "team.done_reinvited",
	"activated":          "team.done_activated",
	"activation_resent":  "team.done_activation_resent",
	"revoked":            "team.done_revoked",
	"revoked_activation": "team.done_revoked_activation",
	"reset":              "team.done_reset",
	"reset_invitation":   "team.done_reset_invitation",
	"reset_activation":   "team.done_reset_activation",
	"suspended":          "team.done_suspended",
	"reactivated":        "team.done_reactivated",
	"removed":            "team.done_removed",
	"changed":            "team.done_changed",
	"created_for":        "team.done_created_for",
	"created_own":        "team.done_created_own",
	"unchanged":          "team.done_unchanged",
}

// teamPageSize is the number of members a page of the team shows.
const teamPageSize = 50

type teamPage struct {
	Frame     accountFrame
	CanManage bool
	// Export downloads the members the filters select, as CSV, for those
	// who may export them ("" for the others).
	Export     string
	Activation bool // the account activates its members
	Query      string
	// Sort is the order as the query writes it ("" for the name, ascending),
	// kept by the filters' form.
	Sort string
	// Columns are the sortable columns' headers, by key (member, role,
	// status, last_login).
	Columns map[string]sortColumn
	// Total is the number of the account's members; Counts says it by
	// status, for the heading.
	Total    int
	Counts   []statusCount
	Statuses []option
	// Clear lists every member, in the same order.
	Clear     string
	Roles     []option
	Resources []group[option]
	Filtered  bool
	// Invalid: a filter can select nothing; the page says which beside it.
	Invalid bool
	// Clients are the firm's client accounts the reader reaches, for the
	// Espace Pro's "assigned companies" column and filter; none elsewhere.
	Clients []option
	Rows    []teamRow
	Pages   pager // with the filters
	// Bulk is the form of bulk actions the rows' checkboxes belong to, for
	// those who may manage members.
	Bulk *bulkBar
	// FirmStaff: in a client account, the firm's staff who reach it, apart
	// from its own members and read-only (the firm decides them).
	FirmStaff []firmStaffLine
	// FirmStaffUnnamed: the reader is one of the client's own members, who
	// learn the firm staff's roles, not their names.
	FirmStaffUnnamed bool
}

// firmStaffLine is one of the firm's staff who reach a client account.
type firmStaffLine struct {
	Name     string
	Role     string
	Assigned bool // false: a firm administrator, who reaches every client
}

// sortColumn is a sortable column's header: the link that sorts by it (or
// reverses the order when it is the current one) and, for the current one,
// its aria-sort.
type sortColumn struct {
	Href     string
	AriaSort string // ascending, descending; "" when the list is not sorted by it
}

// sortHeader is a sortable column's header with its label's key.
type sortHeader struct {
	Column sortColumn
	Label  string
}

// statusCount is the number of members of a status, with the link that
// lists them (the other filters and the order kept).
type statusCount struct {
	Status  equipe.MemberStatus
	Count   int
	Href    string
	Current bool
}

type teamRow struct {
	ID    string // the member's user, for the bulk checkbox
	Name  string
	Email string
	Href  string // the member's effective permissions
	You   bool
	Role  string
	// Changes are the member's changes to their role's permissions, as
	// "+ permission" or "− permission".
	Changes       []string
	Title         string
	ExternalID    string // the vendor's identifier of the member in the account
	Resources     []string
	Companies     []string // the client accounts the member is assigned to
	AllCompanies  bool     // an administrator of the firm, who reaches every client
	Status        equipe.MemberStatus
	NeverLoggedIn bool
	LastLogin     time.Time
	Invitations   int
	LastInvited   time.Time
	Undelivered   bool       // the last email since the invitation could not be delivered
	SecondFactor  bool       // the member has a second factor (authenticator app or passkey)
	UserDisabled  bool       // the instance disabled the person's identity
	Quick         *rowAction // the email action (invite, or invite again), at the end of the row
	Actions       []rowAction
}

// rowAction is a link to an action on a member: a confirmation page, the
// edit form, or a page about them.
type rowAction struct {
	Href   string
	Label  string // message key
	Icon   string
	Danger bool
	quick  bool // the row's email action
	// Until is when a throttled action is possible again: until then it
	// is shown disabled, saying when.
	Until time.Time
	Zone  *time.Location // the account's, which Until is said in
}

// teamFilter reads the team page's filters from the query, as the members
// API reads its own (team.ParseMemberQuery), so that the page, its export
// and the API select the same members and refuse the same values.
func teamFilter(account equipe.ID, q url.Values) (team.MemberFilter, error) {
	f, err := team.ParseMemberQuery(account, q)
	f.After, f.Limit = q.Get("cursor"), teamPageSize
	return f, err
}

// sortParam is the filter's order as the query writes it: "" for the
// default (the name, ascending).
func sortParam(f team.MemberFilter) string {
	if (f.Sort == "" || f.Sort == team.SortName) && !f.Desc {
		return ""
	}
	return team.FormatSort(f.Sort, f.Desc)
}

// sortColumns returns the headers of the sortable columns: each links to
// the list sorted by it, ascending, or reversed when it is the current
// order; the filters are kept and the pages start again.
func sortColumns(frame accountFrame, f team.MemberFilter) map[string]sortColumn {
	current := f.Sort
	if current == "" {
		current = team.SortName
	}
	out := map[string]sortColumn{}
	for key, sort := range map[string]team.MemberSort{"member": team.SortName, "role": team.SortRole,
		"status": team.SortStatus, "last_login": team.SortLastLogin} {
		g := f
		g.Sort, g.Desc = sort, false
		c := sortColumn{}
		if sort == current {
			g.Desc = !f.Desc
			c.AriaSort = "ascending"
			if f.Desc {
				c.AriaSort = "descending"
			}
		}
		c.Href = frame.URL("/members") + filterQuery(g, "")
		out[key] = c
	}
	return out
}

// filterQuery returns the filter as the team page's query, at cursor.
func filterQuery(f team.MemberFilter, cursor string) string {
	q := url.Values{}
	if f.Status != "" {
		q.Set("status", string(f.Status))
	}
	if f.Role != "" {
		q.Set("role", f.Role)
	}
	if f.Resource != nil {
		q.Set("resource", f.Resource.String())
	}
	if f.Client != nil {
		q.Set("client", f.Client.String())
	}
	if f.Search != "" {
		q.Set("q", f.Search)
	}
	if s := sortParam(f); s != "" {
		q.Set("sort", s)
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

func (w *Web) team(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	act := actor(r)
	q := r.URL.Query()
	p := w.page(r, "page.team")
	p.Form.label("q", "team.search", "status", "team.status", "role", "team.role", "resource", "team.resource",
		"client", "team.company", "sort", "team.order")
	// The order is chosen with the columns' headers: it has no input to
	// link its problem to.
	p.Form.unlink("sort")
	f, err := teamFilter(account, q)
	status := http.StatusOK
	var rows []team.MemberRow
	var next string
	if err == nil {
		rows, next, err = w.Team.TeamPage(r.Context(), act, f)
		if cursorRefused(err) && f.After != "" {
			// A cursor from another version of the list: start again.
			f.After = ""
			rows, next, err = w.Team.TeamPage(r.Context(), act, f)
		}
	}
	if err != nil {
		if equipe.ErrorCode(err) != equipe.EINVALID || !p.Form.absorb(err, nil) {
			return w.refuse(rw, r, err)
		}
		// A filter that can select nothing selects nothing: the page says
		// which beside it, lists nobody and offers no export, rather than
		// showing everyone as if it were filtered.
		status, rows, next = http.StatusUnprocessableEntity, nil, ""
	}
	// The filters kept in the links: those that select something.
	if p.Form.Err("status") != nil {
		f.Status = ""
	}
	if p.Form.Err("client") != nil {
		f.Client = nil
	}
	if p.Form.Err("q") != nil {
		f.Search = ""
	}
	// On a firm's team page, the clients the reader reaches, each with its
	// assigned staff.
	clients, err := w.Team.Clients(r.Context(), act, account)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	roles, err := w.Team.Roles(r.Context(), act, account)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	resources, err := w.Team.Resources(r.Context(), act, account)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	acct, err := w.Team.Account(r.Context(), act, account)
	if err != nil {
		return err
	}
	acts, err := w.accountActions(r, account)
	if err != nil {
		return err
	}
	counts, err := w.Team.CountMembers(r.Context(), act, account)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	frame, err := w.frame(r, account, "team")
	if err != nil {
		return err
	}
	w.teamNotice(r, p, account)
	if p.NoticeArgs != nil {
		p.NoticeArgs["account"] = acct.Name
	}
	d := teamPage{Frame: frame, CanManage: acts.May(team.AccountAddMember), Activation: acct.RequiresActivation,
		Query: strings.TrimSpace(q.Get("q")), Sort: sortParam(f), Columns: sortColumns(frame, f), Total: counts.Total,
		Clear:    frame.URL("/members") + filterQuery(team.MemberFilter{Sort: f.Sort, Desc: f.Desc}, ""),
		Filtered: f.Status != "" || f.Role != "" || f.Resource != nil || f.Search != "" || f.Client != nil || p.Form.HasErrors(),
		Invalid:  p.Form.HasErrors()}
	if len(clients) == 0 {
		p.Form.unlink("client")
	}
	if len(resources) == 0 {
		p.Form.unlink("resource")
	}
	if acts.May(team.AccountExportMembers) && !d.Invalid {
		d.Export = frame.URL("/members/export.csv") + filterQuery(f, "")
	}
	staff, _, err := w.Team.FirmStaff(r.Context(), act, account, equipe.Page{})
	if err != nil {
		return w.refuse(rw, r, err)
	}
	for _, fs := range staff {
		d.FirmStaff = append(d.FirmStaff, firmStaffLine{Name: fs.Name, Role: roleName(fs.Role, p.Locale), Assigned: fs.Assigned})
		d.FirmStaffUnnamed = d.FirmStaffUnnamed || fs.Name == ""
	}
	d.Statuses = append(d.Statuses, option{Value: "", Label: w.I18n.T(p.Locale, "team.all_statuses_count", map[string]any{"count": counts.Total})})
	for _, s := range []equipe.MemberStatus{equipe.MemberCreated, equipe.MemberInvited, equipe.MemberActive, equipe.MemberSuspended} {
		n := counts.ByStatus[s]
		d.Statuses = append(d.Statuses, option{Value: string(s), Selected: s == f.Status,
			Label: w.I18n.T(p.Locale, "team.status_count", map[string]any{"status": w.I18n.T(p.Locale, statusKey(s, acct.RequiresActivation), nil), "count": n})})
		if n > 0 {
			g := f
			g.Status = s
			d.Counts = append(d.Counts, statusCount{Status: s, Count: n, Href: frame.URL("/members") + filterQuery(g, ""),
				Current: s == f.Status})
		}
	}
	d.Roles = append(d.Roles, option{Value: "", Label: w.I18n.T(p.Locale, "team.all_roles", nil)})
	byKey := map[string]access.Role{}
	for _, ro := range roles {
		byKey[ro.Role.Key] = ro.Role
		d.Roles = append(d.Roles, option{Value: ro.Role.Key, Label: roleName(ro.Role, p.Locale), Selected: ro.Role.Key == f.Role})
	}
	names := map[equipe.ID]string{}
	for _, res := range resources {
		names[res.ID] = w.resourceName(p.Locale, res)
	}
	d.Resources = w.resourceOptions(resources, p.Locale, func(id equipe.ID) bool { return f.Resource != nil && *f.Resource == id })
	assigned := map[equipe.ID][]string{}
	for _, c := range clients {
		d.Clients = append(d.Clients, option{Value: c.Account.ID.String(), Label: c.Account.Name, Selected: f.Client != nil && *f.Client == c.Account.ID})
		for _, u := range c.Staff {
			assigned[u] = append(assigned[u], c.Account.Name)
		}
	}
	if d.CanManage {
		d.Bulk = w.bulkBar(p.Locale, f, roles)
		if f.Role == "" && f.Resource == nil && f.Search == "" && f.Client == nil {
			d.Bulk.Count = counts.Total
			if f.Status != "" {
				d.Bulk.Count = counts.ByStatus[f.Status]
			}
		}
	}
	canAudit := acts.May(team.AccountViewAudit)
	for _, row := range rows {
		tr := w.teamRow(r, p.Locale, frame, acct, byKey, names, row, canAudit)
		if len(clients) > 0 {
			tr.Companies = assigned[row.Member.UserID]
			tr.AllCompanies = row.Member.Role == equipe.RoleAdmin
		}
		d.Rows = append(d.Rows, tr)
	}
	if next != "" {
		d.Pages.Next = frame.URL("/members") + filterQuery(f, next)
	}
	if f.After != "" {
		d.Pages.First = frame.URL("/members") + filterQuery(f, "")
	}
	p.Data = d
	return w.render(rw, r, status, "team", p)
}

// teamNotice sets the notice a redirect to the team page asked for, naming
// the member it is about.
func (w *Web) teamNotice(r *http.Request, p *page, account equipe.ID) {
	q := r.URL.Query()
	key := teamNotices[q.Get("done")]
	if key == "" {
		return
	}
	p.Notice = key
	p.NoticeArgs = map[string]any{"name": w.I18n.T(p.Locale, "team.the_member", nil)}
	id, err := equipe.ParseID(q.Get("user"))
	if err != nil {
		return
	}
	m, u, _, err := w.Team.Member(r.Context(), actor(r), account, id)
	if err != nil {
		return
	}
	p.NoticeArgs["name"] = personName(u)
	p.NoticeArgs["email"] = u.Email
	p.NoticeArgs["count"] = m.InvitationsSent
}

// personName is how pages name a person: their full name, else their email.
func personName(u equipe.User) string {
	if n := u.Name(); n != "" {
		return n
	}
	return u.Email
}

// who names a person whose name (personName) is name and whose address is
// email as "Name (email)", or by their address alone when they have no name.
func who(name, email string) string {
	if name == "" || name == email {
		return email
	}
	return name + " (" + email + ")"
}

// resourceOptions returns the account's resources as options grouped by
// type, in catalogue order; a type the catalogue no longer declares goes by
// its key.
func (w *Web) resourceOptions(resources []equipe.Resource, locale string, selected func(equipe.ID) bool) []group[option] {
	var out []group[option]
	at := map[string]int{}
	for _, rt := range w.Catalogue.ResourceTypes {
		at[rt.Key] = len(out)
		out = append(out, group[option]{Label: rt.Label.In(locale)})
	}
	for _, res := range resources {
		i, ok := at[res.Type]
		if !ok {
			i = len(out)
			at[res.Type] = i
			out = append(out, group[option]{Label: res.Type})
		}
		out[i].Items = append(out[i].Items, option{Value: res.ID.String(), Label: w.resourceName(locale, res), Selected: selected(res.ID)})
	}
	return slices.DeleteFunc(out, func(g group[option]) bool { return len(g.Items) == 0 })
}

// teamRow is a member as the team page shows them, with the actions the
// use cases say the reader may take on them: those that send an email
// first, the destructive ones last.
func (w *Web) teamRow(r *http.Request, locale string, frame accountFrame, acct equipe.Account, roles map[string]access.Role,
	resources map[equipe.ID]string, row team.MemberRow, canAudit bool) teamRow {
	m := row.Member
	u := equipe.User{Email: row.Email, FirstName: row.FirstName, LastName: row.LastName}
	base := frame.URL("/members/" + m.UserID.String())
	tr := teamRow{ID: m.UserID.String(), Name: personName(u), Email: row.Email, Href: base + "/permissions", Title: m.Title, ExternalID: m.ExternalID, Status: m.Status,
		NeverLoggedIn: row.LastLoginAt.IsZero(), LastLogin: row.LastLoginAt, Invitations: m.InvitationsSent,
		LastInvited: m.LastInvitedAt, Undelivered: row.Undelivered, SecondFactor: row.SecondFactor, UserDisabled: row.UserDisabled}
	if me := actor(r).User; me != nil && me.ID == m.UserID {
		tr.You = true
	}
	tr.Role = m.Role
	if role, known := roles[m.Role]; known {
		tr.Role = roleName(role, locale)
	}
	tr.Changes = w.overrideLines(locale, m.Overrides)
	for _, id := range row.Resources {
		if n, ok := resources[id]; ok {
			tr.Resources = append(tr.Resources, n)
		}
	}
	slices.Sort(tr.Resources)
	for _, a := range rowActions(acct, m, row.Actions, frame.Zone) {
		a.Href = base + a.Href
		tr.Actions = append(tr.Actions, a)
		if a.quick {
			if a.Label == "team.action_resend_activation" {
				// The button at the end of the row stays short.
				a.Label = "team.action_resend_activation_short"
			}
			tr.Quick = &a
		}
	}
	if canAudit {
		tr.Actions = append(tr.Actions, rowAction{Href: frame.URL("/audit?member=" + m.UserID.String()), Label: "team.action_audit"})
	}
	return tr
}

// rowActions returns the links to the actions the use cases allow on the
// member, worded for their status and the account, with paths relative to
// the member. The email action (an invitation, else a password reset) is
// the row's quick action. A password reset for a member who has not joined
// sends their invitation again: the invitation's own action is offered
// instead.
func rowActions(acct equipe.Account, m equipe.Member, acts team.Actions, zone *time.Location) []rowAction {
	var out []rowAction
	add := func(action, path, label, icon string, danger, quick bool) {
		// An action a throttle refuses for now is shown all the same,
		// disabled, with when it will be possible.
		if a := acts.Get(action); a.OK() || !a.Until().IsZero() {
			out = append(out, rowAction{Href: path, Label: label, Icon: icon, Danger: danger, quick: quick, Until: a.Until(), Zone: zone})
		}
	}
	add(team.MemberEdit, "/edit", "team.action_edit", "", false, false)
	switch {
	case m.Status == equipe.MemberCreated && acct.RequiresActivation:
		add(team.MemberInvite, "/invite", "team.action_activate", "", false, true)
	case m.Status == equipe.MemberCreated:
		add(team.MemberInvite, "/invite", "team.action_invite", "➕", false, true)
	case m.Status == equipe.MemberInvited && acct.RequiresActivation:
		add(team.MemberInvite, "/invite", "team.action_resend_activation", "", false, true)
	case m.Status == equipe.MemberInvited:
		add(team.MemberInvite, "/invite", "team.action_reinvite", "", false, true)
	case m.Status == equipe.MemberActive:
		add(team.MemberReset, "/password-reset", "team.action_reset", "🔄", false, true)
	}
	if acct.RequiresActivation {
		add(team.MemberRevoke, "/revoke-invitation", "team.action_revoke_activation", "", true, false)
	} else {
		add(team.MemberRevoke, "/revoke-invitation", "team.action_revoke", "", true, false)
	}
	add(team.MemberReactivate, "/reactivate", "team.action_reactivate", "", false, false)
	add(team.MemberSuspend, "/suspend", "team.action_suspend", "", true, false)
	add(team.MemberRemove, "/remove", "team.action_remove", "", true, false)
	return out
}

// accessOverrides turns stored overrides into the catalogue's form.
func accessOverrides(os []equipe.Override) []access.Override {
	out := make([]access.Override, 0, len(os))
	for _, o := range os {
		sc, _ := access.ParseScope(o.Scope)
		out = append(out, access.Override{Permission: o.Permission, Allow: o.Allow, Scope: sc})
	}
	return out
}

// roleByKey returns the role of the account with key.
func roleByKey(roles []team.RoleView, key string) (access.Role, bool) {
	for _, ro := range roles {
		if ro.Role.Key == key {
			return ro.Role, true
		}
	}
	return access.Role{}, false
}
