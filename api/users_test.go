package api_test

import (
	"slices"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// instanceAdminToken creates an instance administrator, logs them in
// through the API and accepts the privacy policy: their session token.
func instanceAdminToken(t *testing.T, env *apptest.Env) (equipe.ID, string) {
	t.Helper()
	admin := instanceActor(t, env)
	c := env.Client()
	r := call(t, c, "POST", env.URL+"/api/v1/session", map[string]any{"email": admin.User.Email, "password": apptest.TestPassword})
	if r.Status != 200 {
		t.Fatalf("instance administrator's login: %d %s", r.Status, r.Raw)
	}
	token := r.JSON["token"].(string)
	if r := call(t, c, "POST", env.URL+"/api/v1/me/consent", map[string]any{"accept_privacy_policy": true}, bearer(token)...); r.Status != 200 {
		t.Fatalf("consent: %d %s", r.Status, r.Raw)
	}
	return admin.User.ID, token
}

// TestUsers_InstanceAdministratorsFindPeopleAndSeeTheirAccountsSessionsAndFactors:
// the instance's users are searched by name or email a page at a time, and
// each shows their memberships, open sessions and second factors; nobody
// but the instance reads them.
func TestUsers_InstanceAdministratorsFindPeopleAndSeeTheirAccountsSessionsAndFactors(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		collab := env.AddMember(t, a.account, "zoe.collab@a.example", "collaborator", equipe.MemberActive)
		env.AddMember(t, a.account, "yann@a.example", "guest", equipe.MemberSuspended)
		_, admin := instanceAdminToken(t, env)

		r := call(t, env.Client(), "GET", env.URL+"/api/v1/users?q=ZOE", nil, bearer(admin)...)
		if r.Status != 200 {
			t.Fatalf("search: %d %s", r.Status, r.Raw)
		}
		items := r.JSON["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["email"] != "zoe.collab@a.example" {
			t.Fatalf("search for zoe: %s", r.Raw)
		}
		// By a member's folded last name (AddMember names them by their
		// address's local part).
		if r := call(t, env.Client(), "GET", env.URL+"/api/v1/users?q=yann", nil, bearer(admin)...); len(r.JSON["items"].([]any)) != 1 {
			t.Fatalf("search by name: %s", r.Raw)
		}
		if r := call(t, env.Client(), "GET", env.URL+"/api/v1/users?q=nobody-here", nil, bearer(admin)...); len(r.JSON["items"].([]any)) != 0 {
			t.Fatalf("a search that finds nobody: %s", r.Raw)
		}

		// Pages in email order, one at a time: all four people, the
		// administrator (a random address @vendor.example) too.
		var seen []string
		url := env.URL + "/api/v1/users?limit=1"
		for range 10 {
			r := call(t, env.Client(), "GET", url, nil, bearer(admin)...)
			if r.Status != 200 {
				t.Fatalf("page: %d %s", r.Status, r.Raw)
			}
			for _, it := range r.JSON["items"].([]any) {
				seen = append(seen, it.(map[string]any)["email"].(string))
			}
			next, _ := r.JSON["next_cursor"].(string)
			if next == "" {
				break
			}
			url = env.URL + "/api/v1/users?limit=1&cursor=" + next
		}
		if len(seen) != 4 || !slices.IsSorted(seen) || !slices.Contains(seen, "yann@a.example") {
			t.Fatalf("pages: %v", seen)
		}
		if r := call(t, env.Client(), "GET", env.URL+"/api/v1/users?limit=201", nil, bearer(admin)...); r.Status != 400 || r.fieldCodes()["limit"] != "request.limit_invalid" {
			t.Fatalf("a page too long: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", env.URL+"/api/v1/users?cursor=x", nil, bearer(admin)...); r.Status != 400 || r.fieldCodes()["cursor"] != "request.cursor_invalid" {
			t.Fatalf("a bad cursor: %d %s", r.Status, r.Raw)
		}

		// A second factor shows in the summary, without its secret.
		ctx := t.Context()
		if _, err := storetest.Raw(t, env.DB).ExecContext(ctx, `INSERT INTO passkeys (id, user_id, credential_id, name, credential, created_at)
			VALUES ($1, $2, $3, 'Laptop', '{}', 1)`, equipe.NewID(), collab.User.ID, []byte("cred")); err != nil {
			t.Fatal(err)
		}
		r = call(t, env.Client(), "GET", env.URL+"/api/v1/users/"+collab.User.ID.String(), nil, bearer(admin)...)
		if r.Status != 200 {
			t.Fatalf("a user: %d %s", r.Status, r.Raw)
		}
		ms := r.JSON["memberships"].([]any)
		m := ms[0].(map[string]any)
		f := r.JSON["second_factors"].(map[string]any)
		if r.JSON["email"] != "zoe.collab@a.example" || len(ms) != 1 || m["account_id"] != a.account.String() ||
			m["role"] != "collaborator" || m["status"] != "active" || r.JSON["sessions"] != 1.0 ||
			f["totp"] != false || f["passkeys"] != 1.0 || r.JSON["disabled"] != false {
			t.Fatalf("a user: %s", r.Raw)
		}

		// Nobody else reads them: an account's administrator, a member, an
		// account key.
		for who, token := range map[string]string{"account administrator": a.admin, "member": collab.Token, "account key": a.key(t, "admin")} {
			for _, path := range []string{"/api/v1/users", "/api/v1/users/" + collab.User.ID.String()} {
				if r := call(t, env.Client(), "GET", env.URL+path, nil, bearer(token)...); r.Status != 404 {
					t.Fatalf("%s reading %s: %d %s", who, path, r.Status, r.Raw)
				}
			}
		}
		if r := call(t, env.Client(), "GET", env.URL+"/api/v1/users/"+equipe.NewID().String(), nil, bearer(admin)...); r.Status != 404 {
			t.Fatalf("an unknown user: %d %s", r.Status, r.Raw)
		}
	})
}

