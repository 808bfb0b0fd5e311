package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/testenv"
	"github.com/equipe-dev/equipe/store/storetest"
)

func patchMe(t *testing.T, env *apptest.Env, token string, body any, headers ...string) response {
	t.Helper()
	return call(t, env.Client(), "PATCH", env.URL+"/api/v1/me", body, append(bearer(token), headers...)...)
}

func getMe(t *testing.T, env *apptest.Env, token string) response {
	t.Helper()
	r := call(t, env.Client(), "GET", env.URL+"/api/v1/me", nil, bearer(token)...)
	if r.Status != 200 {
		t.Fatalf("me: %d %s", r.Status, r.Raw)
	}
	return r
}

func TestMe_PatchIsAMergePatch(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		token := signUp(t, env, "ada@example.com")
		r := patchMe(t, env, token, map[string]any{"first_name": " Augusta ", "time_zone": "Europe/Paris"})
		if r.Status != 200 || r.JSON["first_name"] != "Augusta" || r.JSON["last_name"] != "Lovelace" ||
			r.JSON["locale"] != "en" || r.JSON["time_zone"] != "Europe/Paris" {
			t.Fatalf("patch: %d %s", r.Status, r.Raw)
		}
		// Absent members stay; null removes the time zone.
		r = patchMe(t, env, token, map[string]any{"locale": "fr", "time_zone": nil})
		if r.Status != 200 || r.JSON["first_name"] != "Augusta" || r.JSON["locale"] != "fr" || r.JSON["time_zone"] != "" {
			t.Fatalf("second patch: %d %s", r.Status, r.Raw)
		}
		// The merge patch's own media type is JSON too.
		if r := patchMe(t, env, token, `{"last_name": "King"}`, "Content-Type", "application/merge-patch+json"); r.Status != 200 || r.JSON["last_name"] != "King" {
			t.Fatalf("merge-patch+json: %d %s", r.Status, r.Raw)
		}
		// An empty patch changes nothing.
		if r := patchMe(t, env, token, map[string]any{}); r.Status != 200 || r.JSON["first_name"] != "Augusta" {
			t.Fatalf("empty patch: %d %s", r.Status, r.Raw)
		}
		if got := getMe(t, env, token); got.JSON["locale"] != "fr" || got.JSON["first_name"] != "Augusta" {
			t.Fatalf("me after the patches: %s", got.Raw)
		}
	})
}

func TestMe_BadPatchChangesNothing(t *testing.T) {
	tests := []struct {
		name        string
		body        any
		status      int
		field, code string
	}{
		{"unknown zone", map[string]any{"first_name": "Augusta", "time_zone": "Mars/Olympus"}, 422, "time_zone", "time_zone.invalid"},
		{"names cannot be removed", map[string]any{"first_name": nil, "locale": "fr"}, 422, "first_name", "name.required"},
		{"markup in a name", map[string]any{"last_name": "<b>L</b>"}, 422, "last_name", "name.markup"},
		{"unknown language", map[string]any{"locale": "de"}, 422, "locale", "locale.invalid"},
		{"bad notification address", map[string]any{"first_name": "Augusta", "notification_email": "not an address"}, 422, "notification_email", "email.invalid"},
		{"unknown member", map[string]any{"email": "other@example.com"}, 400, "email", "request.unknown_field"},
		{"wrong type", map[string]any{"first_name": 3}, 400, "first_name", "request.wrong_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			each(t, func(t *testing.T, env *apptest.Env) {
				token := signUp(t, env, "ada@example.com")
				before := getMe(t, env, token)
				r := patchMe(t, env, token, tt.body)
				if r.Status != tt.status || r.fieldCodes()[tt.field] != tt.code {
					t.Fatalf("got %d %s, want %d with %s: %s", r.Status, r.Raw, tt.status, tt.field, tt.code)
				}
				if after := getMe(t, env, token); string(after.Raw) != string(before.Raw) {
					t.Fatalf("changed:\n%s\nwas\n%s", after.Raw, before.Raw)
				}
				if n := env.Mails("augusta@example.com", "notification_email"); n != 0 {
					t.Fatal("a link was sent")
				}
			})
		})
	}
}

