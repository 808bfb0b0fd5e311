package authzen_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
)

// TestEvaluation_DecidesAsTheCheckAPI: over a table of people (an
// administrator, a collaborator, a guest, a suspended member, someone of
// another account, no one), permissions (by key and by catalogue action
// name, and one that does not exist), resources (none, a location of the
// account, one of another account, the vendor's records with an owner, with
// none, unowned), the AuthZEN decision and its reason are those of POST
// /api/v1/check, asked the same question with the same key.
func TestEvaluation_DecidesAsTheCheckAPI(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		tn := newTenant(t, env)
		other := newTenant(t, env)
		people := map[string]equipe.ID{
			"admin":     tn.admin.User.ID,
			"collab":    tn.member(t, "collab", "collaborator").ID,
			"guest":     tn.member(t, "guest", "guest").ID,
			"suspended": env.AddMember(t, tn.account, "susp@"+tn.domain, "manager", equipe.MemberSuspended).User.ID,
			"elsewhere": other.admin.User.ID,
			"nobody":    equipe.NewID(),
		}
		perms := []struct{ check, action string }{
			{"records.view", "records.view"}, {"records.view", "can_read"}, {"records.edit", "can_edit"},
			{"members.manage", "members.manage"}, {"records.fly", "records.fly"},
		}
		type target struct {
			name     string
			resource *equipe.ID // a resource of equipe (a location)
			owner    any        // absent (nil), null (jsonNull), or a user ID
		}
		jsonNull := struct{}{}
		collab := people["collab"].String()
		foreign := other.location
		targets := []target{
			{"the account", nil, nil},
			{"a location", &tn.location, nil},
			{"another account's location", &foreign, nil},
			{"the collaborator's record", nil, collab},
			{"the admin's record", nil, tn.admin.User.ID.String()},
			{"an unowned record", nil, jsonNull},
			{"the collaborator's record at a location", &tn.location, collab},
		}
		n := 0
		for who, id := range people {
			for _, p := range perms {
				for _, tg := range targets {
					check := obj{"user_id": id.String(), "account_id": tn.account.String(), "permission": p.check}
					az := obj{"subject": user(id.String()), "action": act(p.action)}
					props := obj{}
					if tg.owner != nil {
						if tg.owner == jsonNull {
							check["owner_id"] = nil
							props["ownerID"] = nil
						} else {
							check["owner_id"] = tg.owner
							props["ownerID"] = tg.owner
						}
					}
					switch {
					case tg.resource != nil:
						check["resource_id"] = tg.resource.String()
						az["resource"] = obj{"type": "location", "id": tg.resource.String(), "properties": props}
					case tg.owner != nil:
						az["resource"] = obj{"type": "invoice", "id": "inv-1", "properties": props}
					default:
						az["resource"] = obj{"type": "account", "id": tn.account.String()}
					}
					want := post(t, env, "/api/v1/check", tn.key, check)
					// The plain form (read without reflection), and a form
					// that is not (a context member equipe does not read):
					// the same answer.
					plain := post(t, env, "/access/v1/evaluation", tn.key, az)
					az["context"] = obj{"time": "1985-10-26T01:22-07:00"}
					decoded := post(t, env, "/access/v1/evaluation", tn.key, az)
					for _, got := range []response{plain, decoded} {
						ctx, _ := got.JSON["context"].(map[string]any)
						if want.Status != 200 || got.Status != 200 || got.JSON["decision"] != want.JSON["allowed"] || ctx["reason"] != want.JSON["reason"] {
							t.Errorf("%s, %s, %s: check %d %s, authzen %d %s", who, p.action, tg.name, want.Status, want.Raw, got.Status, got.Raw)
						}
					}
					n++
				}
			}
		}
		// The table covers both answers and many reasons.
		if n < 200 {
			t.Fatalf("only %d questions", n)
		}
	})
}

