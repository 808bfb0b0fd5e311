package web_test

import (
	"html"
	"net/url"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// newAccountPost is the form that creates an account for another business.
func newAccountPost(name, ownerEmail, first, last, message string) url.Values {
	return url.Values{"name": {name}, "locale": {"fr"}, "resource_type": {"location"}, "resource_name": {""},
		"owner_email": {ownerEmail}, "owner_first_name": {first}, "owner_last_name": {last}, "message": {message}}
}

// idFrom returns the ID in the path segment after /accounts/ of a location,
// or the value of query parameter q when it is given.
func idFrom(t *testing.T, location, q string) equipe.ID {
	t.Helper()
	u, err := url.Parse(location)
	if err != nil {
		t.Fatal(err)
	}
	s := u.Query().Get(q)
	if q == "" {
		s = strings.Split(strings.TrimPrefix(u.Path, "/accounts/"), "/")[0]
	}
	id, err := equipe.ParseID(s)
	if err != nil {
		t.Fatalf("no ID in %q: %v", location, err)
	}
	return id
}

// TestNewAccountForm_LeavesThePersonalMessageEmpty: the owner's email says
// how to log in, in the owner's language; the form suggests no text in the
// page's, and an empty message adds nothing to the email.
func TestNewAccountForm_LeavesThePersonalMessageEmpty(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpNamed(t, env, "paul@editeur.example", "Paul", "Partenaire", "Éditeur Paul")

	home := get(t, o.c, env.URL+"/")
	wantIn(t, home, `href="/accounts/new"`, "Créer un compte pour une autre entreprise")
	p := get(t, o.c, env.URL+"/accounts/new")
	if p.Status != 200 {
		t.Fatalf("form: %d", p.Status)
	}
	wantIn(t, p, "<h1>Créer un compte pour une autre entreprise</h1>", `name="owner_email"`, `name="owner_first_name"`,
		`name="owner_last_name"`, `<option value="location" selected>Établissement</option>`, `<option value="fr" lang="fr" selected>`,
		"L&#39;e-mail explique déjà comment se connecter : laissé vide, il n&#39;y ajoute rien.")
	if msg := between(p.Body, `<textarea id="f-message"`, "</textarea>"); !strings.HasSuffix(msg, ">") {
		t.Errorf("the message comes filled in: %q", msg)
	}
	english(t, env, o.c)
	p = get(t, o.c, env.URL+"/accounts/new")
	wantIn(t, p, "<h1>Create an account for another business</h1>", "left empty, nothing is added.")
	if msg := between(p.Body, `<textarea id="f-message"`, "</textarea>"); !strings.HasSuffix(msg, ">") {
		t.Errorf("the message comes filled in: %q", msg)
	}

	// Left empty, the owner's email carries no message.
	if p := post(t, o.c, env.URL+"/accounts/new", newAccountPost("Pizzeria Napoli", "gino@napoli.example", "Gino", "Rossi", "")); p.Status != 303 {
		t.Fatalf("create: %d %s", p.Status, text(p.Body))
	}
	m := env.Mail(t, "gino@napoli.example", "account_created_for_you")
	if strings.Contains(m.Text, "Paul Partenaire vous a écrit") || strings.Contains(m.Text, "Message joint") {
		t.Fatalf("an empty message shows in the email:\n%s", m.Text)
	}
}

func TestNewAccountForm_ShowsEachProblemBesideItsFieldAndWritesNothing(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpNamed(t, env, "paul@editeur.example", "Paul", "Partenaire", "Éditeur Paul")
	before := storetest.Counts(t, storetest.Raw(t, env.DB))

	f := newAccountPost("", "not-an-email", "", "<b>Durand</b>", strings.Repeat("m", 2001))
	f.Set("resource_type", "spaceship")
	f.Set("locale", "de")
	p := post(t, o.c, env.URL+"/accounts/new", f)
	if p.Status != 422 {
		t.Fatalf("status %d", p.Status)
	}
	for _, field := range []string{"name", "locale", "resource_type", "owner_email", "owner_first_name", "message"} {
		wantIn(t, p, `id="e-`+field+`"`, `href="#f-`+field+`"`)
	}
	wantIn(t, p, `value="&lt;b&gt;Durand&lt;/b&gt;"`, "Le message compte au plus 2000 caractères.", `aria-describedby="e-name"`)
	if strings.Index(p.Body, `href="#f-name"`) > strings.Index(p.Body, `href="#f-message"`) {
		t.Error("the problems are not in the order of the fields")
	}
	after := storetest.Counts(t, storetest.Raw(t, env.DB))
	for _, table := range []string{"users", "accounts", "members", "resources", "outbox", "tokens"} {
		if after[table] != before[table] {
			t.Errorf("%s: %d → %d", table, before[table], after[table])
		}
	}
}

func TestNewAccount_InvitesTheOwnerWithTheMessageAndKeepsTheCreatorAsManager(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpNamed(t, env, "paul@editeur.example", "Paul", "Partenaire", "Éditeur Paul")

	p := post(t, o.c, env.URL+"/accounts/new", newAccountPost("Pizzeria Napoli", "gino@napoli.example", "Gino", "Rossi",
		"Bonjour Gino,\nvotre compte est prêt."))
	if p.Status != 303 || !strings.Contains(p.Header.Get("Location"), "/members?done=created_for&user=") {
		t.Fatalf("create: %d %s %s", p.Status, p.Header.Get("Location"), text(p.Body))
	}
	account := idFrom(t, p.Header.Get("Location"), "")
	gino := mustUserID(t, env, "gino@napoli.example")
	if idFrom(t, p.Header.Get("Location"), "user") != gino {
		t.Fatal("the notice does not name the owner")
	}
	page := get(t, o.c, env.URL+p.Header.Get("Location"))
	if n := notice(page); n != "Le compte « Pizzeria Napoli » est créé et une invitation à l'administrer est envoyée à Gino Rossi (gino@napoli.example). Vous gardez un accès Manager à ce compte ; Gino Rossi pourra le retirer à tout moment." {
		t.Fatalf("notice %q", n)
	}
	if row := text(tableRow(t, page.Body, "Paul Partenaire")); !strings.Contains(row, "Manager") || !strings.Contains(row, "Actif") {
		t.Errorf("creator's row: %s", row)
	}
	if row := text(tableRow(t, page.Body, "Gino Rossi")); !strings.Contains(row, "Administrateur") || !strings.Contains(row, "Invitation envoyée") {
		t.Errorf("owner's row: %s", row)
	}
	m := env.Mail(t, "gino@napoli.example", "account_created_for_you")
	if !strings.Contains(m.Text, "Paul Partenaire vous a écrit") || !strings.Contains(m.Text, "votre compte est prêt.") {
		t.Fatalf("owner's email:\n%s", m.Text)
	}
	res, err := env.App.DB.Resources(t.Context(), account)
	if err != nil || len(res) != 1 || res[0].Type != "location" || res[0].Name != "Pizzeria Napoli" {
		t.Fatalf("first resource: %+v %v", res, err)
	}
	// The new account is in the creator's switcher at once, and current.
	wantIn(t, page, `<span class="switcher-current">Pizzeria Napoli</span>`)

	// An owner who already has an identity gets access to it, no password email.
	signUpNamed(t, env, "anna@ailleurs.example", "Anna", "Déjà", "Ailleurs")
	p = post(t, o.c, env.URL+"/accounts/new", newAccountPost("Café Anna", "anna@ailleurs.example", "Anna", "Café", ""))
	if p.Status != 303 {
		t.Fatalf("create for an existing identity: %d %s", p.Status, text(p.Body))
	}
	env.Mail(t, "anna@ailleurs.example", "access_granted")
	if env.Mails("anna@ailleurs.example", "account_created_for_you") != 0 {
		t.Error("an existing identity was sent the new-owner email")
	}
}

// between returns the part of s from the first start to the next end after
// it, or "" when start is not in s.
func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	j := strings.Index(s[i:], end)
	if j < 0 {
		return s[i:]
	}
	return s[i : i+j]
}

