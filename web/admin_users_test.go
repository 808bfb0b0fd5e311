package web_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// TestAdminUsers_FindAPersonSeeThemAndEndTheirSessionsAfterConfirming: an
// instance administrator finds a person from the home page, sees their
// accounts, sessions and second factors, and ends every session of theirs
// after a confirmation; to anyone else the pages do not exist.
func TestAdminUsers_FindAPersonSeeThemAndEndTheirSessionsAfterConfirming(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			o := signUpOwner(t, env, "ada@example.com")
			colin := env.AddMember(t, o.account, "colin@example.com", "collaborator", equipe.MemberActive)
			userPage := env.URL + "/admin/users/" + colin.User.ID.String()

			// An account's owner: no link, no pages.
			if p := get(t, o.c, env.URL+"/"); strings.Contains(p.Body, "/admin/users") {
				t.Error("the home page links an account owner to the people of the instance")
			}
			for _, p := range []page{get(t, o.c, env.URL+"/admin/users"), get(t, o.c, userPage),
				get(t, o.c, userPage+"/end-sessions"), post(t, o.c, userPage+"/end-sessions", nil)} {
				if p.Status != 404 {
					t.Errorf("an account owner on the people pages: %d", p.Status)
				}
			}
			if p := get(t, as(env, colin), env.URL+"/"); p.Status != 200 {
				t.Fatalf("colin's session ended by a refused request: %d", p.Status)
			}

			c, _ := supportLogsIn(t, env)
			wantIn(t, get(t, c, env.URL+"/"), `<a href="/admin/users">Personnes</a>`)

			list := get(t, c, env.URL+"/admin/users?q=COLIN")
			wantIn(t, list, `href="/admin/users/`+colin.User.ID.String()+`"`, "colin@example.com")
			if strings.Contains(list.Body, "ada@example.com") {
				t.Error("the search shows someone it does not match")
			}
			wantIn(t, get(t, c, env.URL+"/admin/users?q=zzz"), "Personne ne correspond à cette recherche.")

			if strings.Contains(get(t, c, userPage).Body, `id="user-external-id"`) {
				t.Error("an external ID shown for a person who has none")
			}
			if _, err := env.App.Team.SetUserExternalID(t.Context(), team.Actor{Key: &equipe.APIKey{ID: equipe.NewID()}}, colin.User.ID, "u-9"); err != nil {
				t.Fatal(err)
			}
			p := get(t, c, userPage)
			if p.Status != 200 {
				t.Fatalf("the person's page: %d", p.Status)
			}
			wantIn(t, p, `<dt>Identifiant externe</dt>`, `<dd id="user-external-id">u-9</dd>`)
			wantIn(t, p, "colin@example.com", "Analytical Engines", "Collaborateur", `id="user-sessions">1 session<`,
				`id="user-factors">Aucun<`, `href="/admin/users/`+colin.User.ID.String()+`/end-sessions"`)

			confirm := get(t, c, userPage+"/end-sessions")
			wantIn(t, confirm, "Fermer toutes les sessions de Test colin ?", "a 1 session ouverte", `<form method="post"`)
			done := post(t, c, userPage+"/end-sessions", nil)
			if done.Status != 303 || done.Header.Get("Location") != "/admin/users/"+colin.User.ID.String()+"?done=sessions_ended" {
				t.Fatalf("end the sessions: %d %s", done.Status, done.Header.Get("Location"))
			}
			wantIn(t, get(t, c, env.URL+done.Header.Get("Location")), "Toutes les sessions de cette personne sont fermées.",
				`id="user-sessions">0 session<`)
			if p := get(t, as(env, colin), env.URL+"/"); p.Status != 303 || !strings.HasPrefix(p.Header.Get("Location"), "/login") {
				t.Errorf("colin's ended session: %d %s", p.Status, p.Header.Get("Location"))
			}
			if p := get(t, c, env.URL+"/admin/users/"+equipe.NewID().String()); p.Status != 404 {
				t.Errorf("an unknown person: %d", p.Status)
			}
			if p := get(t, c, env.URL+"/admin/users/nope"); p.Status != 404 {
				t.Errorf("not an ID: %d", p.Status)
			}
		})
	}
}

