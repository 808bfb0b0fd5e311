package web_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// memberPost is the add form as a browser sends it: every scope select comes
// with the form.
func memberPost(email, first, last, role string, extra ...string) url.Values {
	f := url.Values{"email": {email}, "first_name": {first}, "last_name": {last}, "role": {role}, "permissions_mode": {"role"},
		"scope.records.view": {"all"}, "scope.records.edit": {"owned_or_unassigned"}, "title": {""}, "notification_email": {""},
		"locale": {""}, "send_invitation": {"yes"}}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i] == "permissions" || extra[i] == "resources" {
			f.Add(extra[i], extra[i+1])
			continue
		}
		f.Set(extra[i], extra[i+1])
	}
	return f
}

func TestAddMemberForm_OffersEveryFieldOfTheSeeds(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	addResource(t, env, o.account, "product", "Sales Hub")
	addResource(t, env, o.account, "location", "Boutique du port")

	p := get(t, o.c, o.url("/members/new"))
	if p.Status != 200 {
		t.Fatalf("add form: %d", p.Status)
	}
	wantIn(t, p, "<h1>Ajouter un membre</h1>", `<label for="f-email">Adresse e-mail de connexion</label>`,
		`<option value="collaborator">Collaborateur</option>`, `<summary>Autorisations avancées</summary>`,
		`name="permissions_mode" type="radio" value="role" checked`, `name="select" value="all">Sélectionner tout</button>`,
		`<legend>Produit <span class="tag">obligatoire</span></legend>`, "Chaque membre doit avoir accès à au moins un produit du compte.",
		`<datalist id="job-titles">`, `<option value="Chef d&#39;entreprise"></option>`, `<option value="Président"></option>`,
		`name="send_invitation" type="checkbox" value="yes" checked`, "Envoyer l&#39;invitation maintenant",
		`name="send_welcome" type="checkbox" value="yes" aria-describedby`, `<label for="f-notification_email">`)
	if strings.Contains(p.Body, `name="permissions" type="checkbox" value="members.view" checked`) {
		t.Error("the picker starts with boxes ticked")
	}

	// An account that activates its members words the choice so, unticked.
	yes := true
	if _, err := env.App.Team.UpdateAccount(t.Context(), o.actor(), o.account, team.AccountChange{RequiresActivation: &yes}); err != nil {
		t.Fatal(err)
	}
	p = get(t, o.c, o.url("/members/new"))
	wantIn(t, p, "Envoyer l&#39;e-mail d&#39;activation", `name="send_invitation" type="checkbox" value="yes" aria-describedby`)

	english(t, env, o.c)
	p = get(t, o.c, o.url("/members/new"))
	wantIn(t, p, "<h1>Add a member</h1>", "Login email", "Send the activation email", "Advanced permissions", `<option value="Business owner"></option>`)
}

