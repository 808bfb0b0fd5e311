package api_test

import (
	"reflect"
	"testing"

	"github.com/equipe-dev/equipe"

	"github.com/equipe-dev/equipe/app/apptest"
)

// The reviewer's case: a key whose role was deleted kept answering 403 while
// listed active, then took the rights of a role re-created under its key.
func TestRoles_DeletingARoleAKeyHoldsMovesTheKey(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		r := call(t, env.Client(), "POST", a.url("/roles"), map[string]any{"key": "closed", "label_en": "Closed",
			"permissions": map[string]any{"members.view": true}}, bearer(a.admin)...)
		if r.Status != 201 {
			t.Fatalf("create the role: %d %s", r.Status, r.Raw)
		}
		key := a.key(t, "closed")
		if r := call(t, env.Client(), "DELETE", a.url("/roles/closed"), nil, bearer(a.admin)...); r.Status != 409 || r.code() != "role.in_use" {
			t.Fatalf("delete a role a key holds, without a replacement: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "DELETE", a.url("/roles/closed?replacement=guest"), nil, bearer(a.admin)...); r.Status != 204 {
			t.Fatalf("delete with a replacement: %d %s", r.Status, r.Raw)
		}
		r = call(t, env.Client(), "POST", a.url("/roles"), map[string]any{"key": "closed", "label_en": "Closed again",
			"permissions": map[string]any{"members.view": true, "billing.access": true}}, bearer(a.admin)...)
		if r.Status != 201 {
			t.Fatalf("create the role again: %d %s", r.Status, r.Raw)
		}
		list := call(t, env.Client(), "GET", a.url("/api-keys"), nil, bearer(a.admin)...)
		if k := list.JSON["items"].([]any)[0].(map[string]any); k["role"] != "guest" || k["status"] != "active" {
			t.Fatalf("the key after the deletion: %v", k)
		}
		if r := call(t, env.Client(), "GET", a.url("/members"), nil, bearer(key)...); r.Status != 200 {
			t.Fatalf("the key acts with its replacement role: %d %s", r.Status, r.Raw)
		}
	})
}

// Creating a role needs roles.manage alone: a creator who may not view the
// members is answered with the role, not refused after it was written.
func TestRoles_ACreatorWhoMayNotViewMembersGetsTheRole(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		r := call(t, env.Client(), "POST", a.url("/roles"), map[string]any{"key": "rm", "label_en": "Role manager",
			"permissions": map[string]any{"roles.manage": true, "members.view": true}}, bearer(a.admin)...)
		if r.Status != 201 {
			t.Fatalf("create rm: %d %s", r.Status, r.Raw)
		}
		carl := env.AddMember(t, a.account, "carl@a.example", "rm", equipe.MemberActive)
		r = call(t, env.Client(), "PATCH", a.url("/members/"+carl.User.ID.String()),
			map[string]any{"overrides": map[string]any{"members.view": map[string]any{"allow": false}}}, bearer(a.admin)...)
		if r.Status != 200 {
			t.Fatalf("override: %d %s", r.Status, r.Raw)
		}
		r = call(t, env.Client(), "POST", a.url("/roles"), map[string]any{"label_en": "Viewer2", "restricted": true,
			"permissions": map[string]any{"roles.manage": true}}, bearer(carl.Token)...)
		if r.Status != 201 || r.JSON["key"] != "viewer2" || r.Header.Get("Location") != "/api/v1/accounts/"+a.account.String()+"/roles/viewer2" {
			t.Fatalf("create as carl: %d %s", r.Status, r.Raw)
		}
	})
}

