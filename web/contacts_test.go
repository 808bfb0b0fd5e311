package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store/storetest"
)

func contactPost(first, last, email, phone string, kinds ...string) url.Values {
	return url.Values{"first_name": {first}, "last_name": {last}, "email": {email}, "phone": {phone}, "kinds": kinds}
}

func TestContactsPage_ExplainsThatAContactIsNotAMemberInBothLanguages(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	p := get(t, o.c, o.url("/contacts"))
	if p.Status != 200 {
		t.Fatalf("contacts page: %d", p.Status)
	}
	wantIn(t, p, "<h1>Contacts</h1>", `aria-current="page">Contacts</a>`, "Un contact n&#39;est pas un membre",
		"Un contact reçoit les communications du compte mais ne peut pas se connecter. Un membre, lui, se connecte",
		"Pour donner un accès à un contact, invitez-le comme membre.",
		"Aucun contact pour le moment.", `href="`+o.path("/contacts/new")+`"`)
	english(t, env, o.c)
	p = get(t, o.c, o.url("/contacts"))
	wantIn(t, p, "A contact is not a member", "A contact receives the account&#39;s communications but cannot log in. A member logs in",
		"To give a contact access, invite them as a member.")
	// Someone who may not invite is told whom to ask, not to invite.
	guest := as(env, env.AddMember(t, o.account, "gus@example.com", "guest", equipe.MemberActive))
	p = get(t, guest, o.url("/contacts"))
	wantIn(t, p, "To give a contact access, ask someone who manages the account&#39;s members to invite them as a member.")
	if strings.Contains(p.Body, "To give a contact access, invite them") {
		t.Error("a guest is told to invite a contact")
	}
}

func TestContactForm_ShowsEachProblemBesideItsFieldAndWritesNothing(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	before := storetest.Counts(t, storetest.Raw(t, env.DB))
	for _, c := range []struct {
		name   string
		form   url.Values
		errors map[string]string
	}{
		{"nothing", contactPost("", "", "", ""), map[string]string{
			"name": "Indiquez un prénom ou un nom (ou les deux).", "email": "Indiquez au moins une adresse e-mail ou un numéro de téléphone.",
			"kinds": "Choisissez au moins un type : facturation, technique, commercial ou autre."}},
		{"bad email and phone", contactPost("Jean", "", "jean@", "06 12 ab", "billing"), map[string]string{
			"email": "", "phone": "Numéro de téléphone non valable"}},
		{"unknown kind", contactPost("", "Compta", "", "+33 1 23 45 67 89", "spam"), map[string]string{"kinds": "Type de contact inconnu."}},
	} {
		p := post(t, o.c, o.url("/contacts/new"), c.form)
		if p.Status != 422 {
			t.Errorf("%s: status %d", c.name, p.Status)
			continue
		}
		for field, msg := range c.errors {
			i := strings.Index(p.Body, `<p class="error" id="e-`+field+`">`)
			if i < 0 {
				t.Errorf("%s: no problem beside %s", c.name, field)
				continue
			}
			if got := text(p.Body[i : i+strings.Index(p.Body[i:], "</p>")]); !strings.Contains(got, msg) {
				t.Errorf("%s: %s says %q, want %q", c.name, field, got, msg)
			}
			wantIn(t, p, `href="#f-`+field+`"`)
		}
	}
	// What was typed is shown again, ticked kinds included.
	p := post(t, o.c, o.url("/contacts/new"), contactPost("Jean", "<i>Dupont</i>", "jean@", "", "technical"))
	wantIn(t, p, `value="&lt;i&gt;Dupont&lt;/i&gt;"`, `value="jean@"`, `id="f-kind-technical" name="kinds" type="checkbox" value="technical" checked>`)
	if strings.Contains(p.Body, `value="billing" checked`) {
		t.Error("an unticked kind comes back ticked")
	}
	if after := storetest.Counts(t, storetest.Raw(t, env.DB)); after["contacts"] != before["contacts"] || after["audit_events"] != before["audit_events"] {
		t.Fatal("a refused contact was written")
	}
}

