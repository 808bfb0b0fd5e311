package web

import (
	"net/http"
	"slices"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/identity"
)

// emailPage is the login email tab of a person's own space: the address,
// the change waiting for confirmation if any, and the form to ask for one.
type emailPage struct {
	Email    string
	Verified bool
	Pending  *identity.EmailChange
	Zone     *time.Location // the person's time zone, else the instance's
	// NeedsCode is true when the person has an authenticator app: the form
	// asks for one of its codes (or a recovery code). ByPasskey is true
	// when they have passkeys (where passkeys work): the form's script asks
	// the device for one, unless a code is given.
	NeedsCode, ByPasskey bool
}

// emailNotices are the notices the page shows after an action.
var emailNotices = map[string]string{
	"requested": "email_change.notice_requested",
	"resent":    "email_change.notice_resent",
	"withdrawn": "email_change.notice_withdrawn",
}

func (w *Web) emailForm(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.emailPage(r)
	if err != nil {
		return err
	}
	if key := emailNotices[r.URL.Query().Get("done")]; key != "" {
		p.Notice = key
		if d := p.Data.(emailPage); d.Pending != nil {
			p.NoticeArgs = map[string]any{"email": d.Pending.NewEmail}
		}
	}
	return w.render(rw, r, http.StatusOK, "me_email", p)
}

// emailPage builds the page for the logged-in person.
func (w *Web) emailPage(r *http.Request) (*page, error) {
	auth, _ := httpauth.Auth(r)
	p := w.page(r, "email_change.title")
	p.Form.label("new_email", "email_change.field_new_email", "current_password", "email_change.field_current_password",
		"code", "email_change.field_code", "passkey", "email_change.field_passkey")
	d := emailPage{Email: auth.User.Email, Verified: !auth.User.EmailVerifiedAt.IsZero(), Zone: w.Team.Location(equipe.Account{})}
	if z, err := time.LoadLocation(auth.User.TimeZone); auth.User.TimeZone != "" && err == nil {
		d.Zone = z
	}
	methods, err := w.Identity.EmailChangeMethods(r.Context(), auth.User.ID)
	if err != nil {
		return nil, err
	}
	d.NeedsCode, d.ByPasskey = slices.Contains(methods, identity.MethodTOTP), slices.Contains(methods, identity.MethodPasskey)
	c, err := w.Identity.PendingEmailChange(r.Context(), auth.User.ID)
	switch {
	case err == nil:
		d.Pending = &c
	case equipe.ErrorCode(err) != equipe.ENOTFOUND:
		return nil, err
	}
	p.Data = d
	return p, nil
}

func (w *Web) changeEmail(rw http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	_, err := w.Identity.RequestEmailChange(r.Context(), auth.User, identity.EmailChangeRequest{
		NewEmail: r.PostFormValue("new_email"), CurrentPassword: r.PostFormValue("current_password"),
		Code: r.PostFormValue("code"), Passkey: []byte(r.PostFormValue("passkey"))}, httpauth.Origin(r))
	if err != nil {
		p, perr := w.emailPage(r)
		if perr != nil {
			return perr
		}
		if !p.Form.absorb(err, nil) {
			return err
		}
		p.Form.keep(r, "new_email")
		p.Form.arrange("new_email", "current_password", "code", "passkey")
		return w.render(rw, r, refusedStatus(err), "me_email", p)
	}
	return redirect(rw, r, "/me/email?done=requested")
}

// emailPasskeyOptions begins confirming a login email change with a
// passkey, for the form's script: the options of navigator.credentials.get()
// out. The browser's answer goes in the form's field passkey.
func (w *Web) emailPasskeyOptions(rw http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	opts, err := w.Identity.BeginEmailChangePasskey(r.Context(), auth, httpauth.Origin(r))
	if err != nil {
		return w.passkeyFail(rw, r, err)
	}
	return passkeyJSON(rw, http.StatusOK, opts)
}

func (w *Web) resendEmailChange(rw http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	if _, err := w.Identity.ResendEmailChange(r.Context(), auth.User, httpauth.Origin(r)); err != nil {
		return w.emailRefused(rw, r, err)
	}
	return redirect(rw, r, "/me/email?done=resent")
}

