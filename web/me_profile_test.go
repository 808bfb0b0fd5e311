package web_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/testenv"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

func profileForm(first, last, locale, zone, notify string) url.Values {
	return url.Values{"first_name": {first}, "last_name": {last}, "locale": {locale}, "time_zone": {zone},
		"notification_email": {notify}}
}

// TestProfilePage_ChangesTheProfileAndShowsProblemsBesideTheirFields: the
// header's name leads to the profile; a refused change shows each problem
// beside its field and changes nothing; a saved one speaks the new language
// and shows times in the person's zone.
func TestProfilePage_ChangesTheProfileAndShowsProblemsBesideTheirFields(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			o := signUpOwner(t, env, "ada@example.com")
			home := get(t, o.c, env.URL+"/")
			wantIn(t, home, `<a class="who" href="/me"`)
			p := get(t, o.c, env.URL+"/me")
			if p.Status != 200 {
				t.Fatalf("the profile page: %d", p.Status)
			}
			wantIn(t, p, `aria-current="page">Profil</a>`, `value="Ada"`, `value="Lovelace"`, `<option value="fr" lang="fr" selected>`,
				`<option value="Europe/Paris">Europe/Paris</option>`, "ada@example.com")

			bad := post(t, o.c, env.URL+"/me", profileForm("", "<b>L</b>", "fr", "Mars/Olympus", "not an address"))
			if bad.Status != 422 {
				t.Fatalf("a refused change: %d", bad.Status)
			}
			wantIn(t, bad, `id="e-first_name"`, `id="e-last_name"`, `id="e-time_zone"`, `id="e-notification_email"`,
				`value="&lt;b&gt;L&lt;/b&gt;"`)
			if u, _ := env.App.DB.UserByEmailKey(t.Context(), "ada@example.com"); u.LastName != "Lovelace" || u.TimeZone != "" {
				t.Fatalf("a refused change changed the user: %+v", u)
			}

			done := post(t, o.c, env.URL+"/me", profileForm("Augusta", "King", "en", "Asia/Tokyo", ""))
			if done.Status != 303 || done.Header.Get("Location") != "/me?done=saved" {
				t.Fatalf("save: %d %s", done.Status, done.Header.Get("Location"))
			}
			p = get(t, o.c, env.URL+"/me?done=saved")
			wantIn(t, p, "Your profile is saved.", `value="Augusta"`, `<option value="Asia/Tokyo" selected>`, "Augusta King</a>")
			team := get(t, o.c, env.URL+"/accounts/"+o.account.String()+"/members")
			wantIn(t, team, "(UTC&#43;09:00)")
			// The person's own pages say times in their zone too.
			wantIn(t, get(t, o.c, env.URL+"/me/sessions"), "(UTC&#43;09:00)")
		})
	}
}

