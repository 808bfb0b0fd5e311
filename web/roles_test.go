package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// owner is an account made through the sign-up form, with its first
// administrator logged in and past the privacy policy.
type owner struct {
	env     *apptest.Env
	c       *http.Client
	account equipe.ID
	user    equipe.User
}

var accountLink = regexp.MustCompile(`href="/accounts/([0-9a-f-]{36})/members"`)

func signUpOwner(t *testing.T, env *apptest.Env, email string) owner {
	t.Helper()
	c := env.Client()
	if p := post(t, c, env.URL+"/signup", signupForm(email)); p.Status != 303 {
		t.Fatalf("sign-up %s: %d", email, p.Status)
	}
	if p := post(t, c, env.URL+"/consent", url.Values{"version": {"2026-11"}, "next": {"/"}, "accept": {"yes"}}); p.Status != 303 {
		t.Fatalf("consent %s: %d", email, p.Status)
	}
	home := get(t, c, env.URL+"/")
	m := accountLink.FindStringSubmatch(home.Body)
	if m == nil {
		t.Fatalf("the home page links to no account's team page: %s", home.Body)
	}
	accounts, err := env.App.Identity.Accounts(t.Context(), mustUserID(t, env, email))
	if err != nil || len(accounts) != 1 || accounts[0].Account.ID.String() != m[1] {
		t.Fatalf("accounts of %s: %v %v", email, accounts, err)
	}
	u, err := env.App.DB.UserByID(t.Context(), accounts[0].Member.UserID)
	if err != nil {
		t.Fatal(err)
	}
	return owner{env: env, c: c, account: accounts[0].Account.ID, user: u}
}

func mustUserID(t *testing.T, env *apptest.Env, email string) equipe.ID {
	t.Helper()
	u, err := env.App.DB.UserByEmailKey(t.Context(), strings.ToLower(email))
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func (o owner) url(path string) string {
	return o.env.URL + "/accounts/" + o.account.String() + path
}

// path returns the path of the account's page at sub.
func (o owner) path(sub string) string { return "/accounts/" + o.account.String() + sub }

func (o owner) actor() team.Actor { return team.Actor{User: &o.user} }

// as returns a client logged in with a session token of apptest.AddMember.
func as(env *apptest.Env, m apptest.Member) *http.Client {
	c := env.Client()
	u, _ := url.Parse(env.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "equipe_session", Value: m.Token, Path: "/"}})
	return c
}

// english makes the client read pages in English.
func english(t *testing.T, env *apptest.Env, c *http.Client) {
	t.Helper()
	if p := get(t, c, env.URL+"/login?lang=en"); p.Status != 303 {
		t.Fatalf("switch to English: %d", p.Status)
	}
}

var tags = regexp.MustCompile(`<[^>]*>`)

// text returns the text of an HTML fragment, spaces folded.
func text(h string) string {
	return strings.Join(strings.Fields(html.UnescapeString(tags.ReplaceAllString(h, " "))), " ")
}

// row returns the texts of the cells of the table row whose header is label.
func row(t *testing.T, body, label string) []string {
	t.Helper()
	i := strings.Index(body, `<th scope="row">`+label+`</th>`)
	if i < 0 {
		t.Fatalf("no row %q", label)
	}
	end := strings.Index(body[i:], "</tr>")
	var cells []string
	for _, c := range strings.Split(body[i:i+end], "<td")[1:] {
		cells = append(cells, text("<td"+c))
	}
	return cells
}

func wantIn(t *testing.T, p page, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(p.Body, w) {
			t.Errorf("the page lacks %q", w)
		}
	}
}

func TestRolesPage_ShowsTheMatrixInBothLanguages(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	env.AddMember(t, o.account, "colin@example.com", "collaborator", equipe.MemberActive)
	env.AddMember(t, o.account, "cleo@example.com", "collaborator", equipe.MemberInvited)

	p := get(t, o.c, o.url("/roles"))
	if p.Status != 200 {
		t.Fatalf("roles page: %d", p.Status)
	}
	wantIn(t, p, "<h1>Rôles et autorisations</h1>", `aria-current="page">Rôles</a>`, "Analytical Engines",
		`<th scope="col">Administrateur</th>`, `<th scope="col">Invité</th>`,
		`<th scope="rowgroup" colspan="5">Enregistrements</th>`, `<caption class="visually-hidden">`,
		`role="region" aria-labelledby="matrix-title"`, "Lecture seule, limitée aux ressources",
		`href="`+o.path("/roles/new")+`"`)
	tests := map[string][]string{
		"Membres":                         {"1", "0", "2", "0"},
		"Limité aux ressources affectées": {"Non", "Non", "Oui", "Oui"},
		"Consulter les enregistrements":   {"✓ Accordée Tout", "✓ Accordée Tout", "✓ Accordée Propriétaire et non attribué uniquement", "✓ Accordée Tout"},
		"Accéder à la facturation":        {"✓ Accordée", "— Non accordée", "— Non accordée", "— Non accordée"},
		"Gérer les membres":               {"✓ Accordée", "✓ Accordée", "— Non accordée", "— Non accordée"},
	}
	for label, want := range tests {
		if got := row(t, p.Body, label); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("row %s: %q, want %q", label, got, want)
		}
	}
	// Who holds which role, each linking to their effective permissions.
	colin := mustUserID(t, env, "colin@example.com")
	wantIn(t, p, "colin@example.com", `href="`+o.path("/members/"+colin.String()+"/permissions")+`"`, "Invitation envoyée</td>")

	english(t, env, o.c)
	p = get(t, o.c, o.url("/roles"))
	wantIn(t, p, `<html lang="en">`, "<h1>Roles and permissions</h1>", `<th scope="col">Administrator</th>`,
		`<th scope="col">Collaborator</th>`, `<th scope="rowgroup" colspan="5">Records</th>`)
	if got := row(t, p.Body, "Edit records"); strings.Join(got, "|") != "✓ Granted All|✓ Granted All|✓ Granted Owned and unassigned only|— Not granted" {
		t.Errorf("Edit records in English: %q", got)
	}

	// The home page names the role from the catalogue and links to the account.
	home := get(t, o.c, env.URL+"/")
	wantIn(t, home, `<a class="account-name" href="`+o.path("/members")+`">Analytical Engines</a>`, `<span class="role">Administrator</span>`)
}

