package web_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

var suggestedPassword = regexp.MustCompile(`name="password" type="text" class="secret" value="([a-z]+(?:-[a-z]+){5})"`)

func TestInvitationPage_NewUserSetsAPasswordThenAcceptsThePolicyOnItsOwnPage(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	grace := o.added(t, team.NewMember{Email: "grace@example.com", FirstName: "Grace", LastName: "Hopper", SendInvitation: true})
	link := apptest.Link(t, env.Mail(t, "grace@example.com", "invitation"), "/invitations/")
	c := env.Client()

	// Opening the link (twice, as a mail scanner might) uses nothing. The
	// form sets the password and the names; the policy is not in it.
	for range 2 {
		p := get(t, c, link)
		if p.Status != 200 {
			t.Fatalf("invitation page: %d", p.Status)
		}
		if p.Header.Get("Referrer-Policy") != "no-referrer" || p.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("headers: %v", p.Header)
		}
		// A referrer policy in the page would override the header's.
		if strings.Contains(p.Body, `name="referrer"`) {
			t.Error("the page sets its own referrer policy")
		}
		wantIn(t, p, "<h1>Rejoindre « Analytical Engines »</h1>", "Ada Lovelace vous invite à rejoindre le compte « Analytical Engines ».",
			"<dd>grace@example.com</dd>", `value="Grace"`, `value="Hopper"`, "La politique de confidentialité vient ensuite, sur sa propre page.",
			`name="suggest" value="yes"`)
		if strings.Contains(p.Body, `name="accept"`) || strings.Contains(p.Body, "Politique de test.") {
			t.Fatal("the password form holds the policy")
		}
	}
	before := storetest.Counts(t, storetest.Raw(t, env.DB))

	// "Suggest a strong password": the form comes back with one in clear.
	p := post(t, c, link, url.Values{"first_name": {"Grace"}, "last_name": {"Hopper"}, "suggest": {"yes"}})
	m := suggestedPassword.FindStringSubmatch(p.Body)
	if p.Status != 200 || m == nil {
		t.Fatalf("suggest: %d %s", p.Status, text(p.Body))
	}
	wantIn(t, p, `name="suggested" value="yes"`, "il ne sera plus jamais affiché")
	if p2 := post(t, c, link, url.Values{"suggest": {"yes"}}); suggestedPassword.FindStringSubmatch(p2.Body)[1] == m[1] {
		t.Error("the same password suggested twice")
	}
	if after := storetest.Counts(t, storetest.Raw(t, env.DB)); !sameCounts(before, after) {
		t.Fatalf("suggesting wrote: %v → %v", before, after)
	}

	// Refusals keep the form: passwords that differ.
	p = post(t, c, link, url.Values{"first_name": {"Grace"}, "last_name": {"Hopper"}, "password": {"a long enough sentence"},
		"password_confirm": {"another long sentence"}})
	if p.Status != 422 || !strings.Contains(p.Body, `id="e-password_confirm"`) || strings.Contains(p.Body, "a long enough sentence") {
		t.Fatalf("passwords that differ: %d", p.Status)
	}

	// The password set: logged in and joined, the inviter told; the next
	// page is the policy, before anything else.
	p = post(t, c, link, url.Values{"first_name": {"Grace B."}, "last_name": {"Hopper"}, "password": {m[1]}, "suggested": {"yes"}})
	if p.Status != 303 || p.Header.Get("Location") != "/?done=joined&account="+o.account.String() {
		t.Fatalf("accept: %d %s %s", p.Status, p.Header.Get("Location"), text(p.Body))
	}
	if m := o.member(t, grace); m.Status != equipe.MemberActive {
		t.Fatalf("member after joining: %s", m.Status)
	}
	env.Mail(t, "ada@example.com", "inviter_confirmation")
	next := p.Header.Get("Location")
	home := get(t, c, env.URL+next)
	if home.Status != 303 || home.Header.Get("Location") != "/consent?next="+url.QueryEscape(next) {
		t.Fatalf("home before the policy: %d %s", home.Status, home.Header.Get("Location"))
	}
	cp := get(t, c, env.URL+home.Header.Get("Location"))
	wantIn(t, cp, "Politique de test.", "Politique de confidentialité — Version du ", `name="version" value="2026-11"`,
		"J&#39;ai bien lu et j&#39;accepte la politique de confidentialité.")
	if strings.Contains(cp.Body, "Test policy.") || strings.Contains(cp.Body, "Version 2026-11") {
		t.Fatalf("the French policy page: %s", text(cp.Body))
	}
	p = post(t, c, env.URL+"/consent", url.Values{"version": {"2026-11"}, "next": {next}})
	if p.Status != 422 || !strings.Contains(p.Body, `id="e-accept"`) {
		t.Fatalf("without the box: %d", p.Status)
	}
	p = post(t, c, env.URL+"/consent", url.Values{"version": {"2026-11"}, "next": {next}, "accept": {"yes"}})
	if p.Status != 303 || p.Header.Get("Location") != next {
		t.Fatalf("consent: %d %s", p.Status, p.Header.Get("Location"))
	}
	home = get(t, c, env.URL+next)
	if home.Status != 200 || notice(home) != "Vous avez rejoint le compte « Analytical Engines »." {
		t.Fatalf("home after joining: %d %q", home.Status, notice(home))
	}
	wantIn(t, home, `<a class="account-name" href="`+o.path("/members")+`">Analytical Engines</a>`)
	if r := post(t, env.Client(), env.URL+"/login", url.Values{"email": {"grace@example.com"}, "password": {m[1]}}); r.Status != 303 {
		t.Fatalf("log in with the suggested password: %d", r.Status)
	}

	// The link has served: it says so, naming the account and whom to ask.
	p = get(t, env.Client(), link)
	if p.Status != 410 || !strings.Contains(p.Body, "Cette invitation à rejoindre le compte « Analytical Engines » a déjà servi") ||
		!strings.Contains(p.Body, "Demandez à Ada Lovelace de vous en envoyer une nouvelle.") {
		t.Fatalf("used link: %d %s", p.Status, text(p.Body))
	}
	// To the person who used it, it says they are in.
	p = get(t, c, link)
	wantIn(t, p, "Vous avez rejoint « Analytical Engines »", `href="`+o.path("/members")+`"`)
	if p := get(t, c, env.URL+"/invitations/"+strings.Repeat("A", 43)); p.Status != 404 || p.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("unknown link: %d", p.Status)
	}
}

