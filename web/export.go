package web

import (
	"io"
	"net/http"
	"time"

	"github.com/equipe-dev/equipe/spreadsheet"
)

// exportMembers downloads the members the team page's filters select (the
// same query), as a CSV file.
func (w *Web) exportMembers(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	// A filter that can select nothing is refused (422) as the API refuses
	// it, rather than exporting everyone in a file that looks filtered.
	f, err := teamFilter(account, r.URL.Query())
	if err != nil {
		return err
	}
	exp, err := w.Team.ExportMembers(r.Context(), actor(r), f)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	locale := w.locale(r)
	spreadsheet.Respond(rw, r, w.Log, spreadsheet.Filename("members", time.Now()), func(out io.Writer) error {
		return spreadsheet.WriteMembers(r.Context(), out, w.I18n, locale, exp)
	})
	return nil
}

// exportAudit downloads the events the audit page's filters select (the
// same query), as a CSV file.
func (w *Web) exportAudit(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	f, err := auditFilter(r.URL.Query())
	if err != nil {
		return err
	}
	exp, err := w.Team.ExportAudit(r.Context(), actor(r), account, f)
	if cursorRefused(err) && f.Page.After != "" {
		f.Page.After = ""
		exp, err = w.Team.ExportAudit(r.Context(), actor(r), account, f)
	}
	if err != nil {
		return w.refuse(rw, r, err)
	}
	locale := w.locale(r)
	spreadsheet.Respond(rw, r, w.Log, spreadsheet.Filename("audit", time.Now()), func(out io.Writer) error {
		return spreadsheet.WriteAudit(r.Context(), out, w.I18n, locale, exp)
	})
	return nil
}
