package web

import (
	"net/http"

	"github.com/equipe-dev/equipe"
)

type keyRevokePage struct {
	Frame  *accountFrame
	Name   string
	Prefix string
	Back   string
}

// revokeKeyForm asks to confirm the revocation of a key in use of the
// account (nil: of the instance).
func (w *Web) revokeKeyForm(rw http.ResponseWriter, r *http.Request, account *equipe.ID) error {
	id, err := pathID(r, "key")
	if err != nil {
		return err
	}
	keys, _, err := w.Team.Keys(r.Context(), actor(r), account, equipe.Page{})
	if err != nil {
		return w.refuse(rw, r, err)
	}
	frame, err := w.keysFrame(r, account)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.ID == id && k.RevokedAt.IsZero() {
			p := w.page(r, "page.api_key_revoke")
			p.Data = keyRevokePage{Frame: frame, Name: k.Name, Prefix: k.Prefix, Back: keysURL(account)}
			return w.render(rw, r, http.StatusOK, "api_key_revoke", p)
		}
	}
	return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
}

func (w *Web) revokeKey(rw http.ResponseWriter, r *http.Request, account *equipe.ID) error {
	id, err := pathID(r, "key")
	if err != nil {
		return err
	}
	if err := w.Team.RevokeKey(r.Context(), actor(r), account, id); err != nil {
		return w.refuse(rw, r, err)
	}
	return redirect(rw, r, keysURL(account)+"?done=revoked")
}

func (w *Web) revokeAccountKeyForm(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	return w.revokeKeyForm(rw, r, &account)
}

func (w *Web) revokeAccountKey(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	return w.revokeKey(rw, r, &account)
}

func (w *Web) revokeInstanceKeyForm(rw http.ResponseWriter, r *http.Request) error {
	return w.revokeKeyForm(rw, r, nil)
}

func (w *Web) revokeInstanceKey(rw http.ResponseWriter, r *http.Request) error {
	return w.revokeKey(rw, r, nil)
}
