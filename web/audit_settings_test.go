package web_test

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

func TestAuditPage_SaysWhoDidWhatToWhomNewestFirst(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	grace := o.added(t, team.NewMember{Email: "grace@example.com", FirstName: "Grace", LastName: "Hopper"})
	role := "guest"
	title := "Gérante"
	ovs := []equipe.Override{{Permission: "records.view", Allow: true, Scope: "owned"}}
	if _, err := env.App.Team.ChangeMember(t.Context(), o.actor(), o.account, grace, team.MemberChange{Role: &role, Title: &title, Overrides: &ovs}); err != nil {
		t.Fatal(err)
	}

	p := get(t, o.c, o.url("/audit"))
	if p.Status != 200 {
		t.Fatalf("audit page: %d", p.Status)
	}
	wantIn(t, p, "<h1>Journal d&#39;audit</h1>", `aria-current="page">Journal d&#39;audit</a>`, "<th scope=\"col\">Date (UTC)</th>",
		`<th scope="row">Membre modifié</th>`, `<th scope="row">Membre ajouté</th>`, `<th scope="row">Compte créé</th>`,
		`<option value="invitation.resent">Invitation renvoyée</option>`,
		`<span class="field-name">Rôle</span> : Collaborateur <span aria-hidden="true">→</span>`, "Invité",
		"Consulter les enregistrements (Propriétaire uniquement)", "Gérante", "<code>127.0.0.1</code>")
	changed := strings.Index(p.Body, "Membre modifié")
	if added := strings.Index(p.Body, `<th scope="row">Membre ajouté`); changed < 0 || added < changed {
		t.Error("events are not newest first")
	}
	// Names link to filters; a filter by member keeps only their events.
	wantIn(t, p, `href="`+o.path("/audit?member="+grace.String())+`">Grace Hopper</a>`, `href="`+o.path("/audit?actor="+o.user.ID.String())+`">Ada Lovelace</a>`)
	p = get(t, o.c, o.url("/audit?member="+grace.String()))
	if n := strings.Count(p.Body, "<tr>") - 1; n != 2 {
		t.Errorf("events about Grace: %d", n)
	}
	wantIn(t, p, "Concernant Grace Hopper", `href="`+o.path("/audit")+`">Retirer ce filtre`)
	p = get(t, o.c, o.url("/audit?action=account.created"))
	if n := strings.Count(p.Body, "<tr>") - 1; n != 1 || !strings.Contains(p.Body, `<option value="account.created" selected>`) {
		t.Errorf("account.created events: %d", n)
	}
	// Someone who left is a former member, not a name.
	if err := env.App.Team.RemoveMember(t.Context(), o.actor(), o.account, grace); err != nil {
		t.Fatal(err)
	}
	p = get(t, o.c, o.url("/audit?member="+grace.String()))
	wantIn(t, p, "Ancien membre", `<th scope="row">Membre retiré</th>`)
	if strings.Contains(p.Body, "Grace Hopper") {
		t.Error("a former member's name is shown")
	}

	english(t, env, o.c)
	p = get(t, o.c, o.url("/audit"))
	wantIn(t, p, "<h1>Audit log</h1>", `<th scope="row">Member removed</th>`, "Former member")

	// Only those with audit.view read it.
	col := env.AddMember(t, o.account, "colin@example.com", "collaborator", equipe.MemberActive)
	if p := get(t, as(env, col), o.url("/audit")); p.Status != 403 || !strings.Contains(p.Body, "View the audit log") {
		t.Errorf("collaborator reads the audit: %d", p.Status)
	}
}

