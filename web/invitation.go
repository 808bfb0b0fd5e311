package web

import (
	"crypto/rand"
	"io"
	"net/http"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/identity"
)

// What an invitation page offers, by who opens it and in what state the
// invitation is.
const (
	invNew       = "new"       // someone without a password: set one, confirm the names, accept the policy
	invLogin     = "login"     // someone with a password, not logged in: log in first
	invJoin      = "join"      // the invitee, logged in: one button
	invOther     = "other"     // someone else is logged in on this browser
	invSuspended = "suspended" // the member was suspended since
	invJoined    = "joined"    // the link was used, by this very person: they are in
	invExpired   = "expired"
	invUsed      = "used"
)

type invitationPage struct {
	State      string
	Account    string
	Inviter    string // empty when an API key invited
	Email      string // the invitee's login email
	Current    string // who is logged in, when it is someone else
	Activation bool   // the account activates its members: the page speaks of activation
	ExpiresAt  time.Time
	FirstName  string
	LastName   string
	Policy     *equipe.PrivacyPolicy
	Suggested  string // a password suggested by the server, shown in clear
	Self       string // this page's path
	AccountURL string
}

// rand returns the source of suggested passwords.
func (w *Web) rand() io.Reader {
	if w.Rand != nil {
		return w.Rand
	}
	return rand.Reader
}

// invitation shows what an invitation link is for and what to do, without
// using it: a GET (perhaps by a mail scanner) accepts nothing.
func (w *Web) invitation(rw http.ResponseWriter, r *http.Request) error {
	tokenPage(rw)
	inv, err := w.Identity.Invitation(r.Context(), r.PathValue("token"), httpauth.Origin(r))
	if err != nil {
		return w.invitationGone(rw, r, inv, err)
	}
	d, err := w.invitationData(r, inv)
	if err != nil {
		return err
	}
	return w.showInvitation(rw, r, d, nil, http.StatusOK)
}

// invitationData is the page of a usable invitation for whoever opens it.
func (w *Web) invitationData(r *http.Request, inv identity.Invitation) (invitationPage, error) {
	d := invitationPage{Account: inv.Account.Name, Email: inv.User.Email, Activation: inv.Activation, ExpiresAt: inv.Token.ExpiresAt,
		FirstName: inv.FirstName(), LastName: inv.LastName(), Self: r.URL.Path}
	if inv.Inviter != nil {
		d.Inviter = personName(*inv.Inviter)
	}
	current, logged := httpauth.Auth(r)
	switch {
	case inv.Member.Status == equipe.MemberSuspended:
		d.State = invSuspended
	case logged && current.User.ID != inv.User.ID:
		d.State, d.Current = invOther, current.User.Email
	case inv.NewUser:
		d.State = invNew
		pol, err := w.Identity.CurrentPolicy(r.Context())
		if err == nil {
			d.Policy = &pol
		} else if equipe.ErrorCode(err) != equipe.ENOTFOUND {
			return d, err
		}
	case !logged:
		d.State = invLogin
	default:
		d.State = invJoin
	}
	return d, nil
}

func (w *Web) showInvitation(rw http.ResponseWriter, r *http.Request, d invitationPage, f *form, status int) error {
	p := w.page(r, "page.invitation")
	if f != nil {
		p.Form = f
	}
	if d.State == invNew {
		if _, ok := p.Form.Values["first_name"]; !ok {
			p.Form.Values["first_name"], p.Form.Values["last_name"] = d.FirstName, d.LastName
		}
		p.Form.arrange("first_name", "last_name", "password", "password_confirm", "accept")
	}
	p.Data = d
	return w.render(rw, r, status, "invitation", p)
}