// TestEndUserSessions_InstanceAdministratorsEndEverySessionOfAUser: every
// session of the user ends, audited by the administrator; nobody else may.
func TestEndUserSessions_InstanceAdministratorsEndEverySessionOfAUser(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		collab := env.AddMember(t, a.account, "collab@a.example", "collaborator", equipe.MemberActive)
		// A second session, from another program.
		second := call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": "collab@a.example", "password": apptest.TestPassword})
		if second.Status != 200 {
			t.Fatalf("second login: %d %s", second.Status, second.Raw)
		}
		adminID, admin := instanceAdminToken(t, env)
		path := env.URL + "/api/v1/users/" + collab.User.ID.String() + "/sessions"

		// Refused to the account's administrator and to the user: 404, and
		// nothing ends.
		for who, token := range map[string]string{"account administrator": a.admin, "the user": collab.Token} {
			if r := call(t, env.Client(), "DELETE", path, nil, bearer(token)...); r.Status != 404 {
				t.Fatalf("%s: %d %s", who, r.Status, r.Raw)
			}
		}
		if r := call(t, env.Client(), "GET", env.URL+"/api/v1/me", nil, bearer(collab.Token)...); r.Status != 200 {
			t.Fatalf("the session after refusals: %d %s", r.Status, r.Raw)
		}

		r := call(t, env.Client(), "DELETE", path, nil, bearer(admin)...)
		if r.Status != 200 || r.JSON["sessions_ended"] != 2.0 {
			t.Fatalf("end the sessions: %d %s", r.Status, r.Raw)
		}
		for _, token := range []string{collab.Token, second.JSON["token"].(string)} {
			if r := call(t, env.Client(), "GET", env.URL+"/api/v1/me", nil, bearer(token)...); r.Status != 401 {
				t.Fatalf("a session ended: %d %s", r.Status, r.Raw)
			}
		}
		// The administrator's own session goes on.
		if r := call(t, env.Client(), "GET", env.URL+"/api/v1/me", nil, bearer(admin)...); r.Status != 200 {
			t.Fatalf("the administrator's session: %d %s", r.Status, r.Raw)
		}
		events, err := env.App.DB.AuditEvents(t.Context(), store.AuditFilter{Action: "user.sessions_ended"})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0].ActorID == nil || *events[0].ActorID != adminID || events[0].TargetID != collab.User.ID.String() ||
			events[0].AccountID != nil {
			t.Fatalf("the audit: %+v", events)
		}
		if r := call(t, env.Client(), "DELETE", env.URL+"/api/v1/users/"+equipe.NewID().String()+"/sessions", nil, bearer(admin)...); r.Status != 404 {
			t.Fatalf("an unknown user: %d %s", r.Status, r.Raw)
		}
	})
}

