package web

import (
	"encoding/json"
	"net/http"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
)

// dataPage is a person's data: the download, and their identity's deletion
// (or the accounts that hold it back).
type dataPage struct {
	// Admin: an instance administrator's page about someone else.
	Admin  bool
	Person equipe.User
	Name   string // the person's full name
	// Alone lists the accounts of which the person is the only active
	// administrator: while there is one, deletion is refused.
	Alone []equipe.Account
	// Base is the path of the pages: /me/data, or /admin/users/{user}.
	Base string
	// Back is the page the deletion's confirmation goes back to.
	Back string
}

// dataOf reads what the data pages show of the user for the reader.
func (w *Web) dataOf(r *http.Request, user equipe.ID) (dataPage, error) {
	auth, _ := httpauth.Auth(r)
	u, err := w.Identity.Person(r.Context(), auth.User, user)
	if err != nil {
		return dataPage{}, err
	}
	alone, err := w.Identity.AccountsHeldAlone(r.Context(), auth.User, user)
	if err != nil {
		return dataPage{}, err
	}
	d := dataPage{Person: u, Name: personName(u), Alone: alone, Base: "/me/data", Back: "/me/data"}
	if user != auth.User.ID {
		d.Admin, d.Base = true, userURL(user)
		d.Back = d.Base
	}
	return d, nil
}

// title returns the page title's message key: own about the reader's own
// data, admin about another person's.
func (d dataPage) title(own, admin string) string {
	if d.Admin {
		return admin
	}
	return own
}

// userParam is the user a page is about: the reader on /me/data, the
// {user} of an instance administrator's page.
func userParam(r *http.Request) (equipe.ID, error) {
	if r.PathValue("user") == "" {
		auth, _ := httpauth.Auth(r)
		return auth.User.ID, nil
	}
	id, err := pathID(r, "user")
	if err != nil {
		return id, equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
	}
	return id, nil
}

// data shows the download and the deletion of a person's data.
func (w *Web) data(rw http.ResponseWriter, r *http.Request) error {
	user, err := userParam(r)
	if err != nil {
		return err
	}
	d, err := w.dataOf(r, user)
	if err != nil {
		return err
	}
	p := w.page(r, d.title("data.title", "page.user_data"))
	p.Data = d
	return w.render(rw, r, http.StatusOK, "data", p)
}

// exportData downloads a person's data as a JSON file.
func (w *Web) exportData(rw http.ResponseWriter, r *http.Request) error {
	user, err := userParam(r)
	if err != nil {
		return err
	}
	auth, _ := httpauth.Auth(r)
	x, err := w.Identity.ExportData(r.Context(), auth.User, user, httpauth.Origin(r))
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(x, "", "  ")
	if err != nil {
		return err
	}
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	rw.Header().Set("Content-Disposition", `attachment; filename="`+w.Brand.Load().FileName()+`-data-`+x.ExportedAt.Format("2006-01-02")+`.json"`)
	_, err = rw.Write(append(b, '\n'))
	return err
}

// deleteForm asks to confirm a person's deletion: with their password for
// themself.
func (w *Web) deleteForm(rw http.ResponseWriter, r *http.Request) error {
	user, err := userParam(r)
	if err != nil {
		return err
	}
	d, err := w.dataOf(r, user)
	if err != nil {
		return err
	}
	p := w.page(r, d.title("data.delete_title", "page.user_delete"))
	p.Data = d
	return w.render(rw, r, http.StatusOK, "data_delete", p)
}

// deleteIdentity deletes a person's identity. The person is logged out and
// sent to the login page; an administrator goes back home.
func (w *Web) deleteIdentity(rw http.ResponseWriter, r *http.Request) error {
	user, err := userParam(r)
	if err != nil {
		return err
	}
	auth, _ := httpauth.Auth(r)
	_, err = w.Identity.DeleteUser(r.Context(), auth.User, user, r.PostFormValue("password"), httpauth.Origin(r))
	if err != nil {
		d, derr := w.dataOf(r, user)
		if derr != nil {
			return derr
		}
		p := w.page(r, d.title("data.delete_title", "page.user_delete"))
		p.Data = d
		if !p.Form.absorb(err, nil) {
			return err
		}
		return w.render(rw, r, refusedStatus(err), "data_delete", p)
	}
	if user == auth.User.ID {
		w.Cookies.Clear(rw)
		return redirect(rw, r, "/login?done=deleted")
	}
	return redirect(rw, r, "/?done=user_deleted")
}
