package api

import (
	"mime"
	"net/http"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/identity"
)

// optional is a member of a JSON merge patch (RFC 7396): absent leaves the
// value as it is, null removes it (its zero value), anything else sets it.
type optional[T any] struct {
	Set   bool // the member was present, null or not
	Value T
}

// UnmarshalJSONFrom records that the member was present.
func (o *optional[T]) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	o.Set = true
	if d.PeekKind() == 'n' {
		var zero T
		o.Value = zero
		_, err := d.ReadToken()
		return err
	}
	return json.UnmarshalDecode(d, &o.Value)
}

// ptr returns the value to set, or nil when the member was absent.
func (o optional[T]) ptr() *T {
	if !o.Set {
		return nil
	}
	return &o.Value
}

// mePatch is a change of one's own profile, as a JSON merge patch: each
// member is optional, and null removes a value (a time zone, a notification
// address; names and language cannot be removed).
type mePatch struct {
	FirstName         optional[string] `json:"first_name"`
	LastName          optional[string] `json:"last_name"`
	Locale            optional[string] `json:"locale"`
	TimeZone          optional[string] `json:"time_zone"`
	NotificationEmail optional[string] `json:"notification_email"`
	NewBrowserAlerts  optional[*bool]  `json:"new_browser_alerts"`
}

// changeMe applies a merge patch to the person's own profile and answers
// the profile as it is then.
func (a *API) changeMe(w http.ResponseWriter, r *http.Request) error {
	// A merge patch may say so by its media type (RFC 7396): it is JSON.
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && mt == "application/merge-patch+json" {
		r.Header.Set("Content-Type", "application/json")
	}
	var in mePatch
	if err := decode(w, r, &in); err != nil {
		return err
	}
	auth, _ := httpauth.Auth(r)
	ch := identity.ProfileChange{FirstName: in.FirstName.ptr(), LastName: in.LastName.ptr(), Locale: in.Locale.ptr(),
		TimeZone: in.TimeZone.ptr(), NotificationEmail: in.NotificationEmail.ptr()}
	if in.NewBrowserAlerts.Set {
		// A switch is on or off: null removes nothing.
		if in.NewBrowserAlerts.Value == nil {
			return &requestError{status: http.StatusBadRequest, typ: "bad-request", key: "request.wrong_type",
				fields: []equipe.FieldError{{Field: "new_browser_alerts", Key: "request.wrong_type"}}}
		}
		ch.NewBrowserAlerts = in.NewBrowserAlerts.Value
	}
	if _, err := a.Identity.UpdateProfile(r.Context(), auth.User.ID, ch, httpauth.Origin(r)); err != nil {
		return err
	}
	return a.respondMe(w, r, auth.User.ID)
}

// resendNotificationEmail sends the pending notification address a new
// confirmation link.
func (a *API) resendNotificationEmail(w http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	if err := a.Identity.ResendNotificationEmail(r.Context(), auth.User.ID, httpauth.Origin(r)); err != nil {
		return err
	}
	return respond(w, http.StatusAccepted, struct{}{})
}

// cancelNotificationEmail cancels the pending notification address.
func (a *API) cancelNotificationEmail(w http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	if err := a.Identity.CancelNotificationEmail(r.Context(), auth.User.ID, httpauth.Origin(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// confirmNotificationEmail uses the link sent to a notification address.
func (a *API) confirmNotificationEmail(w http.ResponseWriter, r *http.Request) error {
	var in tokenRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if _, err := a.Identity.ConfirmNotificationEmail(r.Context(), in.Token, httpauth.Origin(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type passwordChangeRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changePassword changes the person's password; the session making the
// request stays, the others end.
func (a *API) changePassword(w http.ResponseWriter, r *http.Request) error {
	var in passwordChangeRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	auth, _ := httpauth.Auth(r)
	if err := a.Identity.ChangePassword(r.Context(), auth, in.CurrentPassword, in.NewPassword, httpauth.Origin(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
