package api

import (
	"net/http"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
)

// oidcConsentView is a consent the caller gave to an OpenID Connect client.
type oidcConsentView struct {
	ClientID   equipe.ID `json:"client_id"`
	ClientName string    `json:"client_name"`
	Scopes     []string  `json:"scopes"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func (a *API) myOIDCConsents(w http.ResponseWriter, r *http.Request) error {
	if a.SignIn == nil {
		return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
	}
	auth, _ := httpauth.Auth(r)
	p, err := pageParam(r)
	if err != nil {
		return err
	}
	cs, next, err := a.SignIn.Consents(r.Context(), auth, p)
	if err != nil {
		return err
	}
	out := newList[oidcConsentView](len(cs), next)
	for _, c := range cs {
		out.Items = append(out.Items, oidcConsentView{ClientID: c.ClientID, ClientName: c.ClientName, Scopes: c.Scopes,
			CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt})
	}
	return respond(w, http.StatusOK, out)
}

func (a *API) withdrawMyOIDCConsent(w http.ResponseWriter, r *http.Request) error {
	if a.SignIn == nil {
		return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
	}
	id, err := pathID(r, "client")
	if err != nil {
		return err
	}
	auth, _ := httpauth.Auth(r)
	if err := a.SignIn.WithdrawConsent(r.Context(), auth, id, httpauth.Origin(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
