package web_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/team"
)

// auditRows returns the texts of the audit table's rows, newest first.
func auditRows(t *testing.T, p page) []string {
	t.Helper()
	body := between(p.Body, "<tbody>", "</tbody>")
	if body == "" {
		t.Fatalf("no events: %s", text(p.Body))
	}
	var rows []string
	for _, r := range strings.Split(body, "<tr>")[1:] {
		rows = append(rows, text(r))
	}
	return rows
}

// auditRow returns the text of the newest row that holds every want, or
// fails.
func auditRow(t *testing.T, rows []string, wants ...string) string {
	t.Helper()
next:
	for _, r := range rows {
		for _, w := range wants {
			if !strings.Contains(r, w) {
				continue next
			}
		}
		return r
	}
	t.Errorf("no event with %q in:\n%s", wants, strings.Join(rows, "\n"))
	return ""
}

var uuid = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// rawField and rawValue are what the audit page once showed as is: field
// keys; codes and email template keys.
var (
	rawField = regexp.MustCompile(`class="field-name">[a-z_]+</span>`)
	rawValue = regexp.MustCompile(`\b(billing|technical|commercial|account_created_for_you|client\.detached)\b`)
)

// noRawValues fails on an identifier, a field's key or a code among the
// page's events, and returns their texts.
func noRawValues(t *testing.T, p page) []string {
	t.Helper()
	if m := rawField.FindString(p.Body); m != "" {
		t.Errorf("a field goes by its key: %s", m)
	}
	rows := auditRows(t, p)
	for _, r := range rows {
		if uuid.MatchString(r) {
			t.Errorf("an ID shows: %s", r)
		}
		if m := rawValue.FindString(r); m != "" {
			t.Errorf("%q shows: %s", m, r)
		}
	}
	return rows
}

