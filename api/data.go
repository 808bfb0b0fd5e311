package api

import (
	"net/http"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
)

// exportMe answers the session's person's data (format equipe.user-export/1).
func (a *API) exportMe(w http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	return a.exportOf(w, r, auth.User.ID)
}

// exportUser answers a user's data, for an instance administrator.
func (a *API) exportUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "user")
	if err != nil {
		return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
	}
	return a.exportOf(w, r, id)
}

func (a *API) exportOf(w http.ResponseWriter, r *http.Request, user equipe.ID) error {
	auth, _ := httpauth.Auth(r)
	x, err := a.Identity.ExportData(r.Context(), auth.User, user, httpauth.Origin(r))
	if err != nil {
		return err
	}
	return respond(w, http.StatusOK, x)
}

type deleteRequest struct {
	Password string `json:"password"`
}

// deleteMe erases the session's person's identity, confirmed with their
// password; the session ends with it.
func (a *API) deleteMe(w http.ResponseWriter, r *http.Request) error {
	var in deleteRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	auth, _ := httpauth.Auth(r)
	if _, err := a.Identity.DeleteUser(r.Context(), auth.User, auth.User.ID, in.Password, httpauth.Origin(r)); err != nil {
		return err
	}
	a.Cookies.Clear(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteUser erases a user's identity, for an instance administrator.
func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "user")
	if err != nil {
		return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
	}
	auth, _ := httpauth.Auth(r)
	var in deleteRequest
	if r.ContentLength != 0 {
		if err := decode(w, r, &in); err != nil {
			return err
		}
	}
	if _, err := a.Identity.DeleteUser(r.Context(), auth.User, id, in.Password, httpauth.Origin(r)); err != nil {
		return err
	}
	if id == auth.User.ID {
		a.Cookies.Clear(w)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