func (w *Web) withdrawEmailChange(rw http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	if err := w.Identity.WithdrawEmailChange(r.Context(), auth.User, httpauth.Origin(r)); err != nil {
		return w.emailRefused(rw, r, err)
	}
	return redirect(rw, r, "/me/email?done=withdrawn")
}

// emailRefused shows the page again with why an action on the pending
// change was refused: none waits (withdrawn meanwhile), or too many links
// were sent.
func (w *Web) emailRefused(rw http.ResponseWriter, r *http.Request, err error) error {
	p, perr := w.emailPage(r)
	if perr != nil {
		return perr
	}
	e := equipe.AsError(err)
	switch {
	case e.Code == equipe.ENOTFOUND && e.Key == "email_change.none":
		p.Form.Summary = e.Key
	case !p.Form.absorb(err, nil):
		return err
	}
	return w.render(rw, r, refusedStatus(err), "me_email", p)
}

// emailLinkPage is the page of a link of an email change: the address it
// is about, and once used, what it did.
type emailLinkPage struct {
	Email string
	Done  bool
	// For a cancellation link used: whether the old address was given back,
	// or could not be (Taken), and the login email now.
	Restored, Taken bool
}

// emailConfirmForm shows a button: opening the link (perhaps by a mail
// scanner) changes nothing; only the person's POST does.
func (w *Web) emailConfirmForm(rw http.ResponseWriter, r *http.Request) error {
	tokenPage(rw)
	l, err := w.Identity.EmailChangeConfirmLink(r.Context(), r.PathValue("token"), httpauth.Origin(r))
	if err != nil {
		return w.linkError(rw, r, err, "email_change.link_advice", "/me/email", "email_change.link_action")
	}
	p := w.page(r, "email_change.confirm_title")
	p.Data = emailLinkPage{Email: l.Email}
	return w.render(rw, r, http.StatusOK, "email_change_confirm", p)
}

func (w *Web) emailConfirm(rw http.ResponseWriter, r *http.Request) error {
	tokenPage(rw)
	u, err := w.Identity.ConfirmEmailChange(r.Context(), r.PathValue("token"), httpauth.Origin(r))
	if err != nil {
		if equipe.ErrorCode(err) == equipe.ENOTFOUND {
			return w.linkError(rw, r, err, "email_change.link_advice", "/me/email", "email_change.link_action")
		}
		return err
	}
	p := w.page(r, "email_change.confirmed_title")
	if p.User != nil && p.User.ID == u.ID {
		p.User = &u
	}
	p.Data = emailLinkPage{Email: u.Email, Done: true}
	return w.render(rw, r, http.StatusOK, "email_change_confirm", p)
}

// emailCancelForm shows what the link does, and a button to do it.
func (w *Web) emailCancelForm(rw http.ResponseWriter, r *http.Request) error {
	tokenPage(rw)
	l, err := w.Identity.EmailChangeCancelLink(r.Context(), r.PathValue("token"), httpauth.Origin(r))
	if err != nil {
		return w.linkError(rw, r, err, "email_change.cancel_link_advice", "/forgot-password", "link.reset_action")
	}
	p := w.page(r, "email_change.cancel_title")
	p.Data = emailLinkPage{Email: l.Email}
	return w.render(rw, r, http.StatusOK, "email_change_cancel", p)
}

func (w *Web) emailCancel(rw http.ResponseWriter, r *http.Request) error {
	tokenPage(rw)
	res, err := w.Identity.CancelEmailChange(r.Context(), r.PathValue("token"), httpauth.Origin(r))
	if err != nil {
		return w.linkError(rw, r, err, "email_change.cancel_link_advice", "/forgot-password", "link.reset_action")
	}
	// Every session ended, this browser's too.
	w.Cookies.Clear(rw)
	p := w.page(r, "email_change.cancelled_title")
	p.User, p.Switcher = nil, nil
	p.Data = emailLinkPage{Email: res.User.Email, Done: true, Restored: res.Restored, Taken: res.Taken}
	return w.render(rw, r, http.StatusOK, "email_change_cancel", p)
}