// TestChangeUser_TheInstanceDisablesAnIdentityAndEnablesItAgain: disabled
// through PATCH /api/v1/users/{user}, a person's sessions end, their login
// is refused as any failed login is, and checks about them answer
// denied_user_disabled; enabled again, they log in and are allowed. An
// administrator cannot disable themself; a value that is no boolean, or an
// account's administrator, changes nothing.
func TestChangeUser_TheInstanceDisablesAnIdentityAndEnablesItAgain(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		collab := env.AddMember(t, a.account, "collab@a.example", "collaborator", equipe.MemberActive)
		adminID, admin := instanceAdminToken(t, env)
		path := env.URL + "/api/v1/users/" + collab.User.ID.String()
		login := func() response {
			return call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": "collab@a.example", "password": apptest.TestPassword})
		}
		check := func() response {
			t.Helper()
			r := checkAs(t, env, a.admin, map[string]any{"user_id": collab.User.ID.String(), "account_id": a.account.String(),
				"permission": "records.view", "owner_id": collab.User.ID.String()})
			if r.Status != 200 {
				t.Fatalf("check: %d %s", r.Status, r.Raw)
			}
			return r
		}
		enabled := func(want bool) {
			t.Helper()
			if r := call(t, env.Client(), "GET", path, nil, bearer(admin)...); r.Status != 200 || r.JSON["disabled"] != !want {
				t.Fatalf("disabled should be %v: %d %s", !want, r.Status, r.Raw)
			}
			// The account sees it on the member, in its list and alone.
			member := env.URL + "/api/v1/accounts/" + a.account.String() + "/members/" + collab.User.ID.String()
			if r := call(t, env.Client(), "GET", member, nil, bearer(a.admin)...); r.Status != 200 || r.JSON["user_disabled"] != !want {
				t.Errorf("user_disabled of the member should be %v: %d %s", !want, r.Status, r.Raw)
			}
			r := call(t, env.Client(), "GET", env.URL+"/api/v1/accounts/"+a.account.String()+"/members", nil, bearer(a.admin)...)
			for _, item := range r.JSON["items"].([]any) {
				m := item.(map[string]any)
				if disabled := m["user_id"] == collab.User.ID.String() && !want; m["user_disabled"] != disabled {
					t.Errorf("user_disabled of %s in the list should be %v: %v", m["email"], disabled, m["user_disabled"])
				}
			}
		}

		if r := call(t, env.Client(), "PATCH", path, map[string]any{"disabled": true}, bearer(a.admin)...); r.Status != 404 {
			t.Fatalf("an account's administrator: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "PATCH", path, map[string]any{"disabled": "yes"}, bearer(admin)...); r.Status != 400 {
			t.Fatalf("not a boolean: %d %s", r.Status, r.Raw)
		}
		enabled(true)

		r := call(t, env.Client(), "PATCH", path, map[string]any{"disabled": true}, bearer(admin)...)
		if r.Status != 200 || r.JSON["disabled"] != true || r.JSON["sessions"] != 0.0 {
			t.Fatalf("disable: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", env.URL+"/api/v1/me", nil, bearer(collab.Token)...); r.Status != 401 {
			t.Fatalf("their session: %d %s", r.Status, r.Raw)
		}
		if r := login(); r.Status != 401 || r.code() != "login.failed" {
			t.Fatalf("their login: %d %s", r.Status, r.Raw)
		}
		if r := check(); r.JSON["allowed"] != false || r.JSON["reason"] != "denied_user_disabled" {
			t.Fatalf("a check about them: %s", r.Raw)
		}
		enabled(false)

		if r := call(t, env.Client(), "PATCH", env.URL+"/api/v1/users/"+adminID.String(), map[string]any{"disabled": true},
			bearer(admin)...); r.Status != 409 || r.code() != "user.disable_self" {
			t.Fatalf("oneself: %d %s", r.Status, r.Raw)
		}

		if r := call(t, env.Client(), "PATCH", path, map[string]any{"disabled": false}, bearer(admin)...); r.Status != 200 || r.JSON["disabled"] != false {
			t.Fatalf("enable: %d %s", r.Status, r.Raw)
		}
		if r := login(); r.Status != 200 {
			t.Fatalf("their login, enabled again: %d %s", r.Status, r.Raw)
		}
		if r := check(); r.JSON["allowed"] != true {
			t.Fatalf("a check about them, enabled again: %s", r.Raw)
		}
		enabled(true)
		for _, action := range []string{"user.disabled", "user.enabled"} {
			events, err := env.App.DB.AuditEvents(t.Context(), store.AuditFilter{Action: action, TargetID: collab.User.ID.String()})
			if err != nil || len(events) != 1 || events[0].ActorID == nil || *events[0].ActorID != adminID {
				t.Fatalf("%s in the audit: %+v %v", action, events, err)
			}
		}
	})
}
