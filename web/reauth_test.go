package web_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/passkeytest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// TestAddingAFactor_PagesAskForThePasswordOnceTheLoginIsOld: just after
// the login, /me/passkeys and /me/security add a factor without the
// password and show no field for it; more than ten minutes after, they show
// the field, and adding a passkey or setting up the app is refused without
// it (beside the field) and with a wrong one, adding nothing. The right
// password sets the app up, and the next steps need it no more.
func TestAddingAFactor_PagesAskForThePasswordOnceTheLoginIsOld(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clock := apptest.NewClock(time.Now().UTC().Truncate(time.Microsecond))
		var base string
		env := apptest.Start(t, db.Engine(), apptest.Options{Now: clock.Now, Configure: func(c *app.Config) {
			_, port, _ := net.SplitHostPort(c.Addr)
			base = "http://localhost:" + port
			c.PublicURL, _ = url.Parse(base)
		}})
		ada := signUpOwner(t, env, "ada@example.com")
		const field = `name="password" type="password" autocomplete="current-password"`
		for _, path := range []string{"/me/passkeys", "/me/security"} {
			if p := get(t, ada.c, env.URL+path); p.Status != 200 || strings.Contains(p.Body, field) {
				t.Fatalf("%s just after the login: %d, asks for the password: %v", path, p.Status, strings.Contains(p.Body, field))
			}
		}

		clock.Advance(10*time.Minute + time.Second)
		for _, path := range []string{"/me/passkeys", "/me/security"} {
			p := get(t, ada.c, env.URL+path)
			wantIn(t, p, field, "Votre connexion date de plus de 10 minutes : votre mot de passe confirme que c&#39;est bien vous.")
		}

		// A passkey: refused in JSON, beside the field, without the
		// password and with a wrong one.
		dev := passkeytest.New(base)
		for password, want := range map[string]string{
			"":                       "Saisissez votre mot de passe : votre connexion date de plus de 10 minutes",
			"not my password at all": "Ce n'est pas votre mot de passe actuel.",
		} {
			p := addPasskeyConfirmed(t, ada, base, dev, "Phone", password)
			var problem struct{ Fields map[string]string }
			if err := json.Unmarshal([]byte(p.Body), &problem); err != nil || p.Status != http.StatusUnprocessableEntity ||
				!strings.Contains(problem.Fields["password"], want) {
				t.Fatalf("a passkey with the password %q: %d %s", password, p.Status, p.Body)
			}
		}
		if keys, _, _ := env.App.Identity.Passkeys(t.Context(), ada.user.ID, equipe.Page{}); len(keys) != 0 {
			t.Fatalf("passkeys added: %+v", keys)
		}

		// The app, without the script: the form again, the problem beside
		// the field, and no seed made.
		p := post(t, ada.c, env.URL+"/me/security/totp", url.Values{"next": {""}})
		if p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("the app without the password: %d", p.Status)
		}
		wantIn(t, p, `<p class="error" id="e-password">Saisissez votre mot de passe`, field)
		p = post(t, ada.c, env.URL+"/me/security/totp", url.Values{"next": {""}, "password": {"not my password at all"}})
		if p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("the app with a wrong password: %d", p.Status)
		}
		wantIn(t, p, `<p class="error" id="e-password">Ce n&#39;est pas votre mot de passe actuel.</p>`)
		if _, err := env.App.DB.TOTPFactor(t.Context(), ada.user.ID); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("a seed was made: %v", err)
		}

		// The right password: the setup shows its seed, and the page asks
		// for the password no more, nor does a passkey.
		p = post(t, ada.c, env.URL+"/me/security/totp", url.Values{"next": {""}, "password": {"lovelace rode the number engine"}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("the app with the password: %d %s", p.Status, text(p.Body))
		}
		p = get(t, ada.c, env.URL+"/me/security")
		wantIn(t, p, `id="totp-setup"`, `id="totp-secret"`)
		if strings.Contains(p.Body, field) {
			t.Error("the page asks for the password just after it was given")
		}
		if p := addPasskey(t, ada, base, dev, "Phone"); p.Status != http.StatusCreated {
			t.Fatalf("a passkey just after the password: %d %s", p.Status, p.Body)
		}
	})
}