func TestAuditPage_PagesBackInTime(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	for i := range 52 {
		o.added(t, team.NewMember{Email: fmt.Sprintf("m%02d@example.com", i), FirstName: "Membre", LastName: fmt.Sprintf("N%02d", i)})
	}
	p := get(t, o.c, o.url("/audit?action=member.added"))
	if n := strings.Count(p.Body, `<th scope="row">Membre ajouté</th>`); n != 50 {
		t.Fatalf("first page: %d", n)
	}
	next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(p.Body)
	if next == nil {
		t.Fatal("no older page")
	}
	u, _ := url.Parse(htmlUnescape(next[1]))
	if u.Query().Get("action") != "member.added" {
		t.Fatalf("the filter is lost: %s", next[1])
	}
	p = get(t, o.c, env.URL+u.String())
	if n := strings.Count(p.Body, `<th scope="row">Membre ajouté</th>`); n != 3 || strings.Contains(p.Body, `rel="next"`) {
		t.Fatalf("second page: %d", n)
	}
}

func TestSettingsPage_ChangesTheAccountAndRefusesBadValues(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	p := get(t, o.c, o.url("/settings"))
	if p.Status != 200 {
		t.Fatalf("settings: %d", p.Status)
	}
	wantIn(t, p, "<h1>Réglages du compte</h1>", `value="Analytical Engines"`, `<option value="fr" lang="fr" selected>`,
		`name="invitation_ttl" type="number" inputmode="numeric" min="1" max="720" value="7"`, `<option value="days" selected>jours</option>`,
		"Les membres doivent être activés", `<option value="" selected>Celui du service par défaut (UTC)</option>`,
		`<option value="Europe/Paris">Europe/Paris</option>`)
	if strings.Contains(p.Body, `name="requires_activation" type="checkbox" value="yes" checked`) {
		t.Error("activation is on by default")
	}
	// Whoever adds a member is told on creation and on joining, by default.
	wantIn(t, p, "E-mails à la personne qui ajoute un membre", `name="notify_adder" type="radio" value="both" checked`,
		"À la création de l&#39;accès", "Quand le compte est rejoint", "Jamais")

	f := url.Values{"name": {"Analytical Engines SA"}, "locale": {"en"}, "requires_activation": {"yes"}, "invitation_ttl": {"36"},
		"invitation_ttl_unit": {"hours"}, "notify_adder": {"on_creation"},
		"time_zone": {"Europe/Paris"}}
	p = post(t, o.c, o.url("/settings"), f)
	if p.Status != 303 || p.Header.Get("Location") != o.path("/settings?done=saved") {
		t.Fatalf("save: %d %s", p.Status, text(p.Body))
	}
	a, err := env.App.Team.Account(t.Context(), o.actor(), o.account)
	if err != nil || a.Name != "Analytical Engines SA" || a.Locale != "en" || !a.RequiresActivation || a.InvitationTTLHours != 36 ||
		a.NotifyAdder != equipe.NotifyOnCreation || a.TimeZone != "Europe/Paris" {
		t.Fatalf("account: %+v %v", a, err)
	}
	p = get(t, o.c, o.url("/settings?done=saved"))
	wantIn(t, p, "Réglages enregistrés.", `value="36"`, `<option value="hours" selected>heures</option>`, `value="yes" checked`,
		`name="notify_adder" type="radio" value="on_creation" checked`, `<option value="Europe/Paris" selected>Europe/Paris</option>`)

	// Bad values: each beside its field, nothing changed.
	// A number of days whose hours overflow is as bad as any other.
	for _, ttl := range [][2]string{{"31", "days"}, {"0", "hours"}, {"sept", "days"}, {"-2305843009213693950", "days"}} {
		f := url.Values{"name": {""}, "locale": {"de"}, "invitation_ttl": {ttl[0]}, "invitation_ttl_unit": {ttl[1]}, "notify_adder": {"sometimes"},
			"time_zone": {"Mars/Olympus_Mons"}}
		p = post(t, o.c, o.url("/settings"), f)
		if p.Status != 422 {
			t.Fatalf("%v: %d", ttl, p.Status)
		}
		wantIn(t, p, `<p class="error" id="e-notify_adder">`, `<p class="error" id="e-name">Ce champ est obligatoire.</p>`, `<p class="error" id="e-locale">Choisissez le français ou l&#39;anglais.</p>`,
			`<p class="error" id="e-invitation_ttl">Indiquez une durée entre 1 heure et 30 jours.</p>`,
			`<p class="error" id="e-time_zone">Choisissez un fuseau horaire de la liste (un nom IANA comme Europe/Paris).</p>`,
			`<li><a href="#f-time_zone">Fuseau horaire : choisissez un fuseau horaire`)
	}
	g := url.Values{"name": {"Analytical Engines SA"}, "locale": {"en"}, "invitation_ttl": {"36"}, "invitation_ttl_unit": {"hours"},
		"notify_adder": {"on_creation"}, "time_zone": {"Europe/Paris"}, "mfa_required": {"yes"}}
	for _, grace := range []string{"-1", "-2305843009213693950", "91"} {
		g.Set("mfa_grace", grace)
		g.Set("mfa_grace_unit", "days")
		if p = post(t, o.c, o.url("/settings"), g); p.Status != 422 || !strings.Contains(p.Body, `id="e-mfa_grace"`) {
			t.Errorf("grace of %s days: %d", grace, p.Status)
		}
	}
	if b, _ := env.App.Team.Account(t.Context(), o.actor(), o.account); b != a {
		t.Fatalf("refused settings changed the account: %+v", b)
	}
	english(t, env, o.c)
	wantIn(t, get(t, o.c, o.url("/settings")), "Emails to whoever adds a member", "When the access is created", "When they join", "Never")

	// A manager may not change the settings.
	mgr := as(env, env.AddMember(t, o.account, "maud@example.com", "manager", equipe.MemberActive))
	if p := get(t, mgr, o.url("/settings")); p.Status != 403 || !strings.Contains(p.Body, "Manage the account") {
		t.Errorf("manager's settings page: %d", p.Status)
	}
	if p := post(t, mgr, o.url("/settings"), f); p.Status != 403 {
		t.Errorf("manager saves settings: %d", p.Status)
	}
}