func TestAuditPage_NamesContactsClientsStaffAndKeysInBothLanguages(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	f := newFirm(t, env)
	confirmEmail(t, env, "claire@cabinet.example")
	f.user.EmailVerifiedAt = time.Now() // the key below is made in the owner's name
	sam, lea := f.staff[0].User.ID, f.staff[1].User.ID

	// A contact added, changed, then deleted.
	p := post(t, f.c, f.url("/contacts/new"), contactPost("Jeanne", "Compta", "jeanne@compta.example", "", "billing"))
	if p.Status != 303 {
		t.Fatalf("add contact: %d %s", p.Status, text(p.Body))
	}
	contact := f.url("/contacts/" + idFrom(t, p.Header.Get("Location"), "contact").String())
	if p = post(t, f.c, contact+"/edit", contactPost("Jeanne", "Comptable", "", "06 00 00 00 00", "technical", "billing")); p.Status != 303 {
		t.Fatalf("edit contact: %d %s", p.Status, text(p.Body))
	}
	if p = post(t, f.c, contact+"/delete", nil); p.Status != 303 {
		t.Fatalf("delete contact: %d", p.Status)
	}
	// A second contact stays.
	if p = post(t, f.c, f.url("/contacts/new"), contactPost("Paul", "Tech", "", "01 02 03 04 05", "technical")); p.Status != 303 {
		t.Fatalf("add contact: %d %s", p.Status, text(p.Body))
	}
	// Staff unassigned; a client with an administrator of its own, and a key
	// the firm made in it, detached.
	if p = post(t, f.c, f.url("/clients/"+f.clients[1].String()+"/staff/"+lea.String()+"/remove"), nil); p.Status != 303 {
		t.Fatalf("unassign: %d", p.Status)
	}
	jean := env.AddMember(t, f.clients[0], "jean@boulangerie.example", "admin", equipe.MemberActive)
	if p = post(t, f.c, f.clientURL(0, "/api-keys"), url.Values{"name": {"Export paie"}, "role": {"manager"}}); p.Status != 201 {
		t.Fatalf("client key: %d", p.Status)
	}
	if p = post(t, f.c, f.url("/clients/"+f.clients[0].String()+"/detach"), nil); p.Status != 303 {
		t.Fatalf("detach: %d %s", p.Status, text(p.Body))
	}
	// A member suspended and reactivated.
	for _, action := range []string{"suspend", "reactivate"} {
		if p = post(t, f.c, f.url("/members/"+sam.String()+"/"+action), nil); p.Status != 303 {
			t.Fatalf("%s: %d %s", action, p.Status, text(p.Body))
		}
	}
	// A key that acts, then is revoked.
	k, _, err := env.App.Team.CreateKey(t.Context(), f.actor(), &f.account, team.NewKey{Name: "Synchronisation CRM", Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Team.AddMember(t.Context(), team.Actor{Key: &k}, f.account, team.NewMember{Email: "zoe@cabinet.example",
		FirstName: "Zoé", LastName: "Zèle", Role: "collaborator"}); err != nil {
		t.Fatal(err)
	}
	if err := env.App.Team.RevokeKey(t.Context(), f.actor(), &f.account, k.ID); err != nil {
		t.Fatal(err)
	}

	p = get(t, f.c, f.url("/audit"))
	rows := noRawValues(t, p)
	auditRow(t, rows, "Contact ajouté", "Jeanne Compta", "Prénom : Jeanne", "Nom : Compta", "Communications reçues : Facturation")
	auditRow(t, rows, "Contact modifié", "Jeanne Comptable", "Nom : Compta → devient Comptable",
		"Communications reçues : Facturation → devient Technique, Facturation", "Téléphone : — → devient 06 00 00 00 00")
	auditRow(t, rows, "Contact supprimé", "Jeanne Comptable")
	auditRow(t, rows, "Contact ajouté", "Paul Tech", "Communications reçues : Technique")
	auditRow(t, rows, "Collaborateur affecté au client", "Garage Dupont", "Membre du cabinet : Test lea")
	auditRow(t, rows, "Collaborateur retiré du client", "Garage Dupont", "Membre du cabinet : Test lea")
	// A detached client is out of the firm's reach: it is a client account.
	auditRow(t, rows, "Compte client détaché du cabinet", "Un compte client", "Cabinet : Cabinet Fontaine")
	auditRow(t, rows, "Membre suspendu", "Test sam", "Statut : Actif → devient Suspendu")
	auditRow(t, rows, "Membre réactivé", "Test sam", "Statut : Suspendu → devient Actif")
	auditRow(t, rows, "Clé d'API « Synchronisation CRM »", "Membre ajouté", "Zoé Zèle")
	auditRow(t, rows, "Clé d'API révoquée", "Clé d'API « Synchronisation CRM »")
	// Every action the service records is in the filter, under its label.
	for _, a := range []string{"contact.created", "contact.changed", "contact.deleted", "resource.created", "client.staff_assigned",
		"client.staff_unassigned", "client.detached", "api_key.created", "api_key.revoked", "account.changed"} {
		wantIn(t, p, `<option value="`+a+`">`)
	}
	for _, o := range regexp.MustCompile(`<option value="([^"]*)">([^<]*)</option>`).FindAllStringSubmatch(between(p.Body, `id="f-action"`, "</select>"), -1) {
		if o[2] == o[1] || strings.Contains(o[2], ".") {
			t.Errorf("action %q without a label: %q", o[1], o[2])
		}
	}
	wantIn(t, p, `<option value="member.suspended">Membre suspendu</option>`)
	p = get(t, f.c, f.url("/audit?action=contact.deleted"))
	if rows := auditRows(t, p); len(rows) != 1 || !strings.Contains(rows[0], "Jeanne Comptable") {
		t.Errorf("contact.deleted events: %q", rows)
	}

	// The client's own administrator reads the detachment: the firm is not
	// named to them, nor is the key's revocation left unexplained.
	p = get(t, as(env, jean), f.clientURL(0, "/audit"))
	rows = noRawValues(t, p)
	auditRow(t, rows, "Client account detached from the firm", "Boulangerie Martin", "Firm : The firm")
	auditRow(t, rows, "API key revoked", "API key “Export paie”", "Reason : Client account detached from the firm")
	// The firm's staff reading a client they reach see who acted.
	p = get(t, f.c, f.clientURL(1, "/audit"))
	auditRow(t, auditRows(t, p), "Claire Fontaine", "Compte créé", "Garage Dupont", "Cabinet : Cabinet Fontaine")

	// An account created for a business: its owner, its creator, the email.
	p = post(t, f.c, env.URL+"/accounts/new", newAccountPost("Pizzeria Napoli", "gino@napoli.example", "Gino", "Rossi", ""))
	if p.Status != 303 {
		t.Fatalf("create account: %d %s", p.Status, text(p.Body))
	}
	napoli := env.URL + "/accounts/" + idFrom(t, p.Header.Get("Location"), "").String() + "/audit"
	p = get(t, f.c, napoli)
	rows = noRawValues(t, p)
	auditRow(t, rows, "Membre ajouté", "Gino Rossi", "Responsable de l'entreprise : Oui")
	auditRow(t, rows, "Membre ajouté", "Claire Fontaine", "Créateur du compte : Oui")
	auditRow(t, rows, "Invitation envoyée", "Gino Rossi", "Statut : Créé → devient Invitation envoyée", "E-mail : Invitation")

	// In English: English labels, English punctuation.
	english(t, env, f.c)
	p = get(t, f.c, napoli)
	rows = noRawValues(t, p)
	auditRow(t, rows, "Member added", "Gino Rossi", "Business owner : Yes")
	auditRow(t, rows, "Member added", "Claire Fontaine", "Account creator : Yes")
	auditRow(t, rows, "Invitation sent", "Status : Created → becomes Invitation sent", "Email : Invitation")
	wantIn(t, p, `<span class="field-name">Business owner</span>: Yes</li>`)
	if strings.Contains(between(p.Body, "<tbody>", "</tbody>"), " :") {
		t.Error("French spacing before a colon in English")
	}
	p = get(t, f.c, f.url("/audit?member="+sam.String()))
	wantIn(t, p, `Remove this filter<span class="visually-hidden">: About Test sam</span>`)
	p = get(t, f.c, f.url("/audit"))
	rows = noRawValues(t, p)
	auditRow(t, rows, "Contact changed", "Jeanne Comptable", "Last name : Compta → becomes Comptable",
		"Communications received : Billing → becomes Technical, Billing")
	auditRow(t, rows, "Staff member assigned to the client", "Garage Dupont", "Firm member : Test lea")
	auditRow(t, rows, "Client account detached from the firm", "A client account", "Firm : Cabinet Fontaine")
	auditRow(t, rows, "Member suspended", "Test sam")
	auditRow(t, rows, "Member reactivated", "Test sam")
	auditRow(t, rows, "API key “Synchronisation CRM”", "Member added", "Zoé Zèle")
	wantIn(t, p, `<option value="client.staff_unassigned">Staff member unassigned from the client</option>`,
		`<option value="member.suspended">Member suspended</option>`)
}

func TestAuditPage_AnInvitationToActivateSaysActivationSent(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	yes := true
	if _, err := env.App.Team.UpdateAccount(t.Context(), o.actor(), o.account, team.AccountChange{RequiresActivation: &yes}); err != nil {
		t.Fatal(err)
	}
	o.added(t, team.NewMember{Email: "grace@example.com", FirstName: "Grace", LastName: "Hopper", SendInvitation: true})
	p := get(t, o.c, o.url("/audit?action=invitation.sent"))
	auditRow(t, auditRows(t, p), "Grace Hopper", "Statut : Créé → devient Activation envoyée", "E-mail : Activation")
	english(t, env, o.c)
	p = get(t, o.c, o.url("/audit?action=invitation.sent"))
	auditRow(t, auditRows(t, p), "Grace Hopper", "Status : Created → becomes Activation sent")
}

func TestTeamPage_AnInvitedGuestsRoleAndStatusReadDifferently(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	o.added(t, team.NewMember{Email: "emile@example.com", FirstName: "Emile", LastName: "Durand", Role: "guest", SendInvitation: true})
	options := regexp.MustCompile(`<option value="[^"]*"(?: selected)?>([^<]*)</option>`)
	for _, lang := range []string{"fr", "en"} {
		if lang == "en" {
			english(t, env, o.c)
		}
		p := get(t, o.c, o.url("/members"))
		roles := map[string]bool{}
		for _, m := range options.FindAllStringSubmatch(between(p.Body, `id="f-role"`, "</select>"), -1) {
			roles[m[1]] = true
		}
		for _, m := range options.FindAllStringSubmatch(between(p.Body, `id="f-status"`, "</select>"), -1) {
			if roles[m[1]] {
				t.Errorf("%s: %q is both a role and a status", lang, m[1])
			}
		}
		row := text(tableRow(t, p.Body, "Emile Durand"))
		want := map[string][2]string{"fr": {"Invité", "Invitation envoyée"}, "en": {"Guest", "Invitation sent"}}[lang]
		if strings.Count(row, want[0]) != 1 || !strings.Contains(row, want[1]) {
			t.Errorf("%s: an invited guest's row: %s", lang, row)
		}
	}
}

func TestAuditPage_NamesADeletedRoleAndAResourceType(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	if _, err := env.App.Team.CreateRole(t.Context(), o.actor(), o.account, team.RoleInput{Key: "pilot", LabelFR: "Pilote", LabelEN: "Pilot",
		Grants: []equipe.Grant{{Permission: "records.view", Scope: "all"}}}); err != nil {
		t.Fatal(err)
	}
	o.added(t, team.NewMember{Email: "grace@example.com", FirstName: "Grace", LastName: "Hopper", Role: "pilot"})
	if err := env.App.Team.DeleteRole(t.Context(), o.actor(), o.account, "pilot", "guest"); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Team.CreateResource(t.Context(), o.actor(), o.account, "product", "Café", ""); err != nil {
		t.Fatal(err)
	}
	rows := noRawValues(t, get(t, o.c, o.url("/audit")))
	auditRow(t, rows, "Ressource créée", "Café", "Type : Produit")
	auditRow(t, rows, "Rôle supprimé", "Pilote", "Rôle de remplacement : Invité", "Membres passés au rôle de remplacement : 1")
	auditRow(t, rows, "Membre ajouté", "Grace Hopper", "Rôle : Pilote")
	auditRow(t, rows, "Rôle créé", "Pilote")
	for _, r := range rows {
		if strings.Contains(r, "pilot") {
			t.Errorf("a role goes by its key: %s", r)
		}
	}
}
