package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/passkeytest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// TestMyEmailPage_AsksResendsWithdrawsAndItsLinksConfirmOnlyByPost: the
// page refuses bad input beside its fields, then shows the pending change
// with a resend and a withdrawal; the link pages change nothing until their
// button is pressed, keep their secret from other sites, and say when a
// link was used.
func TestMyEmailPage_AsksResendsWithdrawsAndItsLinksConfirmOnlyByPost(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			o := signUpOwner(t, env, "ada@example.com")
			p := get(t, o.c, env.URL+"/me/email")
			wantIn(t, p, `aria-current="page">Adresse de connexion</a>`, "Vous vous connectez avec ada@example.com.")
			if strings.Contains(p.Body, "pending-change") {
				t.Fatal("a change is shown as pending before any")
			}

			bad := post(t, o.c, env.URL+"/me/email", url.Values{"new_email": {"ada@example.com"}, "current_password": {""}})
			if bad.Status != 422 {
				t.Fatalf("bad input: %d", bad.Status)
			}
			wantIn(t, bad, `id="e-new_email"`, "C’est déjà votre adresse de connexion.", `id="e-current_password"`,
				"Saisissez votre mot de passe actuel.", `href="#f-new_email"`)

			ask := post(t, o.c, env.URL+"/me/email", url.Values{"new_email": {"ada@example.net"}, "current_password": {ownerPassword}})
			if ask.Status != 303 || ask.Header.Get("Location") != "/me/email?done=requested" {
				t.Fatalf("ask: %d %s", ask.Status, ask.Header.Get("Location"))
			}
			wantIn(t, get(t, o.c, env.URL+"/me/email?done=requested"), "pending-change", "en route vers ada@example.net",
				`action="/me/email/resend"`, `action="/me/email/withdraw"`)
			first := apptest.Link(t, env.Mail(t, "ada@example.net", "email_change_requested"), "/email-change/confirm/")

			if r := post(t, o.c, env.URL+"/me/email/resend", nil); r.Status != 303 || r.Header.Get("Location") != "/me/email?done=resent" {
				t.Fatalf("resend: %d %s", r.Status, r.Header.Get("Location"))
			}
			env.Delivered(t)
			second := apptest.Link(t, env.Mail(t, "ada@example.net", "email_change_requested"), "/email-change/confirm/")
			if second == first {
				t.Fatal("the resend sent the same link")
			}
			if p := get(t, env.Client(), first); p.Status != 410 || !strings.Contains(p.Body, "déjà été utilisé") {
				t.Fatalf("the replaced link's page: %d", p.Status)
			}
			// Opening the link shows a button and changes nothing.
			c := env.Client()
			p = get(t, c, second)
			if p.Status != 200 || p.Header.Get("Referrer-Policy") != "no-referrer" {
				t.Fatalf("link page: %d, Referrer-Policy %q", p.Status, p.Header.Get("Referrer-Policy"))
			}
			wantIn(t, p, "ada@example.net", `<form method="post">`)
			wantIn(t, get(t, o.c, env.URL+"/me/email"), "Vous vous connectez avec ada@example.com.")

			if r := post(t, o.c, env.URL+"/me/email/withdraw", nil); r.Status != 303 || r.Header.Get("Location") != "/me/email?done=withdrawn" {
				t.Fatalf("withdraw: %d %s", r.Status, r.Header.Get("Location"))
			}
			if r := post(t, c, second, nil); r.Status != 410 {
				t.Fatalf("a withdrawn link confirmed: %d", r.Status)
			}
			again := post(t, o.c, env.URL+"/me/email/withdraw", nil)
			if again.Status != 404 {
				t.Fatalf("withdraw nothing: %d", again.Status)
			}
			wantIn(t, again, "Aucun changement d’adresse de connexion n’attend de confirmation.")

			// The old address's link: a page, then a button that logs everyone out.
			cancel := apptest.Link(t, env.Mail(t, "ada@example.com", "email_change_notice"), "/email-change/cancel/")
			if p := get(t, c, cancel); p.Status != 200 || p.Header.Get("Referrer-Policy") != "no-referrer" {
				t.Fatalf("cancel page: %d", p.Status)
			}
			wantIn(t, get(t, o.c, env.URL+"/me/email"), "Vous vous connectez avec ada@example.com.")
			done := post(t, c, cancel, nil)
			wantIn(t, done, "Le changement est annulé : vous vous connectez avec ada@example.com.")
			if p := get(t, o.c, env.URL+"/me/email"); p.Status != 303 || !strings.HasPrefix(p.Header.Get("Location"), "/login") {
				t.Fatalf("the session survived the cancellation: %d %s", p.Status, p.Header.Get("Location"))
			}
		})
	}
}

