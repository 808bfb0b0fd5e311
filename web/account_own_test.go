package web_test

import (
	"strings"
	"testing"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store/storetest"
)

// A person who gives their own address as the owner's, on the form of an
// account for a business or of a firm's client, administers the account at
// once: the notice says so, not that an owner was invited, and no email
// goes out.
func TestNewAccount_TheCreatorsOwnAddressMakesThemItsAdministrator(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpNamed(t, env, "paul@editeur.example", "Paul", "Partenaire", "Éditeur Paul")
	mails := len(env.App.Mailbox.Messages())

	p := post(t, o.c, env.URL+"/accounts/new", newAccountPost("Seconde boutique", " Paul@Editeur.example", "Autre", "Nom", ""))
	if p.Status != 303 || !strings.HasSuffix(p.Header.Get("Location"), "/members?done=created_own") {
		t.Fatalf("create: %d %s %s", p.Status, p.Header.Get("Location"), text(p.Body))
	}
	page := get(t, o.c, env.URL+p.Header.Get("Location"))
	if page.Status != 200 {
		t.Fatalf("the new account's team page: %d", page.Status)
	}
	if n := notice(page); n != "Le compte « Seconde boutique » est créé, et vous en êtes l'administrateur." {
		t.Errorf("notice %q", n)
	}
	if row := text(tableRow(t, page.Body, "Paul Partenaire")); !strings.Contains(row, "Administrateur") || !strings.Contains(row, "Actif") {
		t.Errorf("the creator's row: %s", row)
	}
	if strings.Contains(page.Body, "Autre Nom") {
		t.Error("the team shows the names typed for the owner")
	}
	var members int
	if err := storetest.Raw(t, env.DB).QueryRow(`SELECT COUNT(*) FROM members WHERE account_id = $1`,
		idFrom(t, p.Header.Get("Location"), "").String()).Scan(&members); err != nil || members != 1 {
		t.Errorf("members of the new account: %d %v, want the creator alone", members, err)
	}

	client := post(t, o.c, o.url("/clients/new"), map[string][]string{"name": {"Client perso"}, "locale": {"fr"},
		"resource_type": {"company"}, "resource_name": {""}, "owner_email": {"paul@editeur.example"},
		"owner_first_name": {"Paul"}, "owner_last_name": {"Partenaire"}})
	if client.Status != 303 || !strings.Contains(client.Header.Get("Location"), "/clients?done=created_own&client=") {
		t.Fatalf("create client: %d %s %s", client.Status, client.Header.Get("Location"), text(client.Body))
	}
	if n := notice(get(t, o.c, env.URL+client.Header.Get("Location"))); !strings.HasPrefix(n,
		"Le compte client « Client perso » est créé, et vous en êtes l'administrateur.") {
		t.Errorf("client notice %q", n)
	}
	if got := len(env.App.Mailbox.Messages()); got != mails {
		t.Errorf("emails: %d sent, want none", got-mails)
	}
}
