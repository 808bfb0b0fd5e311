package api_test

import (
	"strings"
	"testing"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store/storetest"
)

// TestSignUp_TakesOverAnIdentityNobodyUsedOnceTheAddressConfirmsIt: an
// account added someone by typing their address and a made-up name,
// sending nothing. The address's owner signs up: nothing is created until
// the link emailed to the address confirms it; then the identity is theirs,
// under their own names, and the account that added them is an invitation,
// not an account they joined.
func TestSignUp_TakesOverAnIdentityNobodyUsedOnceTheAddressConfirmsIt(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "squatter@a.example")
		if r := call(t, env.Client(), "POST", a.url("/members"), map[string]any{"email": "camille@b.example", "first_name": "Fake",
			"last_name": "Name", "role": "manager", "locale": "en", "send_invitation": false}, bearer(a.admin)...); r.Status != 201 {
			t.Fatalf("add: %d %s", r.Status, r.Raw)
		}
		user, err := env.App.DB.UserByEmailKey(t.Context(), "camille@b.example")
		if err != nil || user.FirstName != "" || user.LastName != "" || user.Locale != "" {
			t.Fatalf("the identity an account made holds what it typed: %+v %v", user, err)
		}

		body := signupBody("camille@b.example")
		body["first_name"], body["last_name"], body["account_name"] = "Camille", "Durand", "Durand Conseil"
		raw := storetest.Raw(t, env.DB)
		before := storetest.Counts(t, raw)
		r := call(t, env.Client(), "POST", env.URL+"/api/v1/signup", body)
		if r.Status != 202 || r.JSON["confirmation_sent"] != true || strings.Contains(string(r.Raw), "Fake") {
			t.Fatalf("sign-up: %d %s", r.Status, r.Raw)
		}
		m := env.Mail(t, "camille@b.example", "signup_confirm")
		if !strings.Contains(m.Text, "Durand Conseil") {
			t.Fatalf("the confirmation email: %s", m.Text)
		}
		after := storetest.Counts(t, raw)
		for _, table := range []string{"users", "accounts", "members", "resources", "sessions"} {
			if after[table] != before[table] {
				t.Errorf("%s: %d rows before the sign-up, %d before its confirmation", table, before[table], after[table])
			}
		}
		if u, _ := env.App.DB.UserByEmailKey(t.Context(), "camille@b.example"); u.PasswordHash != "" || u.FirstName != "" {
			t.Fatalf("the identity changed before the address confirmed it: %+v", u)
		}

		secret := apptest.Secret(apptest.Link(t, m, "/signup/confirm/"))
		r = call(t, env.Client(), "POST", env.URL+"/api/v1/signup/confirm", map[string]any{"token": secret})
		if r.Status != 201 || r.JSON["token"] == nil {
			t.Fatalf("confirm: %d %s", r.Status, r.Raw)
		}
		token := r.JSON["token"].(string)
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/signup/confirm", map[string]any{"token": secret}); r.Status != 404 || r.code() != "link.used" {
			t.Fatalf("the link again: %d %s", r.Status, r.Raw)
		}
		me := call(t, env.Client(), "GET", env.URL+"/api/v1/me", nil, bearer(token)...)
		if me.JSON["first_name"] != "Camille" || me.JSON["last_name"] != "Durand" || me.JSON["email_verified"] != true ||
			me.JSON["id"] != user.ID.String() {
			t.Fatalf("me: %s", me.Raw)
		}
		call(t, env.Client(), "POST", env.URL+"/api/v1/me/consent", map[string]any{"accept_privacy_policy": true}, bearer(token)...)
		mine := call(t, env.Client(), "GET", env.URL+"/api/v1/me/accounts", nil, bearer(token)...)
		var joined, pending []string
		for _, it := range mine.JSON["items"].([]any) {
			e := it.(map[string]any)
			if e["status"] == "active" {
				joined = append(joined, e["name"].(string))
			} else {
				pending = append(pending, e["name"].(string))
			}
		}
		if strings.Join(joined, ",") != "Durand Conseil" || strings.Join(pending, ",") != "Analytical Engines" {
			t.Fatalf("accounts: joined %q, pending %q (%s)", joined, pending, mine.Raw)
		}

		// An identity someone uses is not taken over: the sign-up is refused.
		again := call(t, env.Client(), "POST", env.URL+"/api/v1/signup", signupBody("camille@b.example"))
		if again.Status != 409 || again.code() != "signup.email_unavailable" {
			t.Fatalf("a second sign-up: %d %s", again.Status, again.Raw)
		}
	})
}