func TestAddMemberForm_ShowsProblemsBesideTheirFieldsAndWritesNothing(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	product := addResource(t, env, o.account, "product", "Sales Hub")
	before := storetest.Counts(t, storetest.Raw(t, env.DB))

	p := post(t, o.c, o.url("/members/new"), memberPost("grace@exаmple.com", "<b>Grace</b>", "", "", "title", "<CEO>",
		"notification_email", "nope"))
	if p.Status != 422 {
		t.Fatalf("bad form: %d %s", p.Status, text(p.Body))
	}
	wantIn(t, p, `role="alert"`, `href="#f-email"`, `id="e-email"`, `<p class="error" id="e-first_name">Les signes &lt; et &gt; ne sont pas acceptés dans un nom.</p>`,
		`<p class="error" id="e-role">Choisissez un rôle.</p>`,
		`<p class="error" id="e-title">`, `<p class="error" id="e-notification_email">`,
		`value="&lt;b&gt;Grace&lt;/b&gt;"`, `aria-invalid="true" autofocus`)
	if !strings.Contains(p.Body, `id="f-email" name="email" type="email" value="grace@exаmple.com"`) {
		t.Error("the email typed is not shown again")
	}
	if strings.Contains(p.Body, `id="e-last_name"`) {
		t.Error("a last name left empty is refused: only the email is required")
	}
	if after := storetest.Counts(t, storetest.Raw(t, env.DB)); !sameCounts(before, after) {
		t.Fatalf("a refused form wrote: %v → %v", before, after)
	}

	// A required resource type (products, in the default catalogue) must be
	// chosen.
	p = post(t, o.c, o.url("/members/new"), memberPost("grace@example.com", "Grace", "Hopper", "collaborator"))
	if p.Status != 409 || !strings.Contains(p.Body, "Choisissez au moins une ressource de ce type : Produit.") {
		t.Fatalf("no product: %d %s", p.Status, text(p.Body))
	}
	// A manager may not make an administrator.
	mgr := as(env, env.AddMember(t, o.account, "maud@example.com", "manager", equipe.MemberActive))
	p = post(t, mgr, o.url("/members/new"), memberPost("boss@example.com", "Big", "Boss", "admin", "resources", product.ID.String()))
	if p.Status != 403 || !strings.Contains(p.Body, `<p class="error" id="e-role">Only an administrator can give the administrator role.</p>`) {
		t.Fatalf("manager adds an admin: %d %s", p.Status, text(p.Body))
	}
	// Nor grant, through the picker, what they do not hold.
	p = post(t, mgr, o.url("/members/new"), memberPost("dev@example.com", "Dev", "Eloper", "guest", "resources", product.ID.String(),
		"permissions_mode", "custom", "permissions", "billing.access", "permissions", "members.view"))
	if p.Status != 403 || !strings.Contains(p.Body, `id="e-permissions"`) || !strings.Contains(p.Body, "Access billing") {
		t.Fatalf("manager grants billing: %d %s", p.Status, text(p.Body))
	}
	if env.Mails("dev@example.com", "invitation")+env.Mails("boss@example.com", "invitation") != 0 {
		t.Fatal("a refused member was invited")
	}

	// Someone already a member: 409, with a link to them.
	p = post(t, o.c, o.url("/members/new"), memberPost("ADA@example.com", "Ada", "Again", "guest", "resources", product.ID.String()))
	if p.Status != 409 || !strings.Contains(p.Body, "Cette personne est déjà membre du compte.") ||
		!strings.Contains(p.Body, `href="`+o.path("/members?q=ADA%40example.com")+`"`) {
		t.Fatalf("existing member: %d %s", p.Status, text(p.Body))
	}
}

func TestAddMemberForm_AddsInvitesAndKeepsOnlyTheDifferencesFromTheRole(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	shop := addResource(t, env, o.account, "location", "Boutique du port")

	// "Sélectionner tout" comes back with every box the reader may grant
	// ticked, and writes nothing.
	f := memberPost("dev@example.com", "Dev", "Eloper", "guest", "select", "all")
	p := post(t, o.c, o.url("/members/new"), f)
	if p.Status != 200 {
		t.Fatalf("select all: %d", p.Status)
	}
	for _, perm := range env.App.Catalogue.Permissions {
		if !strings.Contains(p.Body, `value="`+perm.Key+`" checked`) {
			t.Errorf("select all left %s unticked", perm.Key)
		}
	}
	wantIn(t, p, `value="custom" checked`, `<details class="advanced" open>`, `value="dev@example.com"`)
	if env.Mails("dev@example.com", "invitation") != 0 {
		t.Fatal("selecting sent an invitation")
	}

	// Picked permissions (no billing for a developer), a scope narrowed, the
	// job title and the resource.
	f = memberPost("dev@example.com", "Dev", "Eloper", "guest", "permissions_mode", "custom", "title", "Développeur",
		"resources", shop.ID.String(), "send_welcome", "yes", "notification_email", "agence@example.com",
		"permissions", "members.view", "permissions", "records.view", "scope.records.view", "owned",
		"permissions", "records.export")
	p = post(t, o.c, o.url("/members/new"), f)
	if p.Status != 303 {
		t.Fatalf("add: %d %s", p.Status, text(p.Body))
	}
	dev := mustUserID(t, env, "dev@example.com")
	if want := o.path("/members?done=invited&user=" + dev.String()); p.Header.Get("Location") != want {
		t.Fatalf("after adding: %s", p.Header.Get("Location"))
	}
	m := o.member(t, dev)
	want := []equipe.Override{{Permission: "records.view", Allow: true, Scope: "owned"}, {Permission: "records.export", Allow: true}}
	if !slices.Equal(m.Overrides, want) || m.Title != "Développeur" || m.Status != equipe.MemberInvited || m.Role != "guest" {
		t.Fatalf("stored member: %+v", m)
	}
	env.Mail(t, "dev@example.com", "invitation")
	env.Mail(t, "agence@example.com", "welcome")
	p = get(t, o.c, env.URL+p.Header.Get("Location"))
	if n := notice(p); n != "Invitation envoyée à Dev Eloper." {
		t.Fatalf("notice %q", n)
	}

	// Added without an invitation: created, to invite later.
	f = memberPost("later@example.com", "{{.Link}}", "%s%n", "collaborator", "send_invitation", "")
	f.Del("send_invitation")
	p = post(t, o.c, o.url("/members/new"), f)
	later := mustUserID(t, env, "later@example.com")
	if p.Status != 303 || o.member(t, later).Status != equipe.MemberCreated || env.Mails("later@example.com", "invitation") != 0 {
		t.Fatalf("add without invitation: %d", p.Status)
	}
	p = get(t, o.c, env.URL+p.Header.Get("Location"))
	// Template syntax and format verbs are only characters.
	if n := notice(p); n != "{{.Link}} %s%n fait désormais partie de l'équipe, sans e-mail pour l'instant : vous pourrez l'inviter plus tard (➕ Inviter)." {
		t.Fatalf("notice %q", n)
	}
	wantIn(t, p, `class="member-name">{{.Link}} %s%n</a>`)
	c := get(t, o.c, o.url("/members/"+later.String()+"/invite"))
	wantIn(t, c, "<h1>Envoyer l&#39;invitation à {{.Link}} %s%n ?</h1>")
}

