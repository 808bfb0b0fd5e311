package client_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/client"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

func each(t *testing.T, fn func(t *testing.T, env *apptest.Env)) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) { fn(t, apptest.Start(t, e, apptest.Options{})) })
	}
}

// instanceAdmin creates an instance administrator, as an actor.
func instanceAdmin(t testing.TB, env *apptest.Env) team.Actor {
	t.Helper()
	admin, err := env.App.Identity.CreateAdmin(t.Context(), identity.NewAdmin{Email: equipe.NewID().String()[24:] + "@vendor.example",
		FirstName: "Vendor", LastName: "Root", Locale: "en", Password: apptest.TestPassword})
	if err != nil {
		t.Fatal(err)
	}
	return team.Actor{User: &admin}
}

// newAccount creates an account for a business, its owner invited.
func newAccount(t testing.TB, env *apptest.Env, name string) equipe.Account {
	t.Helper()
	a, err := env.App.Team.CreateAccountFor(t.Context(), instanceAdmin(t, env), team.NewAccount{Name: name, Locale: "en",
		OwnerEmail: "owner@" + name + ".example", OwnerFirstName: "Owner", OwnerLastName: name})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// apiKey makes an instance key when account is nil, else a key of the
// account with role.
func apiKey(t testing.TB, env *apptest.Env, account *equipe.ID, role string) string {
	t.Helper()
	maker := instanceAdmin(t, env)
	if account != nil {
		// An account's key lives as long as its maker is an active
		// administrator of the account.
		m := env.AddMember(t, *account, "keys-"+equipe.NewID().String()[24:]+"@vendor.example", "admin", equipe.MemberActive)
		maker = team.Actor{User: &m.User}
	}
	_, secret, err := env.App.Team.CreateKey(t.Context(), maker, account, team.NewKey{Name: "backend", Role: role})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func newClient(t testing.TB, env *apptest.Env, key string, opts ...client.Option) *client.Client {
	t.Helper()
	// Tests prove the OpenAPI document with every exchange; benchmarks
	// measure the client alone.
	if _, bench := t.(*testing.B); !bench {
		opts = append([]client.Option{client.WithHTTPClient(&http.Client{Timeout: 30 * time.Second, Transport: env.Transport(nil)})}, opts...)
	}
	c, err := client.New(env.URL, key, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// send makes a request the client has no call for (setting up a test).
func send(t testing.TB, env *apptest.Env, key, method, path string, body any) map[string]any {
	t.Helper()
	// No body (nil) sends none: the routes without one declare none.
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, env.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := (&http.Client{Transport: env.Transport(nil)}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %v", method, path, res.StatusCode, out)
	}
	return out
}

// TestClient_ManagesMembersAndAnswersProblems walks the typed calls: add,
// get, list, change the role, suspend, reactivate, invite, remove, roles,
// and a refusal carried as a Problem with its code and fields.
func TestClient_ManagesMembersAndAnswersProblems(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		ctx := t.Context()
		a := newAccount(t, env, "acme")
		c := newClient(t, env, apiKey(t, env, &a.ID, "admin"))
		m, err := c.AddMember(ctx, a.ID, client.NewMember{Email: "ada@acme.example", FirstName: "Ada", LastName: "L", Role: "collaborator"})
		if err != nil || m.Email != "ada@acme.example" || m.Role != "collaborator" || m.Status != "created" {
			t.Fatalf("add: %+v %v", m, err)
		}
		if got, err := c.GetMember(ctx, a.ID, m.UserID); err != nil || got.UserID != m.UserID {
			t.Fatalf("get: %+v %v", got, err)
		}
		// Not "ada" alone: the account's administrator has an address of
		// twelve random hexadecimal digits, which may hold it.
		page, err := c.ListMembers(ctx, a.ID, client.MemberList{Search: "ada@acme"})
		if err != nil || len(page.Items) != 1 || page.Items[0].UserID != m.UserID {
			t.Fatalf("list: %+v %v", page, err)
		}
		role := "manager"
		if got, err := c.UpdateMember(ctx, a.ID, m.UserID, client.MemberChange{Role: &role}); err != nil || got.Role != "manager" {
			t.Fatalf("update: %+v %v", got, err)
		}
		if got, err := c.SendInvitation(ctx, a.ID, m.UserID); err != nil || got.Status != "invited" || got.InvitationsSent != 1 {
			t.Fatalf("invite: %+v %v", got, err)
		}
		if got, err := c.ResendInvitation(ctx, a.ID, m.UserID); err != nil || got.InvitationsSent != 2 {
			t.Fatalf("resend: %+v %v", got, err)
		}
		if got, err := c.SuspendMember(ctx, a.ID, m.UserID); err != nil || got.Status != "suspended" {
			t.Fatalf("suspend: %+v %v", got, err)
		}
		if got, err := c.ReactivateMember(ctx, a.ID, m.UserID); err != nil || got.Status == "suspended" {
			t.Fatalf("reactivate: %+v %v", got, err)
		}
		roles, err := c.ListRoles(ctx, a.ID, client.Page{Limit: 200})
		if err != nil || len(roles.Items) < 4 || roles.Items[0].Key != "admin" || roles.NextCursor != nil {
			t.Fatalf("roles: %+v %v", roles, err)
		}
		// Pages of two, followed by their cursors, and the iterator give
		// the same roles as one page.
		first, err := c.ListRoles(ctx, a.ID, client.Page{Limit: 2})
		if err != nil || len(first.Items) != 2 || first.NextCursor == nil {
			t.Fatalf("a page of two roles: %+v %v", first, err)
		}
		var keys []string
		for r, err := range c.Roles(ctx, a.ID) {
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, r.Key)
		}
		if len(keys) != len(roles.Items) || keys[0] != "admin" {
			t.Fatalf("every role: %v", keys)
		}
		var p400 *client.Problem
		if _, err := c.ListRoles(ctx, a.ID, client.Page{Limit: 201}); !errorsAs(err, &p400) || p400.Status != 400 || p400.Errors[0].Field != "limit" {
			t.Fatalf("a page too long: %v", err)
		}
		for i := range 5 {
			if _, err := c.AddMember(ctx, a.ID, client.NewMember{Email: fmt.Sprintf("m%d@acme.example", i), FirstName: "M", LastName: "M", Role: "guest"}); err != nil {
				t.Fatal(err)
			}
		}
		seen := map[equipe.ID]bool{}
		for m, err := range c.Members(ctx, a.ID, client.MemberList{Limit: 2}) {
			if err != nil || seen[m.UserID] {
				t.Fatalf("members, two at a time: %v, %v seen before: %v", err, m.UserID, seen[m.UserID])
			}
			seen[m.UserID] = true
		}
		whole, err := c.ListMembers(ctx, a.ID, client.MemberList{Limit: 200})
		if err != nil || len(seen) != len(whole.Items) || len(seen) < 6 {
			t.Fatalf("members, two at a time: %d, on one page: %d %v", len(seen), len(whole.Items), err)
		}
		_, err = c.AddMember(ctx, a.ID, client.NewMember{Email: "not an address", Role: "collaborator"})
		var p *client.Problem
		if !client.IsProblem(err, "error.fields") || !errorsAs(err, &p) || p.Status != 422 || len(p.Errors) == 0 {
			t.Fatalf("a bad address: %v", err)
		}
		if err := c.RemoveMember(ctx, a.ID, m.UserID); err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetMember(ctx, a.ID, m.UserID); !client.IsProblem(err, "error.not_found") {
			t.Fatalf("a removed member: %v", err)
		}
		// Another account is out of the key's reach.
		b := newAccount(t, env, "other")
		if _, err := c.ListMembers(ctx, b.ID, client.MemberList{}); !client.IsProblem(err, "error.not_found") {
			t.Fatalf("another account: %v", err)
		}
	})
}

func errorsAs(err error, p **client.Problem) bool {
	pp, ok := err.(*client.Problem)
	*p = pp
	return ok
}

var _ = access.Allowed
