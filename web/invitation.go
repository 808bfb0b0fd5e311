package web

import (
	"cmp"
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
	invNew       = "new"       // someone without a password: set one and confirm the names (the policy is the next step)
	invLogin     = "login"     // someone with a password, not logged in: log in first
	invJoin      = "join"      // the invitee, logged in: one button
	invOther     = "other"     // someone else is logged in on this browser
	invSuspended = "suspended" // the member was suspended since
	invDisabled  = "disabled"  // the instance disabled the identity
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
	Zone       *time.Location // the invitee's time zone, else the account's
	FirstName  string
	LastName   string
	// NamesUnknown: the account added them by email alone; they give
	// their names now.
	NamesUnknown bool
	Suggested    string // a password suggested by the server, shown in clear
	Self         string // this page's path
	AccountURL   string
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
		FirstName: inv.FirstName(), LastName: inv.LastName(), Self: r.URL.Path, Zone: w.Team.Location(inv.Account)}
	if loc, err := time.LoadLocation(inv.User.TimeZone); inv.User.TimeZone != "" && err == nil {
		d.Zone = loc
	}
	if inv.Inviter != nil {
		d.Inviter = personName(*inv.Inviter)
	}
	current, logged := httpauth.Auth(r)
	switch {
	case !inv.User.DisabledAt.IsZero():
		d.State = invDisabled
	case inv.Member.Status == equipe.MemberSuspended:
		d.State = invSuspended
	case logged && current.User.ID != inv.User.ID:
		d.State, d.Current = invOther, current.User.Email
	case inv.NewUser:
		d.State = invNew
		d.NamesUnknown = d.FirstName == "" && d.LastName == ""
	case !logged:
		d.State = invLogin
	default:
		d.State = invJoin
	}
	return d, nil
}

func (w *Web) showInvitation(rw http.ResponseWriter, r *http.Request, d invitationPage, f *form, status int) error {
	title := "page.invitation"
	if d.Activation {
		title = "page.activation"
	}
	p := w.page(r, title)
	if f != nil {
		p.Form = f
	}
	if d.State == invNew {
		if _, ok := p.Form.Values["first_name"]; !ok {
			p.Form.Values["first_name"], p.Form.Values["last_name"] = d.FirstName, d.LastName
		}
		p.Form.arrange("first_name", "last_name", "password", "password_confirm")
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
// password and names they give, then sent to accept the privacy policy on
// its own page (or, with the "suggest" button, the
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
	f.keep(r, "first_name", "last_name")
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
			// The names the person gives, else the invitation's, as the
			// use case checks the password against.
			first, last := cmp.Or(r.PostFormValue("first_name"), inv.FirstName()), cmp.Or(r.PostFormValue("last_name"), inv.LastName())
			mismatched(f, "password", pw, inv.User.Email, first, last, inv.Account.Name)
			return w.showInvitation(rw, r, d, f, http.StatusUnprocessableEntity)
		}
		// The privacy policy is not accepted here: it is the next step, on
		// its own page, where the consent gate sends the new member.
		in = identity.Accept{Password: pw, FirstName: r.PostFormValue("first_name"), LastName: r.PostFormValue("last_name")}
	}
	in.Locale, in.PageLocale = w.chosenLocale(r), w.locale(r)
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
		case e.Key == "invitation.identity_disabled":
			d.State = invDisabled
		case e.Key == "invitation.login_required":
			d.State = invLogin
		case d.State == invNew && f.absorb(err, nil):
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
		w.Cookies.Set(rw, auth, secret)
	}
	return redirect(rw, r, "/?done=joined&account="+inv.Account.ID.String())
}
