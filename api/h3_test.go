package api_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe/app/apptest"
)

// H3: bad input to the webhook and OIDC client APIs; list any 5xx.
func TestH3_WebhookAndOIDCClientAPIsBadInputNever500(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{Configure: loopbackHooks})
	a := newTenant(t, env, "owner@a.example")
	rc := newHookReceiver(t)
	r := call(t, env.Client(), "POST", a.url("/webhooks"), map[string]any{"url": rc.URL + "/x", "types": []string{"*"}}, bearer(a.admin)...)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	id := r.JSON["id"].(string)
	do := func(method, u, body string) {
		req, _ := http.NewRequest(method, u, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+a.admin)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode >= 500 {
			t.Errorf("%s %s %.200s: %d %.300s", method, strings.TrimPrefix(u, env.URL), body, res.StatusCode, b)
		}
	}
	bodies := []string{``, `null`, `[]`, `{"url": 5}`, `{"url": "https://[::1"}`, `{"url": "https://%zz"}`,
		`{"url": "https://a.example/", "types": "x"}`, `{"url": "https://a.example/", "types": [null]}`,
		`{"url": "https://a.example/", "types": ["*"], "enabled": "yes"}`,
		`{"url": "https://` + strings.Repeat("a", 3000) + `.example/", "types": ["*"]}`,
		`{"url": "https://a.example/", "types": ["*"], "description": "` + strings.Repeat("d", 100000) + `"}`,
		`{"url": "https://a.example/\u0000", "types": ["*"]}`, `{"url": "https://a.example:99999/", "types": ["*"]}`,
		`{"url": "https://[fe80::1%25eth0]/", "types": ["*"]}`, `{"url": "https://0x7f.1/", "types": ["*"]}`}
	for _, b := range bodies {
		do("POST", a.url("/webhooks"), b)
		do("PATCH", a.url("/webhooks/"+id), b)
	}
	for _, p := range []string{"/webhooks/nope", "/webhooks/" + id + "/deliveries?limit=-1", "/webhooks/" + id + "/deliveries?limit=abc",
		"/webhooks/" + id + "/deliveries?cursor=garbage", "/webhooks/" + id + "/deliveries?limit=100000",
		"/webhooks/" + id + "/deliveries/nope", "/webhooks/" + id + "/deliveries/00000000-0000-0000-0000-000000000000",
		"/webhooks?limit=0", "/webhooks?cursor=%ff"} {
		do("GET", a.url(p), "")
	}
	for _, p := range []string{"/webhooks/nope/test", "/webhooks/" + id + "/deliveries/nope/redeliver",
		"/webhooks/" + id + "/deliveries/00000000-0000-0000-0000-000000000000/redeliver", "/webhooks/nope/rotate-secret"} {
		do("POST", a.url(p), "")
	}
	do("DELETE", a.url("/webhooks/nope"), "")
	for _, b := range bodies {
		do("POST", env.URL+"/api/v1/oidc-clients", b)
	}
	do("GET", env.URL+"/api/v1/oidc-clients/nope", "")
	do("DELETE", env.URL+"/api/v1/me/oidc-consents/nope", "")
	do("GET", env.URL+"/api/v1/me/oidc-consents?cursor=garbage", "")
	do("GET", env.URL+"/api/v1/me/oidc-consents?limit=-3", "")
}
