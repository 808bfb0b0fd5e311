package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

func resourcePost(typ, name, external string) url.Values {
	return url.Values{"type": {typ}, "name": {name}, "external_id": {external}}
}

func TestResourcesPage_ListsByTypeWithMembersArchivesAfterConfirmingAndRestores(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	p := get(t, o.c, o.url("/resources"))
	if p.Status != 200 {
		t.Fatalf("resources page: %d", p.Status)
	}
	// The first resource, made at sign-up, is there, under its type; the
	// page is a section of the account.
	wantIn(t, p, "<h1>Ressources</h1>", `aria-current="page">Ressources</a>`, `<h2 id="kind-location-title">Établissement`,
		"Analytical Engines", `href="`+o.path("/resources/new")+`"`)

	p = post(t, o.c, o.url("/resources/new"), resourcePost("location", " Agence Nord ", "crm-7"))
	if p.Status != 303 || !strings.HasPrefix(p.Header.Get("Location"), o.path("/resources?done=created&resource=")) {
		t.Fatalf("create: %d %s", p.Status, text(p.Body))
	}
	nord := idFrom(t, p.Header.Get("Location"), "resource")
	if n := notice(get(t, o.c, env.URL+p.Header.Get("Location"))); n != "Ressource « Agence Nord » ajoutée." {
		t.Errorf("notice %q", n)
	}
	// A member assigned to it is listed with it, linked to their page.
	user := o.added(t, team.NewMember{Email: "zoe@example.com", FirstName: "Zoé", LastName: "Zèle", Role: "guest",
		Resources: []equipe.ID{nord}})
	p = get(t, o.c, o.url("/resources"))
	row := between(p.Body, `<tr id="resource-`+nord.String()+`">`, "</tr>")
	for _, want := range []string{"Agence Nord", "Identifiant externe : crm-7", "1 membre", "Zoé Zèle",
		`href="` + o.path("/members/"+user.String()+"/permissions") + `"`, "Modifier", "Archiver"} {
		if !strings.Contains(row, want) {
			t.Errorf("row lacks %q: %s", want, text(row))
		}
	}

	// Renamed.
	edit := o.url("/resources/" + nord.String() + "/edit")
	wantIn(t, get(t, o.c, edit), "<h1>Modifier la ressource « Agence Nord »</h1>", `value="crm-7"`)
	if p = post(t, o.c, edit, url.Values{"name": {"Agence Nord-Ouest"}, "external_id": {""}}); p.Status != 303 {
		t.Fatalf("rename: %d %s", p.Status, text(p.Body))
	}

	// Archived after confirming; the confirmation changes nothing and says
	// who stays assigned.
	archive := o.url("/resources/" + nord.String() + "/archive")
	before := storetest.Counts(t, storetest.Raw(t, env.DB))
	p = get(t, o.c, archive)
	wantIn(t, p, "<h1>Archiver la ressource « Agence Nord-Ouest » ?</h1>", "1 membre y est affecté et le restera",
		"Zoé Zèle", `<button type="submit" class="danger">Archiver la ressource</button>`)
	if after := storetest.Counts(t, storetest.Raw(t, env.DB)); !sameCounts(before, after) {
		t.Fatal("the confirmation page changed something")
	}
	p = post(t, o.c, archive, nil)
	if p.Status != 303 || notice(get(t, o.c, env.URL+p.Header.Get("Location"))) != "Ressource « Agence Nord-Ouest » archivée." {
		t.Fatalf("archive: %d", p.Status)
	}
	p = get(t, o.c, o.url("/resources"))
	archived := between(p.Body, `<h2 id="archived-title">`, "</section>")
	for _, want := range []string{"Ressources archivées", "Agence Nord-Ouest", "Ressource archivée", "Établissement", "Zoé Zèle", "Restaurer"} {
		if !strings.Contains(archived, want) {
			t.Errorf("the archived resources lack %q: %s", want, text(archived))
		}
	}
	if strings.Contains(between(p.Body, `<h2 id="kind-location-title">`, "</section>"), "Agence Nord-Ouest") {
		t.Error("an archived resource is listed among those in use")
	}
	// Filtered: only those in use, or only the archived ones.
	if p = get(t, o.c, o.url("/resources?state=active")); strings.Contains(p.Body, "Agence Nord-Ouest") {
		t.Error("state=active shows an archived resource")
	}
	if p = get(t, o.c, o.url("/resources?state=archived&type=location")); !strings.Contains(p.Body, "Agence Nord-Ouest") ||
		strings.Contains(p.Body, `<tr id="resource-`) && strings.Count(p.Body, `<tr id="resource-`) != 1 {
		t.Errorf("state=archived: %s", text(between(p.Body, "<h1>", "</main>")))
	}
	// The member keeps it, shown as archived on their form and their page;
	// the add form does not offer it.
	p = get(t, o.c, o.url("/members/"+user.String()+"/edit"))
	wantIn(t, p, `value="`+nord.String()+`" checked>`, `Agence Nord-Ouest <span class="tag archived">Ressource archivée</span>`)
	if p = get(t, o.c, o.url("/members/new")); strings.Contains(p.Body, nord.String()) {
		t.Error("the add form offers an archived resource")
	}
	wantIn(t, get(t, o.c, o.url("/members/"+user.String()+"/permissions")), "Agence Nord-Ouest (ressource archivée)")
	// Posting it anyway for a new member is refused beside the field.
	p = post(t, o.c, o.url("/members/new"), memberPost("max@example.com", "Max", "Neuf", "guest", "resources", nord.String()))
	if p.Status != 422 || !strings.Contains(p.Body, `id="e-resources"`) || !strings.Contains(p.Body, "Cette ressource est archivée") {
		t.Errorf("an archived resource for a new member: %d %s", p.Status, text(between(p.Body, `id="e-resources"`, "</p>")))
	}

	// Restored from the list.
	p = post(t, o.c, o.url("/resources/"+nord.String()+"/restore"), nil)
	if p.Status != 303 || notice(get(t, o.c, env.URL+p.Header.Get("Location"))) != "Ressource « Agence Nord-Ouest » restaurée." {
		t.Fatalf("restore: %d", p.Status)
	}
	if p = get(t, o.c, o.url("/resources")); strings.Contains(p.Body, `id="archived-title"`) {
		t.Error("a restored resource is still listed as archived")
	}

	// The audit log names each change, in both languages.
	p = get(t, o.c, o.url("/audit"))
	for _, want := range []string{"Ressource créée", "Ressource modifiée", "Ressource archivée", "Ressource restaurée"} {
		wantIn(t, p, want)
	}
	english(t, env, o.c)
	p = get(t, o.c, o.url("/audit"))
	for _, want := range []string{"Resource created", "Resource changed", "Resource archived", "Resource restored", "Archived"} {
		wantIn(t, p, want)
	}
	p = get(t, o.c, o.url("/resources"))
	wantIn(t, p, "<h1>Resources</h1>", "Agence Nord-Ouest", "1 member")
}

