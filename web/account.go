package web

import (
	"net/http"
	"slices"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/problem"
	"github.com/equipe-dev/equipe/team"
)

// actor is who asks, for the team use cases: the page's logged-in user.
func actor(r *http.Request) team.Actor {
	a := team.Actor{IP: httpauth.Origin(r).IP}
	if auth, ok := httpauth.Auth(r); ok {
		u := auth.User
		a.User = &u
	}
	return a
}

// pathID parses a path parameter naming an account, a user or a key: one
// that is not an ID names nothing, and answers 404.
func pathID(r *http.Request, name string) (equipe.ID, error) {
	return equipe.ParseID(r.PathValue(name))
}

// accountSection is one page of an account's sub-navigation.
type accountSection struct {
	Key   string
	Path  string // after /accounts/{account}
	Label string // message key
	// Action is the account action (team.AccountActions) the page needs of
	// its reader; the Clients section asks its own question (see
	// offersClients).
	Action string
}

// accountSections are the pages of an account, in the order of the
// sub-navigation.
var accountSections = []accountSection{
	{"team", "/members", "nav.team", team.AccountViewMembers},
	{"clients", "/clients", "nav.clients", ""},
	{"contacts", "/contacts", "nav.contacts", team.AccountViewMembers},
	{"resources", "/resources", "nav.resources", team.AccountViewMembers},
	{"roles", "/roles", "nav.roles", team.AccountViewMembers},
	{"api_keys", "/api-keys", "nav.api_keys", team.AccountManageKeys},
	{"webhooks", "/webhooks", "nav.webhooks", team.AccountManageWebhooks},
	{"audit", "/audit", "nav.audit", team.AccountViewAudit},
	{"settings", "/settings", "nav.settings", team.AccountChangeSettings},
}

// accountFrame is what every account page shows above its content: the
// account's name, the firm it is a client of, and the sub-navigation.
type accountFrame struct {
	ID   equipe.ID
	Name string
	// Firm is the firm whose client the account is, shown to the firm's
	// members (firm › client); a client's own members are not shown it.
	Firm *navLink
	Nav  []navLink
	// Zone is the time zone the account's pages show times in: the
	// reader's own when they chose one, else the account's.
	Zone *time.Location
}

type navLink struct {
	Href    string
	Label   string // message key, or a name for a breadcrumb
	Current bool
}

// URL returns the path of the account's page at sub (for example "/roles").
func (f accountFrame) URL(sub string) string { return "/accounts/" + f.ID.String() + sub }

// frame returns the frame of the account's page section ("" for a page of
// no section). The sub-navigation offers the sections the reader may open,
// and the one they are on.
func (w *Web) frame(r *http.Request, account equipe.ID, section string) (accountFrame, error) {
	f := accountFrame{ID: account}
	acct, err := w.Team.Account(r.Context(), actor(r), account)
	if err != nil {
		return f, err
	}
	f.Name = acct.Name
	f.Zone = w.readerZone(r, acct)
	// Opening an account's page enters it, as the switcher does: it becomes
	// the session's current account and the member's last login to it is
	// now. Only the first page of a session in an account writes.
	if auth, ok := httpauth.Auth(r); ok && auth.Session.ID != (equipe.ID{}) &&
		(auth.Session.AccountID == nil || *auth.Session.AccountID != account) {
		if err := w.Team.SwitchAccount(r.Context(), auth.User.ID, auth.Session.ID, &account); err != nil &&
			equipe.ErrorCode(err) != equipe.ENOTFOUND {
			return f, err
		}
	}
	if acct.ParentID != nil {
		entries, err := w.myAccounts(r)
		if err != nil {
			return f, err
		}
		for _, e := range entries {
			if e.Member != nil && e.Account.ID == *acct.ParentID && e.Member.Status == equipe.MemberActive {
				f.Firm = &navLink{Href: "/accounts/" + e.Account.ID.String() + "/clients", Label: e.Account.Name}
			}
		}
	}
	open, err := w.sections(r, acct)
	if err != nil {
		return f, err
	}
	for _, s := range accountSections {
		if s.Key == "clients" && acct.ParentID != nil {
			continue
		}
		if s.Key == section || slices.ContainsFunc(open, func(o accountSection) bool { return o.Key == s.Key }) {
			f.Nav = append(f.Nav, navLink{Href: f.URL(s.Path), Label: s.Label, Current: s.Key == section})
		}
	}
	return f, nil
}

