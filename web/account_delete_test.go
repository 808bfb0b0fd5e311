package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
)

// An administrator deletes their account from its settings, after a page
// that says what goes; they land on their home page, told so, the account
// gone from it. A manager is not offered it, and a firm with clients is
// told why it cannot yet.
func TestSettings_AnAdministratorDeletesTheAccountAfterConfirming(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpNamed(t, env, "paul@atelier.example", "Paul", "Patron", "Atelier Paul")
	second := signUpNamed(t, env, "paul2@atelier.example", "Paul", "Deux", "Autre atelier")
	env.AddMember(t, o.account, "marc@atelier.example", "manager", equipe.MemberActive)
	marc := otherBrowser(t, env, "marc@atelier.example", apptest.TestPassword)

	if p := get(t, marc, o.url("/settings")); strings.Contains(p.Body, o.path("/delete")) {
		t.Error("a manager is offered the account's deletion")
	}
	if p := get(t, marc, o.url("/delete")); p.Status != 403 || strings.Contains(p.Body, `<button type="submit" class="danger">`) {
		t.Errorf("a manager's confirmation page: %d", p.Status)
	}

	settings := get(t, o.c, o.url("/settings"))
	wantIn(t, settings, "<h2 id=\"account-delete-title\">Supprimer le compte</h2>", `href="`+o.path("/delete")+`"`)
	confirm := get(t, o.c, o.url("/delete"))
	wantIn(t, confirm, "<h1>Supprimer le compte « Atelier Paul » ?</h1>", "ressources, rôles, contacts",
		`<button type="submit" class="danger">Supprimer le compte</button>`)
	p := post(t, o.c, o.url("/delete"), url.Values{})
	if p.Status != 303 || p.Header.Get("Location") != "/?done=account_deleted" {
		t.Fatalf("delete: %d %s %s", p.Status, p.Header.Get("Location"), text(p.Body))
	}
	home := get(t, o.c, env.URL+p.Header.Get("Location"))
	if n := notice(home); n != "Le compte est supprimé, avec tout ce qu'il contenait." {
		t.Errorf("notice %q", n)
	}
	if strings.Contains(home.Body, "Atelier Paul") {
		t.Error("the home page still lists the deleted account")
	}
	if p := get(t, o.c, o.url("/members")); p.Status != 404 {
		t.Errorf("the deleted account's team: %d", p.Status)
	}

	// A firm with a client is told to detach it first.
	createClient(t, second, "Boulangerie Martin")
	refused := get(t, second.c, second.url("/delete"))
	if refused.Status != 409 || !strings.Contains(refused.Body, "Ce compte a des comptes clients") ||
		strings.Contains(refused.Body, `<button type="submit" class="danger">`) {
		t.Errorf("a firm's confirmation page: %d %s", refused.Status, text(refused.Body))
	}
	if p := post(t, second.c, second.url("/delete"), url.Values{}); p.Status != 409 {
		t.Errorf("a firm's deletion: %d", p.Status)
	}
}
