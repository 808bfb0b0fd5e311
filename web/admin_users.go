package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/team"
)

// usersPageSize is the number of people a page of /admin/users shows.
const usersPageSize = 50

// userAction is an action an instance administrator takes on a user from
// the user's page: a link to its own confirmation page, at
// /admin/users/{user}/{Path}, where the action's form posts. Adding an
// action is one entry here plus its two routes.
type userAction struct {
	Path string // under the user's page: "end-sessions"
	// Name, when set, is the use case's action (team.UserView.Actions):
	// the link shows only when the reader may take it.
	Name  string
	Label string // message key of the link and of the confirmation's title
	Hint  string // message key of the line that says what it does
	// Danger marks an action that cannot be undone: its link is red.
	Danger bool
}

// userActions lists the actions of a user's page, in the order it offers
// them.
var userActions = []userAction{
	{Path: "end-sessions", Label: "admin_users.end_sessions", Hint: "admin_users.end_sessions_hint"},
	{Path: "enable", Name: team.UserEnable, Label: "admin_users.enable", Hint: "admin_users.enable_hint"},
	{Path: "disable", Name: team.UserDisable, Label: "admin_users.disable", Hint: "admin_users.disable_hint", Danger: true},
	{Path: "second-factors", Name: team.UserRemoveFactors, Label: "admin_factors.action", Hint: "admin_factors.action_hint", Danger: true},
	{Path: "export", Label: "data.action_export", Hint: "data.action_export_hint"},
	{Path: "delete", Label: "data.action_delete", Hint: "data.action_delete_hint", Danger: true},
}

// userNotices are the notices a user's page may show after an action.
var userNotices = map[string]string{
	"sessions_ended":  "admin_users.sessions_ended",
	"factors_removed": "admin_factors.removed",
	"disabled":        "admin_users.disabled_done",
	"enabled":         "admin_users.enabled_done",
}

// userURL is the instance administrator's page of a user.
func userURL(id equipe.ID) string { return "/admin/users/" + id.String() }

type usersPage struct {
	Query string
	Users []userLine
	Pages pager
}

type userLine struct {
	Href, Name, Email string
	InstanceAdmin     bool
	Disabled          bool
	CreatedAt         time.Time
	LastLoginAt       time.Time
}

// users lists the instance's people for its administrators, searched by
// name or email, a page at a time.
func (w *Web) users(rw http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	search := strings.TrimSpace(q.Get("q"))
	if len(search) > 100 {
		search = search[:100]
	}
	pg := equipe.Page{After: q.Get("after"), Limit: usersPageSize}
	users, next, err := w.Team.Users(r.Context(), actor(r), search, pg)
	if cursorRefused(err) && pg.After != "" {
		pg.After = ""
		users, next, err = w.Team.Users(r.Context(), actor(r), search, pg)
	}
	if err != nil {
		return err
	}
	p := w.page(r, "page.users")
	d := usersPage{Query: search}
	for _, u := range users {
		d.Users = append(d.Users, userLine{Href: userURL(u.ID), Name: personName(u), Email: u.Email, InstanceAdmin: u.InstanceAdmin,
			Disabled: !u.DisabledAt.IsZero(), CreatedAt: u.CreatedAt, LastLoginAt: u.LastLoginAt})
	}
	page := func(after string) string {
		v := url.Values{}
		if search != "" {
			v.Set("q", search)
		}
		if after != "" {
			v.Set("after", after)
		}
		if len(v) == 0 {
			return "/admin/users"
		}
		return "/admin/users?" + v.Encode()
	}
	if next != "" {
		d.Pages.Next = page(next)
	}
	if pg.After != "" {
		d.Pages.First = page("")
	}
	p.Data = d
	return w.render(rw, r, http.StatusOK, "admin_users", p)
}

type userPage struct {
	View    team.UserView
	Name    string
	Members []userMembership
	Actions []userActionLink
}

type userMembership struct {
	Href, Account, Role, Status string
}

type userActionLink struct {
	Href, Label, Hint string
	Danger            bool
}