// TestRolesPage_ListsMembersAPageAtATime: in a large account, "who holds
// which role" reads one page of members at a time, with the role counts of
// the whole account.
func TestRolesPage_ListsMembersAPageAtATime(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	storetest.SeedMembers(t, env.DB, o.account, 120)

	seen := map[string]bool{}
	next := o.url("/roles")
	pages := 0
	for next != "" {
		p := get(t, o.c, next)
		if p.Status != 200 {
			t.Fatalf("roles page %d: %d", pages, p.Status)
		}
		for _, m := range regexp.MustCompile(`<td>(user\d{6}@(?:example\.com|cabinet-expert\.fr)|ada@example\.com)</td>`).FindAllStringSubmatch(p.Body, -1) {
			if seen[m[1]] {
				t.Fatalf("%s listed twice", m[1])
			}
			seen[m[1]] = true
		}
		if pages == 0 {
			// 121 members: the owner and 120 others.
			total := 0
			for _, m := range regexp.MustCompile(`(?:Membres|Members)\s*:\s*(\d+)`).FindAllStringSubmatch(p.Body, -1) {
				n, _ := strconv.Atoi(m[1])
				total += n
			}
			if total != 121 {
				t.Errorf("role counts add up to %d, want 121", total)
			}
		} else if !strings.Contains(p.Body, `href="`+o.path("/roles")+`#members-title"`) {
			t.Error("a later page has no link to the first")
		}
		next = ""
		if m := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(p.Body); m != nil {
			next = env.URL + html.UnescapeString(m[1])
		}
		pages++
	}
	if pages != 3 || len(seen) != 121 {
		t.Fatalf("%d pages, %d members seen; want 3 pages of all 121", pages, len(seen))
	}
}

// rolePost is the role form as a browser sends it: every scope select
// comes with the form, ticked or not.
func rolePost(key, fr, en string, grants map[string]string, extra ...string) url.Values {
	f := url.Values{"key": {key}, "label_fr": {fr}, "label_en": {en},
		"scope.records.view": {"all"}, "scope.records.edit": {"owned_or_unassigned"}}
	for perm, scope := range grants {
		f.Add("permissions", perm)
		if scope != "" {
			f.Set("scope."+perm, scope)
		}
	}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return f
}

func TestRoleForm_SelectAllTicksEverythingTheActorMayGrant(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")

	p := get(t, o.c, o.url("/roles/new"))
	if p.Status != 200 || strings.Contains(p.Body, " checked") {
		t.Fatalf("new role form: %d", p.Status)
	}
	wantIn(t, p, `<label for="f-key">Identifiant <span class="optional">(facultatif)</span></label>`, `name="select" value="all"`,
		`<option value="owned_or_unassigned" selected>Propriétaire et non attribué uniquement</option>`)

	f := rolePost("associe", "Associé", "Partner", nil, "select", "all")
	p = post(t, o.c, o.url("/roles/new"), f)
	if p.Status != 200 {
		t.Fatalf("select all: %d", p.Status)
	}
	for _, perm := range env.App.Catalogue.Permissions {
		if !strings.Contains(p.Body, `value="`+perm.Key+`" checked`) {
			t.Errorf("select all left %s unticked", perm.Key)
		}
	}
	wantIn(t, p, `value="Associé"`, `value="associe"`, // what was typed stays
		`<select id="f-scope.records.edit" name="scope.records.edit">`, `<option value="all" selected>Tout</option>`)
	if strings.Contains(p.Body, `role="alert"`) {
		t.Error("select all shows problems")
	}
	none := post(t, o.c, o.url("/roles/new"), rolePost("associe", "Associé", "Partner", map[string]string{"billing.access": ""}, "select", "none"))
	if none.Status != 200 || strings.Contains(none.Body, `" checked`) {
		t.Errorf("select none: %d", none.Status)
	}
	if rs, _ := env.App.Team.Roles(t.Context(), o.actor(), o.account); len(rs) != 4 {
		t.Fatalf("selecting created a role: %d roles", len(rs))
	}

	// Saving what "select all" ticked makes a role with everything.
	all := map[string]string{}
	for _, perm := range env.App.Catalogue.Permissions {
		all[perm.Key] = perm.Broadest().String()
	}
	p = post(t, o.c, o.url("/roles/new"), rolePost("associe", "Associé", "Partner", all))
	if p.Status != 303 || p.Header.Get("Location") != "/accounts/"+o.account.String()+"/roles?done=created" {
		t.Fatalf("create: %d %s\n%s", p.Status, p.Header.Get("Location"), p.Body)
	}
	p = get(t, o.c, o.url("/roles?done=created"))
	wantIn(t, p, `<p class="notice" role="status">Rôle créé</p>`, `<th scope="col">Associé</th>`, "Personnalisé")
	if got := row(t, p.Body, "Modifier les enregistrements"); got[len(got)-1] != "✓ Accordée Tout" {
		t.Errorf("the new role's column: %q", got)
	}
}