func TestMe_PatchNeedsASessionNotAKey(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		tn := newTenant(t, env, "ada@example.com")
		key := tn.key(t, "admin")
		if r := patchMe(t, env, key, map[string]any{"first_name": "Augusta"}); r.Status != 403 || r.code() != "api_key.not_for_route" {
			t.Fatalf("with a key: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "PATCH", env.URL+"/api/v1/me", map[string]any{"first_name": "Augusta"}); r.Status != 401 {
			t.Fatalf("anonymous: %d %s", r.Status, r.Raw)
		}
	})
}

// TestMe_NotificationEmailIsUsedOnlyOnceConfirmed follows seed 003's
// notification address: nothing but the confirmation link goes to it until
// the link is used; team notifications (the adder's confirmation) go to the
// login email meanwhile, and to the new address afterwards.
func TestMe_NotificationEmailIsUsedOnlyOnceConfirmed(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		tn := newTenant(t, env, "ada@example.com")
		r := patchMe(t, env, tn.admin, map[string]any{"notification_email": "Secretariat@Example.com"})
		pending, _ := r.JSON["pending_notification_email"].(map[string]any)
		if r.Status != 200 || r.JSON["notification_email"] != "" || pending["email"] != "Secretariat@example.com" {
			t.Fatalf("patch: %d %s", r.Status, r.Raw)
		}
		link := apptest.Link(t, env.Mail(t, "Secretariat@example.com", "notification_email"), "/notification-email/")

		// Unconfirmed: the adder's confirmation goes to the login email.
		if r := call(t, env.Client(), "POST", tn.url("/members"), newMemberBody("grace@example.com"), bearer(tn.admin)...); r.Status != 201 {
			t.Fatalf("add: %d %s", r.Status, r.Raw)
		}
		env.Mail(t, "ada@example.com", "adder_confirmation")

		// Opening the link confirms nothing; the POST does, once.
		call(t, env.Client(), "GET", link, nil)
		if me := getMe(t, env, tn.admin); me.JSON["notification_email"] != "" {
			t.Fatalf("confirmed by a GET: %s", me.Raw)
		}
		confirmURL := env.URL + "/api/v1/notification-email/confirm"
		if r := call(t, env.Client(), "POST", confirmURL, map[string]any{"token": apptest.Secret(link)}); r.Status != 204 {
			t.Fatalf("confirm: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "POST", confirmURL, map[string]any{"token": apptest.Secret(link)}); r.Status != 404 || r.code() != "link.used" {
			t.Fatalf("second use: %d %s", r.Status, r.Raw)
		}
		me := getMe(t, env, tn.admin)
		if me.JSON["notification_email"] != "Secretariat@example.com" || me.JSON["pending_notification_email"] != nil {
			t.Fatalf("after confirmation: %s", me.Raw)
		}
		if r := call(t, env.Client(), "POST", tn.url("/members"), newMemberBody("alan@example.com"), bearer(tn.admin)...); r.Status != 201 {
			t.Fatalf("add: %d %s", r.Status, r.Raw)
		}
		env.Mail(t, "Secretariat@example.com", "adder_confirmation")
		if n := env.Mails("ada@example.com", "adder_confirmation"); n != 1 {
			t.Fatalf("%d adder confirmations to the login email, want the first only", n)
		}

		// Clearing it goes back to the login email.
		if r := patchMe(t, env, tn.admin, map[string]any{"notification_email": nil}); r.Status != 200 || r.JSON["notification_email"] != "" {
			t.Fatalf("clear: %d %s", r.Status, r.Raw)
		}
		kinds := auditKinds(t, env)
		for _, k := range []string{"user.notification_email_requested", "user.notification_email_confirmed", "user.notification_email_removed"} {
			if !strings.Contains(kinds, k) {
				t.Errorf("no %s event in %s", k, kinds)
			}
		}
	})
}

