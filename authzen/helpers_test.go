package authzen_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/identity"
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

// tenant is an account made in the store, with its administrator, a
// location and a product, and an API key acting as administrator.
type tenant struct {
	env      *apptest.Env
	account  equipe.ID
	admin    apptest.Member
	location equipe.ID
	product  equipe.ID
	key      string
	domain   string
}

var domains atomic.Int64

func newTenant(t *testing.T, env *apptest.Env) *tenant {
	t.Helper()
	ctx := t.Context()
	tn := &tenant{env: env, account: equipe.NewID(), domain: fmt.Sprintf("t%d.example", domains.Add(1))}
	now := time.Now()
	err := env.App.DB.Write(ctx, func(tx *store.Tx) error {
		if err := tx.CreateAccount(ctx, &equipe.Account{ID: tn.account, Name: "Acme " + tn.domain, Locale: "en",
			InvitationTTLHours: 168, CreatedAt: now}); err != nil {
			return err
		}
		for typ, id := range map[string]*equipe.ID{"location": &tn.location, "product": &tn.product} {
			*id = equipe.NewID()
			if err := tx.CreateResource(ctx, &equipe.Resource{ID: *id, AccountID: tn.account, Type: typ,
				Name: typ + " one", CreatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tn.admin = env.AddMember(t, tn.account, "admin@"+tn.domain, "admin", equipe.MemberActive)
	_, tn.key, err = env.App.Team.CreateKey(ctx, team.Actor{User: &tn.admin.User}, &tn.account, team.NewKey{Name: "backend", Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

// member adds an active member with role.
func (tn *tenant) member(t *testing.T, name, role string) equipe.User {
	t.Helper()
	return tn.env.AddMember(t, tn.account, name+"@"+tn.domain, role, equipe.MemberActive).User
}

// instanceKey makes an instance key.
func instanceKey(t *testing.T, env *apptest.Env) string {
	t.Helper()
	u, err := env.App.Identity.CreateAdmin(t.Context(), identity.NewAdmin{Email: fmt.Sprintf("support%d@vendor.example", domains.Add(1)),
		FirstName: "Vendor", LastName: "Support", Locale: "en", Password: apptest.TestPassword})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := env.App.Team.CreateKey(t.Context(), team.Actor{User: &u}, nil, team.NewKey{Name: "vendor"})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// response is an answer.
type response struct {
	Status int
	Header http.Header
	Raw    []byte
	JSON   map[string]any
}

// post sends body (a string as is, else as JSON) to path with the key and
// the headers given as name/value pairs.
func post(t *testing.T, env *apptest.Env, path, key string, body any, headers ...string) response {
	t.Helper()
	var b []byte
	switch v := body.(type) {
	case string:
		b = []byte(v)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest("POST", env.URL+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return do(t, env, req)
}

// do sends req through a client that checks the exchange against the
// OpenAPI document when the API answers it.
func do(t *testing.T, env *apptest.Env, req *http.Request) response {
	t.Helper()
	res, err := (&http.Client{Transport: env.Transport(nil)}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := response{Status: res.StatusCode, Header: res.Header, Raw: raw}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
		if err := json.Unmarshal(raw, &r.JSON); err != nil {
			t.Fatalf("%s %s: not JSON: %s", req.Method, req.URL.Path, raw)
		}
	}
	return r
}

// obj is a JSON object, for writing requests.
type obj = map[string]any

// user is a subject of type user.
func user(id string) obj { return obj{"type": "user", "id": id} }

// act is an action.
func act(name string) obj { return obj{"name": name} }

// res is a resource, with properties given as name/value pairs.
func res(typ, id string, props ...any) obj {
	r := obj{"type": typ, "id": id}
	if len(props) > 0 {
		p := obj{}
		for i := 0; i+1 < len(props); i += 2 {
			p[props[i].(string)] = props[i+1]
		}
		r["properties"] = p
	}
	return r
}

// decisions returns the decisions of a batch's answer.
func decisions(t *testing.T, r response) []bool {
	t.Helper()
	items, ok := r.JSON["evaluations"].([]any)
	if r.Status != 200 || !ok {
		t.Fatalf("batch: %d %s", r.Status, r.Raw)
	}
	var out []bool
	for _, it := range items {
		out = append(out, it.(map[string]any)["decision"].(bool))
	}
	return out
}

// tnActor is the tenant's administrator, as an actor of the use cases.
func tnActor(tn *tenant) team.Actor { return team.Actor{User: &tn.admin.User} }

// memberExternal is a change of a member's external ID.
func memberExternal(id string) team.MemberChange { return team.MemberChange{ExternalID: &id} }
