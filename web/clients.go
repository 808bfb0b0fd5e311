package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/team"
)

// clientNotices are the notices the clients page may show after a
// redirect, naming the client (?client=) and the staff member (?user=).
var clientNotices = map[string]string{
	"created":       "clients.done_created",
	"created_owner": "clients.done_created_owner",
	"created_own":   "clients.done_created_own",
	"assigned":      "clients.done_assigned",
	"unassigned":    "clients.done_unassigned",
	"detached":      "clients.done_detached",
}

// clientsPage is a firm's client accounts, with the staff assigned to each.
type clientsPage struct {
	Frame     accountFrame
	CanManage bool // subaccounts.manage: create, assign, detach
	ShowStaff bool // the reader may see the firm's members
	Query     string
	Total     int // the clients the reader reaches, before the search
	Rows      []clientRow
}

type clientRow struct {
	ID      string
	Name    string
	Href    string // the client's team page
	Staff   []staffChip
	Assign  string   // where the assignment form posts
	Field   string   // the assignment's select, which a problem goes beside
	Options []option // the firm's members who may be assigned
	Detach  string
}

type staffChip struct {
	Name   string
	Remove string // the confirmation of the unassignment
}

// firmStaff returns the firm's members by user, or nil when the reader may
// not see them.
func (w *Web) firmStaff(r *http.Request, firm equipe.ID) (map[equipe.ID]team.MemberSummary, []team.MemberSummary, error) {
	ms, err := w.Team.Members(r.Context(), actor(r), firm)
	if equipe.ErrorCode(err) == equipe.EFORBIDDEN {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	by := make(map[equipe.ID]team.MemberSummary, len(ms))
	for _, m := range ms {
		by[m.UserID] = m
	}
	return by, ms, nil
}

func (w *Web) clients(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	return w.showClients(rw, r, account, nil, http.StatusOK)
}

// showClients shows the firm's clients the reader reaches, searched by
// name; problem is a refused assignment.
func (w *Web) showClients(rw http.ResponseWriter, r *http.Request, firm equipe.ID, problem *form, status int) error {
	clients, err := w.Team.Clients(r.Context(), actor(r), firm)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	acts, err := w.accountActions(r, firm)
	if err != nil {
		return err
	}
	frame, err := w.frame(r, firm, "clients")
	if err != nil {
		return err
	}
	staff, members, err := w.firmStaff(r, firm)
	if err != nil {
		return err
	}
	// The staff the reader may neither assign nor take off a client.
	var refused map[equipe.ID]error
	if slices.ContainsFunc(clients, func(c team.Client) bool {
		return c.Actions.May(team.ClientAssignStaff) || c.Actions.May(team.ClientUnassignStaff)
	}) {
		if refused, err = w.Team.StaffRefusals(r.Context(), actor(r), firm); err != nil {
			return err
		}
	}
	p := w.page(r, "page.clients")
	if problem != nil {
		p.Form = problem
	}
	q := r.URL.Query()
	search := strings.TrimSpace(q.Get("q"))
	if utf8.RuneCountInString(search) > 100 {
		search = string([]rune(search)[:100])
	}
	d := clientsPage{Frame: frame, CanManage: acts.May(team.AccountManageClients), ShowStaff: staff != nil, Query: search,
		Total: len(clients)}
	w.clientNotice(p, q, clients, staff)
	needle := strings.ToLower(search)
	for _, c := range clients {
		if needle != "" && !strings.Contains(strings.ToLower(c.Account.Name), needle) {
			continue
		}
		base := frame.URL("/clients/" + c.Account.ID.String())
		row := clientRow{ID: c.Account.ID.String(), Name: c.Account.Name, Href: "/accounts/" + c.Account.ID.String() + accountSections[0].Path}
		p.Form.Labels["assign-"+row.ID] = fieldLabel{Key: "clients.assign_label", Args: map[string]any{"client": c.Account.Name}}
		assigned := map[equipe.ID]bool{}
		for _, u := range c.Staff {
			assigned[u] = true
			m, ok := staff[u]
			if !ok {
				// No longer a member of the firm, or out of the reader's view.
				continue
			}
			chip := staffChip{Name: m.Name()}
			if c.Actions.May(team.ClientUnassignStaff) && refused[u] == nil {
				chip.Remove = base + "/staff/" + u.String() + "/remove"
			}
			row.Staff = append(row.Staff, chip)
		}
		// A detachment the client's state stops is still offered: its page
		// says why, and what would let it happen.
		if detach := c.Actions.Get(team.ClientDetach); detach.OK() || detach.Err.Code == equipe.ECONFLICT {
			row.Detach = base + "/detach"
		}
		if c.Actions.May(team.ClientAssignStaff) {
			row.Assign, row.Field = base+"/staff", "assign-"+row.ID
			// The firm's administrators reach every client already;
			// suspended members reach none; a member who holds what the
			// reader does not is not the reader's to assign.
			for _, m := range members {
				if assigned[m.UserID] || m.Role == equipe.RoleAdmin || m.Status == equipe.MemberSuspended || m.Disabled ||
					refused[m.UserID] != nil {
					continue
				}
				row.Options = append(row.Options, option{Value: m.UserID.String(), Label: m.Name()})
			}
		}
		d.Rows = append(d.Rows, row)
	}
	p.Data = d
	return w.render(rw, r, status, "clients", p)
}

// clientNotice sets the notice a redirect to the clients page asked for.
func (w *Web) clientNotice(p *page, q url.Values, clients []team.Client, staff map[equipe.ID]team.MemberSummary) {
	get := q.Get
	key := clientNotices[get("done")]
	if key == "" {
		return
	}
	p.Notice = key
	p.NoticeArgs = map[string]any{"client": w.I18n.T(p.Locale, "clients.the_client", nil),
		"name": w.I18n.T(p.Locale, "team.the_member", nil)}
	for _, c := range clients {
		if c.Account.ID.String() == get("client") {
			p.NoticeArgs["client"] = c.Account.Name
		}
	}
	if id, err := equipe.ParseID(get("user")); err == nil {
		if m, ok := staff[id]; ok {
			p.NoticeArgs["name"] = m.Name()
		}
	}
}

func (w *Web) newClientForm(rw http.ResponseWriter, r *http.Request) error {
	firm, err := pathID(r, "account")
	if err != nil {
		return err
	}
	return w.showClientForm(rw, r, firm, w.freshAccountForm(r), http.StatusOK)
}

// showClientForm shows the form of a new client account; the reader needs
// subaccounts.manage in the firm.
func (w *Web) showClientForm(rw http.ResponseWriter, r *http.Request, firm equipe.ID, f *form, status int) error {
	if err := w.mayIn(r, firm, team.AccountManageClients); err != nil {
		return w.refuse(rw, r, err)
	}
	frame, err := w.frame(r, firm, "clients")
	if err != nil {
		return err
	}
	return w.showAccountForm(rw, r, "page.client_new", &frame, f, status)
}

func (w *Web) createClient(rw http.ResponseWriter, r *http.Request) error {
	firm, err := pathID(r, "account")
	if err != nil {
		return err
	}
	f := newForm()
	f.keep(r, accountFormFields...)
	in := newAccountOf(r)
	// A client account's owner gets no personal message from this form.
	in.Message = ""
	c, err := w.Team.CreateClient(r.Context(), actor(r), firm, in)
	if err != nil {
		if !f.absorb(err, accountFieldNames) {
			return w.refuse(rw, r, err)
		}
		return w.showClientForm(rw, r, firm, f, refusedStatus(err))
	}
	done := "created"
	switch {
	case ownerIsActor(actor(r), in.OwnerEmail):
		done = "created_own"
	case strings.TrimSpace(in.OwnerEmail) != "":
		done = "created_owner"
	}
	return redirect(rw, r, "/accounts/"+firm.String()+"/clients?done="+done+"&client="+c.ID.String())
}

// clientPath parses the firm and the client a path names.
func clientPath(r *http.Request) (equipe.ID, equipe.ID, error) {
	firm, err := pathID(r, "account")
	if err != nil {
		return firm, firm, err
	}
	client, err := pathID(r, "client")
	return firm, client, err
}

func (w *Web) assignStaff(rw http.ResponseWriter, r *http.Request) error {
	firm, client, err := clientPath(r)
	if err != nil {
		return err
	}
	// A problem goes beside the select of the client it is about.
	field := "assign-" + client.String()
	user, err := equipe.ParseID(r.PostFormValue("user"))
	if err != nil {
		f := newForm()
		f.add(field, "clients.choose_member", nil)
		return w.showClients(rw, r, firm, f, http.StatusUnprocessableEntity)
	}
	if err := w.Team.AssignStaff(r.Context(), actor(r), firm, client, user); err != nil {
		e := equipe.AsError(err)
		if e.Code != equipe.EINVALID && e.Key != "member.outranks" {
			return w.refuse(rw, r, err)
		}
		f := newForm()
		key, args := e.Key, e.Args
		if len(e.Fields) > 0 {
			key, args = e.Fields[0].Key, e.Fields[0].Args
		}
		f.add(field, key, args)
		return w.showClients(rw, r, firm, f, refusedStatus(err))
	}
	return redirect(rw, r, "/accounts/"+firm.String()+"/clients?done=assigned&client="+client.String()+"&user="+user.String())
}

// clientConfirmPage asks to confirm an unassignment or a detachment.
type clientConfirmPage struct {
	Frame      accountFrame
	Title      string
	Lead       string
	Problem    string
	CanConfirm bool
	Button     string
	Back       string
	BackText   string // the back link's words, when not the clients'
}

// managedClient returns the firm's client the path names, for a reader who
// manages the firm's clients; any other client is not found.
func (w *Web) managedClient(r *http.Request, firm, client equipe.ID) (team.Client, error) {
	if err := w.mayIn(r, firm, team.AccountManageClients); err != nil {
		return team.Client{}, err
	}
	clients, err := w.Team.Clients(r.Context(), actor(r), firm)
	if err != nil {
		return team.Client{}, err
	}
	for _, c := range clients {
		if c.Account.ID == client {
			return c, nil
		}
	}
	return team.Client{}, equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
}

func (w *Web) unassignStaffForm(rw http.ResponseWriter, r *http.Request) error {
	return w.showUnassign(rw, r, nil)
}

// showUnassign asks to confirm taking a member of the firm off a client, or
// says why the reader may not. failed is the unassignment's refusal, if any.
func (w *Web) showUnassign(rw http.ResponseWriter, r *http.Request, failed error) error {
	firm, client, err := clientPath(r)
	if err != nil {
		return err
	}
	user, err := pathID(r, "user")
	if err != nil {
		return err
	}
	c, err := w.managedClient(r, firm, client)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	staff, _, err := w.firmStaff(r, firm)
	if err != nil {
		return err
	}
	m, ok := staff[user]
	assigned := false
	for _, u := range c.Staff {
		assigned = assigned || u == user
	}
	if !ok || !assigned {
		return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
	}
	frame, err := w.frame(r, firm, "clients")
	if err != nil {
		return err
	}
	p := w.page(r, "page.client_confirm")
	args := map[string]any{"name": m.Name(), "client": c.Account.Name}
	d := clientConfirmPage{Frame: frame, Title: w.I18n.T(p.Locale, "clients.unassign_title", args),
		Lead: w.I18n.T(p.Locale, "clients.unassign_lead", args), CanConfirm: true,
		Button: w.I18n.T(p.Locale, "clients.unassign_button", nil), Back: frame.URL("/clients")}
	status := http.StatusOK
	if failed == nil {
		refused, err := w.Team.StaffRefusals(r.Context(), actor(r), firm)
		if err != nil {
			return w.refuse(rw, r, err)
		}
		failed = refused[user]
	}
	if failed != nil {
		d.Problem = w.problem(p.Locale, equipe.AsError(failed))
		d.CanConfirm, status = false, refusedStatus(failed)
	}
	p.Data, p.Heading = d, d.Title
	return w.render(rw, r, status, "client_confirm", p)
}

func (w *Web) unassignStaff(rw http.ResponseWriter, r *http.Request) error {
	firm, client, err := clientPath(r)
	if err != nil {
		return err
	}
	user, err := pathID(r, "user")
	if err != nil {
		return err
	}
	if err := w.Team.UnassignStaff(r.Context(), actor(r), firm, client, user); equipe.AsError(err).Key == "member.outranks" {
		return w.showUnassign(rw, r, err)
	} else if err != nil {
		return w.refuse(rw, r, err)
	}
	return redirect(rw, r, "/accounts/"+firm.String()+"/clients?done=unassigned&client="+client.String()+"&user="+user.String())
}

// showDetach asks to confirm a client's detachment, or says why it cannot
// be done: a client without an active administrator of its own would be
// left with nobody to run it. failed is the detachment's refusal, if any.
func (w *Web) showDetach(rw http.ResponseWriter, r *http.Request, failed error) error {
	firm, client, err := clientPath(r)
	if err != nil {
		return err
	}
	c, err := w.managedClient(r, firm, client)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	frame, err := w.frame(r, firm, "clients")
	if err != nil {
		return err
	}
	p := w.page(r, "page.client_confirm")
	args := map[string]any{"client": c.Account.Name}
	d := clientConfirmPage{Frame: frame, Title: w.I18n.T(p.Locale, "clients.detach_title", args),
		Lead: w.I18n.T(p.Locale, "clients.detach_lead", args), CanConfirm: true,
		Button: w.I18n.T(p.Locale, "clients.detach_button", nil), Back: frame.URL("/clients")}
	p.Heading = d.Title
	status := http.StatusOK
	if failed == nil {
		if a := c.Actions.Get(team.ClientDetach); !a.OK() {
			failed = a.Err
		}
	}
	if failed != nil {
		d.Problem = w.problem(p.Locale, equipe.AsError(failed))
		d.CanConfirm, status = false, refusedStatus(failed)
	}
	p.Data = d
	return w.render(rw, r, status, "client_confirm", p)
}

func (w *Web) detachClientForm(rw http.ResponseWriter, r *http.Request) error {
	return w.showDetach(rw, r, nil)
}

func (w *Web) detachClient(rw http.ResponseWriter, r *http.Request) error {
	firm, client, err := clientPath(r)
	if err != nil {
		return err
	}
	err = w.Team.DetachClient(r.Context(), actor(r), firm, client)
	if equipe.ErrorCode(err) == equipe.ECONFLICT {
		return w.showDetach(rw, r, err)
	} else if err != nil {
		return w.refuse(rw, r, err)
	}
	return redirect(rw, r, "/accounts/"+firm.String()+"/clients?done=detached")
}
