package authzen_test

import (
	"encoding/base64"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/team"
)

// TestSearch_PagesThroughWhoWhatAndWhichWithTokens: the subject search
// finds the members allowed an action on a record, a page at a time with
// page.next_token until it is ""; a token given with another request, or
// altered, is refused (400); the resource search finds the locations a
// member may act on (only the account's own resources: the vendor's records
// are not listed); the action search finds what a member may do, by
// permission key. Every result, asked about, is allowed.
func TestSearch_PagesThroughWhoWhatAndWhichWithTokens(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		tn := newTenant(t, env)
		collab := tn.member(t, "collab", "collaborator")
		var viewers []string
		for _, name := range []string{"g1", "g2", "g3", "g4"} {
			viewers = append(viewers, tn.member(t, name, "guest").ID.String())
		}
		kiosk := tn.member(t, "kiosk", "kiosk") // holds no records.view
		env.AddMember(t, tn.account, "susp@"+tn.domain, "guest", equipe.MemberSuspended)
		// Who may read the admin's invoice: the admin, the guests (all
		// records); not the collaborator (own and unowned only), the
		// kiosk or the suspended guest.
		want := append([]string{tn.admin.User.ID.String()}, viewers...)
		slices.Sort(want)
		search := obj{"subject": obj{"type": "user"}, "action": act("can_read"),
			"resource": res("invoice", "inv-9", "ownerID", tn.admin.User.ID.String()), "context": obj{"time": "now"},
			"page": obj{"limit": 2}}
		var got []string
		var token string
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatal("the pages do not end")
			}
			if token != "" {
				search["page"] = obj{"limit": 2, "token": token}
			}
			r := post(t, env, "/access/v1/search/subject", tn.key, search)
			if r.Status != 200 {
				t.Fatalf("subject search: %d %s", r.Status, r.Raw)
			}
			p := r.JSON["page"].(map[string]any)
			results := r.JSON["results"].([]any)
			if int(p["count"].(float64)) != len(results) || len(results) > 2 {
				t.Fatalf("a page: %s", r.Raw)
			}
			for _, it := range results {
				m := it.(map[string]any)
				if m["type"] != "user" {
					t.Fatalf("a result: %v", m)
				}
				got = append(got, m["id"].(string))
			}
			token = p["next_token"].(string)
			if token == "" {
				break
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("who may read:\n%v\nwant\n%v", got, want)
		}
		for _, id := range got {
			r := post(t, env, "/access/v1/evaluation", tn.key, obj{"subject": user(id), "action": act("can_read"),
				"resource": res("invoice", "inv-9", "ownerID", tn.admin.User.ID.String())})
			if r.JSON["decision"] != true {
				t.Errorf("a result asked about: %s", r.Raw)
			}
		}
		// A token with another request, or altered: 400.
		search["page"] = obj{"limit": 2}
		first := post(t, env, "/access/v1/search/subject", tn.key, search)
		tok := first.JSON["page"].(map[string]any)["next_token"].(string)
		changed := obj{"subject": obj{"type": "user"}, "action": act("can_edit"), "resource": search["resource"],
			"page": obj{"limit": 2, "token": tok}}
		for name, body := range map[string]obj{
			"another action": changed,
			"another limit":  {"subject": obj{"type": "user"}, "action": act("can_read"), "resource": search["resource"], "context": obj{"time": "now"}, "page": obj{"limit": 3, "token": tok}},
			"an altered token": {"subject": obj{"type": "user"}, "action": act("can_read"), "resource": search["resource"], "context": obj{"time": "now"},
				"page": obj{"limit": 2, "token": strings.ToUpper(tok)}},
		} {
			if r := post(t, env, "/access/v1/search/subject", tn.key, body, "Accept-Language", "en"); r.Status != 400 || !strings.Contains(string(r.Raw), "token") {
				t.Errorf("%s: %d %s", name, r.Status, r.Raw)
			}
		}
		// A token made up from one (its request's digest kept, another
		// place to start from), or given by another key: 400.
		_, secondKey, err := env.App.Team.CreateKey(t.Context(), team.Actor{User: &tn.admin.User}, &tn.account, team.NewKey{Name: "second", Role: "admin"})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(raw) < 8 {
			t.Fatalf("a token: %q %v", tok, err)
		}
		for name, c := range map[string]struct {
			key, token string
		}{
			"a cursor put in":     {tn.key, base64.RawURLEncoding.EncodeToString(append(raw[:8:8], []byte(tn.admin.User.ID.String())...))},
			"a cursor cut off":    {tn.key, base64.RawURLEncoding.EncodeToString(raw[:len(raw)-1])},
			"another key's token": {secondKey, tok},
		} {
			body := obj{"subject": obj{"type": "user"}, "action": act("can_read"), "resource": search["resource"], "page": obj{"limit": 2, "token": c.token}}
			if r := post(t, env, "/access/v1/search/subject", c.key, body, "Accept-Language", "en"); r.Status != 400 || !strings.Contains(string(r.Raw), "token") {
				t.Errorf("%s: %d %s", name, r.Status, r.Raw)
			}
		}
		if r := post(t, env, "/access/v1/search/subject", tn.key, obj{"subject": obj{"type": "user"}, "action": act("can_read"),
			"resource": search["resource"], "page": obj{"limit": -1}}); r.Status != 400 {
			t.Errorf("a negative limit: %d %s", r.Status, r.Raw)
		}

		// Which locations: the administrator may view records at the one
		// location of the account; the kiosk nowhere; the collaborator
		// (a role restricted to its assigned resources) at none, being
		// assigned none.
		which := func(sub equipe.ID, typ string) []any {
			r := post(t, env, "/access/v1/search/resource", tn.key, obj{"subject": user(sub.String()), "action": act("can_read"),
				"resource": obj{"type": typ}})
			if r.Status != 200 || r.JSON["page"].(map[string]any)["next_token"] != "" {
				t.Fatalf("resource search: %d %s", r.Status, r.Raw)
			}
			return r.JSON["results"].([]any)
		}
		if rs := which(tn.admin.User.ID, "location"); len(rs) != 1 || rs[0].(map[string]any)["id"] != tn.location.String() ||
			rs[0].(map[string]any)["type"] != "location" {
			t.Errorf("the administrator's locations: %v", rs)
		}
		if rs := which(collab.ID, "location"); len(rs) != 0 {
			t.Errorf("the collaborator's locations: %v", rs)
		}
		if rs := which(kiosk.ID, "location"); len(rs) != 0 {
			t.Errorf("the kiosk's locations: %v", rs)
		}
		if rs := which(collab.ID, "invoice"); len(rs) != 0 {
			t.Errorf("the vendor's records listed: %v", rs)
		}

		// What may the collaborator do on their own record, a page of 3 at
		// a time: exactly the permissions the check API allows.
		var actions []string
		token = ""
		for pages := 0; pages < 20; pages++ {
			body := obj{"subject": user(collab.ID.String()), "resource": res("invoice", "1", "ownerID", collab.ID.String()),
				"page": obj{"limit": 3}}
			if token != "" {
				body["page"] = obj{"limit": 3, "token": token}
			}
			r := post(t, env, "/access/v1/search/action", tn.key, body)
			if r.Status != 200 {
				t.Fatalf("action search: %d %s", r.Status, r.Raw)
			}
			for _, it := range r.JSON["results"].([]any) {
				actions = append(actions, it.(map[string]any)["name"].(string))
			}
			if token = r.JSON["page"].(map[string]any)["next_token"].(string); token == "" {
				break
			}
		}
		var allowed []string
		for _, p := range env.App.Catalogue.Permissions {
			r := post(t, env, "/api/v1/check", tn.key, obj{"user_id": collab.ID.String(), "account_id": tn.account.String(),
				"permission": p.Key, "owner_id": collab.ID.String()})
			if r.JSON["allowed"] == true {
				allowed = append(allowed, p.Key)
			}
		}
		if len(allowed) < 3 || !reflect.DeepEqual(actions, allowed) {
			t.Errorf("what the collaborator may do:\n%v\nwant\n%v", actions, allowed)
		}
	})
}

