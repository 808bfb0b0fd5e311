package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/mail/mailtest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// addResource gives the account a resource, directly in the store.
func addResource(t *testing.T, env *apptest.Env, account equipe.ID, typ, name string) equipe.Resource {
	t.Helper()
	r := equipe.Resource{ID: equipe.NewID(), AccountID: account, Type: typ, Name: name, CreatedAt: time.Now()}
	if err := env.App.DB.Write(t.Context(), func(tx *store.Tx) error { return tx.CreateResource(t.Context(), &r) }); err != nil {
		t.Fatal(err)
	}
	return r
}

// added adds a member through the use case, as the owner.
func (o owner) added(t *testing.T, in team.NewMember) equipe.ID {
	t.Helper()
	if in.Role == "" {
		in.Role = "collaborator"
	}
	a, err := o.env.App.Team.AddMember(t.Context(), o.actor(), o.account, in)
	if err != nil {
		t.Fatalf("add %s: %v", in.Email, err)
	}
	return a.User.ID
}

// member reads a member of the owner's account.
func (o owner) member(t *testing.T, user equipe.ID) equipe.Member {
	t.Helper()
	m, _, _, err := o.env.App.Team.Member(t.Context(), o.actor(), o.account, user)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// tableRow returns the text of the team table's row of the member named name.
func tableRow(t *testing.T, body, name string) string {
	t.Helper()
	i := strings.Index(body, `class="member-name">`+name+`</a>`)
	if i < 0 { // someone known by their address alone: the name is the address
		i = strings.Index(body, `class="member-name email">`+name+`</a>`)
	}
	if i < 0 {
		t.Fatalf("no row for %q", name)
	}
	start := strings.LastIndex(body[:i], "<tr>")
	end := strings.Index(body[i:], "</tr>")
	return body[start : i+end]
}

func TestTeamPage_ListsMembersWithTheirStandingInBothLanguages(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	port := addResource(t, env, o.account, "location", "Boutique du port")
	paie := addResource(t, env, o.account, "theme", "Paie")
	later := o.added(t, team.NewMember{Email: "elodie@example.com", FirstName: "Élodie", LastName: "Martin", Title: "Salarié",
		Resources: []equipe.ID{port.ID, paie.ID}})
	invited := o.added(t, team.NewMember{Email: "emile@example.com", FirstName: "Emile", LastName: "Durand", Role: "guest",
		SendInvitation: true})
	active := env.AddMember(t, o.account, "zoe@example.com", "manager", equipe.MemberActive)

	p := get(t, o.c, o.url("/members"))
	if p.Status != 200 {
		t.Fatalf("team page: %d", p.Status)
	}
	wantIn(t, p, "<h1>Équipe</h1>", `aria-current="page">Équipe</a>`, `href="`+o.path("/members/new")+`"`,
		`<option value="invited">Invitation envoyée (1)</option>`, `<strong>4 membres</strong>`, `<optgroup label="Établissement">`, `<option value="`+port.ID.String()+`">Boutique du port</option>`)
	created := text(tableRow(t, p.Body, "Élodie Martin"))
	for _, want := range []string{"elodie@example.com", "Collaborateur", "Salarié", "Boutique du port, Paie", "Créé", "jamais connecté",
		"Aucune envoyée", "Jamais", "➕ Inviter"} {
		if !strings.Contains(created, want) {
			t.Errorf("created member's row lacks %q: %s", want, created)
		}
	}
	inv := text(tableRow(t, p.Body, "Emile Durand"))
	for _, want := range []string{"Invitation envoyée", "Envoyées : 1", "dernière le", "jamais connecté", "Relancer", "Révoquer l'invitation"} {
		if !strings.Contains(inv, want) {
			t.Errorf("invited member's row lacks %q: %s", want, inv)
		}
	}
	act := text(tableRow(t, p.Body, "Test zoe"))
	for _, want := range []string{"Manager", "Actif", "🔄 Réinitialiser le mot de passe", "Suspendre", "Retirer du compte"} {
		if !strings.Contains(act, want) {
			t.Errorf("active member's row lacks %q: %s", want, act)
		}
	}
	if strings.Contains(act, "jamais connecté") {
		t.Errorf("a member who logged in is said never to have: %s", act)
	}
	me := text(tableRow(t, p.Body, "Ada Lovelace"))
	if !strings.Contains(me, "vous") || strings.Contains(me, "Suspendre") || strings.Contains(me, "Réinitialiser") {
		t.Errorf("own row: %s", me)
	}
	for _, link := range []string{"/members/" + later.String() + "/invite", "/members/" + invited.String() + "/invite",
		"/members/" + invited.String() + "/revoke-invitation", "/members/" + active.User.ID.String() + "/password-reset",
		"/members/" + active.User.ID.String() + "/edit", "/audit?member=" + active.User.ID.String()} {
		wantIn(t, p, `href="`+o.path(link)+`"`)
	}

	// Filters: status, role, resource and search (prefix, accents and case ignored).
	for q, want := range map[string][]string{
		"status=invited":               {"Emile Durand"},
		"role=manager":                 {"Test zoe"},
		"resource=" + paie.ID.String(): {"Élodie Martin"},
		"q=ELO":                        {"Élodie Martin"},
		"q=emi":                        {"Emile Durand"},
		"status=active&role=admin":     {"Ada Lovelace"},
	} {
		p := get(t, o.c, o.url("/members?"+q))
		names := regexp.MustCompile(`class="member-name">([^<]+)</a>`).FindAllStringSubmatch(p.Body, -1)
		var got []string
		for _, n := range names {
			got = append(got, n[1])
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s: %q, want %q", q, got, want)
		}
		if !strings.Contains(p.Body, "Effacer les filtres") {
			t.Errorf("%s: no way to clear the filters", q)
		}
	}
	if p := get(t, o.c, o.url("/members?q=personne")); !strings.Contains(p.Body, "Aucun membre ne correspond à ces filtres.") {
		t.Error("no word for an empty result")
	}
	// A cursor from nowhere shows the first page.
	if p := get(t, o.c, o.url("/members?cursor=garbage")); p.Status != 200 || !strings.Contains(p.Body, "Ada Lovelace") {
		t.Errorf("bad cursor: %d", p.Status)
	}

	english(t, env, o.c)
	p = get(t, o.c, o.url("/members"))
	wantIn(t, p, `<html lang="en">`, "<h1>Team</h1>", "Add a member", "<option value=\"created\">Created (1)</option>")
	created = text(tableRow(t, p.Body, "Élodie Martin"))
	for _, want := range []string{"Collaborator", "Created", "never logged in", "None sent", "➕ Invite"} {
		if !strings.Contains(created, want) {
			t.Errorf("English row lacks %q: %s", want, created)
		}
	}
	if inv := text(tableRow(t, p.Body, "Emile Durand")); !strings.Contains(inv, "Sent: 1") || !strings.Contains(inv, "Re-invite") {
		t.Errorf("English invited row: %s", inv)
	}
}

func TestTeamPage_PagesThroughMembersKeepingTheFilters(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	for i := range 55 {
		o.added(t, team.NewMember{Email: fmt.Sprintf("m%02d@example.com", i), FirstName: "Membre", LastName: fmt.Sprintf("N%02d", i)})
	}
	p := get(t, o.c, o.url("/members?role=collaborator"))
	if n := strings.Count(p.Body, `class="member-name"`); n != 50 {
		t.Fatalf("first page: %d rows", n)
	}
	next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(p.Body)
	if next == nil {
		t.Fatal("no next page")
	}
	u, _ := url.Parse(htmlUnescape(next[1]))
	if u.Query().Get("role") != "collaborator" || u.Query().Get("cursor") == "" {
		t.Fatalf("next page link %q", next[1])
	}
	p = get(t, o.c, env.URL+u.String())
	if n := strings.Count(p.Body, `class="member-name"`); n != 5 || strings.Contains(p.Body, `rel="next"`) || !strings.Contains(p.Body, "Première page") {
		t.Fatalf("second page: %d rows", n)
	}
	if strings.Contains(p.Body, `class="member-name">Ada Lovelace`) {
		t.Error("the role filter was lost on the second page")
	}
}

func TestTeamPage_OnlyThoseWhoManageSeeActions(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	col := env.AddMember(t, o.account, "colin@example.com", "collaborator", equipe.MemberActive)
	mgr := env.AddMember(t, o.account, "maud@example.com", "manager", equipe.MemberActive)
	guest := o.added(t, team.NewMember{Email: "gus@example.com", FirstName: "Gus", LastName: "Guest", Role: "guest"})

	// A collaborator views the team: no buttons at all.
	p := get(t, as(env, col), o.url("/members"))
	if p.Status != 200 {
		t.Fatalf("collaborator's team page: %d", p.Status)
	}
	for _, no := range []string{"/members/new", "/invite", "/suspend", "/remove", "/edit", `class="row-actions"`} {
		if strings.Contains(p.Body, no) {
			t.Errorf("a collaborator is offered %s", no)
		}
	}
	// A manager acts on those they cover, never on the administrator.
	p = get(t, as(env, mgr), o.url("/members"))
	if admin := tableRow(t, p.Body, "Ada Lovelace"); strings.Contains(admin, "/suspend") || strings.Contains(admin, "/edit") {
		t.Errorf("a manager is offered actions on the administrator: %s", text(admin))
	}
	if g := tableRow(t, p.Body, "Gus Guest"); !strings.Contains(g, o.path("/members/"+guest.String()+"/invite")) {
		t.Errorf("a manager cannot invite a guest: %s", text(g))
	}
	// And is refused the confirmation page of an action on the administrator.
	p = get(t, as(env, mgr), o.url("/members/"+o.user.ID.String()+"/suspend"))
	// (apptest's members read English.)
	if p.Status != 403 || !strings.Contains(p.Body, "only an administrator can change them") {
		t.Errorf("manager suspends the administrator: %d %s", p.Status, text(p.Body))
	}
	p = get(t, as(env, col), o.url("/members/"+guest.String()+"/invite"))
	if p.Status != 403 || !strings.Contains(p.Body, "it takes: Manage members") {
		t.Errorf("collaborator invites: %d %s", p.Status, text(p.Body))
	}
	if p := post(t, as(env, col), o.url("/members/"+guest.String()+"/invite"), nil); p.Status != 403 {
		t.Errorf("collaborator posts an invitation: %d", p.Status)
	}
	if env.Mails("gus@example.com", "invitation") != 0 {
		t.Error("a refused invitation was sent")
	}
}

// htmlUnescape undoes the escaping of an attribute value.
func htmlUnescape(s string) string { return strings.ReplaceAll(s, "&amp;", "&") }

func TestTeamPages_ShowAnExistingIdentityUnderTheTypedNamesUntilTheyJoin(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	a := signUpNamed(t, env, "ada@a.example", "Ada", "Lovelace", "Analytical Engines")
	signUpNamed(t, env, "bob@b.example", "Robert", "Discret", "Ailleurs")
	bob := a.added(t, team.NewMember{Email: "bob@b.example", FirstName: "Partner", LastName: "From B"})
	for _, path := range []string{"/members", "/members/" + bob.String() + "/permissions", "/members/" + bob.String() + "/edit",
		"/members/" + bob.String() + "/invite"} {
		p := get(t, a.c, a.url(path))
		if p.Status != 200 || !strings.Contains(p.Body, "Partner From B") || strings.Contains(p.Body, "Discret") {
			t.Errorf("%s: %d, shows the identity's own names or not the typed ones", path, p.Status)
		}
	}
}

// TestTeamPage_SaysWhenAnInvitationWasNotDelivered: an invitation the mail
// server refused for good is flagged on the member's row.
func TestTeamPage_SaysWhenAnInvitationWasNotDelivered(t *testing.T) {
	srv := mailtest.StartSMTP(t)
	env := apptest.Start(t, "sqlite", apptest.Options{Configure: func(c *app.Config) {
		sc, err := mail.ParseSMTPURL(srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		c.SMTP = &sc
	}})
	o := signUpOwner(t, env, "ada@example.com")
	env.Delivered(t)
	srv.FailNext(1, 550)
	o.added(t, team.NewMember{Email: "nobody@example.com", FirstName: "No", LastName: "Body", Role: "collaborator", SendInvitation: true})
	env.Delivered(t)
	p := get(t, o.c, o.url("/members"))
	if n := strings.Count(p.Body, `class="meta undelivered"`); n != 1 || !strings.Contains(p.Body, "non distribuée : vérifiez l&#39;adresse, puis renvoyez l&#39;invitation") {
		t.Fatalf("%d undelivered flags: %s", n, text(p.Body))
	}
}

// TestTeamPage_ThePartnerResendsTheOwnersInvitation: in an account created
// for a business, its creator (a Manager) sees one action on the pending
// owner, sending the invitation again, and it works; nothing else is
// offered on the owner.
func TestTeamPage_ThePartnerResendsTheOwnersInvitation(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	partner := signUpOwner(t, env, "partner@agency.example")
	acct, err := env.App.Team.CreateAccountFor(t.Context(), partner.actor(), team.NewAccount{Name: "Pizzeria Bella", Locale: "fr",
		OwnerEmail: "giulia@bella.example", OwnerFirstName: "Giulia", OwnerLastName: "Rossi"})
	if err != nil {
		t.Fatal(err)
	}
	env.Mail(t, "giulia@bella.example", "account_created_for_you")
	owner := mustUserID(t, env, "giulia@bella.example")
	base := "/accounts/" + acct.ID.String() + "/members/" + owner.String()
	p := get(t, partner.c, env.URL+"/accounts/"+acct.ID.String()+"/members")
	if !strings.Contains(p.Body, `href="`+base+`/invite"`) {
		t.Fatalf("no re-invitation offered on the owner: %s", text(p.Body))
	}
	for _, action := range []string{"/suspend", "/remove", "/revoke-invitation", "/edit"} {
		if strings.Contains(p.Body, `href="`+base+action+`"`) {
			t.Errorf("%s offered on the owner", action)
		}
	}
	if c := get(t, partner.c, env.URL+base+"/invite"); c.Status != 200 {
		t.Fatalf("confirmation page: %d %s", c.Status, text(c.Body))
	}
	if r := post(t, partner.c, env.URL+base+"/invite", nil); r.Status != 303 {
		t.Fatalf("re-send: %d %s", r.Status, text(r.Body))
	}
	env.Mail(t, "giulia@bella.example", "reinvitation")
	if c := get(t, partner.c, env.URL+base+"/revoke-invitation"); c.Status != 403 {
		t.Fatalf("the revocation page for the partner: %d", c.Status)
	}
}

// TestTeamPage_AClientShowsItsFirmStaffApartInBothLanguages: a client's team
// page lists the firm's staff who reach it, apart from its own members and
// with their firm role; the firm's member form offers its client companies.
func TestTeamPage_AClientShowsItsFirmStaffApartInBothLanguages(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	c, err := env.App.Team.CreateClient(t.Context(), o.actor(), o.account, team.NewAccount{Name: "Boulangerie Martin", Locale: "fr",
		ResourceType: "company", ResourceName: "Boulangerie Martin"})
	if err != nil {
		t.Fatal(err)
	}
	sam := env.AddMember(t, o.account, "sam@example.com", "collaborator", equipe.MemberActive)
	if err := env.App.Team.AssignStaff(t.Context(), o.actor(), o.account, c.ID, sam.User.ID); err != nil {
		t.Fatal(err)
	}
	env.AddMember(t, o.account, "noe@example.com", "collaborator", equipe.MemberActive) // not assigned
	clientTeam := env.URL + "/accounts/" + c.ID.String() + "/members"
	p := get(t, o.c, clientTeam)
	section := between(p.Body, `<section class="firm-staff"`, "</section>")
	if !strings.Contains(section, "Équipe du cabinet ayant accès") || !strings.Contains(section, sam.User.Name()+"</span> — Collaborateur") ||
		!strings.Contains(section, "Ada Lovelace</span> — Administrateur") || strings.Contains(section, "noe@") || strings.Contains(section, "<a ") {
		t.Fatalf("firm staff, in French: %s", text(section))
	}
	if p := get(t, o.c, o.url("/members/new")); !strings.Contains(p.Body, `name="clients" type="checkbox" value="`+c.ID.String()+`"`) ||
		!strings.Contains(p.Body, "Entreprises clientes") {
		t.Fatalf("the firm's add form: %s", text(between(p.Body, "<form", "</form>")))
	}
	english(t, env, o.c)
	section = between(get(t, o.c, clientTeam).Body, `<section class="firm-staff"`, "</section>")
	if !strings.Contains(section, "Firm staff with access") || !strings.Contains(section, "assigned to this client") ||
		!strings.Contains(section, "administrator of the firm: every client") {
		t.Fatalf("firm staff, in English: %s", text(section))
	}
	// The client's own members learn the roles, not who the firm's people are.
	own := env.AddMember(t, c.ID, "own@boulangerie.example", "admin", equipe.MemberActive)
	section = between(get(t, as(env, own), clientTeam).Body, `<section class="firm-staff"`, "</section>")
	if !strings.Contains(section, "Someone from the firm</span> — Collaborator") || strings.Contains(section, sam.User.Name()) ||
		strings.Contains(section, "Ada Lovelace") {
		t.Fatalf("firm staff, to the client's own member: %s", text(section))
	}
	// A firm has no firm staff of its own to show.
	if strings.Contains(get(t, o.c, o.url("/members")).Body, "firm-staff") {
		t.Fatal("the firm's own team page shows firm staff")
	}
}

// TestTeamPage_CountsSortsAndShowsTimesInTheAccountsZone: the team page
// counts the account's members by status; its headers sort the list, the
// order staying in the pages' and filters' links; the last login is to this
// account, shown in the account's time zone with its offset.
func TestTeamPage_CountsSortsAndShowsTimesInTheAccountsZone(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	storetest.SeedMembers(t, env.DB, o.account, 60)
	kolkata := "Asia/Kolkata" // +05:30 all year
	if _, err := env.App.Team.UpdateAccount(t.Context(), o.actor(), o.account, team.AccountChange{TimeZone: &kolkata}); err != nil {
		t.Fatal(err)
	}
	counts, err := env.App.Team.CountMembers(t.Context(), o.actor(), o.account)
	if err != nil || counts.Total != 61 {
		t.Fatalf("counts: %+v %v", counts, err)
	}

	p := get(t, o.c, o.url("/members"))
	wantIn(t, p, "<strong>61 membres</strong>", `<option value="">Tous les statuts (61)</option>`,
		fmt.Sprintf(`<option value="active">Actif (%d)</option>`, counts.ByStatus[equipe.MemberActive]),
		fmt.Sprintf(`>Suspendu (%d)</a>`, counts.ByStatus[equipe.MemberSuspended]),
		`<th scope="col" aria-sort="ascending"><a href="`+o.path("/members?sort=-name")+`" class="sort">Membre`,
		`<th scope="col"><a href="`+o.path("/members?sort=role")+`" class="sort">Rôle et poste`,
		`<a href="`+o.path("/members?sort=last_login")+`" class="sort">Dernière connexion`)
	if strings.Contains(p.Body, "team.") {
		t.Error("a message key shows on the page")
	}
	// Ada logged in to her only account: shown at Kolkata's time, as are
	// the audit log's times and her own page's last login.
	ada := text(tableRow(t, p.Body, "Ada Lovelace"))
	if !strings.Contains(ada, "(UTC+05:30)") {
		t.Errorf("Ada's row: %q", ada)
	}
	if a := get(t, o.c, o.url("/audit")); a.Status != 200 || !strings.Contains(a.Body, "(UTC&#43;05:30)</td>") {
		i := strings.Index(a.Body, "<tbody>")
		t.Errorf("the audit page's times: %d %s", a.Status, a.Body[i:min(len(a.Body), i+600)])
	}
	if m := get(t, o.c, o.url("/members/"+o.user.ID.String()+"/permissions")); !strings.Contains(m.Body, "(UTC&#43;05:30)</dd>") {
		i := strings.Index(m.Body, "<dl")
		t.Errorf("Ada's page does not show her last login in the account's zone: %s", m.Body[i:min(len(m.Body), i+1500)])
	}

	// Sorted by last login, most recent first: Ada leads, the order stays
	// in the next page's link, the filters' form and the status links.
	p = get(t, o.c, o.url("/members?sort=-last_login"))
	wantIn(t, p, `<th scope="col" aria-sort="descending"><a href="`+o.path("/members?sort=last_login")+`" class="sort">Dernière connexion`,
		`<input type="hidden" name="sort" value="-last_login">`, `sort=-last_login&amp;status=active"`)
	body := p.Body[strings.Index(p.Body, "<tbody>"):]
	if i := strings.Index(body, "Ada Lovelace"); i < 0 || strings.Count(body[:i], "<tr>") != 1 {
		t.Error("sorted by last login, most recent first, Ada is not the first row")
	}
	next := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(p.Body)
	if next == nil || !strings.Contains(html.UnescapeString(next[1]), "sort=-last_login") {
		t.Fatalf("the next page's link: %v", next)
	}
	p2 := get(t, o.c, env.URL+html.UnescapeString(next[1]))
	if p2.Status != 200 || strings.Contains(p2.Body[strings.Index(p2.Body, "<tbody>"):], "Ada Lovelace") ||
		!strings.Contains(p2.Body, `aria-sort="descending"`) {
		t.Errorf("the second page: %d", p2.Status)
	}
	// An unknown order is said below the filters, as the API refuses it.
	if p := get(t, o.c, o.url("/members?sort=password")); p.Status != 422 ||
		!strings.Contains(text(between(p.Body, `id="e-sort">`, "</p>")), "cet ordre n'existe pas") {
		t.Errorf("unknown order: %d %s", p.Status, text(p.Body))
	}
	// A search of part of a domain.
	p = get(t, o.c, o.url("/members?q=%40CABINET-exp"))
	if n := strings.Count(p.Body, "@cabinet-expert.fr</span>"); n != 6 {
		t.Errorf("q=@CABINET-exp: %d rows", n)
	}
}

// TestTeamPage_AFilterThatCanSelectNothingIsSaidBesideIt: a value that
// selects nothing is said beside its filter and lists nobody, as on the
// audit page; the export refuses it as the API does, rather than exporting
// everyone in a file that looks filtered.
func TestTeamPage_AFilterThatCanSelectNothingIsSaidBesideIt(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	o.added(t, team.NewMember{Email: "zoe@example.com", FirstName: "Zoé", LastName: "Martin", Role: "manager"})
	for _, tc := range []struct{ query, field, message string }{
		{"?status=bogus", "status", "Statut inconnu"},
		{"?role=manager&status=bogus", "status", "Statut inconnu"},
		{"?q=" + strings.Repeat("a", 101), "q", "ne peut pas dépasser 100 caractères"},
		{"?resource=nope", "resource", "Cette ressource n'existe pas dans ce compte."},
		{"?client=" + o.account.String(), "client", "ne fait pas partie des clients du cabinet"},
	} {
		p := get(t, o.c, o.url("/members"+tc.query))
		if p.Status != 422 {
			t.Errorf("%s: %d", tc.query, p.Status)
		}
		if e := text(between(p.Body, `id="e-`+tc.field+`">`, "</p>")); !strings.Contains(e, tc.message) || !strings.Contains(p.Body, `class="problems"`) {
			t.Errorf("%s: beside the filter %q; page %s", tc.query, e, text(p.Body))
		}
		if strings.Contains(p.Body, "<tbody>") || exportLink.MatchString(p.Body) || !strings.Contains(p.Body, "Effacer les filtres") {
			t.Errorf("%s: members, an export or no way out: %s", tc.query, text(p.Body))
		}
		if p := get(t, o.c, o.url("/members/export.csv"+tc.query)); p.Status != 422 || strings.Contains(p.Body, "zoe@example.com") {
			t.Errorf("%s, exported: %d", tc.query, p.Status)
		}
	}
	// The role chosen beside a bad status stays chosen.
	p := get(t, o.c, o.url("/members?role=manager&status=bogus"))
	if !strings.Contains(between(p.Body, `<select id="f-role"`, "</select>"), `value="manager" selected`) {
		t.Errorf("the role chosen is lost: %s", between(p.Body, `<select id="f-role"`, "</select>"))
	}
}

// TestLastLogin_OpeningAnAccountsPageIsLoggingInToIt: someone in two
// accounts logs in without choosing one; the first page they open in an
// account enters it, and that account's team page then shows their last
// login to it, while the other account still shows none.
func TestLastLogin_OpeningAnAccountsPageIsLoggingInToIt(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	a := signUpOwner(t, env, "ada@example.com")
	b := signUpOwner(t, env, "bea@example.com")
	m := env.AddMember(t, a.account, "max@example.com", "collaborator", equipe.MemberActive)
	now := time.Now()
	if err := env.App.DB.Write(t.Context(), func(tx *store.Tx) error {
		return tx.CreateMember(t.Context(), &equipe.Member{AccountID: b.account, UserID: m.User.ID, Role: "collaborator",
			Status: equipe.MemberActive, CreatedAt: now, JoinedAt: now})
	}); err != nil {
		t.Fatal(err)
	}
	_, token, err := env.App.Identity.LogIn(t.Context(), "max@example.com", apptest.TestPassword, equipe.Origin{IP: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	lastLogin := func(o owner) string {
		t.Helper()
		return text(between(tableRow(t, get(t, o.c, o.url("/members")).Body, "Test max"), `class="last-login"`, "</td>"))
	}
	if got := lastLogin(b); !strings.Contains(got, "Jamais") {
		t.Fatalf("before entering: %q", got)
	}
	maxc := as(env, apptest.Member{User: m.User, Token: token})
	if p := get(t, maxc, b.url("/contacts")); p.Status != 200 {
		t.Fatalf("contacts: %d", p.Status)
	}
	if got := lastLogin(b); strings.Contains(got, "Jamais") || !strings.Contains(got, "UTC") {
		t.Errorf("after entering the account, its team page says %q", got)
	}
}

// TestLists_AMalformedCursorShowsTheFirstPage: a cursor that is not one of
// the list's (a mistyped or stale link) shows the list from its first
// page, as the team page does, on every paged list and on the audit
// log's export.
func TestLists_AMalformedCursorShowsTheFirstPage(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	c, _ := supportLogsIn(t, env)
	hook, _, err := env.App.Team.CreateWebhook(t.Context(), o.actor(), &o.account, team.WebhookInput{URL: "https://hooks.example.com/equipe",
		Types: []string{"*"}, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c    *http.Client
		path string
		want string
	}{
		{o.c, o.path("/webhooks/" + hook.ID.String() + "?before=zz"), "hooks.example.com"},
		{o.c, o.path("/members?cursor=zz"), "ada@example.com"},
		{o.c, o.path("/audit?cursor=zz"), "Ada Lovelace"},
		{o.c, o.path("/roles?cursor=zz"), "ada@example.com"},
		{c, "/admin/security?cursor=zz", "<h1>"},
		{c, "/admin/users?after=zz", "ada@example.com"},
		{c, "/admin/privacy-policy/" + env.App.Config.Policy.Version + "/acceptances?cursor=zz", "ada@example.com"},
		{o.c, o.path("/audit/export.csv?cursor=zz"), "account.created"},
	} {
		p := get(t, tc.c, env.URL+tc.path)
		if p.Status != 200 || !strings.Contains(p.Body, tc.want) || strings.Contains(p.Body, "errors") {
			t.Errorf("%s: %d, lacks %q: %s", tc.path, p.Status, tc.want, text(p.Body))
		}
	}
}