// TestSubjects_ByIDExternalIDOrEmailWithinTheAccountOnly: a subject (and a
// record's owner) is named by equipe's ID, by the vendor's external ID (the
// member's, else the user's; recognised, prefixed external_id:, or said by
// id_type) or by email; what names no member of the account (someone of
// another account, whatever the form) is denied_not_member; an account key
// asking about another account is answered denied_unknown_account, and its
// searches find nothing there.
func TestSubjects_ByIDExternalIDOrEmailWithinTheAccountOnly(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		ctx := t.Context()
		tn := newTenant(t, env)
		other := newTenant(t, env)
		collab := tn.member(t, "collab", "collaborator")
		ext := "crm@42" // has an @: only id_type or the prefix says it is an external ID
		if _, err := env.App.Team.ChangeMember(ctx, tnActor(tn), tn.account, collab.ID, memberExternal("u-42")); err != nil {
			t.Fatal(err)
		}
		stranger := other.member(t, "stranger", "collaborator")
		if _, err := env.App.Team.ChangeMember(ctx, tnActor(other), other.account, stranger.ID, memberExternal(ext)); err != nil {
			t.Fatal(err)
		}
		ask := func(key string, sub obj, resource obj) (bool, string) {
			t.Helper()
			r := post(t, env, "/access/v1/evaluation", key, obj{"subject": sub, "action": act("records.view"), "resource": resource})
			if r.Status != 200 {
				t.Fatalf("%v: %d %s", sub, r.Status, r.Raw)
			}
			return r.JSON["decision"].(bool), r.JSON["context"].(map[string]any)["reason"].(string)
		}
		acct := res("account", tn.account.String())
		withType := func(id, typ string) obj {
			return obj{"type": "user", "id": id, "properties": obj{"id_type": typ}}
		}
		for _, tt := range []struct {
			name   string
			sub    obj
			reason string
		}{
			{"equipe's ID", user(collab.ID.String()), "allowed_scope_owned_or_unassigned"},
			{"equipe's ID, said", withType(collab.ID.String(), "id"), "allowed_scope_owned_or_unassigned"},
			{"the external ID", user("u-42"), "allowed_scope_owned_or_unassigned"},
			{"the external ID, prefixed", user("external_id:u-42"), "allowed_scope_owned_or_unassigned"},
			{"the external ID, said", withType("u-42", "external_id"), "allowed_scope_owned_or_unassigned"},
			{"the email", user(strings.ToUpper(collab.Email)), "allowed_scope_owned_or_unassigned"},
			{"the email, said", withType(collab.Email, "email"), "allowed_scope_owned_or_unassigned"},
			{"not an ID, said to be one", withType("u-42", "id"), "denied_not_member"},
			{"another account's member by ID", user(stranger.ID.String()), "denied_not_member"},
			{"another account's member by email", user(stranger.Email), "denied_not_member"},
			{"another account's member by external ID", withType(ext, "external_id"), "denied_not_member"},
			{"another account's member by external ID, prefixed", user("external_id:" + ext), "denied_not_member"},
			{"an external ID no one can have", user("external_id:nul\x00byte"), "denied_not_member"},
			{"an email no one can have", withType("a\x00@b.example", "email"), "denied_not_member"},
			{"a subject that is no user", obj{"type": "service", "id": collab.ID.String()}, "denied_not_member"},
		} {
			if _, reason := ask(tn.key, tt.sub, acct); reason != tt.reason {
				t.Errorf("%s: %s", tt.name, reason)
			}
		}
		// Owners by any form.
		rec := func(owner string) obj { return res("invoice", "inv-7", "ownerID", owner) }
		for owner, want := range map[string]string{collab.ID.String(): "allowed", "u-42": "allowed", collab.Email: "allowed",
			tn.admin.User.Email: "denied_scope", stranger.Email: "denied_scope"} {
			if _, reason := ask(tn.key, user("u-42"), rec(owner)); reason != want {
				t.Errorf("owner %s: %s", owner, reason)
			}
		}
		// An account key about another account: out of reach.
		for _, about := range []obj{res("account", other.account.String()),
			res("invoice", "1", "account_id", other.account.String())} {
			if ok, reason := ask(tn.key, user(stranger.ID.String()), about); ok || reason != "denied_unknown_account" {
				t.Errorf("another account (%v): %v %s", about, ok, reason)
			}
		}
		r := post(t, env, "/access/v1/search/subject", tn.key, obj{"subject": obj{"type": "user"}, "action": act("records.view"),
			"resource": res("account", other.account.String())})
		if r.Status != 200 || len(r.JSON["results"].([]any)) != 0 {
			t.Errorf("searching another account's people: %d %s", r.Status, r.Raw)
		}
		r = post(t, env, "/access/v1/search/resource", tn.key, obj{"subject": user(stranger.ID.String()), "action": act("records.view"),
			"resource": obj{"type": "location", "properties": obj{"account_id": other.account.String()}}})
		if r.Status != 200 || len(r.JSON["results"].([]any)) != 0 {
			t.Errorf("searching another account's resources: %d %s", r.Status, r.Raw)
		}
		// An instance key reaches both, naming the account.
		ik := instanceKey(t, env)
		if ok, _ := ask(ik, withType(ext, "external_id"), res("account", other.account.String())); !ok {
			t.Error("an instance key about the other account")
		}
		if r := post(t, env, "/access/v1/evaluation", ik, obj{"subject": user("u-42"), "action": act("records.view"),
			"resource": res("invoice", "1")}); r.Status != 400 || !strings.Contains(string(r.Raw), "account_id") {
			t.Errorf("an instance key naming no account: %d %s", r.Status, r.Raw)
		}
		_ = fmt.Sprint
	})
}