// TestAdminUsers_DisableAnIdentityAfterConfirmingThenEnableIt: an instance
// administrator disables a person's identity after a confirmation (their
// session ends, their login is refused) and enables it again; the page
// offers only what applies (nobody's own identity); to an account's owner
// the pages do not exist.
func TestAdminUsers_DisableAnIdentityAfterConfirmingThenEnableIt(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			o := signUpOwner(t, env, "ada@example.com")
			colin := env.AddMember(t, o.account, "colin@example.com", "collaborator", equipe.MemberActive)
			userPage := env.URL + "/admin/users/" + colin.User.ID.String()
			for _, p := range []page{get(t, o.c, userPage+"/disable"), post(t, o.c, userPage+"/disable", nil), post(t, o.c, userPage+"/enable", nil)} {
				if p.Status != 404 {
					t.Errorf("an account owner disabling: %d", p.Status)
				}
			}
			c, support := supportLogsIn(t, env)

			own := env.URL + "/admin/users/" + support.ID.String()
			if p := get(t, c, own); p.Status != 200 || strings.Contains(p.Body, "/disable\"") || strings.Contains(p.Body, "/enable\"") {
				t.Errorf("one's own page offers to disable or enable: %d", p.Status)
			}
			wantIn(t, get(t, c, own+"/disable"), "Vous ne pouvez pas désactiver votre propre identité")

			p := get(t, c, userPage)
			wantIn(t, p, `href="/admin/users/`+colin.User.ID.String()+`/disable"`, "Désactiver l’identité")
			if strings.Contains(p.Body, "/enable\"") {
				t.Error("an enabled identity offered to be enabled")
			}
			if p := get(t, c, userPage+"/enable"); p.Status != 404 {
				t.Errorf("enabling an enabled identity: %d", p.Status)
			}
			wantIn(t, get(t, c, userPage+"/disable"), "Désactiver l’identité de Test colin ?", "ne pourra plus se connecter", `<form method="post"`)
			done := post(t, c, userPage+"/disable", nil)
			if done.Status != 303 || done.Header.Get("Location") != "/admin/users/"+colin.User.ID.String()+"?done=disabled" {
				t.Fatalf("disable: %d %s", done.Status, done.Header.Get("Location"))
			}
			p = get(t, c, env.URL+done.Header.Get("Location"))
			wantIn(t, p, "Cette identité est désactivée : ses sessions ont pris fin.", `id="user-sessions">0 session<`,
				`href="/admin/users/`+colin.User.ID.String()+`/enable"`, "<dt>Désactivée</dt>")
			if strings.Contains(p.Body, "/disable\"") {
				t.Error("a disabled identity offered to be disabled")
			}
			// The account's team page says so beside the member's status,
			// and of nobody else.
			teamPage := get(t, o.c, env.URL+"/accounts/"+o.account.String()+"/members")
			wantIn(t, teamPage, `<span class="meta user-disabled">Identité désactivée par les administrateurs du service : ne peut plus se connecter</span>`)
			if n := strings.Count(teamPage.Body, "user-disabled"); n != 1 {
				t.Errorf("%d members said disabled on the team page, want 1", n)
			}
			if p := get(t, as(env, colin), env.URL+"/"); p.Status != 303 || !strings.HasPrefix(p.Header.Get("Location"), "/login") {
				t.Errorf("colin's session: %d %s", p.Status, p.Header.Get("Location"))
			}
			cc := env.Client()
			post(t, cc, env.URL+"/login", url.Values{"email": {"colin@example.com"}, "password": {apptest.TestPassword}})
			if p := get(t, cc, env.URL+"/"); p.Status != 303 || !strings.HasPrefix(p.Header.Get("Location"), "/login") {
				t.Errorf("colin logs in while disabled: %d %s", p.Status, p.Header.Get("Location"))
			}

			wantIn(t, get(t, c, userPage+"/enable"), "Réactiver l’identité de Test colin ?")
			done = post(t, c, userPage+"/enable", nil)
			if done.Status != 303 || done.Header.Get("Location") != "/admin/users/"+colin.User.ID.String()+"?done=enabled" {
				t.Fatalf("enable: %d %s", done.Status, done.Header.Get("Location"))
			}
			wantIn(t, get(t, c, env.URL+done.Header.Get("Location")), "Cette identité est de nouveau active.")
			if p := get(t, o.c, env.URL+"/accounts/"+o.account.String()+"/members"); p.Status != 200 || strings.Contains(p.Body, "user-disabled") {
				t.Errorf("the team page once enabled: %d, still said disabled: %v", p.Status, strings.Contains(p.Body, "user-disabled"))
			}
			post(t, cc, env.URL+"/login", url.Values{"email": {"colin@example.com"}, "password": {apptest.TestPassword}})
			if p := get(t, cc, env.URL+"/"); p.Status == 303 && strings.HasPrefix(p.Header.Get("Location"), "/login") {
				t.Errorf("colin cannot log in once enabled: %d %s", p.Status, p.Header.Get("Location"))
			}
		})
	}
}

