package api_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
)

func createAccountFor(t *testing.T, env *apptest.Env, token string, owner string) response {
	t.Helper()
	return call(t, env.Client(), "POST", env.URL+"/api/v1/accounts", map[string]any{
		"name": "Pizzeria Bella", "locale": "fr", "first_resource": map[string]any{"type": "location", "name": "Bella Centre"},
		"owner":   map[string]any{"email": owner, "first_name": "Giulia", "last_name": "Rossi"},
		"message": "Bonjour Giulia,\nje viens de créer votre compte.",
	}, bearer(token)...)
}

// TestPartner_CreatesAnAccountForABusiness plays a reseller creating a
// customer's account, through the API: a partner creates the account; the
// owner sets their own password from the email, sees the partner as Manager
// and removes them; the partner's access ends at once.
func TestPartner_CreatesAnAccountForABusiness(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		partner := newTenant(t, env, "consultant@partner.example")
		r := createAccountFor(t, env, partner.admin, "giulia@bella.example")
		if r.Status != 201 || r.JSON["name"] != "Pizzeria Bella" {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		account := r.JSON["id"].(string)
		base := env.URL + "/api/v1/accounts/" + account
		// The partner is a Manager of it, and never learns a password.
		if r := call(t, env.Client(), "GET", env.URL+"/api/v1/me/accounts", nil, bearer(partner.admin)...); !strings.Contains(string(r.Raw), `"role":"manager"`) {
			t.Fatalf("partner's accounts: %s", r.Raw)
		}
		m := env.Mail(t, "giulia@bella.example", "account_created_for_you")
		if !strings.Contains(m.Text, "je viens de créer votre compte") || !strings.Contains(m.Text, "Ada Lovelace") {
			t.Fatalf("the owner's email lacks the message or the partner:\n%s", m.Text)
		}
		secret := apptest.Secret(apptest.Link(t, m, "/invitations/"))
		r = call(t, env.Client(), "POST", env.URL+"/api/v1/invitations/"+secret+"/accept",
			map[string]any{"password": "la meilleure pizza du quartier", "accept_privacy_policy": true})
		if r.Status != 200 {
			t.Fatalf("owner accepts: %d %s", r.Status, r.Raw)
		}
		owner := r.JSON["token"].(string)
		// The owner sees the partner as Manager on the team, and removes them.
		team := call(t, env.Client(), "GET", base+"/members?role=manager", nil, bearer(owner)...)
		items := team.JSON["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["email"] != "consultant@partner.example" {
			t.Fatalf("owner's team: %s", team.Raw)
		}
		partnerID := items[0].(map[string]any)["user_id"].(string)
		if r := call(t, env.Client(), "GET", base+"/roles", nil, bearer(partner.admin)...); r.Status != 200 {
			t.Fatalf("partner before removal: %d", r.Status)
		}
		if r := call(t, env.Client(), "DELETE", base+"/members/"+partnerID, nil, bearer(owner)...); r.Status != 204 {
			t.Fatalf("owner removes the partner: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", base+"/roles", nil, bearer(partner.admin)...); r.Status != 404 {
			t.Fatalf("partner after removal: %d", r.Status)
		}
		// An owner who already has an identity gets the access email instead.
		other := newTenant(t, env, "owner2@elsewhere.example")
		_ = other
		if r := createAccountFor(t, env, partner.admin, "owner2@elsewhere.example"); r.Status != 201 {
			t.Fatalf("create for an existing identity: %d %s", r.Status, r.Raw)
		}
		env.Mail(t, "owner2@elsewhere.example", "access_granted")
		// Bad input changes nothing.
		r = call(t, env.Client(), "POST", env.URL+"/api/v1/accounts", map[string]any{"name": "<b>x</b>", "locale": "fr",
			"owner": map[string]any{"email": "nope"}}, bearer(partner.admin)...)
		if r.Status != 422 || r.fieldCodes()["owner.email"] == "" || r.fieldCodes()["name"] == "" {
			t.Fatalf("bad account: %d %s", r.Status, r.Raw)
		}
	})
}