// firm is an accounting firm with two clients and two staff members
// (managers), each assigned to one client.
type firm struct {
	owner
	clients [2]equipe.ID
	staff   [2]apptest.Member
}

// createClient creates a client account through the form and returns it.
func createClient(t *testing.T, o owner, name string, extra ...string) equipe.ID {
	t.Helper()
	f := url.Values{"name": {name}, "locale": {"fr"}, "resource_type": {"company"}, "resource_name": {""},
		"owner_email": {""}, "owner_first_name": {""}, "owner_last_name": {""}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	p := post(t, o.c, o.url("/clients/new"), f)
	if p.Status != 303 || !strings.HasPrefix(p.Header.Get("Location"), o.path("/clients?done=created")) {
		t.Fatalf("create client %s: %d %s %s", name, p.Status, p.Header.Get("Location"), text(p.Body))
	}
	return idFrom(t, p.Header.Get("Location"), "client")
}

// assign assigns the user to the client through the clients page's form.
func assign(t *testing.T, o owner, client, user equipe.ID) {
	t.Helper()
	p := post(t, o.c, o.url("/clients/"+client.String()+"/staff"), url.Values{"user": {user.String()}})
	if p.Status != 303 || !strings.Contains(p.Header.Get("Location"), "done=assigned") {
		t.Fatalf("assign: %d %s %s", p.Status, p.Header.Get("Location"), text(p.Body))
	}
}

func newFirm(t *testing.T, env *apptest.Env) firm {
	t.Helper()
	f := firm{owner: signUpNamed(t, env, "claire@cabinet.example", "Claire", "Fontaine", "Cabinet Fontaine")}
	f.clients[0] = createClient(t, f.owner, "Boulangerie Martin")
	f.clients[1] = createClient(t, f.owner, "Garage Dupont")
	f.staff[0] = env.AddMember(t, f.account, "sam@cabinet.example", "manager", equipe.MemberActive)
	f.staff[1] = env.AddMember(t, f.account, "lea@cabinet.example", "manager", equipe.MemberActive)
	assign(t, f.owner, f.clients[0], f.staff[0].User.ID)
	assign(t, f.owner, f.clients[1], f.staff[1].User.ID)
	return f
}

func (f firm) clientURL(i int, sub string) string {
	return f.env.URL + "/accounts/" + f.clients[i].String() + sub
}

func TestClientsPage_CreatesSearchesAssignsAndUnassignsAfterConfirming(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	f := newFirm(t, env)

	p := get(t, f.c, f.url("/clients"))
	if p.Status != 200 {
		t.Fatalf("clients page: %d", p.Status)
	}
	wantIn(t, p, "<h1>Clients</h1>", `aria-current="page">Clients</a>`, `href="`+f.path("/clients/new")+`"`,
		`href="/accounts/`+f.clients[0].String()+`/members"`, "Boulangerie Martin", "Garage Dupont", "Test sam", "Test lea",
		`href="`+f.path("/clients/"+f.clients[0].String()+"/staff/"+f.staff[0].User.ID.String()+"/remove")+`"`,
		`action="`+f.path("/clients/"+f.clients[0].String()+"/staff")+`"`)
	// The other staff member is offered for assignment; the administrator is not.
	i := strings.Index(p.Body, `id="client-`+f.clients[0].String()+`"`)
	row := p.Body[i : i+strings.Index(p.Body[i:], "</li>\n  <li")]
	if !strings.Contains(row, `<option value="`+f.staff[1].User.ID.String()+`">Test lea</option>`) ||
		strings.Contains(row, `<option value="`+f.user.ID.String()+`"`) {
		t.Errorf("assignment options: %s", text(row))
	}

	// Search by part of the name, case ignored.
	// A staff member sees their client only, and may not manage clients.
	p = get(t, as(env, f.staff[0]), f.url("/clients"))
	if list := between(p.Body, `<ul class="client-list">`, "</ul>\n</div>"); !strings.Contains(list, "Boulangerie Martin") ||
		strings.Contains(list, "Garage Dupont") || strings.Contains(list, `form method="post"`) || strings.Contains(p.Body, "/clients/new") {
		t.Errorf("staff's clients page: %s", text(list))
	}
	wantIn(t, p, "The clients assigned to you. Open one to manage its users.")

	p = get(t, f.c, f.url("/clients?q=garage"))
	if list := between(p.Body, `<ul class="client-list">`, "Les administrateurs du cabinet accèdent"); !strings.Contains(list, "Garage Dupont") || strings.Contains(list, "Boulangerie Martin") {
		t.Error("search by name")
	}
	if p = get(t, f.c, f.url("/clients?q=zzz")); !strings.Contains(p.Body, "Aucun client ne correspond à cette recherche.") {
		t.Error("a search matching nothing says so")
	}

	// The notice after an assignment names both.
	p = post(t, f.c, f.url("/clients/"+f.clients[0].String()+"/staff"), url.Values{"user": {f.staff[1].User.ID.String()}})
	if n := notice(get(t, f.c, env.URL+p.Header.Get("Location"))); n != "Accès à « Boulangerie Martin » accordé à Test lea." {
		t.Errorf("notice %q", n)
	}
	// No one chosen, or someone outside the firm: said at the top, nothing changes.
	if p = post(t, f.c, f.url("/clients/"+f.clients[0].String()+"/staff"), url.Values{"user": {""}}); p.Status != 422 ||
		!strings.Contains(p.Body, "Membre du cabinet à affecter à Boulangerie Martin : choisissez le membre du cabinet à affecter.") {
		t.Errorf("no one chosen: %d", p.Status)
	}
	outsider := signUpOwner(t, env, "out@side.example")
	if p = post(t, f.c, f.url("/clients/"+f.clients[0].String()+"/staff"), url.Values{"user": {outsider.user.ID.String()}}); p.Status != 422 ||
		!strings.Contains(p.Body, "Membre du cabinet à affecter à Boulangerie Martin : cette personne n&#39;est pas membre du cabinet.") {
		t.Errorf("outsider: %d %s", p.Status, text(p.Body))
	}

	// Unassigning asks first, and the confirmation changes nothing.
	remove := f.url("/clients/" + f.clients[0].String() + "/staff/" + f.staff[1].User.ID.String() + "/remove")
	before := storetest.Counts(t, storetest.Raw(t, env.DB))
	p = get(t, f.c, remove)
	wantIn(t, p, "<h1>Retirer Test lea de « Boulangerie Martin » ?</h1>", "Son appartenance au cabinet ne change pas.",
		`<button type="submit" class="danger">Retirer l&#39;affectation</button>`)
	if after := storetest.Counts(t, storetest.Raw(t, env.DB)); !sameCounts(before, after) {
		t.Fatal("the confirmation page changed something")
	}
	p = post(t, f.c, remove, nil)
	if n := notice(get(t, f.c, env.URL+p.Header.Get("Location"))); n != "Accès à « Boulangerie Martin » retiré à Test lea." {
		t.Errorf("notice %q", n)
	}
	if p := get(t, as(env, f.staff[1]), f.clientURL(0, "/members")); p.Status != 404 {
		t.Errorf("unassigned staff on the client: %d", p.Status)
	}
	// A member who is not assigned there has no unassignment page.
	if p := get(t, f.c, remove); p.Status != 404 {
		t.Errorf("unassigning someone not assigned: %d", p.Status)
	}
}

// TestClientsPage_OffersOnlyTheStaffTheReaderMayAssign: a member of the firm
// who manages its clients without being an administrator is offered, for
// the clients they reach, only the staff who hold nothing they do not: a
// manager is neither offered for assignment nor offered for removal, and
// the form and the confirmation, posted all the same, say why and change
// nothing.
func TestClientsPage_OffersOnlyTheStaffTheReaderMayAssign(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	f := newFirm(t, env)
	lead := team.RoleInput{Key: "lead", LabelEN: "Client lead", Grants: []equipe.Grant{{Permission: "subaccounts.manage"},
		{Permission: "members.view"}, {Permission: "records.view", Scope: "all"}, {Permission: "records.edit", Scope: "all"}}}
	if _, err := env.App.Team.CreateRole(t.Context(), f.actor(), f.account, lead); err != nil {
		t.Fatal(err)
	}
	lou := env.AddMember(t, f.account, "lou@cabinet.example", "lead", equipe.MemberActive)
	cole := env.AddMember(t, f.account, "cole@cabinet.example", "collaborator", equipe.MemberActive)
	assign(t, f.owner, f.clients[0], lou.User.ID)
	c := as(env, lou)
	sam, lea := f.staff[0].User.ID, f.staff[1].User.ID

	p := get(t, c, f.url("/clients"))
	i := strings.Index(p.Body, `id="client-`+f.clients[0].String()+`"`)
	if p.Status != 200 || i < 0 {
		t.Fatalf("clients page: %d %s", p.Status, text(p.Body))
	}
	row := p.Body[i:]
	if j := strings.Index(row, "</li>\n  <li"); j > 0 {
		row = row[:j]
	}
	if !strings.Contains(row, `<option value="`+cole.User.ID.String()+`">`) || strings.Contains(row, `<option value="`+lea.String()+`"`) {
		t.Errorf("assignment options: %s", text(row))
	}
	remove := f.url("/clients/" + f.clients[0].String() + "/staff/" + sam.String() + "/remove")
	if !strings.Contains(row, "Test sam") || strings.Contains(row, `href="`+f.path("/clients/"+f.clients[0].String()+"/staff/"+sam.String()+"/remove")+`"`) {
		t.Errorf("the manager's chip: %s", text(row))
	}

	before := storetest.Counts(t, storetest.Raw(t, env.DB))
	const why = "This member holds rights you do not (Manage members"
	p = post(t, c, f.url("/clients/"+f.clients[0].String()+"/staff"), url.Values{"user": {lea.String()}})
	if p.Status != 403 || !strings.Contains(p.Body, why) {
		t.Errorf("assigning the manager: %d %s", p.Status, text(p.Body))
	}
	if p = get(t, c, remove); p.Status != 403 || !strings.Contains(p.Body, why) || strings.Contains(p.Body, `type="submit" class="danger"`) {
		t.Errorf("the confirmation of the manager's removal: %d %s", p.Status, text(p.Body))
	}
	if p = post(t, c, remove, nil); p.Status != 403 || !strings.Contains(p.Body, why) {
		t.Errorf("removing the manager: %d %s", p.Status, text(p.Body))
	}
	if after := storetest.Counts(t, storetest.Raw(t, env.DB)); !sameCounts(before, after) {
		t.Error("a refused assignment or removal changed something")
	}
	for _, u := range []equipe.ID{lea, sam} {
		if ok, _ := env.App.DB.IsClientStaff(t.Context(), f.clients[0], u); ok != (u == sam) {
			t.Errorf("%v assigned: %v", u, ok)
		}
	}
	assign(t, owner{env: env, c: c, account: f.account}, f.clients[0], cole.User.ID)
}

func TestClientForm_CreatesAClientWithAnOptionalOwnerAndRefusesBadInput(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpNamed(t, env, "claire@cabinet.example", "Claire", "Fontaine", "Cabinet Fontaine")
	p := get(t, o.c, o.url("/clients/new"))
	wantIn(t, p, "<h1>Nouveau client</h1>", `aria-current="page">Clients</a>`, "Son responsable", `name="owner_email"`)
	if strings.Contains(p.Body, `name="message"`) {
		t.Error("the client form offers a personal message")
	}
	before := storetest.Counts(t, storetest.Raw(t, env.DB))
	p = post(t, o.c, o.url("/clients/new"), url.Values{"name": {" "}, "locale": {"fr"}, "resource_type": {"company"},
		"owner_email": {"pas une adresse"}, "owner_first_name": {""}, "owner_last_name": {"Martin"}})
	if p.Status != 422 {
		t.Fatalf("status %d", p.Status)
	}
	wantIn(t, p, `id="e-name"`, `id="e-owner_email"`, `id="e-owner_first_name"`, `value="Martin"`)
	if after := storetest.Counts(t, storetest.Raw(t, env.DB)); after["accounts"] != before["accounts"] || after["users"] != before["users"] {
		t.Fatal("a refused client was written")
	}
	client := createClient(t, o, "Boulangerie Martin", "owner_email", "jean@boulangerie.example", "owner_first_name", "Jean",
		"owner_last_name", "Martin")
	p = get(t, o.c, o.url("/clients?done=created_owner&client="+client.String()))
	if n := notice(p); !strings.Contains(n, "Le compte client « Boulangerie Martin » est créé et son responsable a reçu une invitation.") {
		t.Errorf("notice %q", n)
	}
	env.Mail(t, "jean@boulangerie.example", "account_created_for_you")
	a, err := env.App.DB.AccountByID(t.Context(), client)
	if err != nil || a.ParentID == nil || *a.ParentID != o.account {
		t.Fatalf("client account: %+v %v", a, err)
	}
}

func TestClientsPage_DetachesAfterConfirmingOnlyAClientWithAnAdministrator(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	f := newFirm(t, env)
	detach := f.url("/clients/" + f.clients[0].String() + "/detach")
	p := get(t, f.c, detach)
	if p.Status != 409 || !strings.Contains(p.Body, "n&#39;a aucun administrateur actif à lui") || strings.Contains(p.Body, `class="danger"`) {
		t.Fatalf("detaching a client without an administrator: %d %s", p.Status, text(p.Body))
	}
	if p = post(t, f.c, detach, nil); p.Status != 409 {
		t.Fatalf("posting it anyway: %d", p.Status)
	}
	own := env.AddMember(t, f.clients[0], "jean@boulangerie.example", "admin", equipe.MemberActive)
	p = get(t, f.c, detach)
	wantIn(t, p, "<h1>Détacher « Boulangerie Martin » du cabinet ?</h1>", `<button type="submit" class="danger">Détacher du cabinet</button>`)
	p = post(t, f.c, detach, nil)
	if p.Status != 303 || notice(get(t, f.c, env.URL+p.Header.Get("Location"))) != "Le compte client est détaché du cabinet." {
		t.Fatalf("detach: %d", p.Status)
	}
	if p = get(t, f.c, f.url("/clients")); strings.Contains(p.Body, "Boulangerie Martin") {
		t.Error("a detached client is still listed")
	}
	for _, c := range []struct {
		who  string
		m    apptest.Member
		want int
	}{{"firm staff", f.staff[0], 404}, {"the client's own administrator", own, 200}} {
		if p := get(t, as(env, c.m), f.clientURL(0, "/members")); p.Status != c.want {
			t.Errorf("%s on the detached client: %d", c.who, p.Status)
		}
	}
	if p := get(t, f.c, f.clientURL(0, "/members")); p.Status != 404 {
		t.Errorf("the firm's administrator on the detached client: %d", p.Status)
	}
}

// TestSettings_AClientsOwnAdministratorEndsTheFirmsAccessAfterConfirming:
// the client's settings offer its own administrator, and nobody else, to end
// the firm's access; the confirmation says what ends, and once confirmed the
// firm's people reach the account no more.
func TestSettings_AClientsOwnAdministratorEndsTheFirmsAccessAfterConfirming(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	f := newFirm(t, env)
	own := as(env, env.AddMember(t, f.clients[0], "jean@boulangerie.example", "admin", equipe.MemberActive))
	end := f.clientURL(0, "/firm/end")
	// The firm's administrator, who reaches the client's settings, is not
	// offered it, and is told where they end it.
	if p := get(t, f.c, f.clientURL(0, "/settings")); p.Status != 200 || strings.Contains(p.Body, "/firm/end") {
		t.Fatalf("the firm's administrator on the client's settings: %d", p.Status)
	}
	if p := get(t, f.c, end); p.Status != 403 || !strings.Contains(p.Body, "depuis la liste des clients du cabinet") ||
		strings.Contains(p.Body, `class="danger"`) {
		t.Fatalf("the firm's administrator on the confirmation: %d %s", p.Status, text(p.Body))
	}
	if p := post(t, f.c, end, nil); p.Status != 403 {
		t.Fatalf("the firm's administrator posts it anyway: %d", p.Status)
	}
	p := get(t, own, f.clientURL(0, "/settings"))
	// The client's own administrator (in English) is.
	wantIn(t, p, `<h2 id="firm-access-title">Firm</h2>`, `href="`+strings.TrimPrefix(end, env.URL)+`"`)
	p = get(t, own, end)
	wantIn(t, p, "<h1>End the firm&#39;s access?</h1>", "the API keys they made here stop working",
		`<button type="submit" class="danger">End the firm&#39;s access</button>`, "Back to the settings")
	p = post(t, own, end, nil)
	if p.Status != 303 || notice(get(t, own, env.URL+p.Header.Get("Location"))) != "The firm's access has ended: the account is now independent." {
		t.Fatalf("end: %d", p.Status)
	}
	if p := get(t, f.c, f.clientURL(0, "/members")); p.Status != 404 {
		t.Errorf("the firm's administrator after: %d", p.Status)
	}
	if p := get(t, own, f.clientURL(0, "/settings")); strings.Contains(p.Body, "firm-access-title") {
		t.Error("an independent account is still offered to end a firm's access")
	}
	env.Mail(t, "claire@cabinet.example", "firm_access_ended")
}

// TestClientsPage_AClientWhoseOwnerHasNotJoinedCannotBeDetached: a client
// created with an owner has an administrator, but not an active one until
// they join. The confirmation says so before any button, and a post anyway
// is refused beside the form, not with an error page.
func TestClientsPage_AClientWhoseOwnerHasNotJoinedCannotBeDetached(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpNamed(t, env, "claire@cabinet.example", "Claire", "Fontaine", "Cabinet Fontaine")
	client := createClient(t, o, "Boulangerie Martin", "owner_email", "jean@boulangerie.example", "owner_first_name", "Jean",
		"owner_last_name", "Martin")
	detach := o.url("/clients/" + client.String() + "/detach")
	const pending = "« Boulangerie Martin » n&#39;a pas encore d&#39;administrateur actif à lui : son responsable n&#39;a pas encore rejoint le compte."
	p := get(t, o.c, detach)
	if p.Status != 409 || !strings.Contains(p.Body, pending) || strings.Contains(p.Body, `class="danger"`) {
		t.Fatalf("the confirmation of a client whose owner has not joined: %d %s", p.Status, text(p.Body))
	}
	before := storetest.Counts(t, storetest.Raw(t, env.DB))
	p = post(t, o.c, detach, nil)
	if p.Status != 409 || !strings.Contains(p.Body, pending) || !strings.Contains(p.Body, `<h1>Détacher « Boulangerie Martin » du cabinet ?</h1>`) {
		t.Fatalf("posting it anyway: %d %s", p.Status, text(p.Body))
	}
	if after := storetest.Counts(t, storetest.Raw(t, env.DB)); !sameCounts(before, after) {
		t.Fatal("a refused detachment changed something")
	}
	english(t, env, o.c)
	if p = post(t, o.c, detach, nil); p.Status != 409 || !strings.Contains(p.Body, "its owner has not joined the account") {
		t.Fatalf("in English: %d %s", p.Status, text(p.Body))
	}

	// Once the owner has joined, the client may go.
	link := apptest.Link(t, env.Mail(t, "jean@boulangerie.example", "account_created_for_you"), "/invitations/")
	jean := env.Client()
	accept := url.Values{"first_name": {"Jean"}, "last_name": {"Martin"}, "password": {"la baguette du matin est chaude"},
		"password_confirm": {"la baguette du matin est chaude"}, "accept": {"yes"}, "version": {"2026-11"}}
	if p := post(t, jean, link, accept); p.Status != 303 {
		t.Fatalf("the owner joins: %d %s", p.Status, text(p.Body))
	}
	if p = post(t, o.c, detach, nil); p.Status != 303 {
		t.Fatalf("detach once the owner joined: %d %s", p.Status, text(p.Body))
	}
}

func TestFirmTeamPage_ShowsAndFiltersAssignedCompanies(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	f := newFirm(t, env)
	p := get(t, f.c, f.url("/members"))
	wantIn(t, p, `<th scope="col">Entreprises affectées</th>`, `<label for="f-client">Entreprise affectée</label>`,
		`<option value="`+f.clients[1].String()+`">Garage Dupont</option>`)
	for name, want := range map[string]string{"Test sam": "Boulangerie Martin", "Test lea": "Garage Dupont",
		"Claire Fontaine": "Toutes (administrateur)"} {
		if row := text(tableRow(t, p.Body, name)); !strings.Contains(row, want) {
			t.Errorf("%s's row lacks %q: %s", name, want, row)
		}
	}
	p = get(t, f.c, f.url("/members?client="+f.clients[1].String()))
	if !strings.Contains(p.Body, `class="member-name">Test lea</a>`) || strings.Contains(p.Body, `class="member-name">Test sam</a>`) ||
		!strings.Contains(p.Body, `<option value="`+f.clients[1].String()+`" selected>`) {
		t.Errorf("filter by company: %s", text(p.Body))
	}
	// The export holds what the filtered page shows.
	m := exportLink.FindStringSubmatch(p.Body)
	if m == nil || !strings.Contains(html.UnescapeString(m[1]), "client="+f.clients[1].String()) {
		t.Fatalf("the export does not keep the company filter: %v", m)
	}
	if rows := csvRows(t, get(t, f.c, env.URL+html.UnescapeString(m[1]))); len(rows) != 2 || !strings.HasPrefix(rows[1][0], "lea") {
		t.Errorf("the export by company: %q", rows)
	}
	// With another filter that leaves nobody.
	if p = get(t, f.c, f.url("/members?role=guest&client="+f.clients[1].String())); !strings.Contains(p.Body, "Aucun membre ne correspond à ces filtres.") {
		t.Error("combined filters")
	}
	// A staff member sees only the clients they are assigned to; another
	// client is refused beside the filter, as is its export, rather than
	// listing everyone.
	staff := as(env, f.staff[0])
	p = get(t, staff, f.url("/members"))
	if strings.Contains(p.Body, "Garage Dupont") || !strings.Contains(p.Body, "Boulangerie Martin") {
		t.Error("staff see a client they are not assigned to on the firm's team page")
	}
	for _, c := range []string{f.clients[1].String(), "nonsense"} {
		p = get(t, staff, f.url("/members?client="+c))
		if e := text(between(p.Body, `id="e-client">`, "</p>")); p.Status != 422 || !strings.Contains(e, "not among the firm's clients you have access to") ||
			strings.Contains(p.Body, "<tbody>") || strings.Contains(p.Body, "Garage Dupont") {
			t.Errorf("client=%s for staff: %d, beside the filter %q", c, p.Status, e)
		}
		if p = get(t, f.c, f.url("/members/export.csv?client="+c+"x")); p.Status != 422 {
			t.Errorf("export client=%sx: %d", c, p.Status)
		}
	}
	// An account without clients has no such column.
	if p = get(t, f.c, f.clientURL(0, "/members")); strings.Contains(p.Body, "Entreprises affectées") {
		t.Error("a client's team page has the assigned companies column")
	}
}

func TestClientTeamPage_WorksForAssignedStaffThroughTheFirm(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	f := newFirm(t, env)
	paie := addResource(t, env, f.clients[0], "theme", "Paie")
	portail := addResource(t, env, f.clients[0], "application", "Portail")
	sam := as(env, f.staff[0])

	p := get(t, sam, f.clientURL(0, "/members"))
	if p.Status != 200 {
		t.Fatalf("staff on their client's team page: %d", p.Status)
	}
	// (apptest's members read English.)
	wantIn(t, p, `<nav class="crumbs"`, `<a href="`+f.path("/clients")+`">Cabinet Fontaine</a>`,
		`<span aria-current="page">Boulangerie Martin</span>`, "Client of Cabinet Fontaine", "Add a member")
	if strings.Contains(p.Body, `href="/accounts/`+f.clients[0].String()+`/clients"`) {
		t.Error("a client account offers a Clients section")
	}

	p = get(t, sam, f.clientURL(0, "/members/new"))
	wantIn(t, p, `<option value="collaborator">Collaborator</option>`, `<option value="guest">Guest</option>`,
		`<option value="Business owner">`, `<option value="Managing director">`, `<option value="Chair">`,
		`id="f-resource-`+paie.ID.String()+`"`, `id="f-resource-`+portail.ID.String()+`"`)
	p = post(t, sam, f.clientURL(0, "/members/new"), memberPost("jean@boulangerie.example", "Jean", "Martin", "collaborator",
		"title", "Managing director", "resources", paie.ID.String(), "resources", portail.ID.String(), "send_invitation", ""))
	if p.Status != 303 {
		t.Fatalf("add a client user: %d %s", p.Status, text(p.Body))
	}
	jean := mustUserID(t, env, "jean@boulangerie.example")
	p = get(t, sam, f.env.URL+p.Header.Get("Location"))
	row := text(tableRow(t, p.Body, "Jean Martin"))
	for _, want := range []string{"Collaborator", "Managing director", "Paie, Portail", "➕ Invite"} {
		if !strings.Contains(row, want) {
			t.Errorf("client user's row lacks %q: %s", want, row)
		}
	}
	// The row's actions work there: invite, after confirming.
	invite := f.clientURL(0, "/members/"+jean.String()+"/invite")
	if p = get(t, sam, invite); p.Status != 200 || !strings.Contains(p.Body, "Boulangerie Martin") {
		t.Fatalf("invite confirmation: %d", p.Status)
	}
	if p = post(t, sam, invite, nil); p.Status != 303 {
		t.Fatalf("invite: %d %s", p.Status, text(p.Body))
	}
	env.Mail(t, "jean@boulangerie.example", "invitation")
	// Contacts of the client too.
	if p = get(t, sam, f.clientURL(0, "/contacts")); p.Status != 200 {
		t.Fatalf("client contacts: %d", p.Status)
	}

	// The client's own member sees their team only: no firm, no staff, no other client.
	own := env.AddMember(t, f.clients[0], "own@boulangerie.example", "admin", equipe.MemberActive)
	p = get(t, as(env, own), f.clientURL(0, "/members"))
	if p.Status != 200 {
		t.Fatalf("own member: %d", p.Status)
	}
	for _, leak := range []string{"Cabinet Fontaine", "claire@cabinet.example", "sam@cabinet.example", "Test sam", "Garage Dupont", "crumbs"} {
		if strings.Contains(p.Body, leak) {
			t.Errorf("the client's own member sees %q", leak)
		}
	}
}

func TestFirmsAndClients_AnythingOutOfReachIsNotFoundAndChangesNothing(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) { outOfReach(t, apptest.Start(t, e, apptest.Options{})) })
	}
}