// TestAdminUsers_PagesThroughEveryone: the list runs by email, a page at a
// time, and keeps the search across pages.
func TestAdminUsers_PagesThroughEveryone(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	for i := range 55 {
		env.AddMember(t, o.account, "m"+string(rune('a'+i/26))+string(rune('a'+i%26))+"@example.com", "guest", equipe.MemberCreated)
	}
	c, _ := supportLogsIn(t, env)
	first := get(t, c, env.URL+"/admin/users?q=%40example.com")
	next := regexp.MustCompile(`href="(/admin/users\?after=[^"]+)" rel="next"`).FindStringSubmatch(strings.ReplaceAll(first.Body, "&amp;", "&"))
	if next == nil {
		t.Fatalf("no next page: %s", first.Body)
	}
	if !strings.Contains(next[1], "q=%40example.com") {
		t.Errorf("the next page forgets the search: %s", next[1])
	}
	second := get(t, c, env.URL+next[1])
	people := regexp.MustCompile(`<td>[^<]+@example\.com</td>`)
	if n1, n2 := len(people.FindAllString(first.Body, -1)), len(people.FindAllString(second.Body, -1)); n1 != 50 || n2 != 6 {
		t.Fatalf("pages of %d and %d people, want 50 and 6", n1, n2)
	}
	if strings.Contains(second.Body, `rel="next"`) || !strings.Contains(second.Body, `href="/admin/users?q=%40example.com"`) {
		t.Error("the last page's links")
	}
	if strings.Contains(first.Body, "support@vendor.example") {
		t.Error("the search shows someone it does not match")
	}
}

// TestAdminUsers_APersonWithoutNamesGoesByTheirEmail: someone an account
// added by email alone, who has chosen neither names nor a language yet, is
// named by their email on the list, on their page and on the confirmations,
// their language reads as not chosen, and the pages about their data are
// titled about a person, not about the reader.
func TestAdminUsers_APersonWithoutNamesGoesByTheirEmail(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	if p := post(t, o.c, o.url("/members/new"), memberPost("nameless@example.com", "", "", "collaborator", "send_invitation", "")); p.Status != 303 {
		t.Fatalf("add a member by email alone: %d", p.Status)
	}
	id := mustUserID(t, env, "nameless@example.com").String()
	c, _ := supportLogsIn(t, env)

	wantIn(t, get(t, c, env.URL+"/admin/users?q=nameless"), `<a href="/admin/users/`+id+`">nameless@example.com</a>`)
	p := get(t, c, env.URL+"/admin/users/"+id)
	wantIn(t, p, `<h1>nameless@example.com</h1>`, `<dt>Langue</dt>
  <dd>Pas encore choisie</dd>`)
	wantNotIn(t, p, "admin_users.language_")
	wantIn(t, get(t, c, env.URL+"/admin/users/"+id+"/disable"), "<h1>Désactiver l’identité de nameless@example.com ?</h1>")
	wantIn(t, get(t, c, env.URL+"/admin/users/"+id+"/end-sessions"), "<h1>Fermer toutes les sessions de nameless@example.com ?</h1>")
	wantIn(t, get(t, c, env.URL+"/admin/users/"+id+"/export"), "<title>Les données d’une personne ·")
	wantIn(t, get(t, c, env.URL+"/admin/users/"+id+"/delete"), "<title>Supprimer l’identité d’une personne ·")
	// Named once, by the address, where someone with names is named with it.
	for _, page := range []string{"/disable", "/end-sessions", "/export", "/delete"} {
		if p := get(t, c, env.URL+"/admin/users/"+id+page); strings.Contains(p.Body, "nameless@example.com (nameless@example.com)") {
			t.Errorf("%s names the address twice: %s", page, text(p.Body))
		}
	}
	wantIn(t, get(t, c, env.URL+"/admin/users/"+mustUserID(t, env, "ada@example.com").String()+"/disable"), "Ada Lovelace (ada@example.com)")
	// One's own pages keep their titles.
	// The way to deletion is a button in the danger colours (white on red),
	// not red text on the primary colour (a contrast of about 1.5:1).
	wantIn(t, get(t, o.c, env.URL+"/me/data"), "<title>Mes données ·")
	wantIn(t, get(t, c, env.URL+"/admin/users/"+id+"/export"), `<a class="button danger" href="/admin/users/`+id+`/delete">`)
}

// TestAdminUser_NamesACustomRoleAsTheAccountDoes: a person's page names
// their role in each account by its name there, a custom role's included,
// not by its key.
func TestAdminUser_NamesACustomRoleAsTheAccountDoes(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	owner, err := env.App.DB.UserByEmailKey(t.Context(), "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Team.CreateRole(t.Context(), team.Actor{User: &owner}, o.account, team.RoleInput{Key: "comptabilite_generale",
		LabelFR: "Comptabilité générale", LabelEN: "Bookkeeper", Grants: []equipe.Grant{{Permission: "members.view"}}}); err != nil {
		t.Fatal(err)
	}
	dora := env.AddMember(t, o.account, "dora@example.com", "comptabilite_generale", equipe.MemberActive)
	c, _ := supportLogsIn(t, env)
	p := get(t, c, env.URL+"/admin/users/"+dora.User.ID.String())
	wantIn(t, p, "Comptabilité générale")
	if strings.Contains(p.Body, "comptabilite_generale") {
		t.Error("the page names the role by its key")
	}
}