// auditKinds returns the kinds of the audit events recorded, in order.
func auditKinds(t *testing.T, env *apptest.Env) string {
	t.Helper()
	rows, err := storetest.Raw(t, env.DB).Query(`SELECT action FROM audit_events ORDER BY at, id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return strings.Join(out, " ")
}

func TestMe_NotificationLinkResendCancelAndExpiry(t *testing.T) {
	var clock *apptest.Clock
	eachWith(t, clocked(&clock), func(t *testing.T, env *apptest.Env) {
		token := signUp(t, env, "ada@example.com")
		resend := env.URL + "/api/v1/me/notification-email/resend"
		pending := env.URL + "/api/v1/me/notification-email/pending"
		confirmURL := env.URL + "/api/v1/notification-email/confirm"
		if r := call(t, env.Client(), "POST", resend, nil, bearer(token)...); r.Status != 404 || r.code() != "notification_email.none_pending" {
			t.Fatalf("resend with none pending: %d %s", r.Status, r.Raw)
		}
		patchMe(t, env, token, map[string]any{"notification_email": "desk@example.com"})
		first := apptest.Secret(apptest.Link(t, env.Mail(t, "desk@example.com", "notification_email"), "/notification-email/"))
		// The same address again sends nothing more.
		patchMe(t, env, token, map[string]any{"notification_email": "DESK@example.com"})
		if r := call(t, env.Client(), "POST", resend, nil, bearer(token)...); r.Status != 202 {
			t.Fatalf("resend: %d %s", r.Status, r.Raw)
		}
		if n := len(env.Outbox(t, "notification_email")); n != 2 {
			t.Fatalf("%d links sent, want the first and the resent one", n)
		}
		testenv.Await(t, 10*time.Second, testenv.Every(20*time.Millisecond), "the resent link", func() bool { return env.Mails("desk@example.com", "notification_email") == 2 })
		var second string
		for _, m := range env.App.Mailbox.Messages() {
			if m.Template == "notification_email" {
				if s := apptest.Secret(apptest.Link(t, m, "/notification-email/")); s != first {
					second = s
				}
			}
		}
		if r := call(t, env.Client(), "POST", confirmURL, map[string]any{"token": first}); r.Status != 404 || r.code() != "link.used" {
			t.Fatalf("replaced link: %d %s", r.Status, r.Raw)
		}
		// Past 72 hours the link has expired.
		clock.Advance(72 * time.Hour)
		if r := call(t, env.Client(), "POST", confirmURL, map[string]any{"token": second}); r.Status != 404 || r.code() != "link.expired" {
			t.Fatalf("expired link: %d %s", r.Status, r.Raw)
		}
		// The session has expired too meanwhile.
		token = call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": "ada@example.com", "password": goodPassword}).JSON["token"].(string)
		if me := getMe(t, env, token); me.JSON["pending_notification_email"] != nil || me.JSON["notification_email"] != "" {
			t.Fatalf("after expiry: %s", me.Raw)
		}
		// A cancelled address's link stops working.
		patchMe(t, env, token, map[string]any{"notification_email": "office@example.com"})
		third := apptest.Secret(apptest.Link(t, env.Mail(t, "office@example.com", "notification_email"), "/notification-email/"))
		if r := call(t, env.Client(), "DELETE", pending, nil, bearer(token)...); r.Status != 204 {
			t.Fatalf("cancel: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "POST", confirmURL, map[string]any{"token": third}); r.Status != 404 || r.code() != "link.used" {
			t.Fatalf("cancelled link: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "DELETE", pending, nil, bearer(token)...); r.Status != 404 {
			t.Fatalf("cancel again: %d %s", r.Status, r.Raw)
		}
	})
}

func TestMe_NotificationLinksAreThrottled(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		token := signUp(t, env, "ada@example.com")
		var last response
		for i := range 6 {
			last = patchMe(t, env, token, map[string]any{"notification_email": "desk" + string(rune('a'+i)) + "@example.com"})
		}
		if last.Status != 429 || last.Header.Get("Retry-After") == "" {
			t.Fatalf("sixth link in the hour: %d %s", last.Status, last.Raw)
		}
		if me := getMe(t, env, token); me.JSON["pending_notification_email"].(map[string]any)["email"] != "deske@example.com" {
			t.Fatalf("the refused address replaced the pending one: %s", me.Raw)
		}
	})
}

func changePassword(t *testing.T, env *apptest.Env, token, current, next string, headers ...string) response {
	t.Helper()
	return call(t, env.Client(), "POST", env.URL+"/api/v1/me/password",
		map[string]any{"current_password": current, "new_password": next}, append(bearer(token), headers...)...)
}

func TestMePassword_EndsOtherSessionsKeepsThisOneAndTellsByEmail(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		token := signUp(t, env, "ada@example.com")
		other := call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": "ada@example.com", "password": goodPassword})
		otherToken := other.JSON["token"].(string)
		next := "a brand new sentence to remember"
		if r := changePassword(t, env, token, goodPassword, next); r.Status != 204 {
			t.Fatalf("change: %d %s", r.Status, r.Raw)
		}
		getMe(t, env, token)
		if r := call(t, env.Client(), "GET", env.URL+"/api/v1/me", nil, bearer(otherToken)...); r.Status != 401 {
			t.Fatalf("the other session: %d %s", r.Status, r.Raw)
		}
		env.Mail(t, "ada@example.com", "password_changed")
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": "ada@example.com", "password": goodPassword}); r.Status != 401 {
			t.Fatalf("old password: %d", r.Status)
		}
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": "ada@example.com", "password": next}); r.Status != 200 {
			t.Fatalf("new password: %d", r.Status)
		}
		if !strings.Contains(auditKinds(t, env), "user.password_changed") {
			t.Error("no user.password_changed event")
		}
	})
}

func TestMePassword_RefusalsChangeNothing(t *testing.T) {
	tests := []struct {
		name, current, next string
		field, code         string
	}{
		{"wrong current password", "lovelace rode the number engines", "a brand new sentence to remember", "current_password", "password.current_wrong"},
		{"weak new password", goodPassword, "password1234", "new_password", "password.common"},
		{"short new password", goodPassword, "short", "new_password", "password.too_short"},
		{"new password of the context", goodPassword, "ada@example.com lovelace", "new_password", "password.context"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			each(t, func(t *testing.T, env *apptest.Env) {
				token := signUp(t, env, "ada@example.com")
				other := call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": "ada@example.com", "password": goodPassword})
				r := changePassword(t, env, token, tt.current, tt.next)
				if r.Status != 422 || r.fieldCodes()[tt.field] != tt.code {
					t.Fatalf("got %d %s, want 422 with %s: %s", r.Status, r.Raw, tt.field, tt.code)
				}
				getMe(t, env, other.JSON["token"].(string))
				if r := call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": "ada@example.com", "password": goodPassword}); r.Status != 200 {
					t.Fatalf("the password changed: %d", r.Status)
				}
				if n := len(env.Outbox(t, "password_changed")); n != 0 {
					t.Fatalf("%d password_changed emails", n)
				}
			})
		})
	}
}

func TestMePassword_WrongCurrentPasswordsAreThrottled(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		token := signUp(t, env, "ada@example.com")
		var r response
		for range 6 {
			r = changePassword(t, env, token, "not my password at all", "a brand new sentence to remember")
		}
		if r.Status != 429 || r.Header.Get("Retry-After") == "" {
			t.Fatalf("sixth wrong password: %d %s", r.Status, r.Raw)
		}
		// Blocked, even the right password is refused, and nothing changes.
		if r := changePassword(t, env, token, goodPassword, "a brand new sentence to remember"); r.Status != 429 {
			t.Fatalf("right password while blocked: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": "ada@example.com", "password": goodPassword}); r.Status != 200 {
			t.Fatalf("the password changed: %d", r.Status)
		}
	})
}

func TestMe_SecretsNeverStoredOrLoggedInClear(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		token := signUp(t, env, "ada@example.com")
		secrets := map[string]string{"session": token, "wrong current password": "not my password at all",
			"new password": "a brand new sentence to remember"}
		patchMe(t, env, token, map[string]any{"notification_email": "desk@example.com"})
		link := apptest.Link(t, env.Mail(t, "desk@example.com", "notification_email"), "/notification-email/")
		secrets["notification link"] = apptest.Secret(link)
		call(t, env.Client(), "GET", link, nil)
		call(t, env.Client(), "POST", env.URL+"/notification-email/"+secrets["notification link"], nil)
		call(t, env.Client(), "POST", env.URL+"/api/v1/notification-email/confirm", map[string]any{"token": secrets["notification link"]})
		changePassword(t, env, token, secrets["wrong current password"], secrets["new password"])
		if r := changePassword(t, env, token, goodPassword, secrets["new password"]); r.Status != 204 {
			t.Fatalf("change: %d %s", r.Status, r.Raw)
		}
		env.Delivered(t)
		dump := storetest.Dump(t, storetest.Raw(t, env.DB))
		logs := env.Logs()
		if !strings.Contains(dump, "desk@example.com") || !strings.Contains(logs, "/notification-email/") {
			t.Fatal("the dump or the logs are empty: the test would prove nothing")
		}
		for name, s := range secrets {
			if strings.Contains(dump, s) {
				t.Errorf("the database holds the %s in clear", name)
			}
			if strings.Contains(logs, s) {
				t.Errorf("the logs hold the %s", name)
			}
		}
	})
}
