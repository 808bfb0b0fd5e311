package scim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// each runs fn on a fresh service per engine.
func each(t *testing.T, fn func(t *testing.T, env *apptest.Env)) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) { fn(t, apptest.Start(t, e, apptest.Options{})) })
	}
}

// tenant is an account with SCIM turned on, its administrator, and a SCIM
// key made by the administrator with the administrator role.
type tenant struct {
	env     *apptest.Env
	account equipe.ID
	admin   apptest.Member
	key     string
	domain  string
}

var domains atomic.Int64

func newTenant(t testing.TB, env *apptest.Env) *tenant {
	t.Helper()
	ctx := t.Context()
	tn := &tenant{env: env, account: equipe.NewID(), domain: fmt.Sprintf("t%d.example", domains.Add(1))}
	err := env.App.DB.Write(ctx, func(tx *store.Tx) error {
		return tx.CreateAccount(ctx, &equipe.Account{ID: tn.account, Name: "Acme " + tn.domain, Locale: "en",
			InvitationTTLHours: 168, CreatedAt: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	tn.admin = env.AddMember(t, tn.account, "admin@"+tn.domain, "admin", equipe.MemberActive)
	on := true
	if _, err := env.App.Team.UpdateAccount(ctx, tn.actor(), tn.account, team.AccountChange{SCIMEnabled: &on}); err != nil {
		t.Fatal(err)
	}
	_, tn.key, err = env.App.Team.CreateKey(ctx, tn.actor(), &tn.account,
		team.NewKey{Name: "Entra ID", Role: "admin", Purpose: equipe.KeySCIM})
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

// actor is the tenant's administrator.
func (tn *tenant) actor() team.Actor { return team.Actor{User: &tn.admin.User} }

// member returns the user's membership, and false when they are none.
func (tn *tenant) member(t *testing.T, user string) (equipe.Member, bool) {
	t.Helper()
	id, err := equipe.ParseID(user)
	if err != nil {
		t.Fatalf("user ID %q: %v", user, err)
	}
	m, err := tn.env.App.DB.Member(t.Context(), tn.account, id)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return m, false
	} else if err != nil {
		t.Fatal(err)
	}
	return m, true
}

// response is an answer.
type response struct {
	Status int
	Header http.Header
	Raw    []byte
	JSON   map[string]any
}

// do sends body (a string as is, else as JSON; nil for none) to path with
// the key.
func do(t testing.TB, env *apptest.Env, method, path, key string, body any) response {
	t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(v))
	default:
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, env.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := response{Status: resp.StatusCode, Header: resp.Header}
	out.Raw, _ = io.ReadAll(resp.Body)
	if len(out.Raw) > 0 && strings.Contains(resp.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(out.Raw, &out.JSON); err != nil {
			t.Fatalf("%s %s: not JSON: %s", method, path, out.Raw)
		}
	}
	return out
}

// call is do with the tenant's key, expecting status.
func (tn *tenant) call(t *testing.T, method, path string, body any, status int) response {
	t.Helper()
	r := do(t, tn.env, method, "/scim/v2"+path, tn.key, body)
	if r.Status != status {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, status, r.Raw)
	}
	if len(r.Raw) > 0 && r.Header.Get("Content-Type") != "application/scim+json" {
		t.Fatalf("%s %s: content type %q", method, path, r.Header.Get("Content-Type"))
	}
	return r
}

// query is the path with a filter.
func query(path, filter string) string { return path + "?filter=" + url.QueryEscape(filter) }

// scimError checks that r is RFC 7644's error with status and scimType
// (none when "").
func scimError(t *testing.T, r response, status int, scimType string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	schemas, _ := r.JSON["schemas"].([]any)
	if len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" {
		t.Fatalf("schemas %v: %s", schemas, r.Raw)
	}
	if r.JSON["status"] != fmt.Sprint(status) {
		t.Fatalf("status member %v, want %q", r.JSON["status"], fmt.Sprint(status))
	}
	if got, _ := r.JSON["scimType"].(string); got != scimType {
		t.Fatalf("scimType %q, want %q: %s", got, scimType, r.Raw)
	}
	if d, _ := r.JSON["detail"].(string); d == "" {
		t.Fatalf("no detail: %s", r.Raw)
	}
	if r.Header.Get("Content-Type") != "application/scim+json" {
		t.Fatalf("content type %q", r.Header.Get("Content-Type"))
	}
}

// resources returns a list response's resources, checking its total.
func resources(t *testing.T, r response, total int) []map[string]any {
	t.Helper()
	if got := r.JSON["totalResults"]; got != float64(total) {
		t.Fatalf("totalResults %v, want %d: %s", got, total, r.Raw)
	}
	list, _ := r.JSON["Resources"].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, el := range list {
		out = append(out, el.(map[string]any))
	}
	return out
}

// patchOp is a PatchOp message of the operations.
func patchOp(ops ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": ops}
}

// newUser is a User of the attributes, with its schemas.
func newUser(attributes map[string]any) map[string]any {
	attributes["schemas"] = []string{"urn:ietf:params:scim:schemas:core:2.0:User"}
	return attributes
}