func TestInvitationPage_ExpiredLinkNamesTheAccountAndWhomToAsk(t *testing.T) {
	clock := apptest.NewClock(time.Now())
	env := apptest.Start(t, "sqlite", apptest.Options{Now: clock.Now})
	o := signUpOwner(t, env, "ada@example.com")
	o.added(t, team.NewMember{Email: "grace@example.com", FirstName: "Grace", LastName: "Hopper", SendInvitation: true})
	link := apptest.Link(t, env.Mail(t, "grace@example.com", "invitation"), "/invitations/")
	clock.Advance(8 * 24 * time.Hour)
	p := get(t, env.Client(), link, "Accept-Language", "en")
	if p.Status != 410 || !strings.Contains(p.Body, "This invitation to join the account &#34;Analytical Engines&#34; has expired.") ||
		!strings.Contains(p.Body, "Ask Ada Lovelace to send you a new one.") {
		t.Fatalf("expired: %d %s", p.Status, text(p.Body))
	}
	p = post(t, env.Client(), link, url.Values{"password": {"a long enough sentence"}, "password_confirm": {"a long enough sentence"},
		"accept": {"yes"}}, "Accept-Language", "en")
	if p.Status != 410 {
		t.Fatalf("accept an expired link: %d", p.Status)
	}
}

