package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/browsertest"
	"github.com/equipe-dev/equipe/team"
)

// location returns the path and query of the page the browser shows.
func (b *browser) location() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("location: %v", err)
	}
	return strings.TrimPrefix(loc, b.env.URL)
}

// switcherText opens the header's account switcher and returns its text.
func (b *browser) switcherText() string {
	b.t.Helper()
	b.do("open the account switcher", chromedp.WaitVisible(chromedp.CSS(".switcher summary")),
		chromedp.Click(chromedp.CSS(".switcher summary")), chromedp.WaitVisible(chromedp.CSS(".switcher-menu")))
	return strings.Join(strings.Fields(b.text(".switcher-menu")), " ")
}

// acceptInvitation follows the newest email of template to `to` in a new
// browser, sets a password, accepts the privacy policy on the next page and
// lands home.
func (b *browser) acceptInvitation(to, template, password string) *browser {
	b.t.Helper()
	p := b.another()
	p.followMail(to, template, "/invitations/")
	p.do("accept the invitation", chromedp.WaitVisible(chromedp.CSS("#f-password")),
		p.fill(map[string]string{"password": password, "password_confirm": password}), submit())
	p.acceptPolicy()
	p.at("/")
	return p
}

// acceptPolicy is the step after setting a password: the privacy policy on
// a page of its own, accepted with its box.
func (b *browser) acceptPolicy() {
	b.t.Helper()
	b.at("/consent")
	b.do("accept the privacy policy", chromedp.WaitVisible(chromedp.CSS("#f-accept")),
		chromedp.Click(chromedp.CSS("#f-accept")), submit())
}

// TestBrowser_APartnerCreatesAnAccountForABusinessWhoseOwnerRemovesThem plays
// a reseller creating a customer's account, as equipe does it: a partner,
// logged in, creates the account of a business in one form, with the suggested
// follow-up message; the owner opens the email in the mailbox, sets their own
// password, accepts the privacy policy, finds the partner as Manager on the
// team page and removes them after confirming; the partner loses access at
// once.
func TestBrowser_APartnerCreatesAnAccountForABusinessWhoseOwnerRemovesThem(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{})
	partner := &browser{t: t, ctx: ctx, env: env}
	signUpNamed(t, env, "paul@editeur.example", "Paul", "Partenaire", "Éditeur Paul")

	partner.logIn("paul@editeur.example", ownerPassword)
	partner.at("/")
	partner.do("open the form", chromedp.Click(chromedp.CSS(`a[href="/accounts/new"]`)), chromedp.WaitVisible(chromedp.CSS("#f-name")))
	partner.wantText("h1", "Créer un compte pour une autre entreprise")
	if msg := partner.value("#f-message"); msg != "" {
		t.Fatalf("the message comes filled in: %q", msg)
	}
	partner.do("describe the business and its owner",
		partner.fill(map[string]string{"name": "Pizzeria Napoli", "resource_name": "Napoli Centre", "owner_email": "gino@napoli.example",
			"owner_first_name": "Gino", "owner_last_name": "Rossi"}),
		chromedp.SendKeys(chromedp.CSS("#f-message"), "Je viens de créer votre compte."))
	browsertest.Screenshot(t, ctx, "new-account")
	partner.do("create the account", submit())
	partner.at("/accounts/")
	partner.wantText(".notice", "Le compte « Pizzeria Napoli » est créé et une invitation à l'administrer est envoyée à Gino Rossi (gino@napoli.example).",
		"Vous gardez un accès Manager")
	account := idFrom(t, partner.location(), "")
	partner.wantText(".switcher summary", "Pizzeria Napoli")

	// The owner, at their own computer, with the email.
	m := env.Mail(t, "gino@napoli.example", "account_created_for_you")
	if !strings.Contains(m.Text, "Paul Partenaire vous a écrit") || !strings.Contains(m.Text, "Je viens de créer votre compte.") {
		t.Fatalf("the owner's email lacks the message:\n%s", m.Text)
	}
	owner := partner.acceptInvitation("gino@napoli.example", "account_created_for_you", "une margherita bien cuite au feu de bois")
	owner.wantText(".accounts", "Pizzeria Napoli", "Administrateur")
	owner.do("open the account", chromedp.Click(chromedp.CSS("a.account-name")), chromedp.WaitVisible(chromedp.CSS("table.team")))
	paul := mustUserID(t, env, "paul@editeur.example")
	row := `tr:has(a[href="/accounts/` + account.String() + `/members/` + paul.String() + `/permissions"])`
	owner.wantText(row, "Paul Partenaire", "Manager", "Actif")
	owner.do("remove the partner", chromedp.Click(chromedp.CSS(row+" details.menu > summary")),
		chromedp.Click(chromedp.CSS(row+` a[href$="/remove"]`)), chromedp.WaitVisible(chromedp.CSS("h1")))
	owner.wantText("h1", "Retirer Paul Partenaire du compte ?")
	owner.do("confirm", chromedp.Click(chromedp.CSS("button.danger")), chromedp.WaitVisible(chromedp.CSS(".notice")))
	owner.wantText(".notice", "Le membre a été retiré du compte.")

	// The partner's access ends at once: the page says so and leads to
	// their own account, and the account is gone from the switcher.
	partner.do("reload the account", chromedp.Navigate(env.URL+"/accounts/"+account.String()+"/members"), chromedp.WaitVisible(chromedp.CSS("h1")))
	partner.wantText("main", "Vous n'avez plus accès à Pizzeria Napoli.", "Éditeur Paul")
	if sw := partner.switcherText(); strings.Contains(sw, "Pizzeria Napoli") || !strings.Contains(sw, "Éditeur Paul") {
		t.Fatalf("the partner's switcher after removal: %q", sw)
	}
}

