package api_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
)

// effective returns the member's effective permissions as "key" or
// "key:scope", as the administrator reads them.
func effective(t *testing.T, tn tenant, user equipe.ID) map[string]string {
	t.Helper()
	r := call(t, tn.env.Client(), "GET", tn.url("/members/"+user.String()+"/effective-permissions"), nil, bearer(tn.admin)...)
	if r.Status != 200 {
		t.Fatalf("effective permissions: %d %s", r.Status, r.Raw)
	}
	out := map[string]string{}
	for _, p := range r.JSON["permissions"].([]any) {
		m := p.(map[string]any)
		scope, _ := m["scope"].(string)
		out[m["permission"].(string)] = scope
	}
	return out
}

// TestMembers_LiftingADenialIsAGrant: removing a member's denial or narrower
// scope gives them what the denial took away, so it needs the actor to hold
// it, for the actor's own membership as for anyone's.
func TestMembers_LiftingADenialIsAGrant(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		mgr := env.AddMember(t, a.account, "mgr@a.example", "manager", equipe.MemberActive)
		peer := env.AddMember(t, a.account, "peer@a.example", "manager", equipe.MemberActive)
		restrict := map[string]any{"overrides": map[string]any{
			"records.bulk_delete": map[string]any{"allow": false},
			"records.view":        map[string]any{"allow": true, "scope": "owned"}}}
		for _, m := range []apptest.Member{mgr, peer} {
			if r := call(t, env.Client(), "PATCH", a.url("/members/"+m.User.ID.String()), restrict, bearer(a.admin)...); r.Status != 200 {
				t.Fatalf("restrict: %d %s", r.Status, r.Raw)
			}
		}
		env.Delivered(t)
		before := storetest_dump(t, env)
		for _, target := range []apptest.Member{mgr, peer} {
			r := call(t, env.Client(), "PATCH", a.url("/members/"+target.User.ID.String()), map[string]any{"overrides": map[string]any{}}, bearer(mgr.Token)...)
			if r.Status != 403 || r.code() != "role.beyond_own" {
				t.Errorf("the restricted manager lifts the denials of %s: %d %s", target.User.Email, r.Status, r.Raw)
			}
		}
		if stripVolatile(before) != stripVolatile(storetest_dump(t, env)) {
			t.Fatal("refused changes changed data")
		}
		if got := effective(t, a, peer.User.ID); got["records.view"] != "owned" {
			t.Fatalf("the peer after refused changes: %v", got)
		}
		// Changes that grant nothing still pass: a title.
		if r := call(t, env.Client(), "PATCH", a.url("/members/"+peer.User.ID.String()), map[string]any{"title": "Gérant"}, bearer(mgr.Token)...); r.Status != 200 {
			t.Fatalf("a title: %d %s", r.Status, r.Raw)
		}
	})
}

// TestMembers_AdministratorsHaveNoOverrides: an administrator holds every
// permission, so denials cannot make a powerless "administrator" (the last
// one included); making someone an administrator drops their overrides.
func TestMembers_AdministratorsHaveNoOverrides(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		deny := map[string]any{"overrides": map[string]any{"members.manage": map[string]any{"allow": false}}}
		if r := call(t, env.Client(), "PATCH", a.url("/members/"+a.adminID.String()), deny, bearer(a.admin)...); r.Status != 422 ||
			r.fieldCodes()["overrides"] != "member.admin_overrides" {
			t.Fatalf("the last administrator denies themselves: %d %s", r.Status, r.Raw)
		}
		b := addMember(t, a, a.admin, newMemberBody("b@a.example", "role", "admin", "overrides", map[string]any{"billing.access": map[string]any{"allow": false}}))
		if b.Status != 422 || b.fieldCodes()["overrides"] != "member.admin_overrides" {
			t.Fatalf("add an administrator with a denial: %d %s", b.Status, b.Raw)
		}
		m := env.AddMember(t, a.account, "m@a.example", "manager", equipe.MemberActive)
		if r := call(t, env.Client(), "PATCH", a.url("/members/"+m.User.ID.String()), deny, bearer(a.admin)...); r.Status != 200 {
			t.Fatalf("deny a manager: %d %s", r.Status, r.Raw)
		}
		r := call(t, env.Client(), "PATCH", a.url("/members/"+m.User.ID.String()), map[string]any{"role": "admin"}, bearer(a.admin)...)
		if r.Status != 200 || len(r.JSON["overrides"].(map[string]any)) != 0 {
			t.Fatalf("made an administrator, the denial stays: %d %s", r.Status, r.Raw)
		}
		if _, ok := effective(t, a, m.User.ID)["members.manage"]; !ok {
			t.Fatal("the new administrator lacks members.manage")
		}
	})
}