// sections returns the sections of the account the reader may open, each
// judged by the permission its page asks for. The Clients section is
// offered in a firm to those who manage its clients or are assigned to
// some, never in a client account.
func (w *Web) sections(r *http.Request, acct equipe.Account) ([]accountSection, error) {
	acts, err := w.accountActions(r, acct.ID)
	if err != nil {
		return nil, err
	}
	var out []accountSection
	for _, s := range accountSections {
		switch {
		case s.Key == "clients":
			if acct.ParentID != nil || !w.offersClients(r, acct.ID, acts) {
				continue
			}
		case !acts.May(s.Action):
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

// entry returns where the account's links lead the reader: the first
// section they may open, else the page of their own access there.
func (w *Web) entry(r *http.Request, acct equipe.Account) string {
	base := "/accounts/" + acct.ID.String()
	open, err := w.sections(r, acct)
	switch {
	case err != nil:
		// The page itself will say what is wrong.
		return base + accountSections[0].Path
	case len(open) > 0:
		return base + open[0].Path
	}
	return base + "/members/" + actor(r).User.ID.String() + "/permissions"
}

// offersClients reports whether the account's pages lead to its clients for
// the reader: the account is a firm (it has clients; an account without any
// offers to create the first from its settings), and the reader manages
// them or is assigned to some.
func (w *Web) offersClients(r *http.Request, account equipe.ID, acts team.Actions) bool {
	if firm, err := w.Team.IsFirm(r.Context(), actor(r), account); err != nil || !firm {
		return false
	}
	if acts.May(team.AccountManageClients) {
		return true
	}
	clients, err := w.Team.Clients(r.Context(), actor(r), account)
	return err == nil && len(clients) > 0
}

// deniedPage explains a refusal in the reader's words.
type deniedPage struct {
	Message string
}

// refuse shows the page that explains why the actor may not do this (status
// 403), with the rule's own message; any other error goes on to fail.
func (w *Web) refuse(rw http.ResponseWriter, r *http.Request, err error) error {
	e := equipe.AsError(err)
	if e.Code != equipe.EFORBIDDEN {
		return err
	}
	p := w.page(r, "page.error")
	p.Data = deniedPage{Message: w.I18n.T(p.Locale, e.Key, e.Args)}
	return w.render(rw, r, http.StatusForbidden, "denied", p)
}

// absorbRefusal takes a use case's refusal into the form: field problems
// next to their fields, and a granting rule's refusal (a role or permissions
// beyond the actor's own) next to field. It reports whether the form shows
// err.
func (w *Web) absorbRefusal(f *form, err error, field string) bool {
	e := equipe.AsError(err)
	if e.Code == equipe.EFORBIDDEN {
		switch e.Key {
		case "role.beyond_own", "role.admin_only":
			f.add(field, e.Key, e.Args)
			return true
		}
		return false
	}
	return f.absorb(err, nil)
}

// refusedStatus is the status of a page shown with err's problems: the
// one the API answers err with.
func refusedStatus(err error) int { return problem.StatusOf(err) }

// roleLabels returns the labels of the roles in locale, by key.
func roleLabels(roles []team.RoleView, locale string) map[string]string {
	out := make(map[string]string, len(roles))
	for _, r := range roles {
		out[r.Role.Key] = roleName(r.Role, locale)
	}
	return out
}

// roleName returns the role's label in locale, or its key when it has none.
func roleName(r access.Role, locale string) string {
	if l := r.Label.In(locale); l != "" {
		return l
	}
	return r.Key
}