func TestInvitationPage_AnActivationLinkSpeaksOfActivationUsableExpiredOrUsed(t *testing.T) {
	clock := apptest.NewClock(time.Now())
	env := apptest.Start(t, "sqlite", apptest.Options{Now: clock.Now})
	o := signUpOwner(t, env, "ada@example.com")
	yes := true
	if _, err := env.App.Team.UpdateAccount(t.Context(), o.actor(), o.account, team.AccountChange{RequiresActivation: &yes}); err != nil {
		t.Fatal(err)
	}
	sam := o.added(t, team.NewMember{Email: "sam@example.com", FirstName: "Sam", LastName: "Secrétaire", SendInvitation: true})
	link := apptest.Link(t, env.Mail(t, "sam@example.com", "activation"), "/invitations/")
	wantWords := func(p page, lang string, words []string) {
		t.Helper()
		wantIn(t, p, words...)
		for _, w := range []string{"Invitation", "invitation"} {
			if strings.Contains(text(p.Body), w) {
				t.Errorf("an activation page in %s speaks of %q: %s", lang, w, text(p.Body))
			}
		}
	}
	wantWords(get(t, env.Client(), link, "Accept-Language", "en"), "English",
		[]string{"<title>Activation · equipe</title>", "<dt>Activation for</dt>"})
	wantWords(get(t, env.Client(), link, "Accept-Language", "fr"), "French",
		[]string{"<title>Activation · equipe</title>", "<dt>Activation pour</dt>"})

	clock.Advance(8 * 24 * time.Hour)
	p := get(t, env.Client(), link, "Accept-Language", "en")
	if p.Status != 410 {
		t.Fatalf("expired: %d", p.Status)
	}
	wantWords(p, "English", []string{"This link to activate your access to the account &#34;Analytical Engines&#34; has expired."})
	wantWords(get(t, env.Client(), link, "Accept-Language", "fr"), "French",
		[]string{"Ce lien d&#39;activation de votre accès au compte « Analytical Engines » a expiré."})

	// A new link makes this one used.
	if _, err := env.App.Team.Invite(t.Context(), o.actor(), o.account, sam); err != nil {
		t.Fatal(err)
	}
	wantWords(get(t, env.Client(), link, "Accept-Language", "en"), "English",
		[]string{"This link to activate your access to the account &#34;Analytical Engines&#34; has already been used"})
	wantWords(get(t, env.Client(), link, "Accept-Language", "fr"), "French",
		[]string{"Ce lien d&#39;activation de votre accès au compte « Analytical Engines » a déjà servi"})
}

func TestInvitationPage_ExistingUserLogsInOrSwitchesThenJoins(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	a := signUpOwner(t, env, "ada@a.example")
	b := signUpOwner(t, env, "bob@b.example")
	// A adds B's owner, typing other names.
	a.added(t, team.NewMember{Email: "bob@b.example", FirstName: "Partner", LastName: "From B", SendInvitation: true})
	link := apptest.Link(t, env.Mail(t, "bob@b.example", "access_granted"), "/invitations/")
	self := strings.TrimPrefix(link, env.URL)

	// Not logged in: log in to join; the password does not change.
	p := get(t, env.Client(), link)
	wantIn(t, p, "bob@b.example a déjà un compte : connectez-vous pour rejoindre ce compte. Votre mot de passe ne change pas.",
		`href="/login?next=`+strings.ReplaceAll(url.QueryEscape(self), "%2F", "%2f")+`"`)
	if strings.Contains(p.Body, `name="password"`) {
		t.Error("an existing user is asked for a new password")
	}
	// Logged in as someone else: said plainly, with a way to switch.
	p = get(t, a.c, link)
	wantIn(t, p, "Cette invitation est pour bob@b.example ; la session ouverte appartient à ada@a.example.",
		`<form method="post" action="/logout" novalidate>`, `name="next" value="`+self+`"`)
	if r := post(t, a.c, link, nil); r.Status != 409 || !strings.Contains(r.Body, "la session ouverte appartient à") {
		t.Fatalf("accept as someone else: %d", r.Status)
	}
	other := env.Client()
	post(t, other, env.URL+"/login", url.Values{"email": {"ada@a.example"}, "password": {"lovelace rode the number engine"}})
	if r := post(t, other, env.URL+"/logout", url.Values{"next": {self}}); r.Status != 303 || r.Header.Get("Location") != self {
		t.Fatalf("log out and continue: %d %s", r.Status, r.Header.Get("Location"))
	}

	// Logged in as themselves: one button.
	p = get(t, b.c, link)
	wantIn(t, p, `<button type="submit" class="primary">Rejoindre « Analytical Engines »</button>`)
	p = post(t, b.c, link, nil)
	if p.Status != 303 || p.Header.Get("Location") != "/?done=joined&account="+a.account.String() {
		t.Fatalf("join: %d %s", p.Status, text(p.Body))
	}
	if r := post(t, env.Client(), env.URL+"/login", url.Values{"email": {"bob@b.example"}, "password": {"lovelace rode the number engine"}}); r.Status != 303 {
		t.Fatalf("the password changed: %d", r.Status)
	}
	home := get(t, b.c, env.URL+"/")
	if n := strings.Count(home.Body, `class="account-name" href=`); n != 2 {
		t.Fatalf("accounts after joining: %d", n)
	}
	env.Mail(t, "ada@a.example", "inviter_confirmation")
}

