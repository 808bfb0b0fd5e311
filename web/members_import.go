package web

import (
	"errors"
	"net/http"
	"slices"

	"github.com/equipe-dev/equipe/spreadsheet"
	"github.com/equipe-dev/equipe/team"
)

// An import of members takes three pages, none needing JavaScript: the
// form that uploads the file; the dry run's page, which lists every line's
// problem or, when there is none, offers to start the import; and the
// import's page, which refreshes itself while the import runs.

// maxUpload bounds a members file sent from the import form.
const maxUpload = 8 << 20

// importPage is the import's form, its dry run, and its progress.
type importPage struct {
	Frame accountFrame
	Back  string
	// Plan is the dry run of an uploaded file; Problems its lines'
	// problems, in the reader's language.
	Plan     *team.ImportPlan
	Problems []importLine
	Start    string // where the button that starts the planned import posts
	// Progress is a started import's.
	Progress *team.ImportProgress
	Percent  int
	Skipped  []importLine
}

// importLine is a problem of a line as the page shows it: the line's
// address, and the column by its header in the reader's language (a
// column the file names that is none, as the file names it).
type importLine struct {
	Line    int
	Email   string
	Column  string
	Message string
}

func (w *Web) importLines(locale string, ps []team.ImportProblem) []importLine {
	out := make([]importLine, 0, len(ps))
	for _, p := range ps {
		col := p.Column
		if slices.Contains(team.ImportColumns, col) {
			col = w.I18n.T(locale, "csv.member."+col, nil)
		}
		out = append(out, importLine{Line: p.Line, Email: p.Email, Column: col, Message: w.I18n.T(locale, p.Key, p.Args)})
	}
	return out
}

func (w *Web) importForm(rw http.ResponseWriter, r *http.Request) error {
	return w.showImport(rw, r, http.StatusOK, importPage{}, nil)
}

func (w *Web) showImport(rw http.ResponseWriter, r *http.Request, status int, d importPage, f *form) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	// Only those who may import see the form.
	if err := w.Team.MayImport(r.Context(), actor(r), account); err != nil {
		return w.refuse(rw, r, err)
	}
	if d.Frame, err = w.frame(r, account, "team"); err != nil {
		return err
	}
	d.Back = d.Frame.URL("/members")
	p := w.page(r, "page.import")
	if f != nil {
		p.Form = f
	}
	if d.Plan != nil {
		d.Problems = w.importLines(p.Locale, d.Plan.Problems)
	}
	p.Data = d
	return w.render(rw, r, status, "members_import", p)
}

// importUpload reads the uploaded file and shows its dry run.
func (w *Web) importUpload(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	f := newForm().label("file", "import.file")
	file, _, err := r.FormFile("file")
	if err != nil {
		var tooBig *http.MaxBytesError
		key := "import.file_required"
		if errors.As(err, &tooBig) {
			key = "request.too_large"
		}
		f.add("file", key, nil)
		return w.showImport(rw, r, http.StatusUnprocessableEntity, importPage{}, f)
	}
	defer file.Close()
	read, err := spreadsheet.ReadMembers(file, w.I18n)
	if err != nil {
		return err
	}
	plan, err := w.Team.PlanImport(r.Context(), actor(r), account, read, true)
	if err != nil {
		if f.absorb(err, nil) {
			return w.showImport(rw, r, http.StatusUnprocessableEntity, importPage{}, f)
		}
		return w.refuse(rw, r, err)
	}
	d := importPage{Plan: &plan}
	status := http.StatusOK
	if plan.ID != nil {
		d.Start = "/accounts/" + account.String() + "/imports/" + plan.ID.String() + "/start"
	} else {
		status = http.StatusUnprocessableEntity
	}
	return w.showImport(rw, r, status, d, nil)
}

// importStart starts a planned import and goes to its page.
func (w *Web) importStart(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	id, err := pathID(r, "import")
	if err != nil {
		return err
	}
	if err := w.Team.StartImport(r.Context(), actor(r), account, id); err != nil {
		return w.refuse(rw, r, err)
	}
	http.Redirect(rw, r, "/accounts/"+account.String()+"/imports/"+id.String(), http.StatusSeeOther)
	return nil
}

// importProgress shows how far the import is; while it runs, the page
// refreshes itself every two seconds (a meta refresh: no script).
func (w *Web) importProgress(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	id, err := pathID(r, "import")
	if err != nil {
		return err
	}
	prog, err := w.Team.ImportStatus(r.Context(), actor(r), account, id)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	frame, err := w.frame(r, account, "team")
	if err != nil {
		return err
	}
	p := w.page(r, "page.import")
	d := importPage{Frame: frame, Back: frame.URL("/members"), Progress: &prog, Skipped: w.importLines(p.Locale, prog.SkippedRows)}
	if prog.Total > 0 {
		d.Percent = 100 * prog.Processed / prog.Total
	}
	if !prog.Done() {
		p.Refresh = 2
	}
	p.Data = d
	rw.Header().Set("Cache-Control", "no-store")
	return w.render(rw, r, http.StatusOK, "members_import", p)
}
