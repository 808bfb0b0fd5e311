package web

import (
	"cmp"
	"net/http"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/identity"
)

// profilePage is a person's own profile form.
type profilePage struct {
	// Login is the login email, where notifications go without a
	// notification address.
	Login string
	// Zones are the time zones a person may choose; AccountZone is the one
	// the times follow when they choose none (their current account's, else
	// the instance's).
	Zones       []string
	AccountZone string
	// Pending is the notification address waiting for its confirmation,
	// and when its link expires (said in the person's zone).
	Pending        string
	PendingExpires time.Time
	Zone           *time.Location
	// Waiting: the notification field shows the pending address, nothing
	// being confirmed yet, and says so.
	Waiting bool
}

// profileFields are the profile form's fields, in the order of the page.
var profileFields = []string{"first_name", "last_name", "locale", "time_zone", "notification_email"}

// profileNotices are the notices of the profile page after a change.
var profileNotices = map[string]string{
	"saved":                  "profile.saved",
	"notification_sent":      "profile.notification_sent",
	"notification_resent":    "profile.notification_resent",
	"notification_cancelled": "profile.notification_cancelled",
}

// showProfile renders the profile page with f (nil: the stored profile).
func (w *Web) showProfile(rw http.ResponseWriter, r *http.Request, f *form, status int) error {
	auth, _ := httpauth.Auth(r)
	prof, err := w.Identity.Profile(r.Context(), auth.User.ID)
	if err != nil {
		return err
	}
	p := w.page(r, "page.profile")
	p.Notice = profileNotices[r.URL.Query().Get("done")]
	if f != nil {
		p.Form = f
	} else {
		u := prof.User
		// Someone who never chose a language sees the one the pages show
		// them in, which saving keeps. The notification field is the one
		// the use case keeps as it is when sent back, so that saving the
		// names does not cancel a pending address.
		p.Form.Values = map[string]string{"first_name": u.FirstName, "last_name": u.LastName, "locale": cmp.Or(u.Locale, p.Locale),
			"time_zone": u.TimeZone, "notification_email": prof.NotificationField()}
	}
	p.Form.arrange(profileFields...)
	p.Form.label("time_zone", "profile.time_zone", "notification_email", "profile.notification_email")
	p.Data = profilePage{Login: prof.User.Email, Zones: equipe.TimeZones(), AccountZone: w.accountZone(r).String(),
		Pending: prof.PendingEmail, PendingExpires: prof.PendingExpires, Zone: w.personZone(r, prof.User),
		Waiting: prof.User.NotificationEmail == "" && prof.PendingEmail != "" && strings.EqualFold(strings.TrimSpace(p.Form.Value("notification_email")), prof.PendingEmail)}
	return w.render(rw, r, status, "me_profile", p)
}

// myProfile shows the person's profile form.
func (w *Web) myProfile(rw http.ResponseWriter, r *http.Request) error {
	return w.showProfile(rw, r, nil, http.StatusOK)
}

// saveProfile changes the person's profile. A new language shows at once:
// the page's language choice of this browser gives way to the person's.
func (w *Web) saveProfile(rw http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	f := newForm()
	f.keep(r, profileFields...)
	first, last, locale := r.PostFormValue("first_name"), r.PostFormValue("last_name"), r.PostFormValue("locale")
	zone, notify := r.PostFormValue("time_zone"), r.PostFormValue("notification_email")
	before, err := w.Identity.Profile(r.Context(), auth.User.ID)
	if err != nil {
		return err
	}
	after, err := w.Identity.UpdateProfile(r.Context(), auth.User.ID, identity.ProfileChange{FirstName: &first, LastName: &last,
		Locale: &locale, TimeZone: &zone, NotificationEmail: &notify}, httpauth.Origin(r))
	if err != nil {
		if !f.absorb(err, nil) {
			return err
		}
		return w.showProfile(rw, r, f, refusedStatus(err))
	}
	if after.User.Locale != before.User.Locale {
		http.SetCookie(rw, &http.Cookie{Name: langCookie, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: true, Secure: w.Cookies.Secure, SameSite: http.SameSiteLaxMode})
	}
	done := "saved"
	if after.PendingEmail != "" && (after.PendingEmail != before.PendingEmail || !after.PendingExpires.Equal(before.PendingExpires)) {
		done = "notification_sent"
	}
	return redirect(rw, r, "/me?done="+done)
}

// resendNotificationEmail sends the pending notification address a new
// link.
func (w *Web) resendNotificationEmail(rw http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	if err := w.Identity.ResendNotificationEmail(r.Context(), auth.User.ID, httpauth.Origin(r)); err != nil {
		f := newForm()
		if !f.absorb(err, nil) {
			if equipe.ErrorCode(err) == equipe.ENOTFOUND {
				return redirect(rw, r, "/me")
			}
			return err
		}
		return w.showProfile(rw, r, f, refusedStatus(err))
	}
	return redirect(rw, r, "/me?done=notification_resent")
}

