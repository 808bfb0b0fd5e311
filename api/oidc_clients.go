package api

import (
	"net/http"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/team"
)

// OpenID Connect clients of the instance, under /api/v1/oidc-clients (the
// firm's client accounts are under /api/v1/accounts/{account}/clients).

type oidcClientView struct {
	ID                   equipe.ID `json:"id"` // the client_id
	Name                 string    `json:"name"`
	RedirectURIs         []string  `json:"redirect_uris"`
	PostLogoutURIs       []string  `json:"post_logout_redirect_uris"`
	BackchannelLogoutURI string    `json:"backchannel_logout_uri"`
	Public               bool      `json:"public"`
	FirstParty           bool      `json:"first_party"`
	Scopes               []string  `json:"scopes"`
	SecretPrefix         string    `json:"secret_prefix,omitempty"`
	CreatedAt            time.Time `json:"created_at"`
	UpdatedAt            time.Time `json:"updated_at"`
	Secret               string    `json:"client_secret,omitempty"` // on creation and rotation only
}

func viewOIDCClient(c equipe.OIDCClient) oidcClientView {
	v := oidcClientView{ID: c.ID, Name: c.Name, RedirectURIs: c.RedirectURIs, PostLogoutURIs: c.PostLogoutURIs,
		BackchannelLogoutURI: c.BackchannelLogoutURI, Public: c.Public, FirstParty: c.FirstParty, Scopes: c.Scopes,
		SecretPrefix: c.SecretPrefix, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	if v.PostLogoutURIs == nil {
		v.PostLogoutURIs = []string{}
	}
	return v
}

type oidcClientRequest struct {
	Name                 string   `json:"name"`
	RedirectURIs         []string `json:"redirect_uris"`
	PostLogoutURIs       []string `json:"post_logout_redirect_uris"`
	BackchannelLogoutURI string   `json:"backchannel_logout_uri"`
	Public               bool     `json:"public"`
	FirstParty           bool     `json:"first_party"`
	Scopes               []string `json:"scopes"`
}

func (a *API) oidcClients(w http.ResponseWriter, r *http.Request) error {
	p, err := pageParam(r)
	if err != nil {
		return err
	}
	cs, next, err := a.Team.OIDCClientPage(r.Context(), actor(r), p)
	if err != nil {
		return err
	}
	out := newList[oidcClientView](len(cs), next)
	for _, c := range cs {
		out.Items = append(out.Items, viewOIDCClient(c))
	}
	return respond(w, http.StatusOK, out)
}

func (a *API) createOIDCClient(w http.ResponseWriter, r *http.Request) error {
	var in oidcClientRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	c, secret, err := a.Team.CreateOIDCClient(r.Context(), actor(r), team.OIDCClientInput(in))
	if err != nil {
		return err
	}
	out := viewOIDCClient(c)
	out.Secret = secret
	w.Header().Set("Location", "/api/v1/oidc-clients/"+c.ID.String())
	return respond(w, http.StatusCreated, out)
}

// oidcClientPatch is a change of a client: the members sent.
type oidcClientPatch struct {
	Name                 *string   `json:"name"`
	RedirectURIs         *[]string `json:"redirect_uris"`
	PostLogoutURIs       *[]string `json:"post_logout_redirect_uris"`
	BackchannelLogoutURI *string   `json:"backchannel_logout_uri"`
	FirstParty           *bool     `json:"first_party"`
	Scopes               *[]string `json:"scopes"`
}

func (a *API) updateOIDCClient(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "client")
	if err != nil {
		return err
	}
	var in oidcClientPatch
	if err := decode(w, r, &in); err != nil {
		return err
	}
	c, err := a.Team.UpdateOIDCClient(r.Context(), actor(r), id, team.OIDCClientChange(in))
	if err != nil {
		return err
	}
	return respond(w, http.StatusOK, viewOIDCClient(c))
}

func (a *API) oidcClient(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "client")
	if err != nil {
		return err
	}
	c, err := a.Team.OIDCClient(r.Context(), actor(r), id)
	if err != nil {
		return err
	}
	return respond(w, http.StatusOK, viewOIDCClient(c))
}

func (a *API) rotateOIDCClientSecret(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "client")
	if err != nil {
		return err
	}
	c, secret, err := a.Team.RotateOIDCClientSecret(r.Context(), actor(r), id)
	if err != nil {
		return err
	}
	out := viewOIDCClient(c)
	out.Secret = secret
	return respond(w, http.StatusOK, out)
}

func (a *API) deleteOIDCClient(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "client")
	if err != nil {
		return err
	}
	if err := a.Team.DeleteOIDCClient(r.Context(), actor(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
