package web

import (
	"net/http"
)

type emailPreviewsPage struct {
	Names   []string
	Locales []string
	Product string // the brand's name, the logo's text alternative
}

type emailPreviewPage struct {
	Name, Locale, Subject, Text string
}

// emailPreviews shows the instance's administrators the brand in force
// and every email the instance sends, to preview in each language and
// send to themselves.
func (w *Web) emailPreviews(rw http.ResponseWriter, r *http.Request) error {
	names, err := w.Team.EmailTemplates(actor(r))
	if err != nil {
		return err
	}
	p := w.page(r, "page.email_previews")
	if r.URL.Query().Get("done") == "sent" {
		p.Notice = "email_preview.sent"
	}
	p.Data = emailPreviewsPage{Names: names, Locales: []string{"fr", "en"}, Product: w.Brand.Load().Name}
	return w.render(rw, r, http.StatusOK, "email_previews", p)
}

// emailPreview shows one email, with sample data: its subject and text,
// and a link to its HTML.
func (w *Web) emailPreview(rw http.ResponseWriter, r *http.Request) error {
	name, locale := r.PathValue("name"), r.PathValue("locale")
	e, err := w.Team.PreviewEmail(r.Context(), actor(r), name, locale)
	if err != nil {
		return err
	}
	p := w.page(r, "page.email_preview")
	p.Data = emailPreviewPage{Name: name, Locale: locale, Subject: e.Subject, Text: e.Text}
	return w.render(rw, r, http.StatusOK, "email_preview", p)
}

// emailPreviewHTML answers one email's HTML as a document of its own. An
// email's HTML styles itself inline, which the pages' policy forbids: this
// answer has a policy of its own, sandboxed, running nothing.
func (w *Web) emailPreviewHTML(rw http.ResponseWriter, r *http.Request) error {
	e, err := w.Team.PreviewEmail(r.Context(), actor(r), r.PathValue("name"), r.PathValue("locale"))
	if err != nil {
		return err
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; sandbox")
	_, err = rw.Write([]byte(e.HTML))
	return err
}

// sendEmailPreview sends the sample email to the administrator who asks.
func (w *Web) sendEmailPreview(rw http.ResponseWriter, r *http.Request) error {
	if err := w.Team.SendEmailPreview(r.Context(), actor(r), r.PathValue("name"), r.PathValue("locale")); err != nil {
		return err
	}
	return redirect(rw, r, "/admin/emails?done=sent")
}