// confirmEmail confirms email's address with the link of its verification
// email, as its owner would.
func confirmEmail(t *testing.T, env *apptest.Env, email string) {
	t.Helper()
	link := apptest.Link(t, env.Mail(t, email, "verify_email"), "/verify-email/")
	if p := post(t, env.Client(), link, nil); p.Status != 200 {
		t.Fatalf("confirm %s: %d %s", email, p.Status, text(p.Body))
	}
}

func TestHome_AnExistingUserJoinsFromTheAccountList(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	a := signUpOwner(t, env, "ada@a.example")
	b := signUpOwner(t, env, "bob@b.example")
	confirmEmail(t, env, "bob@b.example")
	a.added(t, team.NewMember{Email: "bob@b.example", FirstName: "Bob", LastName: "B", SendInvitation: true})
	link := apptest.Link(t, env.Mail(t, "bob@b.example", "access_granted"), "/invitations/")

	home := get(t, b.c, env.URL+"/")
	join := "/accounts/" + a.account.String() + "/join"
	wantIn(t, home, `<span class="account-name">Analytical Engines</span>`, "Invitation en attente", `action="`+join+`"`)
	if strings.Contains(home.Body, `href="`+a.path("/members")+`"`) {
		t.Error("the pending account is linked before joining")
	}
	// Nobody joins for someone else.
	if p := post(t, a.c, env.URL+join, nil); p.Status != 303 {
		t.Fatalf("the owner joins their own account: %d", p.Status)
	}
	p := post(t, b.c, env.URL+join, nil)
	if p.Status != 303 || p.Header.Get("Location") != "/?done=joined&account="+a.account.String() {
		t.Fatalf("join: %d %s", p.Status, text(p.Body))
	}
	home = get(t, b.c, env.URL+p.Header.Get("Location"))
	if notice(home) != "Vous avez rejoint le compte « Analytical Engines »." || !strings.Contains(home.Body, `href="`+a.path("/members")+`"`) {
		t.Fatalf("home after joining: %q", notice(home))
	}
	env.Mail(t, "ada@a.example", "inviter_confirmation")
	// The emailed link served for that.
	if p := get(t, env.Client(), link); p.Status != 410 {
		t.Errorf("the emailed link after joining: %d", p.Status)
	}
	if p := post(t, b.c, env.URL+"/accounts/"+equipe.NewID().String()+"/join", nil); p.Status != 404 {
		t.Errorf("join an account that did not invite: %d", p.Status)
	}
}

// TestHome_AnUnconfirmedAddressJoinsOnlyWithTheLink: someone who signed up
// with an address and never confirmed it cannot collect, from their account
// list, an invitation sent to that address; the emailed link, which proves
// the address, still lets them in and confirms it.
func TestHome_AnUnconfirmedAddressJoinsOnlyWithTheLink(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	a := signUpOwner(t, env, "ada@a.example")
	b := signUpOwner(t, env, "bob@b.example")
	bob := a.added(t, team.NewMember{Email: "bob@b.example", FirstName: "Bob", LastName: "B", SendInvitation: true})
	link := apptest.Link(t, env.Mail(t, "bob@b.example", "access_granted"), "/invitations/")

	join := "/accounts/" + a.account.String() + "/join"
	home := get(t, b.c, env.URL+"/")
	wantIn(t, home, "Invitation en attente", "Pour rejoindre le compte « Analytical Engines » d&#39;ici, confirmez d&#39;abord votre adresse e-mail")
	if strings.Contains(home.Body, `action="`+join+`"`) {
		t.Error("an unconfirmed address is offered to join from the list")
	}
	p := post(t, b.c, env.URL+join, nil)
	if p.Status != 409 || !strings.Contains(p.Body, "confirmez d&#39;abord votre adresse e-mail") {
		t.Fatalf("join with an unconfirmed address: %d %s", p.Status, text(p.Body))
	}
	if m := a.member(t, bob); m.Status != equipe.MemberInvited {
		t.Fatalf("member after a refused join: %s", m.Status)
	}
	// The link works, and confirms the address.
	secret := apptest.Secret(link)
	if _, _, err := env.App.Identity.AcceptInvitation(t.Context(), secret, identity.Accept{}, &identity.Auth{User: b.user}, equipe.Origin{IP: "127.0.0.1"}); err != nil {
		t.Fatalf("accept with the link: %v", err)
	}
	if m := a.member(t, bob); m.Status != equipe.MemberActive {
		t.Fatalf("member after the link: %s", m.Status)
	}
	if u, _ := env.App.DB.UserByID(t.Context(), bob); u.EmailVerifiedAt.IsZero() {
		t.Fatal("using the invitation link did not confirm the address")
	}
}

