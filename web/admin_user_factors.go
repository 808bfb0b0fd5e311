package web

import (
	"net/http"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/team"
)

type userFactorsPage struct {
	Name, Email string
	View        team.UserView
	Back        string
}

// removeFactorsForm asks an instance administrator to confirm removing a
// person's second factors, with the reason (and how they checked who asks).
func (w *Web) removeFactorsForm(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "user")
	if err != nil {
		return err
	}
	return w.showRemoveFactors(rw, r, id, nil, http.StatusOK)
}

func (w *Web) showRemoveFactors(rw http.ResponseWriter, r *http.Request, id equipe.ID, f *form, status int) error {
	v, err := w.Team.User(r.Context(), actor(r), id, w.Identity.Config.SessionIdle)
	if err != nil {
		return err
	}
	// Only a removal the use case allows is asked for; a refused post comes
	// back with its own answer beside the reason.
	if a := v.Actions.Get(team.UserRemoveFactors); !a.OK() && f == nil {
		return a.Err
	}
	p := w.page(r, "page.user_remove_factors")
	if f != nil {
		p.Form = f
	}
	p.Form.arrange("reason")
	p.Form.label("reason", "admin_factors.reason")
	p.Data = userFactorsPage{Name: personName(v.User), Email: v.User.Email, View: v, Back: userURL(id)}
	return w.render(rw, r, status, "admin_user_factors", p)
}

func (w *Web) removeFactors(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "user")
	if err != nil {
		return err
	}
	f := newForm()
	f.keep(r, "reason")
	if _, err := w.Team.RemoveSecondFactors(r.Context(), actor(r), id, r.PostFormValue("reason")); err != nil {
		if !f.absorb(err, nil) {
			return err
		}
		return w.showRemoveFactors(rw, r, id, f, refusedStatus(err))
	}
	return redirect(rw, r, userURL(id)+"?done=factors_removed")
}
