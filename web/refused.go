package web

import (
	"net/http"
)

// Refuse answers a request that the server refused before it reached the
// pages (the cross-site check) with the page that explains why, in the
// reader's language, as the pages' own refusals do: err is an *equipe.Error
// of code EFORBIDDEN whose key and arguments give the reason.
func (w *Web) Refuse(rw http.ResponseWriter, r *http.Request, err error) {
	rw.Header().Set("Cache-Control", "no-store")
	if err := w.refuse(rw, r, err); err != nil {
		w.fail(rw, r, err)
	}
}