func TestHome_AnInvitationNotSentOrExpiredCannotBeJoined(t *testing.T) {
	clock := apptest.NewClock(time.Now())
	env := apptest.Start(t, "sqlite", apptest.Options{Now: clock.Now})
	a := signUpOwner(t, env, "ada@a.example")
	b := signUpOwner(t, env, "bob@b.example")
	confirmEmail(t, env, "bob@b.example")
	bob := a.added(t, team.NewMember{Email: "bob@b.example", FirstName: "Bob", LastName: "B"})
	join := env.URL + "/accounts/" + a.account.String() + "/join"
	home := get(t, b.c, env.URL+"/")
	wantIn(t, home, "Pas encore invité")
	if strings.Contains(home.Body, join) {
		t.Error("an account that sent no invitation offers to join")
	}
	if p := post(t, b.c, join, nil); p.Status != 409 || !strings.Contains(p.Body, "Aucune invitation n&#39;est en attente pour le compte « Analytical Engines ».") {
		t.Fatalf("join without invitation: %d %s", p.Status, text(p.Body))
	}
	if _, err := env.App.Team.Invite(t.Context(), a.actor(), a.account, bob); err != nil {
		t.Fatal(err)
	}
	clock.Advance(8 * 24 * time.Hour)
	c := env.Client()
	if p := post(t, c, env.URL+"/login", url.Values{"email": {"bob@b.example"}, "password": {"lovelace rode the number engine"}}); p.Status != 303 {
		t.Fatalf("log in: %d", p.Status)
	}
	p := post(t, c, join, nil)
	if p.Status != 410 || !strings.Contains(p.Body, "Votre invitation au compte « Analytical Engines » a expiré") {
		t.Fatalf("join after expiry: %d %s", p.Status, text(p.Body))
	}
	if m := a.member(t, bob); m.Status != equipe.MemberInvited {
		t.Fatalf("member after a refused join: %s", m.Status)
	}
}