// TestFirm_StaffReachOnlyTheirClients plays an accounting firm's two spaces:
// a firm with two staff assigned to different client companies, each client
// with users of its own.
func TestFirm_StaffReachOnlyTheirClients(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		firm := newTenant(t, env, "cabinet@compta.example")
		alice := env.AddMember(t, firm.account, "alice@compta.example", "collaborator", equipe.MemberActive)
		bob := env.AddMember(t, firm.account, "bob@compta.example", "collaborator", equipe.MemberActive)
		newClient := func(name string) string {
			r := call(t, env.Client(), "POST", firm.url("/clients"), map[string]any{"name": name, "locale": "fr",
				"first_resource": map[string]any{"type": "company", "name": name}}, bearer(firm.admin)...)
			if r.Status != 201 {
				t.Fatalf("client %s: %d %s", name, r.Status, r.Raw)
			}
			return r.JSON["id"].(string)
		}
		boulangerie, garage := newClient("Boulangerie Martin"), newClient("Garage Dupuis")
		assign := func(client string, user equipe.ID) {
			if r := call(t, env.Client(), "POST", firm.url("/clients/"+client+"/staff"), map[string]any{"user_id": user.String()}, bearer(firm.admin)...); r.Status != 204 {
				t.Fatalf("assign: %d %s", r.Status, r.Raw)
			}
		}
		assign(boulangerie, alice.User.ID)
		assign(garage, bob.User.ID)
		key := firm.key(t, "admin")
		may := func(user equipe.ID, client string) response {
			return checkAs(t, env, key, map[string]any{"user_id": user.String(), "account_id": client, "permission": "records.view"})
		}
		// Each staff member reaches their client only; the firm's admin all.
		if r := may(alice.User.ID, boulangerie); r.JSON["allowed"] != true {
			t.Fatalf("alice in her client: %s", r.Raw)
		}
		if r := may(alice.User.ID, garage); r.JSON["allowed"] != false || r.JSON["reason"] != "denied_not_member" {
			t.Fatalf("alice in bob's client: %s", r.Raw)
		}
		if r := may(firm.adminID, garage); r.JSON["allowed"] != true {
			t.Fatalf("the firm's admin: %s", r.Raw)
		}
		clientsOf := func(token string) int {
			r := call(t, env.Client(), "GET", firm.url("/clients"), nil, bearer(token)...)
			return len(r.JSON["items"].([]any))
		}
		if clientsOf(alice.Token) != 1 || clientsOf(bob.Token) != 1 || clientsOf(firm.admin) != 2 {
			t.Fatalf("clients seen: alice %d, bob %d, admin %d", clientsOf(alice.Token), clientsOf(bob.Token), clientsOf(firm.admin))
		}
		// Alice's account switcher shows her client through the firm.
		me := call(t, env.Client(), "GET", env.URL+"/api/v1/me/accounts", nil, bearer(alice.Token)...)
		if !strings.Contains(string(me.Raw), boulangerie) || strings.Contains(string(me.Raw), garage) {
			t.Fatalf("alice's accounts: %s", me.Raw)
		}
		// The client's own user (Espace Clients), added by the firm's staff.
		cb := env.URL + "/api/v1/accounts/" + boulangerie
		r := call(t, env.Client(), "POST", cb+"/members", map[string]any{"email": "patron@boulangerie.example", "first_name": "Paul",
			"last_name": "Martin", "role": "admin", "title": "chef_entreprise", "send_invitation": true}, bearer(firm.admin)...)
		if r.Status != 201 {
			t.Fatalf("client user: %d %s", r.Status, r.Raw)
		}
		// The client's members never see the firm's members or other clients.
		team := call(t, env.Client(), "GET", cb+"/members", nil, bearer(firm.admin)...)
		if n := len(team.JSON["items"].([]any)); n != 1 {
			t.Fatalf("the client's team shows %d members (the firm's staff are not its members): %s", n, team.Raw)
		}
		// Unassigning ends the inherited access on the next check.
		if r := call(t, env.Client(), "DELETE", firm.url("/clients/"+garage+"/staff/"+bob.User.ID.String()), nil, bearer(firm.admin)...); r.Status != 204 {
			t.Fatalf("unassign: %d %s", r.Status, r.Raw)
		}
		if r := may(bob.User.ID, garage); r.JSON["allowed"] != false {
			t.Fatalf("bob after unassignment: %s", r.Raw)
		}
		// A client without an administrator of its own stays with the firm;
		// once its owner joined, it may leave, and the firm's access ends.
		if r := call(t, env.Client(), "DELETE", firm.url("/clients/"+garage), nil, bearer(firm.admin)...); r.Status != 409 || r.code() != "client.no_admin" {
			t.Fatalf("detach a client nobody else runs: %d %s", r.Status, r.Raw)
		}
		secret := apptest.Secret(apptest.Link(t, env.Mail(t, "patron@boulangerie.example", "invitation"), "/invitations/"))
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/invitations/"+secret+"/accept",
			map[string]any{"password": "le pain du matin est chaud", "accept_privacy_policy": true}); r.Status != 200 {
			t.Fatalf("the client's owner joins: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "DELETE", firm.url("/clients/"+boulangerie), nil, bearer(firm.admin)...); r.Status != 204 {
			t.Fatalf("detach: %d %s", r.Status, r.Raw)
		}
		if r := may(firm.adminID, boulangerie); r.JSON["allowed"] != false {
			t.Fatalf("the firm after the client left: %s", r.Raw)
		}
		// A client cannot have clients of its own.
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/accounts/"+garage+"/clients", map[string]any{"name": "Sub", "locale": "fr"}, bearer(firm.admin)...); r.Status != 409 {
			t.Fatalf("nested client: %d %s", r.Status, r.Raw)
		}
		// Staff who may not manage client accounts cannot create or assign.
		if r := call(t, env.Client(), "POST", firm.url("/clients"), map[string]any{"name": "X", "locale": "fr"}, bearer(alice.Token)...); r.Status != 403 {
			t.Fatalf("collaborator creates a client: %d", r.Status)
		}
	})
}