// TestSettingsPage_ADurationsProblemIsTiedToItsInput: the number of each
// duration is named for what it sets, and its problem (and hint) describe
// the input itself, not only the group around it.
func TestSettingsPage_ADurationsProblemIsTiedToItsInput(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	p := post(t, o.c, o.url("/settings"), url.Values{"name": {"Analytical Engines"}, "locale": {"fr"}, "invitation_ttl": {"-5"},
		"invitation_ttl_unit": {"days"}, "notify_adder": {"both"}, "time_zone": {""}, "mfa_required": {"yes"}, "mfa_grace": {"abc"},
		"mfa_grace_unit": {"days"}})
	if p.Status != 422 {
		t.Fatalf("bad durations: %d", p.Status)
	}
	for _, name := range []string{"invitation_ttl", "mfa_grace"} {
		input := regexp.MustCompile(`<input id="f-` + name + `"[^>]*>`).FindString(p.Body)
		if !strings.Contains(input, `aria-invalid="true"`) || !regexp.MustCompile(`aria-describedby="[^"]*\be-`+name+`\b`).MatchString(input) {
			t.Errorf("%s: the input is not described by its problem: %s", name, input)
		}
		wantIn(t, p, `<p class="error" id="e-`+name+`">`)
	}
	wantIn(t, p, `<label for="f-invitation_ttl" class="visually-hidden">Durée de validité des liens d&#39;invitation</label>`,
		`<label for="f-mfa_grace" class="visually-hidden">Délai pour configurer la double authentification</label>`,
		`<label for="f-mfa_grace_unit" class="visually-hidden">Unité du délai pour configurer la double authentification</label>`)
}

