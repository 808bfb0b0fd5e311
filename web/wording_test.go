package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/team"
)

// TestAddMember_TheNoticeNamesAnExistingIdentityAsTyped: adding an address
// that already has an identity elsewhere reads exactly as adding a new one,
// with the names typed in the form, in both languages: the notice tells
// nothing of the identity.
func TestAddMember_TheNoticeNamesAnExistingIdentityAsTyped(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpNamed(t, env, "ada@a.example", "Ada", "Lovelace", "Analytical Engines")
	manager := as(env, env.AddMember(t, o.account, "manon@a.example", "manager", equipe.MemberActive))
	words := map[string][2]string{ // invited, added without an email
		"fr": {"Invitation envoyée à Partner From B.", "Partner From B fait désormais partie de l'équipe, sans e-mail pour l'instant"},
		"en": {"Invitation sent to Partner From B.", "Partner From B is now on the team, without an email for now"},
	}
	n := 0
	for _, lang := range []string{"fr", "en"} {
		for _, who := range []struct {
			name string
			c    *http.Client
		}{{"administrator", o.c}, {"manager", manager}} {
			get(t, who.c, env.URL+"/login?lang="+lang)
			for _, send := range []string{"yes", ""} {
				// An address with an identity in another account, and a new one.
				n++
				existing := fmt.Sprintf("bob%d@b.example", n)
				signUpNamed(t, env, existing, "Robert", "Discret", "Ailleurs")
				for _, email := range []string{existing, fmt.Sprintf("new%d@c.example", n)} {
					p := post(t, who.c, o.url("/members/new"), memberPost(email, "Partner", "From B", "collaborator", "send_invitation", send))
					if p.Status != 303 {
						t.Fatalf("%s adds %s: %d %s", who.name, email, p.Status, text(p.Body))
					}
					want := words[lang][0]
					if send == "" {
						want = words[lang][1]
					}
					if got := notice(get(t, who.c, env.URL+p.Header.Get("Location"))); !strings.HasPrefix(got, want) {
						t.Errorf("%s, %s adds %s: notice %q, want %q", lang, who.name, email, got, want)
					}
				}
			}
		}
	}
	// A member the page cannot name is "this member", in good French too.
	get(t, o.c, env.URL+"/login?lang=fr")
	if got := notice(get(t, o.c, o.url("/members?done=invited&user="+equipe.NewID().String()))); got != "Invitation envoyée à ce membre." {
		t.Errorf("notice %q", got)
	}
}

// TestMemberActions_ActivationIsNeverWordedAsAnInvitation: in an account
// that activates its members, the menu, the confirmations and the notices
// of a member sent the activation email speak of activation.
func TestMemberActions_ActivationIsNeverWordedAsAnInvitation(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	yes := true
	if _, err := env.App.Team.UpdateAccount(t.Context(), o.actor(), o.account, team.AccountChange{RequiresActivation: &yes}); err != nil {
		t.Fatal(err)
	}
	ines := o.added(t, team.NewMember{Email: "ines@example.com", FirstName: "Inès", LastName: "Perrin", SendInvitation: true})
	row := text(tableRow(t, get(t, o.c, o.url("/members")).Body, "Inès Perrin"))
	if !strings.Contains(row, "Annuler l'activation") || strings.Contains(row, "Révoquer l'invitation") {
		t.Errorf("row of a member sent the activation email: %s", row)
	}
	p := get(t, o.c, o.url("/members/"+ines.String()+"/invite"))
	wantIn(t, p, "E-mails d&#39;activation déjà envoyés : 1, le dernier le")
	p = get(t, o.c, o.url("/members/"+ines.String()+"/password-reset"))
	wantIn(t, p, "Inès Perrin n&#39;a pas encore activé son accès : c&#39;est l&#39;e-mail d&#39;activation qui lui sera renvoyé à ines@example.com")
	for _, p := range []page{get(t, o.c, o.url("/members/"+ines.String()+"/invite")), get(t, o.c, o.url("/members/"+ines.String()+"/password-reset"))} {
		if main := text(between(p.Body, "<h1>", "</form>")); strings.Contains(strings.ToLower(main), "invitation") {
			t.Errorf("a confirmation speaks of an invitation: %s", main)
		}
	}
	p = confirmThenDo(t, o, o.c, ines, "revoke-invitation", "<h1>Annuler l&#39;activation d&#39;Inès Perrin ?</h1>",
		"Le lien d&#39;activation envoyé à ines@example.com cessera de fonctionner.",
		`<button type="submit" class="danger">Annuler l&#39;activation</button>`)
	if n := notice(p); n != "Activation annulée pour Inès Perrin : le lien ne fonctionne plus et le statut redevient « Inactif »." {
		t.Errorf("notice %q", n)
	}

	english(t, env, o.c)
	if _, err := env.App.Team.Invite(t.Context(), o.actor(), o.account, ines); err != nil {
		t.Fatal(err)
	}
	row = text(tableRow(t, get(t, o.c, o.url("/members")).Body, "Inès Perrin"))
	if !strings.Contains(row, "Cancel the activation") || strings.Contains(row, "Revoke the invitation") {
		t.Errorf("row in English: %s", row)
	}
	p = confirmThenDo(t, o, o.c, ines, "revoke-invitation", "<h1>Cancel Inès Perrin&#39;s activation?</h1>")
	if n := notice(p); n != "Activation cancelled for Inès Perrin: the link no longer works and the status is back to “Inactive”." {
		t.Errorf("notice %q", n)
	}
}

