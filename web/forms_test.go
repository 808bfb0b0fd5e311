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

// permissionBox returns the input of the permission picker's box for perm.
func permissionBox(t *testing.T, body, perm string) string {
	t.Helper()
	m := regexp.MustCompile(`<input id="f-permissions\.` + regexp.QuoteMeta(perm) + `"[^>]*>`).FindString(body)
	if m == "" {
		t.Fatalf("no box for %s", perm)
	}
	return m
}

// TestMemberForms_MarkWhatTheReaderCannotGrant: a manager is shown the
// roles and permissions beyond their own as unavailable, saying why, on the
// add and edit forms; the server still refuses them.
func TestMemberForms_MarkWhatTheReaderCannotGrant(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	if _, err := env.App.Team.CreateRole(t.Context(), o.actor(), o.account, team.RoleInput{Key: "compta", LabelFR: "Comptable",
		LabelEN: "Accountant", Grants: []equipe.Grant{{Permission: "members.view"}, {Permission: "billing.access"}}}); err != nil {
		t.Fatal(err)
	}
	manager := env.AddMember(t, o.account, "manon@example.com", "manager", equipe.MemberActive)
	mc := as(env, manager)
	get(t, mc, env.URL+"/login?lang=fr")
	colin := o.added(t, team.NewMember{Email: "colin@example.com", FirstName: "Colin", LastName: "Maillard"})

	for _, path := range []string{"/members/new", "/members/" + colin.String() + "/edit"} {
		p := get(t, mc, o.url(path))
		if p.Status != 200 {
			t.Fatalf("%s: %d", path, p.Status)
		}
		wantIn(t, p, `<option value="admin" disabled>Administrateur (réservé aux administrateurs)</option>`,
			`<option value="compta" disabled>Comptable (accorde plus que vos autorisations)</option>`,
			`<option value="manager">Manager</option>`,
			"Les rôles grisés accordent plus que ce que vous détenez : vous ne pouvez pas les donner.",
			"Vous ne détenez pas cette autorisation : vous ne pouvez pas l&#39;accorder.")
		for perm, unavailable := range map[string]bool{"billing.access": true, "account.manage": true, "api_keys.manage": true,
			"members.view": false, "members.manage": false, "records.export": false} {
			if box := permissionBox(t, p.Body, perm); strings.HasSuffix(box, " disabled>") != unavailable {
				t.Errorf("%s: %s unavailable: %v, want %v", path, box, !unavailable, unavailable)
			}
		}
	}
	// "Select all" ticks what the manager holds; the rest stays unavailable.
	p := post(t, mc, o.url("/members/new"), memberPost("dev@example.com", "Dev", "Eloper", "collaborator", "select", "all"))
	if box := permissionBox(t, p.Body, "billing.access"); strings.Contains(box, "checked") || !strings.HasSuffix(box, " disabled>") {
		t.Errorf("after selecting all: %s", box)
	}
	if box := permissionBox(t, p.Body, "records.export"); !strings.Contains(box, "checked") || strings.Contains(box, "disabled") {
		t.Errorf("after selecting all: %s", box)
	}

	// The server refuses them all the same, and writes nothing.
	before := storetest.Counts(t, storetest.Raw(t, env.DB))
	for _, f := range []url.Values{
		memberPost("dev@example.com", "Dev", "Eloper", "admin"),
		memberPost("dev@example.com", "Dev", "Eloper", "compta"),
		memberPost("dev@example.com", "Dev", "Eloper", "collaborator", "permissions_mode", "custom", "permissions", "billing.access"),
	} {
		if p := post(t, mc, o.url("/members/new"), f); p.Status != 403 || !strings.Contains(p.Body, `<p class="error" id="e-`) {
			t.Errorf("role %s, permissions %v: %d", f.Get("role"), f["permissions"], p.Status)
		}
	}
	if after := storetest.Counts(t, storetest.Raw(t, env.DB)); !sameCounts(before, after) {
		t.Fatal("a refused member was written")
	}

	// An administrator may grant everything: nothing is unavailable.
	p = get(t, o.c, o.url("/members/new"))
	if strings.Contains(p.Body, " disabled") {
		t.Error("an administrator is shown something unavailable")
	}
	wantIn(t, p, `<option value="admin">Administrateur</option>`, `<option value="compta">Comptable</option>`)
}

