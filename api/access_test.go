package api_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/team"
)

// tenant is an account made by sign-up, with its administrator.
type tenant struct {
	env     *apptest.Env
	account equipe.ID
	admin   string // session token
	adminID equipe.ID
}

func newTenant(t *testing.T, env *apptest.Env, email string) tenant {
	t.Helper()
	token := signUpConfirmed(t, env, email)
	r := call(t, env.Client(), "GET", env.URL+"/api/v1/me/accounts", nil, bearer(token)...)
	item := r.JSON["items"].([]any)[0].(map[string]any)
	me := call(t, env.Client(), "GET", env.URL+"/api/v1/me", nil, bearer(token)...)
	return tenant{env: env, account: equipe.MustParse(item["id"].(string)), admin: token,
		adminID: equipe.MustParse(me.JSON["id"].(string))}
}

func (tn tenant) url(path string) string {
	return tn.env.URL + "/api/v1/accounts/" + tn.account.String() + path
}

// key creates an account API key with role.
func (tn tenant) key(t *testing.T, role string) string {
	t.Helper()
	r := call(t, tn.env.Client(), "POST", tn.url("/api-keys"), map[string]any{"name": "backend " + role, "role": role}, bearer(tn.admin)...)
	if r.Status != 201 {
		t.Fatalf("create key: %d %s", r.Status, r.Raw)
	}
	return r.JSON["secret"].(string)
}

func checkAs(t *testing.T, env *apptest.Env, token string, body map[string]any) response {
	t.Helper()
	return call(t, env.Client(), "POST", env.URL+"/api/v1/check", body, bearer(token)...)
}

func TestCheck_AnswersFromTheModelAndDeniesTheUnknown(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		collab := env.AddMember(t, a.account, "collab@a.example", "collaborator", equipe.MemberActive)
		susp := env.AddMember(t, a.account, "susp@a.example", "manager", equipe.MemberSuspended)
		elsewhere := newTenant(t, env, "owner@b.example")
		key := a.key(t, "admin")
		q := func(user equipe.ID, perm string, extra ...any) map[string]any {
			m := map[string]any{"user_id": user.String(), "account_id": a.account.String(), "permission": perm}
			for i := 0; i+1 < len(extra); i += 2 {
				m[extra[i].(string)] = extra[i+1]
			}
			return m
		}
		tests := []struct {
			name    string
			body    map[string]any
			allowed bool
			reason  string
		}{
			{"admin may manage members", q(a.adminID, "members.manage"), true, "allowed"},
			{"collaborator may not", q(collab.User.ID, "members.manage"), false, "denied_not_granted"},
			{"collaborator sees own records", q(collab.User.ID, "records.view", "owner_id", collab.User.ID.String()), true, "allowed"},
			{"collaborator sees unowned records", q(collab.User.ID, "records.view", "owner_id", nil), true, "allowed"},
			{"collaborator does not see others' records", q(collab.User.ID, "records.view", "owner_id", a.adminID.String()), false, "denied_scope"},
			{"the general question says the scope", q(collab.User.ID, "records.view"), true, "allowed_scope_owned_or_unassigned"},
			{"a suspended member is denied", q(susp.User.ID, "records.view"), false, "denied_member_suspended"},
			{"an unknown permission is denied", q(a.adminID, "records.fly"), false, "denied_unknown_permission"},
			{"an unknown user is denied as one who is no member", q(equipe.NewID(), "records.view"), false, "denied_not_member"},
			{"a user of another account is denied as one who does not exist", q(elsewhere.adminID, "records.view"), false, "denied_not_member"},
			{"a user of no account is denied", map[string]any{"user_id": a.adminID.String(), "account_id": equipe.NewID().String(), "permission": "records.view"}, false, "denied_unknown_account"},
			{"a malformed user is denied", map[string]any{"user_id": "nope", "account_id": a.account.String(), "permission": "records.view"}, false, "denied_not_member"},
			{"a resource of nowhere is denied", q(a.adminID, "records.view", "resource_id", equipe.NewID().String()), false, "denied_unknown_resource"},
			{"a missing permission is denied", map[string]any{"user_id": a.adminID.String(), "account_id": a.account.String()}, false, "denied_unknown_permission"},
		}
		for _, tt := range tests {
			r := checkAs(t, env, key, tt.body)
			if r.Status != 200 || r.JSON["allowed"] != tt.allowed || r.JSON["reason"] != tt.reason {
				t.Errorf("%s: %d %s, want %v %s", tt.name, r.Status, r.Raw, tt.allowed, tt.reason)
			}
		}
		// The batch answers in order, the same.
		var checks []map[string]any
		for _, tt := range tests {
			checks = append(checks, tt.body)
		}
		r := call(t, env.Client(), "POST", env.URL+"/api/v1/check/batch", map[string]any{"checks": checks}, bearer(key)...)
		results, _ := r.JSON["results"].([]any)
		if r.Status != 200 || len(results) != len(tests) {
			t.Fatalf("batch: %d %s", r.Status, r.Raw)
		}
		for i, tt := range tests {
			res := results[i].(map[string]any)
			if res["allowed"] != tt.allowed || res["reason"] != tt.reason {
				t.Errorf("batch %d (%s): %v", i, tt.name, res)
			}
		}
		tooMany := make([]map[string]any, 1001)
		for i := range tooMany {
			tooMany[i] = tests[0].body
		}
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/check/batch", map[string]any{"checks": tooMany}, bearer(key)...); r.Status != 422 {
			t.Errorf("1001 checks: %d %s", r.Status, r.Raw)
		}
	})
}