// TestPages_ElideDeBeforeAVowelAndCountInWords: French pages write
// "d'Alice", "d'Élodie", "d'Inès" but "de Bob", and a firm whose name
// begins with a vowel is "d'Atelier".
func TestPages_ElideDeBeforeAVowelAndCountInWords(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpNamed(t, env, "alice@atelier.example", "Alice", "Martin", "Atelier Dupont")
	elodie := o.added(t, team.NewMember{Email: "elodie@example.com", FirstName: "Élodie", LastName: "Roux"})
	ines := o.added(t, team.NewMember{Email: "ines@example.com", FirstName: "Inès", LastName: "Perrin", SendInvitation: true})
	bob := o.added(t, team.NewMember{Email: "bob@example.com", FirstName: "Bob", LastName: "Morane"})

	wantIn(t, get(t, o.c, o.url("/members/"+o.user.ID.String()+"/permissions")), "<h1>Autorisations d&#39;Alice Martin</h1>")
	wantIn(t, get(t, o.c, o.url("/members/"+elodie.String()+"/edit")), "<h1>Modifier les accès d&#39;Élodie Roux</h1>")
	wantIn(t, get(t, o.c, o.url("/members/"+bob.String()+"/edit")), "<h1>Modifier les accès de Bob Morane</h1>")
	p := confirmThenDo(t, o, o.c, ines, "revoke-invitation", "<h1>Révoquer l&#39;invitation d&#39;Inès Perrin ?</h1>")
	if n := notice(p); !strings.HasPrefix(n, "L'invitation d'Inès Perrin est révoquée") {
		t.Errorf("notice %q", n)
	}
	client := createClient(t, o, "Boulangerie Martin")
	wantIn(t, get(t, o.c, env.URL+"/accounts/"+client.String()+"/members"), `<span class="tag">Client d&#39;Atelier Dupont</span>`)
	wantIn(t, get(t, o.c, env.URL+"/"), "Client d&#39;Atelier Dupont")
}

// genderedAboutAPerson matches French that gives a person a gender through
// a past participle after "est", "a été" and their like: "{name} est
// affecté", "{name} ({email}) a été ajouté", "vous êtes connecté". Such a
// message is wrong for half the people it names; phrasings such as "Accès
// accordé à {name}" or "Invitation envoyée à {name}" fit everyone.
var genderedAboutAPerson = regexp.MustCompile(`(?i)(\bde\s+|\bd')?(?:` +
	`(?:\{(?:name|inviter|current)\}(?:\s*\([^)]*\))?)\s+(?:n'|ne\s+)?(?:est|était|sera|serait|a\s+été|avait\s+été|aura\s+été)|` +
	`\bvous\s+(?:n'|ne\s+)?(?:êtes|étiez|serez|seriez|avez\s+été|aviez\s+été))\s+` +
	`(?:(?:plus|pas|déjà|bien|encore|désormais|maintenant)\s+)?` +
	`\p{L}+(?:é|ée|és|ées|é\(e\)|i|ie|u|ue|it|ite|is|ise)(?:[^\p{L}]|$)`)

// gendered returns the first place where msg gives a person a gender, or
// "". "L'invitation de {name} est révoquée" speaks of the invitation.
func gendered(msg string) string {
	for _, m := range genderedAboutAPerson.FindAllStringSubmatch(msg, -1) {
		if m[1] == "" {
			return m[0]
		}
	}
	return ""
}

// TestWording_FrenchAboutAPersonAgreesWithAnyone: no French message about a
// named person (or about the reader) gives them a gender with a past
// participle after "est" or "a été"; the pattern itself is checked on
// examples, so that the test cannot pass by matching nothing.
func TestWording_FrenchAboutAPersonAgreesWithAnyone(t *testing.T) {
	for s, want := range map[string]bool{
		"{name} est affecté à « {client} ».":                         true,
		"{name} ({email}) est invité à en devenir l'administrateur.": true,
		"{name} a été ajouté à l'équipe.":                            true,
		"{name} n'est plus affecté à « {client} ».":                  true,
		"{name} est suspendu : son accès a pris fin.":                true,
		"Vous êtes connecté sous une autre adresse":                  true,
		"Vous êtes invité à rejoindre le compte.":                    true,
		"{inviter} est inscrit depuis longtemps.":                    true,
		"Accès accordé à {name}.":                                    false,
		"Invitation envoyée à {name}.":                               false,
		"Accès suspendu pour {name}.":                                false,
		"{name} fait désormais partie de l'équipe.":                  false,
		"{name} n'a pas encore activé son accès.":                    false,
		"Vous n'êtes membre d'aucun compte.":                         false,
		"Votre accès au compte « {account} » est activé.":            false,
	} {
		if got := gendered(s) != ""; got != want {
			t.Errorf("the pattern on %q: %v, want %v", s, got, want)
		}
	}
	b, err := os.ReadFile("../i18n/messages/fr.json")
	if err != nil {
		t.Fatal(err)
	}
	var fr map[string]string
	if err := json.Unmarshal(b, &fr); err != nil {
		t.Fatal(err)
	}
	for key, msg := range fr {
		if m := gendered(msg); m != "" {
			t.Errorf("%s: %q gives the person a gender (%q)", key, msg, m)
		}
	}
}