// TestMembers_ARestrictedManagerActsOnlyOnTheirResources: a manager limited
// to one location cannot change, suspend or remove a member of another.
func TestMembers_ARestrictedManagerActsOnlyOnTheirResources(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		if r := call(t, env.Client(), "POST", a.url("/roles"), map[string]any{"key": "locmgr", "label_fr": "Responsable de site",
			"label_en": "Site manager", "restricted": true, "permissions": map[string]any{"members.view": true, "members.manage": true,
				"records.view": "owned_or_unassigned", "records.edit": "owned_or_unassigned"}}, bearer(a.admin)...); r.Status != 201 {
			t.Fatalf("role: %d %s", r.Status, r.Raw)
		}
		res := call(t, env.Client(), "GET", a.url("/resources"), nil, bearer(a.admin)...)
		l1 := res.JSON["items"].([]any)[0].(map[string]any)["id"].(string)
		l2 := call(t, env.Client(), "POST", a.url("/resources"), map[string]any{"type": "location", "name": "Paris"}, bearer(a.admin)...).JSON["id"].(string)
		assign := func(m apptest.Member, res string) {
			t.Helper()
			if r := call(t, env.Client(), "PATCH", a.url("/members/"+m.User.ID.String()), map[string]any{"resources": []string{res}}, bearer(a.admin)...); r.Status != 200 {
				t.Fatalf("assign: %d %s", r.Status, r.Raw)
			}
		}
		lm := env.AddMember(t, a.account, "lm@a.example", "locmgr", equipe.MemberActive)
		there := env.AddMember(t, a.account, "there@a.example", "collaborator", equipe.MemberActive)
		here := env.AddMember(t, a.account, "here@a.example", "collaborator", equipe.MemberActive)
		assign(lm, l1)
		assign(there, l2)
		assign(here, l1)
		env.Delivered(t)
		before := storetest_dump(t, env)
		u := a.url("/members/" + there.User.ID.String())
		for _, tt := range []struct{ method, path string }{{"PATCH", ""}, {"POST", "/suspend"}, {"DELETE", ""}} {
			var body any
			if tt.method == "PATCH" {
				body = map[string]any{"resources": []string{l1}}
			}
			if r := call(t, env.Client(), tt.method, u+tt.path, body, bearer(lm.Token)...); r.Status != 403 || r.code() != "member.outranks" {
				t.Errorf("%s %s on a member of another site: %d %s", tt.method, tt.path, r.Status, r.Raw)
			}
		}
		if stripVolatile(before) != stripVolatile(storetest_dump(t, env)) {
			t.Fatal("refused actions changed data")
		}
		if r := call(t, env.Client(), "POST", a.url("/members/"+here.User.ID.String()+"/suspend"), nil, bearer(lm.Token)...); r.Status != 200 {
			t.Fatalf("suspend a member of their own site: %d %s", r.Status, r.Raw)
		}
	})
}