// TestSearchSubject_AClientsPeopleIncludeItsFirmsStaffWhoActThere: who may
// do something in a client account are its own members and those of its
// firm who act there (the firm's administrators, and its staff assigned to
// the client), as the evaluation of each answers; a firm member who is
// neither is not found. To the client's own keys, the firm's staff are not
// named, as nowhere else (firm-staff, the audit log): the search finds the
// client's own members only, and the evaluation finds the firm's staff by
// email for the firm only.
func TestSearchSubject_AClientsPeopleIncludeItsFirmsStaffWhoActThere(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		ctx := t.Context()
		firm := newTenant(t, env)
		client, err := env.App.Team.CreateClient(ctx, tnActor(firm), firm.account, team.NewAccount{Name: "Boulangerie", Locale: "fr"})
		if err != nil {
			t.Fatal(err)
		}
		assigned := firm.member(t, "assigned", "manager")
		unassigned := firm.member(t, "unassigned", "manager")
		clients := []equipe.ID{client.ID}
		if _, err := env.App.Team.ChangeMember(ctx, tnActor(firm), firm.account, assigned.ID, team.MemberChange{Clients: &clients}); err != nil {
			t.Fatal(err)
		}
		ownMember := env.AddMember(t, client.ID, "own@"+firm.domain, "admin", equipe.MemberActive).User
		own := ownMember.ID
		_, ownKey, err := env.App.Team.CreateKey(ctx, team.Actor{User: &ownMember}, &client.ID, team.NewKey{Name: "caisse", Role: "admin"})
		if err != nil {
			t.Fatal(err)
		}
		r := post(t, env, "/access/v1/search/subject", ownKey, obj{"subject": obj{"type": "user"}, "action": act("members.view"),
			"resource": res("account", client.ID.String())})
		if got, _ := r.JSON["results"].([]any); r.Status != 200 || len(got) != 1 || got[0].(map[string]any)["id"] != own.String() {
			t.Errorf("who may view the client's members, to its own key: %d %s, want %s alone", r.Status, r.Raw, own)
		}
		r = post(t, env, "/access/v1/search/subject", firm.key, obj{"subject": obj{"type": "user"}, "action": act("members.view"),
			"resource": res("account", client.ID.String())})
		var found []string
		for _, x := range r.JSON["results"].([]any) {
			found = append(found, x.(map[string]any)["id"].(string))
		}
		want := []string{firm.admin.User.ID.String(), assigned.ID.String(), own.String()}
		slices.Sort(want)
		if r.Status != 200 || !slices.Equal(found, want) {
			t.Errorf("who may view the client's members: %d %v, want %v (not %s)", r.Status, found, want, unassigned.ID)
		}
		// The resource search knows the account as a resource too.
		for _, c := range []struct {
			who     equipe.ID
			account equipe.ID
			want    int
		}{{firm.admin.User.ID, firm.account, 1}, {firm.admin.User.ID, client.ID, 1}, {assigned.ID, client.ID, 1}, {unassigned.ID, client.ID, 0}} {
			r := post(t, env, "/access/v1/search/resource", firm.key, obj{"subject": user(c.who.String()), "action": act("members.view"),
				"resource": obj{"type": "account"}, "context": obj{"account_id": c.account.String()}})
			got := r.JSON["results"].([]any)
			if r.Status != 200 || len(got) != c.want || (c.want == 1 && got[0].(map[string]any)["id"] != c.account.String()) {
				t.Errorf("the accounts %s may view the members of: %d %s", c.who, r.Status, r.Raw)
			}
		}
		// The evaluation names the firm's staff by email as by ID, to the
		// firm's key; to the client's own key, an address names no one.
		for _, c := range []struct {
			key, who string
			want     bool
		}{{firm.key, assigned.Email, true}, {firm.key, unassigned.Email, false}, {ownKey, assigned.Email, false}, {ownKey, ownMember.Email, true}} {
			e := post(t, env, "/access/v1/evaluation", c.key, obj{"subject": user(c.who), "action": act("members.view"),
				"resource": res("account", client.ID.String())})
			if e.Status != 200 || e.JSON["decision"] != c.want {
				t.Errorf("%s by email, to the %s key: %d %s, want %v", c.who, map[bool]string{true: "firm's", false: "client's"}[c.key == firm.key], e.Status, e.Raw, c.want)
			}
		}
		for _, id := range append(found, unassigned.ID.String()) {
			e := post(t, env, "/access/v1/evaluation", firm.key, obj{"subject": user(id), "action": act("members.view"),
				"resource": res("account", client.ID.String())})
			if e.JSON["decision"] != slices.Contains(found, id) {
				t.Errorf("%s: found %v, evaluated %s", id, slices.Contains(found, id), e.Raw)
			}
		}
	})
}
