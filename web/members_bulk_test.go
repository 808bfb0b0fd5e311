package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/team"
)

// hiddenUsers returns the members a confirmation page's form applies to.
func hiddenUsers(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<input type="hidden" name="user" value="([0-9a-f-]{36})">`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// inEnglish makes the client's pages English, as the language links do.
func inEnglish(t *testing.T, env *apptest.Env, c *http.Client) {
	u, _ := url.Parse(env.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "equipe_lang", Value: "en", Path: "/"}})
}

func TestBulkConfirmation_ListsWhoIsAffectedAndWhoIsSkippedWithWhyInBothLanguages(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	ann := env.AddMember(t, o.account, "ann@example.com", "collaborator", equipe.MemberActive)
	bob := env.AddMember(t, o.account, "bob@example.com", "guest", equipe.MemberActive)
	cy := env.AddMember(t, o.account, "cy@example.com", "collaborator", equipe.MemberSuspended)

	team := get(t, o.c, o.url("/members"))
	wantIn(t, team, `<form method="post" action="`+o.path("/members/bulk")+`" id="bulk"`,
		`<input type="checkbox" name="user" value="`+ann.User.ID.String()+`" form="bulk"`,
		`name="action" value="suspend"`, `name="action" value="reinvite"`, `<input type="checkbox" name="all" value="1">`)

	selection := url.Values{"action": {"suspend"}, "user": {ann.User.ID.String(), bob.User.ID.String(), cy.User.ID.String(), o.user.ID.String()}}
	for _, lang := range []string{"fr", "en"} {
		c := o.c
		if lang == "en" {
			c = env.Client()
			u, _ := url.Parse(env.URL)
			c.Jar.SetCookies(u, o.c.Jar.Cookies(u))
			inEnglish(t, env, c)
		}
		p := post(t, c, o.url("/members/bulk"), selection)
		if p.Status != 200 {
			t.Fatalf("%s: confirmation page: %d %s", lang, p.Status, p.Body)
		}
		body := html.UnescapeString(p.Body)
		want := map[string][]string{
			"fr": {"<h1>Suspendre des membres</h1>", "Concernés : 2", "Non traités, et pourquoi : 2",
				"Ce membre est déjà suspendu.", "Le compte doit garder au moins un administrateur actif", "Suspendre (2)"},
			"en": {"<h1>Suspend members</h1>", "Affected: 2", "Skipped, and why: 2", "This member is already suspended.",
				"The account must keep at least one active administrator", "Suspend (2)"},
		}[lang]
		for _, w := range append(want, "ann@example.com", "bob@example.com", "cy@example.com", "ada@example.com") {
			if !strings.Contains(body, w) {
				t.Errorf("%s: the confirmation lacks %q", lang, w)
			}
		}
		if got := hiddenUsers(p.Body); len(got) != 2 || got[0] == cy.User.ID.String() || got[1] == cy.User.ID.String() {
			t.Errorf("%s: the confirmation applies to %v, want ann and bob", lang, got)
		}
	}
	if st := o.member(t, ann.User.ID).Status; st != equipe.MemberActive {
		t.Fatalf("the confirmation page changed ann: %s", st)
	}

	p := post(t, o.c, o.url("/members/bulk"), selection)
	res := post(t, o.c, o.url("/members/bulk/apply"), url.Values{"action": {"suspend"}, "user": hiddenUsers(p.Body)})
	if res.Status != 200 {
		t.Fatalf("apply: %d", res.Status)
	}
	wantIn(t, res, "Suspensions faites : 2 ; non traitées : 0.", "<h1>Suspensions</h1>", "Faits : 2")
	for _, m := range []apptest.Member{ann, bob} {
		if st := o.member(t, m.User.ID).Status; st != equipe.MemberSuspended {
			t.Errorf("%s is %s after the bulk suspension", m.User.Email, st)
		}
	}
	// One done and none skipped read as well as two.
	res = post(t, o.c, o.url("/members/bulk/apply"), url.Values{"action": {"reactivate"}, "user": {ann.User.ID.String()}})
	wantIn(t, res, "Réactivations faites : 1 ; non traitées : 0.")
}

func TestBulkConfirmation_AllMatchingTheFilterIsResolvedOnTheServer(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	env.AddMember(t, o.account, "ann@example.com", "guest", equipe.MemberActive)
	env.AddMember(t, o.account, "bob@example.com", "guest", equipe.MemberActive)
	env.AddMember(t, o.account, "cy@example.com", "collaborator", equipe.MemberActive)

	// The page says how many "all matching" takes where its counts tell
	// (no filter, or one by status), and only then.
	wantIn(t, get(t, o.c, o.url("/members")), "Les 4 membres correspondant au filtre")
	env.AddMember(t, o.account, "sue@example.com", "guest", equipe.MemberSuspended)
	wantIn(t, get(t, o.c, o.url("/members?status=suspended")), "Le seul membre correspondant au filtre")
	p := get(t, o.c, o.url("/members?role=guest"))
	wantIn(t, p, `<input type="hidden" name="f_role" value="guest">`, "Tous les membres correspondant au filtre")
	wantNotIn(t, p, "Les 5 membres")
	p = post(t, o.c, o.url("/members/bulk"), url.Values{"action": {"change_role"}, "role": {"collaborator"}, "all": {"1"},
		"f_role": {"guest"}, "f_status": {"active"}})
	if p.Status != 200 {
		t.Fatalf("confirmation: %d", p.Status)
	}
	wantIn(t, p, "Concernés : 2", "ann@example.com", "bob@example.com", `<input type="hidden" name="role" value="collaborator">`)
	if strings.Contains(p.Body, "cy@example.com") {
		t.Error("a member the filter does not select is listed")
	}
}

func TestBulkConfirmation_AMalformedRequestIsExplainedAndChangesNothing(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	ann := env.AddMember(t, o.account, "ann@example.com", "guest", equipe.MemberActive)

	p := post(t, o.c, o.url("/members/bulk"), url.Values{"action": {"change_role"}, "user": {ann.User.ID.String()}})
	if p.Status != 422 {
		t.Fatalf("no role: %d", p.Status)
	}
	wantIn(t, p, `class="problems"`, `<a href="#f-role">Rôle à donner : choisissez le rôle à donner.</a>`,
		`<p class="error" id="e-role">Choisissez le rôle à donner.</p>`, `<select id="f-role" name="role" aria-invalid="true"`,
		`<input type="hidden" name="user" value="`+ann.User.ID.String()+`">`)

	p = post(t, o.c, o.url("/members/bulk"), url.Values{"action": {"suspend"}})
	if p.Status != 422 {
		t.Fatalf("no member: %d", p.Status)
	}
	wantIn(t, p, "Sélectionnez au moins un membre.")
	// The summary links only to what the page has: the action and the
	// members were chosen on the team page, and the title names no role
	// when none is chosen.
	for _, bad := range []url.Values{{"action": {"suspend"}}, {"action": {"fly"}, "user": {ann.User.ID.String()}},
		{"action": {"change_role"}, "user": {ann.User.ID.String()}}, {"action": {"change_role"}, "role": {"nope"}, "user": {ann.User.ID.String()}}} {
		p := post(t, o.c, o.url("/members/bulk"), bad)
		for _, m := range regexp.MustCompile(`href="#([^"]+)"`).FindAllStringSubmatch(p.Body, -1) {
			if !strings.Contains(p.Body, `id="`+m[1]+`"`) {
				t.Errorf("%v: the page links to #%s, which it lacks", bad, m[1])
			}
		}
		if bad.Get("action") == "change_role" {
			wantIn(t, p, "<h1>Donner un rôle à des membres</h1>")
		}
	}
	wantIn(t, post(t, o.c, o.url("/members/bulk"), url.Values{"action": {"fly"}, "user": {ann.User.ID.String()}}),
		"<li>Choisissez une des actions groupées.</li>")
	if m := o.member(t, ann.User.ID); m.Role != "guest" || m.Status != equipe.MemberActive {
		t.Errorf("a refused request changed the member: %+v", m)
	}
}

