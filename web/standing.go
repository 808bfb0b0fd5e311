package web

import (
	"net/http"
	"strings"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/team"
)

// standingPage explains to a suspended or removed member why an account's
// page is closed to them.
type standingPage struct {
	Kind    string
	Account string
	Admins  []team.Contact
	// Others are the accounts the person still belongs to.
	Others []navLink
}

// pathAccount returns the account an /accounts/{account}/… path names.
func pathAccount(path string) (equipe.ID, bool) {
	rest, ok := strings.CutPrefix(path, "/accounts/")
	if !ok {
		return equipe.ID{}, false
	}
	id, _, _ := strings.Cut(rest, "/")
	a, err := equipe.ParseID(id)
	return a, err == nil
}

// explainStanding answers a page of an account that was not found for the
// reader who is a suspended or removed member of it: a page that says so
// (403), rather than a bare "not found". It reports whether it answered.
// Anyone else, who was never a member, keeps the 404: whether the account
// exists is none of their business.
func (w *Web) explainStanding(rw http.ResponseWriter, r *http.Request) bool {
	account, ok := pathAccount(r.URL.Path)
	if !ok {
		return false
	}
	if _, ok := httpauth.Auth(r); !ok {
		return false
	}
	st, err := w.Team.Standing(r.Context(), actor(r), account)
	if err != nil || (st.Kind != team.StandingSuspended && st.Kind != team.StandingRemoved) {
		return false
	}
	title := "standing.suspended_title"
	if st.Kind == team.StandingRemoved {
		title = "standing.removed_title"
	}
	p := w.page(r, title)
	d := standingPage{Kind: st.Kind, Account: st.Account.Name, Admins: st.Admins}
	if st.Kind == team.StandingRemoved {
		if entries, err := w.myAccounts(r); err == nil {
			for _, e := range entries {
				if e.Account.ID == account || (e.Member != nil && e.Member.Status != equipe.MemberActive) {
					continue
				}
				d.Others = append(d.Others, navLink{Href: w.entry(r, e.Account), Label: e.Account.Name})
			}
		}
	}
	p.Data = d
	rw.Header().Set("Cache-Control", "no-store")
	if err := w.render(rw, r, http.StatusForbidden, "standing", p); err != nil {
		w.Log.Error("render standing page", "err", err)
		return false
	}
	return true
}