// invitationGone explains a link that cannot be used: expired or used
// (naming the account and whom to ask for a new one), or not a link at all.
func (w *Web) invitationGone(rw http.ResponseWriter, r *http.Request, inv identity.Invitation, err error) error {
	e := equipe.AsError(err)
	if e.Code != equipe.ENOTFOUND {
		return err
	}
	if inv.Account.ID == (equipe.ID{}) {
		return w.linkError(rw, r, err, "accept.invalid_advice", "", "")
	}
	d := invitationPage{Account: inv.Account.Name, Email: inv.User.Email, Activation: inv.Activation, State: invUsed, Self: r.URL.Path}
	if inv.Inviter != nil {
		d.Inviter = personName(*inv.Inviter)
	}
	if e.Key == "link.expired" {
		d.State = invExpired
	}
	if current, ok := httpauth.Auth(r); ok && current.User.ID == inv.User.ID && inv.Member.Status == equipe.MemberActive {
		d.State, d.AccountURL = invJoined, w.entry(r, inv.Account)
	}
	return w.showInvitation(rw, r, d, nil, http.StatusGone)
}

// acceptInvitation joins the account through the link: a new user with the
// password, names and consent they give (or, with the "suggest" button, the
// form comes back with a strong password in clear, and nothing is used); an
// existing user, logged in as themselves, with a button.
func (w *Web) acceptInvitation(rw http.ResponseWriter, r *http.Request) error {
	tokenPage(rw)
	token := r.PathValue("token")
	inv, err := w.Identity.Invitation(r.Context(), token, httpauth.Origin(r))
	if err != nil {
		return w.invitationGone(rw, r, inv, err)
	}
	d, err := w.invitationData(r, inv)
	if err != nil {
		return err
	}
	f := newForm()
	f.keep(r, "first_name", "last_name", "accept")
	if d.State == invNew && r.PostFormValue("suggest") != "" {
		if d.Suggested, err = suggestPassword(w.rand(), inv.User.Email, inv.FirstName(), inv.LastName(), inv.Account.Name); err != nil {
			return err
		}
		return w.showInvitation(rw, r, d, f, http.StatusOK)
	}
	var in identity.Accept
	if d.State == invNew {
		pw := r.PostFormValue("password")
		if r.PostFormValue("suggested") == "yes" {
			// The suggestion was shown in clear: it comes back in clear.
			d.Suggested = pw
		} else if pw != r.PostFormValue("password_confirm") {
			f.add("password_confirm", "password.mismatch", nil)
			return w.showInvitation(rw, r, d, f, http.StatusUnprocessableEntity)
		}
		in = identity.Accept{Password: pw, FirstName: r.PostFormValue("first_name"), LastName: r.PostFormValue("last_name"),
			AcceptPrivacyPolicy: r.PostFormValue("accept") == "yes", PolicyVersion: r.PostFormValue("version")}
	}
	var current *identity.Auth
	if a, ok := httpauth.Auth(r); ok {
		current = &a
	}
	auth, secret, err := w.Identity.AcceptInvitation(r.Context(), token, in, current, httpauth.Origin(r))
	if err != nil {
		e := equipe.AsError(err)
		switch {
		case e.Code == equipe.ENOTFOUND:
			inv, _ := w.Identity.Invitation(r.Context(), token, httpauth.Origin(r))
			return w.invitationGone(rw, r, inv, err)
		case e.Key == "invitation.other_user" && current != nil:
			d.State, d.Current = invOther, current.User.Email
		case e.Key == "invitation.member_suspended":
			d.State = invSuspended
		case e.Key == "invitation.login_required":
			d.State = invLogin
		case d.State == invNew && f.absorb(err, map[string]string{"accept_privacy_policy": "accept"}):
			if e.Key == "consent.outdated" {
				// Show the policy in force now.
				fresh, ferr := w.invitationData(r, inv)
				if ferr != nil {
					return ferr
				}
				fresh.Suggested = d.Suggested
				d = fresh
			}
		default:
			return err
		}
		status := refusedStatus(err)
		if e.Code == equipe.EUNAUTHORIZED {
			status = http.StatusUnauthorized
		}
		return w.showInvitation(rw, r, d, f, status)
	}
	if secret != "" {
		// A new session, never one planted before (see logIn).
		w.Cookies.Set(rw, secret, auth.Session.ExpiresAt)
	}
	return redirect(rw, r, "/?done=joined&account="+inv.Account.ID.String())
}