func TestCheck_CallersAreScopedToTheirAccount(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		b := newTenant(t, env, "owner@b.example")
		keyA := a.key(t, "guest")
		about := func(tn tenant) map[string]any {
			return map[string]any{"user_id": tn.adminID.String(), "account_id": tn.account.String(), "permission": "members.manage"}
		}
		// A's key and A's administrator learn nothing about B.
		for _, token := range []string{keyA, a.admin} {
			if r := checkAs(t, env, token, about(b)); r.JSON["allowed"] != false || r.JSON["reason"] != "denied_unknown_account" {
				t.Errorf("asking about B: %s", r.Raw)
			}
			if r := checkAs(t, env, token, about(a)); r.JSON["allowed"] != true {
				t.Errorf("asking about A: %s", r.Raw)
			}
		}
		// A session asks only as an administrator: a member who may view the
		// team, a manager included, may not.
		if r := call(t, env.Client(), "POST", a.url("/roles"), map[string]any{"key": "kiosk", "label_fr": "Borne", "label_en": "Kiosk",
			"permissions": map[string]any{"records.view": "owned"}}, bearer(a.admin)...); r.Status != 201 {
			t.Fatalf("role: %d %s", r.Status, r.Raw)
		}
		for _, role := range []string{"kiosk", "guest", "manager"} {
			m := env.AddMember(t, a.account, role+"@a.example", role, equipe.MemberActive)
			if r := checkAs(t, env, m.Token, about(a)); r.JSON["allowed"] != false || r.JSON["reason"] != "denied_unknown_account" {
				t.Errorf("a %s's session asks: %s", role, r.Raw)
			}
		}
		// An instance key may ask about any account.
		ctx := t.Context()
		_, secret, err := env.App.Team.CreateKey(ctx, instanceActor(t, env), nil, teamNewKey("vendor backend"))
		if err != nil {
			t.Fatal(err)
		}
		for _, tn := range []tenant{a, b} {
			if r := checkAs(t, env, secret, about(tn)); r.JSON["allowed"] != true {
				t.Errorf("instance key about %s: %s", tn.account, r.Raw)
			}
		}
		// No key and a bad key are refused, never answered "deny" as if asked.
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/check", about(a)); r.Status != 401 {
			t.Errorf("no credentials: %d", r.Status)
		}
		if r := checkAs(t, env, "equipe_"+strings.Repeat("x", 43), about(a)); r.Status != 401 {
			t.Errorf("unknown key: %d", r.Status)
		}
		// A key in the query string is refused.
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/check?api_key="+keyA, about(a)); r.Status != 400 {
			t.Errorf("key in the URL: %d", r.Status)
		}
	})
}