// cancelNotificationEmail cancels the pending notification address.
func (w *Web) cancelNotificationEmail(rw http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	err := w.Identity.CancelNotificationEmail(r.Context(), auth.User.ID, httpauth.Origin(r))
	if err != nil && equipe.ErrorCode(err) != equipe.ENOTFOUND {
		return err
	}
	return redirect(rw, r, "/me?done=notification_cancelled")
}

type notificationLinkPage struct {
	Email string
	Done  bool
}

// notificationEmailForm shows a button: opening the link (perhaps by a mail
// scanner) confirms nothing; only the POST does.
func (w *Web) notificationEmailForm(rw http.ResponseWriter, r *http.Request) error {
	tokenPage(rw)
	email, _, err := w.Identity.NotificationEmailLink(r.Context(), r.PathValue("token"), httpauth.Origin(r))
	if err != nil {
		return w.linkError(rw, r, err, "link.notification_advice", "/me", "link.notification_action")
	}
	p := w.page(r, "notification_link.title")
	p.Data = notificationLinkPage{Email: email}
	return w.render(rw, r, http.StatusOK, "notification_email", p)
}

func (w *Web) confirmNotificationEmail(rw http.ResponseWriter, r *http.Request) error {
	tokenPage(rw)
	u, err := w.Identity.ConfirmNotificationEmail(r.Context(), r.PathValue("token"), httpauth.Origin(r))
	if err != nil {
		return w.linkError(rw, r, err, "link.notification_advice", "/me", "link.notification_action")
	}
	p := w.page(r, "notification_link.done_title")
	p.Data = notificationLinkPage{Email: u.NotificationEmail, Done: true}
	return w.render(rw, r, http.StatusOK, "notification_email", p)
}

// passwordFields are the password form's fields, in the order of the page.
var passwordFields = []string{"current_password", "new_password", "password_confirm"}

// showPassword renders the password change form.
func (w *Web) showPassword(rw http.ResponseWriter, r *http.Request, f *form, status int) error {
	p := w.page(r, "page.password")
	if r.URL.Query().Get("done") == "changed" {
		p.Notice = "password_change.done"
	}
	if f != nil {
		p.Form = f
	}
	p.Form.arrange(passwordFields...)
	p.Form.label("current_password", "password_change.current", "new_password", "password_change.new")
	return w.render(rw, r, status, "me_password", p)
}

func (w *Web) passwordForm(rw http.ResponseWriter, r *http.Request) error {
	return w.showPassword(rw, r, nil, http.StatusOK)
}

// changePassword changes the person's password: this session stays, the
// others end.
func (w *Web) changePassword(rw http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	f := newForm()
	current, next := r.PostFormValue("current_password"), r.PostFormValue("new_password")
	if next != r.PostFormValue("password_confirm") {
		mismatched(f, "new_password", next, auth.User.Email, auth.User.FirstName, auth.User.LastName)
		return w.showPassword(rw, r, f, http.StatusUnprocessableEntity)
	}
	if err := w.Identity.ChangePassword(r.Context(), auth, current, next, httpauth.Origin(r)); err != nil {
		if !f.absorb(err, nil) {
			return err
		}
		return w.showPassword(rw, r, f, refusedStatus(err))
	}
	return redirect(rw, r, "/me/password?done=changed")
}

// personZone is the time zone the times shown to u are said in: their own,
// else their current account's, else the instance's.
func (w *Web) personZone(r *http.Request, u equipe.User) *time.Location {
	if u.TimeZone != "" {
		if loc, err := time.LoadLocation(u.TimeZone); err == nil {
			return loc
		}
	}
	return w.accountZone(r)
}

// accountZone is the zone of the session's current account, else the
// instance's.
func (w *Web) accountZone(r *http.Request) *time.Location {
	acct := equipe.Account{}
	if auth, ok := httpauth.Auth(r); ok && auth.Session.AccountID != nil {
		if a, err := w.Team.Account(r.Context(), actor(r), *auth.Session.AccountID); err == nil {
			acct = a
		}
	}
	return w.Team.Location(acct)
}

// readerZone is the zone an account's page shows times in for its reader:
// their own when they chose one, else the account's.
func (w *Web) readerZone(r *http.Request, acct equipe.Account) *time.Location {
	if auth, ok := httpauth.Auth(r); ok && auth.User.TimeZone != "" {
		if loc, err := time.LoadLocation(auth.User.TimeZone); err == nil {
			return loc
		}
	}
	return w.Team.Location(acct)
}
