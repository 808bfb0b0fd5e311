package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/team"
)

// TestAuditPage_TheClientReadsTheFirmsStaffAsSomeoneFromTheFirm: in a
// client's log, the firm's staff are someone from the firm to the client's
// own members, who get no link to filter by them, and whose ID does not
// name them; the instance's administrator is the service's support, as
// unnamed, and its keys are instance keys, as unnamed; only someone who
// left is a former member. The firm reads their names.
func TestAuditPage_TheClientReadsTheFirmsStaffAsSomeoneFromTheFirm(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	f := newFirm(t, env)
	bakery := f.clients[0]
	martin := env.AddMember(t, bakery, "martin@boulangerie.example", "admin", equipe.MemberActive)
	paul := env.AddMember(t, bakery, "paul@boulangerie.example", "admin", equipe.MemberActive)
	sam := f.staff[0]
	for i, c := range []*http.Client{f.c, as(env, sam), as(env, paul)} {
		if p := post(t, c, f.clientURL(0, "/contacts/new"), contactPost("Jeanne", "Compta", "jeanne@compta.example", "", "billing")); p.Status != 303 {
			t.Fatalf("contact %d: %d %s", i, p.Status, text(p.Body))
		}
	}
	if err := env.App.Team.RemoveMember(t.Context(), team.Actor{User: &martin.User}, bakery, paul.User.ID); err != nil {
		t.Fatal(err)
	}
	u, err := env.App.Identity.CreateAdmin(t.Context(), identityAdmin())
	if err != nil {
		t.Fatal(err)
	}
	support := team.Actor{User: &u}
	k, _, err := env.App.Team.CreateKey(t.Context(), support, nil, team.NewKey{Name: "Vendor backend"})
	if err != nil {
		t.Fatal(err)
	}
	for _, by := range []team.Actor{support, {Key: &k}} {
		if _, err := env.App.Team.CreateContact(t.Context(), by, bakery, team.ContactInput{FirstName: "Paul", Email: "paul@compta.example",
			Kinds: []string{"technical"}}); err != nil {
			t.Fatal(err)
		}
	}

	p := get(t, as(env, martin), f.clientURL(0, "/audit?action=contact.created"))
	if p.Status != 200 {
		t.Fatalf("the client's log: %d %s", p.Status, text(p.Body))
	}
	rows := auditRows(t, p)
	want := []string{"Instance key", "equipe support", "Former member", "Someone from the firm", "Someone from the firm"}
	if len(rows) != len(want) {
		t.Fatalf("the client's log:\n%s", strings.Join(rows, "\n"))
	}
	for i, w := range want {
		if !strings.Contains(rows[i], w) {
			t.Errorf("row %d: %s, want by %s", i, rows[i], w)
		}
	}
	for _, id := range []equipe.ID{f.user.ID, sam.User.ID, u.ID, k.ID} {
		if strings.Contains(p.Body, id.String()) {
			t.Errorf("the client's log holds the ID of one of the firm's staff or of the instance's support %s", id)
		}
	}
	if strings.Contains(p.Body, "Vendor backend") {
		t.Error("the client's log names the instance's key as a person named it")
	}
	// Nor does filtering by their ID tell the client who they are: the
	// page reads as for an ID that reaches nothing.
	nobody := equipe.NewID().String()
	unknown := get(t, as(env, martin), f.clientURL(0, "/audit?actor="+nobody))
	for _, id := range []equipe.ID{sam.User.ID, u.ID, k.ID} {
		p := get(t, as(env, martin), f.clientURL(0, "/audit?actor="+id.String()))
		if p.Status != 200 || strings.ReplaceAll(p.Body, id.String(), nobody) != unknown.Body {
			t.Errorf("filtered by %s, the client's log reads %s\nwhere an unknown ID reads %s", id,
				text(between(p.Body, `<ul class="chips"`, "</ul>")), text(between(unknown.Body, `<ul class="chips"`, "</ul>")))
		}
	}

	p = get(t, f.c, f.clientURL(0, "/audit?action=contact.created"))
	rows = auditRows(t, p)
	auditRow(t, rows, "Claire Fontaine", "Jeanne Compta")
	auditRow(t, rows, "Test sam", "Jeanne Compta")
	if !strings.Contains(p.Body, "actor="+sam.User.ID.String()) {
		t.Errorf("the firm cannot filter by its staff: %s", text(p.Body))
	}
}

func TestAuditPage_TheActorFilterOfAKeyNamesTheKey(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpNamed(t, env, "claire@cabinet.example", "Claire", "Fontaine", "Cabinet Fontaine")
	confirmEmail(t, env, "claire@cabinet.example")
	o.user.EmailVerifiedAt = time.Now() // the key is made in her name
	k, _, err := env.App.Team.CreateKey(t.Context(), o.actor(), &o.account, team.NewKey{Name: "Synchronisation CRM", Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Team.CreateContact(t.Context(), team.Actor{Key: &k}, o.account, team.ContactInput{FirstName: "Jeanne",
		Email: "jeanne@compta.example", Kinds: []string{"billing"}}); err != nil {
		t.Fatal(err)
	}
	for _, query := range []string{"?actor=" + k.ID.String(), "?action=member.added&actor=" + k.ID.String()} {
		p := get(t, o.c, o.url("/audit"+query))
		if chips := text(between(p.Body, `<ul class="chips"`, "</ul>")); !strings.Contains(chips, "Par Clé d'API « Synchronisation CRM »") {
			t.Errorf("%s: the filter reads %q", query, chips)
		}
	}
}

func TestAuditPage_AFilterThatCanSelectNothingIsSaidBesideIt(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpNamed(t, env, "claire@cabinet.example", "Claire", "Fontaine", "Cabinet Fontaine")
	for _, tc := range []struct{ query, field, message string }{
		{"?action=bogus.thing", "action", "« bogus.thing » n'est pas un type d'événement"},
		{"?action=member.bogus", "action", "« member.bogus » n'est pas un type d'événement"},
		{"?actor=nonsense", "actor", "Cet identifiant n'est pas valide."},
		{"?member=nonsense&action=member.added", "member", "Cet identifiant n'est pas valide."},
	} {
		p := get(t, o.c, o.url("/audit"+tc.query))
		if p.Status != 422 {
			t.Errorf("%s: %d", tc.query, p.Status)
		}
		e := between(p.Body, `id="e-`+tc.field+`">`, "</p>")
		if !strings.Contains(text(e), tc.message) || !strings.Contains(p.Body, `class="problems"`) {
			t.Errorf("%s: beside the field %q; page %s", tc.query, text(e), text(p.Body))
		}
		if strings.Contains(p.Body, "<tbody>") || strings.Contains(p.Body, `value="bogus.thing"`) || strings.Contains(p.Body, `value="member.bogus"`) {
			t.Errorf("%s: events or an invented option are shown: %s", tc.query, text(p.Body))
		}
		if p := get(t, o.c, o.url("/audit/export.csv"+tc.query)); p.Status != 422 {
			t.Errorf("%s, exported: %d", tc.query, p.Status)
		}
	}
	// The member filter's kind stays chosen beside its problem.
	p := get(t, o.c, o.url("/audit?member=nonsense&action=member.added"))
	if !strings.Contains(p.Body, `<option value="member.added" selected>`) {
		t.Errorf("the kind chosen is lost: %s", text(between(p.Body, `<select id="f-action"`, "</select>")))
	}
}
