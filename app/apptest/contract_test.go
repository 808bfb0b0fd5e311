package apptest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store"
)

// TestContract_ADriftFailsTheRequest: the clients of the tests check every
// exchange with the API against the OpenAPI document. Against the served
// document the service's answers pass; against a copy changed in one place
// each — a status, a property, a required field, a header, a request
// schema — the same exchange fails, naming the method, path, status and
// what differs.
func TestContract_ADriftFailsTheRequest(t *testing.T) {
	env := apptest.Start(t, store.SQLite, apptest.Options{})
	res, err := http.Get(env.URL + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(res.Body)
	res.Body.Close()

	type exchange struct{ method, path, body string }
	policy := exchange{"GET", "/api/v1/privacy-policy", ""}
	anonymousMe := exchange{"GET", "/api/v1/me", ""}
	reset := exchange{"POST", "/api/v1/password-reset", `{"email":"nobody@example.com"}`}
	cases := []struct {
		name   string
		change func(doc map[string]any)
		send   exchange
		want   string
	}{
		{"the served document", func(map[string]any) {}, policy, ""},
		{"an undeclared status", func(doc map[string]any) {
			delete(operation(doc, "/api/v1/me", "get")["responses"].(map[string]any), "401")
		}, anonymousMe, "GET /api/v1/me answered 401: status is not supported"},
		{"a property the document does not know", func(doc map[string]any) {
			delete(schema(doc, "PrivacyPolicy")["properties"].(map[string]any), "label")
		}, policy, `GET /api/v1/privacy-policy answered 200: response body doesn't match schema #/components/schemas/PrivacyPolicy`},
		{"a required field the server does not send", func(doc map[string]any) {
			s := schema(doc, "PrivacyPolicy")
			s["properties"].(map[string]any)["summary"] = map[string]any{"type": "string"}
			s["required"] = append(s["required"].([]any), "summary")
		}, policy, "missing property 'summary'"},
		{"an undeclared header", func(doc map[string]any) {
			r := doc["components"].(map[string]any)["responses"].(map[string]any)["Unauthorized"].(map[string]any)
			delete(r["headers"].(map[string]any), "WWW-Authenticate")
		}, anonymousMe, "GET /api/v1/me answered 401: the answer carries the header WWW-Authenticate the document does not declare"},
		{"an undeclared body", func(doc map[string]any) {
			delete(operation(doc, "/api/v1/password-reset", "post")["responses"].(map[string]any)["202"].(map[string]any), "content")
		}, reset, "POST /api/v1/password-reset answered 202: the answer has a body (application/json) the document does not declare"},
		{"a request the document refuses and the server accepts", func(doc map[string]any) {
			s := schema(doc, "ResetRequest")
			s["properties"].(map[string]any)["captcha"] = map[string]any{"type": "string"}
			s["required"] = append(s["required"].([]any), "captcha")
		}, reset, "POST /api/v1/password-reset answered 202: the server accepted a request the document refuses"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal(served, &doc); err != nil {
				t.Fatal(err)
			}
			tc.change(doc)
			raw, _ := json.Marshal(doc)
			contract, err := apptest.NewContract(raw)
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var reported []error
			c := &http.Client{Transport: apptest.Checking(func() (*apptest.Contract, error) { return contract, nil }, nil,
				func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() })}
			var body io.Reader
			if tc.send.body != "" {
				body = strings.NewReader(tc.send.body)
			}
			req, _ := http.NewRequest(tc.send.method, env.URL+tc.send.path, body)
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			res, err := c.Do(req)
			if res != nil {
				res.Body.Close()
			}
			if tc.want == "" {
				if err != nil || len(reported) != 0 {
					t.Fatalf("the served document: %v %v", err, reported)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
			if len(reported) != 1 || reported[0].Error() != strings.TrimPrefix(err.Error(), strings.SplitN(err.Error(), "openapi: ", 2)[0]) {
				t.Errorf("reported %v", reported)
			}
		})
	}
}

func operation(doc map[string]any, path, method string) map[string]any {
	return doc["paths"].(map[string]any)[path].(map[string]any)[method].(map[string]any)
}

func schema(doc map[string]any, name string) map[string]any {
	return doc["components"].(map[string]any)["schemas"].(map[string]any)[name].(map[string]any)
}