// TestEvaluation_AResourceIsTheQuestionsOrNothing: an account resource
// that is not the account the question is in (named by the context or the
// resource's properties) is no resource of it, and a record named without
// its owner is someone else's: a scoped permission reaches it only at the
// scope "all". Both in the plain form and the decoded one, with an account
// key and an instance key; the subject search agrees.
func TestEvaluation_AResourceIsTheQuestionsOrNothing(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		tn := newTenant(t, env)
		other := newTenant(t, env)
		collab := tn.member(t, "collab", "collaborator")
		ik := instanceKey(t, env)
		a, b := tn.account.String(), other.account.String()
		for _, tt := range []struct {
			name string
			key  string
			who  equipe.ID
			res  obj
			ctx  obj
			want string
		}{
			{"another account, the context naming this one", tn.key, tn.admin.User.ID, res("account", b), obj{"account_id": a}, "denied_unknown_resource"},
			{"another account, the properties naming this one", tn.key, tn.admin.User.ID, res("account", b, "account_id", a), nil, "denied_unknown_resource"},
			{"no account at all, the context naming this one", tn.key, tn.admin.User.ID, res("account", "garbage"), obj{"account_id": a}, "denied_unknown_resource"},
			{"another account, by an instance key", ik, tn.admin.User.ID, res("account", b), obj{"account_id": a}, "denied_unknown_resource"},
			{"this account, named twice", tn.key, tn.admin.User.ID, res("account", a), obj{"account_id": a}, "allowed_scope_all"},
			{"a record without owner, scope owned or unassigned", tn.key, collab.ID, res("invoice", "inv-1"), nil, "denied_scope"},
			{"a record without owner, by an instance key", ik, collab.ID, res("invoice", "inv-1"), obj{"account_id": a}, "denied_scope"},
			{"a record without owner, scope all", tn.key, tn.admin.User.ID, res("invoice", "inv-1"), nil, "allowed"},
			{"a record of the collaborator's", tn.key, collab.ID, res("invoice", "inv-1", "ownerID", collab.ID.String()), nil, "allowed"},
			{"an unowned record", tn.key, collab.ID, res("invoice", "inv-1", "ownerID", nil), nil, "allowed"},
			{"the permission in general", tn.key, collab.ID, res("account", a), nil, "allowed_scope_owned_or_unassigned"},
		} {
			q := obj{"subject": user(tt.who.String()), "action": act("records.view"), "resource": tt.res}
			if tt.ctx != nil {
				q["context"] = tt.ctx
			}
			plain := post(t, env, "/access/v1/evaluation", tt.key, q)
			q["context"] = obj{"account_id": a, "time": "now"} // read through the decoder
			if tt.ctx == nil && tt.key == tn.key {
				delete(q["context"].(obj), "account_id")
			}
			decoded := post(t, env, "/access/v1/evaluation", tt.key, q)
			for form, r := range map[string]response{"plain": plain, "decoded": decoded} {
				ctx, _ := r.JSON["context"].(map[string]any)
				if r.Status != 200 || ctx["reason"] != tt.want || r.JSON["decision"] != strings.HasPrefix(tt.want, "allowed") {
					t.Errorf("%s (%s): %d %s, want %s", tt.name, form, r.Status, r.Raw, tt.want)
				}
			}
		}
		r := post(t, env, "/access/v1/search/subject", tn.key, obj{"subject": obj{"type": "user"}, "action": act("records.view"),
			"resource": res("invoice", "inv-1")})
		found := map[string]bool{}
		for _, x := range r.JSON["results"].([]any) {
			found[x.(map[string]any)["id"].(string)] = true
		}
		if r.Status != 200 || !found[tn.admin.User.ID.String()] || found[collab.ID.String()] {
			t.Errorf("who may read a record without owner: %d %s", r.Status, r.Raw)
		}
	})
}
