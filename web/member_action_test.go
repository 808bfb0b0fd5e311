package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// confirmThenDo opens an action's confirmation page, checks that it asks and
// changed nothing, then confirms and returns the team page it leads to.
func confirmThenDo(t *testing.T, o owner, c *http.Client, user equipe.ID, action string, asks ...string) page {
	t.Helper()
	before := storetest.Counts(t, storetest.Raw(t, o.env.DB))
	path := o.url("/members/" + user.String() + "/" + action)
	p := get(t, c, path)
	if p.Status != 200 {
		t.Fatalf("%s confirmation: %d %s", action, p.Status, text(p.Body))
	}
	wantIn(t, p, append(asks, `<form method="post" novalidate>`)...)
	// (The outbox is among the tables: no email was queued either.)
	if after := storetest.Counts(t, storetest.Raw(t, o.env.DB)); !sameCounts(before, after) {
		t.Fatalf("%s: the confirmation page changed something: %v → %v", action, before, after)
	}
	p = post(t, c, path, nil)
	if p.Status != 303 || !strings.HasPrefix(p.Header.Get("Location"), "/accounts/"+o.account.String()+"/members?done=") {
		t.Fatalf("%s: %d %s %s", action, p.Status, p.Header.Get("Location"), text(p.Body))
	}
	return get(t, c, o.env.URL+p.Header.Get("Location"))
}

func sameCounts(a, b map[string]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return len(a) == len(b)
}

func notice(p page) string {
	i := strings.Index(p.Body, `<p class="notice" role="status">`)
	if i < 0 {
		return ""
	}
	return text(p.Body[i : i+strings.Index(p.Body[i:], "</p>")])
}

func TestMemberActions_AskFirstThenActAndSaySo(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	grace := o.added(t, team.NewMember{Email: "grace@example.com", FirstName: "Grace", LastName: "Hopper"})

	// ➕ Invite later.
	p := confirmThenDo(t, o, o.c, grace, "invite", "<h1>Envoyer l&#39;invitation à Grace Hopper ?</h1>", "grace@example.com",
		"restera valable 7 jours", `<span aria-hidden="true">➕</span> Envoyer l&#39;invitation</button>`)
	if n := notice(p); n != "Invitation envoyée à Grace Hopper." {
		t.Fatalf("notice %q", n)
	}
	first := apptest.Link(t, env.Mail(t, "grace@example.com", "invitation"), "/invitations/")
	if m := o.member(t, grace); m.Status != equipe.MemberInvited || m.InvitationsSent != 1 {
		t.Fatalf("after inviting: %+v", m)
	}

	// Re-invite: the page says how many were sent; the old link stops working.
	p = confirmThenDo(t, o, o.c, grace, "invite", "<h1>Relancer Grace Hopper ?</h1>", "Invitations déjà envoyées : 1, la dernière le ",
		"le lien précédent cessera de fonctionner")
	if n := notice(p); !strings.Contains(n, "Invitation renvoyée à Grace Hopper (2 envois en tout)") {
		t.Fatalf("notice %q", n)
	}
	env.Mail(t, "grace@example.com", "reinvitation")
	if r := get(t, env.Client(), first); r.Status != 410 {
		t.Errorf("the first link after a re-invitation: %d", r.Status)
	}
	if row := text(tableRow(t, p.Body, "Grace Hopper")); !strings.Contains(row, "Envoyées : 2") {
		t.Errorf("row after re-inviting: %s", row)
	}

	// 🔄 for someone who never accepted sends the invitation again, and says so.
	p = confirmThenDo(t, o, o.c, grace, "password-reset", "n&#39;a pas encore accepté d&#39;invitation")
	if n := notice(p); !strings.Contains(n, "Grace Hopper n'avait pas encore accepté d'invitation : une invitation lui a été envoyée") {
		t.Fatalf("notice %q", n)
	}
	// That was the third invitation within the hour: the fourth is
	// throttled, on the confirmation page.
	p = post(t, o.c, o.url("/members/"+grace.String()+"/invite"), nil)
	if p.Status != 429 || !strings.Contains(p.Body, "Trop d&#39;invitations envoyées pour l&#39;instant. Réessayez dans") {
		t.Fatalf("fourth invitation: %d %s", p.Status, text(p.Body))
	}

	// Revoke: back to created.
	p = confirmThenDo(t, o, o.c, grace, "revoke-invitation", "<h1>Révoquer l&#39;invitation de Grace Hopper ?</h1>", `class="danger"`)
	if m := o.member(t, grace); m.Status != equipe.MemberCreated {
		t.Fatalf("after revoking: %s", m.Status)
	}
	// Revoking again is refused: the page says why and offers no button.
	p = get(t, o.c, o.url("/members/"+grace.String()+"/revoke-invitation"))
	if p.Status != 409 || !strings.Contains(p.Body, "Ce membre n&#39;a pas d&#39;invitation en attente.") || strings.Contains(p.Body, `method="post" novalidate`) {
		t.Errorf("revoke nothing: %d", p.Status)
	}

	// An active member: reset, suspend, reactivate, remove.
	zoe := env.AddMember(t, o.account, "zoe@example.com", "manager", equipe.MemberActive).User.ID
	p = confirmThenDo(t, o, o.c, zoe, "password-reset", "valable une heure", "Vous ne voyez ni ne choisissez son mot de passe")
	if n := notice(p); n != "Un e-mail de réinitialisation du mot de passe a été envoyé à Test zoe." {
		t.Fatalf("notice %q", n)
	}
	env.Mail(t, "zoe@example.com", "admin_reset")
	p = confirmThenDo(t, o, o.c, zoe, "suspend", "<h1>Suspendre Test zoe ?</h1>")
	if n := notice(p); n != "Accès suspendu pour Test zoe : son accès au compte a pris fin." {
		t.Fatalf("notice %q", n)
	}
	if row := text(tableRow(t, p.Body, "Test zoe")); !strings.Contains(row, "Suspendu") || !strings.Contains(row, "Réactiver") {
		t.Errorf("suspended row: %s", row)
	}
	if r := get(t, o.c, o.url("/members/"+zoe.String()+"/password-reset")); r.Status != 409 {
		t.Errorf("reset a suspended member: %d", r.Status)
	}
	confirmThenDo(t, o, o.c, zoe, "reactivate", "<h1>Réactiver Test zoe ?</h1>")
	if m := o.member(t, zoe); m.Status != equipe.MemberActive {
		t.Fatalf("after reactivating: %s", m.Status)
	}
	p = confirmThenDo(t, o, o.c, zoe, "remove", "<h1>Retirer Test zoe du compte ?</h1>", "Son identité et ses autres comptes ne changent pas")
	if n := notice(p); !strings.HasPrefix(n, "Le membre a été retiré du compte.") || strings.Contains(p.Body, `class="member-name">Test zoe`) {
		t.Fatalf("after removing: %q", n)
	}
	if _, err := env.App.DB.UserByID(t.Context(), zoe); err != nil {
		t.Fatalf("the removed member's identity: %v", err)
	}

	// The last administrator stays, and the page says why.
	p = post(t, o.c, o.url("/members/"+o.user.ID.String()+"/suspend"), nil)
	if p.Status != 409 || !strings.Contains(p.Body, "Le compte doit garder au moins un administrateur actif") {
		t.Errorf("suspend the last administrator: %d", p.Status)
	}
	// Inviting someone who joined is refused before any button.
	p = get(t, o.c, o.url("/members/"+o.user.ID.String()+"/invite"))
	if p.Status != 409 || !strings.Contains(p.Body, "a déjà rejoint le compte") {
		t.Errorf("invite an active member: %d", p.Status)
	}
	for _, path := range []string{"/members/" + equipe.NewID().String() + "/invite", "/members/nope/suspend"} {
		if p := get(t, o.c, o.url(path)); p.Status != 404 {
			t.Errorf("%s: %d", path, p.Status)
		}
		if p := post(t, o.c, o.url(path), nil); p.Status != 404 {
			t.Errorf("POST %s: %d", path, p.Status)
		}
	}
}