// outOfReach checks the tree's isolation on env: a client's own member on
// the firm's pages and another client's, firm staff on a client they are
// not assigned to.
func outOfReach(t *testing.T, env *apptest.Env) {
	f := newFirm(t, env)
	own := as(env, env.AddMember(t, f.clients[0], "own@boulangerie.example", "admin", equipe.MemberActive))
	if _, err := env.App.Team.CreateContact(t.Context(), f.actor(), f.clients[1], team.ContactInput{LastName: "Compta",
		Email: "compta@garage.example", Kinds: []string{"billing"}}); err != nil {
		t.Fatal(err)
	}
	contacts, _, _ := env.App.Team.Contacts(t.Context(), f.actor(), f.clients[1], equipe.Page{})
	contact := contacts[0].ID.String()
	before := storetest.Counts(t, storetest.Raw(t, env.DB))

	firmPages := []string{"/members", "/members/new", "/clients", "/clients/new", "/contacts", "/contacts/new", "/roles", "/audit",
		"/settings", "/clients/" + f.clients[0].String() + "/detach",
		"/clients/" + f.clients[0].String() + "/staff/" + f.staff[0].User.ID.String() + "/remove"}
	otherClient := []string{"/members", "/members/new", "/contacts", "/contacts/new", "/contacts/" + contact + "/edit",
		"/contacts/" + contact + "/delete", "/roles", "/settings"}
	for _, path := range firmPages {
		if p := get(t, own, f.url(path)); p.Status != 404 {
			t.Errorf("client member: GET firm %s: %d", path, p.Status)
		}
	}
	for _, path := range otherClient {
		if p := get(t, own, f.clientURL(1, path)); p.Status != 404 {
			t.Errorf("client member: GET other client %s: %d", path, p.Status)
		}
		// Sam is assigned to the first client only.
		if p := get(t, as(env, f.staff[0]), f.clientURL(1, path)); p.Status != 404 {
			t.Errorf("unassigned staff: GET client %s: %d", path, p.Status)
		}
	}
	posts := map[string]url.Values{
		f.url("/clients/new"): {"name": {"Pirate"}, "locale": {"fr"}, "resource_type": {"company"}},
		f.url("/clients/" + f.clients[1].String() + "/staff"):                                            {"user": {f.staff[0].User.ID.String()}},
		f.url("/clients/" + f.clients[1].String() + "/detach"):                                           nil,
		f.url("/clients/" + f.clients[1].String() + "/staff/" + f.staff[1].User.ID.String() + "/remove"): nil,
		f.url("/contacts/new"):                         {"last_name": {"Spy"}, "email": {"spy@x.example"}, "kinds": {"other"}},
		f.clientURL(1, "/contacts/new"):                {"last_name": {"Spy"}, "email": {"spy@x.example"}, "kinds": {"other"}},
		f.clientURL(1, "/contacts/"+contact+"/edit"):   {"last_name": {"Spy"}, "email": {"spy@x.example"}, "kinds": {"other"}},
		f.clientURL(1, "/contacts/"+contact+"/delete"): nil,
		f.clientURL(1, "/members/new"):                 memberPost("spy@x.example", "Spy", "Spy", "admin"),
	}
	for u, form := range posts {
		if p := post(t, own, u, form); p.Status != 404 {
			t.Errorf("client member: POST %s: %d", u, p.Status)
		}
		if strings.HasPrefix(u, f.clientURL(1, "")) {
			if p := post(t, as(env, f.staff[0]), u, form); p.Status != 404 {
				t.Errorf("unassigned staff: POST %s: %d", u, p.Status)
			}
		}
	}
	after := storetest.Counts(t, storetest.Raw(t, env.DB))
	for _, table := range []string{"users", "accounts", "members", "contacts", "client_staff", "outbox", "audit_events", "tokens"} {
		if after[table] != before[table] {
			t.Errorf("%s: %d → %d", table, before[table], after[table])
		}
	}
	// A staff member who does not manage clients may not create or detach one.
	sam := as(env, f.staff[0])
	if p := get(t, sam, f.url("/clients/new")); p.Status != 403 {
		t.Errorf("staff on the new-client form: %d", p.Status)
	}
	if p := post(t, sam, f.url("/clients/"+f.clients[0].String()+"/detach"), nil); p.Status != 403 {
		t.Errorf("staff detaching their client: %d", p.Status)
	}
}

