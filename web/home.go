package web

import (
	"net/http"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
)

// homeNotices are the notices /?done= may show after a redirect.
var homeNotices = map[string]string{
	"verification_sent": "home.verification_sent",
	"already_verified":  "home.already_verified",
	"joined":            "home.joined",
	"user_deleted":      "home.user_deleted",
	"account_deleted":   "home.account_deleted",
}

type homePage struct {
	Accounts []homeAccount
	// Problem says why joining an account from the list did not work.
	Problem string
	// InstanceAdmin shows the instance administration links.
	InstanceAdmin bool
}

type homeAccount struct {
	Name        string
	Href        string // the first page the user may open there, once they may enter it
	Role        string // the role's label
	Firm        string // the firm's name, for a client account reached through it
	Status      equipe.MemberStatus
	Activation  bool   // the account activates its members
	Join        string // where to post to join a pending invitation from the account list
	VerifyFirst bool   // pending, but the user must confirm their email to join from here
	Current     bool   // the account chosen last in this session
}

func (w *Web) home(rw http.ResponseWriter, r *http.Request) error {
	return w.showHome(rw, r, nil, http.StatusOK)
}

// showHome shows the user's accounts; after a refused join, why (joinFailed
// names the account).
func (w *Web) showHome(rw http.ResponseWriter, r *http.Request, joinFailed *equipe.Error, status int) error {
	auth, _ := httpauth.Auth(r)
	accounts, err := w.myAccounts(r)
	if err != nil {
		return err
	}
	p := w.page(r, "home.page_title")
	q := r.URL.Query()
	p.Notice = homeNotices[q.Get("done")]
	d := homePage{InstanceAdmin: auth.User.InstanceAdmin}
	firms := firmNames(accounts)
	current := auth.Session.AccountID
	for _, a := range accounts {
		base := "/accounts/" + a.Account.ID.String()
		if a.Member == nil {
			// A client account, reached through the firm with the firm role.
			d.Accounts = append(d.Accounts, homeAccount{Name: a.Account.Name, Href: w.entry(r, a.Account),
				Firm: firms[*a.Firm], Status: equipe.MemberActive, Current: current != nil && *current == a.Account.ID})
			continue
		}
		role, ok := w.Catalogue.Role(a.Member.Role)
		if !ok {
			// A custom role: its labels live with the account.
			if role, err = w.Team.MyRole(r.Context(), actor(r), a.Account.ID); err != nil {
				return err
			}
		}
		ha := homeAccount{Name: a.Account.Name, Role: roleName(role, p.Locale), Status: a.Member.Status,
			Activation: a.Account.RequiresActivation}
		switch a.Member.Status {
		case equipe.MemberActive:
			ha.Href = w.entry(r, a.Account)
			ha.Current = current != nil && *current == a.Account.ID
		case equipe.MemberInvited:
			if auth.User.EmailVerifiedAt.IsZero() {
				ha.VerifyFirst = true
			} else {
				ha.Join = base + "/join"
			}
		}
		d.Accounts = append(d.Accounts, ha)
		if p.Notice == "home.joined" && q.Get("account") == a.Account.ID.String() {
			p.NoticeArgs = map[string]any{"account": a.Account.Name}
		}
		if joinFailed != nil && r.PathValue("account") == a.Account.ID.String() {
			key := "home.join_none"
			switch {
			case joinFailed.Key == "link.expired":
				key = "home.join_expired"
			case joinFailed.Key == "invitation.member_suspended":
				key = "home.join_suspended"
			case joinFailed.Key == "invitation.email_unverified":
				key = "home.join_verify_first"
			}
			d.Problem = w.I18n.T(p.Locale, key, map[string]any{"account": a.Account.Name})
		}
	}
	if p.Notice == "home.joined" && p.NoticeArgs == nil {
		p.Notice = "home.joined_an_account"
	}
	p.Data = d
	return w.render(rw, r, status, "home", p)
}

// joinPending joins, from the account list, an account that invited the
// user, without the emailed link.
func (w *Web) joinPending(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	auth, _ := httpauth.Auth(r)
	err = w.Identity.JoinPending(r.Context(), auth.User, account, httpauth.Origin(r))
	e := equipe.AsError(err)
	switch {
	case err == nil, e.Key == "invitation.already_joined":
		return redirect(rw, r, "/?done=joined&account="+account.String())
	case e.Key == "link.expired":
		return w.showHome(rw, r, e, http.StatusGone)
	case e.Code == equipe.ECONFLICT:
		return w.showHome(rw, r, e, http.StatusConflict)
	}
	return err
}