func TestResourceForm_ShowsEachProblemBesideItsFieldAndWritesNothing(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	if p := post(t, o.c, o.url("/resources/new"), resourcePost("location", "Agence Nord", "")); p.Status != 303 {
		t.Fatalf("create: %d", p.Status)
	}
	before := storetest.Counts(t, storetest.Raw(t, env.DB))
	for _, c := range []struct {
		name   string
		form   url.Values
		status int
		field  string
		label  string // as the summary at the top names the field
		msg    string
	}{
		{"no name", resourcePost("location", " ", ""), 422, "name", "Nom", "Ce champ est obligatoire."},
		{"a name taken", resourcePost("location", "AGENCE nord", ""), 409, "name", "Nom", "Une ressource de ce type porte déjà ce nom"},
		{"an unknown type", resourcePost("planet", "Mars", ""), 422, "type", "Type", "Ce type n'existe pas."},
		{"an external ID too long", resourcePost("location", "Sud", strings.Repeat("x", 201)), 422, "external_id", "Identifiant externe", "200"},
	} {
		p := post(t, o.c, o.url("/resources/new"), c.form)
		if p.Status != c.status {
			t.Errorf("%s: status %d", c.name, p.Status)
			continue
		}
		got := text(between(p.Body, `<p class="error" id="e-`+c.field+`">`, "</p>"))
		if !strings.Contains(got, c.msg) {
			t.Errorf("%s: %s says %q, want %q", c.name, c.field, got, c.msg)
		}
		wantIn(t, p, `href="#f-`+c.field+`">`+c.label+" : ")
	}
	if after := storetest.Counts(t, storetest.Raw(t, env.DB)); !sameCounts(before, after) {
		t.Fatal("a refused resource was written")
	}
}

func TestResources_ReadOnlyForThoseWhoDoNotManageThem(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	p := post(t, o.c, o.url("/resources/new"), resourcePost("service", "Comptabilité", ""))
	id := idFrom(t, p.Header.Get("Location"), "resource")
	guest := as(env, env.AddMember(t, o.account, "gus@example.com", "guest", equipe.MemberActive))
	p = get(t, guest, o.url("/resources"))
	if p.Status != 200 || !strings.Contains(p.Body, "Comptabilité") {
		t.Fatalf("a guest reads the resources: %d", p.Status)
	}
	for _, no := range []string{"/resources/new", "/edit", "/archive", "/restore"} {
		if strings.Contains(p.Body, no) {
			t.Errorf("a guest is offered %s", no)
		}
	}
	before := storetest.Counts(t, storetest.Raw(t, env.DB))
	for _, path := range []string{"/resources/new", "/resources/" + id.String() + "/edit", "/resources/" + id.String() + "/archive"} {
		if p := get(t, guest, o.url(path)); p.Status != 403 {
			t.Errorf("GET %s by a guest: %d", path, p.Status)
		}
		if p := post(t, guest, o.url(path), resourcePost("service", "X", "")); p.Status != 403 {
			t.Errorf("POST %s by a guest: %d", path, p.Status)
		}
	}
	if after := storetest.Counts(t, storetest.Raw(t, env.DB)); !sameCounts(before, after) {
		t.Fatal("a guest changed something")
	}
}
