package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/store/storetest"
)

// person signs up someone with names of their own (so that a dump can be
// searched for them) and returns their session, accepted the policy, and
// their account's ID.
func person(t *testing.T, env *apptest.Env, email, first, last string) (token string, account string) {
	t.Helper()
	c := env.Client()
	body := signupBody(email)
	body["first_name"], body["last_name"] = first, last
	r := call(t, c, "POST", env.URL+"/api/v1/signup", body)
	if r.Status != 201 {
		t.Fatalf("signup %s: %d %s", email, r.Status, r.Raw)
	}
	account = r.JSON["account"].(map[string]any)["id"].(string)
	r = call(t, c, "POST", env.URL+"/api/v1/session", map[string]any{"email": email, "password": goodPassword})
	if r.Status != 200 {
		t.Fatalf("login %s: %d %s", email, r.Status, r.Raw)
	}
	token = r.JSON["token"].(string)
	if r := call(t, c, "POST", env.URL+"/api/v1/me/consent", map[string]any{"accept_privacy_policy": true}, bearer(token)...); r.Status != 200 {
		t.Fatalf("consent: %d %s", r.Status, r.Raw)
	}
	return token, account
}

// instanceAdminSession creates an instance administrator and returns their
// session (the policy accepted).
func instanceAdminSession(t *testing.T, env *apptest.Env) (equipe.User, string) {
	t.Helper()
	a := instanceActor(t, env)
	c := env.Client()
	r := call(t, c, "POST", env.URL+"/api/v1/session", map[string]any{"email": a.User.Email, "password": apptest.TestPassword})
	if r.Status != 200 {
		t.Fatalf("admin login: %d %s", r.Status, r.Raw)
	}
	token := r.JSON["token"].(string)
	if r := call(t, c, "POST", env.URL+"/api/v1/me/consent", map[string]any{"accept_privacy_policy": true}, bearer(token)...); r.Status != 200 {
		t.Fatalf("admin consent: %d %s", r.Status, r.Raw)
	}
	return *a.User, token
}

func TestExport_HoldsThePersonsDataWithoutSecrets(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		c := env.Client()
		token, account := person(t, env, "augusta@example.com", "Augusta", "Byronique")
		r := call(t, c, "GET", env.URL+"/api/v1/me/export", nil, bearer(token)...)
		if r.Status != 200 {
			t.Fatalf("export: %d %s", r.Status, r.Raw)
		}
		var x identity.Export
		if err := json.Unmarshal(r.Raw, &x); err != nil {
			t.Fatal(err)
		}
		if x.Format != "equipe.user-export/1" || x.ExportedAt.IsZero() {
			t.Errorf("format %q at %v", x.Format, x.ExportedAt)
		}
		u := x.User
		if u.Email != "augusta@example.com" || u.FirstName != "Augusta" || u.LastName != "Byronique" || u.Locale != "en" ||
			u.InstanceAdmin || u.CreatedAt.IsZero() || u.LastLoginAt == nil || u.PasswordChangedAt == nil {
			t.Errorf("user: %+v", u)
		}
		if len(x.Memberships) != 1 {
			t.Fatalf("memberships: %+v", x.Memberships)
		}
		m := x.Memberships[0]
		if m.AccountID.String() != account || m.AccountName != "Analytical Engines" || m.Role != "admin" ||
			m.Status != equipe.MemberActive || m.Overrides == nil || m.JoinedAt == nil {
			t.Errorf("membership: %+v", m)
		}
		if len(m.Changes) == 0 || m.Changes[0].Type != "member.added" {
			t.Errorf("membership changes: %+v", m.Changes)
		}
		p := env.App.Config.Policy
		// A version published without a label is named by its date.
		if len(x.Consents) != 1 || x.Consents[0].Version != p.Version || (p.Label != "" && x.Consents[0].Label != p.Label) ||
			(p.Label == "" && !strings.HasPrefix(x.Consents[0].Label, "Version")) || x.Consents[0].PublishedAt.IsZero() ||
			x.Consents[0].IP != "127.0.0.1" || x.Consents[0].AcceptedAt.IsZero() {
			t.Errorf("consents: %+v (policy %s %q)", x.Consents, p.Version, p.Label)
		}
		if len(x.Sessions) != 1 || x.Sessions[0].IP != "127.0.0.1" || x.Sessions[0].ExpiresAt.IsZero() {
			t.Errorf("sessions: %+v", x.Sessions)
		}
		// One login, from one browser; alerts on by default.
		if !u.NewBrowserAlerts || len(x.KnownBrowsers) != 1 || x.KnownBrowsers[0].FirstSeenAt.IsZero() {
			t.Errorf("new-browser alerts %v, known browsers %+v", u.NewBrowserAlerts, x.KnownBrowsers)
		}
		if len(x.SecondFactors) != 0 || len(x.APIKeys) != 0 {
			t.Errorf("factors %+v keys %+v", x.SecondFactors, x.APIKeys)
		}
		kinds := map[string]bool{}
		for _, e := range x.Events {
			kinds[string(e.Type)] = true
		}
		for _, k := range []string{"account.created", "member.added", "user.logged_in", "user.policy_accepted"} {
			if !kinds[k] {
				t.Errorf("no %s event in %v", k, kinds)
			}
		}
		// No secret: not the session's, not the password or its hash.
		for _, s := range []string{token, goodPassword, "argon2", `"hash"`} {
			if strings.Contains(string(r.Raw), s) {
				t.Errorf("the export holds %q", s)
			}
		}
		// The download is itself recorded.
		r = call(t, c, "GET", env.URL+"/api/v1/me/export", nil, bearer(token)...)
		if !strings.Contains(string(r.Raw), `"user.data_exported"`) {
			t.Error("the first download is not recorded")
		}
	})
}

