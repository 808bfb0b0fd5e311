package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/team"
)

// A bulk action on members takes two POSTs, both from forms that work
// without JavaScript: the team page's form (checked rows, or every member
// matching the filter, and a button naming the action) asks for the
// confirmation page, which lists who will be affected and who is skipped and
// why (the use case's dry run); its button applies the action to the
// members it listed as affected, and the result page says what was done to
// each.

// bulkPage is the confirmation page of a bulk action, and its result page.
type bulkPage struct {
	Frame   accountFrame
	Action  string
	Title   string
	Lead    string
	Result  bool // the result page: the action was taken
	Invalid bool // the request is to be corrected (Form says why)
	Role    string
	Roles   []option // to choose the role when it is missing or unknown
	Done    []bulkLine
	Skipped []bulkLine
	Users   []string // the members the confirmation applies to
	Filter  []hidden // the selection, to ask again for the page (the role chosen)
	Button  string
	Danger  bool
	Back    string
}

type bulkLine struct {
	Name   string
	Email  string
	Reason string
}

type hidden struct{ Name, Value string }

// bulkRequest reads the bulk action a form asks for: the action and role,
// and either the members checked (user) or, with all=1, every member
// matching the team page's filter (carried as f_q, f_status, f_role,
// f_resource and f_client).
func bulkRequest(r *http.Request, account equipe.ID) (team.Bulk, []hidden) {
	b := team.Bulk{Action: r.PostFormValue("action"), Role: r.PostFormValue("role")}
	var keep []hidden
	if r.PostFormValue("all") == "1" {
		q := url.Values{}
		for _, n := range bulkFilterNames {
			if v := r.PostFormValue("f_" + n); v != "" {
				q.Set(n, v)
				keep = append(keep, hidden{"f_" + n, v})
			}
		}
		keep = append(keep, hidden{"all", "1"})
		// A filter that can select nothing selects nobody (the use case
		// answers bulk.selection_empty), never every member.
		if f, err := teamFilter(account, q); err == nil {
			b.Filter = &f
		}
		return b, keep
	}
	for _, s := range r.PostForm["user"] {
		if id, err := equipe.ParseID(s); err == nil {
			b.Users = append(b.Users, id)
			keep = append(keep, hidden{"user", s})
		}
	}
	return b, keep
}

// bulkConfirm shows what a bulk action will do, member by member.
func (w *Web) bulkConfirm(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	b, keep := bulkRequest(r, account)
	plan, err := w.Team.PlanBulk(r.Context(), actor(r), account, b)
	return w.showBulk(rw, r, account, b, keep, plan, err, false)
}

// bulkApply takes a bulk action on the members its confirmation listed,
// and shows what was done to each.
func (w *Web) bulkApply(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	b, keep := bulkRequest(r, account)
	res, err := w.Team.ApplyBulk(r.Context(), actor(r), account, b)
	return w.showBulk(rw, r, account, b, keep, res, err, err == nil)
}

