package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe/app/apptest"
)

// TestAudit_TheClientLearnsWhatTheFirmsStaffDidNotWhoTheyAre: as the
// firm-staff list, the client's audit log, its export, its change stream,
// its webhooks and the effective-permissions view say that someone of the
// firm acted, never who; the firm reads the same log with their IDs. An
// instance administrator acts through the instance, named to the instance
// only.
func TestAudit_TheClientLearnsWhatTheFirmsStaffDidNotWhoTheyAre(t *testing.T) {
	eachWith(t, func() apptest.Options { return apptest.Options{Configure: loopbackHooks} }, func(t *testing.T, env *apptest.Env) {
		c := env.Client()
		firm := newTenant(t, env, "cabinet@compta.example")
		r := call(t, c, "POST", firm.url("/clients"), map[string]any{"name": "Boulangerie Martin", "locale": "fr",
			"first_resource": map[string]any{"type": "company", "name": "Boulangerie Martin"}}, bearer(firm.admin)...)
		if r.Status != 201 {
			t.Fatalf("client: %d %s", r.Status, r.Raw)
		}
		client := env.URL + "/api/v1/accounts/" + r.JSON["id"].(string)
		root, rootToken := instanceAdminSession(t, env)
		rc := newHookReceiver(t)
		if r := call(t, c, "POST", client+"/webhooks", map[string]any{"url": rc.URL, "types": []string{"contact.created"}},
			bearer(firm.admin)...); r.Status != 201 {
			t.Fatalf("the client's endpoint: %d %s", r.Status, r.Raw)
		}
		for _, token := range []string{firm.admin, rootToken} {
			if r := call(t, c, "POST", client+"/contacts", map[string]any{"first_name": "Jeanne", "email": "jeanne@compta.example",
				"kinds": []string{"billing"}}, bearer(token)...); r.Status != 201 {
				t.Fatalf("contact: %d %s", r.Status, r.Raw)
			}
		}
		r = call(t, c, "POST", client+"/api-keys", map[string]any{"name": "Bakery sync", "role": "admin"}, bearer(firm.admin)...)
		if r.Status != 201 {
			t.Fatalf("client key: %d %s", r.Status, r.Raw)
		}
		own := r.JSON["secret"].(string)

		// The actors of the contacts added, the newest first.
		authors := func(token, query string) string {
			t.Helper()
			r := call(t, c, "GET", client+"/audit?type=contact.created"+query, nil, bearer(token)...)
			if r.Status != 200 {
				t.Fatalf("audit: %d %s", r.Status, r.Raw)
			}
			var out []string
			for _, it := range r.JSON["items"].([]any) {
				e := it.(map[string]any)
				a := e["actor"].(map[string]any)
				out = append(out, fmtAny(a["type"])+" "+fmtAny(a["id"])+" "+fmtAny(a["via"])+" "+fmtAny(e["actor_id"]))
			}
			return strings.Join(out, " | ")
		}
		alice := firm.adminID.String()
		if got, want := authors(rootToken, ""), "user "+root.ID.String()+" instance "+root.ID.String()+" | user "+alice+" firm "+alice; got != want {
			t.Errorf("the instance reads:\n%s\nwant\n%s", got, want)
		}
		if got, want := authors(firm.admin, ""), "user <nil> instance <nil> | user "+alice+" firm "+alice; got != want {
			t.Errorf("the firm reads:\n%s\nwant\n%s", got, want)
		}
		if got, want := authors(own, ""), "user <nil> instance <nil> | user <nil> firm <nil>"; got != want {
			t.Errorf("the client reads:\n%s\nwant\n%s", got, want)
		}
		for _, id := range []string{alice, root.ID.String()} {
			if got := authors(own, "&actor="+id); got != "" {
				t.Errorf("the client filters by %s: %s", id, got)
			}
		}
		r = call(t, c, "GET", client+"/audit?format=csv", nil, append(bearer(own), "Accept-Language", "fr")...)
		if r.Status != 200 || strings.Contains(string(r.Raw), alice) || strings.Contains(string(r.Raw), root.ID.String()) ||
			!strings.Contains(string(r.Raw), "Une personne du cabinet") {
			t.Errorf("the client's export: %d %s", r.Status, r.Raw)
		}

		// The client's own key reading the change stream, and the client's
		// endpoint, learn the same: what the firm and the instance did, not
		// who.
		stream, _ := changesOf(t, env, own, "", "&types=contact.created", 200)
		env.AwaitWork(t, "both contacts delivered", func() bool { return len(rc.messages()) == 2 })
		var sent []string
		for _, e := range stream {
			b, _ := json.Marshal(e)
			sent = append(sent, string(b))
		}
		for _, m := range rc.messages() {
			sent = append(sent, string(m.body))
		}
		for _, body := range sent {
			if strings.Contains(body, alice) || strings.Contains(body, root.ID.String()) {
				t.Errorf("the client receives an ID: %s", body)
			}
		}
		if all := strings.Join(sent, "\n"); len(stream) != 2 || strings.Count(all, `"actor":{"type":"user","via":"firm"}`) != 2 ||
			strings.Count(all, `"actor":{"type":"user","via":"instance"}`) != 2 {
			t.Errorf("the client's stream and endpoint receive:\n%s", all)
		}
		if r := call(t, c, "GET", client+"/members/"+alice+"/effective-permissions", nil, bearer(own)...); r.Status != 404 {
			t.Errorf("the client reads the firm's administrator's permissions: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", client+"/members/"+alice+"/effective-permissions", nil, bearer(firm.admin)...); r.Status != 200 ||
			r.JSON["via_firm"] != true {
			t.Errorf("the firm reads its administrator's permissions: %d %s", r.Status, r.Raw)
		}
	})
}

// TestAudit_AFilterThatCanSelectNothingIsAProblem: a kind no account's log
// records, or a subject that is neither an ID nor a role's key, is a 422
// naming the parameter, in the list and in its export.
func TestAudit_AFilterThatCanSelectNothingIsAProblem(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "ada@example.com")
		for _, tc := range []struct{ query, field, code string }{
			{"type=bogus", "type", "audit.type_unknown"},
			{"type=member.bogus", "type", "audit.type_unknown"},
			{"type=user.logged_in", "type", "audit.type_unknown"},
			{"action=zzz", "action", "audit.type_unknown"},
			{"target=Jeanne%20Compta", "target", "audit.target_invalid"},
			{"actor=xyz", "actor", "request.id_invalid"},
		} {
			for _, format := range []string{"", "&format=csv"} {
				r := call(t, env.Client(), "GET", a.url("/audit?"+tc.query+format), nil, bearer(a.admin)...)
				if r.Status != 422 || r.fieldCodes()[tc.field] != tc.code {
					t.Errorf("%s%s: %d %s", tc.query, format, r.Status, r.Raw)
				}
			}
		}
		for _, query := range []string{"type=member.added", "action=member.added", "target=" + a.adminID.String(), "target=portfolio"} {
			if r := call(t, env.Client(), "GET", a.url("/audit?"+query), nil, bearer(a.admin)...); r.Status != 200 {
				t.Errorf("%s: %d %s", query, r.Status, r.Raw)
			}
		}
	})
}
