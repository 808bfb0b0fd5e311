package api

import (
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/spreadsheet"
	"github.com/equipe-dev/equipe/team"
)

// wantsCSV reports whether a list is asked for as a CSV file rather than
// JSON: ?format=csv, or an Accept header that names text/csv and not
// JSON. ?format= with another value than csv or json answers 400.
func wantsCSV(r *http.Request) (bool, error) {
	switch r.URL.Query().Get("format") {
	case "csv":
		return true, nil
	case "json":
		return false, nil
	case "":
	default:
		return false, &requestError{status: http.StatusBadRequest, typ: "bad-request", key: "request.format_invalid"}
	}
	csv, json := false, false
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "text/csv":
			csv = true
		case "application/json", "application/*", "*/*":
			json = true
		}
	}
	return csv && !json, nil
}

// exportMembers answers the members f selects as a CSV file.
func (a *API) exportMembers(w http.ResponseWriter, r *http.Request, f team.MemberFilter) error {
	exp, err := a.Team.ExportMembers(r.Context(), actor(r), f)
	if err != nil {
		return err
	}
	locale := a.locale(r)
	spreadsheet.Respond(w, r, a.Log, spreadsheet.Filename("members", time.Now()), func(out io.Writer) error {
		return spreadsheet.WriteMembers(r.Context(), out, a.I18n, locale, exp)
	})
	return nil
}

// exportAudit answers the account's events f selects as a CSV file.
func (a *API) exportAudit(w http.ResponseWriter, r *http.Request, account equipe.ID, f team.AuditFilter) error {
	exp, err := a.Team.ExportAudit(r.Context(), actor(r), account, f)
	if err != nil {
		return err
	}
	locale := a.locale(r)
	spreadsheet.Respond(w, r, a.Log, spreadsheet.Filename("audit", time.Now()), func(out io.Writer) error {
		return spreadsheet.WriteAudit(r.Context(), out, a.I18n, locale, exp)
	})
	return nil
}