// TestClientsPage_AMissingStaffChoiceIsSaidBesideItsClient: assigning no
// one says so beside that client's select, which the summary links to.
func TestClientsPage_AMissingStaffChoiceIsSaidBesideItsClient(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	f := newFirm(t, env)
	client := f.clients[1].String()
	env.AddMember(t, f.account, "noe@cabinet.example", "manager", equipe.MemberActive)
	p := post(t, f.c, f.url("/clients/"+client+"/staff"), url.Values{"user": {""}})
	if p.Status != 422 {
		t.Fatalf("no one chosen: %d", p.Status)
	}
	wantIn(t, p, `<a href="#f-assign-`+client+`">Membre du cabinet à affecter à `, ` : choisissez le membre du cabinet à affecter.</a>`,
		`<select id="f-assign-`+client+`" name="user" aria-invalid="true" aria-describedby="e-assign-`+client+`" autofocus>`,
		`<p class="error" id="e-assign-`+client+`">Choisissez le membre du cabinet à affecter.</p>`)
	if n := strings.Count(p.Body, `aria-invalid="true"`); n != 1 {
		t.Errorf("%d selects marked invalid, want that client's only", n)
	}
	// Someone outside the firm: said there too.
	outsider := signUpOwner(t, env, "out@side.example")
	p = post(t, f.c, f.url("/clients/"+client+"/staff"), url.Values{"user": {outsider.user.ID.String()}})
	wantIn(t, p, `<p class="error" id="e-assign-`+client+`">Cette personne n&#39;est pas membre du cabinet.</p>`)
}

// TestAPIKeyForm_AsksForARoleWhenNoneIsChosen: a key without a role is
// asked for one; a role the account does not have is still said to be
// unknown.
func TestAPIKeyForm_AsksForARoleWhenNoneIsChosen(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	confirmEmail(t, env, "ada@example.com")
	p := post(t, o.c, o.url("/api-keys"), url.Values{"name": {"CRM"}, "role": {""}})
	if p.Status != 422 {
		t.Fatalf("no role: %d", p.Status)
	}
	wantIn(t, p, `<p class="error" id="e-role">Choisissez le rôle avec lequel la clé agira.</p>`, `value="CRM"`)
	if strings.Contains(p.Body, "n&#39;existe pas") {
		t.Error("an empty role is said not to exist")
	}
	english(t, env, o.c)
	wantIn(t, post(t, o.c, o.url("/api-keys"), url.Values{"name": {"CRM"}, "role": {""}}),
		`<p class="error" id="e-role">Choose the role the key will act with.</p>`)
	wantIn(t, post(t, o.c, o.url("/api-keys"), url.Values{"name": {"CRM"}, "role": {"nope"}}),
		`<p class="error" id="e-role">This role does not exist in this account.</p>`)
}

// TestAPIKeyForm_TheAPIPurposeIsNamedAsTheAPINamesIt: the form offers the
// purposes under the API's names, and a key for the API made with
// purpose=api is made, as the API makes it.
func TestAPIKeyForm_TheAPIPurposeIsNamedAsTheAPINamesIt(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	confirmEmail(t, env, "ada@example.com")
	wantIn(t, get(t, o.c, o.url("/api-keys")), `<option value="api"`, `<option value="scim"`)
	for _, purpose := range []string{"api", ""} {
		p := post(t, o.c, o.url("/api-keys"), url.Values{"name": {"CRM " + purpose}, "role": {"manager"}, "purpose": {purpose}})
		if p.Status != 201 {
			t.Errorf("purpose %q: %d %s", purpose, p.Status, text(p.Body))
		}
	}
	keys, _, err := env.App.Team.Keys(t.Context(), o.actor(), &o.account, equipe.Page{})
	if err != nil || len(keys) != 2 || keys[0].Purpose != equipe.KeyAPI || keys[1].Purpose != equipe.KeyAPI {
		t.Errorf("keys: %+v %v", keys, err)
	}
}