// adminUser shows an instance administrator a person: their identity,
// memberships, open sessions and second factors, and the actions they may
// take on them.
func (w *Web) adminUser(rw http.ResponseWriter, r *http.Request) error {
	id, v, err := w.viewedUser(r)
	if err != nil {
		return err
	}
	p := w.page(r, "page.user")
	p.Notice = userNotices[r.URL.Query().Get("done")]
	d := userPage{View: v, Name: personName(v.User)}
	for _, ma := range v.Memberships {
		// The role by its name in the account, a custom role's included.
		role := ma.Member.Role
		if roles, err := w.Team.Roles(r.Context(), actor(r), ma.Account.ID); err == nil {
			if l, ok := roleLabels(roles, p.Locale)[role]; ok {
				role = l
			}
		} else if equipe.ErrorCode(err) != equipe.ENOTFOUND {
			return err
		}
		d.Members = append(d.Members, userMembership{Href: "/accounts/" + ma.Account.ID.String() + "/members",
			Account: ma.Account.Name, Role: role, Status: w.I18n.T(p.Locale, statusKey(ma.Member.Status, ma.Account.RequiresActivation), nil)})
	}
	for _, a := range userActions {
		if a.Name != "" && !v.Actions.May(a.Name) {
			continue
		}
		d.Actions = append(d.Actions, userActionLink{Href: userURL(id) + "/" + a.Path, Label: a.Label, Hint: a.Hint, Danger: a.Danger})
	}
	p.Data = d
	return w.render(rw, r, http.StatusOK, "admin_user", p)
}

// viewedUser returns the user of the path's {user} as an instance
// administrator sees them (see team.Service.User).
func (w *Web) viewedUser(r *http.Request) (equipe.ID, team.UserView, error) {
	id, err := pathID(r, "user")
	if err != nil {
		return equipe.ID{}, team.UserView{}, err
	}
	v, err := w.Team.User(r.Context(), actor(r), id, w.Identity.Config.SessionIdle)
	return id, v, err
}

type userConfirmPage struct {
	Title, Text string // message keys
	Args        map[string]any
	Button      string // message key
	Back        string
}

// endUserSessionsForm asks an instance administrator to confirm ending
// every session of a user.
func (w *Web) endUserSessionsForm(rw http.ResponseWriter, r *http.Request) error {
	id, v, err := w.viewedUser(r)
	if err != nil {
		return err
	}
	p := w.page(r, "page.user_end_sessions")
	p.Data = userConfirmPage{Title: "admin_users.end_sessions_title", Text: "admin_users.end_sessions_text",
		Args:   map[string]any{"name": personName(v.User), "who": who(personName(v.User), v.User.Email), "count": v.Sessions},
		Button: "admin_users.end_sessions_confirm", Back: userURL(id)}
	return w.render(rw, r, http.StatusOK, "admin_user_confirm", p)
}

func (w *Web) endUserSessions(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "user")
	if err != nil {
		return err
	}
	if _, err := w.Team.EndUserSessions(r.Context(), actor(r), id); err != nil {
		return err
	}
	// Ending one's own sessions ends this one too: the login page follows.
	return redirect(rw, r, userURL(id)+"?done=sessions_ended")
}

// setDisabledForm asks an instance administrator to confirm disabling or
// enabling a user's identity, the one the use case allows as it is.
func setDisabledForm(disable bool) func(*Web, http.ResponseWriter, *http.Request) error {
	action, page, prefix := team.UserEnable, "page.user_enable", "admin_users.enable"
	if disable {
		action, page, prefix = team.UserDisable, "page.user_disable", "admin_users.disable"
	}
	return func(w *Web, rw http.ResponseWriter, r *http.Request) error {
		id, v, err := w.viewedUser(r)
		if err != nil {
			return err
		}
		if a := v.Actions.Get(action); !a.OK() {
			return a.Err
		}
		p := w.page(r, page)
		p.Data = userConfirmPage{Title: prefix + "_title", Text: prefix + "_text",
			Args:   map[string]any{"name": personName(v.User), "who": who(personName(v.User), v.User.Email)},
			Button: prefix + "_confirm", Back: userURL(id)}
		return w.render(rw, r, http.StatusOK, "admin_user_confirm", p)
	}
}

// setDisabled disables or enables a user's identity.
func setDisabled(disable bool) func(*Web, http.ResponseWriter, *http.Request) error {
	done := "enabled"
	if disable {
		done = "disabled"
	}
	return func(w *Web, rw http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "user")
		if err != nil {
			return err
		}
		if _, err := w.Team.ChangeUser(r.Context(), actor(r), id, team.UserChange{Disabled: &disable}); err != nil {
			return err
		}
		return redirect(rw, r, userURL(id)+"?done="+done)
	}
}