// A manager refused the edit of a member who outranks them is refused the
// change of that member's role through the role itself.
func TestRoles_ChangingARoleHeldByAMemberWhoOutranksTheActorIsRefused(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		mia := env.AddMember(t, a.account, "mia@a.example", "manager", equipe.MemberActive)
		carl := env.AddMember(t, a.account, "carl@a.example", "guest", equipe.MemberActive)
		a.prepare(t,
			callStep{"PATCH", "/members/" + mia.User.ID.String(), map[string]any{"overrides": map[string]any{"roles.manage": map[string]any{"allow": true}}}},
			callStep{"POST", "/roles", map[string]any{"key": "y", "label_en": "Y", "permissions": map[string]any{"records.view": "owned"}}},
			callStep{"PATCH", "/members/" + carl.User.ID.String(), map[string]any{"role": "y", "overrides": map[string]any{"billing.access": map[string]any{"allow": true}}}},
		)
		// The role's actions say so before the submit, in the role and in
		// the list; the owner, who outranks everyone, may.
		refused := map[string]any{"allowed": false, "code": "member.outranks"}
		for _, who := range []struct {
			token string
			want  map[string]any
		}{{mia.Token, refused}, {a.admin, map[string]any{"allowed": true}}} {
			one := call(t, env.Client(), "GET", a.url("/roles/y"), nil, bearer(who.token)...)
			list := call(t, env.Client(), "GET", a.url("/roles"), nil, bearer(who.token)...)
			var listed any
			for _, it := range list.JSON["items"].([]any) {
				if it.(map[string]any)["key"] == "y" {
					listed = it.(map[string]any)["actions"]
				}
			}
			for how, actions := range map[string]any{"role": one.JSON["actions"], "list": listed} {
				for _, action := range []string{"edit", "delete"} {
					if got := actions.(map[string]any)[action]; !reflect.DeepEqual(got, who.want) {
						t.Errorf("%s: actions.%s = %v, want %v", how, action, got, who.want)
					}
				}
			}
		}
		if r := call(t, env.Client(), "PATCH", a.url("/roles/y"), map[string]any{"label_en": "Y2"}, bearer(mia.Token)...); r.Status != 403 || r.code() != "member.outranks" {
			t.Errorf("change the role: %d %s", r.Status, r.Raw)
		} else if want := "This member holds rights you do not (Access billing): only an administrator can change them."; r.JSON["detail"] != want {
			t.Errorf("change the role: %q, want the permissions named as people read them: %q", r.JSON["detail"], want)
		}
		if r := call(t, env.Client(), "DELETE", a.url("/roles/y?replacement=guest"), nil, bearer(mia.Token)...); r.Status != 403 || r.code() != "member.outranks" {
			t.Errorf("delete the role: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", a.url("/members/"+carl.User.ID.String()), nil, bearer(a.admin)...); r.JSON["role"] != "y" {
			t.Errorf("carl after the refusals: %s", r.Raw)
		}
	})
}

// A role's members move to its replacement: one the caller may not give
// them is a problem with the field replacement (422), named in the
// caller's language by the permissions' labels (theirs: mia reads English),
// and deletes nothing.
func TestRoles_AReplacementTheCallerMayNotGiveIsRefusedOnTheField(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		mia := env.AddMember(t, a.account, "mia@a.example", "manager", equipe.MemberActive)
		gus := env.AddMember(t, a.account, "gus@a.example", "guest", equipe.MemberActive)
		a.prepare(t,
			callStep{"PATCH", "/members/" + mia.User.ID.String(), map[string]any{"overrides": map[string]any{"roles.manage": map[string]any{"allow": true}}}},
			callStep{"POST", "/roles", map[string]any{"key": "z", "label_en": "Z", "permissions": map[string]any{"records.view": "owned"}}},
			callStep{"POST", "/roles", map[string]any{"key": "w", "label_en": "W", "permissions": map[string]any{"billing.access": true, "records.view": "all"}}},
			callStep{"PATCH", "/members/" + gus.User.ID.String(), map[string]any{"role": "z"}},
		)
		for _, tt := range []struct {
			replacement, code, lang, message string
		}{
			{"admin", "role.admin_only", "en", "Only an administrator can give the administrator role."},
			{"w", "role.beyond_own", "en", "You cannot give rights you do not hold: Access billing."},
		} {
			r := call(t, env.Client(), "DELETE", a.url("/roles/z?replacement="+tt.replacement), nil,
				append(bearer(mia.Token), "Accept-Language", tt.lang)...)
			if r.Status != 422 || r.fieldCodes()["replacement"] != tt.code {
				t.Fatalf("delete z for %s: %d %s", tt.replacement, r.Status, r.Raw)
			}
			if m := r.JSON["errors"].([]any)[0].(map[string]any)["message"]; m != tt.message {
				t.Errorf("delete z for %s, in %s: %q, want %q", tt.replacement, tt.lang, m, tt.message)
			}
		}
		if r := call(t, env.Client(), "GET", a.url("/members/"+gus.User.ID.String()), nil, bearer(a.admin)...); r.JSON["role"] != "z" {
			t.Errorf("gus after the refusals: %s", r.Raw)
		}
		if r := call(t, env.Client(), "DELETE", a.url("/roles/z?replacement=guest"), nil, bearer(mia.Token)...); r.Status != 204 {
			t.Errorf("delete z for guest: %d %s", r.Status, r.Raw)
		}
	})
}

// callStep is a call of the administrator's that sets a test's scene.
type callStep struct {
	method, path string
	body         map[string]any
}

// prepare makes the administrator's calls, in order, each of which must
// succeed.
func (a tenant) prepare(t *testing.T, steps ...callStep) {
	t.Helper()
	for _, step := range steps {
		if r := call(t, a.env.Client(), step.method, a.url(step.path), step.body, bearer(a.admin)...); r.Status >= 300 {
			t.Fatalf("%s %s: %d %s", step.method, step.path, r.Status, r.Raw)
		}
	}
}
