package web

import (
	"net/http"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
)

// homeNotices are the notices /?done= may show after a redirect.
var homeNotices = map[string]string{
	"verification_sent": "home.verification_sent",
}

type homePage struct {
	Accounts []homeAccount
	// InstanceAdmin shows the instance administration links.
	InstanceAdmin bool
}

type homeAccount struct {
	Name   string
	Href   string // the account's first page
	Role   string // the role's label
	Status equipe.MemberStatus
}

func (w *Web) home(rw http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	accounts, err := w.Identity.Accounts(r.Context(), auth.User.ID)
	if err != nil {
		return err
	}
	p := w.page(r, "home.page_title")
	p.Notice = homeNotices[r.URL.Query().Get("done")]
	d := homePage{InstanceAdmin: auth.User.InstanceAdmin}
	for _, a := range accounts {
		role, ok := w.Catalogue.Role(a.Member.Role)
		if !ok {
			// A custom role: its labels live with the account.
			if role, err = w.Team.MyRole(r.Context(), actor(r), a.Account.ID); err != nil {
				return err
			}
		}
		d.Accounts = append(d.Accounts, homeAccount{Name: a.Account.Name, Href: "/accounts/" + a.Account.ID.String() + accountSections[0].Path,
			Role: roleName(role, p.Locale), Status: a.Member.Status})
	}
	p.Data = d
	return w.render(rw, r, http.StatusOK, "home", p)
}
