package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe/app/apptest"
)

func TestOIDCClientsPage_AnInstanceAdministratorRegistersAClientSeesItsSecretOnceAndDeletesIt(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	c, _ := supportLogsIn(t, env)

	if p := get(t, c, env.URL+"/"); !strings.Contains(p.Body, `href="/admin/oidc-clients"`) {
		t.Error("the home page has no link to the OpenID Connect clients")
	}
	p := get(t, c, env.URL+"/admin/oidc-clients")
	if p.Status != 200 || !strings.Contains(p.Body, "Clients OpenID Connect") || !strings.Contains(p.Body, "Aucun client") {
		t.Fatalf("page: %d %s", p.Status, text(p.Body))
	}

	// Each problem beside its field, in the reader's language, and nothing made.
	p = post(t, c, env.URL+"/admin/oidc-clients", url.Values{"name": {"Vendor app"},
		"redirect_uris": {"http://app.example.com/cb"}, "backchannel_logout_uri": {"https://10.0.0.1/x"}})
	if p.Status != 422 || !strings.Contains(p.Body, `id="e-redirect_uris"`) || !strings.Contains(p.Body, "doit commencer par https://") ||
		!strings.Contains(p.Body, `id="e-backchannel_logout_uri"`) || !strings.Contains(p.Body, "Vendor app") {
		t.Fatalf("bad client: %d %s", p.Status, text(p.Body))
	}
	if cs, _ := env.App.DB.OIDCClients(t.Context()); len(cs) != 0 {
		t.Fatalf("a refusal made %d clients", len(cs))
	}

	p = post(t, c, env.URL+"/admin/oidc-clients", url.Values{"name": {"Vendor app"},
		"redirect_uris": {"https://app.example.com/cb\r\nhttp://127.0.0.1:9000/cb"}, "scopes": {"profile", "accounts"}})
	if p.Status != 201 || p.Header.Get("Cache-Control") != "no-store" || !strings.Contains(p.Body, "eqcs_") {
		t.Fatalf("create: %d %s", p.Status, text(p.Body))
	}
	cs, err := env.App.DB.OIDCClients(t.Context())
	if err != nil || len(cs) != 1 || len(cs[0].RedirectURIs) != 2 || strings.Join(cs[0].Scopes, " ") != "openid profile accounts" {
		t.Fatalf("stored %+v %v", cs, err)
	}
	p = get(t, c, env.URL+"/admin/oidc-clients")
	if !strings.Contains(p.Body, cs[0].ID.String()) || strings.Contains(p.Body, `value="eqcs_`) {
		t.Errorf("list: %s", text(p.Body))
	}
	// Changed from its own page: filled with what it is, each problem
	// beside its field and nothing changed, then saved.
	edit := env.URL + "/admin/oidc-clients/" + cs[0].ID.String() + "/edit"
	if !strings.Contains(p.Body, `href="/admin/oidc-clients/`+cs[0].ID.String()+`/edit"`) {
		t.Error("the list has no link to change the client")
	}
	p = get(t, c, edit)
	if p.Status != 200 || !strings.Contains(p.Body, `value="Vendor app"`) || !strings.Contains(p.Body, "https://app.example.com/cb\nhttp://127.0.0.1:9000/cb</textarea>") ||
		!strings.Contains(p.Body, `id="f-scope-accounts" name="scopes" type="checkbox" value="accounts" checked`) ||
		strings.Contains(p.Body, `id="f-scope-permissions" name="scopes" type="checkbox" value="permissions" checked`) || strings.Contains(p.Body, `name="public"`) {
		t.Fatalf("edit page: %d %s", p.Status, p.Body)
	}
	p = post(t, c, edit, url.Values{"name": {"Vendor app 2"}, "redirect_uris": {"http://app.example.com/cb"}, "scopes": {"profile"}})
	if p.Status != 422 || !strings.Contains(p.Body, `id="e-redirect_uris"`) || !strings.Contains(p.Body, `value="Vendor app 2"`) {
		t.Fatalf("bad change: %d %s", p.Status, text(p.Body))
	}
	if got, _ := env.App.DB.OIDCClients(t.Context()); got[0].Name != "Vendor app" || len(got[0].RedirectURIs) != 2 {
		t.Fatalf("a refused change changed the client: %+v", got[0])
	}
	p = post(t, c, edit, url.Values{"name": {"Vendor app 2"}, "redirect_uris": {"https://app.example.com/cb"},
		"first_party": {"on"}, "scopes": {"profile", "permissions"}})
	if p.Status != 303 || p.Header.Get("Location") != "/admin/oidc-clients?done=changed" {
		t.Fatalf("change: %d %s", p.Status, text(p.Body))
	}
	got, _ := env.App.DB.OIDCClients(t.Context())
	if got[0].Name != "Vendor app 2" || strings.Join(got[0].RedirectURIs, " ") != "https://app.example.com/cb" || !got[0].FirstParty ||
		strings.Join(got[0].Scopes, " ") != "openid profile permissions" || got[0].Public != cs[0].Public || got[0].SecretPrefix != cs[0].SecretPrefix {
		t.Errorf("changed to %+v", got[0])
	}
	if p := get(t, c, env.URL+"/admin/oidc-clients?done=changed"); !strings.Contains(p.Body, "Client modifié") || !strings.Contains(p.Body, "Vendor app 2") {
		t.Errorf("after the change: %s", text(p.Body))
	}

	// A new secret and a deletion each ask first, on a page of their own
	// whose form posts; the page changes nothing.
	client := "/admin/oidc-clients/" + cs[0].ID.String()
	wantIn(t, get(t, c, env.URL+"/admin/oidc-clients"), `href="`+client+`/rotate"`, `href="`+client+`/delete"`)
	p = get(t, c, env.URL+client+"/rotate")
	wantIn(t, p, "<h1>Donner un nouveau secret à « Vendor app 2 » ?</h1>", `<form method="post" novalidate>`,
		`<button type="submit" class="danger">Créer un nouveau secret</button>`, `<a href="/admin/oidc-clients">Annuler</a>`)
	p = get(t, c, env.URL+client+"/delete")
	wantIn(t, p, "<h1>Supprimer le client « Vendor app 2 » ?</h1>", `<form method="post" novalidate>`,
		`<button type="submit" class="danger">Supprimer le client</button>`)
	if got, _ := env.App.DB.OIDCClients(t.Context()); len(got) != 1 || got[0].SecretPrefix != cs[0].SecretPrefix {
		t.Fatalf("the confirmation pages changed the client: %+v", got)
	}
	p = post(t, c, env.URL+"/admin/oidc-clients/"+cs[0].ID.String()+"/rotate", nil)
	if p.Status != 200 || !strings.Contains(p.Body, "eqcs_") || !strings.Contains(text(p.Body), "L'ancien secret ne fonctionne plus") {
		t.Errorf("rotate: %d %s", p.Status, text(p.Body))
	}
	p = post(t, c, env.URL+"/admin/oidc-clients/"+cs[0].ID.String()+"/delete", nil)
	if p.Status != 303 || p.Header.Get("Location") != "/admin/oidc-clients?done=deleted" {
		t.Errorf("delete: %d %s", p.Status, text(p.Body))
	}
	if p := get(t, c, env.URL+"/admin/oidc-clients?done=deleted"); !strings.Contains(p.Body, "Client supprimé") ||
		strings.Contains(p.Body, "Vendor app") {
		t.Errorf("after the deletion: %s", text(p.Body))
	}

	// A member who is no instance administrator is refused.
	o := signUpOwner(t, env, "ada@example.com")
	if p := get(t, o.c, env.URL+"/admin/oidc-clients"); p.Status != 403 {
		t.Errorf("an account owner: %d", p.Status)
	}
	for _, u := range []string{edit, env.URL + client + "/rotate", env.URL + client + "/delete"} {
		if p := get(t, o.c, u); p.Status != 403 && p.Status != 404 {
			t.Errorf("an account owner on %s: %d", u, p.Status)
		}
	}
	if p := get(t, o.c, edit); p.Status != 403 && p.Status != 404 {
		t.Errorf("an account owner on a client's page: %d", p.Status)
	}
	if p := post(t, o.c, edit, url.Values{"name": {"Mine"}, "redirect_uris": {"https://evil.example/cb"}}); p.Status != 403 && p.Status != 404 {
		t.Errorf("an account owner changing a client: %d", p.Status)
	}
}