func TestRoleForm_CreatesAndEditsAPickedRole(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")

	p := post(t, o.c, o.url("/roles/new"), rolePost("comptable", "Comptable", "Accountant",
		map[string]string{"billing.access": "", "records.view": "owned", "records.export": ""}, "restricted", "yes"))
	if p.Status != 303 {
		t.Fatalf("create: %d\n%s", p.Status, p.Body)
	}
	ro, err := env.App.Team.Role(t.Context(), o.actor(), o.account, "comptable")
	if err != nil || !ro.Role.Restricted || ro.Role.Label.EN != "Accountant" || len(ro.Role.Grants) != 3 {
		t.Fatalf("stored role: %+v %v", ro, err)
	}
	p = get(t, o.c, o.url("/roles"))
	if got := row(t, p.Body, "Consulter les enregistrements"); got[4] != "✓ Accordée Propriétaire uniquement" {
		t.Errorf("records.view of the new role: %q", got)
	}
	if got := row(t, p.Body, "Limité aux ressources affectées"); got[4] != "Oui" {
		t.Errorf("restricted: %q", got)
	}
	wantIn(t, p, `href="`+o.path("/roles/comptable/edit")+`"`, `href="`+o.path("/roles/comptable/delete")+`"`)
	if strings.Contains(p.Body, o.path("/roles/admin/edit")) {
		t.Error("a built-in role offers to be edited")
	}

	// The edit form shows the role as stored.
	p = get(t, o.c, o.url("/roles/comptable/edit"))
	wantIn(t, p, "<h1>Modifier le rôle « Comptable »</h1>", "<code>comptable</code>", `value="Accountant"`,
		`value="billing.access" checked`, `value="records.export" checked`, `id="f-restricted" name="restricted" type="checkbox" value="yes" checked`,
		`<option value="owned" selected>Propriétaire uniquement</option>`)
	if strings.Contains(p.Body, `id="f-key"`) {
		t.Error("the key can be edited")
	}
	p = post(t, o.c, o.url("/roles/comptable/edit"), rolePost("", "Expert-comptable", "Accountant",
		map[string]string{"records.view": "owned_or_unassigned", "records.edit": "owned"}))
	if p.Status != 303 || !strings.HasSuffix(p.Header.Get("Location"), "/roles?done=changed") {
		t.Fatalf("edit: %d\n%s", p.Status, p.Body)
	}
	ro, _ = env.App.Team.Role(t.Context(), o.actor(), o.account, "comptable")
	if ro.Role.Label.FR != "Expert-comptable" || ro.Role.Restricted || len(ro.Role.Grants) != 2 {
		t.Fatalf("edited role: %+v", ro.Role)
	}
	// A built-in role cannot be edited.
	if p := get(t, o.c, o.url("/roles/manager/edit")); p.Status != 403 || !strings.Contains(p.Body, "rôles prédéfinis ne se modifient pas") {
		t.Errorf("edit a built-in role: %d", p.Status)
	}
}

