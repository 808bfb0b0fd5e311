package web_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/browsertest"
)

// The browser tests of this file play whole flows of adding people to a
// team, as the products equipe serves run them, end to end: an administrator
// in one browser, the people they add in browsers of their own, the emails
// read in the development mailbox.

// ownerPassword is the password of the accounts signUpNamed makes.
const ownerPassword = "lovelace rode the number engine"

// signUpNamed signs up a person with their own names and business, accepts
// the privacy policy, and returns them as an owner.
func signUpNamed(t *testing.T, env *apptest.Env, email, first, last, business string) owner {
	t.Helper()
	c := env.Client()
	f := signupForm(email)
	f.Set("first_name", first)
	f.Set("last_name", last)
	f.Set("account_name", business)
	if p := post(t, c, env.URL+"/signup", f); p.Status != 303 {
		t.Fatalf("sign-up %s: %d", email, p.Status)
	}
	if p := post(t, c, env.URL+"/consent", map[string][]string{"version": {"2026-11"}, "next": {"/"}, "accept": {"yes"}}); p.Status != 303 {
		t.Fatalf("consent %s: %d", email, p.Status)
	}
	u, err := env.App.DB.UserByEmailKey(t.Context(), strings.ToLower(email))
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := env.App.Identity.Accounts(t.Context(), u.ID)
	if err != nil || len(accounts) != 1 {
		t.Fatalf("accounts of %s: %v %v", email, accounts, err)
	}
	return owner{env: env, c: c, account: accounts[0].Account.ID, user: u}
}

// another returns a browser with cookies of its own: another person, at
// another computer.
func (b *browser) another() *browser {
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	return &browser{t: b.t, ctx: ctx, env: b.env}
}

// logIn logs in through the login page.
func (b *browser) logIn(email, password string) {
	b.t.Helper()
	b.do("log in as "+email, chromedp.Navigate(b.env.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("#f-email")),
		b.fill(map[string]string{"email": email, "password": password}),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))
}

// followMail opens the development mailbox and follows the link under path
// of the newest email to `to` made from template.
func (b *browser) followMail(to, template, path string) string {
	b.t.Helper()
	link := apptest.Link(b.t, b.env.Mail(b.t, to, template), path)
	sel := chromedp.CSS(`a[href="` + link + `"]`)
	b.do("open the mailbox", chromedp.Navigate(b.env.URL+"/dev/mail"), chromedp.WaitVisible(sel))
	b.do("follow the "+template+" link", chromedp.Click(sel))
	b.at(path)
	return link
}

// value returns the value of the first input matching sel.
func (b *browser) value(sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("value of %s: %v", sel, err)
	}
	return v
}

// wantText fails unless the text of sel holds every want.
func (b *browser) wantText(sel string, wants ...string) {
	b.t.Helper()
	got := strings.Join(strings.Fields(b.text(sel)), " ")
	for _, w := range wants {
		if !strings.Contains(got, w) {
			b.t.Fatalf("%s lacks %q: %q", sel, w, got)
		}
	}
}

// rowOf is the selector of the team table's row of the member with user ID.
func rowOf(o owner, user equipe.ID) string {
	return `tr:has(a[href="` + o.path("/members/"+user.String()+"/permissions") + `"])`
}

// submit clicks the form's visible primary button.
func submit() chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(`.form-actions button.primary, form button[type=submit].primary:not(.visually-hidden)`))
}

