package api

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/spreadsheet"
	"github.com/equipe-dev/equipe/team"
)

// maxImportBody bounds a members file sent to the import route: 10,000
// rows of a few hundred bytes.
const maxImportBody = 8 << 20

// importPath is the route that takes a members file.
const importPath = "/api/v1/accounts/{account}/member-imports"

// lineProblemView is a problem of a line of a members file.
type lineProblemView struct {
	Line    int    `json:"line"`
	Column  string `json:"column,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// importPlanView is a dry run's answer, and the body of a refused import.
type importPlanView struct {
	Rows      int               `json:"rows"`
	Adds      int               `json:"adds"`
	Updates   int               `json:"updates"`
	Unchanged int               `json:"unchanged"`
	Problems  []lineProblemView `json:"problems"`
}

// importView is an import's progress.
type importView struct {
	ID          equipe.ID         `json:"id"`
	Status      string            `json:"status"`
	Total       int               `json:"total"`
	Processed   int               `json:"processed"`
	Added       int               `json:"added"`
	Updated     int               `json:"updated"`
	Unchanged   int               `json:"unchanged"`
	Skipped     int               `json:"skipped"`
	CreatedAt   time.Time         `json:"created_at"`
	FinishedAt  *time.Time        `json:"finished_at"`
	SkippedRows []lineProblemView `json:"skipped_rows"`
}

func (a *API) lineProblems(r *http.Request, ps []team.ImportProblem) []lineProblemView {
	locale := a.locale(r)
	out := []lineProblemView{}
	for _, p := range ps {
		out = append(out, lineProblemView{Line: p.Line, Column: p.Column, Code: p.Key, Message: a.I18n.T(locale, p.Key, p.Args)})
	}
	return out
}

// importMembers reads a members file (text/csv) and, with dry_run=true,
// answers what importing it would do; otherwise it starts the import when
// no line has a problem (202, Location the import) and answers every
// line's problem when one has (422), having written nothing.
func (a *API) importMembers(w http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	act := actor(r)
	// Who may not import learns nothing of the route's other rules.
	if err := a.Team.MayImport(r.Context(), act, account); err != nil {
		return err
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "text/csv" {
		return &requestError{status: http.StatusUnsupportedMediaType, typ: "unsupported-media-type", key: "import.media_type"}
	}
	var dry bool
	switch r.URL.Query().Get("dry_run") {
	case "", "false":
	case "true":
		dry = true
	default:
		return &equipe.Error{Code: equipe.EINVALID, Key: "error.fields", Fields: []equipe.FieldError{{Field: "dry_run", Key: "import.yes_no"}}}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxImportBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &requestError{status: http.StatusRequestEntityTooLarge, typ: "too-large", key: "request.too_large"}
		}
		return &requestError{status: http.StatusBadRequest, typ: "bad-request", key: "request.malformed"}
	}
	file, err := spreadsheet.ReadMembers(bytes.NewReader(body), a.I18n)
	if err != nil {
		return err
	}
	plan, err := a.Team.PlanImport(r.Context(), act, account, file, !dry)
	if err != nil {
		return err
	}
	view := importPlanView{Rows: plan.Rows, Adds: plan.Adds, Updates: plan.Updates, Unchanged: plan.Unchanged,
		Problems: a.lineProblems(r, plan.Problems)}
	if dry {
		return respond(w, http.StatusOK, view)
	}
	if len(plan.Problems) > 0 {
		return respond(w, http.StatusUnprocessableEntity, view)
	}
	if err := a.Team.StartImport(r.Context(), act, account, *plan.ID); err != nil {
		return err
	}
	p, err := a.Team.ImportStatus(r.Context(), act, account, *plan.ID)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/accounts/"+account.String()+"/member-imports/"+plan.ID.String())
	return respond(w, http.StatusAccepted, a.viewImport(r, p))
}

func (a *API) viewImport(r *http.Request, p team.ImportProgress) importView {
	v := importView{ID: p.ID, Status: p.Status, Total: p.Total, Processed: p.Processed, Added: p.Added, Updated: p.Updated,
		Unchanged: p.Unchanged, Skipped: p.MemberImport.Skipped, CreatedAt: p.CreatedAt, SkippedRows: a.lineProblems(r, p.SkippedRows)}
	if !p.FinishedAt.IsZero() {
		v.FinishedAt = &p.FinishedAt
	}
	return v
}

// memberImport answers how far an import is.
func (a *API) memberImport(w http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	id, err := pathID(r, "import")
	if err != nil {
		return err
	}
	p, err := a.Team.ImportStatus(r.Context(), actor(r), account, id)
	if err != nil {
		return err
	}
	return respond(w, http.StatusOK, a.viewImport(r, p))
}