func TestRoleForm_RefusalsKeepWhatWasTypedAndSayWhy(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")

	// A key that is not one, and no name in either language.
	p := post(t, o.c, o.url("/roles/new"), rolePost("Comptable!", "", " ", map[string]string{"records.view": "owned"}))
	if p.Status != 422 {
		t.Fatalf("bad key: %d", p.Status)
	}
	wantIn(t, p, `role="alert"`, `<a href="#f-key">Identifiant : l&#39;identifiant`,
		`<a href="#f-label_fr">Nom en français : nommez le rôle en français ou en anglais ; une langue suffit.</a>`,
		`value="Comptable!"`, `value="records.view" checked`, `<option value="owned" selected>`,
		`aria-describedby="h-labels e-label_fr" aria-invalid="true" autofocus>`, `aria-describedby="h-key e-key" aria-invalid="true">`,
		`<p class="error" id="e-label_fr">`)
	if strings.Index(p.Body, `href="#f-label_fr"`) > strings.Index(p.Body, `href="#f-key"`) {
		t.Error("the summary is not in page order")
	}
	// A scope the permission does not take is shown beside it.
	p = post(t, o.c, o.url("/roles/new"), rolePost("kiosque", "Borne", "Kiosk", map[string]string{"billing.access": ""}, "scope.billing.access", "owned"))
	if p.Status != 422 || !strings.Contains(p.Body, `<p class="error" id="e-permissions.billing.access">Cette autorisation n&#39;accepte pas cette portée.</p>`) {
		t.Fatalf("scope on an unscoped permission: %d", p.Status)
	}

	// A team lead who manages roles but lacks billing cannot grant it, nor
	// see every record.
	lead := map[string]any{"members.view": "", "roles.manage": "", "records.view": "owned"}
	var gs []equipe.Grant
	for k, v := range lead {
		gs = append(gs, equipe.Grant{Permission: k, Scope: v.(string)})
	}
	if _, err := env.App.Team.CreateRole(t.Context(), o.actor(), o.account, team.RoleInput{Key: "lead", LabelFR: "Chef d'équipe",
		LabelEN: "Team lead", Grants: gs}); err != nil {
		t.Fatal(err)
	}
	lc := as(env, env.AddMember(t, o.account, "lead@example.com", "lead", equipe.MemberActive))
	p = get(t, lc, o.url("/roles/new"))
	wantIn(t, p, `<option value="owned" selected>Owned only</option>`, "You can grant it up to: Owned only.",
		"You do not hold this permission, so you cannot grant it.")
	p = post(t, lc, o.url("/roles/new"), rolePost("caisse", "Caisse", "Till",
		map[string]string{"billing.access": "", "records.view": "all"}))
	if p.Status != 403 {
		t.Fatalf("beyond own: %d", p.Status)
	}
	wantIn(t, p, `<p class="error" id="e-permissions">You cannot give rights you do not hold: Access billing, View records (All).</p>`,
		`<a href="#f-permissions">`, `value="Caisse"`, `value="billing.access" checked`)
	// "Select all" ticks only what the lead holds, at the lead's scope.
	p = post(t, lc, o.url("/roles/new"), rolePost("caisse", "Caisse", "Till", nil, "select", "all"))
	if strings.Contains(p.Body, `value="billing.access" checked`) || !strings.Contains(p.Body, `value="records.view" checked`) ||
		!strings.Contains(p.Body, `<option value="owned" selected>Owned only</option>`) {
		t.Error("select all for the lead ticks what they lack")
	}
	// A lead limited to assigned resources makes only limited roles.
	if _, err := env.App.Team.UpdateRole(t.Context(), o.actor(), o.account, "lead", team.RoleInput{LabelFR: "Chef d'équipe",
		LabelEN: "Team lead", Grants: gs, Restricted: true}); err != nil {
		t.Fatal(err)
	}
	p = post(t, lc, o.url("/roles/new"), rolePost("caisse", "Caisse", "Till", map[string]string{"records.view": "owned"}))
	if p.Status != 403 {
		t.Fatalf("unrestricted role from a limited lead: %d", p.Status)
	}
	wantIn(t, p, `<p class="error" id="e-restricted">You cannot give rights you do not hold: access to every resource (limit the role to assigned resources).</p>`,
		`aria-describedby="h-restricted e-restricted" aria-invalid="true" autofocus>`)
	if rs, _ := env.App.Team.Roles(t.Context(), o.actor(), o.account); len(rs) != 5 {
		t.Fatalf("a refused role was created: %d roles", len(rs))
	}
	// A manager does not manage roles: the form is refused with the reason.
	mc := as(env, env.AddMember(t, o.account, "manager@example.com", "manager", equipe.MemberActive))
	if p := get(t, mc, o.url("/roles/new")); p.Status != 403 || !strings.Contains(p.Body, "Your role does not allow this (it takes: Manage roles).") {
		t.Errorf("manager opens the form: %d", p.Status)
	}
	if p := get(t, mc, o.url("/roles")); p.Status != 200 || strings.Contains(p.Body, o.path("/roles/new")) {
		t.Errorf("manager's roles page: %d, offers a new role", p.Status)
	}
}

