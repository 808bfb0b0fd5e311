package web

import (
	"net/http"

	"github.com/equipe-dev/equipe/httpauth"
)

// homeNotices are the notices /?done= may show after a redirect.
var homeNotices = map[string]string{
	"verification_sent": "home.verification_sent",
}

func (w *Web) home(rw http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	accounts, err := w.Identity.Accounts(r.Context(), auth.User.ID)
	if err != nil {
		return err
	}
	p := w.page(r, "home.page_title")
	p.Notice = homeNotices[r.URL.Query().Get("done")]
	p.Data = accounts
	return w.render(rw, r, http.StatusOK, "home", p)
}