func TestDeleteMe_RefusedToTheLastAdministratorOfAnAccount(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		c := env.Client()
		token, _ := person(t, env, "augusta@example.com", "Augusta", "Byronique")
		r := call(t, c, "DELETE", env.URL+"/api/v1/me", map[string]any{"password": goodPassword}, bearer(token)...)
		if r.Status != 409 || r.code() != "user.last_admin" || !strings.Contains(r.JSON["detail"].(string), "Analytical Engines") {
			t.Fatalf("last admin: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", env.URL+"/api/v1/me", nil, bearer(token)...); r.Status != 200 {
			t.Fatalf("after the refusal: %d", r.Status)
		}
	})
}

func TestDeleteMe_AsksThePassword(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		c := env.Client()
		token, _ := person(t, env, "augusta@example.com", "Augusta", "Byronique")
		for _, tc := range []struct {
			body any
			want string
		}{
			{map[string]any{}, "delete.password_required"},
			{map[string]any{"password": "not the password at all"}, "delete.password_incorrect"},
		} {
			r := call(t, c, "DELETE", env.URL+"/api/v1/me", tc.body, bearer(token)...)
			if r.Status != 422 || r.fieldCodes()["password"] != tc.want {
				t.Errorf("%v: %d %s", tc.body, r.Status, r.Raw)
			}
		}
		if r := call(t, c, "GET", env.URL+"/api/v1/me", nil, bearer(token)...); r.Status != 200 {
			t.Fatalf("after the refusals: %d", r.Status)
		}
		// Five tries in 15 minutes, like a login: then even the right password waits.
		// (An empty password is not a try: one wrong above, four here.)
		for range 4 {
			call(t, c, "DELETE", env.URL+"/api/v1/me", map[string]any{"password": "still not the password"}, bearer(token)...)
		}
		r := call(t, c, "DELETE", env.URL+"/api/v1/me", map[string]any{"password": goodPassword}, bearer(token)...)
		if r.Status != 429 || r.Header.Get("Retry-After") == "" {
			t.Fatalf("the sixth try: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", env.URL+"/api/v1/me", nil, bearer(token)...); r.Status != 200 {
			t.Fatalf("after the throttle: %d", r.Status)
		}
	})
}

