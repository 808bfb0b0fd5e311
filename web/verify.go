package web

import (
	"github.com/equipe-dev/equipe"
	"net/http"

	"github.com/equipe-dev/equipe/httpauth"
)

type verifyPage struct {
	Email string
	Done  bool
}

// verifyForm shows a button: opening the link (perhaps by a mail scanner)
// verifies nothing; only the person's POST does.
func (w *Web) verifyForm(rw http.ResponseWriter, r *http.Request) error {
	tokenPage(rw)
	u, err := w.Identity.VerifyLink(r.Context(), r.PathValue("token"), httpauth.Origin(r))
	if err != nil {
		return w.linkError(rw, r, err, "link.verify_advice", "/", "link.verify_action")
	}
	p := w.page(r, "verify.title")
	p.Data = verifyPage{Email: u.Email}
	return w.render(rw, r, http.StatusOK, "verify", p)
}

func (w *Web) verify(rw http.ResponseWriter, r *http.Request) error {
	tokenPage(rw)
	u, err := w.Identity.VerifyEmail(r.Context(), r.PathValue("token"), httpauth.Origin(r))
	if err != nil {
		return w.linkError(rw, r, err, "link.verify_advice", "/", "link.verify_action")
	}
	p := w.page(r, "verify.done_title")
	p.Data = verifyPage{Email: u.Email, Done: true}
	return w.render(rw, r, http.StatusOK, "verify", p)
}

func (w *Web) resendVerification(rw http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	switch err := w.Identity.ResendVerification(r.Context(), auth.User, httpauth.Origin(r)); equipe.ErrorCode(err) {
	case "":
	case equipe.ECONFLICT:
		return redirect(rw, r, "/?done=already_verified")
	default:
		return err
	}
	return redirect(rw, r, "/?done=verification_sent")
}