func TestContacts_AddEditInviteAsMemberAndDeleteAfterConfirming(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	p := post(t, o.c, o.url("/contacts/new"), contactPost("Jeanne", "Compta", " Jeanne@Compta.example ", "+33 1 23 45 67 89", "billing", "commercial"))
	if p.Status != 303 || !strings.HasPrefix(p.Header.Get("Location"), o.path("/contacts?done=created&contact=")) {
		t.Fatalf("create: %d %s %s", p.Status, p.Header.Get("Location"), text(p.Body))
	}
	contact := idFrom(t, p.Header.Get("Location"), "contact")
	p = get(t, o.c, env.URL+p.Header.Get("Location"))
	if n := notice(p); n != "Contact ajouté : Jeanne Compta." {
		t.Errorf("notice %q", n)
	}
	row := text(between(p.Body, `<th scope="row"><span class="member-name">Jeanne Compta`, "</tr>"))
	for _, want := range []string{"Jeanne@compta.example", "+33 1 23 45 67 89", "Facturation, Commercial", "Inviter comme membre", "Modifier", "Supprimer"} {
		if !strings.Contains(row, want) {
			t.Errorf("contact row lacks %q: %s", want, row)
		}
	}

	// Invite as a member: the add form arrives filled in.
	invite := o.path("/members/new") + "?email=Jeanne%40compta.example&first_name=Jeanne&last_name=Compta"
	wantIn(t, p, `href="`+strings.ReplaceAll(invite, "&", "&amp;")+`"`)
	p = get(t, o.c, env.URL+invite)
	wantIn(t, p, `id="f-email" name="email" type="email" value="Jeanne@compta.example"`, `name="first_name" type="text" value="Jeanne"`,
		`name="last_name" type="text" value="Compta"`)
	p = post(t, o.c, o.url("/members/new"), memberPost("jeanne@compta.example", "Jeanne", "Compta", "guest"))
	if p.Status != 303 || !strings.Contains(p.Header.Get("Location"), "done=invited") {
		t.Fatalf("invite the contact: %d %s", p.Status, text(p.Body))
	}
	env.Mail(t, "jeanne@compta.example", "invitation")
	// She is a member now, and still a contact: the two are separate.
	if p = get(t, o.c, o.url("/contacts")); !strings.Contains(p.Body, "Jeanne Compta") {
		t.Error("inviting the contact removed the contact")
	}

	// Edit.
	edit := o.url("/contacts/" + contact.String() + "/edit")
	p = get(t, o.c, edit)
	wantIn(t, p, "<h1>Modifier le contact Jeanne Compta</h1>", `value="&#43;33 1 23 45 67 89"`, `value="billing" checked>`, `value="commercial" checked>`)
	if p = post(t, o.c, edit, contactPost("Jeanne", "Compta", "", "06 00 00 00 00", "technical")); p.Status != 303 {
		t.Fatalf("edit: %d %s", p.Status, text(p.Body))
	}
	c, err := env.App.Team.Contact(t.Context(), o.actor(), o.account, contact)
	if err != nil || c.Email != "" || c.Phone != "06 00 00 00 00" || len(c.Kinds) != 1 || c.Kinds[0] != "technical" {
		t.Fatalf("after editing: %+v %v", c, err)
	}
	if p = post(t, o.c, edit, contactPost("", "", "", "")); p.Status != 422 || !strings.Contains(p.Body, `id="e-name"`) {
		t.Errorf("edit with nothing: %d", p.Status)
	}
	// Without an email, no invitation is offered.
	if p = get(t, o.c, o.url("/contacts")); strings.Contains(p.Body, "Inviter comme membre") {
		t.Error("a contact without email is offered an invitation")
	}

	// Delete, after confirming; the confirmation changes nothing.
	del := o.url("/contacts/" + contact.String() + "/delete")
	before := storetest.Counts(t, storetest.Raw(t, env.DB))
	p = get(t, o.c, del)
	wantIn(t, p, "<h1>Supprimer le contact Jeanne Compta ?</h1>", `<button type="submit" class="danger">Supprimer le contact</button>`)
	if after := storetest.Counts(t, storetest.Raw(t, env.DB)); !sameCounts(before, after) {
		t.Fatal("the confirmation page changed something")
	}
	p = post(t, o.c, del, nil)
	if p.Status != 303 || notice(get(t, o.c, env.URL+p.Header.Get("Location"))) != "Le contact est supprimé." {
		t.Fatalf("delete: %d", p.Status)
	}
	if p = get(t, o.c, del); p.Status != 404 {
		t.Errorf("a deleted contact's page: %d", p.Status)
	}
}

func TestContacts_OnlyThoseWhoManageContactsChangeThem(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	p := post(t, o.c, o.url("/contacts/new"), contactPost("", "Support", "support@example.com", "", "technical"))
	contact := idFrom(t, p.Header.Get("Location"), "contact")
	guest := as(env, env.AddMember(t, o.account, "gus@example.com", "guest", equipe.MemberActive))
	p = get(t, guest, o.url("/contacts"))
	if p.Status != 200 || !strings.Contains(p.Body, "support@example.com") {
		t.Fatalf("guest reads contacts: %d", p.Status)
	}
	for _, no := range []string{"/contacts/new", "/edit", "/delete", "Invite as a member"} {
		if strings.Contains(p.Body, no) {
			t.Errorf("a guest is offered %s", no)
		}
	}
	for _, path := range []string{"/contacts/new", "/contacts/" + contact.String() + "/edit", "/contacts/" + contact.String() + "/delete"} {
		if p := get(t, guest, o.url(path)); p.Status != 403 {
			t.Errorf("guest GET %s: %d", path, p.Status)
		}
	}
	if p := post(t, guest, o.url("/contacts/"+contact.String()+"/delete"), nil); p.Status != 403 {
		t.Errorf("guest deletes: %d", p.Status)
	}
	// A manager manages contacts but is offered no invitation beyond their
	// own rights' checks: the add form judges that.
	mgr := as(env, env.AddMember(t, o.account, "maud@example.com", "manager", equipe.MemberActive))
	if p := get(t, mgr, o.url("/contacts")); !strings.Contains(p.Body, "Invite as a member") || !strings.Contains(p.Body, "/delete") {
		t.Error("a manager is not offered to manage contacts")
	}
}
