package web

import (
	"net/http"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
)

type consentPage struct {
	Policy policyText
	Next   string
}

// policyText is a privacy policy as one reader sees it: named by its label
// or its publication date (never by the version's identifier, which may be
// a hash), in the reader's language (equipe.PrivacyPolicy.TextIn).
type policyText struct {
	Version string // identifies the version accepted, in the form
	Label   string
	Text    string
	URL     string
}

// policyText returns p as read in locale.
func (w *Web) policyText(locale string, p equipe.PrivacyPolicy) policyText {
	label := w.I18n.PolicyLabel(locale, p)
	return policyText{Version: p.Version, Label: label, Text: p.TextIn(locale), URL: p.URL}
}

func (w *Web) consentForm(rw http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	next := localPath(r.URL.Query().Get("next"), "/")
	pol, needed, err := w.Identity.ConsentNeeded(r.Context(), auth.User.ID)
	if err != nil {
		return err
	}
	if !needed {
		return redirect(rw, r, next)
	}
	p := w.page(r, "consent.title")
	p.Data = consentPage{Policy: w.policyText(p.Locale, pol), Next: next}
	return w.render(rw, r, http.StatusOK, "consent", p)
}

func (w *Web) consent(rw http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	next := localPath(r.PostFormValue("next"), "/")
	showAgain := func(status int, field, key string) error {
		pol, _, err := w.Identity.ConsentNeeded(r.Context(), auth.User.ID)
		if err != nil {
			return err
		}
		p := w.page(r, "consent.title")
		p.Data = consentPage{Policy: w.policyText(p.Locale, pol), Next: next}
		if field != "" {
			p.Form.add(field, key, nil)
		} else {
			p.Notice = key
		}
		return w.render(rw, r, status, "consent", p)
	}
	if r.PostFormValue("accept") != "yes" {
		return showAgain(http.StatusUnprocessableEntity, "accept", "consent.must_accept")
	}
	err := w.Identity.AcceptPolicy(r.Context(), auth.User.ID, r.PostFormValue("version"), httpauth.Origin(r))
	if equipe.ErrorCode(err) == equipe.ECONFLICT {
		return showAgain(http.StatusConflict, "", "consent.outdated")
	}
	if err != nil {
		return err
	}
	return redirect(rw, r, next)
}

func (w *Web) privacy(rw http.ResponseWriter, r *http.Request) error {
	p := w.page(r, "privacy.title")
	pol, err := w.Identity.CurrentPolicy(r.Context())
	if err == nil {
		pt := w.policyText(p.Locale, pol)
		p.Data = &pt
	} else if equipe.ErrorCode(err) != equipe.ENOTFOUND {
		return err
	}
	return w.render(rw, r, http.StatusOK, "privacy", p)
}