// TestBrowser_AnAdministratorInvitesAMemberLaterRemindsThemAndSendsAReset
// plays an accounting firm's client portal: an administrator creates a user
// without inviting them (role, job title, themes and applications), invites
// them later with ➕ after confirming, re-invites them after confirming (the
// count shows), the user accepts the newest invitation from the mailbox, and
// the administrator sends them a password-reset email with 🔄 after confirming,
// which they use.
func TestBrowser_AnAdministratorInvitesAMemberLaterRemindsThemAndSendsAReset(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{})
	admin := &browser{t: t, ctx: ctx, env: env}
	o := signUpNamed(t, env, "claire@cabinet.example", "Claire", "Fontaine", "Cabinet Fontaine")
	addResource(t, env, o.account, "theme", "Paie")
	fisc := addResource(t, env, o.account, "theme", "Fiscalité")
	portal := addResource(t, env, o.account, "application", "Portail clients")

	admin.logIn("claire@cabinet.example", ownerPassword)
	admin.at("/")
	admin.do("open the account", chromedp.WaitVisible(chromedp.CSS("a.account-name")), chromedp.Click(chromedp.CSS("a.account-name")))
	admin.at(o.path("/members"))
	admin.do("open the add form", chromedp.WaitVisible(chromedp.CSS(".page-head a.button")), chromedp.Click(chromedp.CSS(".page-head a.button")),
		chromedp.WaitVisible(chromedp.CSS("#f-email")))
	// Role, job title from the list, themes and applications; no invitation yet.
	admin.do("fill the form",
		admin.fill(map[string]string{"email": "camille@client.example", "first_name": "Camille", "last_name": "Martin", "title": "Chef d'entreprise"}),
		chromedp.SetValue(chromedp.CSS("#f-role"), "collaborator"),
		chromedp.Click(chromedp.CSS(`#f-resource-`+fisc.ID.String())),
		chromedp.Click(chromedp.CSS(`#f-resource-`+portal.ID.String())),
		chromedp.Click(chromedp.CSS("#f-send_invitation")))
	browsertest.Screenshot(t, ctx, "add-member")
	admin.do("add the member", submit())
	admin.at(o.path("/members?done=added"))
	camille := mustUserID(t, env, "camille@client.example")
	row := rowOf(o, camille)
	admin.wantText(".notice", "Camille Martin fait désormais partie de l'équipe, sans e-mail pour l'instant")
	admin.wantText(row, "Collaborateur", "Chef d'entreprise", "Fiscalité, Portail clients", "Créé", "jamais connecté", "Aucune envoyée")
	if env.Mails("camille@client.example", "invitation") != 0 {
		t.Fatal("an invitation went out before the administrator sent one")
	}

	// ➕ at the end of the row, then confirm.
	admin.do("invite later", chromedp.Click(chromedp.CSS(row+` a.quick`)), chromedp.WaitVisible(chromedp.CSS("h1")))
	admin.wantText("h1", "Envoyer l'invitation à Camille Martin ?")
	browsertest.Screenshot(t, ctx, "member-confirm")
	admin.do("confirm the invitation", submit(), chromedp.WaitVisible(chromedp.CSS(".notice")))
	admin.wantText(".notice", "Invitation envoyée à Camille Martin.")
	admin.wantText(row, "Invitation envoyée", "Envoyées : 1")
	first := apptest.Link(t, env.Mail(t, "camille@client.example", "invitation"), "/invitations/")

	// She still has not logged in: re-invite, after confirming.
	admin.do("re-invite", chromedp.Click(chromedp.CSS(row+` a.quick`)), chromedp.WaitVisible(chromedp.CSS("h1")))
	admin.wantText("h1", "Relancer Camille Martin ?")
	admin.wantText("main", "Invitations déjà envoyées : 1")
	admin.do("confirm the re-invitation", submit(), chromedp.WaitVisible(chromedp.CSS(".notice")))
	admin.wantText(".notice", "Invitation renvoyée à Camille Martin (2 envois en tout)")
	admin.wantText(row, "Envoyées : 2", "dernière le")
	browsertest.Screenshot(t, ctx, "team")

	// Camille, at her own computer: the first link no longer works, the new one does.
	member := admin.another()
	member.do("open the first link", chromedp.Navigate(first), chromedp.WaitVisible(chromedp.CSS("h1")))
	member.wantText("main", "a déjà servi, ou elle a été remplacée par une plus récente", "Demandez à Claire Fontaine")
	member.followMail("camille@client.example", "reinvitation", "/invitations/")
	member.do("see the invitation", chromedp.WaitVisible(chromedp.CSS("#f-password")))
	member.wantText("main", "Claire Fontaine vous invite à rejoindre le compte « Cabinet Fontaine ».")
	member.do("accept",
		member.fill(map[string]string{"password": "un bilan comptable bien tenu", "password_confirm": "un bilan comptable bien tenu"}), submit())
	member.acceptPolicy()
	member.at("/")
	member.wantText(".notice", "Vous avez rejoint le compte « Cabinet Fontaine ».")

	// She cannot log in any more: 🔄, after confirming.
	admin.do("reload the team", chromedp.Navigate(env.URL+o.path("/members")), chromedp.WaitVisible(chromedp.CSS(row)))
	admin.wantText(row, "Actif")
	admin.do("reset her password", chromedp.Click(chromedp.CSS(row+` a.quick`)), chromedp.WaitVisible(chromedp.CSS("h1")))
	admin.wantText("h1", "Envoyer un e-mail de réinitialisation du mot de passe à Camille Martin ?")
	admin.do("confirm the reset", submit(), chromedp.WaitVisible(chromedp.CSS(".notice")))
	admin.wantText(".notice", "Un e-mail de réinitialisation du mot de passe a été envoyé à Camille Martin.")

	member.followMail("camille@client.example", "admin_reset", "/password-reset/")
	member.do("set a new password", chromedp.WaitVisible(chromedp.CSS("#f-password")),
		member.fill(map[string]string{"password": "une liasse fiscale sans erreur", "password_confirm": "une liasse fiscale sans erreur"}),
		submit())
	member.at("/login")
	member.logIn("camille@client.example", "une liasse fiscale sans erreur")
	member.at("/")
	member.wantText(".accounts", "Cabinet Fontaine", "Collaborateur")

	// Every step is in the audit log.
	admin.do("open the audit log", chromedp.Click(chromedp.CSS(`.subnav a[href$="/audit"]`)), chromedp.WaitVisible(chromedp.CSS("table.audit")))
	admin.wantText("table.audit", "Lien de réinitialisation envoyé", "Membre a rejoint le compte", "Invitation renvoyée", "Invitation envoyée",
		"Membre ajouté", "Camille Martin", "Claire Fontaine")
	browsertest.Screenshot(t, ctx, "audit")
}