func TestRoleDelete_ConfirmsAndMovesTheMembers(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	if _, err := env.App.Team.CreateRole(t.Context(), o.actor(), o.account, team.RoleInput{Key: "kiosk", LabelFR: "Borne",
		LabelEN: "Kiosk", Grants: []equipe.Grant{{Permission: "records.view", Scope: "owned"}}}); err != nil {
		t.Fatal(err)
	}
	k := env.AddMember(t, o.account, "kiosk@example.com", "kiosk", equipe.MemberActive)

	p := get(t, o.c, o.url("/roles/kiosk/delete"))
	wantIn(t, p, "<h1>Supprimer le rôle « Borne » ?</h1>", "Membres ayant ce rôle : 1.", `<select id="f-replacement" name="replacement" required`,
		`<option value="guest">Invité</option>`)
	if strings.Contains(p.Body, `<option value="kiosk"`) {
		t.Error("the role is offered as its own replacement")
	}
	p = post(t, o.c, o.url("/roles/kiosk/delete"), url.Values{"replacement": {""}})
	if p.Status != 409 {
		t.Fatalf("delete without a replacement: %d", p.Status)
	}
	wantIn(t, p, `<p class="error" id="e-replacement">1 membre ou clé d’API a ce rôle : choisissez le rôle qui le remplacera.</p>`,
		`aria-invalid="true" autofocus>`)
	env.AddMember(t, o.account, "kiosk2@example.com", "kiosk", equipe.MemberActive)
	p = post(t, o.c, o.url("/roles/kiosk/delete"), url.Values{"replacement": {""}})
	wantIn(t, p, `<p class="error" id="e-replacement">2 membres ou clés d’API ont ce rôle : choisissez le rôle qui le remplacera.</p>`)
	english(t, env, o.c)
	p = post(t, o.c, o.url("/roles/kiosk/delete"), url.Values{"replacement": {""}})
	wantIn(t, p, `<p class="error" id="e-replacement">2 members or API keys hold this role: choose the role that replaces it.</p>`)
	if err := env.App.Team.RemoveMember(t.Context(), o.actor(), o.account, mustUserID(t, env, "kiosk2@example.com")); err != nil {
		t.Fatal(err)
	}
	p = post(t, o.c, o.url("/roles/kiosk/delete"), url.Values{"replacement": {""}})
	wantIn(t, p, `<p class="error" id="e-replacement">1 member or API key holds this role: choose the role that replaces it.</p>`)
	get(t, o.c, env.URL+"/login?lang=fr")
	p = post(t, o.c, o.url("/roles/kiosk/delete"), url.Values{"replacement": {"guest"}})
	if p.Status != 303 || !strings.HasSuffix(p.Header.Get("Location"), "/roles?done=deleted") {
		t.Fatalf("delete: %d %s", p.Status, p.Body)
	}
	m, _, _, err := env.App.Team.Member(t.Context(), o.actor(), o.account, k.User.ID)
	if err != nil || m.Role != "guest" {
		t.Fatalf("the member's role after the deletion: %q %v", m.Role, err)
	}
	if p := get(t, o.c, o.url("/roles?done=deleted")); !strings.Contains(p.Body, "Rôle supprimé") || strings.Contains(p.Body, "Borne") {
		t.Error("the roles page still shows the role")
	}
	if p := get(t, o.c, o.url("/roles/kiosk/delete")); p.Status != 404 {
		t.Errorf("the deleted role's page: %d", p.Status)
	}
	if p := get(t, o.c, o.url("/roles/admin/delete")); p.Status != 403 {
		t.Errorf("delete a built-in role: %d", p.Status)
	}
	// A manager, who does not manage roles, is not asked to confirm.
	if _, err := env.App.Team.CreateRole(t.Context(), o.actor(), o.account, team.RoleInput{Key: "temp", LabelFR: "Temp", LabelEN: "Temp"}); err != nil {
		t.Fatal(err)
	}
	mc := as(env, env.AddMember(t, o.account, "manager@example.com", "manager", equipe.MemberActive))
	if p := get(t, mc, o.url("/roles/temp/delete")); p.Status != 403 {
		t.Errorf("a manager's confirmation page: %d", p.Status)
	}
	if p := post(t, mc, o.url("/roles/temp/delete"), nil); p.Status != 403 {
		t.Errorf("a manager deletes a role: %d", p.Status)
	}
}