func TestDeleteMe_ErasesThePersonAndPseudonymisesTheirEvents(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		c := env.Client()
		token, account := person(t, env, "augusta@example.com", "Augusta", "Byronique")
		acct, _ := equipe.ParseID(account)
		other := env.AddMember(t, acct, "grace@example.com", "admin", equipe.MemberActive)
		env.ConfirmAddress(t, "augusta@example.com")
		r := call(t, c, "POST", env.URL+"/api/v1/accounts/"+account+"/api-keys", map[string]any{"name": "Deploy key", "role": "admin"}, bearer(token)...)
		if r.Status != 201 {
			t.Fatalf("key: %d %s", r.Status, r.Raw)
		}
		key := r.JSON["secret"].(string)
		// A name and a notification address the person had before: gone too.
		r = call(t, c, "PATCH", env.URL+"/api/v1/me", map[string]any{"first_name": "Augustina", "notification_email": "ab@notes.example"}, bearer(token)...)
		if r.Status != 200 {
			t.Fatalf("profile: %d %s", r.Status, r.Raw)
		}
		r = call(t, c, "PATCH", env.URL+"/api/v1/me", map[string]any{"first_name": "Augusta"}, bearer(token)...)
		if r.Status != 200 {
			t.Fatalf("profile: %d %s", r.Status, r.Raw)
		}
		u, err := env.App.DB.UserByEmailKey(t.Context(), "augusta@example.com")
		if err != nil {
			t.Fatal(err)
		}

		r = call(t, c, "DELETE", env.URL+"/api/v1/me", map[string]any{"password": goodPassword}, bearer(token)...)
		if r.Status != 204 {
			t.Fatalf("delete: %d %s", r.Status, r.Raw)
		}
		// The notice goes to the address the person had.
		env.Mail(t, "augusta@example.com", "identity_deleted")
		env.Delivered(t)

		// Sessions and keys end; the login fails.
		if r := call(t, c, "GET", env.URL+"/api/v1/me", nil, bearer(token)...); r.Status != 401 {
			t.Errorf("session after deletion: %d", r.Status)
		}
		if r := call(t, c, "GET", env.URL+"/api/v1/accounts/"+account, nil, bearer(key)...); r.Status != 401 {
			t.Errorf("key after deletion: %d %s", r.Status, r.Raw)
		}
		// No trace of the person's address, names or ID is left anywhere.
		dump := storetest_dump(t, env)
		for _, s := range []string{"augusta@example.com", "Augusta", "Byronique", "ab@notes.example", u.ID.String()} {
			for _, line := range strings.Split(dump, "\n") {
				if strings.Contains(line, s) {
					t.Errorf("the database still holds %q: %s", s, line)
				}
			}
		}
		// (A login tried now is throttled by address, as for anyone.)
		if r := call(t, c, "POST", env.URL+"/api/v1/session", map[string]any{"email": "augusta@example.com", "password": goodPassword}); r.Status != 401 {
			t.Errorf("login after deletion: %d", r.Status)
		}
		// The account's log keeps what the person did, under one pseudonym.
		r = call(t, c, "GET", env.URL+"/api/v1/accounts/"+account+"/audit?limit=100", nil, bearer(other.Token)...)
		if r.Status != 200 {
			t.Fatalf("audit: %d %s", r.Status, r.Raw)
		}
		actors := map[string]bool{}
		removed := false
		for _, it := range r.JSON["items"].([]any) {
			e := it.(map[string]any)
			if e["type"] == "member.removed" {
				removed = true
			}
			if a, ok := e["actor"].(map[string]any); ok && a["type"] == "user" && a["id"] != other.User.ID.String() {
				actors[a["id"].(string)] = true
			}
		}
		if !removed || len(actors) != 1 {
			t.Errorf("the log's events: removed %v, actors other than the remaining admin %v", removed, actors)
		}
	})
}

func TestUsers_AnInstanceAdministratorExportsAndDeletesAUser(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		c := env.Client()
		_, account := person(t, env, "augusta@example.com", "Augusta", "Byronique")
		acct, _ := equipe.ParseID(account)
		grace := env.AddMember(t, acct, "grace@example.com", "member", equipe.MemberActive)
		u, _ := env.App.DB.UserByEmailKey(t.Context(), "augusta@example.com")
		path := env.URL + "/api/v1/users/" + u.ID.String()

		// Someone who is no instance administrator is told of no such user.
		if r := call(t, c, "GET", path+"/export", nil, bearer(grace.Token)...); r.Status != 404 {
			t.Errorf("a member's export of another: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "DELETE", path, nil, bearer(grace.Token)...); r.Status != 404 {
			t.Errorf("a member's deletion of another: %d %s", r.Status, r.Raw)
		}

		admin, token := instanceAdminSession(t, env)
		r := call(t, c, "GET", path+"/export", nil, bearer(token)...)
		if r.Status != 200 || r.JSON["user"].(map[string]any)["email"] != "augusta@example.com" {
			t.Fatalf("admin export: %d %s", r.Status, r.Raw)
		}
		// The last administrator of an account cannot be deleted either.
		if r := call(t, c, "DELETE", path, nil, bearer(token)...); r.Status != 409 || r.code() != "user.last_admin" {
			t.Fatalf("admin deletion of a last admin: %d %s", r.Status, r.Raw)
		}
		gpath := env.URL + "/api/v1/users/" + grace.User.ID.String()
		if r := call(t, c, "DELETE", gpath, nil, bearer(token)...); r.Status != 204 {
			t.Fatalf("admin deletion: %d %s", r.Status, r.Raw)
		}
		env.Mail(t, "grace@example.com", "identity_deleted")
		if r := call(t, c, "GET", gpath+"/export", nil, bearer(token)...); r.Status != 404 {
			t.Errorf("export after deletion: %d", r.Status)
		}
		// Both are recorded, by the administrator.
		var exported, deleted int
		raw := storetest.Raw(t, env.DB)
		if err := raw.QueryRow(`SELECT
			(SELECT COUNT(*) FROM audit_events WHERE action = 'user.data_exported' AND actor_id = $1 AND target_id = $2),
			(SELECT COUNT(*) FROM audit_events WHERE action = 'user.deleted' AND actor_id = $1)`,
			admin.ID, u.ID.String()).Scan(&exported, &deleted); err != nil {
			t.Fatal(err)
		}
		if exported != 1 || deleted != 1 {
			t.Errorf("events: exported %d deleted %d", exported, deleted)
		}
		if r := call(t, c, "GET", env.URL+"/api/v1/me", nil, bearer(grace.Token)...); r.Status != http.StatusUnauthorized {
			t.Errorf("the deleted user's session: %d", r.Status)
		}
	})
}