// TestBrowser_SomeoneWithAnIdentityJoinsWithTheirOwnPasswordAndAScope plays a
// CRM's sales team: an administrator adds someone who already has an identity
// (member of another team) with advanced permissions — the role's, with
// "Consultation: Propriétaire uniquement" — and a product; the person joins
// with their own password, the administrator gets the confirmation email, and
// the scope shows in the member's effective permissions. Taking away their
// last product is refused, with the offer to remove them instead.
func TestBrowser_SomeoneWithAnIdentityJoinsWithTheirOwnPasswordAndAScope(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{})
	admin := &browser{t: t, ctx: ctx, env: env}
	o := signUpNamed(t, env, "ada@ventes.example", "Ada", "Lovelace", "Ventes Lovelace")
	signUpNamed(t, env, "bob@autre.example", "Robert", "Dubois", "Autre équipe")
	hub := addResource(t, env, o.account, "product", "Sales Hub")

	admin.logIn("ada@ventes.example", ownerPassword)
	admin.at("/")
	admin.do("open the add form", chromedp.Navigate(env.URL+o.path("/members/new")), chromedp.WaitVisible(chromedp.CSS("#f-email")))
	// A shares no account with Bob: she types his names; his own stay his.
	admin.do("fill the form",
		admin.fill(map[string]string{"email": "bob@autre.example", "first_name": "Bob", "last_name": "Commercial"}),
		chromedp.SetValue(chromedp.CSS("#f-role"), "collaborator"),
		chromedp.Click(chromedp.CSS("details.advanced > summary")),
		chromedp.Click(chromedp.CSS(`button[name=select][value=role]`)),
		chromedp.WaitVisible(chromedp.CSS(`#f-mode-custom:checked`)))
	admin.do("narrow the scope and add an export",
		chromedp.SetValue(chromedp.CSS(`select[name="scope.records.view"]`), "owned"),
		chromedp.Click(chromedp.CSS(`input[name=permissions][value="records.export"]`)),
		chromedp.Click(chromedp.CSS(`#f-resource-`+hub.ID.String())),
		chromedp.Click(chromedp.CSS("#f-send_welcome")))
	admin.do("add", submit())
	admin.at(o.path("/members?done=invited"))
	admin.wantText(".notice", "Invitation envoyée à Bob Commercial.")
	bob := mustUserID(t, env, "bob@autre.example")
	m := o.member(t, bob)
	if !slices.Contains(m.Overrides, equipe.Override{Permission: "records.view", Allow: true, Scope: "owned"}) ||
		!slices.Contains(m.Overrides, equipe.Override{Permission: "records.export", Allow: true}) || len(m.Overrides) != 2 {
		t.Fatalf("overrides: %+v", m.Overrides)
	}
	env.Mail(t, "bob@autre.example", "welcome")

	// Bob opens the email: he logs in with his own password and joins.
	member := admin.another()
	member.followMail("bob@autre.example", "access_granted", "/invitations/")
	member.wantText("main", "bob@autre.example a déjà un compte : connectez-vous pour rejoindre ce compte. Votre mot de passe ne change pas.")
	member.do("log in to join", chromedp.Click(chromedp.CSS(`a.button[href^="/login?next="]`)), chromedp.WaitVisible(chromedp.CSS("#f-email")),
		member.fill(map[string]string{"email": "bob@autre.example", "password": ownerPassword}),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))
	member.at("/invitations/")
	member.do("join", chromedp.WaitVisible(chromedp.CSS(`form button.primary`)), chromedp.Click(chromedp.CSS(`form button.primary`)))
	member.at("/")
	member.wantText(".accounts", "Ventes Lovelace", "Autre équipe")
	if env.Mails("bob@autre.example", "admin_reset")+env.Mails("bob@autre.example", "password_reset") != 0 {
		t.Fatal("joining sent a password reset")
	}

	// The administrator is told; Bob now shows under his own names.
	admin.followMail("ada@ventes.example", "inviter_confirmation", "/accounts/")
	admin.at(o.path("/members"))
	row := rowOf(o, bob)
	admin.do("see the team", chromedp.WaitVisible(chromedp.CSS(row)))
	admin.wantText(row, "Robert Dubois", "Actif", "Sales Hub")
	admin.do("open his permissions", chromedp.Click(chromedp.CSS(row+" a.member-name")), chromedp.WaitVisible(chromedp.CSS("dl.facts")))
	admin.wantText("table.list", "Consulter les enregistrements Propriétaire uniquement Réglage propre à ce membre",
		"Exporter des enregistrements")
	admin.wantText(".resource-groups", "Sales Hub")

	// No product, no access: the form offers to remove him instead.
	admin.do("edit him", chromedp.Navigate(env.URL+o.path("/members/"+bob.String()+"/edit")), chromedp.WaitVisible(chromedp.CSS("#f-role")),
		chromedp.Click(chromedp.CSS(`#f-resource-`+hub.ID.String())), submit(), chromedp.WaitVisible(chromedp.CSS("#e-resources")))
	admin.wantText("#e-resources", "Chaque membre doit garder au moins une ressource de ce type : Produit.")
	admin.do("remove him instead", chromedp.Click(chromedp.CSS("#e-resources a")), chromedp.WaitVisible(chromedp.CSS("h1")))
	admin.wantText("h1", "Retirer Robert Dubois du compte ?")
	admin.do("confirm", chromedp.Click(chromedp.CSS("button.danger")), chromedp.WaitVisible(chromedp.CSS(".notice")))
	admin.wantText(".notice", "Le membre a été retiré du compte.")
	member.do("Bob's accounts", chromedp.Navigate(env.URL+"/"), chromedp.WaitVisible(chromedp.CSS(".accounts")))
	if got := member.text(".accounts"); strings.Contains(got, "Ventes Lovelace") || !strings.Contains(got, "Autre équipe") {
		t.Fatalf("Bob's accounts after removal: %q", got)
	}
}