// TestMyEmailPage_AsksForACodeOfThePersonsAuthenticatorApp: the form of a
// person with an authenticator app has a code field, and refuses the
// change without a code, beside the field.
func TestMyEmailPage_AsksForACodeOfThePersonsAuthenticatorApp(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	if strings.Contains(get(t, o.c, env.URL+"/me/email").Body, `name="code"`) {
		t.Fatal("a code is asked of someone without an authenticator app")
	}
	enrolled(t, env, o.user.ID)
	wantIn(t, get(t, o.c, env.URL+"/me/email"), `name="code"`, `autocomplete="one-time-code"`)
	p := post(t, o.c, env.URL+"/me/email", url.Values{"new_email": {"ada@example.net"}, "current_password": {ownerPassword}})
	if p.Status != 422 {
		t.Fatalf("without a code: %d", p.Status)
	}
	wantIn(t, p, `id="e-code"`, "Saisissez un code de votre application d’authentification", `value="ada@example.net"`)
	if n := len(env.Outbox(t, "email_change_requested")); n != 0 {
		t.Fatalf("%d links sent without a code", n)
	}
}

// TestMyEmailPage_APersonWithAPasskeyConfirmsWithIt: for a person whose
// only second factor is a passkey, the page says that confirming needs
// JavaScript (shown without it) and the form's script; the form sent
// without the passkey's answer, as without JavaScript, is refused beside
// the passkey, and changes nothing; with the answer to the page's ceremony
// (here a software authenticator, as the script's browser would) it asks
// for the change.
func TestMyEmailPage_APersonWithAPasskeyConfirmsWithIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		env, base := startOnLocalhost(t, db.Engine())
		ada := signUpOwner(t, env, "ada@example.com")
		dev := passkeytest.New(base)
		if p := addPasskey(t, ada, base, dev, "Phone"); p.Status != http.StatusCreated {
			t.Fatalf("add a passkey: %d %s", p.Status, p.Body)
		}
		p := get(t, ada.c, env.URL+"/me/email")
		wantIn(t, p, `data-passkey="required"`, `name="passkey"`, `src="/static/passkeys.js"`, "<noscript>",
			"Confirmer avec une clé d’accès demande JavaScript")
		if strings.Contains(p.Body, `id="f-code"`) {
			t.Fatal("the page asks for a code of an app the person does not have")
		}

		bad := post(t, ada.c, env.URL+"/me/email", url.Values{"new_email": {"ada@example.net"}, "current_password": {ownerPassword}})
		if bad.Status != 422 {
			t.Fatalf("without the passkey: %d", bad.Status)
		}
		wantIn(t, bad, `id="e-passkey"`, "Confirmez avec l’une de vos clés d’accès", `href="#f-passkey"`)
		if _, err := env.App.Identity.PendingEmailChange(t.Context(), ada.user.ID); err == nil {
			t.Fatal("a change waits after a refusal")
		}

		opts := postJSON(t, ada.c, env.URL+"/me/email/passkey/options", []byte(`{}`))
		if opts.Status != 200 {
			t.Fatalf("options: %d %s", opts.Status, opts.Body)
		}
		answer, err := dev.Get([]byte(opts.Body))
		if err != nil {
			t.Fatal(err)
		}
		ok := post(t, ada.c, env.URL+"/me/email", url.Values{"new_email": {"ada@example.net"}, "current_password": {ownerPassword},
			"passkey": {string(answer)}})
		if ok.Status != 303 || ok.Header.Get("Location") != "/me/email?done=requested" {
			t.Fatalf("with the passkey: %d %s", ok.Status, text(ok.Body))
		}
		env.Mail(t, "ada@example.net", "email_change_requested")
		// The answer served once.
		again := post(t, ada.c, env.URL+"/me/email", url.Values{"new_email": {"ada@example.org"}, "current_password": {ownerPassword},
			"passkey": {string(answer)}})
		if again.Status != 422 {
			t.Fatalf("the same answer again: %d", again.Status)
		}
		wantIn(t, again, `id="e-passkey"`, "Votre clé d’accès n’a pas confirmé le changement")

		// A person without a passkey has no ceremony to begin.
		grace := signUpOwner(t, env, "grace@example.com")
		if p := postJSON(t, grace.c, env.URL+"/me/email/passkey/options", []byte(`{}`)); p.Status != 404 {
			t.Fatalf("options without a passkey: %d %s", p.Status, p.Body)
		}
		if p := get(t, grace.c, env.URL+"/me/email"); strings.Contains(p.Body, "data-passkey") || strings.Contains(p.Body, "passkeys.js") {
			t.Fatal("the page of a person without a passkey asks for one")
		}
	})
}
