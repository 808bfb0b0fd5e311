package web

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/problem"
)

// Passkeys need WebAuthn, a browser API: registering one and logging in
// with one are done by web/static/passkeys.js, which asks these pages for
// the ceremony's options and posts the browser's answer back, as JSON. The
// rest (the list, renaming, removing) are ordinary forms.

// passkeysNotices are the notices /me/passkeys?done= may show.
var passkeysNotices = map[string]string{
	"added":   "passkeys.added",
	"renamed": "passkeys.renamed",
	"removed": "passkeys.removed",
}

type passkeysPage struct {
	Available bool
	Keys      []passkeyRow
	// Next is where the person was going when an account's requirement
	// sent them to set up a second factor; Finish the path the script
	// posts the new passkey to, which leads there.
	Next, Finish string
	// Reauth says that adding a passkey needs the password: the session's
	// authentication is not recent.
	Reauth bool
}

type passkeyRow struct {
	ID         equipe.ID
	Name       string
	CreatedAt  time.Time
	LastUsedAt time.Time
}

func (w *Web) passkeys(rw http.ResponseWriter, r *http.Request) error {
	return w.passkeysPage(rw, r, http.StatusOK, w.page(r, "passkeys.title"))
}

func (w *Web) passkeysPage(rw http.ResponseWriter, r *http.Request, status int, p *page) error {
	auth, _ := httpauth.Auth(r)
	keys, _, err := w.Identity.Passkeys(r.Context(), auth.User.ID, equipe.Page{})
	if err != nil {
		return err
	}
	next := securityNext(r)
	d := passkeysPage{Available: w.Identity.PasskeysAvailable(), Next: next, Finish: withNext("/me/passkeys/register", next),
		Reauth: !w.Identity.RecentlyAuthenticated(auth)}
	for _, k := range keys {
		d.Keys = append(d.Keys, passkeyRow{ID: k.ID, Name: k.Name, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt})
	}
	if p.Notice == "" {
		p.Notice = passkeysNotices[r.URL.Query().Get("done")]
	}
	p.Form.label("name", "passkeys.name", "password", "field.current_password")
	p.Data = d
	return w.render(rw, r, status, "passkeys", p)
}

// addPasskeyWithoutScript answers the form of a new passkey posted without
// the script (JavaScript off): the page again, saying that passkeys need it.
func (w *Web) addPasskeyWithoutScript(rw http.ResponseWriter, r *http.Request) error {
	p := w.page(r, "passkeys.title")
	p.Form.Summary = "passkeys.needs_script"
	p.Form.keep(r, "name")
	return w.passkeysPage(rw, r, http.StatusUnprocessableEntity, p)
}

// passkeyAdded is where the script goes once a passkey is added: where the
// person was going (?next=, a local path), else the list.
func passkeyAdded(r *http.Request) string {
	if next := localPath(r.URL.Query().Get("next"), ""); next != "" {
		return next
	}
	return "/me/passkeys?done=added"
}

// passkeyJSON writes v as the JSON answer of a ceremony step.
func passkeyJSON(rw http.ResponseWriter, status int, v any) error {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	return json.NewEncoder(rw).Encode(v)
}

// passkeyProblem is the JSON answer of a ceremony step that failed: the
// message to show, and the fields' own messages.
type passkeyProblem struct {
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// passkeyFail answers err to the script in the reader's language, or
// returns it when it is no refusal (an internal error: the error page).
func (w *Web) passkeyFail(rw http.ResponseWriter, r *http.Request, err error) error {
	e := equipe.AsError(err)
	switch e.Code {
	case equipe.EINVALID, equipe.ECONFLICT, equipe.ERATELIMITED, equipe.EUNAUTHORIZED, equipe.ENOTFOUND:
	default:
		return err
	}
	locale := w.locale(r)
	out := passkeyProblem{Message: w.problem(locale, e)}
	if len(e.Fields) > 0 {
		out.Message = w.I18n.T(locale, "form.problems", nil)
		out.Fields = map[string]string{}
		for _, f := range e.Fields {
			out.Fields[f.Field] = w.I18n.T(locale, f.Key, f.Args)
		}
	}
	if e.Code == equipe.ERATELIMITED {
		rw.Header().Set("Retry-After", strconv.Itoa(max(1, int(e.RetryAfter.Seconds()))))
	}
	return passkeyJSON(rw, problem.Status(e.Code), out)
}

// readAnswer reads the browser's answer to a ceremony: the JSON of its
// PublicKeyCredential.
func readAnswer(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, &equipe.Error{Code: equipe.EINVALID, Key: "request.malformed", Err: err}
	}
	return b, nil
}

// passkeyOptions begins registering a passkey: {"name": "...",
// "password": "..."} in (the password when the page asked for it), the
// options of navigator.credentials.create() out.
func (w *Web) passkeyOptions(rw http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	var in struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return w.passkeyFail(rw, r, &equipe.Error{Code: equipe.EINVALID, Key: "request.malformed", Err: err})
	}
	opts, err := w.Identity.BeginPasskeyRegistration(r.Context(), auth, in.Name, in.Password, httpauth.Origin(r))
	if err != nil {
		return w.passkeyFail(rw, r, err)
	}
	return passkeyJSON(rw, http.StatusOK, opts)
}

// registerPasskey finishes registering a passkey with the browser's answer.
func (w *Web) registerPasskey(rw http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	answer, err := readAnswer(r)
	if err != nil {
		return w.passkeyFail(rw, r, err)
	}
	if _, err := w.Identity.FinishPasskeyRegistration(r.Context(), auth, answer, httpauth.Origin(r)); err != nil {
		return w.passkeyFail(rw, r, err)
	}
	return passkeyJSON(rw, http.StatusCreated, map[string]string{"next": passkeyAdded(r)})
}