// TestInvitationPage_SomeoneAddedByEmailAloneIsAskedForTheirName plays seed
// 004 on the pages: the add form needs only the email, the team list names
// the person by it, and the invitation asks them for their names, required
// then; in French and in English.
func TestInvitationPage_SomeoneAddedByEmailAloneIsAskedForTheirName(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	product := addResource(t, env, o.account, "product", "Sales Hub")
	p := post(t, o.c, o.url("/members/new"), memberPost("dev@agence.example", "", "", "collaborator", "resources", product.ID.String()))
	if p.Status != 303 {
		t.Fatalf("add with the email alone: %d %s", p.Status, text(p.Body))
	}
	if row := text(tableRow(t, get(t, o.c, o.url("/members")).Body, "dev@agence.example")); !strings.Contains(row, "Invitation envoyée") {
		t.Fatalf("team row: %s", row)
	}
	link := apptest.Link(t, env.Mail(t, "dev@agence.example", "invitation"), "/invitations/")
	for _, lang := range []struct{ accept, hint, required string }{
		{"fr", "Votre nom n&#39;a pas été indiqué lors de la création de votre accès : merci de le saisir.", "Ce champ est obligatoire."},
		{"en", "Your name was not given when your access was created: please enter it.", "This field is required."},
	} {
		c := env.Client()
		if lang.accept == "en" {
			english(t, env, c)
		}
		p := get(t, c, link)
		wantIn(t, p, lang.hint, `id="f-first_name" name="first_name" type="text" value="" autocomplete="given-name" required`)
		p = post(t, c, link, url.Values{"password": {"un site web rapide et sobre"}, "password_confirm": {"un site web rapide et sobre"}})
		if p.Status != 422 {
			t.Fatalf("%s: accept without names: %d", lang.accept, p.Status)
		}
		wantIn(t, p, `<p class="error" id="e-first_name">`+lang.required+`</p>`, `<p class="error" id="e-last_name">`+lang.required+`</p>`)
	}
	c := env.Client()
	english(t, env, c)
	p = post(t, c, link, url.Values{"first_name": {"Dev"}, "last_name": {"Agence"}, "password": {"un site web rapide et sobre"},
		"password_confirm": {"un site web rapide et sobre"}})
	if p.Status != 303 {
		t.Fatalf("accept: %d %s", p.Status, text(p.Body))
	}
	// The policy comes next, in English only.
	cp := get(t, c, env.URL+"/consent?next=/")
	wantIn(t, cp, "Test policy.", "Privacy policy — Version of ")
	if strings.Contains(cp.Body, "Politique de test.") {
		t.Fatalf("the English page shows the French policy: %s", text(cp.Body))
	}
	if row := text(tableRow(t, get(t, o.c, o.url("/members")).Body, "Dev Agence")); !strings.Contains(row, "Actif") {
		t.Fatalf("team row after joining: %s", row)
	}
}

// TestInvitationPage_ADisabledIdentityIsToldAndJoinsNothing: the invitation
// page of an identity the instance disabled says so and offers no form; a
// post anyway is answered on the same page, and nothing joins.
func TestInvitationPage_ADisabledIdentityIsToldAndJoinsNothing(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	grace := o.added(t, team.NewMember{Email: "grace@example.com", FirstName: "Grace", LastName: "Hopper", SendInvitation: true})
	link := apptest.Link(t, env.Mail(t, "grace@example.com", "invitation"), "/invitations/")
	yes := true
	if _, err := env.App.Team.ChangeUser(t.Context(), team.Actor{Key: &equipe.APIKey{ID: equipe.NewID()}}, grace,
		team.UserChange{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	p := get(t, env.Client(), link, "Accept-Language", "en")
	if p.Status != 200 || !strings.Contains(p.Body, "Your identity is disabled: it can join no account.") ||
		strings.Contains(p.Body, `name="password"`) {
		t.Fatalf("the page: %d %s", p.Status, text(p.Body))
	}
	p = post(t, env.Client(), link, url.Values{"password": {"a long enough sentence"}, "password_confirm": {"a long enough sentence"},
		"accept": {"yes"}}, "Accept-Language", "en")
	if p.Status != 409 || !strings.Contains(p.Body, "Your identity is disabled") {
		t.Fatalf("accept anyway: %d %s", p.Status, text(p.Body))
	}
	if m, err := env.App.DB.Member(t.Context(), o.account, grace); err != nil || m.Status == equipe.MemberActive {
		t.Fatalf("the member joined: %+v %v", m, err)
	}
}

// TestHome_ASecondLinkIsNotSentToAConfirmedAddress: the home page's "send
// the link again", posted from a page shown before the address was confirmed (in another tab), it says the
// address is confirmed (identity.TestResendVerification_NothingForAConfirmedAddress:
// and sends nothing).
func TestHome_ASecondLinkIsNotSentToAConfirmedAddress(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	wantIn(t, get(t, o.c, env.URL+"/"), `action="/verify-email"`)
	confirmEmail(t, env, "ada@example.com")
	p := post(t, o.c, env.URL+"/verify-email", nil)
	if p.Status != 303 || p.Header.Get("Location") != "/?done=already_verified" {
		t.Fatalf("send again once confirmed: %d %s", p.Status, p.Header.Get("Location"))
	}
	wantIn(t, get(t, o.c, env.URL+"/?done=already_verified"), "Votre adresse e-mail est déjà confirmée : aucun nouveau lien n’a été envoyé.")
}