// TestBrowser_AFirmsStaffSeeOnlyTheClientsTheyAreAssignedTo plays an
// accounting firm's two spaces: a firm's administrator creates two client
// companies, adds two staff members (Espace Pro) who accept from the mailbox,
// and assigns each to one client; each staff member sees only their client in
// the switcher and on the Clients page, opens it and adds a client user
// (Espace Clients) with a job title, themes and applications; the
// administrator sees both clients.
func TestBrowser_AFirmsStaffSeeOnlyTheClientsTheyAreAssignedTo(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{})
	admin := &browser{t: t, ctx: ctx, env: env}
	o := signUpNamed(t, env, "claire@cabinet.example", "Claire", "Fontaine", "Cabinet Fontaine")

	admin.logIn("claire@cabinet.example", ownerPassword)
	admin.at("/")
	admin.do("open the firm", chromedp.Click(chromedp.CSS("a.account-name")), chromedp.WaitVisible(chromedp.CSS("table.team")))
	// No client yet: no Clients section; the settings lead to the first.
	admin.do("open the settings", chromedp.Click(chromedp.CSS(`.subnav a[href$="/settings"]`)), chromedp.WaitVisible(chromedp.CSS(".first-client")))
	admin.do("open the first client's form", chromedp.Click(chromedp.CSS(".first-client a.button")), chromedp.WaitVisible(chromedp.CSS("#f-name")))
	for i, name := range []string{"Boulangerie Martin", "Garage Dupont"} {
		if i > 0 {
			admin.do("open the new client form", chromedp.Click(chromedp.CSS(".page-head a.button")), chromedp.WaitVisible(chromedp.CSS("#f-name")))
		}
		admin.do("create "+name,
			admin.fill(map[string]string{"name": name}), chromedp.SetValue(chromedp.CSS("#f-resource_type"), "company"),
			submit(), chromedp.WaitVisible(chromedp.CSS(".notice")))
		admin.wantText(".notice", "Le compte client « "+name+" » est créé.")
	}
	clients, err := env.App.Team.Clients(t.Context(), o.actor(), o.account)
	if err != nil || len(clients) != 2 {
		t.Fatalf("clients: %v %v", clients, err)
	}
	boulangerie, garage := clients[0].Account.ID, clients[1].Account.ID
	// Themes and applications to assign client users to.
	assignable := map[equipe.ID][]string{}
	for _, c := range []equipe.ID{boulangerie, garage} {
		assignable[c] = []string{addResource(t, env, c, "theme", "Paie").ID.String(),
			addResource(t, env, c, "application", "Portail clients").ID.String()}
	}

	// Two staff members of the firm, who accept from the mailbox.
	staff := map[string]*browser{}
	for _, s := range []struct{ email, first, last string }{
		{"sam@cabinet.example", "Samuel", "Petit"}, {"lea@cabinet.example", "Léa", "Grand"}} {
		admin.do("add "+s.first, chromedp.Navigate(env.URL+o.path("/members/new")), chromedp.WaitVisible(chromedp.CSS("#f-email")),
			admin.fill(map[string]string{"email": s.email, "first_name": s.first, "last_name": s.last}),
			chromedp.SetValue(chromedp.CSS("#f-role"), "manager"), submit())
		admin.at(o.path("/members?done=invited"))
		staff[s.email] = admin.acceptInvitation(s.email, "invitation", "un bilan comptable tenu à jour "+s.first)
	}
	sam, lea := mustUserID(t, env, "sam@cabinet.example"), mustUserID(t, env, "lea@cabinet.example")

	// Each to their client.
	admin.do("open the clients", chromedp.Navigate(env.URL+o.path("/clients")), chromedp.WaitVisible(chromedp.CSS(".client-list")))
	for client, user := range map[equipe.ID]equipe.ID{boulangerie: sam, garage: lea} {
		item := "#client-" + client.String()
		admin.do("assign", chromedp.SetValue(chromedp.CSS(item+" select"), user.String()),
			chromedp.Click(chromedp.CSS(item+" form.assign button")))
		admin.at(o.path("/clients?done=assigned&client=" + client.String()))
		admin.do("see the notice", chromedp.WaitVisible(chromedp.CSS(".notice")))
	}
	admin.wantText("#client-"+boulangerie.String(), "Boulangerie Martin", "Samuel Petit")
	admin.wantText("#client-"+garage.String(), "Garage Dupont", "Léa Grand")
	browsertest.Screenshot(t, ctx, "clients")
	admin.do("open the firm's team", chromedp.Click(chromedp.CSS(`.subnav a[href$="/members"]`)), chromedp.WaitVisible(chromedp.CSS("table.team")))
	admin.wantText(`tr:has(a[href="`+o.path("/members/"+sam.String()+"/permissions")+`"])`, "Manager", "Boulangerie Martin")
	admin.wantText(`tr:has(a[href="`+o.path("/members/"+lea.String()+"/permissions")+`"])`, "Manager", "Garage Dupont")

	// Each staff member: their client only, where they add a client user.
	for _, s := range []struct {
		email, client, other, user, first, title string
		id                                       equipe.ID
	}{
		{"sam@cabinet.example", "Boulangerie Martin", "Garage Dupont", "jean@boulangerie.example", "Jean", "Gérant", boulangerie},
		{"lea@cabinet.example", "Garage Dupont", "Boulangerie Martin", "paul@garage.example", "Paul", "Président", garage},
	} {
		b := staff[s.email]
		b.do("reload home", chromedp.Navigate(env.URL+"/"), chromedp.WaitVisible(chromedp.CSS(".accounts")))
		sw := b.switcherText()
		if !strings.Contains(sw, "Cabinet Fontaine") || !strings.Contains(sw, s.client+" via Cabinet Fontaine") || strings.Contains(sw, s.other) {
			t.Fatalf("%s's switcher: %q", s.email, sw)
		}
		// Switching goes to the client's team page and marks it current.
		b.do("switch to the client", chromedp.Click(chromedp.CSS(`.switcher-menu button[value="`+s.id.String()+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(".crumbs")))
		b.at("/accounts/" + s.id.String() + "/members")
		b.wantText(".switcher summary", s.client)
		if sw := b.switcherText(); !strings.Contains(sw, s.client+" via Cabinet Fontaine compte actuel") {
			t.Fatalf("%s's switcher after switching: %q", s.email, sw)
		}
		if s.email == "sam@cabinet.example" {
			browsertest.Screenshot(t, b.ctx, "switcher")
		}
		b.do("open the firm's clients", chromedp.Navigate(env.URL+o.path("/clients")), chromedp.WaitVisible(chromedp.CSS(".client-list")))
		if list := b.text(".client-list"); !strings.Contains(list, s.client) || strings.Contains(list, s.other) {
			t.Fatalf("%s's clients: %q", s.email, list)
		}
		b.do("open the client", chromedp.Click(chromedp.CSS("a.client-name")), chromedp.WaitVisible(chromedp.CSS(".crumbs")))
		b.wantText(".crumbs", "Cabinet Fontaine", s.client, "Client de Cabinet Fontaine")
		b.do("add a client user", chromedp.Click(chromedp.CSS(".page-head a.button")), chromedp.WaitVisible(chromedp.CSS("#f-email")),
			b.fill(map[string]string{"email": s.user, "first_name": s.first, "last_name": "Client", "title": s.title}),
			chromedp.SetValue(chromedp.CSS("#f-role"), "collaborator"),
			chromedp.Click(chromedp.CSS("#f-resource-"+assignable[s.id][0])),
			chromedp.Click(chromedp.CSS("#f-resource-"+assignable[s.id][1])),
			submit())
		b.at("/accounts/" + s.id.String() + "/members?done=invited")
		b.wantText(".notice", "Invitation envoyée à "+s.first+" Client.")
		u := mustUserID(t, env, s.user)
		b.wantText(`tr:has(a[href="/accounts/`+s.id.String()+`/members/`+u.String()+`/permissions"])`, "Collaborateur", s.title, "Paie, Portail clients", "Invitation envoyée")
		env.Mail(t, s.user, "invitation")
	}

	// The firm's administrator sees both.
	admin.do("reload the clients", chromedp.Navigate(env.URL+o.path("/clients")), chromedp.WaitVisible(chromedp.CSS(".client-list")))
	admin.wantText(".client-list", "Boulangerie Martin", "Garage Dupont")
	if sw := admin.switcherText(); !strings.Contains(sw, "Boulangerie Martin") || !strings.Contains(sw, "Garage Dupont") {
		t.Fatalf("the administrator's switcher: %q", sw)
	}
}