// passkeyOf returns the logged-in person's passkey of the path, or
// ENOTFOUND.
func (w *Web) passkeyOf(r *http.Request) (passkeyRow, error) {
	auth, _ := httpauth.Auth(r)
	id, err := pathID(r, "passkey")
	if err != nil {
		return passkeyRow{}, equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
	}
	keys, _, err := w.Identity.Passkeys(r.Context(), auth.User.ID, equipe.Page{})
	if err != nil {
		return passkeyRow{}, err
	}
	for _, k := range keys {
		if k.ID == id {
			return passkeyRow{ID: k.ID, Name: k.Name, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt}, nil
		}
	}
	return passkeyRow{}, equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
}

func (w *Web) renamePasskeyForm(rw http.ResponseWriter, r *http.Request) error {
	k, err := w.passkeyOf(r)
	if err != nil {
		return err
	}
	p := w.page(r, "passkeys.rename_title")
	p.Form.Values["name"] = k.Name
	p.Form.label("name", "passkeys.name")
	p.Data = k
	return w.render(rw, r, http.StatusOK, "passkey_rename", p)
}

func (w *Web) renamePasskey(rw http.ResponseWriter, r *http.Request) error {
	k, err := w.passkeyOf(r)
	if err != nil {
		return err
	}
	auth, _ := httpauth.Auth(r)
	if _, err := w.Identity.RenamePasskey(r.Context(), auth, k.ID, r.PostFormValue("name"), httpauth.Origin(r)); err != nil {
		p := w.page(r, "passkeys.rename_title")
		p.Form.label("name", "passkeys.name")
		if !p.Form.absorb(err, nil) {
			return err
		}
		p.Form.keep(r, "name")
		p.Data = k
		return w.render(rw, r, refusedStatus(err), "passkey_rename", p)
	}
	return redirect(rw, r, "/me/passkeys?done=renamed")
}

func (w *Web) removePasskeyForm(rw http.ResponseWriter, r *http.Request) error {
	k, err := w.passkeyOf(r)
	if err != nil {
		return err
	}
	p := w.page(r, "passkeys.remove_title")
	p.Data = k
	return w.render(rw, r, http.StatusOK, "passkey_remove", p)
}

func (w *Web) removePasskey(rw http.ResponseWriter, r *http.Request) error {
	k, err := w.passkeyOf(r)
	if err != nil {
		return err
	}
	auth, _ := httpauth.Auth(r)
	if err := w.Identity.RemovePasskey(r.Context(), auth, k.ID, r.PostFormValue("password"), httpauth.Origin(r)); err != nil {
		p := w.page(r, "passkeys.remove_title")
		if !p.Form.absorb(err, nil) {
			return err
		}
		p.Data = k
		return w.render(rw, r, refusedStatus(err), "passkey_remove", p)
	}
	return redirect(rw, r, "/me/passkeys?done=removed")
}

// passkeyLoginOptions begins a login with a passkey alone: the options of
// navigator.credentials.get() out.
func (w *Web) passkeyLoginOptions(rw http.ResponseWriter, r *http.Request) error {
	opts, err := w.Identity.BeginPasskeyLogin(r.Context(), httpauth.Origin(r))
	if err != nil {
		return w.passkeyFail(rw, r, err)
	}
	return passkeyJSON(rw, http.StatusOK, opts)
}

// passkeyLogIn finishes a login with a passkey alone: the browser's answer
// in, a session cookie and where to go next out. ?next= is the page the
// login page was to lead to.
func (w *Web) passkeyLogIn(rw http.ResponseWriter, r *http.Request) error {
	answer, err := readAnswer(r)
	if err != nil {
		return w.passkeyFail(rw, r, err)
	}
	auth, secret, err := w.Identity.FinishPasskeyLogin(r.Context(), answer, httpauth.Origin(r))
	if err != nil {
		return w.passkeyFail(rw, r, err)
	}
	// A new session secret, as at every login (no session fixation).
	if err := w.startSession(rw, r, auth, secret); err != nil {
		return w.passkeyFail(rw, r, err)
	}
	return passkeyJSON(rw, http.StatusOK, map[string]string{"next": localPath(r.URL.Query().Get("next"), "/")})
}

// secondStepPasskeyOptions begins answering the second step of the login
// waiting in this browser (its challenge cookie) with a passkey: the options
// of navigator.credentials.get() out, allowing the person's passkeys.
func (w *Web) secondStepPasskeyOptions(rw http.ResponseWriter, r *http.Request) error {
	opts, err := w.Identity.BeginPasskeySecondFactor(r.Context(), w.Cookies.Challenge(r), httpauth.Origin(r))
	if err != nil {
		return w.passkeyFail(rw, r, err)
	}
	return passkeyJSON(rw, http.StatusOK, opts)
}

// secondStepPasskey ends the login waiting in this browser with the
// browser's answer: the challenge's cookie goes, the session's is set, and
// the script goes on to ?next=.
func (w *Web) secondStepPasskey(rw http.ResponseWriter, r *http.Request) error {
	answer, err := readAnswer(r)
	if err != nil {
		return w.passkeyFail(rw, r, err)
	}
	auth, secret, err := w.Identity.FinishPasskeySecondFactor(r.Context(), w.Cookies.Challenge(r), answer, httpauth.Origin(r))
	if err != nil {
		return w.passkeyFail(rw, r, err)
	}
	w.Cookies.ClearChallenge(rw)
	if err := w.startSession(rw, r, auth, secret); err != nil {
		return w.passkeyFail(rw, r, err)
	}
	return passkeyJSON(rw, http.StatusOK, map[string]string{"next": localPath(r.URL.Query().Get("next"), "/")})
}