func TestMemberPermissionsPage_SaysWhatAMemberMayDoAndWhy(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	colin := env.AddMember(t, o.account, "colin@example.com", "collaborator", equipe.MemberActive)
	ctx := t.Context()
	now := time.Now()
	var res []equipe.Resource
	err := env.App.DB.Write(ctx, func(tx *store.Tx) error {
		for _, r := range []equipe.Resource{
			{ID: equipe.NewID(), AccountID: o.account, Type: "location", Name: "Boutique du port", CreatedAt: now},
			{ID: equipe.NewID(), AccountID: o.account, Type: "theme", Name: "Paie", CreatedAt: now},
			{ID: equipe.NewID(), AccountID: o.account, Type: "location", Name: "Entrepôt", CreatedAt: now},
		} {
			if err := tx.CreateResource(ctx, &r); err != nil {
				return err
			}
			res = append(res, r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := []equipe.ID{res[0].ID, res[1].ID}
	ovs := []equipe.Override{{Permission: "records.export", Allow: true}, {Permission: "members.view", Allow: false}}
	if _, err := env.App.Team.ChangeMember(ctx, o.actor(), o.account, colin.User.ID, team.MemberChange{Resources: &ids, Overrides: &ovs}); err != nil {
		t.Fatal(err)
	}

	p := get(t, o.c, o.url("/members/"+colin.User.ID.String()+"/permissions"))
	if p.Status != 200 {
		t.Fatalf("page: %d", p.Status)
	}
	wantIn(t, p, "<h1>Autorisations de Test colin</h1>", "colin@example.com", "<dd>Collaborateur</dd>", "<dd>Actif</dd>",
		"<dd>Membre du compte</dd>", "<dd>Uniquement celles qui lui sont affectées</dd>",
		"<h3>Établissement</h3>", "<li>Boutique du port</li>", "<h3>Thème</h3>", "<li>Paie</li>")
	// The changes to the role are listed, the withdrawn permission among them.
	changes, rest, _ := strings.Cut(p.Body, `<ul class="changes-list">`)
	changes, rest, _ = strings.Cut(rest, "</ul>")
	if !strings.Contains(changes, "<li>&#43; Exporter des enregistrements</li>") || !strings.Contains(changes, "<li>− Voir les membres</li>") ||
		!strings.Contains(p.Body, "<dd>2 modifications") {
		t.Errorf("the changes to the role: %q", changes)
	}
	if strings.Contains(p.Body, "Entrepôt") || strings.Contains(rest, "Voir les membres") || strings.Contains(p.Body, `role="note"`) {
		t.Error("the page shows an unassigned resource, a denied permission or a block")
	}
	if got := row(t, p.Body, "Consulter les enregistrements"); strings.Join(got, "|") != "Propriétaire et non attribué uniquement|Rôle « Collaborateur »" {
		t.Errorf("records.view: %q", got)
	}
	if got := row(t, p.Body, "Exporter des enregistrements"); strings.Join(got, "|") != "— Sans portée|Réglage propre à ce membre" {
		t.Errorf("records.export: %q", got)
	}

	// A suspended member, in English: every check is denied, and the page says why.
	s := env.AddMember(t, o.account, "sam@example.com", "manager", equipe.MemberSuspended)
	english(t, env, o.c)
	p = get(t, o.c, o.url("/members/"+s.User.ID.String()+"/permissions"))
	wantIn(t, p, "<h1>Test sam&#39;s permissions</h1>", "<dd>Manager</dd>", "<dd>Suspended</dd>", `role="note"`,
		"This member is suspended in this account: every check is denied until they are reactivated.",
		"<dd>Every resource of the account</dd>", "No resources assigned.")
	if p := get(t, o.c, o.url("/members/"+equipe.NewID().String()+"/permissions")); p.Status != 404 {
		t.Errorf("a user of nowhere: %d", p.Status)
	}
	if p := get(t, o.c, o.url("/members/nope/permissions")); p.Status != 404 {
		t.Errorf("not an ID: %d", p.Status)
	}
}

var secretPattern = regexp.MustCompile(`equipe_[A-Za-z0-9_-]{43}`)

func TestAPIKeysPage_ShowsTheSecretOnceAndRevokesAfterConfirmation(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")

	// Until the address is confirmed, the page says why instead of offering
	// the form, and a post anyway makes nothing.
	p := get(t, o.c, o.url("/api-keys"))
	wantIn(t, p, "Confirmez d&#39;abord votre adresse e-mail (ada@example.com)")
	if strings.Contains(p.Body, `id="f-name"`) {
		t.Error("the form is offered to someone whose address is not confirmed")
	}
	if p = post(t, o.c, o.url("/api-keys"), url.Values{"name": {"Trop tôt"}, "role": {"manager"}}); p.Status != 403 ||
		strings.Contains(p.Body, "equipe_") {
		t.Fatalf("a key before the address is confirmed: %d", p.Status)
	}
	confirmEmail(t, env, "ada@example.com")

	p = get(t, o.c, o.url("/api-keys"))
	wantIn(t, p, "<h1>Clés d&#39;API</h1>", `aria-current="page">Clés d&#39;API</a>`, "Aucune clé pour le moment.",
		`<option value="manager">Manager</option>`)

	// Problems beside their fields.
	p = post(t, o.c, o.url("/api-keys"), url.Values{"name": {""}, "role": {"pilot"}})
	if p.Status != 422 {
		t.Fatalf("empty name: %d", p.Status)
	}
	wantIn(t, p, `<p class="error" id="e-name">Ce champ est obligatoire.</p>`, `<p class="error" id="e-role">Ce rôle n&#39;existe pas dans ce compte.</p>`)

	p = post(t, o.c, o.url("/api-keys"), url.Values{"name": {"Synchronisation CRM"}, "role": {"manager"}})
	if p.Status != 201 {
		t.Fatalf("create: %d\n%s", p.Status, p.Body)
	}
	secret := secretPattern.FindString(p.Body)
	if secret == "" {
		t.Fatal("the secret is not shown")
	}
	if p.Header.Get("Cache-Control") != "no-store" || p.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("headers: Cache-Control %q, Referrer-Policy %q", p.Header.Get("Cache-Control"), p.Header.Get("Referrer-Policy"))
	}
	wantIn(t, p, "Copiez la clé maintenant", "Elle ne sera plus jamais affichée")

	// The key works, and the list never shows its secret again.
	r, _ := http.NewRequest("GET", env.URL+"/api/v1/accounts/"+o.account.String()+"/roles", nil)
	r.Header.Set("Authorization", "Bearer "+secret)
	if res := do(t, env.Client(), r); res.Status != 200 {
		t.Fatalf("the key at the API: %d", res.Status)
	}
	list := get(t, o.c, o.url("/api-keys"))
	if secretPattern.MatchString(list.Body) || strings.Contains(list.Body, secret[len("equipe_")+6:]) {
		t.Fatal("the list shows the secret")
	}
	wantIn(t, list, "<th scope=\"row\">Synchronisation CRM</th>", "<code>"+secret[:len("equipe_")+6]+"…</code>", "<td>Manager</td>", "<td>Active</td>")
	revoke := regexp.MustCompile(`href="(/accounts/[^"]+/api-keys/[^"]+/revoke)"`).FindStringSubmatch(list.Body)
	if revoke == nil {
		t.Fatal("no revoke link")
	}

	// Revoking asks first.
	p = get(t, o.c, env.URL+revoke[1])
	wantIn(t, p, "<h1>Révoquer la clé « Synchronisation CRM » ?</h1>", `<button type="submit" class="danger">Révoquer la clé</button>`)
	p = post(t, o.c, env.URL+revoke[1], nil)
	if p.Status != 303 || p.Header.Get("Location") != "/accounts/"+o.account.String()+"/api-keys?done=revoked" {
		t.Fatalf("revoke: %d %s", p.Status, p.Header.Get("Location"))
	}
	if res := do(t, env.Client(), r); res.Status != 401 {
		t.Fatalf("the revoked key at the API: %d", res.Status)
	}
	list = get(t, o.c, o.url("/api-keys?done=revoked"))
	wantIn(t, list, "Clé d&#39;API révoquée", "Révoquée le ")
	if strings.Contains(list.Body, revoke[1]) {
		t.Error("a revoked key offers to be revoked")
	}
	if p := get(t, o.c, env.URL+revoke[1]); p.Status != 404 {
		t.Errorf("confirming a revoked key: %d", p.Status)
	}

	// A manager may not manage keys.
	mc := as(env, env.AddMember(t, o.account, "manager@example.com", "manager", equipe.MemberActive))
	if p := get(t, mc, o.url("/api-keys")); p.Status != 403 || !strings.Contains(p.Body, "Manage API keys") {
		t.Errorf("manager's keys page: %d", p.Status)
	}
}

func TestInstanceAPIKeys_OnlyForInstanceAdministrators(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	if p := get(t, o.c, env.URL+"/"); strings.Contains(p.Body, "/admin/api-keys") {
		t.Error("the home page links an account owner to the instance keys")
	}
	for _, p := range []page{
		get(t, o.c, env.URL+"/admin/api-keys"),
		get(t, o.c, env.URL+"/admin/api-keys/"+equipe.NewID().String()+"/revoke"),
		post(t, o.c, env.URL+"/admin/api-keys/"+equipe.NewID().String()+"/revoke", nil),
	} {
		if p.Status != 404 {
			t.Errorf("an account owner on the instance keys: %d", p.Status)
		}
	}
	if p := post(t, o.c, env.URL+"/admin/api-keys", url.Values{"name": {"x"}}); p.Status != 403 {
		t.Errorf("an account owner creates an instance key: %d", p.Status)
	}

	c, _ := supportLogsIn(t, env)
	home := get(t, c, env.URL+"/")
	wantIn(t, home, `<a href="/admin/api-keys">`)
	p := post(t, c, env.URL+"/admin/api-keys", url.Values{"name": {"Backend de l'éditeur"}})
	secret := secretPattern.FindString(p.Body)
	if p.Status != 201 || secret == "" {
		t.Fatalf("create an instance key: %d", p.Status)
	}
	list := get(t, c, env.URL+"/admin/api-keys")
	wantIn(t, list, "Backend de l&#39;éditeur")
	if strings.Contains(list.Body, secret) || strings.Contains(list.Body, `id="f-role"`) {
		t.Error("the instance list shows the secret, or a role")
	}
	revoke := regexp.MustCompile(`href="(/admin/api-keys/[^"]+/revoke)"`).FindStringSubmatch(list.Body)
	if revoke == nil {
		t.Fatal("no revoke link")
	}
	if p := get(t, c, env.URL+revoke[1]); p.Status != 200 {
		t.Fatalf("confirm: %d", p.Status)
	}
	if p := post(t, c, env.URL+revoke[1], nil); p.Status != 303 || p.Header.Get("Location") != "/admin/api-keys?done=revoked" {
		t.Fatalf("revoke: %d %s", p.Status, p.Header.Get("Location"))
	}
	// An instance administrator looks after every account.
	if p := get(t, c, o.url("/roles")); p.Status != 200 {
		t.Errorf("instance administrator on an account's roles: %d", p.Status)
	}
}

func TestAccountPages_AnotherAccountsPagesAreNotFound(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	a := signUpOwner(t, env, "ada@a.example")
	confirmEmail(t, env, "ada@a.example")
	b := signUpOwner(t, env, "bob@b.example")
	b.user.EmailVerifiedAt = time.Now() // b makes a key below
	ctx := context.Background()
	if _, err := env.App.Team.CreateRole(ctx, b.actor(), b.account, team.RoleInput{Key: "kiosk", LabelFR: "Borne", LabelEN: "Kiosk"}); err != nil {
		t.Fatal(err)
	}
	k, _, err := env.App.Team.CreateKey(ctx, b.actor(), &b.account, team.NewKey{Name: "B's key", Role: "guest"})
	if err != nil {
		t.Fatal(err)
	}
	key := "/api-keys/" + k.ID.String() + "/revoke"
	member := "/members/" + b.user.ID.String() + "/permissions"
	for _, path := range []string{"/roles", "/roles/new", "/roles/kiosk/edit", "/roles/kiosk/delete", member, "/api-keys", key} {
		if p := get(t, a.c, b.url(path)); p.Status != 404 {
			t.Errorf("GET %s of another account: %d", path, p.Status)
		}
	}
	posts := map[string]url.Values{
		"/roles/new":          rolePost("spy", "Espion", "Spy", nil),
		"/roles/kiosk/edit":   rolePost("", "Espion", "Spy", nil),
		"/roles/kiosk/delete": {"replacement": {"guest"}},
		"/api-keys":           {"name": {"spy"}, "role": {"guest"}},
		key:                   nil,
	}
	for path, f := range posts {
		if p := post(t, a.c, b.url(path), f); p.Status != 404 {
			t.Errorf("POST %s of another account: %d", path, p.Status)
		}
	}
	if rs, _ := env.App.Team.Roles(ctx, b.actor(), b.account); len(rs) != 5 || rs[4].Role.Label.FR != "Borne" {
		t.Error("another account's role changed")
	}
	if ks, _, _ := env.App.Team.Keys(ctx, b.actor(), &b.account, equipe.Page{}); len(ks) != 1 || !ks[0].RevokedAt.IsZero() {
		t.Error("another account's keys changed")
	}
	// Nor through a path that is not an account at all.
	if p := get(t, a.c, env.URL+"/accounts/nope/roles"); p.Status != 404 {
		t.Errorf("not an ID: %d", p.Status)
	}
}

func TestAccountPages_NeedLoginAndConsent(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	paths := []string{"/roles", "/roles/new", "/members/" + o.user.ID.String() + "/permissions", "/api-keys"}
	anon := env.Client()
	for _, path := range paths {
		p := get(t, anon, o.url(path))
		if p.Status != 303 || p.Header.Get("Location") != "/login?next="+url.QueryEscape("/accounts/"+o.account.String()+path) {
			t.Errorf("anonymous %s: %d %s", path, p.Status, p.Header.Get("Location"))
		}
	}
	if p := get(t, anon, env.URL+"/admin/api-keys"); p.Status != 303 {
		t.Errorf("anonymous instance keys: %d", p.Status)
	}
	if p := post(t, anon, o.url("/roles/new"), rolePost("x", "X", "X", nil)); p.Status != 303 || !strings.HasPrefix(p.Header.Get("Location"), "/login") {
		t.Errorf("anonymous post: %d", p.Status)
	}
	// Signed up, but the privacy policy is not accepted yet.
	c := env.Client()
	if p := post(t, c, env.URL+"/signup", signupForm("eve@example.com")); p.Status != 303 {
		t.Fatalf("sign-up: %d", p.Status)
	}
	accounts, err := env.App.Identity.Accounts(t.Context(), mustUserID(t, env, "eve@example.com"))
	if err != nil || len(accounts) != 1 {
		t.Fatal(accounts, err)
	}
	for _, path := range paths[:2] {
		full := "/accounts/" + accounts[0].Account.ID.String() + path
		p := get(t, c, env.URL+full)
		if p.Status != 303 || p.Header.Get("Location") != "/consent?next="+url.QueryEscape(full) {
			t.Errorf("before consent %s: %d %s", path, p.Status, p.Header.Get("Location"))
		}
	}
}

// supportLogsIn makes the instance's administrator (identityAdmin) and logs
// them in, the privacy policy accepted: their browser, and who they are.
func supportLogsIn(t *testing.T, env *apptest.Env) (*http.Client, equipe.User) {
	t.Helper()
	u, err := env.App.Identity.CreateAdmin(t.Context(), identityAdmin())
	if err != nil {
		t.Fatal(err)
	}
	c := env.Client()
	post(t, c, env.URL+"/login", url.Values{"email": {"support@vendor.example"}, "password": {apptest.TestPassword}})
	post(t, c, env.URL+"/consent", url.Values{"version": {"2026-11"}, "next": {"/"}, "accept": {"yes"}})
	return c, u
}

func identityAdmin() identity.NewAdmin {
	return identity.NewAdmin{Email: "support@vendor.example", FirstName: "Sam", LastName: "Support", Locale: "fr",
		Password: apptest.TestPassword}
}