// TestIsolation_AcrossTheAccountTree: client ↔ client, client → firm,
// unassigned staff → client each answer 404 and change nothing.
func TestIsolation_AcrossTheAccountTree(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		firm := newTenant(t, env, "cabinet@compta.example")
		staff := env.AddMember(t, firm.account, "staff@compta.example", "manager", equipe.MemberActive)
		mk := func(name, owner string) (string, string) {
			r := call(t, env.Client(), "POST", firm.url("/clients"), map[string]any{"name": name, "locale": "fr",
				"owner": map[string]any{"email": owner, "first_name": "O", "last_name": name}}, bearer(firm.admin)...)
			if r.Status != 201 {
				t.Fatalf("client: %d %s", r.Status, r.Raw)
			}
			secret := apptest.Secret(apptest.Link(t, env.Mail(t, owner, "account_created_for_you"), "/invitations/"))
			a := call(t, env.Client(), "POST", env.URL+"/api/v1/invitations/"+secret+"/accept",
				map[string]any{"password": "owner of a small company", "accept_privacy_policy": true})
			return r.JSON["id"].(string), a.JSON["token"].(string)
		}
		c1, owner1 := mk("Client One", "one@client.example")
		c2, _ := mk("Client Two", "two@client.example")
		for _, tt := range []struct {
			name, token, path string
		}{
			{"client owner → other client", owner1, "/api/v1/accounts/" + c2 + "/members"},
			{"client owner → firm", owner1, "/api/v1/accounts/" + firm.account.String() + "/members"},
			{"client owner → firm clients", owner1, "/api/v1/accounts/" + firm.account.String() + "/clients"},
			{"unassigned staff → client", staff.Token, "/api/v1/accounts/" + c1 + "/members"},
			{"unassigned staff → client roles", staff.Token, "/api/v1/accounts/" + c1 + "/roles"},
		} {
			if r := call(t, env.Client(), "GET", env.URL+tt.path, nil, bearer(tt.token)...); r.Status != 404 {
				t.Errorf("%s: %d %s", tt.name, r.Status, r.Raw)
			}
		}
		env.Delivered(t)
		before := storetest_dump(t, env)
		for _, tt := range []struct {
			name, token, method, path string
			body                      any
		}{
			{"client owner adds to the other client", owner1, "POST", "/api/v1/accounts/" + c2 + "/members", newMemberBody("x@evil.example")},
			{"client owner creates a client of the firm", owner1, "POST", "/api/v1/accounts/" + firm.account.String() + "/clients", map[string]any{"name": "Evil", "locale": "fr"}},
			{"unassigned staff adds to a client", staff.Token, "POST", "/api/v1/accounts/" + c1 + "/members", newMemberBody("y@evil.example")},
			{"client owner detaches the other client", owner1, "DELETE", "/api/v1/accounts/" + firm.account.String() + "/clients/" + c2, nil},
		} {
			if r := call(t, env.Client(), tt.method, env.URL+tt.path, tt.body, bearer(tt.token)...); r.Status != 404 {
				t.Errorf("%s: %d %s", tt.name, r.Status, r.Raw)
			}
		}
		after := storetest_dump(t, env)
		if b, a := stripVolatile(before), stripVolatile(after); b != a {
			t.Fatalf("refused requests changed data:\n%s", lineDiff(b, a))
		}
	})
}

