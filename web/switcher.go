package web

import (
	"net/http"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/team"
)

// memo holds what several parts of one page need from the use cases, read
// once per request: the header, the account frame and the home page all list
// the user's accounts; the frame and the page both ask what the reader may
// do in the account.
type memo struct {
	accounts []team.AccountEntry
	loaded   bool
	actions  map[equipe.ID]team.Actions
	// enrol is the second-factor requirement the reader has yet to meet in
	// the page's account, for the banner that says by when.
	enrol *team.SecondFactorRule
}

type memoKey struct{}

// myAccounts returns the accounts the reader reaches (memberships of any
// status, then client accounts through a firm), read once per request.
func (w *Web) myAccounts(r *http.Request) ([]team.AccountEntry, error) {
	auth, ok := httpauth.Auth(r)
	if !ok {
		return nil, nil
	}
	m, _ := r.Context().Value(memoKey{}).(*memo)
	if m != nil && m.loaded {
		return m.accounts, nil
	}
	entries, _, err := w.Team.MyAccounts(r.Context(), auth.User.ID, equipe.Page{})
	if err != nil {
		return nil, err
	}
	if m != nil {
		m.accounts, m.loaded = entries, true
	}
	return entries, nil
}

// accountActions returns what the reader may do in the account, as the use
// cases answer it, asked once per request.
func (w *Web) accountActions(r *http.Request, account equipe.ID) (team.Actions, error) {
	m, _ := r.Context().Value(memoKey{}).(*memo)
	if m != nil {
		if as, ok := m.actions[account]; ok {
			return as, nil
		}
	}
	as, err := w.Team.AccountActions(r.Context(), actor(r), account)
	if err != nil {
		return nil, err
	}
	if m != nil {
		if m.actions == nil {
			m.actions = map[equipe.ID]team.Actions{}
		}
		m.actions[account] = as
	}
	return as, nil
}

// mayIn returns the refusal of the account action, as its use case would
// answer it, or nil: pages say so before anyone fills in a form.
func (w *Web) mayIn(r *http.Request, account equipe.ID, action string) error {
	as, err := w.accountActions(r, account)
	if err != nil {
		return err
	}
	if a := as.Get(action); !a.OK() {
		return a.Err
	}
	return nil
}

// firmNames returns the names of the firms among the entries: a client
// account reached through a firm is shown with the firm's name, which its
// staff know as members of the firm.
func firmNames(entries []team.AccountEntry) map[equipe.ID]string {
	out := map[equipe.ID]string{}
	for _, e := range entries {
		if e.Member != nil {
			out[e.Account.ID] = e.Account.Name
		}
	}
	return out
}

// switcher is the header's account switcher: the accounts the reader
// belongs to and the clients they reach through a firm.
type switcher struct {
	Current *switchEntry
	Entries []switchEntry
}

type switchEntry struct {
	ID      string
	Name    string
	Firm    string // the firm's name, for a client account reached through it
	Pending bool   // an invitation not yet accepted: joined from the home page
	Current bool
}

// currentAccount is the account the reader is in: the one of the page when
// it is an account's page, else the one last chosen in the switcher for
// this session.
func currentAccount(r *http.Request) *equipe.ID {
	if id, err := equipe.ParseID(r.PathValue("account")); err == nil {
		return &id
	}
	if a, ok := httpauth.Auth(r); ok {
		return a.Session.AccountID
	}
	return nil
}

// switcher returns the reader's accounts for the header: those they may
// enter and those that invited them; memberships not yet sent or suspended
// are left to the home page, which says why. A failure leaves the header
// without it rather than failing the page.
func (w *Web) switcher(r *http.Request) *switcher {
	entries, err := w.myAccounts(r)
	if err != nil {
		w.Log.Error("list accounts for the switcher", "err", err)
		return nil
	}
	if len(entries) == 0 {
		return nil
	}
	firms := firmNames(entries)
	current := currentAccount(r)
	s := &switcher{}
	for _, e := range entries {
		se := switchEntry{ID: e.Account.ID.String(), Name: e.Account.Name}
		switch {
		case e.Firm != nil:
			se.Firm = firms[*e.Firm]
		case e.Member.Status == equipe.MemberInvited:
			se.Pending = true
		case e.Member.Status != equipe.MemberActive:
			continue
		}
		se.Current = !se.Pending && current != nil && *current == e.Account.ID
		s.Entries = append(s.Entries, se)
	}
	for i := range s.Entries {
		if s.Entries[i].Current {
			s.Current = &s.Entries[i]
			break
		}
	}
	if len(s.Entries) == 0 {
		return nil
	}
	return s
}

// switchAccount makes the chosen account the session's current one and
// opens the first of its pages the reader may open; an account that only
// invited the reader goes to the home page, where they may join it.
func (w *Web) switchAccount(rw http.ResponseWriter, r *http.Request) error {
	account, err := equipe.ParseID(r.PostFormValue("account"))
	if err != nil {
		return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
	}
	auth, _ := httpauth.Auth(r)
	entries, err := w.myAccounts(r)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Account.ID != account {
			continue
		}
		if e.Member != nil && e.Member.Status != equipe.MemberActive {
			return redirect(rw, r, "/")
		}
		if err := w.Team.SwitchAccount(r.Context(), auth.User.ID, auth.Session.ID, &account); err != nil {
			return err
		}
		return redirect(rw, r, w.entry(r, e.Account))
	}
	return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
}
