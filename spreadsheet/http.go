package spreadsheet

import (
	"io"
	"log/slog"
	"net/http"
	"time"
)

// maxDuration bounds how long an export may take to be sent: longer than
// the server's write timeout allows other answers, for a large file on a
// slow link.
const maxDuration = 10 * time.Minute

// Respond answers a request with the CSV file write writes, as an
// attachment named filename. Once the file has started, an error cannot
// become an error answer: it is logged and the connection is cut, so that
// the client sees a failed download rather than a file that looks whole.
func Respond(w http.ResponseWriter, r *http.Request, log *slog.Logger, filename string, write func(io.Writer) error) {
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8; header=present")
	h.Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(maxDuration))
	w.WriteHeader(http.StatusOK)
	if err := write(w); err != nil {
		if r.Context().Err() == nil {
			log.Error("export stopped", "path", r.URL.Path, "err", err)
		}
		panic(http.ErrAbortHandler)
	}
}

// Filename names an export of what (members, audit) made at now.
func Filename(what string, now time.Time) string {
	return what + "-" + now.UTC().Format("2006-01-02") + ".csv"
}