func TestSwitcher_ListsDirectAndFirmAccountsAndRemembersTheChoice(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	f := newFirm(t, env)
	other := signUpNamed(t, env, "bob@autre.example", "Robert", "Dubois", "Autre équipe")
	// Sam also belongs to another account of his own, and is invited to a third.
	if err := env.App.DB.Write(t.Context(), func(tx *store.Tx) error {
		return tx.CreateMember(t.Context(), &equipe.Member{AccountID: other.account, UserID: f.staff[0].User.ID, Role: "guest",
			Status: equipe.MemberActive, CreatedAt: f.staff[0].User.CreatedAt, JoinedAt: f.staff[0].User.CreatedAt})
	}); err != nil {
		t.Fatal(err)
	}
	third := signUpNamed(t, env, "zoe@troisieme.example", "Zoé", "Trois", "Troisième")
	third.added(t, team.NewMember{Email: "sam@cabinet.example", FirstName: "Sam", LastName: "Invité", SendInvitation: true})

	sam := as(env, f.staff[0])
	p := get(t, sam, env.URL+"/")
	i := strings.Index(p.Body, `<li class="switcher">`)
	if i < 0 {
		t.Fatal("no switcher in the header")
	}
	sw := p.Body[i : i+strings.Index(p.Body[i:], "</details>")]
	for _, want := range []string{"Your accounts", "Cabinet Fontaine", "Autre équipe", "Boulangerie Martin", "through Cabinet Fontaine",
		"Troisième", "pending invitation", `name="account" value="` + f.clients[0].String() + `"`} {
		if !strings.Contains(sw, want) {
			t.Errorf("the switcher lacks %q: %s", want, text(sw))
		}
	}
	if strings.Contains(sw, "Garage Dupont") {
		t.Error("the switcher lists a client Sam is not assigned to")
	}
	wantIn(t, p, "Client of Cabinet Fontaine")

	// Switching remembers the choice in the session and opens the account.
	p = post(t, sam, env.URL+"/session/account", url.Values{"account": {f.clients[0].String()}})
	if p.Status != 303 || p.Header.Get("Location") != "/accounts/"+f.clients[0].String()+"/members" {
		t.Fatalf("switch: %d %s", p.Status, p.Header.Get("Location"))
	}
	p = get(t, sam, env.URL+"/")
	wantIn(t, p, `<span class="switcher-current">Boulangerie Martin</span>`, `<span class="tag current">Current account</span>`)
	home := p.Body[strings.Index(p.Body, `<ul class="accounts">`):]
	if cur := home[:strings.Index(home, "Current account")]; !strings.Contains(cur[strings.LastIndex(cur, "<li>"):], "Boulangerie Martin") {
		t.Error("the home page marks another account as current")
	}
	sessions, err := env.App.DB.Sessions(t.Context(), f.staff[0].User.ID)
	if err != nil {
		t.Fatal(err)
	}
	remembered := false
	for _, s := range sessions {
		remembered = remembered || s.AccountID != nil && *s.AccountID == f.clients[0]
	}
	if !remembered {
		t.Fatal("the choice is not remembered in the session")
	}
	// An account page is the current one while it is shown.
	p = get(t, sam, env.URL+"/accounts/"+other.account.String()+"/members")
	wantIn(t, p, `<span class="switcher-current">Autre équipe</span>`)

	// An account out of reach, or pending, is not switched to.
	for _, id := range []equipe.ID{f.clients[1], equipe.NewID()} {
		if p := post(t, sam, env.URL+"/session/account", url.Values{"account": {id.String()}}); p.Status != 404 {
			t.Errorf("switch to %s: %d", id, p.Status)
		}
	}
	if p := post(t, sam, env.URL+"/session/account", url.Values{"account": {third.account.String()}}); p.Status != 303 || p.Header.Get("Location") != "/" {
		t.Errorf("switch to a pending invitation: %d %s", p.Status, p.Header.Get("Location"))
	}
	if p := post(t, sam, env.URL+"/session/account", url.Values{"account": {"nope"}}); p.Status != 404 {
		t.Errorf("switch to garbage: %d", p.Status)
	}
}

// TestMemberPermissions_AClientsMembersAreNotToldWhoTheFirmsStaffAre: a
// client's own administrator reads what a firm's staff member may do in the
// client, not who they are nor which firm they come from; the firm's
// administrator reads both.
func TestMemberPermissions_AClientsMembersAreNotToldWhoTheFirmsStaffAre(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	f := newFirm(t, env)
	boss := env.AddMember(t, f.clients[0], "patron@boulangerie.example", "admin", equipe.MemberActive)
	page := f.clientURL(0, "/members/"+f.staff[0].User.ID.String()+"/permissions")
	p := get(t, as(env, boss), page)
	if p.Status != 200 {
		t.Fatalf("the client's administrator reads a staff member's access: %d", p.Status)
	}
	for _, secret := range []string{"sam@cabinet.example", "Test sam", "Cabinet Fontaine"} {
		if strings.Contains(p.Body, secret) {
			t.Errorf("the client's administrator is told %q", secret)
		}
	}
	wantIn(t, p, "Firm member")
	p = get(t, f.c, page)
	wantIn(t, p, "sam@cabinet.example", "Cabinet Fontaine")
}