// TestBrowser_AContactIsNotAMemberUntilSomeoneInvitesThem plays the rule that
// a contact is not a member: the contacts page says what a contact is; a
// contact added with a problem is told beside the field; "Inviter comme
// membre" opens the add form filled in.
func TestBrowser_AContactIsNotAMemberUntilSomeoneInvitesThem(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{})
	b := &browser{t: t, ctx: ctx, env: env}
	o := signUpNamed(t, env, "ada@whc.example", "Ada", "Lovelace", "Studio Lovelace")

	b.logIn("ada@whc.example", ownerPassword)
	b.at("/")
	b.do("open the account", chromedp.Click(chromedp.CSS("a.account-name")), chromedp.WaitVisible(chromedp.CSS("table.team")))
	b.do("open the contacts", chromedp.Click(chromedp.CSS(`.subnav a[href$="/contacts"]`)), chromedp.WaitVisible(chromedp.CSS(".banner")))
	b.wantText(".banner", "Un contact n'est pas un membre", "ne peut pas se connecter")
	b.do("add a contact without a kind", chromedp.Click(chromedp.CSS(".page-head a.button")), chromedp.WaitVisible(chromedp.CSS("#f-last_name")),
		b.fill(map[string]string{"first_name": "Jeanne", "last_name": "Compta", "email": "jeanne@compta.example", "phone": "01 23 45 67 89"}),
		submit(), chromedp.WaitVisible(chromedp.CSS("#e-kinds")))
	b.wantText("#e-kinds", "Choisissez au moins un type")
	b.do("tick billing", chromedp.Click(chromedp.CSS("#f-kind-billing")), submit(), chromedp.WaitVisible(chromedp.CSS(".notice")))
	b.wantText(".notice", "Contact ajouté : Jeanne Compta.")
	b.wantText("table.contacts", "Jeanne Compta", "jeanne@compta.example", "01 23 45 67 89", "Facturation")
	browsertest.Screenshot(t, ctx, "contacts")
	b.do("invite her as a member", chromedp.Click(chromedp.CSS("table.contacts a.quick")), chromedp.WaitVisible(chromedp.CSS("#f-email")))
	if got := b.value("#f-email") + " " + b.value("#f-first_name") + " " + b.value("#f-last_name"); got != "jeanne@compta.example Jeanne Compta" {
		t.Fatalf("the add form is filled with %q", got)
	}
	b.do("add her", chromedp.SetValue(chromedp.CSS("#f-role"), "guest"), submit())
	b.at(o.path("/members?done=invited"))
	b.wantText(".notice", "Invitation envoyée à Jeanne Compta.")
	env.Mail(t, "jeanne@compta.example", "invitation")
}

