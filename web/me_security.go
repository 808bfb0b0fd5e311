package web

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
)

// A person's authenticator app and recovery codes, on /me/security: set
// it up (a QR code drawn on the server, the secret in text, confirmed by a
// code), see the recovery codes once, make new ones, remove the app. No
// script: every step is a form.

// securityNotices are the notices /me/security?done= may show.
var securityNotices = map[string]string{
	"removed": "twofactor.removed",
}

type twoFactorPage struct {
	TOTP              bool
	Passkeys          int
	RecoveryCodesLeft int
	// Setup is the enrolment in progress, if any.
	Setup *totpSetupView
	// Codes are recovery codes just made, shown this once.
	Codes []string
	// Next is where the person was going when an account sent them here;
	// PasskeysHref the passkeys' page, which leads there too.
	Next, PasskeysHref string
	// Mode is the form the page shows: "" (the overview and the setup),
	// "regenerate" (new recovery codes) or "remove" (the app).
	Mode string
	// Reauth says that setting up the app needs the password: the
	// session's authentication is not recent.
	Reauth bool
}

type totpSetupView struct {
	QR     template.URL // data:image/png;base64,…
	Secret string       // in groups of four
}

// securityNext is where the person goes once set up: a local path an
// account's requirement passed, or nowhere.
func securityNext(r *http.Request) string {
	next := r.URL.Query().Get("next")
	if r.Method == http.MethodPost {
		next = r.PostFormValue("next")
	}
	return localPath(next, "")
}

// withNext returns path with the next parameter of the page, if any.
func withNext(path, next string) string {
	if next == "" {
		return path
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + "next=" + url.QueryEscape(next)
}

func (w *Web) security2FA(rw http.ResponseWriter, r *http.Request) error {
	p := w.page(r, "twofactor.title")
	p.Notice = securityNotices[r.URL.Query().Get("done")]
	return w.twoFactorView(rw, r, http.StatusOK, p, nil)
}

func (w *Web) regenerateForm(rw http.ResponseWriter, r *http.Request) error {
	return w.twoFactorView(rw, r, http.StatusOK, w.page(r, "twofactor.regenerate_title"), nil)
}

func (w *Web) removeTOTPForm(rw http.ResponseWriter, r *http.Request) error {
	return w.twoFactorView(rw, r, http.StatusOK, w.page(r, "twofactor.remove_title"), nil)
}

// securityMode is the form a path of the page shows.
func securityMode(r *http.Request) string {
	switch r.URL.Path {
	case "/me/security/recovery-codes":
		return "regenerate"
	case "/me/security/totp/remove":
		return "remove"
	}
	return ""
}

// twoFactorView renders the page as the person's factors stand, with codes
// just made (shown once) if any.
func (w *Web) twoFactorView(rw http.ResponseWriter, r *http.Request, status int, p *page, codes []string) error {
	auth, _ := httpauth.Auth(r)
	f, err := w.Identity.SecondFactors(r.Context(), auth.User.ID)
	if err != nil {
		return err
	}
	d := twoFactorPage{TOTP: f.TOTP, Passkeys: f.Passkeys, RecoveryCodesLeft: f.RecoveryCodes, Codes: codes, Next: securityNext(r),
		Reauth: !w.Identity.RecentlyAuthenticated(auth)}
	d.PasskeysHref = withNext("/me/passkeys", d.Next)
	if codes == nil {
		d.Mode = securityMode(r)
	}
	if !f.TOTP && codes == nil {
		setup, err := w.Identity.PendingTOTP(r.Context(), auth)
		if err == nil {
			d.Setup = &totpSetupView{QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(setup.QR)),
				Secret: groupsOf4(setup.Secret)}
		} else if equipe.ErrorCode(err) != equipe.ENOTFOUND {
			return err
		}
	}
	p.Form.label("code", "twofactor.code", "password", "field.current_password")
	p.Data = d
	return w.render(rw, r, status, "me_security", p)
}

// groupsOf4 writes a secret in groups of four characters, as people copy it.
func groupsOf4(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

func (w *Web) startTOTP(rw http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	if _, err := w.Identity.StartTOTP(r.Context(), auth, r.PostFormValue("password"), httpauth.Origin(r)); err != nil {
		p := w.page(r, "twofactor.title")
		if !p.Form.absorb(err, nil) {
			return err
		}
		return w.twoFactorView(rw, r, refusedStatus(err), p, nil)
	}
	return redirect(rw, r, withNext("/me/security", securityNext(r))+"#totp-setup")
}

func (w *Web) confirmTOTP(rw http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	codes, err := w.Identity.ConfirmTOTP(r.Context(), auth, r.PostFormValue("code"), httpauth.Origin(r))
	p := w.page(r, "twofactor.title")
	if err != nil {
		if !p.Form.absorb(err, nil) && equipe.ErrorCode(err) != equipe.ENOTFOUND {
			return err
		}
		if equipe.ErrorCode(err) == equipe.ENOTFOUND {
			p.Form.Summary = equipe.AsError(err).Key
		}
		return w.twoFactorView(rw, r, refusedStatus(err), p, nil)
	}
	p.Notice = "twofactor.enabled"
	return w.twoFactorView(rw, r, http.StatusOK, p, codes)
}

func (w *Web) regenerateRecoveryCodes(rw http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	codes, err := w.Identity.RegenerateRecoveryCodes(r.Context(), auth, r.PostFormValue("password"), httpauth.Origin(r))
	p := w.page(r, "twofactor.regenerate_title")
	if err != nil {
		if !p.Form.absorb(err, nil) {
			return err
		}
		return w.twoFactorView(rw, r, refusedStatus(err), p, nil)
	}
	p.Title = "twofactor.title"
	p.Notice = "twofactor.codes_made"
	return w.twoFactorView(rw, r, http.StatusOK, p, codes)
}

func (w *Web) disableTOTP(rw http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	err := w.Identity.DisableTOTP(r.Context(), auth, r.PostFormValue("password"), r.PostFormValue("code"), httpauth.Origin(r))
	if err != nil {
		p := w.page(r, "twofactor.remove_title")
		if !p.Form.absorb(err, nil) {
			if equipe.ErrorCode(err) != equipe.ENOTFOUND {
				return err
			}
			p.Form.Summary = equipe.AsError(err).Key
		}
		return w.twoFactorView(rw, r, refusedStatus(err), p, nil)
	}
	return redirect(rw, r, "/me/security?done=removed")
}
