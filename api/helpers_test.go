package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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
		t.Run(string(e), func(t *testing.T) {
			fn(t, apptest.Start(t, e, apptest.Options{}))
		})
	}
}

// eachWith is each with options.
func eachWith(t *testing.T, opt func() apptest.Options, fn func(t *testing.T, env *apptest.Env)) {
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			fn(t, apptest.Start(t, e, opt()))
		})
	}
}

// response is an answer of the API.
type response struct {
	Status int
	Header http.Header
	Raw    []byte
	JSON   map[string]any
}

// code returns the problem code of an error answer.
func (r response) code() string {
	s, _ := r.JSON["code"].(string)
	return s
}

// fieldCodes returns field → code of a problem's errors.
func (r response) fieldCodes() map[string]string {
	out := map[string]string{}
	errs, _ := r.JSON["errors"].([]any)
	for _, e := range errs {
		m := e.(map[string]any)
		out[m["field"].(string)] = m["code"].(string)
	}
	return out
}

// call sends a request with a JSON body (a string is sent as is) and the
// headers given as name/value pairs.
func call(t testing.TB, c *http.Client, method, url string, body any, headers ...string) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == "Host" {
			req.Host = headers[i+1]
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := response{Status: res.StatusCode, Header: res.Header, Raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		json.Unmarshal(raw, &r.JSON)
	}
	return r
}

func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

// signupBody returns a valid sign-up for email.
func signupBody(email string) map[string]any {
	return map[string]any{
		"email": email, "password": "lovelace rode the number engine", "first_name": "Ada", "last_name": "Lovelace",
		"account_name": "Analytical Engines", "locale": "en",
		"first_resource": map[string]any{"type": "location", "name": "London"},
	}
}

const goodPassword = "lovelace rode the number engine"

// signUp creates a user and their account, and returns the user's session
// token after accepting the privacy policy.
func signUp(t testing.TB, env *apptest.Env, email string) string {
	t.Helper()
	c := env.Client()
	if r := call(t, c, "POST", env.URL+"/api/v1/signup", signupBody(email)); r.Status != 201 {
		t.Fatalf("signup %s: %d %s", email, r.Status, r.Raw)
	}
	r := call(t, c, "POST", env.URL+"/api/v1/session", map[string]any{"email": email, "password": goodPassword})
	if r.Status != 200 {
		t.Fatalf("login %s: %d %s", email, r.Status, r.Raw)
	}
	token := r.JSON["token"].(string)
	if r := call(t, c, "POST", env.URL+"/api/v1/me/consent", map[string]any{"accept_privacy_policy": true}, bearer(token)...); r.Status != 200 {
		t.Fatalf("consent: %d %s", r.Status, r.Raw)
	}
	// The login's entry into the account is written after its answer.
	env.App.DB.WaitDetached()
	return token
}

// signUpConfirmed is signUp followed by the confirmation of the address:
// what making API keys needs.
func signUpConfirmed(t testing.TB, env *apptest.Env, email string) string {
	t.Helper()
	token := signUp(t, env, email)
	env.ConfirmAddress(t, email)
	return token
}

// instanceActor creates an instance administrator and returns them as an actor.
func instanceActor(t *testing.T, env *apptest.Env) team.Actor {
	t.Helper()
	u, err := env.App.Identity.CreateAdmin(t.Context(), identity.NewAdmin{Email: equipe.NewID().String() + "@vendor.example",
		FirstName: "Vendor", LastName: "Support", Locale: "en", Password: apptest.TestPassword})
	if err != nil {
		t.Fatal(err)
	}
	return team.Actor{User: &u}
}

// giveOIDCConsent records, as the consent page does, that the user agreed
// at that the client may ask scopes.
func giveOIDCConsent(t testing.TB, env *apptest.Env, user, client equipe.ID, at time.Time, scopes ...string) {
	t.Helper()
	if err := env.App.DB.Write(t.Context(), func(tx *store.Tx) error {
		return tx.SaveOIDCConsent(t.Context(), user, client, scopes, at)
	}); err != nil {
		t.Fatal(err)
	}
}

func teamNewKey(name string) team.NewKey { return team.NewKey{Name: name} }

// storetest_dump returns every row of the database, once the writes that
// follow an answer (a login's entry into the account) have committed.
func storetest_dump(t *testing.T, env *apptest.Env) string {
	env.App.DB.WaitDetached()
	return storetest.Dump(t, storetest.Raw(t, env.DB))
}

func fmtAny(v any) string { return fmt.Sprint(v) }
