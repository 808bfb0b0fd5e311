package api_test

import (
	"testing"
	"time"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store/storetest"
)

// TestAddingAFactor_API_ALoginOlderThanTenMinutesNeedsThePassword: more
// than ten minutes after the login, starting an authenticator app's setup
// and beginning a passkey's registration answer 422 with a field error on
// password without it (reauth_required) and with a wrong one
// (current_wrong), and make no seed; with the right one the setup starts,
// and the session's next steps need it no more. Just after a login, no
// password is needed.
func TestAddingAFactor_API_ALoginOlderThanTenMinutesNeedsThePassword(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			clock := apptest.NewClock(time.Now().UTC().Truncate(time.Microsecond))
			opts := onLocalhost()
			opts.Now = clock.Now
			env := apptest.Start(t, e, opts)
			c := env.Client()
			ada := signUp(t, env, "ada@a.example")
			if r := call(t, c, "POST", env.URL+"/api/v1/me/totp", nil, bearer(ada)...); r.Status != 201 {
				t.Fatalf("just after the login: %d %s", r.Status, r.Raw)
			}

			clock.Advance(10*time.Minute + time.Second)
			for _, step := range []struct {
				path string
				body map[string]any
			}{
				{"/api/v1/me/totp", map[string]any{}},
				{"/api/v1/me/passkeys/options", map[string]any{"name": "Phone"}},
			} {
				for password, want := range map[string]string{"": "password.reauth_required", "not the password at all": "password.current_wrong"} {
					body := map[string]any{}
					for k, v := range step.body {
						body[k] = v
					}
					if password != "" {
						body["password"] = password
					}
					r := call(t, c, "POST", env.URL+step.path, body, bearer(ada)...)
					if r.Status != 422 || r.fieldCodes()["password"] != want {
						t.Fatalf("%s with the password %q: %d %s", step.path, password, r.Status, r.Raw)
					}
				}
			}
			// No body at all is no password either.
			if r := call(t, c, "POST", env.URL+"/api/v1/me/totp", nil, bearer(ada)...); r.Status != 422 ||
				r.fieldCodes()["password"] != "password.reauth_required" {
				t.Fatalf("without a body: %d %s", r.Status, r.Raw)
			}
			// The seed of the setup started just after the login stays
			// the one the database holds: no other was made.
			auth, err := env.App.Identity.Authenticate(t.Context(), ada)
			if err != nil {
				t.Fatal(err)
			}
			f, err := env.App.DB.TOTPFactor(t.Context(), auth.User.ID)
			if err != nil {
				t.Fatal(err)
			}

			r := call(t, c, "POST", env.URL+"/api/v1/me/totp", map[string]any{"password": goodPassword}, bearer(ada)...)
			if r.Status != 201 || r.JSON["secret"] == "" {
				t.Fatalf("with the password: %d %s", r.Status, r.Raw)
			}
			if again, _ := env.App.DB.TOTPFactor(t.Context(), auth.User.ID); string(again.Secret) == string(f.Secret) {
				t.Fatal("the setup did not start again")
			}
			if r := call(t, c, "POST", env.URL+"/api/v1/me/passkeys/options", map[string]any{"name": "Phone"}, bearer(ada)...); r.Status != 200 {
				t.Fatalf("a passkey just after the password: %d %s", r.Status, r.Raw)
			}
		})
	}
}