// TestMembers_NamesAreNotLearntThroughMadeUpMemberships: adding someone to
// an account of one's own, under made-up names, and then to another does
// not reveal the names they chose.
func TestMembers_NamesAreNotLearntThroughMadeUpMemberships(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		newTenant(t, env, "victim@v.example") // Ada Lovelace
		att := newTenant(t, env, "att@x.example")
		if r := addMember(t, att, att.admin, newMemberBody("victim@v.example", "first_name", "Foo", "last_name", "Bar", "send_invitation", false)); r.Status != 201 {
			t.Fatalf("add: %d %s", r.Status, r.Raw)
		}
		r := call(t, env.Client(), "POST", env.URL+"/api/v1/accounts", map[string]any{"name": "Second", "locale": "en",
			"first_resource": map[string]any{"type": "location", "name": "L"},
			"owner":          map[string]any{"email": "att2@x.example", "first_name": "A", "last_name": "B"}}, bearer(att.admin)...)
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		second := tenant{env: env, account: equipe.MustParse(r.JSON["id"].(string)), admin: att.admin}
		r = addMember(t, second, att.admin, newMemberBody("victim@v.example", "first_name", "Foo", "last_name", "Bar", "send_invitation", false))
		if r.Status != 201 || r.JSON["first_name"] != "Foo" || r.JSON["last_name"] != "Bar" {
			t.Fatalf("the second add shows: %d %s", r.Status, r.Raw)
		}
	})
}

// firmWithClient makes a firm and a client account of it whose owner has
// joined, and returns the firm, the client and the owner's session.
func firmWithClient(t *testing.T, env *apptest.Env) (firm, client tenant, owner string) {
	t.Helper()
	firm = newTenant(t, env, "cabinet@compta.example")
	r := call(t, env.Client(), "POST", firm.url("/clients"), map[string]any{"name": "C", "locale": "fr",
		"owner": map[string]any{"email": "boss@c.example", "first_name": "B", "last_name": "C"}}, bearer(firm.admin)...)
	if r.Status != 201 {
		t.Fatalf("client: %d %s", r.Status, r.Raw)
	}
	client = tenant{env: env, account: equipe.MustParse(r.JSON["id"].(string))}
	secret := apptest.Secret(apptest.Link(t, env.Mail(t, "boss@c.example", "account_created_for_you"), "/invitations/"))
	acc := call(t, env.Client(), "POST", env.URL+"/api/v1/invitations/"+secret+"/accept",
		map[string]any{"password": "owner of a small company", "accept_privacy_policy": true})
	if acc.Status != 200 {
		t.Fatalf("accept: %d %s", acc.Status, acc.Raw)
	}
	return firm, client, acc.JSON["token"].(string)
}

// TestFirm_DetachingEndsTheKeysItsStaffMade: an API key made in a client by
// the firm's administrator, acting through the firm, ends when the client
// leaves the firm; the client's own keys stay.
func TestFirm_DetachingEndsTheKeysItsStaffMade(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		firm, client, boss := firmWithClient(t, env)
		key := func(token string) string {
			t.Helper()
			r := call(t, env.Client(), "POST", client.url("/api-keys"), map[string]any{"name": "k", "role": "admin"}, bearer(token)...)
			if r.Status != 201 {
				t.Fatalf("key: %d %s", r.Status, r.Raw)
			}
			return r.JSON["secret"].(string)
		}
		firmKey, ownKey := key(firm.admin), key(boss)
		if r := call(t, env.Client(), "DELETE", firm.url("/clients/"+client.account.String()), nil, bearer(firm.admin)...); r.Status != 204 {
			t.Fatalf("detach: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", client.url("/members"), nil, bearer(firmKey)...); r.Status != 401 || r.code() != "api_key.invalid" {
			t.Fatalf("the firm's key after detaching: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", client.url("/members"), nil, bearer(ownKey)...); r.Status != 200 {
			t.Fatalf("the client's own key after detaching: %d %s", r.Status, r.Raw)
		}
	})
}

// TestAnswers_AWriteAnswersTheTimesItStored: what a creation answers
// reads back the same afterwards, to the microsecond the store keeps.
func TestAnswers_AWriteAnswersTheTimesItStored(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		for _, c := range []struct {
			path string
			body map[string]any
		}{
			{"/webhooks", map[string]any{"url": "https://hooks.example.com/in", "types": []string{"*"}}},
			{"/contacts", map[string]any{"last_name": "Compta", "email": "compta@a.example", "kinds": []string{"billing"}}},
		} {
			made := call(t, env.Client(), "POST", a.url(c.path), c.body, bearer(a.admin)...)
			if made.Status != 201 {
				t.Fatalf("%s: %d %s", c.path, made.Status, made.Raw)
			}
			read := call(t, env.Client(), "GET", a.url(c.path+"/"+made.JSON["id"].(string)), nil, bearer(a.admin)...)
			for _, field := range []string{"created_at", "updated_at"} {
				if made.JSON[field] != read.JSON[field] {
					t.Errorf("%s: %s answered %v, read back %v", c.path, field, made.JSON[field], read.JSON[field])
				}
			}
		}
	})
}