// TestBrowser_AFirmAdministratorAssignsTwoClientsInTheAddForm plays seed
// 001's "Ajouter un collaborateur … lui affecter les entreprises de votre
// choix": the firm's administrator adds a staff member and ticks two client
// companies in the same form; once the person joins, each client's team page
// shows them apart from its own members, read-only, with their firm role;
// the edit form shows the companies ticked and takes one away.
func TestBrowser_AFirmAdministratorAssignsTwoClientsInTheAddForm(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{})
	admin := &browser{t: t, ctx: ctx, env: env}
	o := signUpNamed(t, env, "claire@cabinet.example", "Claire", "Fontaine", "Cabinet Fontaine")
	var clients []equipe.ID
	for _, name := range []string{"Boulangerie Martin", "Garage Dupont", "Fleurs Leroy"} {
		c, err := env.App.Team.CreateClient(t.Context(), o.actor(), o.account, team.NewAccount{Name: name, Locale: "fr",
			ResourceType: "company", ResourceName: name})
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c.ID)
	}
	bakery, garage, florist := clients[0], clients[1], clients[2]

	admin.logIn("claire@cabinet.example", ownerPassword)
	admin.at("/")
	admin.do("add a staff member", chromedp.Navigate(env.URL+o.path("/members/new")), chromedp.WaitVisible(chromedp.CSS("#f-clients")))
	admin.wantText("#f-clients legend", "Entreprises clientes")
	admin.do("fill the form and tick two companies",
		admin.fill(map[string]string{"email": "sam@cabinet.example", "first_name": "Samuel", "last_name": "Petit"}),
		chromedp.SetValue(chromedp.CSS("#f-role"), "collaborator"),
		chromedp.Click(chromedp.CSS("#f-client-"+bakery.String())), chromedp.Click(chromedp.CSS("#f-client-"+garage.String())),
		submit())
	admin.at(o.path("/members?done=invited"))
	sam := mustUserID(t, env, "sam@cabinet.example")
	admin.wantText(`tr:has(a[href="`+o.path("/members/"+sam.String()+"/permissions")+`"])`, "Boulangerie Martin", "Garage Dupont")
	admin.acceptInvitation("sam@cabinet.example", "invitation", "un bilan comptable tenu à jour")

	// The bakery's team page: its own members in the table, the firm's staff
	// apart, as text (nothing to act on).
	admin.do("open the bakery's team", chromedp.Navigate(env.URL+"/accounts/"+bakery.String()+"/members"),
		chromedp.WaitVisible(chromedp.CSS(".firm-staff")))
	admin.wantText(".firm-staff h2", "Équipe du cabinet ayant accès")
	admin.wantText(".firm-staff", "Samuel Petit — Collaborateur", "affectation à ce client", "Claire Fontaine — Administrateur",
		"administration du cabinet : tous les clients")
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".firm-staff a, .firm-staff form, table.team a[href*='`+sam.String()+`']").length`)); err != nil || n != 0 {
		t.Fatalf("the firm's staff are actionable on the client's page (%d, %v)", n, err)
	}

	// The edit form shows the companies ticked; one goes, another comes.
	admin.do("edit the staff member", chromedp.Navigate(env.URL+o.path("/members/"+sam.String()+"/edit")),
		chromedp.WaitVisible(chromedp.CSS("#f-client-"+bakery.String()+":checked")),
		chromedp.WaitVisible(chromedp.CSS("#f-client-"+garage.String()+":checked")),
		chromedp.Click(chromedp.CSS("#f-client-"+garage.String())), chromedp.Click(chromedp.CSS("#f-client-"+florist.String())), submit())
	admin.at(o.path("/members?done=changed"))
	admin.do("open the garage's team", chromedp.Navigate(env.URL+"/accounts/"+garage.String()+"/members"),
		chromedp.WaitVisible(chromedp.CSS(".firm-staff")))
	if txt := admin.text(".firm-staff"); strings.Contains(txt, "Samuel") {
		t.Fatalf("the garage still lists the staff member: %s", txt)
	}
	admin.do("open the florist's team", chromedp.Navigate(env.URL+"/accounts/"+florist.String()+"/members"),
		chromedp.WaitVisible(chromedp.CSS(".firm-staff")))
	admin.wantText(".firm-staff", "Samuel Petit — Collaborateur")
}