// TestProfilePage_NotificationAddressWaitsForItsLink: a new address is shown
// pending with resend and cancel; its link's page confirms only on POST.
func TestProfilePage_NotificationAddressWaitsForItsLink(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	if p := post(t, o.c, env.URL+"/me", profileForm("Ada", "Lovelace", "fr", "", "secretariat@example.com")); p.Status != 303 ||
		p.Header.Get("Location") != "/me?done=notification_sent" {
		t.Fatalf("save: %d %s", p.Status, p.Header.Get("Location"))
	}
	p := get(t, o.c, env.URL+"/me?done=notification_sent")
	wantIn(t, p, "Un lien a été envoyé à secretariat@example.com", `action="/me/notification-email/resend"`,
		`action="/me/notification-email/cancel"`, `id="f-notification_email" name="notification_email" type="email" value="secretariat@example.com"`,
		`<p class="hint" id="w-notification_email">En attente de confirmation : les notifications partent à ada@example.com`)
	// The form sent back as shown, with a new first name, keeps the
	// address waiting with its link.
	u, _ := env.App.DB.UserByEmailKey(t.Context(), "ada@example.com")
	asked, err := env.App.Identity.Profile(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r := post(t, o.c, env.URL+"/me", profileForm("Augusta", "Lovelace", "fr", "", "secretariat@example.com")); r.Status != 303 ||
		r.Header.Get("Location") != "/me?done=saved" {
		t.Fatalf("the form sent back: %d %s", r.Status, r.Header.Get("Location"))
	}
	if kept, err := env.App.Identity.Profile(t.Context(), u.ID); err != nil || kept.PendingEmail != "secretariat@example.com" ||
		!kept.PendingExpires.Equal(asked.PendingExpires) || kept.User.FirstName != "Augusta" {
		t.Fatalf("after the form sent back: %+v %v", kept, err)
	}
	if r := post(t, o.c, env.URL+"/me/notification-email/resend", nil); r.Status != 303 || r.Header.Get("Location") != "/me?done=notification_resent" {
		t.Fatalf("resend: %d %s", r.Status, r.Header.Get("Location"))
	}
	// The resent link, the first one's successor.
	testenv.Await(t, 10*time.Second, testenv.Every(20*time.Millisecond), "two links",
		func() bool { return env.Mails("secretariat@example.com", "notification_email") == 2 })
	link := apptest.Link(t, env.Mail(t, "secretariat@example.com", "notification_email"), "/notification-email/")
	anonymous := env.Client()
	form := get(t, anonymous, link)
	wantIn(t, form, "secretariat@example.com", `<form method="post">`)
	if u, _ := env.App.DB.UserByEmailKey(t.Context(), "ada@example.com"); u.NotificationEmail != "" {
		t.Fatal("opening the link confirmed the address")
	}
	if done := post(t, anonymous, link, nil); done.Status != 200 || !strings.Contains(done.Body, "Adresse de notification confirmée") {
		t.Fatalf("confirm: %d", done.Status)
	}
	if again := post(t, anonymous, link, nil); again.Status != 410 {
		t.Fatalf("the link used again: %d", again.Status)
	}
	p = get(t, o.c, env.URL+"/me")
	wantIn(t, p, `value="secretariat@example.com"`)
	wantNotIn(t, p, `action="/me/notification-email/cancel"`)
}

// TestPasswordPage_NeedsTheCurrentPasswordAndEndsTheOtherSessions.
func TestPasswordPage_NeedsTheCurrentPasswordAndEndsTheOtherSessions(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			o := signUpOwner(t, env, "ada@example.com")
			firefox := otherBrowser(t, env, "ada@example.com", ownerPassword)
			p := get(t, o.c, env.URL+"/me/password")
			wantIn(t, p, `aria-current="page">Mot de passe</a>`, `autocomplete="current-password"`, `autocomplete="new-password"`)

			next := "a brand new sentence to remember"
			wrong := post(t, o.c, env.URL+"/me/password", url.Values{"current_password": {"not my password at all"},
				"new_password": {next}, "password_confirm": {next}})
			if wrong.Status != 422 {
				t.Fatalf("a wrong current password: %d", wrong.Status)
			}
			wantIn(t, wrong, `id="e-current_password"`, "pas votre mot de passe actuel")
			mismatch := post(t, o.c, env.URL+"/me/password", url.Values{"current_password": {ownerPassword},
				"new_password": {next}, "password_confirm": {next + "!"}})
			wantIn(t, mismatch, `id="e-password_confirm"`)
			weak := post(t, o.c, env.URL+"/me/password", url.Values{"current_password": {ownerPassword},
				"new_password": {"password1234"}, "password_confirm": {"password1234"}})
			wantIn(t, weak, `id="e-new_password"`)
			if p := get(t, firefox, env.URL+"/"); p.Status != 200 {
				t.Fatalf("a refused change ended the other session: %d", p.Status)
			}

			done := post(t, o.c, env.URL+"/me/password", url.Values{"current_password": {ownerPassword},
				"new_password": {next}, "password_confirm": {next}})
			if done.Status != 303 || done.Header.Get("Location") != "/me/password?done=changed" {
				t.Fatalf("change: %d %s", done.Status, done.Header.Get("Location"))
			}
			wantIn(t, get(t, o.c, env.URL+"/me/password?done=changed"), "Votre mot de passe est changé.")
			if p := get(t, firefox, env.URL+"/"); p.Status != 303 {
				t.Fatalf("the other session still works: %d", p.Status)
			}
			env.Mail(t, "ada@example.com", "password_changed")
		})
	}
}

// TestPasswordForms_ATooShortPasswordThatDiffersFromItsConfirmationIsToldBoth:
// on the password page, on a reset link's page and on an invitation's, a
// new password too short and unlike its confirmation is told both problems
// at once, each beside its field.
func TestPasswordForms_ATooShortPasswordThatDiffersFromItsConfirmationIsToldBoth(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	p := post(t, o.c, env.URL+"/me/password", url.Values{"current_password": {ownerPassword},
		"new_password": {"abcde"}, "password_confirm": {"abcdf"}})
	if p.Status != 422 {
		t.Fatalf("change: %d", p.Status)
	}
	wantIn(t, p, `<p class="error" id="e-new_password">Le mot de passe doit compter au moins 12 caractères.</p>`,
		`id="e-password_confirm"`, `href="#f-new_password"`, `href="#f-password_confirm"`)

	anonymous := env.Client()
	if p := post(t, anonymous, env.URL+"/forgot-password", url.Values{"email": {"ada@example.com"}}); p.Status != 200 && p.Status != 303 {
		t.Fatalf("forgot: %d", p.Status)
	}
	link := apptest.Link(t, env.Mail(t, "ada@example.com", "password_reset"), "/password-reset/")
	u, _ := url.Parse(link)
	p = post(t, anonymous, env.URL+u.Path, url.Values{"password": {"abcde"}, "password_confirm": {"abcdf"}})
	if p.Status != 422 {
		t.Fatalf("reset: %d", p.Status)
	}
	wantIn(t, p, `<p class="error" id="e-password">Le mot de passe doit compter au moins 12 caractères.</p>`,
		`id="e-password_confirm"`, `href="#f-password"`, `href="#f-password_confirm"`)

	// An invitation's form too.
	o.added(t, team.NewMember{Email: "grace@example.com", FirstName: "Grace", LastName: "Hopper", SendInvitation: true})
	invitation := apptest.Link(t, env.Mail(t, "grace@example.com", "invitation"), "/invitations/")
	p = post(t, env.Client(), invitation, url.Values{"first_name": {"Grace"}, "last_name": {"Hopper"}, "password": {"abcde"},
		"password_confirm": {"abcdf"}})
	wantIn(t, p, `<p class="error" id="e-password">Le mot de passe doit compter au moins 12 caractères.</p>`,
		`id="e-password_confirm"`)
}
