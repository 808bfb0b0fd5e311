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

// oidcClientFieldsData is what the shared fields of a client's form show.
type oidcClientFieldsData struct {
	Form   *form
	Scopes []oidcScopeChoice
	New    bool // a registration: the client's kind is chosen
}

type oidcClientEditPage struct {
	ID, Name string
	Scopes   []oidcScopeChoice
}

type oidcScopeChoice struct {
	Scope   string
	Checked bool
	Fixed   bool // openid: always
}

// oidcClientConfirmPage asks to confirm an action on a client that cannot
// be undone: a new secret (the old one stops working) or a deletion.
type oidcClientConfirmPage struct {
	Name                string
	Title, Text, Button string // message keys
}

type oidcSecretPage struct {
	Name, ClientID, Secret string
	Rotate                 bool
}

var oidcClientNotices = map[string]string{"deleted": "oidc_clients.done_deleted", "changed": "oidc_clients.done_changed"}

// labelOIDCClientForm names a client form's fields, in page order, for
// the summary of its problems.
func labelOIDCClientForm(f *form) {
	f.arrange(oidcClientFields...)
	f.label("name", "oidc_clients.name", "redirect_uris", "oidc_clients.redirect_uris",
		"post_logout_uris", "oidc_clients.post_logout_uris", "backchannel_logout_uri", "oidc_clients.backchannel_logout_uri",
		"scopes", "oidc_clients.scopes")
}

// scopeChoices are the scope boxes of a client form, those of its "scopes"
// value (comma-separated) ticked; openid always.
func scopeChoices(f *form) []oidcScopeChoice {
	var out []oidcScopeChoice
	chosen := strings.Split(f.Value("scopes"), ",")
	for _, sc := range team.OIDCScopes {
		out = append(out, oidcScopeChoice{Scope: sc, Fixed: sc == "openid", Checked: sc == "openid" || slices.Contains(chosen, sc)})
	}
	return out
}

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
	labelOIDCClientForm(p.Form)
	p.Notice = oidcClientNotices[r.URL.Query().Get("done")]
	d := oidcClientsPage{Scopes: scopeChoices(p.Form)}
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

// oidcClientConfirm shows the confirmation page of an action on the path's
// client, whose form posts to the same address; an action on its secret is
// refused to a public client, which has none.
func (w *Web) oidcClientConfirm(rw http.ResponseWriter, r *http.Request, title string, secret bool, d oidcClientConfirmPage) error {
	id, err := equipe.ParseID(r.PathValue("client"))
	if err != nil {
		return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
	}
	c, err := w.Team.OIDCClient(r.Context(), actor(r), id)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	if secret && c.Public {
		return w.refuse(rw, r, equipe.Errorf(equipe.ECONFLICT, "oidc_client.public_no_secret"))
	}
	p := w.page(r, title)
	d.Name = c.Name
	p.Data = d
	return w.render(rw, r, http.StatusOK, "oidc_client_confirm", p)
}

// rotateOIDCClientForm asks to confirm a client's new secret.
func (w *Web) rotateOIDCClientForm(rw http.ResponseWriter, r *http.Request) error {
	return w.oidcClientConfirm(rw, r, "page.oidc_client_rotate", true, oidcClientConfirmPage{Title: "oidc_clients.rotate_title",
		Text: "oidc_clients.rotate_text", Button: "oidc_clients.rotate_confirm"})
}

// deleteOIDCClientForm asks to confirm a client's deletion.
func (w *Web) deleteOIDCClientForm(rw http.ResponseWriter, r *http.Request) error {
	return w.oidcClientConfirm(rw, r, "page.oidc_client_delete", false, oidcClientConfirmPage{Title: "oidc_clients.delete_title",
		Text: "oidc_clients.delete_text", Button: "oidc_clients.delete_confirm"})
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

// editOIDCClientForm shows a client's form filled with what it is now.
func (w *Web) editOIDCClientForm(rw http.ResponseWriter, r *http.Request) error {
	return w.showOIDCClientEdit(rw, r, nil, http.StatusOK)
}

func (w *Web) showOIDCClientEdit(rw http.ResponseWriter, r *http.Request, f *form, status int) error {
	id, err := equipe.ParseID(r.PathValue("client"))
	if err != nil {
		return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
	}
	c, err := w.Team.OIDCClient(r.Context(), actor(r), id)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	p := w.page(r, "page.oidc_client_edit")
	if f != nil {
		p.Form = f
	} else {
		p.Form.Values["name"] = c.Name
		p.Form.Values["redirect_uris"] = strings.Join(c.RedirectURIs, "\n")
		p.Form.Values["post_logout_uris"] = strings.Join(c.PostLogoutURIs, "\n")
		p.Form.Values["backchannel_logout_uri"] = c.BackchannelLogoutURI
		if c.FirstParty {
			p.Form.Values["first_party"] = "on"
		}
		p.Form.Values["scopes"] = strings.Join(c.Scopes, ",")
	}
	labelOIDCClientForm(p.Form)
	p.Data = oidcClientEditPage{ID: c.ID.String(), Name: c.Name, Scopes: scopeChoices(p.Form)}
	return w.render(rw, r, status, "oidc_client_edit", p)
}

// editOIDCClient changes a client to what its form says: every field, as
// the form shows them all (the client's kind and secret never change).
func (w *Web) editOIDCClient(rw http.ResponseWriter, r *http.Request) error {
	id, err := equipe.ParseID(r.PathValue("client"))
	if err != nil {
		return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
	}
	if err := r.ParseForm(); err != nil {
		return err
	}
	name, backchannel := r.PostFormValue("name"), r.PostFormValue("backchannel_logout_uri")
	redirects, postLogout := lines(r.PostFormValue("redirect_uris")), lines(r.PostFormValue("post_logout_uris"))
	firstParty, scopes := r.PostFormValue("first_party") != "", append([]string{}, r.PostForm["scopes"]...)
	_, err = w.Team.UpdateOIDCClient(r.Context(), actor(r), id, team.OIDCClientChange{Name: &name, RedirectURIs: &redirects,
		PostLogoutURIs: &postLogout, BackchannelLogoutURI: &backchannel, FirstParty: &firstParty, Scopes: &scopes})
	if err != nil {
		f := newForm()
		if !f.absorb(err, nil) {
			return w.refuse(rw, r, err)
		}
		f.keep(r, "name", "redirect_uris", "post_logout_uris", "backchannel_logout_uri", "first_party")
		f.Values["scopes"] = strings.Join(r.PostForm["scopes"], ",")
		return w.showOIDCClientEdit(rw, r, f, refusedStatus(err))
	}
	return redirect(rw, r, "/admin/oidc-clients?done=changed")
}