// TestBrowser_AnActivatedMemberChoosesAPasswordAndAcceptsThePolicy plays a
// hosting provider's client area: the account requires activation (a setting);
// a user is created inactive with a separate notification email; Actions →
// Activer asks for confirmation and sends the activation email, in the
// account's language, to the login email; the user lets the system suggest a
// strong password, then accepts the privacy policy on a page of its own, and
// is in; the team page reads Inactif, Activation envoyée, Actif; later logins
// ask nothing more.
func TestBrowser_AnActivatedMemberChoosesAPasswordAndAcceptsThePolicy(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{})
	admin := &browser{t: t, ctx: ctx, env: env}
	o := signUpNamed(t, env, "admin@hebergeur.example", "Hélène", "Admin", "Hébergement Martin")
	m365 := addResource(t, env, o.account, "service", "Microsoft 365")

	admin.logIn("admin@hebergeur.example", ownerPassword)
	admin.at("/")
	admin.do("open the settings", chromedp.Navigate(env.URL+o.path("/settings")), chromedp.WaitVisible(chromedp.CSS("#f-requires_activation")),
		chromedp.Click(chromedp.CSS("#f-requires_activation")), submit(), chromedp.WaitVisible(chromedp.CSS(".notice")))
	admin.wantText(".notice", "Réglages enregistrés.")
	browsertest.Screenshot(t, ctx, "settings")

	admin.do("add a user", chromedp.Navigate(env.URL+o.path("/members/new")), chromedp.WaitVisible(chromedp.CSS("#f-email")))
	admin.wantText(`label[for="f-send_invitation"]`, "Envoyer l'e-mail d'activation")
	admin.do("fill the form",
		admin.fill(map[string]string{"email": "sam@client.example", "first_name": "Sam", "last_name": "Durand",
			"notification_email": "secretariat@client.example"}),
		chromedp.SetValue(chromedp.CSS("#f-role"), "collaborator"),
		chromedp.Click(chromedp.CSS(`#f-resource-`+m365.ID.String())),
		submit())
	admin.at(o.path("/members?done=added_inactive"))
	sam := mustUserID(t, env, "sam@client.example")
	row := rowOf(o, sam)
	admin.wantText(row, "Inactif", "Microsoft 365")
	if env.Mails("sam@client.example", "activation") != 0 {
		t.Fatal("the user was activated on creation")
	}

	// Actions → Activer, then confirm.
	admin.do("open the actions", chromedp.Click(chromedp.CSS(row+" details.menu > summary")),
		chromedp.WaitVisible(chromedp.CSS(row+` details.menu a[href$="/invite"]`)))
	admin.do("activate", chromedp.Click(chromedp.CSS(row+` details.menu a[href$="/invite"]`)), chromedp.WaitVisible(chromedp.CSS("h1")))
	admin.wantText("h1", "Activer Sam Durand ?")
	admin.do("confirm", submit(), chromedp.WaitVisible(chromedp.CSS(".notice")))
	admin.wantText(".notice", "Activation envoyée à Sam Durand")
	admin.wantText(row, "Activation envoyée")
	act := env.Mail(t, "sam@client.example", "activation")
	if !strings.Contains(act.Subject, "est activé") {
		t.Fatalf("activation email not in the account's language: %q", act.Subject)
	}
	if env.Mails("secretariat@client.example", "activation") != 0 {
		t.Fatal("the activation link went to the notification email")
	}

	// Sam sets a password the system suggests: the form asks nothing about
	// the privacy policy.
	member := admin.another()
	member.followMail("sam@client.example", "activation", "/invitations/")
	member.do("see the page", chromedp.WaitVisible(chromedp.CSS("h1")))
	member.wantText("h1", "Activer votre accès à « Hébergement Martin »")
	member.do("ask for a strong password", chromedp.Click(chromedp.CSS(`button[name=suggest]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=password][type=text]`)))
	pw := member.value(`input[name=password][type=text]`)
	if len(strings.Split(pw, "-")) != 6 {
		t.Fatalf("suggested password %q", pw)
	}
	if boxes, err := chromedp.Run(member.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#f-accept").length`)); err != nil || boxes != 0 {
		t.Fatalf("the password form holds the policy's box (%d, %v)", boxes, err)
	}
	browsertest.Screenshot(t, member.ctx, "invitation")
	member.do("set it", chromedp.Click(chromedp.CSS(`form button.primary:not(.visually-hidden)`)))

	// Then the policy, its own step, named by a date and in French only.
	member.at("/consent")
	member.do("see the policy", chromedp.WaitVisible(chromedp.CSS("#f-accept")))
	member.wantText("h1", "Politique de confidentialité")
	member.wantText("#policy-title", "Version du")
	if txt := member.text(".policy-text"); strings.Contains(txt, "Privacy policy") {
		t.Fatalf("the French page shows the English policy: %s", txt)
	}
	member.do("continue without accepting", chromedp.Click(chromedp.CSS(`form button.primary`)), chromedp.WaitVisible(chromedp.CSS("#e-accept")))
	member.wantText("#e-accept", "Cochez la case pour accepter la politique de confidentialité.")
	member.wantText(`label[for="f-accept"]`, "J'ai bien lu et j'accepte la politique de confidentialité.")
	member.do("accept", chromedp.Click(chromedp.CSS("#f-accept")), chromedp.Click(chromedp.CSS(`form button.primary`)))
	member.at("/")
	member.wantText(".accounts", "Hébergement Martin")

	// Later logins ask nothing more.
	member.do("log out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)))
	member.at("/login")
	member.logIn("sam@client.example", pw)
	member.at("/")
	member.do("see the accounts", chromedp.WaitVisible(chromedp.CSS(".accounts")))
	admin.do("reload the team", chromedp.Navigate(env.URL+o.path("/members")), chromedp.WaitVisible(chromedp.CSS(row)))
	admin.wantText(row, "Actif")
}