func TestTeamPages_AnotherAccountsAreNotFoundAndChangeNothing(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	a := signUpOwner(t, env, "ada@a.example")
	b := signUpOwner(t, env, "bob@b.example")
	victim := b.added(t, team.NewMember{Email: "vic@b.example", FirstName: "Vic", LastName: "Tim", SendInvitation: true})
	active := env.AddMember(t, b.account, "act@b.example", "guest", equipe.MemberActive).User.ID
	before := storetest.Counts(t, storetest.Raw(t, env.DB))

	m := "/members/" + victim.String()
	gets := []string{"/members", "/members/new", m + "/edit", m + "/invite", m + "/revoke-invitation", m + "/password-reset",
		m + "/suspend", "/members/" + active.String() + "/reactivate", m + "/remove", "/audit", "/settings"}
	for _, path := range gets {
		if p := get(t, a.c, b.url(path)); p.Status != 404 {
			t.Errorf("GET %s of another account: %d", path, p.Status)
		}
	}
	posts := map[string]url.Values{
		"/members/new":           memberPost("spy@a.example", "Spy", "Spy", "admin"),
		m + "/edit":              {"role": {"admin"}, "permissions_mode": {"role"}},
		m + "/invite":            nil,
		m + "/revoke-invitation": nil,
		m + "/password-reset":    nil,
		m + "/suspend":           nil,
		"/members/" + active.String() + "/reactivate": nil,
		m + "/remove": nil,
		"/settings":   {"name": {"Pwned"}, "locale": {"fr"}, "invitation_ttl": {"1"}, "invitation_ttl_unit": {"days"}},
		"/join":       nil,
	}
	for path, f := range posts {
		if p := post(t, a.c, b.url(path), f); p.Status != 404 {
			t.Errorf("POST %s of another account: %d", path, p.Status)
		}
	}
	// Sessions and throttles aside (logins and link look-ups count), nothing
	// was written: no member, no email queued, no audit event.
	after := storetest.Counts(t, storetest.Raw(t, env.DB))
	for _, table := range []string{"users", "members", "member_resources", "outbox", "audit_events", "tokens", "accounts"} {
		if after[table] != before[table] {
			t.Errorf("%s: %d → %d", table, before[table], after[table])
		}
	}
	if mm := b.member(t, victim); mm.Status != equipe.MemberInvited || mm.Role != "collaborator" {
		t.Fatalf("victim: %+v", mm)
	}
	// A's own team is as it was.
	if p := get(t, a.c, a.url("/members")); strings.Contains(p.Body, "Vic Tim") || strings.Contains(p.Body, "spy@a.example") {
		t.Fatal("B's member leaked into A's team")
	}
}

func TestTeamPages_NeedLoginAndConsent(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	m := "/members/" + o.user.ID.String()
	paths := []string{"/members", "/members/new", m + "/edit", m + "/suspend", "/audit", "/settings"}
	anon := env.Client()
	for _, path := range paths {
		p := get(t, anon, o.url(path))
		if p.Status != 303 || p.Header.Get("Location") != "/login?next="+url.QueryEscape("/accounts/"+o.account.String()+path) {
			t.Errorf("anonymous %s: %d %s", path, p.Status, p.Header.Get("Location"))
		}
	}
	for _, path := range []string{"/members/new", m + "/suspend", "/settings", "/join"} {
		if p := post(t, anon, o.url(path), nil); p.Status != 303 || !strings.HasPrefix(p.Header.Get("Location"), "/login") {
			t.Errorf("anonymous POST %s: %d", path, p.Status)
		}
	}
	c := env.Client()
	if p := post(t, c, env.URL+"/signup", signupForm("eve@example.com")); p.Status != 303 {
		t.Fatalf("sign-up: %d", p.Status)
	}
	accounts, err := env.App.Identity.Accounts(t.Context(), mustUserID(t, env, "eve@example.com"))
	if err != nil || len(accounts) != 1 {
		t.Fatal(accounts, err)
	}
	for _, path := range []string{"/members", "/audit", "/settings"} {
		full := "/accounts/" + accounts[0].Account.ID.String() + path
		if p := get(t, c, env.URL+full); p.Status != 303 || p.Header.Get("Location") != "/consent?next="+url.QueryEscape(full) {
			t.Errorf("before consent %s: %d %s", path, p.Status, p.Header.Get("Location"))
		}
	}
}