func TestAPIKeys_ShownOnceHashedRevocable(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		r := call(t, env.Client(), "POST", a.url("/api-keys"), map[string]any{"name": "CRM sync", "role": "manager"}, bearer(a.admin)...)
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		secret := r.JSON["secret"].(string)
		id := r.JSON["id"].(string)
		if !strings.HasPrefix(secret, "equipe_") || len(secret) != 50 || !strings.HasPrefix(secret, r.JSON["prefix"].(string)) {
			t.Fatalf("secret %q, prefix %v", secret, r.JSON["prefix"])
		}
		list := call(t, env.Client(), "GET", a.url("/api-keys"), nil, bearer(a.admin)...)
		if strings.Contains(string(list.Raw), secret) || !strings.Contains(string(list.Raw), "CRM sync") {
			t.Fatalf("the list shows the secret, or not the key: %s", list.Raw)
		}
		if strings.Contains(storetest_dump(t, env), secret) {
			t.Fatal("the database holds the secret")
		}
		// The key acts with its role: a manager may read roles, not create keys.
		if r := call(t, env.Client(), "GET", a.url("/roles"), nil, bearer(secret)...); r.Status != 200 {
			t.Fatalf("key reads roles: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", env.URL+"/api/v1/me", nil, bearer(secret)...); r.Status != 403 {
			t.Fatalf("key on a session route: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "DELETE", a.url("/api-keys/"+id), nil, bearer(a.admin)...); r.Status != 204 {
			t.Fatalf("revoke: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", a.url("/roles"), nil, bearer(secret)...); r.Status != 401 || r.code() != "api_key.invalid" {
			t.Fatalf("revoked key: %d %s", r.Status, r.Raw)
		}
		if r := checkAs(t, env, secret, map[string]any{"user_id": a.adminID.String(), "account_id": a.account.String(), "permission": "members.view"}); r.Status != 401 || r.code() != "api_key.invalid" {
			t.Fatalf("revoked key asks a check: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", a.url("/roles"), nil, bearer(team.KeyPrefix+strings.Repeat("x", len(secret)-len(team.KeyPrefix)))...); r.Status != 401 || r.code() != "api_key.invalid" {
			t.Fatalf("made-up key: %d %s", r.Status, r.Raw)
		}
		// A key's name is a label like any other.
		for name, code := range map[string]string{"<b>CRM</b>": "name.markup", "CRM\nsync": "name.invalid", "": "name.required",
			strings.Repeat("k", 101): "name.too_long"} {
			if r := call(t, env.Client(), "POST", a.url("/api-keys"), map[string]any{"name": name, "role": "guest"}, bearer(a.admin)...); r.Status != 422 || r.fieldCodes()["name"] != code {
				t.Errorf("key named %q: %d %s", name, r.Status, r.Raw)
			}
		}
		// A manager cannot make an administrator key.
		mgr := env.AddMember(t, a.account, "mgr@a.example", "manager", equipe.MemberActive)
		if r := call(t, env.Client(), "POST", a.url("/api-keys"), map[string]any{"name": "x", "role": "admin"}, bearer(mgr.Token)...); r.Status != 403 {
			t.Fatalf("manager creates a key: %d %s", r.Status, r.Raw)
		}
	})
}

func TestRoles_CustomRoleLifecycleAndRules(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		mgr := env.AddMember(t, a.account, "mgr@a.example", "manager", equipe.MemberActive)
		r := call(t, env.Client(), "GET", a.url("/roles"), nil, bearer(a.admin)...)
		if r.Status != 200 || len(r.JSON["items"].([]any)) != 4 {
			t.Fatalf("roles: %d %s", r.Status, r.Raw)
		}
		role := map[string]any{"key": "accountant", "label_fr": "Comptable", "label_en": "Accountant",
			"permissions": map[string]any{"billing.access": true, "records.view": "owned", "members.view": true}}
		if r := call(t, env.Client(), "POST", a.url("/roles"), role, bearer(a.admin)...); r.Status != 201 ||
			r.JSON["permissions"].(map[string]any)["records.view"] != "owned" {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		// Bad roles.
		for name, body := range map[string]map[string]any{
			"built-in key":       {"key": "admin", "label_fr": "x", "label_en": "x"},
			"bad key":            {"key": "Compta Générale", "label_fr": "x", "label_en": "x"},
			"unknown permission": {"key": "x1", "label_fr": "x", "label_en": "x", "permissions": map[string]any{"records.fly": true}},
			"scope not accepted": {"key": "x2", "label_fr": "x", "label_en": "x", "permissions": map[string]any{"billing.access": "owned"}},
			"markup in a label":  {"key": "x3", "label_fr": "<b>x</b>", "label_en": "x"},
			"duplicate key":      {"key": "accountant", "label_fr": "x", "label_en": "x"},
		} {
			if r := call(t, env.Client(), "POST", a.url("/roles"), body, bearer(a.admin)...); r.Status != 422 {
				t.Errorf("%s: %d %s", name, r.Status, r.Raw)
			}
		}
		// A manager lacks roles.manage; even with it, no granting beyond their own.
		if r := call(t, env.Client(), "POST", a.url("/roles"), map[string]any{"key": "y", "label_fr": "y", "label_en": "y"}, bearer(mgr.Token)...); r.Status != 403 {
			t.Errorf("manager creates a role: %d %s", r.Status, r.Raw)
		}
		// Giving the role to a member, then the member's effective permissions.
		if r := call(t, env.Client(), "PATCH", a.url("/members/"+mgr.User.ID.String()), map[string]any{"role": "accountant"}, bearer(a.admin)...); r.Status != 200 {
			t.Fatalf("give the role: %d %s", r.Status, r.Raw)
		}
		r = call(t, env.Client(), "GET", a.url("/members/"+mgr.User.ID.String()+"/effective-permissions"), nil, bearer(a.admin)...)
		if r.Status != 200 || r.JSON["role"] != "accountant" || !strings.Contains(string(r.Raw), `"permission":"billing.access"`) {
			t.Fatalf("effective: %d %s", r.Status, r.Raw)
		}
		// Changing the role changes the member at once.
		if r := call(t, env.Client(), "PATCH", a.url("/roles/accountant"), map[string]any{"permissions": map[string]any{"members.view": true}}, bearer(a.admin)...); r.Status != 200 {
			t.Fatalf("update: %d %s", r.Status, r.Raw)
		}
		key := a.key(t, "admin")
		q := map[string]any{"user_id": mgr.User.ID.String(), "account_id": a.account.String(), "permission": "billing.access"}
		if r := checkAs(t, env, key, q); r.JSON["allowed"] != false {
			t.Fatalf("after narrowing the role: %s", r.Raw)
		}
		// A role in use is deleted only with a replacement.
		if r := call(t, env.Client(), "DELETE", a.url("/roles/accountant"), nil, bearer(a.admin)...); r.Status != 409 || r.code() != "role.in_use" {
			t.Fatalf("delete in use: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "DELETE", a.url("/roles/accountant?replacement=guest"), nil, bearer(a.admin)...); r.Status != 204 {
			t.Fatalf("delete with replacement: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", a.url("/members/"+mgr.User.ID.String()), nil, bearer(a.admin)...); r.JSON["role"] != "guest" {
			t.Fatalf("member after the deletion: %s", r.Raw)
		}
		if r := call(t, env.Client(), "PATCH", a.url("/roles/admin"), map[string]any{"label_fr": "Chef"}, bearer(a.admin)...); r.Status != 403 {
			t.Fatalf("change a built-in role: %d %s", r.Status, r.Raw)
		}
	})
}

func TestMembers_LastAdministratorHoldsUnderParallelRequests(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		for run := range 20 {
			a := newTenant(t, env, fmt.Sprintf("owner%d@a.example", run))
			other := env.AddMember(t, a.account, fmt.Sprintf("second%d@a.example", run), "admin", equipe.MemberActive)
			var wg sync.WaitGroup
			statuses := make([]int, 2)
			for i, pair := range [][2]string{{a.admin, other.User.ID.String()}, {other.Token, a.adminID.String()}} {
				wg.Go(func() {
					statuses[i] = call(t, env.Client(), "PATCH", a.url("/members/"+pair[1]), map[string]any{"role": "manager"}, bearer(pair[0])...).Status
				})
			}
			wg.Wait()
			admins := 0
			for _, id := range []equipe.ID{a.adminID, other.User.ID} {
				m, err := env.App.DB.Member(t.Context(), a.account, id)
				if err != nil {
					t.Fatal(err)
				}
				if m.Role == "admin" {
					admins++
				}
			}
			if admins != 1 {
				t.Fatalf("run %d: %d administrators left (statuses %v)", run, admins, statuses)
			}
		}
	})
}

func TestCheck_FreshInEveryProcessAfterAChange(t *testing.T) {
	first := apptest.Start(t, store.Postgres, apptest.Options{})
	second := apptest.Start(t, store.Postgres, apptest.Options{Share: first})
	a := newTenant(t, first, "owner@a.example")
	m := first.AddMember(t, a.account, "m@a.example", "manager", equipe.MemberActive)
	key := a.key(t, "admin")
	q := map[string]any{"user_id": m.User.ID.String(), "account_id": a.account.String(), "permission": "members.manage"}
	if r := checkAs(t, second, key, q); r.JSON["allowed"] != true {
		t.Fatalf("before: %s", r.Raw)
	}
	// Suspended through the first process, the change shows in the second
	// as soon as it hears of it, on its very next answer.
	member := store.MemberKey(a.account, m.User.ID)
	heard := second.Heard(member)
	if r := call(t, first.Client(), "PATCH", a.url("/members/"+m.User.ID.String()), map[string]any{"status": "suspended"}, bearer(a.admin)...); r.Status != 200 {
		t.Fatalf("suspend: %d %s", r.Status, r.Raw)
	}
	start := time.Now()
	second.AwaitHeard(t, member, heard)
	t.Logf("the second process heard of the suspension %v after it committed", time.Since(start))
	if r := checkAs(t, second, key, q); r.JSON["allowed"] != false || r.JSON["reason"] != "denied_member_suspended" {
		t.Fatalf("the second process, once it heard of the suspension: %s", r.Raw)
	}
}

// TestChangeMember_TheNotificationEmailIsSetChangedAndCleared: an
// administrator who added a member with an assistant's address, or none,
// changes it later; an address that is not one is refused with nothing
// changed.
func TestChangeMember_TheNotificationEmailIsSetChangedAndCleared(t *testing.T) {
	env := apptest.Start(t, store.SQLite, apptest.Options{})
	a := newTenant(t, env, "owner@a.example")
	m := env.AddMember(t, a.account, "m@a.example", "collaborator", equipe.MemberActive)
	path := a.url("/members/" + m.User.ID.String())
	notify := func() any {
		t.Helper()
		r := call(t, env.Client(), "GET", path, nil, bearer(a.admin)...)
		if r.Status != 200 {
			t.Fatalf("the member: %d %s", r.Status, r.Raw)
		}
		return r.JSON["notification_email"]
	}
	for _, step := range []struct {
		value  any
		status int
		want   string
	}{
		{"assistant@a.example", 200, "assistant@a.example"},
		{"not an address", 422, "assistant@a.example"},
		{42, 422, "assistant@a.example"},
		{"other.assistant@a.example", 200, "other.assistant@a.example"},
		{nil, 200, ""},
		{"assistant@a.example", 200, "assistant@a.example"},
		{"", 200, ""},
	} {
		r := call(t, env.Client(), "PATCH", path, map[string]any{"notification_email": step.value}, bearer(a.admin)...)
		if r.Status != step.status {
			t.Errorf("%v: %d %s", step.value, r.Status, r.Raw)
		}
		if got := notify(); got != step.want && !(step.want == "" && got == nil) {
			t.Errorf("after %v: %v, want %q", step.value, got, step.want)
		}
	}
}

// TestCheck_TheOwnerIsReadAsTheJSONStringItIs: owner_id is read as the
// string its JSON says, escapes and all (a client that writes "é" as
// "\u00e9", as Python's json module does, names the same owner), alone and
// in a batch, as user_id is and as AuthZEN reads ownerID; an owner_id that
// is neither a string nor null is refused as any member of the wrong type
// is, 400 request.wrong_type, not answered as a denial.
func TestCheck_TheOwnerIsReadAsTheJSONStringItIs(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		c := env.Client()
		a := newTenant(t, env, "owner@a.example")
		key := a.key(t, "admin")
		jose := env.AddMember(t, a.account, "jose@a.example", "collaborator", equipe.MemberActive).User.ID.String()
		if r := call(t, c, "PATCH", a.url("/members/"+jose), map[string]any{"external_id": "josé"}, bearer(key)...); r.Status != 200 {
			t.Fatalf("external ID: %d %s", r.Status, r.Raw)
		}
		q := func(owner string) string {
			return `{"user_id": "` + jose + `", "account_id": "` + a.account.String() +
				`", "permission": "records.view", "owner_id": ` + owner + `}`
		}
		for _, owner := range []string{`"external_id:josé"`, `"external_id:jos\u00e9"`, `"\u0065xternal_id:jos\u00e9"`,
			fmt.Sprintf(`"\u%04x%s"`, jose[0], jose[1:])} {
			if r := call(t, c, "POST", env.URL+"/api/v1/check", q(owner), bearer(key)...); r.Status != 200 || r.JSON["reason"] != "allowed" {
				t.Errorf("owner %s: %d %s, want allowed", owner, r.Status, r.Raw)
			}
			r := call(t, c, "POST", env.URL+"/api/v1/check/batch", `{"checks": [`+q(owner)+`]}`, bearer(key)...)
			if res, _ := r.JSON["results"].([]any); r.Status != 200 || len(res) != 1 || res[0].(map[string]any)["reason"] != "allowed" {
				t.Errorf("batch, owner %s: %d %s, want allowed", owner, r.Status, r.Raw)
			}
		}
		for _, owner := range []string{`5`, `true`, `{}`, `["x"]`} {
			if r := call(t, c, "POST", env.URL+"/api/v1/check", q(owner), bearer(key)...); r.Status != 400 ||
				r.code() != "request.wrong_type" || r.fieldCodes()["owner_id"] != "request.wrong_type" {
				t.Errorf("owner %s: %d %s, want 400 request.wrong_type on owner_id", owner, r.Status, r.Raw)
			}
			r := call(t, c, "POST", env.URL+"/api/v1/check/batch", `{"checks": [`+q(owner)+`]}`, bearer(key)...)
			if r.Status != 400 || r.fieldCodes()["checks.0.owner_id"] != "request.wrong_type" {
				t.Errorf("batch, owner %s: %d %s, want 400 request.wrong_type on checks.0.owner_id", owner, r.Status, r.Raw)
			}
		}
	})
}