// lineDiff lists the lines only one of two dumps has, "-" before and "+"
// after.
func lineDiff(before, after string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	b, a := in(before), in(after)
	var out []string
	for _, l := range strings.Split(before, "\n") {
		if !a[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range strings.Split(after, "\n") {
		if !b[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

// stripVolatile drops the rows that requests write whatever their outcome
// (throttle counters, session last-seen times, keys' last use, and the
// security log's refusals across tenants, recorded once a minute for each
// caller and account: a run that crosses a minute records one more).
func stripVolatile(dump string) string {
	var keep []string
	for _, l := range strings.Split(dump, "\n") {
		if strings.HasPrefix(l, "throttles\t") || strings.HasPrefix(l, "sessions\t") || strings.HasPrefix(l, "api_keys\t") ||
			strings.HasPrefix(l, "security_events\t") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

func TestContacts_AreNotMembers(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		c := call(t, env.Client(), "POST", a.url("/contacts"), map[string]any{"first_name": "Jeanne", "last_name": "Compta",
			"email": "jeanne@compta.example", "phone": "+33 1 23 45 67 89", "kinds": []string{"billing", "billing", "technical"}}, bearer(a.admin)...)
		if c.Status != 201 || len(c.JSON["kinds"].([]any)) != 2 {
			t.Fatalf("create: %d %s", c.Status, c.Raw)
		}
		id := c.JSON["id"].(string)
		for name, body := range map[string]map[string]any{
			"no name":      {"email": "x@example.com", "kinds": []string{"billing"}},
			"unreachable":  {"last_name": "X", "kinds": []string{"billing"}},
			"bad email":    {"last_name": "X", "email": "x", "kinds": []string{"billing"}},
			"bad phone":    {"last_name": "X", "phone": "call me maybe", "kinds": []string{"billing"}},
			"no kind":      {"last_name": "X", "email": "x@example.com"},
			"unknown kind": {"last_name": "X", "email": "x@example.com", "kinds": []string{"gossip"}},
			"markup":       {"last_name": "<i>X</i>", "email": "x@example.com", "kinds": []string{"other"}},
		} {
			if r := call(t, env.Client(), "POST", a.url("/contacts"), body, bearer(a.admin)...); r.Status != 422 {
				t.Errorf("%s: %d %s", name, r.Status, r.Raw)
			}
		}
		// A phone of punctuation alone is no way to reach anyone.
		for _, phone := range []string{"---", "()", "+"} {
			r := call(t, env.Client(), "POST", a.url("/contacts"), map[string]any{"last_name": "X", "phone": phone, "kinds": []string{"billing"}},
				bearer(a.admin)...)
			if r.Status != 422 || r.fieldCodes()["phone"] != "contact.phone_digits" {
				t.Errorf("phone %q: %d %s", phone, r.Status, r.Raw)
			}
		}
		// PATCH changes what it names; the rest stays.
		if r := call(t, env.Client(), "PATCH", a.url("/contacts/"+id), map[string]any{"kinds": []string{"commercial"}}, bearer(a.admin)...); r.Status != 200 ||
			len(r.JSON["kinds"].([]any)) != 1 || r.JSON["kinds"].([]any)[0] != "commercial" || r.JSON["first_name"] != "Jeanne" ||
			r.JSON["email"] != "jeanne@compta.example" || r.JSON["phone"] != "+33 1 23 45 67 89" {
			t.Fatalf("update: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "PATCH", a.url("/contacts/"+id), map[string]any{"phone": ""}, bearer(a.admin)...); r.Status != 200 ||
			r.JSON["phone"] != "" || r.JSON["email"] != "jeanne@compta.example" {
			t.Fatalf("empty the phone: %d %s", r.Status, r.Raw)
		}
		// The contact as changed must still be valid: nothing changes otherwise.
		if r := call(t, env.Client(), "PATCH", a.url("/contacts/"+id), map[string]any{"email": ""}, bearer(a.admin)...); r.Status != 422 || r.fieldCodes()["email"] != "contact.reachable" {
			t.Fatalf("unreachable after the change: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", a.url("/contacts/"+id), nil, bearer(a.admin)...); r.JSON["email"] != "jeanne@compta.example" {
			t.Fatalf("after a refused change: %s", r.Raw)
		}
		// A contact cannot log in: there is no such user.
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": "jeanne@compta.example", "password": "anything at all really"}); r.Status != 401 {
			t.Fatalf("a contact logs in: %d", r.Status)
		}
		// Who may not manage contacts may read them, not change them.
		guest := env.AddMember(t, a.account, "guest@a.example", "guest", equipe.MemberActive)
		if r := call(t, env.Client(), "GET", a.url("/contacts"), nil, bearer(guest.Token)...); r.Status != 200 || len(r.JSON["items"].([]any)) != 1 {
			t.Fatalf("guest reads: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "DELETE", a.url("/contacts/"+id), nil, bearer(guest.Token)...); r.Status != 403 {
			t.Fatalf("guest deletes: %d", r.Status)
		}
		if r := call(t, env.Client(), "DELETE", a.url("/contacts/"+id), nil, bearer(a.admin)...); r.Status != 204 {
			t.Fatalf("delete: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", a.url("/contacts/"+id), nil, bearer(a.admin)...); r.Status != 404 {
			t.Fatalf("deleted contact: %d", r.Status)
		}
	})
}

// TestPatch_ThatChangesNothingWritesNothing: a PATCH of a contact, the
// account or a role that gives nothing, nulls, or the values already there
// answers 200 with the thing as it was and writes nothing: no event for
// the audit log, the webhooks or the change stream, no updated time.
func TestPatch_ThatChangesNothingWritesNothing(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		c := call(t, env.Client(), "POST", a.url("/contacts"), map[string]any{"first_name": "Jeanne", "last_name": "Compta",
			"email": "jeanne@compta.example", "phone": "+33 1 23 45 67 89", "kinds": []string{"billing", "technical"}}, bearer(a.admin)...)
		if c.Status != 201 {
			t.Fatalf("contact: %d %s", c.Status, c.Raw)
		}
		if r := call(t, env.Client(), "POST", a.url("/roles"), map[string]any{"key": "kiosk", "label_fr": "Borne", "label_en": "Kiosk",
			"permissions": map[string]any{"records.view": "owned"}}, bearer(a.admin)...); r.Status != 201 {
			t.Fatalf("role: %d %s", r.Status, r.Raw)
		}
		contact := "/contacts/" + c.JSON["id"].(string)
		acct := call(t, env.Client(), "GET", a.url(""), nil, bearer(a.admin)...)
		env.Delivered(t)
		before := storetest_dump(t, env)
		for _, tt := range []struct {
			name, path string
			body       map[string]any
		}{
			{"a contact, nothing", contact, map[string]any{}},
			{"a contact, no kinds", contact, map[string]any{"kinds": nil}},
			{"a contact, no email", contact, map[string]any{"email": nil}},
			{"a contact, its own values", contact, map[string]any{"first_name": "Jeanne", "email": " jeanne@compta.example",
				"kinds": []string{"technical", "billing"}}},
			{"the account, its own name", "", map[string]any{"name": acct.JSON["name"], "locale": acct.JSON["locale"]}},
			{"a role, its own label", "/roles/kiosk", map[string]any{"label_en": "Kiosk"}},
		} {
			was := call(t, env.Client(), "GET", a.url(tt.path), nil, bearer(a.admin)...)
			r := call(t, env.Client(), "PATCH", a.url(tt.path), tt.body, bearer(a.admin)...)
			if r.Status != 200 || !reflect.DeepEqual(r.JSON, was.JSON) {
				t.Errorf("%s: %d %s, want 200 %s", tt.name, r.Status, r.Raw, was.Raw)
			}
		}
		if b, a := stripVolatile(before), stripVolatile(storetest_dump(t, env)); b != a {
			t.Fatalf("changes that change nothing wrote:\n%s", lineDiff(b, a))
		}
	})
}

func TestSwitcher_RemembersTheCurrentAccount(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	a := newTenant(t, env, "owner@a.example")
	other := equipe.NewID().String()
	if r := call(t, env.Client(), "POST", env.URL+"/api/v1/me/current-account", map[string]any{"account_id": other}, bearer(a.admin)...); r.Status != 404 {
		t.Fatalf("switch to an account out of reach: %d", r.Status)
	}
	if r := call(t, env.Client(), "POST", env.URL+"/api/v1/me/current-account", map[string]any{"account_id": a.account.String()}, bearer(a.admin)...); r.Status != 200 {
		t.Fatalf("switch: %d %s", r.Status, r.Raw)
	}
	r := call(t, env.Client(), "GET", env.URL+"/api/v1/me/accounts", nil, bearer(a.admin)...)
	if item := r.JSON["items"].([]any)[0].(map[string]any); item["current"] != true {
		t.Fatalf("accounts: %s", r.Raw)
	}
	// Suspended in the account they chose, a member may not enter it: it is
	// not their current one any more, as switching to it answers 404.
	m := env.AddMember(t, a.account, "bob@a.example", "collaborator", equipe.MemberActive)
	if r := call(t, env.Client(), "POST", env.URL+"/api/v1/me/current-account", map[string]any{"account_id": a.account.String()}, bearer(m.Token)...); r.Status != 200 {
		t.Fatalf("bob switches: %d %s", r.Status, r.Raw)
	}
	if r := call(t, env.Client(), "POST", a.url("/members/"+m.User.ID.String()+"/suspend"), nil, bearer(a.admin)...); r.Status != 200 {
		t.Fatalf("suspend: %d %s", r.Status, r.Raw)
	}
	r = call(t, env.Client(), "GET", env.URL+"/api/v1/me/accounts", nil, bearer(m.Token)...)
	if item := r.JSON["items"].([]any)[0].(map[string]any); item["status"] != "suspended" || item["current"] != false {
		t.Fatalf("bob's accounts once suspended: %s", r.Raw)
	}
}

// TestFirm_ClientManagersReachOnlyTheirClients: a firm member allowed to
// manage client accounts without being the firm's administrator manages the
// clients assigned to them only, and assigns there the staff who hold
// nothing they do not (a manager, who does, is refused member.outranks);
// API keys see every client when they may manage client accounts, none
// otherwise.
func TestFirm_ClientManagersReachOnlyTheirClients(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		firm := newTenant(t, env, "cabinet@compta.example")
		if r := call(t, env.Client(), "POST", firm.url("/roles"), map[string]any{"key": "charge", "label_fr": "Chargé de clientèle",
			"label_en": "Account manager", "permissions": map[string]any{"members.view": true, "members.manage": true,
				"subaccounts.manage": true, "records.view": "all", "records.edit": "all"}}, bearer(firm.admin)...); r.Status != 201 {
			t.Fatalf("role: %d %s", r.Status, r.Raw)
		}
		carol := env.AddMember(t, firm.account, "carol@compta.example", "charge", equipe.MemberActive)
		dave := env.AddMember(t, firm.account, "dave@compta.example", "collaborator", equipe.MemberActive)
		erin := env.AddMember(t, firm.account, "erin@compta.example", "manager", equipe.MemberActive)
		newClient := func(token, name string) string {
			r := call(t, env.Client(), "POST", firm.url("/clients"), map[string]any{"name": name, "locale": "fr"}, bearer(token)...)
			if r.Status != 201 {
				t.Fatalf("client %s: %d %s", name, r.Status, r.Raw)
			}
			return r.JSON["id"].(string)
		}
		mine, other := newClient(firm.admin, "Boulangerie Martin"), newClient(firm.admin, "Garage Dupuis")
		if r := call(t, env.Client(), "POST", firm.url("/clients/"+mine+"/staff"), map[string]any{"user_id": carol.User.ID.String()}, bearer(firm.admin)...); r.Status != 204 {
			t.Fatalf("assign carol: %d %s", r.Status, r.Raw)
		}
		clientsOf := func(token string) []string {
			r := call(t, env.Client(), "GET", firm.url("/clients"), nil, bearer(token)...)
			if r.Status != 200 {
				t.Fatalf("clients: %d %s", r.Status, r.Raw)
			}
			var names []string
			for _, it := range r.JSON["items"].([]any) {
				names = append(names, it.(map[string]any)["name"].(string))
			}
			return names
		}
		if got := clientsOf(carol.Token); len(got) != 1 || got[0] != "Boulangerie Martin" {
			t.Fatalf("carol sees %v", got)
		}

		env.Delivered(t)
		before := storetest_dump(t, env)
		for _, tt := range []struct {
			name, method, path string
			body               any
		}{
			{"assigns herself to another client", "POST", "/clients/" + other + "/staff", map[string]any{"user_id": carol.User.ID.String()}},
			{"assigns a colleague to another client", "POST", "/clients/" + other + "/staff", map[string]any{"user_id": dave.User.ID.String()}},
			{"unassigns from another client", "DELETE", "/clients/" + other + "/staff/" + firm.adminID.String(), nil},
			{"detaches another client", "DELETE", "/clients/" + other, nil},
		} {
			if r := call(t, env.Client(), tt.method, firm.url(tt.path), tt.body, bearer(carol.Token)...); r.Status != 404 {
				t.Errorf("carol %s: %d %s", tt.name, r.Status, r.Raw)
			}
		}
		if stripVolatile(before) != stripVolatile(storetest_dump(t, env)) {
			t.Fatal("refused requests changed data")
		}

		// Her own client she manages, and one she creates is hers.
		if r := call(t, env.Client(), "POST", firm.url("/clients/"+mine+"/staff"), map[string]any{"user_id": dave.User.ID.String()}, bearer(carol.Token)...); r.Status != 204 {
			t.Fatalf("carol assigns dave to her client: %d %s", r.Status, r.Raw)
		}
		// A manager holds what she does not: not hers to assign.
		if r := call(t, env.Client(), "POST", firm.url("/clients/"+mine+"/staff"), map[string]any{"user_id": erin.User.ID.String()}, bearer(carol.Token)...); r.Status != 403 || r.code() != "member.outranks" {
			t.Fatalf("carol assigns erin to her client: %d %s", r.Status, r.Raw)
		}
		newClient(carol.Token, "Atelier Bernard")
		if got := clientsOf(carol.Token); len(got) != 2 {
			t.Fatalf("carol after creating a client sees %v", got)
		}
		if got := clientsOf(firm.admin); len(got) != 3 {
			t.Fatalf("the firm's admin sees %v", got)
		}
		if got := clientsOf(firm.key(t, "guest")); len(got) != 0 {
			t.Fatalf("a guest key sees %v", got)
		}
		if got := clientsOf(firm.key(t, "charge")); len(got) != 3 {
			t.Fatalf("a key that manages client accounts sees %v", got)
		}
	})
}

// TestPartner_ResendsTheOwnersInvitation: the partner, a Manager in the
// account they created, may send the owner's invitation again while it is
// pending (a lost email), but not revoke it nor reset the owner;
// once the owner joined, nothing more.
func TestPartner_ResendsTheOwnersInvitation(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		partner := newTenant(t, env, "partner@agency.example")
		r := createAccountFor(t, env, partner.admin, "giulia@bella.example")
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		base := env.URL + "/api/v1/accounts/" + r.JSON["id"].(string)
		first := apptest.Secret(apptest.Link(t, env.Mail(t, "giulia@bella.example", "account_created_for_you"), "/invitations/"))
		team := call(t, env.Client(), "GET", base+"/members?q=giulia", nil, bearer(partner.admin)...)
		owner := team.JSON["items"].([]any)[0].(map[string]any)["user_id"].(string)
		u := base + "/members/" + owner
		if r := call(t, env.Client(), "POST", u+"/invitation", nil, bearer(partner.admin)...); r.Status != 200 || r.JSON["invitations_sent"] != float64(2) {
			t.Fatalf("the partner re-sends: %d %s", r.Status, r.Raw)
		}
		second := apptest.Secret(apptest.Link(t, env.Mail(t, "giulia@bella.example", "reinvitation"), "/invitations/"))
		if second == first {
			t.Fatal("the same link was sent again")
		}
		for _, tt := range []struct{ method, path string }{{"DELETE", "/invitation"}, {"POST", "/password-reset"}, {"DELETE", ""}} {
			if r := call(t, env.Client(), tt.method, u+tt.path, nil, bearer(partner.admin)...); r.Status != 403 {
				t.Errorf("the partner %s %s on the owner: %d %s", tt.method, tt.path, r.Status, r.Raw)
			}
		}
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/invitations/"+second+"/accept",
			map[string]any{"password": "la pizza est prête", "accept_privacy_policy": true}); r.Status != 200 {
			t.Fatalf("accept: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "POST", u+"/invitation", nil, bearer(partner.admin)...); r.Status != 403 {
			t.Fatalf("the partner re-invites a joined owner: %d %s", r.Status, r.Raw)
		}
	})
}

// TestFirm_TheFirmsLogTellsWhoReachesEachClient: a member who is no
// administrator creates a client and is assigned to it, then leaves the
// firm and with it the client: the firm's log holds the client's creation,
// the assignment and its end, which says why.
func TestFirm_TheFirmsLogTellsWhoReachesEachClient(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		firm := newTenant(t, env, "cabinet@compta.example")
		if r := call(t, env.Client(), "POST", firm.url("/roles"), map[string]any{"key": "portfolio", "label_fr": "Portefeuille",
			"permissions": map[string]any{"subaccounts.manage": true, "members.view": true}}, bearer(firm.admin)...); r.Status != 201 {
			t.Fatalf("role: %d %s", r.Status, r.Raw)
		}
		carol := env.AddMember(t, firm.account, "carol@compta.example", "portfolio", equipe.MemberActive)
		r := call(t, env.Client(), "POST", firm.url("/clients"), map[string]any{"name": "Fleuriste Rose", "locale": "fr"}, bearer(carol.Token)...)
		if r.Status != 201 {
			t.Fatalf("client: %d %s", r.Status, r.Raw)
		}
		client := r.JSON["id"].(string)
		// history is the firm's log about the client, oldest first.
		history := func() (types []string, last map[string]any) {
			r := call(t, env.Client(), "GET", firm.url("/audit?target="+client), nil, bearer(firm.admin)...)
			if r.Status != 200 {
				t.Fatalf("audit: %d %s", r.Status, r.Raw)
			}
			items := r.JSON["items"].([]any)
			for i := len(items) - 1; i >= 0; i-- {
				last = items[i].(map[string]any)
				types = append(types, last["type"].(string))
			}
			return types, last
		}
		if types, last := history(); !slices.Equal(types, []string{"account.created", "client.staff_assigned"}) ||
			last["after"].(map[string]any)["user_id"] != carol.User.ID.String() {
			t.Fatalf("the firm's log after the creation: %v, the last %v", types, last)
		}
		if r := call(t, env.Client(), "DELETE", firm.url("/members/"+carol.User.ID.String()), nil, bearer(firm.admin)...); r.Status != 204 {
			t.Fatalf("remove: %d %s", r.Status, r.Raw)
		}
		types, last := history()
		if !slices.Equal(types, []string{"account.created", "client.staff_assigned", "client.staff_unassigned"}) {
			t.Fatalf("the firm's log after the removal: %v", types)
		}
		if before, _ := last["before"].(map[string]any); before["user_id"] != carol.User.ID.String() || before["reason"] != "staff.removed" {
			t.Errorf("the unassignment: %v", last)
		}
	})
}

// TestFirm_StaffAreAssignedWithTheMemberAndListedInTheClient: a firm adds a
// staff member with two client companies in one request, changes them with
// PATCH, and each client answers who of the firm reaches it, with which role.
func TestFirm_StaffAreAssignedWithTheMemberAndListedInTheClient(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		firm := newTenant(t, env, "cabinet@compta.example")
		newClient := func(name string) string {
			r := call(t, env.Client(), "POST", firm.url("/clients"), map[string]any{"name": name, "locale": "fr",
				"first_resource": map[string]any{"type": "company", "name": name}}, bearer(firm.admin)...)
			if r.Status != 201 {
				t.Fatalf("client %s: %d %s", name, r.Status, r.Raw)
			}
			return r.JSON["id"].(string)
		}
		bakery, garage, florist := newClient("Boulangerie Martin"), newClient("Garage Dupuis"), newClient("Fleurs Leroy")
		// An account that is nobody's client has no firm staff, and a bad
		// cursor is as bad there as anywhere.
		if r := call(t, env.Client(), "GET", firm.url("/firm-staff?cursor=not-a-cursor"), nil, bearer(firm.admin)...); r.Status != 400 ||
			r.fieldCodes()["cursor"] != "request.cursor_invalid" {
			t.Errorf("a bad cursor where there is no firm: %d %s", r.Status, r.Raw)
		}
		if r := addMember(t, firm, firm.admin, newMemberBody("claire@compta.example", "clients", []string{bakery, "nope"})); r.Status != 422 ||
			r.fieldCodes()["clients"] != "client.unknown" {
			t.Fatalf("a client that is no ID: %d %s", r.Status, r.Raw)
		}
		r := addMember(t, firm, firm.admin, newMemberBody("claire@compta.example", "clients", []string{bakery, garage}))
		if r.Status != 201 {
			t.Fatalf("add with two clients: %d %s", r.Status, r.Raw)
		}
		claire := r.JSON["user_id"].(string)
		secret := apptest.Secret(apptest.Link(t, env.Mail(t, "claire@compta.example", "invitation"), "/invitations/"))
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/invitations/"+secret+"/accept",
			map[string]any{"password": "un bilan comptable tenu à jour", "accept_privacy_policy": true}); r.Status != 200 {
			t.Fatalf("accept: %d %s", r.Status, r.Raw)
		}
		staffOf := func(client string) map[string]string {
			r := call(t, env.Client(), "GET", env.URL+"/api/v1/accounts/"+client+"/firm-staff", nil, bearer(firm.admin)...)
			if r.Status != 200 {
				t.Fatalf("firm staff: %d %s", r.Status, r.Raw)
			}
			out := map[string]string{}
			for _, it := range r.JSON["items"].([]any) {
				m := it.(map[string]any)
				out[m["name"].(string)] = m["role"].(string) + "/" + m["via"].(string)
			}
			return out
		}
		if got := staffOf(bakery); got["Grace Hopper"] != "collaborator/assignment" || got["Ada Lovelace"] != "admin/administrator" || len(got) != 2 {
			t.Fatalf("the bakery's firm staff: %v", got)
		}
		if r := call(t, env.Client(), "PATCH", firm.url("/members/"+claire), map[string]any{"clients": []string{bakery, florist}},
			bearer(firm.admin)...); r.Status != 200 {
			t.Fatalf("change the clients: %d %s", r.Status, r.Raw)
		}
		if got := staffOf(garage); len(got) != 1 {
			t.Fatalf("the garage's firm staff after the change: %v", got)
		}
		if got := staffOf(florist); got["Grace Hopper"] != "collaborator/assignment" {
			t.Fatalf("the florist's firm staff after the change: %v", got)
		}
		if got := staffOf(firm.account.String()); len(got) != 0 {
			t.Fatalf("a firm's own firm staff: %v", got)
		}
	})
}