func TestEditMemberForm_ChangesAccessUnderTheRules(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	hub := addResource(t, env, o.account, "product", "Sales Hub")
	crm := addResource(t, env, o.account, "product", "CRM")
	colin := o.added(t, team.NewMember{Email: "colin@example.com", FirstName: "Colin", LastName: "Maillard", Resources: []equipe.ID{hub.ID},
		Overrides: []equipe.Override{{Permission: "records.export", Allow: true}}})

	p := get(t, o.c, o.url("/members/"+colin.String()+"/edit"))
	if p.Status != 200 {
		t.Fatalf("edit form: %d", p.Status)
	}
	// The picker shows what Colin may do now: his role's permissions and his own.
	wantIn(t, p, "<h1>Modifier les accès de Colin Maillard</h1>", `<option value="collaborator" selected>`, `value="custom" checked`,
		`value="records.export" checked`, `value="members.view" checked`, `value="`+hub.ID.String()+`" checked`)
	if strings.Contains(p.Body, `id="f-email"`) {
		t.Error("the edit form offers to change the login email")
	}
	wantIn(t, p, `<input id="f-external_id" name="external_id" type="text" value="" maxlength="255"`)
	ext := "crm-7"
	if _, err := env.App.Team.ChangeMember(t.Context(), o.actor(), o.account, colin, team.MemberChange{ExternalID: &ext}); err != nil {
		t.Fatal(err)
	}
	wantIn(t, get(t, o.c, o.url("/members/"+colin.String()+"/edit")),
		`<input id="f-external_id" name="external_id" type="text" value="crm-7" maxlength="255"`)
	// The address the account writes to him at, changed after he was added:
	// refused beside its field when it is none, kept when it is one.
	wantIn(t, p, `<input id="f-notification_email" name="notification_email" type="email" value=""`)
	bad := url.Values{"role": {"collaborator"}, "permissions_mode": {"role"}, "resources": {hub.ID.String()}, "notification_email": {"secrétariat"}}
	if p := post(t, o.c, o.url("/members/"+colin.String()+"/edit"), bad); p.Status != 422 ||
		!strings.Contains(p.Body, `id="e-notification_email"`) || o.member(t, colin).NotificationEmail != "" {
		t.Fatalf("a notification email that is none: %d %s", p.Status, text(p.Body))
	}
	bad.Set("notification_email", "secretariat@maillard.example")
	if p := post(t, o.c, o.url("/members/"+colin.String()+"/edit"), bad); p.Status != 303 || o.member(t, colin).NotificationEmail != "secretariat@maillard.example" {
		t.Fatalf("a notification email: %d %s", p.Status, text(p.Body))
	}
	wantIn(t, get(t, o.c, o.url("/members/"+colin.String()+"/edit")),
		`<input id="f-notification_email" name="notification_email" type="email" value="secretariat@maillard.example"`)

	// Back to the role's permissions, another product, a job title.
	f := url.Values{"role": {"manager"}, "permissions_mode": {"role"}, "resources": {crm.ID.String()}, "title": {"Gérant"}}
	p = post(t, o.c, o.url("/members/"+colin.String()+"/edit"), f)
	if p.Status != 303 || p.Header.Get("Location") != o.path("/members?done=changed&user="+colin.String()) {
		t.Fatalf("save: %d %s %s", p.Status, p.Header.Get("Location"), text(p.Body))
	}
	m := o.member(t, colin)
	if m.Role != "manager" || len(m.Overrides) != 0 || m.Title != "Gérant" || m.ExternalID != "crm-7" {
		t.Fatalf("after saving: %+v", m)
	}
	// Nothing changed: nothing written.
	events := len(auditOf(t, o))
	if p := post(t, o.c, o.url("/members/"+colin.String()+"/edit"), f); p.Header.Get("Location") != o.path("/members?done=unchanged&user="+colin.String()) {
		t.Fatalf("unchanged: %s", p.Header.Get("Location"))
	}
	if n := len(auditOf(t, o)); n != events {
		t.Errorf("an unchanged save was audited (%d → %d)", events, n)
	}

	// Without a product, refused, with the offer to remove the member.
	f.Del("resources")
	p = post(t, o.c, o.url("/members/"+colin.String()+"/edit"), f)
	if p.Status != 409 || !strings.Contains(p.Body, "Chaque membre doit garder au moins une ressource de ce type : Produit.") ||
		!strings.Contains(p.Body, `href="`+o.path("/members/"+colin.String()+"/remove")+`">Retirer plutôt ce membre du compte</a>`) {
		t.Fatalf("no product: %d %s", p.Status, text(p.Body))
	}
	// The last administrator keeps their role.
	p = post(t, o.c, o.url("/members/"+o.user.ID.String()+"/edit"), url.Values{"role": {"manager"}, "permissions_mode": {"role"},
		"resources": {hub.ID.String()}})
	if p.Status != 409 || !strings.Contains(p.Body, `<p class="error" id="e-role">Le compte doit garder au moins un administrateur actif`) {
		t.Fatalf("demote the last admin: %d %s", p.Status, text(p.Body))
	}
	if m := o.member(t, o.user.ID); m.Role != "admin" {
		t.Fatal("the last administrator was demoted")
	}
}

