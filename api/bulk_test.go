package api_test

import (
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
)

// results returns a bulk answer's outcome (or skipped code) by user.
func (r response) results() map[string]string {
	out := map[string]string{}
	items, _ := r.JSON["results"].([]any)
	for _, it := range items {
		m := it.(map[string]any)
		v := m["outcome"].(string)
		if c, ok := m["code"].(string); ok {
			v = c
		}
		out[m["user"].(string)] = v
	}
	return out
}

func TestBulk_DryRunSaysWhatApplyDoesMemberByMember(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		ann := env.AddMember(t, a.account, "ann@a.example", "collaborator", equipe.MemberActive)
		bob := env.AddMember(t, a.account, "bob@a.example", "guest", equipe.MemberActive)
		cy := env.AddMember(t, a.account, "cy@a.example", "collaborator", equipe.MemberSuspended)
		body := map[string]any{"action": "suspend", "dry_run": true,
			"users": []string{ann.User.ID.String(), bob.User.ID.String(), cy.User.ID.String(), a.adminID.String()}}
		want := map[string]string{ann.User.ID.String(): "done", bob.User.ID.String(): "done",
			cy.User.ID.String(): "member.already_suspended", a.adminID.String(): "member.last_admin"}

		dry := call(t, env.Client(), "POST", a.url("/members/bulk"), body, bearer(a.admin)...)
		if dry.Status != 200 || dry.JSON["dry_run"] != true || dry.JSON["done"] != float64(2) || dry.JSON["skipped"] != float64(2) {
			t.Fatalf("dry run: %d %s", dry.Status, dry.Raw)
		}
		if got := dry.results(); !equalMaps(got, want) {
			t.Fatalf("dry run: %v, want %v", got, want)
		}
		if !strings.Contains(string(dry.Raw), `"detail":"This member is already suspended."`) {
			t.Errorf("a skipped member's detail is not in words: %s", dry.Raw)
		}
		m := call(t, env.Client(), "GET", a.url("/members/"+ann.User.ID.String()), nil, bearer(a.admin)...)
		if m.JSON["status"] != "active" {
			t.Fatalf("the dry run changed a member: %s", m.Raw)
		}

		body["dry_run"] = false
		res := call(t, env.Client(), "POST", a.url("/members/bulk"), body, bearer(a.admin)...)
		if res.Status != 200 || res.JSON["dry_run"] != false {
			t.Fatalf("apply: %d %s", res.Status, res.Raw)
		}
		if got := res.results(); !equalMaps(got, want) {
			t.Fatalf("applied: %v, want %v", got, want)
		}
		for _, u := range []apptest.Member{ann, bob} {
			m := call(t, env.Client(), "GET", a.url("/members/"+u.User.ID.String()), nil, bearer(a.admin)...)
			if m.JSON["status"] != "suspended" {
				t.Errorf("%s after the bulk suspension: %s", u.User.Email, m.Raw)
			}
		}
		audit := call(t, env.Client(), "GET", a.url("/audit?type=member.suspended"), nil, bearer(a.admin)...)
		if items, _ := audit.JSON["items"].([]any); len(items) != 2 {
			t.Errorf("events of the bulk suspension: %d, want one a member: %s", len(items), audit.Raw)
		}
	})
}

func TestBulk_ReinviteByFilterQueuesTheInvitations(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		for _, e := range []string{"grace@b.example", "alan@b.example"} {
			if r := addMember(t, a, a.admin, newMemberBody(e, "send_invitation", false)); r.Status != 201 {
				t.Fatalf("add %s: %d %s", e, r.Status, r.Raw)
			}
		}
		res := call(t, env.Client(), "POST", a.url("/members/bulk"), map[string]any{"action": "reinvite",
			"filter": map[string]any{"status": "created"}}, bearer(a.admin)...)
		if res.Status != 200 || res.JSON["done"] != float64(2) {
			t.Fatalf("re-invite: %d %s", res.Status, res.Raw)
		}
		env.Mail(t, "grace@b.example", "invitation")
		env.Mail(t, "alan@b.example", "invitation")
	})
}

func TestBulk_MalformedRequestsAnswerProblems(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		ann := env.AddMember(t, a.account, "ann@a.example", "collaborator", equipe.MemberActive).User.ID.String()
		many := make([]string, 1001)
		for i := range many {
			many[i] = equipe.NewID().String()
		}
		tests := []struct {
			name  string
			body  any
			field string
			code  string
		}{
			{"an unknown action", map[string]any{"action": "promote", "users": []string{ann}}, "action", "bulk.action_unknown"},
			{"a role change with no role", map[string]any{"action": "change_role", "users": []string{ann}}, "role", "bulk.role_required"},
			{"an unknown role", map[string]any{"action": "change_role", "role": "emperor", "users": []string{ann}}, "role", "role.unknown"},
			{"too many members", map[string]any{"action": "suspend", "users": many}, "users", "bulk.too_many"},
			{"no member", map[string]any{"action": "suspend", "users": []string{}}, "users", "bulk.selection_empty"},
			{"a user that is no ID", map[string]any{"action": "suspend", "users": []string{"ann"}}, "users", "bulk.user_invalid"},
			{"a filter by an unknown status", map[string]any{"action": "suspend", "filter": map[string]any{"status": "asleep"}},
				"filter.status", "member.status_filter_invalid"},
			{"a filter by a resource that is no ID", map[string]any{"action": "suspend", "filter": map[string]any{"resource": "hq"}},
				"filter.resource", "resource.unknown"},
			{"a filter by a company that is no client", map[string]any{"action": "suspend",
				"filter": map[string]any{"client": equipe.NewID().String()}}, "filter.client", "member.client_filter_invalid"},
		}
		for _, tt := range tests {
			r := call(t, env.Client(), "POST", a.url("/members/bulk"), tt.body, bearer(a.admin)...)
			if r.Status != 422 || r.code() != "error.fields" || r.fieldCodes()[tt.field] != tt.code ||
				r.JSON["type"] != "urn:equipe:problem:invalid" {
				t.Errorf("%s: %d %s", tt.name, r.Status, r.Raw)
			}
		}
		if r := call(t, env.Client(), "POST", a.url("/members/bulk"), `{"action": "suspend", "users": [`, bearer(a.admin)...); r.Status != 400 {
			t.Errorf("malformed JSON: %d %s", r.Status, r.Raw)
		}
		m := call(t, env.Client(), "GET", a.url("/members/"+ann), nil, bearer(a.admin)...)
		if m.JSON["status"] != "active" {
			t.Errorf("a refused request changed a member: %s", m.Raw)
		}
		// Someone who may not manage members is refused the whole request.
		guest := env.AddMember(t, a.account, "guest@a.example", "guest", equipe.MemberActive)
		r := call(t, env.Client(), "POST", a.url("/members/bulk"), map[string]any{"action": "suspend", "users": []string{ann}},
			bearer(guest.Token)...)
		if r.Status != 403 {
			t.Errorf("a guest's bulk request: %d %s", r.Status, r.Raw)
		}
	})
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