// TestBrowser_PermissionsAreAllSelectedOrPickedAndAnInviteeJoinsFromTheirList
// plays a customer who adds users rather than share credentials: an associate
// gets every permission with "Sélectionner tout", a developer only those they
// need (no billing); the developer, new, creates their access from the
// invitation; an existing user finds the new account in their list and joins
// it from there.
func TestBrowser_PermissionsAreAllSelectedOrPickedAndAnInviteeJoinsFromTheirList(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{})
	admin := &browser{t: t, ctx: ctx, env: env}
	o := signUpNamed(t, env, "ada@whc.example", "Ada", "Lovelace", "Studio Lovelace")
	signUpNamed(t, env, "associe@ailleurs.example", "Paul", "Associé", "Ailleurs")
	confirmEmail(t, env, "associe@ailleurs.example")

	admin.logIn("ada@whc.example", ownerPassword)
	admin.at("/")
	add := func(email, first, last string, pick func()) {
		admin.do("open the add form", chromedp.Navigate(env.URL+o.path("/members/new")), chromedp.WaitVisible(chromedp.CSS("#f-email")),
			admin.fill(map[string]string{"email": email, "first_name": first, "last_name": last}),
			chromedp.SetValue(chromedp.CSS("#f-role"), "guest"),
			chromedp.Click(chromedp.CSS("details.advanced > summary")))
		pick()
		admin.do("send the invitation", submit())
		admin.at(o.path("/members?done=invited"))
	}
	// The associate: everything.
	add("associe@ailleurs.example", "Paul", "Associé", func() {
		admin.do("select all", chromedp.Click(chromedp.CSS(`button[name=select][value=all]`)),
			chromedp.WaitVisible(chromedp.CSS(`input[name=permissions][value="billing.access"]:checked`)))
	})
	// The developer: what they need, no billing.
	add("dev@agence.example", "Dev", "Agence", func() {
		admin.do("pick", chromedp.Click(chromedp.CSS("#f-mode-custom")),
			chromedp.Click(chromedp.CSS(`input[name=permissions][value="records.view"]`)),
			chromedp.Click(chromedp.CSS(`input[name=permissions][value="records.edit"]`)),
			chromedp.Click(chromedp.CSS(`input[name=permissions][value="records.import"]`)),
			chromedp.Click(chromedp.CSS(`input[name=permissions][value="records.export"]`)))
	})
	assoc, dev := mustUserID(t, env, "associe@ailleurs.example"), mustUserID(t, env, "dev@agence.example")
	granted := func(user equipe.ID) []string {
		ma, err := env.App.Team.MemberAccess(t.Context(), o.actor(), o.account, user)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range ma.Permissions {
			out = append(out, e.Permission)
		}
		return out
	}
	if got := granted(assoc); len(got) != len(env.App.Catalogue.Permissions) {
		t.Fatalf("the associate's permissions: %v", got)
	}
	if got := granted(dev); slices.Contains(got, "billing.access") || !slices.Contains(got, "records.edit") || slices.Contains(got, "members.view") {
		t.Fatalf("the developer's permissions: %v", got)
	}

	// The developer has no identity: the invitation creates it.
	d := admin.another()
	d.followMail("dev@agence.example", "invitation", "/invitations/")
	d.do("create the access", chromedp.WaitVisible(chromedp.CSS("#f-password")),
		d.fill(map[string]string{"password": "un site web rapide et sobre", "password_confirm": "un site web rapide et sobre"}), submit())
	d.acceptPolicy()
	d.at("/")
	d.wantText(".accounts", "Studio Lovelace")

	// The associate already has an identity: the account is in their list.
	a := admin.another()
	a.logIn("associe@ailleurs.example", ownerPassword)
	a.at("/")
	a.do("see the accounts", chromedp.WaitVisible(chromedp.CSS(".accounts")))
	a.wantText(".accounts", "Studio Lovelace", "Invitation en attente", "Ailleurs")
	browsertest.Screenshot(t, a.ctx, "home-pending")
	a.do("join from the list", chromedp.Click(chromedp.CSS(`.accounts form[action$="/join"] button`)), chromedp.WaitVisible(chromedp.CSS(".notice")))
	a.wantText(".notice", "Vous avez rejoint le compte « Studio Lovelace ».")
	a.do("open the account", chromedp.Click(chromedp.CSS(`a.account-name[href="`+o.path("/members")+`"]`)), chromedp.WaitVisible(chromedp.CSS("table.team")))
	env.Mail(t, "ada@whc.example", "inviter_confirmation")
	if m := o.member(t, assoc); m.Status != equipe.MemberActive {
		t.Fatalf("the associate after joining: %s", m.Status)
	}
}