// auditOf returns the account's audit events.
func auditOf(t *testing.T, o owner) []event.Event {
	t.Helper()
	events, _, err := o.env.App.Team.AuditPage(t.Context(), o.actor(), o.account, team.AuditFilter{Page: equipe.Page{Limit: equipe.MaxPage}})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// TestAddMember_ThrottledInvitationSaysSo: adding again someone invited
// three times within the hour is refused on the form, saying why, and adds
// nobody.
func TestAddMember_ThrottledInvitationSaysSo(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	for range 3 {
		id := o.added(t, team.NewMember{Email: "grace@example.com", FirstName: "Grace", LastName: "Hopper", Role: "collaborator", SendInvitation: true})
		if err := env.App.Team.RemoveMember(t.Context(), o.actor(), o.account, id); err != nil {
			t.Fatal(err)
		}
	}
	p := post(t, o.c, o.url("/members/new"), memberPost("grace@example.com", "Grace", "Hopper", "collaborator"))
	if p.Status != 429 || !strings.Contains(p.Body, "Trop d&#39;invitations envoyées pour l&#39;instant. Réessayez dans 60 min.") {
		t.Fatalf("fourth add: %d %s", p.Status, text(p.Body))
	}
	if _, err := env.App.DB.Member(t.Context(), o.account, mustUserID(t, env, "grace@example.com")); equipe.ErrorCode(err) != equipe.ENOTFOUND {
		t.Fatalf("a refused add left a member: %v", err)
	}
}

// TestEditMemberForm_SetsTheExternalIDAsTheAPIDoes sets a member's external
// ID through the edit form, as PATCH …/members/{user} does (the same use
// case, recorded): the team page and the form show it, with the user's own
// across the instance; an identifier another member has, or one that is not
// printable, is refused beside the field in either language and changes
// nothing; an empty field clears it.
func TestEditMemberForm_SetsTheExternalIDAsTheAPIDoes(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	hub := addResource(t, env, o.account, "product", "Sales Hub")
	colin := o.added(t, team.NewMember{Email: "colin@example.com", FirstName: "Colin", LastName: "Maillard", Resources: []equipe.ID{hub.ID}})
	dora := o.added(t, team.NewMember{Email: "dora@example.com", FirstName: "Dora", LastName: "Durand", Resources: []equipe.ID{hub.ID}})
	taken := "crm-1"
	if _, err := env.App.Team.ChangeMember(t.Context(), o.actor(), o.account, dora, team.MemberChange{ExternalID: &taken}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Team.SetUserExternalID(t.Context(), team.Actor{Key: &equipe.APIKey{ID: equipe.NewID()}}, colin, "u-42"); err != nil {
		t.Fatal(err)
	}
	edit := o.url("/members/" + colin.String() + "/edit")
	form := func(ext string) url.Values {
		return url.Values{"role": {"collaborator"}, "permissions_mode": {"role"}, "resources": {hub.ID.String()}, "title": {""},
			"external_id": {ext}}
	}
	wantIn(t, get(t, o.c, edit), `<label for="f-external_id">Identifiant externe <span class="optional">`,
		"Dans toute l&#39;instance, l&#39;identifiant de cette personne est u-42 (fixé par l&#39;instance).")

	p := post(t, o.c, edit, form("crm-7"))
	if p.Status != 303 || p.Header.Get("Location") != o.path("/members?done=changed&user="+colin.String()) {
		t.Fatalf("save: %d %s %s", p.Status, p.Header.Get("Location"), text(p.Body))
	}
	if m := o.member(t, colin); m.ExternalID != "crm-7" {
		t.Fatalf("after saving, external ID %q", m.ExternalID)
	}
	evs := auditOf(t, o)
	if last := evs[0]; last.Type != event.MemberChanged.Type {
		t.Errorf("the change was recorded as %s", last.Type)
	} else if after, ok := last.After.(event.Member); !ok || after.ExternalID != "crm-7" {
		t.Errorf("the change was recorded with %#v", last.After)
	}
	wantIn(t, get(t, o.c, o.url("/members")), `<span class="meta external-id">Identifiant externe : crm-7</span>`,
		`<span class="meta external-id">Identifiant externe : crm-1</span>`)

	refused := []struct{ ext, lang, msg string }{
		{taken, "fr", "Un autre membre de ce compte a déjà cet identifiant externe."},
		{"crm\t7", "fr", "Indiquez de 1 à 255 caractères imprimables."},
		{taken, "en", "Another member of this account already has this external ID."},
	}
	for _, r := range refused {
		if r.lang == "en" {
			english(t, env, o.c)
		}
		events := len(auditOf(t, o))
		p := post(t, o.c, edit, form(r.ext))
		if p.Status/100 != 4 || !strings.Contains(p.Body, `<p class="error" id="e-external_id">`+r.msg) ||
			!strings.Contains(p.Body, `aria-invalid="true"`) {
			t.Errorf("external ID %q (%s): %d, want the error beside the field: %s", r.ext, r.lang, p.Status, text(p.Body))
		}
		if m := o.member(t, colin); m.ExternalID != "crm-7" || len(auditOf(t, o)) != events {
			t.Errorf("a refused external ID %q changed the member to %q", r.ext, m.ExternalID)
		}
	}

	// An empty field clears it.
	if p := post(t, o.c, edit, form("")); p.Status != 303 {
		t.Fatalf("clear: %d %s", p.Status, text(p.Body))
	}
	if m := o.member(t, colin); m.ExternalID != "" {
		t.Errorf("after clearing, external ID %q", m.ExternalID)
	}
}