// TestFirm_TheClientEndsTheFirmsAccess: a client account's own
// administrator ends its firm's access through the API; the firm's people,
// a key and a second attempt are refused, with their problems.
func TestFirm_TheClientEndsTheFirmsAccess(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		firm, client, boss := firmWithClient(t, env)
		k := call(t, env.Client(), "POST", client.url("/api-keys"), map[string]any{"name": "k", "role": "admin"}, bearer(boss)...)
		if k.Status != 201 {
			t.Fatalf("key: %d %s", k.Status, k.Raw)
		}
		end := func(token string) response {
			return call(t, env.Client(), "DELETE", client.url("/firm"), nil, bearer(token)...)
		}
		if r := call(t, env.Client(), "GET", client.url(""), nil, bearer(boss)...); r.Status != 200 ||
			r.JSON["actions"].(map[string]any)["end_firm_access"].(map[string]any)["allowed"] != true {
			t.Fatalf("the client's actions: %d %s", r.Status, r.Raw)
		}
		if r := end(firm.admin); r.Status != 403 || r.code() != "client.end_from_firm" {
			t.Fatalf("by the firm's administrator: %d %s", r.Status, r.Raw)
		}
		if r := end(k.JSON["secret"].(string)); r.Status != 403 || r.code() != "client.end_by_person" {
			t.Fatalf("by a key: %d %s", r.Status, r.Raw)
		}
		if r := end(boss); r.Status != 204 {
			t.Fatalf("by the client's administrator: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", client.url("/members"), nil, bearer(firm.admin)...); r.Status != 404 {
			t.Fatalf("the firm after: %d %s", r.Status, r.Raw)
		}
		env.Mail(t, "cabinet@compta.example", "firm_access_ended")
		if r := end(boss); r.Status != 409 || r.code() != "client.no_firm" {
			t.Fatalf("again: %d %s", r.Status, r.Raw)
		}
	})
}

// TestFirm_AdministratorsChangeClientMembers: the firm's administrator,
// acting in a client through the firm, changes and suspends its members.
func TestFirm_AdministratorsChangeClientMembers(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		firm := newTenant(t, env, "cabinet@compta.example")
		r := call(t, env.Client(), "POST", firm.url("/clients"), map[string]any{"name": "C", "locale": "fr",
			"first_resource": map[string]any{"type": "company", "name": "C"}}, bearer(firm.admin)...)
		cb := env.URL + "/api/v1/accounts/" + r.JSON["id"].(string)
		r = call(t, env.Client(), "POST", cb+"/members", map[string]any{"email": "emp@c.example", "first_name": "E",
			"last_name": "M", "role": "guest", "send_invitation": false}, bearer(firm.admin)...)
		if r.Status != 201 {
			t.Fatalf("add: %d %s", r.Status, r.Raw)
		}
		u := cb + "/members/" + r.JSON["user_id"].(string)
		if r := call(t, env.Client(), "PATCH", u, map[string]any{"title": "salarie"}, bearer(firm.admin)...); r.Status != 200 {
			t.Fatalf("change: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "POST", u+"/suspend", nil, bearer(firm.admin)...); r.Status != 200 {
			t.Fatalf("suspend: %d %s", r.Status, r.Raw)
		}
	})
}

