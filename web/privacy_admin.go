package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/identity"
)

// policiesPage is an instance administrator's page of the privacy policy's
// versions, with the form that publishes one.
type policiesPage struct {
	Versions []policyLine
}

type policyLine struct {
	Version, Label, URL string
	EffectiveAt         time.Time
	Upcoming, Current   bool
	Acceptances         int
	Href                string // the page of its acceptances
	Withdraw            string // the action withdrawing it, for a version yet to take effect
}

// policies lists the versions of the privacy policy and offers to publish
// one.
func (w *Web) policies(rw http.ResponseWriter, r *http.Request) error {
	p := w.page(r, "policies.title")
	p.Form.Values["effective_on"] = time.Now().UTC().Format("2006-01-02")
	switch r.URL.Query().Get("done") {
	case "published":
		p.Notice = "policies.published"
	case "withdrawn":
		p.Notice = "policies.withdrawn"
	}
	return w.renderPolicies(rw, r, http.StatusOK, p)
}

func (w *Web) renderPolicies(rw http.ResponseWriter, r *http.Request, status int, p *page) error {
	auth, _ := httpauth.Auth(r)
	vs, _, err := w.Identity.Policies(r.Context(), auth.User, equipe.Page{})
	if err != nil {
		return err
	}
	var d policiesPage
	for _, v := range vs {
		at := "/admin/privacy-policy/" + url.PathEscape(v.Version)
		line := policyLine{Version: v.Version, Label: w.I18n.PolicyLabel(p.Locale, v.PrivacyPolicy),
			URL: v.URL, EffectiveAt: v.EffectiveAt, Upcoming: v.Upcoming, Current: v.Current,
			Acceptances: v.Acceptances, Href: at + "/acceptances"}
		if v.Upcoming {
			line.Withdraw = at + "/withdraw"
		}
		d.Versions = append(d.Versions, line)
	}
	p.Data = d
	return w.render(rw, r, status, "policies", p)
}

// publishPolicy publishes a version from the form. The date it takes
// effect is a day, from its start in UTC (today: at once).
func (w *Web) publishPolicy(rw http.ResponseWriter, r *http.Request) error {
	p := w.page(r, "policies.title")
	in := identity.NewPolicy{Version: r.PostFormValue("version"), Label: r.PostFormValue("label"), URL: r.PostFormValue("url"),
		Texts: map[string]string{equipe.LocaleFR: r.PostFormValue("text_fr"), equipe.LocaleEN: r.PostFormValue("text_en")}}
	var err error
	if day := strings.TrimSpace(r.PostFormValue("effective_on")); day != "" {
		in.EffectiveAt, err = time.Parse("2006-01-02", day)
		if err != nil {
			err = &equipe.Error{Code: equipe.EINVALID, Key: "error.fields", Fields: []equipe.FieldError{{Field: "effective_on", Key: "policies.date_invalid"}}}
		}
	}
	if err == nil {
		auth, _ := httpauth.Auth(r)
		_, err = w.Identity.PublishPolicyAs(r.Context(), auth.User, in, httpauth.Origin(r))
	}
	if err != nil {
		if !p.Form.absorb(err, map[string]string{"texts": "text_fr", "texts.fr": "text_fr", "texts.en": "text_en"}) {
			return err
		}
		p.Form.keep(r, "version", "label", "url", "text_fr", "text_en", "effective_on")
		p.Form.arrange("label", "text_fr", "text_en", "url", "effective_on", "version")
		return w.renderPolicies(rw, r, refusedStatus(err), p)
	}
	return redirect(rw, r, "/admin/privacy-policy?done=published")
}

// withdrawPolicy withdraws a version yet to take effect; one that took
// effect meanwhile is said on the page.
func (w *Web) withdrawPolicy(rw http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	err := w.Identity.WithdrawPolicyAs(r.Context(), auth.User, r.PathValue("version"), httpauth.Origin(r))
	if equipe.ErrorCode(err) == equipe.ECONFLICT {
		p := w.page(r, "policies.title")
		p.Form.absorb(err, nil)
		return w.renderPolicies(rw, r, refusedStatus(err), p)
	} else if err != nil {
		return err
	}
	return redirect(rw, r, "/admin/privacy-policy?done=withdrawn")
}

// acceptancesPage lists who accepted a version, a page at a time.
type acceptancesPage struct {
	Label, Version string
	Items          []identity.Acceptance
	Next           string // the next page's link, "" at the end
}

func (w *Web) policyAcceptances(rw http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	version := r.PathValue("version")
	cursor := r.URL.Query().Get("cursor")
	rows, next, err := w.Identity.Acceptances(r.Context(), auth.User, version, equipe.Page{After: cursor, Limit: 50})
	if cursorRefused(err) && cursor != "" {
		// A cursor that is none: the first page, as every list does.
		rows, next, err = w.Identity.Acceptances(r.Context(), auth.User, version, equipe.Page{Limit: 50})
	}
	if equipe.ErrorCode(err) == equipe.EBADREQUEST {
		return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
	} else if err != nil {
		return err
	}
	p := w.page(r, "policies.acceptances_title")
	d := acceptancesPage{Version: version, Items: rows}
	vs, _, err := w.Identity.Policies(r.Context(), auth.User, equipe.Page{})
	if err != nil {
		return err
	}
	for _, v := range vs {
		if v.Version == version {
			d.Label = w.I18n.PolicyLabel(p.Locale, v.PrivacyPolicy)
		}
	}
	if next != "" {
		d.Next = "?cursor=" + url.QueryEscape(next)
	}
	p.Data = d
	return w.render(rw, r, http.StatusOK, "policy_acceptances", p)
}