// showBulk renders the confirmation page of the bulk action b (or, once
// applied, its result page), or its refusal: a request the use case finds
// malformed is explained at the top, the role beside its field.
func (w *Web) showBulk(rw http.ResponseWriter, r *http.Request, account equipe.ID, b team.Bulk, keep []hidden,
	res team.BulkResult, failed error, applied bool) error {
	act := actor(r)
	if failed != nil && equipe.ErrorCode(failed) != equipe.EINVALID {
		return w.refuse(rw, r, failed)
	}
	acct, err := w.Team.Account(r.Context(), act, account)
	if err != nil {
		return err
	}
	frame, err := w.frame(r, account, "team")
	if err != nil {
		return err
	}
	roles, err := w.Team.Roles(r.Context(), act, account)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	p := w.page(r, "page.members_bulk")
	action := b.Action
	if !slices.Contains(team.BulkActions, action) {
		action = ""
	}
	given := b.Role
	ro, known := roleByKey(roles, b.Role)
	if known {
		given = roleName(ro, p.Locale)
	}
	args := map[string]any{"role": given, "account": acct.Name}
	d := bulkPage{Frame: frame, Action: action, Role: b.Role, Back: frame.URL("/members"), Danger: action == team.BulkSuspend || action == team.BulkRemove,
		Result: applied}
	if action == team.BulkChangeRole && !known {
		// No role, or none of the account's: the title names none.
		d.Title = w.I18n.T(p.Locale, "bulk.title.change_role_unchosen", nil)
	} else if action != "" {
		d.Title = w.I18n.T(p.Locale, "bulk.title."+action, args)
		d.Lead = w.I18n.T(p.Locale, "bulk.lead."+action, args)
		if applied {
			d.Title = w.I18n.T(p.Locale, "bulk.result_title."+action, args)
		}
	} else {
		d.Title = w.I18n.T(p.Locale, "page.members_bulk", nil)
	}
	status := http.StatusOK
	if failed != nil {
		p.Form.label("role", "bulk.role").absorb(failed, nil)
		p.Form.arrange("action", "role", "users", "filter")
		// The action and the members were chosen on the team page; only
		// the role is asked again here.
		p.Form.unlink("action", "users", "filter")
		status = http.StatusUnprocessableEntity
		d.Filter, d.Invalid = keep, true
		if p.Form.Err("role") != nil {
			for _, ro := range roles {
				d.Roles = append(d.Roles, option{Value: ro.Role.Key, Label: roleName(ro.Role, p.Locale), Selected: ro.Role.Key == b.Role})
			}
		}
		p.Data = d
		return w.render(rw, r, status, "members_bulk", p)
	}
	for _, o := range res.Outcomes {
		line := bulkLine{Name: o.Name(), Email: o.Email}
		if o.Done() {
			d.Done = append(d.Done, line)
			d.Users = append(d.Users, o.User.String())
			continue
		}
		line.Reason = w.bulkReason(p.Locale, o, frame.Zone)
		d.Skipped = append(d.Skipped, line)
	}
	if applied {
		p.Notice = "bulk.summary." + action
		p.NoticeArgs = map[string]any{"done": res.Done, "skipped": res.Skipped, "role": given}
	}
	d.Button = w.I18n.T(p.Locale, "bulk.button."+action, map[string]any{"count": len(d.Done)})
	p.Data = d
	return w.render(rw, r, status, "members_bulk", p)
}

// bulkReason says in locale why a member is skipped: the refusal of the
// single-member action, a throttle with the time it lifts.
func (w *Web) bulkReason(locale string, o team.BulkOutcome, zone *time.Location) string {
	if o.Err.Code == equipe.ERATELIMITED && !o.Until.IsZero() {
		return w.I18n.T(locale, "bulk.throttled_until", map[string]any{"time": clock(o.Until, zone)})
	}
	if o.Err.Code == equipe.ENOTFOUND {
		return w.I18n.T(locale, "bulk.gone", nil)
	}
	return w.problem(locale, o.Err)
}

// bulkBar is the team page's form of bulk actions: the rows' checkboxes
// belong to it, and its buttons name the action.
type bulkBar struct {
	Max    int
	Filter []hidden // the team page's filter, for "all matching"
	// Count is how many members match when the page knows it (a filter by
	// status at most: the account's counts say it); 0 when it does not.
	Count   int
	Roles   []option
	Actions []string
}

// bulkFilterNames are the team page's filters that "all matching" carries
// (each as f_name): all of them, so that it selects what the page lists.
var bulkFilterNames = []string{"q", "status", "role", "resource", "client"}

// bulkBar returns the team page's bulk form for the filter f.
func (w *Web) bulkBar(locale string, f team.MemberFilter, roles []team.RoleView) *bulkBar {
	b := &bulkBar{Max: team.MaxBulk, Actions: team.BulkActions}
	q, _ := url.ParseQuery(strings.TrimPrefix(filterQuery(f, ""), "?"))
	for _, n := range bulkFilterNames {
		if v := q.Get(n); v != "" {
			b.Filter = append(b.Filter, hidden{"f_" + n, v})
		}
	}
	for _, ro := range roles {
		b.Roles = append(b.Roles, option{Value: ro.Role.Key, Label: roleName(ro.Role, locale)})
	}
	return b
}