// TestBulkConfirmation_AllMatchingCarriesTheClientFilter: on a firm's team
// page filtered by a client company, "all matching" is offered and selects
// the staff assigned to it, as the page lists them; a company that is not
// one of the firm's clients is refused beside the filter.
func TestBulkConfirmation_AllMatchingCarriesTheClientFilter(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	c, err := env.App.Team.CreateClient(t.Context(), o.actor(), o.account, team.NewAccount{Name: "Boulangerie Martin", Locale: "fr"})
	if err != nil {
		t.Fatal(err)
	}
	sam := env.AddMember(t, o.account, "sam@example.com", "collaborator", equipe.MemberActive)
	if err := env.App.Team.AssignStaff(t.Context(), o.actor(), o.account, c.ID, sam.User.ID); err != nil {
		t.Fatal(err)
	}
	env.AddMember(t, o.account, "noe@example.com", "collaborator", equipe.MemberActive) // not assigned

	p := get(t, o.c, o.url("/members?client="+c.ID.String()))
	wantIn(t, p, `<input type="hidden" name="f_client" value="`+c.ID.String()+`">`, `<input type="checkbox" name="all" value="1">`)
	p = post(t, o.c, o.url("/members/bulk"), url.Values{"action": {"suspend"}, "all": {"1"}, "f_client": {c.ID.String()}})
	if p.Status != 200 {
		t.Fatalf("confirmation: %d %s", p.Status, text(p.Body))
	}
	wantIn(t, p, "Concernés : 1", "sam@example.com", `<input type="hidden" name="user" value="`+sam.User.ID.String()+`">`)
	wantNotIn(t, p, "noe@example.com", "ada@example.com")

	p = post(t, o.c, o.url("/members/bulk"), url.Values{"action": {"suspend"}, "all": {"1"}, "f_client": {equipe.NewID().String()}})
	if p.Status != 422 {
		t.Fatalf("another company: %d", p.Status)
	}
	wantIn(t, p, `class="problems"`, "<li>Cette entreprise ne fait pas partie des clients du cabinet auxquels vous avez accès.</li>")
}