// TestInvitations_ASuspensionWinsOverAConcurrentAcceptance: a member
// suspended while accepting their invitation stays suspended.
func TestInvitations_ASuspensionWinsOverAConcurrentAcceptance(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		for run := range 15 {
			email := "racer" + string(rune('a'+run)) + "@b.example"
			r := addMember(t, a, a.admin, newMemberBody(email))
			if r.Status != 201 {
				t.Fatalf("add: %d %s", r.Status, r.Raw)
			}
			user := r.JSON["user_id"].(string)
			secret := apptest.Secret(apptest.Link(t, env.Mail(t, email, "invitation"), "/invitations/"))
			var wg sync.WaitGroup
			var suspended response
			wg.Go(func() {
				call(t, env.Client(), "POST", env.URL+"/api/v1/invitations/"+secret+"/accept",
					map[string]any{"password": "a race against the clock", "accept_privacy_policy": true})
			})
			wg.Go(func() {
				suspended = call(t, env.Client(), "POST", a.url("/members/"+user+"/suspend"), nil, bearer(a.admin)...)
			})
			wg.Wait()
			if suspended.Status != 200 {
				t.Fatalf("run %d: suspend: %d %s", run, suspended.Status, suspended.Raw)
			}
			if m := call(t, env.Client(), "GET", a.url("/members/"+user), nil, bearer(a.admin)...); m.JSON["status"] != "suspended" {
				t.Fatalf("run %d: suspended, then %s", run, m.JSON["status"])
			}
		}
	})
}

// TestMembers_AddingTellsNothingOfAnIdentityElsewhere: adding an address
// that already has an identity and one that has none leave the same traces
// for the account: random user IDs (no creation time in them) and the same
// kind of invitation in the audit.
func TestMembers_AddingTellsNothingOfAnIdentityElsewhere(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		newTenant(t, env, "known@v.example")
		a := newTenant(t, env, "owner@a.example")
		for _, email := range []string{"known@v.example", "nobody@v.example"} {
			r := addMember(t, a, a.admin, newMemberBody(email))
			if r.Status != 201 {
				t.Fatalf("add %s: %d %s", email, r.Status, r.Raw)
			}
			if id := equipe.MustParse(r.JSON["user_id"].(string)); id.Version() != 4 {
				t.Errorf("%s: a user ID of version %d tells when the identity was made", email, id.Version())
			}
		}
		audit := call(t, env.Client(), "GET", a.url("/audit?action=invitation.sent"), nil, bearer(a.admin)...)
		items := audit.JSON["items"].([]any)
		if len(items) != 2 {
			t.Fatalf("invitations in the audit: %s", audit.Raw)
		}
		for _, it := range items {
			if after := it.(map[string]any)["after"].(map[string]any); after["template"] != "invitation" {
				t.Errorf("the audit tells the email's variant: %v", after)
			}
		}
	})
}

// TestInvitations_AnAddressReceivesAFewAnHourWhoeverSends: however many
// accounts or members someone makes for one address, it receives at most
// five team emails an hour.
func TestInvitations_AnAddressReceivesAFewAnHourWhoeverSends(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		firm := newTenant(t, env, "sender@x.example")
		client := func(i int) response {
			return call(t, env.Client(), "POST", firm.url("/clients"), map[string]any{"name": fmt.Sprintf("Client %d", i), "locale": "fr",
				"owner": map[string]any{"email": "target@v.example", "first_name": "T", "last_name": "V"}}, bearer(firm.admin)...)
		}
		for i := range 5 {
			if r := client(i); r.Status != 201 {
				t.Fatalf("client %d: %d %s", i, r.Status, r.Raw)
			}
		}
		env.Delivered(t)
		before := storetest_dump(t, env)
		if r := client(5); r.Status != 429 || r.code() != "invite.throttled" {
			t.Fatalf("the sixth email to the address: %d %s", r.Status, r.Raw)
		}
		if r := addMember(t, firm, firm.admin, newMemberBody("other@v.example", "send_invitation", false, "send_welcome", true,
			"notification_email", "target@v.example")); r.Status != 429 {
			t.Fatalf("a welcome email to the same address: %d %s", r.Status, r.Raw)
		}
		if stripVolatile(before) != stripVolatile(storetest_dump(t, env)) {
			t.Fatal("refused requests changed data")
		}
	})
}
