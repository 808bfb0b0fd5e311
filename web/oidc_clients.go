package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/team"
)

// The instance's OpenID Connect clients, under /admin/oidc-clients, for
// its administrators.

// oidcClientFields are the form's fields in page order.
var oidcClientFields = []string{"name", "redirect_uris", "post_logout_uris", "backchannel_logout_uri", "scopes"}

type oidcClientsPage struct {
	Rows   []oidcClientRow
	Scopes []oidcScopeChoice
}

type oidcClientRow struct {
	ID                   string
	Name                 string
	RedirectURIs         []string
	Public, FirstParty   bool
	Scopes               string
	SecretPrefix         string
	BackchannelLogoutURI string
}

type oidcScopeChoice struct {
	Scope   string
	Checked bool
	Fixed   bool // openid: always
}

type oidcSecretPage struct {
	Name, ClientID, Secret string
	Rotate                 bool
}

var oidcClientNotices = map[string]string{"deleted": "oidc_clients.done_deleted"}

// lines splits a text area into its non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (w *Web) showOIDCClients(rw http.ResponseWriter, r *http.Request, f *form, status int) error {
	cs, err := w.Team.OIDCClients(r.Context(), actor(r))
	if err != nil {
		return w.refuse(rw, r, err)
	}
	p := w.page(r, "page.oidc_clients")
	if f != nil {
		p.Form = f
	} else {
		p.Form.Values["scopes"] = "profile,email"
	}
	p.Form.arrange(oidcClientFields...)
	p.Form.label("name", "oidc_clients.name", "redirect_uris", "oidc_clients.redirect_uris",
		"post_logout_uris", "oidc_clients.post_logout_uris", "backchannel_logout_uri", "oidc_clients.backchannel_logout_uri",
		"scopes", "oidc_clients.scopes")
	p.Notice = oidcClientNotices[r.URL.Query().Get("done")]
	var d oidcClientsPage
	chosen := strings.Split(p.Form.Value("scopes"), ",")
	for _, sc := range team.OIDCScopes {
		d.Scopes = append(d.Scopes, oidcScopeChoice{Scope: sc, Fixed: sc == "openid", Checked: sc == "openid" || slices.Contains(chosen, sc)})
	}
	for _, c := range cs {
		d.Rows = append(d.Rows, oidcClientRow{ID: c.ID.String(), Name: c.Name, RedirectURIs: c.RedirectURIs, Public: c.Public,
			FirstParty: c.FirstParty, Scopes: strings.Join(c.Scopes, " "), SecretPrefix: c.SecretPrefix,
			BackchannelLogoutURI: c.BackchannelLogoutURI})
	}
	p.Data = d
	return w.render(rw, r, status, "oidc_clients", p)
}

func (w *Web) oidcClients(rw http.ResponseWriter, r *http.Request) error {
	return w.showOIDCClients(rw, r, nil, http.StatusOK)
}

func (w *Web) createOIDCClient(rw http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return err
	}
	in := team.OIDCClientInput{Name: r.PostFormValue("name"), RedirectURIs: lines(r.PostFormValue("redirect_uris")),
		PostLogoutURIs: lines(r.PostFormValue("post_logout_uris")), BackchannelLogoutURI: r.PostFormValue("backchannel_logout_uri"),
		Public: r.PostFormValue("public") != "", FirstParty: r.PostFormValue("first_party") != "", Scopes: r.PostForm["scopes"]}
	c, secret, err := w.Team.CreateOIDCClient(r.Context(), actor(r), in)
	if err != nil {
		f := newForm()
		if !f.absorb(err, nil) {
			return w.refuse(rw, r, err)
		}
		f.keep(r, "name", "redirect_uris", "post_logout_uris", "backchannel_logout_uri", "public", "first_party")
		f.Values["scopes"] = strings.Join(r.PostForm["scopes"], ",")
		return w.showOIDCClients(rw, r, f, refusedStatus(err))
	}
	return w.showOIDCSecret(rw, r, c, secret, false, http.StatusCreated)
}

// showOIDCSecret shows a client's ID and secret, the only time anyone sees
// the secret: the answer to the post itself, never a page a link or a
// reload could bring back. A public client has no secret.
func (w *Web) showOIDCSecret(rw http.ResponseWriter, r *http.Request, c equipe.OIDCClient, secret string, rotate bool, status int) error {
	tokenPage(rw)
	rw.Header().Set("Cache-Control", "no-store")
	p := w.page(r, "page.oidc_client_secret")
	p.Data = oidcSecretPage{Name: c.Name, ClientID: c.ID.String(), Secret: secret, Rotate: rotate}
	return w.render(rw, r, status, "oidc_client_secret", p)
}

func (w *Web) rotateOIDCClient(rw http.ResponseWriter, r *http.Request) error {
	id, err := equipe.ParseID(r.PathValue("client"))
	if err != nil {
		return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
	}
	c, secret, err := w.Team.RotateOIDCClientSecret(r.Context(), actor(r), id)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	return w.showOIDCSecret(rw, r, c, secret, true, http.StatusOK)
}

func (w *Web) deleteOIDCClient(rw http.ResponseWriter, r *http.Request) error {
	id, err := equipe.ParseID(r.PathValue("client"))
	if err != nil {
		return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
	}
	if err := w.Team.DeleteOIDCClient(r.Context(), actor(r), id); err != nil {
		return w.refuse(rw, r, err)
	}
	return redirect(rw, r, "/admin/oidc-clients?done=deleted")
}