func TestMemberActions_ActivationIsInvitationWordedAsActivation(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	yes := true
	if _, err := env.App.Team.UpdateAccount(t.Context(), o.actor(), o.account, team.AccountChange{RequiresActivation: &yes}); err != nil {
		t.Fatal(err)
	}
	sam := o.added(t, team.NewMember{Email: "sam@example.com", FirstName: "Sam", LastName: "Secrétaire", Locale: "en"})
	p := get(t, o.c, o.url("/members"))
	row := tableRow(t, p.Body, "Sam Secrétaire")
	if !strings.Contains(row, ">Activer</a>") || strings.Contains(row, "➕") || !strings.Contains(row, ">Inactif</span>") {
		t.Fatalf("row of an inactive member: %s", text(row))
	}
	p = confirmThenDo(t, o, o.c, sam, "invite", "<h1>Activer Sam Secrétaire ?</h1>", "dans sa langue (à défaut, celle du compte)")
	if n := notice(p); n != "Activation envoyée à Sam Secrétaire : son statut reste « Activation envoyée » jusqu'au choix de son mot de passe, puis devient « Actif »." {
		t.Fatalf("notice %q", n)
	}
	if m := env.Mail(t, "sam@example.com", "activation"); !strings.Contains(m.Subject, "activated") {
		t.Errorf("activation email not in the member's language: %q", m.Subject)
	}
	p = get(t, o.c, o.url("/members"))
	if row := tableRow(t, p.Body, "Sam Secrétaire"); !strings.Contains(row, "Renvoyer l&#39;e-mail d&#39;activation") ||
		!strings.Contains(row, ">Activation envoyée</span>") {
		t.Errorf("row after activation: %s", text(row))
	}
	// The filter offers the statuses in the same words.
	if f := between(p.Body, `<select id="f-status"`, "</select>"); !strings.Contains(f, ">Inactif (0)</option>") ||
		!strings.Contains(f, ">Activation envoyée (1)</option>") || strings.Contains(f, "Invitation envoyée") {
		t.Errorf("status filter: %s", f)
	}
	// So does the member's page.
	if p := get(t, o.c, o.url("/members/"+sam.String()+"/permissions")); !strings.Contains(p.Body, "<dd>Activation envoyée</dd>") {
		t.Errorf("member page: %s", text(between(p.Body, `<dl class="facts">`, "</dl>")))
	}
}