// TestBrowser_AddedByEmailAloneTheInviteeGivesTheirName plays seed 004: an
// administrator adds someone with their email alone; the team page names
// them by it; the invitation asks them for their name, required, then their
// password; the policy follows on its own page; the team page then names
// them.
func TestBrowser_AddedByEmailAloneTheInviteeGivesTheirName(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{})
	admin := &browser{t: t, ctx: ctx, env: env}
	o := signUpNamed(t, env, "ada@whc.example", "Ada", "Lovelace", "Studio Lovelace")
	hub := addResource(t, env, o.account, "product", "Sales Hub")

	admin.logIn("ada@whc.example", ownerPassword)
	admin.at("/")
	admin.do("add by email alone", chromedp.Navigate(env.URL+o.path("/members/new")), chromedp.WaitVisible(chromedp.CSS("#f-email")),
		admin.fill(map[string]string{"email": "dev@agence.example"}),
		chromedp.SetValue(chromedp.CSS("#f-role"), "collaborator"),
		chromedp.Click(chromedp.CSS(`#f-resource-`+hub.ID.String())), submit())
	admin.at(o.path("/members?done=invited"))
	dev := mustUserID(t, env, "dev@agence.example")
	row := rowOf(o, dev)
	admin.wantText(row+" .member-name", "dev@agence.example")

	d := admin.another()
	d.followMail("dev@agence.example", "invitation", "/invitations/")
	d.do("see the invitation", chromedp.WaitVisible(chromedp.CSS("#f-first_name")))
	d.wantText("main", "Votre nom n'a pas été indiqué lors de la création de votre accès")
	d.do("set a password without a name",
		d.fill(map[string]string{"password": "un site web rapide et sobre", "password_confirm": "un site web rapide et sobre"}),
		submit(), chromedp.WaitVisible(chromedp.CSS("#e-first_name")))
	d.wantText("#e-first_name", "Ce champ est obligatoire.")
	d.do("give the name",
		d.fill(map[string]string{"first_name": "Dev", "last_name": "Agence",
			"password": "un site web rapide et sobre", "password_confirm": "un site web rapide et sobre"}), submit())
	d.acceptPolicy()
	d.at("/")
	d.wantText(".accounts", "Studio Lovelace")

	admin.do("reload the team", chromedp.Navigate(env.URL+o.path("/members")), chromedp.WaitVisible(chromedp.CSS(row)))
	admin.wantText(row+" .member-name", "Dev Agence")
	admin.wantText(row, "Actif")
}
