package api

import (
	"bytes"
	_ "embed"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/brand"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/i18n"
	"github.com/equipe-dev/equipe/idempotency"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/internal/reqbody"
	"github.com/equipe-dev/equipe/internal/reqquery"
	"github.com/equipe-dev/equipe/openid"
	"github.com/equipe-dev/equipe/team"
)

// API serves the JSON API.
type API struct {
	Identity *identity.Service
	Team     *team.Service
	// Idempotency keeps the answers of POSTs sent with an Idempotency-Key.
	Idempotency *idempotency.Service
	Catalogue   *access.Catalogue
	Cookies     httpauth.Cookies
	I18n        *i18n.Catalog
	Log         *slog.Logger
	// SignIn is the OpenID Connect provider, whose consents people see and
	// withdraw.
	SignIn *openid.Provider
	// Document is the OpenAPI document served at /api/openapi.json
	// (DocumentFor the brand); nil: the one of the catalogue's product
	// with the default key prefix.
	Document []byte
	// Brand, when set, is the brand in force: the document served is
	// DocumentFor its name and key prefix, whatever Document holds.
	Brand *brand.Live

	// perms holds the catalogue's permission keys, for decoding checks.
	perms map[string]string
	// streams ends the change streams at shutdown.
	streams streamStop
}

// audience says who may call a route.
type audience int

const (
	public   audience = iota // anyone
	loggedIn                 // a session, before or after consent
	member                   // a session whose user accepted the current privacy policy
	caller                   // a member's session (after consent) or an API key
)

type route struct {
	method, path string
	access       audience
	handle       func(a *API, w http.ResponseWriter, r *http.Request) error
}

// routes lists every route of the API.
var routes = []route{
	{"POST", "/api/v1/signup", public, (*API).signup},
	{"POST", "/api/v1/signup/confirm", public, (*API).confirmSignUp},
	{"POST", "/api/v1/session", public, (*API).logIn},
	{"DELETE", "/api/v1/session", loggedIn, (*API).logOut},
	{"POST", "/api/v1/session/second-factor", public, (*API).logInSecondFactor},
	{"POST", "/api/v1/session/second-factor/passkey/options", public, (*API).secondStepPasskeyOptions},
	{"POST", "/api/v1/session/passkey/options", public, (*API).passkeyLoginOptions},
	{"POST", "/api/v1/session/passkey", public, (*API).passkeyLogIn},
	{"GET", "/api/v1/me/second-factors", member, (*API).secondFactors},
	{"POST", "/api/v1/me/totp", member, (*API).startTOTP},
	{"POST", "/api/v1/me/totp/confirm", member, (*API).confirmTOTP},
	{"DELETE", "/api/v1/me/totp", member, (*API).disableTOTP},
	{"POST", "/api/v1/me/recovery-codes", member, (*API).regenerateRecoveryCodes},
	{"POST", "/api/v1/password-reset", public, (*API).requestReset},
	{"POST", "/api/v1/password-reset/confirm", public, (*API).confirmReset},
	{"POST", "/api/v1/verify-email", public, (*API).verifyEmail},
	{"GET", "/api/v1/privacy-policy", public, (*API).privacyPolicy},
	{"GET", "/api/v1/me", loggedIn, (*API).me},
	{"PATCH", "/api/v1/me", member, (*API).changeMe},
	{"POST", "/api/v1/me/password", member, (*API).changePassword},
	{"POST", "/api/v1/me/notification-email/resend", member, (*API).resendNotificationEmail},
	{"DELETE", "/api/v1/me/notification-email/pending", member, (*API).cancelNotificationEmail},
	{"POST", "/api/v1/notification-email/confirm", public, (*API).confirmNotificationEmail},
	{"POST", "/api/v1/me/consent", loggedIn, (*API).consent},
	{"GET", "/api/v1/me/accounts", member, (*API).myAccounts},
	{"GET", "/api/v1/me/email", member, (*API).myEmail},
	{"POST", "/api/v1/me/email", member, (*API).changeEmail},
	{"DELETE", "/api/v1/me/email", member, (*API).withdrawEmailChange},
	{"POST", "/api/v1/me/email/resend", member, (*API).resendEmailChange},
	{"POST", "/api/v1/me/email/passkey", member, (*API).emailChangePasskey},
	{"POST", "/api/v1/email-change/confirm", public, (*API).confirmEmailChange},
	{"POST", "/api/v1/email-change/cancel", public, (*API).cancelEmailChange},
	{"GET", "/api/v1/me/sessions", member, (*API).mySessions},
	{"DELETE", "/api/v1/me/sessions", member, (*API).endMyOtherSessions},
	{"DELETE", "/api/v1/me/sessions/{session}", member, (*API).endMySession},
	{"GET", "/api/v1/me/oidc-consents", member, (*API).myOIDCConsents},
	{"DELETE", "/api/v1/me/oidc-consents/{client}", member, (*API).withdrawMyOIDCConsent},
	{"GET", "/api/v1/me/passkeys", member, (*API).myPasskeys},
	{"POST", "/api/v1/me/passkeys/options", member, (*API).passkeyRegistrationOptions},
	{"POST", "/api/v1/me/passkeys", member, (*API).registerPasskey},
	{"PATCH", "/api/v1/me/passkeys/{passkey}", member, (*API).renamePasskey},
	{"DELETE", "/api/v1/me/passkeys/{passkey}", member, (*API).removePasskey},
	{"GET", "/api/openapi.json", public, (*API).openAPI},
	{"GET", "/api/v1/catalogue", public, (*API).catalogue},

	{"POST", "/api/v1/check", caller, (*API).check},
	{"POST", "/api/v1/check/batch", caller, (*API).checkBatch},
	{"GET", "/api/v1/accounts/{account}/members/{user}/effective-permissions", caller, (*API).effectivePermissions},
	{"GET", "/api/v1/accounts/{account}/access-state", caller, (*API).accessState},
	{"GET", "/api/v1/accounts/{account}", caller, (*API).account},
	{"PATCH", "/api/v1/accounts/{account}", caller, (*API).updateAccount},
	{"DELETE", "/api/v1/accounts/{account}", caller, (*API).deleteAccount},
	{"GET", "/api/v1/accounts/{account}/members", caller, (*API).members},
	{"POST", "/api/v1/accounts/{account}/members", caller, (*API).addMember},
	{"POST", "/api/v1/accounts/{account}/members/bulk", caller, (*API).bulkMembers},
	{"GET", "/api/v1/accounts/{account}/members/{user}", caller, (*API).member},
	{"DELETE", "/api/v1/accounts/{account}/members/{user}", caller, (*API).removeMember},
	{"POST", "/api/v1/accounts/{account}/members/{user}/invitation", caller, (*API).invite},
	{"DELETE", "/api/v1/accounts/{account}/members/{user}/invitation", caller, (*API).revokeInvitation},
	{"POST", "/api/v1/accounts/{account}/members/{user}/password-reset", caller, (*API).adminReset},
	{"POST", "/api/v1/accounts/{account}/members/{user}/suspend", caller, (*API).suspend},
	{"POST", "/api/v1/accounts/{account}/members/{user}/reactivate", caller, (*API).reactivate},
	{"GET", "/api/v1/accounts/{account}/audit", caller, (*API).audit},
	{"POST", "/api/v1/accounts/{account}/member-imports", caller, (*API).importMembers},
	{"GET", "/api/v1/accounts/{account}/member-imports/{import}", caller, (*API).memberImport},
	{"GET", "/api/v1/changes", caller, (*API).changes},
	{"POST", "/api/v1/accounts", caller, (*API).createAccount},
	{"GET", "/api/v1/accounts/{account}/clients", caller, (*API).clients},
	{"POST", "/api/v1/accounts/{account}/clients", caller, (*API).createClient},
	{"DELETE", "/api/v1/accounts/{account}/clients/{client}", caller, (*API).detachClient},
	{"DELETE", "/api/v1/accounts/{account}/firm", caller, (*API).endFirmAccess},
	{"POST", "/api/v1/accounts/{account}/clients/{client}/staff", caller, (*API).assignStaff},
	{"DELETE", "/api/v1/accounts/{account}/clients/{client}/staff/{user}", caller, (*API).unassignStaff},
	{"GET", "/api/v1/accounts/{account}/firm-staff", caller, (*API).firmStaff},
	{"GET", "/api/v1/accounts/{account}/contacts", caller, (*API).contacts},
	{"POST", "/api/v1/accounts/{account}/contacts", caller, (*API).createContact},
	{"GET", "/api/v1/accounts/{account}/contacts/{contact}", caller, (*API).contact},
	{"PATCH", "/api/v1/accounts/{account}/contacts/{contact}", caller, (*API).updateContact},
	{"DELETE", "/api/v1/accounts/{account}/contacts/{contact}", caller, (*API).deleteContact},
	{"GET", "/api/v1/accounts/{account}/resources", caller, (*API).resources},
	{"POST", "/api/v1/accounts/{account}/resources", caller, (*API).createResource},
	{"GET", "/api/v1/accounts/{account}/resources/{resource}", caller, (*API).resource},
	{"PATCH", "/api/v1/accounts/{account}/resources/{resource}", caller, (*API).changeResource},
	{"POST", "/api/v1/accounts/{account}/resources/{resource}/archive", caller, (*API).archiveResource},
	{"POST", "/api/v1/accounts/{account}/resources/{resource}/restore", caller, (*API).restoreResource},
	{"POST", "/api/v1/me/current-account", member, (*API).switchAccount},
	{"GET", "/api/v1/invitations/{token}", public, (*API).invitation},
	{"POST", "/api/v1/invitations/{token}/accept", public, (*API).acceptInvitation},
	{"PATCH", "/api/v1/accounts/{account}/members/{user}", caller, (*API).changeMember},

	{"GET", "/api/v1/accounts/{account}/roles", caller, (*API).roles},
	{"POST", "/api/v1/accounts/{account}/roles", caller, (*API).createRole},
	{"GET", "/api/v1/accounts/{account}/roles/{role}", caller, (*API).role},
	{"PATCH", "/api/v1/accounts/{account}/roles/{role}", caller, (*API).updateRole},
	{"DELETE", "/api/v1/accounts/{account}/roles/{role}", caller, (*API).deleteRole},

	{"GET", "/api/v1/accounts/{account}/api-keys", caller, (*API).accountKeys},
	{"POST", "/api/v1/accounts/{account}/api-keys", member, (*API).createAccountKey},
	{"DELETE", "/api/v1/accounts/{account}/api-keys/{key}", caller, (*API).revokeAccountKey},
	{"GET", "/api/v1/api-keys", caller, (*API).instanceKeys},
	{"POST", "/api/v1/api-keys", member, (*API).createInstanceKey},
	{"DELETE", "/api/v1/api-keys/{key}", caller, (*API).revokeInstanceKey},
	{"GET", "/api/v1/security-events", caller, (*API).securityEvents},

	{"GET", "/api/v1/accounts/{account}/webhooks", caller, (*API).webhooks},
	{"POST", "/api/v1/accounts/{account}/webhooks", caller, (*API).createWebhook},
	{"GET", "/api/v1/accounts/{account}/webhooks/{webhook}", caller, (*API).webhook},
	{"PATCH", "/api/v1/accounts/{account}/webhooks/{webhook}", caller, (*API).updateWebhook},
	{"DELETE", "/api/v1/accounts/{account}/webhooks/{webhook}", caller, (*API).deleteWebhook},
	{"POST", "/api/v1/accounts/{account}/webhooks/{webhook}/rotate-secret", caller, (*API).rotateWebhookSecret},
	{"POST", "/api/v1/accounts/{account}/webhooks/{webhook}/test", caller, (*API).testWebhook},
	{"GET", "/api/v1/accounts/{account}/webhooks/{webhook}/deliveries", caller, (*API).webhookDeliveries},
	{"GET", "/api/v1/accounts/{account}/webhooks/{webhook}/deliveries/{delivery}", caller, (*API).webhookDelivery},
	{"POST", "/api/v1/accounts/{account}/webhooks/{webhook}/deliveries/{delivery}/redeliver", caller, (*API).redeliverWebhook},
	{"GET", "/api/v1/webhooks", caller, (*API).webhooks},
	{"POST", "/api/v1/webhooks", caller, (*API).createWebhook},
	{"GET", "/api/v1/webhooks/{webhook}", caller, (*API).webhook},
	{"PATCH", "/api/v1/webhooks/{webhook}", caller, (*API).updateWebhook},
	{"DELETE", "/api/v1/webhooks/{webhook}", caller, (*API).deleteWebhook},
	{"POST", "/api/v1/webhooks/{webhook}/rotate-secret", caller, (*API).rotateWebhookSecret},
	{"POST", "/api/v1/webhooks/{webhook}/test", caller, (*API).testWebhook},
	{"GET", "/api/v1/webhooks/{webhook}/deliveries", caller, (*API).webhookDeliveries},
	{"GET", "/api/v1/webhooks/{webhook}/deliveries/{delivery}", caller, (*API).webhookDelivery},
	{"POST", "/api/v1/webhooks/{webhook}/deliveries/{delivery}/redeliver", caller, (*API).redeliverWebhook},

	{"GET", "/api/v1/instance/brand", caller, (*API).brandSettings},
	{"PATCH", "/api/v1/instance/brand", caller, (*API).updateBrand},
	{"GET", "/api/v1/oidc-clients", caller, (*API).oidcClients},
	{"POST", "/api/v1/oidc-clients", caller, (*API).createOIDCClient},
	{"GET", "/api/v1/oidc-clients/{client}", caller, (*API).oidcClient},
	{"PATCH", "/api/v1/oidc-clients/{client}", caller, (*API).updateOIDCClient},
	{"DELETE", "/api/v1/oidc-clients/{client}", caller, (*API).deleteOIDCClient},
	{"POST", "/api/v1/oidc-clients/{client}/rotate-secret", caller, (*API).rotateOIDCClientSecret},

	{"GET", "/api/v1/me/export", loggedIn, (*API).exportMe},
	{"DELETE", "/api/v1/me", loggedIn, (*API).deleteMe},
	{"GET", "/api/v1/users/{user}/export", member, (*API).exportUser},
	{"DELETE", "/api/v1/users/{user}", member, (*API).deleteUser},
	{"GET", "/api/v1/privacy-policies", member, (*API).policies},
	{"POST", "/api/v1/privacy-policies", member, (*API).publishPolicy},
	{"DELETE", "/api/v1/privacy-policies/{version}", member, (*API).withdrawPolicy},
	{"GET", "/api/v1/privacy-policies/{version}/acceptances", member, (*API).policyAcceptances},
	{"GET", "/api/v1/users", caller, (*API).users},
	{"GET", "/api/v1/users/{user}", caller, (*API).user},
	{"PATCH", "/api/v1/users/{user}", caller, (*API).changeUser},
	{"DELETE", "/api/v1/users/{user}/sessions", caller, (*API).endUserSessions},
	{"DELETE", "/api/v1/users/{user}/second-factors", caller, (*API).removeSecondFactors},
}

// takesBody names, by method and pattern, the routes that read a request
// body. Every other route takes none: wrap refuses a body with content to
// it (noBody), so that a member sent to a route that reads nothing is never
// ignored in silence. A new route that reads a body is listed here, or its
// body is refused.
var takesBody = map[string]bool{
	"POST /api/v1/signup":                                    true,
	"POST /api/v1/signup/confirm":                            true,
	"POST /api/v1/session":                                   true,
	"POST /api/v1/session/second-factor":                     true,
	"POST /api/v1/session/second-factor/passkey/options":     true,
	"POST /api/v1/session/passkey":                           true,
	"POST /api/v1/me/totp":                                   true,
	"POST /api/v1/me/totp/confirm":                           true,
	"DELETE /api/v1/me/totp":                                 true,
	"POST /api/v1/me/recovery-codes":                         true,
	"POST /api/v1/password-reset":                            true,
	"POST /api/v1/password-reset/confirm":                    true,
	"POST /api/v1/verify-email":                              true,
	"PATCH /api/v1/me":                                       true,
	"POST /api/v1/me/password":                               true,
	"POST /api/v1/notification-email/confirm":                true,
	"POST /api/v1/me/consent":                                true,
	"POST /api/v1/me/email":                                  true,
	"POST /api/v1/email-change/confirm":                      true,
	"POST /api/v1/email-change/cancel":                       true,
	"POST /api/v1/me/passkeys/options":                       true,
	"POST /api/v1/me/passkeys":                               true,
	"PATCH /api/v1/me/passkeys/{passkey}":                    true,
	"DELETE /api/v1/me/passkeys/{passkey}":                   true,
	"POST /api/v1/check":                                     true,
	"POST /api/v1/check/batch":                               true,
	"PATCH /api/v1/accounts/{account}":                       true,
	"POST /api/v1/accounts/{account}/members":                true,
	"POST /api/v1/accounts/{account}/members/bulk":           true,
	"POST /api/v1/accounts/{account}/member-imports":         true,
	"POST /api/v1/accounts":                                  true,
	"POST /api/v1/accounts/{account}/clients":                true,
	"POST /api/v1/accounts/{account}/clients/{client}/staff": true,
	"POST /api/v1/accounts/{account}/contacts":               true,
	"PATCH /api/v1/accounts/{account}/contacts/{contact}":    true,
	"POST /api/v1/accounts/{account}/resources":              true,
	"PATCH /api/v1/accounts/{account}/resources/{resource}":  true,
	"POST /api/v1/me/current-account":                        true,
	"POST /api/v1/invitations/{token}/accept":                true,
	"PATCH /api/v1/accounts/{account}/members/{user}":        true,
	"POST /api/v1/accounts/{account}/roles":                  true,
	"PATCH /api/v1/accounts/{account}/roles/{role}":          true,
	"POST /api/v1/accounts/{account}/api-keys":               true,
	"POST /api/v1/api-keys":                                  true,
	"POST /api/v1/accounts/{account}/webhooks":               true,
	"PATCH /api/v1/accounts/{account}/webhooks/{webhook}":    true,
	"POST /api/v1/webhooks":                                  true,
	"PATCH /api/v1/webhooks/{webhook}":                       true,
	"PATCH /api/v1/instance/brand":                           true,
	"POST /api/v1/oidc-clients":                              true,
	"PATCH /api/v1/oidc-clients/{client}":                    true,
	"DELETE /api/v1/me":                                      true,
	"DELETE /api/v1/users/{user}":                            true,
	"POST /api/v1/privacy-policies":                          true,
	"PATCH /api/v1/users/{user}":                             true,
	"DELETE /api/v1/users/{user}/second-factors":             true,
}

// Handler returns the API's handler for every path under /api/.
func (a *API) Handler() http.Handler {
	a.perms = map[string]string{}
	if a.Catalogue != nil {
		for _, p := range a.Catalogue.Permissions {
			a.perms[p.Key] = p.Key
		}
	}
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	hot := map[string]http.Handler{}
	for _, rt := range routes {
		h := a.wrap(rt)
		mux.Handle(rt.method+" "+rt.path, h)
		allowed[rt.path] = append(allowed[rt.path], rt.method)
		if rt.method == http.MethodPost && slices.Contains(hotPaths, rt.path) {
			hot[rt.path] = h
		}
	}
	for path, methods := range allowed {
		allow := strings.Join(methods, ", ")
		notAllowed := func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			a.fail(w, r, &requestError{status: http.StatusMethodNotAllowed, typ: "method-not-allowed", key: "request.method"})
		}
		if !shadowed(path, allowed) {
			mux.HandleFunc(path, notAllowed)
			continue
		}
		// A path that a pattern with a wildcard also matches (members/bulk
		// and members/{user}) takes its other methods one by one: a pattern
		// for every method would conflict with the wildcard's.
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			if !slices.Contains(methods, m) {
				mux.HandleFunc(m+" "+path, notAllowed)
			}
		}
	}
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		a.fail(w, r, equipe.Errorf(equipe.ENOTFOUND, "error.not_found"))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			if h, ok := hot[r.URL.Path]; ok {
				h.ServeHTTP(w, r)
				return
			}
		}
		mux.ServeHTTP(w, r)
	})
}

// shadowed reports whether another of the paths matches every request path
// matches, through a wildcard where path has a literal segment.
func shadowed(path string, paths map[string][]string) bool {
	segs := strings.Split(path, "/")
	for other := range paths {
		osegs := strings.Split(other, "/")
		if other == path || len(osegs) != len(segs) {
			continue
		}
		covers := true
		for i, s := range osegs {
			if s != segs[i] && !strings.HasPrefix(s, "{") {
				covers = false
				break
			}
		}
		if covers {
			return true
		}
	}
	return false
}

// hotPaths are the check API's routes (POST), the hot loop of the vendor's
// backend: a request for exactly one of them goes to its handler without
// the mux's pattern matching, which gives it the same handler.
var hotPaths = []string{"/api/v1/check", "/api/v1/check/batch"}

// secretParams are query parameters that would carry a credential in a URL,
// where proxies, logs and browser history keep it.
var secretParams = []string{"token", "access_token", "api_key", "apikey", "key", "session", "password"}

// Header values set on every answer. The slices are shared by every
// response, as Header.Set would make one each time: they hold one element
// and no spare capacity, so adding to one makes a copy and setting one
// replaces it; nothing writes into them.
var (
	noStore  = []string{"no-store"}
	jsonType = []string{"application/json"}
)

// queryParam is a query parameter a route takes, as the OpenAPI document
// declares it.
type queryParam struct {
	name string
	list bool // an array, given once per element
}

// queryParams are the query parameters each route takes, by method and
// pattern, read from the OpenAPI document (the parameters of its operation
// that are in: query, components/parameters resolved): the document the
// clients read is the one list. A route takes no other: checkQuery refuses
// one it does not know, as decode refuses an unknown member, so that a
// misspelled filter never answers everything in silence. A parameter a
// handler reads is declared in the document, or refused.
var queryParams = mustQueryParams(openAPIDoc)

// mustQueryParams reads queryParams from the OpenAPI document doc; it
// panics when the document does not parse (it is embedded, and tested).
func mustQueryParams(doc []byte) map[string][]queryParam {
	type param struct {
		Ref    string `json:"$ref"`
		Name   string `json:"name"`
		In     string `json:"in"`
		Schema struct {
			Type string `json:"type"`
		} `json:"schema"`
	}
	var d struct {
		Paths      map[string]map[string]jsontext.Value `json:"paths"`
		Components struct {
			Parameters map[string]param `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		panic("api: openapi.json: " + err.Error())
	}
	resolve := func(p param) param {
		if p.Ref == "" {
			return p
		}
		c, ok := d.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
		if !ok || !strings.HasPrefix(p.Ref, "#/components/parameters/") {
			panic("api: openapi.json: no parameter " + p.Ref)
		}
		return c
	}
	out := map[string][]queryParam{}
	for path, item := range d.Paths {
		var common []param
		if v, ok := item["parameters"]; ok {
			if err := json.Unmarshal(v, &common); err != nil {
				panic("api: openapi.json: " + path + ": " + err.Error())
			}
		}
		for method, v := range item {
			switch method {
			case "get", "put", "post", "delete", "patch", "head", "options", "trace":
			default:
				continue
			}
			var op struct {
				Parameters []param `json:"parameters"`
			}
			if err := json.Unmarshal(v, &op); err != nil {
				panic("api: openapi.json: " + method + " " + path + ": " + err.Error())
			}
			k := strings.ToUpper(method) + " " + path
			out[k] = []queryParam{} // a route of the document takes none but these
			for _, p := range append(slices.Clone(common), op.Parameters...) {
				if p = resolve(p); p.In == "query" {
					out[k] = append(out[k], queryParam{name: p.Name, list: p.Schema.Type == "array"})
				}
			}
		}
	}
	return out
}

// checkQuery refuses a query string that does not parse (a pair that
// url.URL.Query would drop in silence), that carries a credential, that
// has a parameter the route does not take (accepted, from queryParams), or
// that gives a parameter twice where the route reads it once.
func checkQuery(accepted []queryParam, r *http.Request) error {
	var lists []string
	for _, p := range accepted {
		if p.list {
			lists = append(lists, p.name)
		}
	}
	q, repeated, err := reqquery.Parse(r.URL.RawQuery, lists...)
	if err != nil || q.Has("") {
		return &requestError{status: http.StatusBadRequest, typ: "bad-request", key: "request.query_invalid"}
	}
	for _, p := range secretParams {
		if q.Has(p) {
			return &requestError{status: http.StatusBadRequest, typ: "bad-request", key: "request.secret_in_url"}
		}
	}
	if name := unknownParam(r.URL.RawQuery, q, accepted); name != "" {
		args := map[string]any{"name": name}
		return &requestError{status: http.StatusBadRequest, typ: "bad-request", key: "request.unknown_parameter", args: args,
			fields: []equipe.FieldError{{Field: name, Key: "request.unknown_parameter", Args: args}}}
	}
	if repeated != "" {
		args := map[string]any{"name": repeated}
		return &requestError{status: http.StatusBadRequest, typ: "bad-request", key: "request.query_repeated", args: args,
			fields: []equipe.FieldError{{Field: repeated, Key: "request.query_repeated", Args: args}}}
	}
	return nil
}

// unknownParam returns the first parameter of the query string raw (q,
// parsed), in its order, that accepted does not name; "" when there is
// none. Names are matched exactly: "Limit" is not "limit".
func unknownParam(raw string, q url.Values, accepted []queryParam) string {
	known := func(name string) bool {
		return slices.ContainsFunc(accepted, func(p queryParam) bool { return p.name == name })
	}
	unknown := false
	for name := range q {
		if !known(name) {
			unknown = true
			break
		}
	}
	if !unknown {
		return ""
	}
	for pair := range strings.SplitSeq(raw, "&") {
		name, _, _ := strings.Cut(pair, "=")
		if name, err := url.QueryUnescape(name); err == nil && name != "" && !known(name) {
			return name
		}
	}
	return ""
}

func (a *API) wrap(rt route) http.Handler {
	inAccount := strings.Contains(rt.path, "{account}")
	bodiless := !takesBody[rt.method+" "+rt.path]
	accepted := queryParams[rt.method+" "+rt.path]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Cache-Control"] = noStore
		// Credentials that could not be checked (the database unreachable)
		// are answered as such, first: neither 401 nor anonymous access.
		if err := httpauth.Unavailable(r); err != nil {
			a.fail(w, r, err)
			return
		}
		if r.URL.RawQuery != "" {
			if err := checkQuery(accepted, r); err != nil {
				a.fail(w, r, err)
				return
			}
		}
		if httpauth.BadBearer(r) {
			key := "session.invalid"
			if httpauth.BadKey(r) {
				key = httpauth.KeyRefusal(r)
			}
			a.fail(w, r, equipe.Errorf(equipe.EUNAUTHORIZED, key))
			return
		}
		key := httpauth.APIKey(r)
		byKey := key != nil
		// A key made for SCIM opens the SCIM service alone: a directory's
		// credential, kept in another system, reaches nothing else.
		if byKey && key.Purpose != equipe.KeyAPI {
			a.fail(w, r, equipe.Errorf(equipe.EFORBIDDEN, "api_key.scim_only"))
			return
		}
		if byKey && rt.access != caller {
			a.fail(w, r, equipe.Errorf(equipe.EFORBIDDEN, "api_key.not_for_route"))
			return
		}
		if rt.access != public && !byKey {
			auth, ok := httpauth.Auth(r)
			if !ok {
				a.fail(w, r, equipe.Errorf(equipe.EUNAUTHORIZED, "session.required"))
				return
			}
			if rt.access == member || rt.access == caller {
				_, needed, err := a.Identity.ConsentNeeded(r.Context(), auth.User.ID)
				if err != nil {
					a.fail(w, r, err)
					return
				}
				if needed {
					a.fail(w, r, equipe.Errorf(equipe.ECONSENT, "consent.required"))
					return
				}
			}
			if inAccount {
				if err := a.secondFactorRule(r, auth.User.ID); err != nil {
					a.fail(w, r, err)
					return
				}
			}
		}
		if bodiless {
			if err := noBody(w, r); err != nil {
				a.fail(w, r, err)
				return
			}
		}
		if rt.method == http.MethodPost {
			if keys, ok := r.Header["Idempotency-Key"]; ok {
				a.idempotent(rt, w, r, keys)
				return
			}
		}
		if err := rt.handle(a, w, r); err != nil {
			a.fail(w, r, err)
		}
	})
}

// secondFactorRule refuses a request of a person's session in an account
// (the path's) that requires a second factor they have not enrolled once
// their grace is over. API keys are not people: the rule does not apply.
func (a *API) secondFactorRule(r *http.Request, user equipe.ID) error {
	account, err := pathID(r, "account")
	if err != nil {
		return nil // names no account: the handler answers 404
	}
	rule, err := a.Team.SecondFactorRule(r.Context(), account, user)
	if err != nil {
		return err
	}
	if rule.Due {
		return team.EnrolmentRequired()
	}
	return nil
}

// actor is who the request acts as: the session's user or the API key.
func actor(r *http.Request) team.Actor {
	act := team.Actor{IP: httpauth.IP(r)}
	if k := httpauth.APIKey(r); k != nil {
		act.Key = k
	} else if auth, ok := httpauth.Auth(r); ok {
		u := auth.User
		act.User = &u
	}
	return act
}

// pathID parses a path parameter naming an account, a user or a key: one
// that is not an ID names nothing, and answers 404.
func pathID(r *http.Request, name string) (equipe.ID, error) {
	return equipe.ParseID(r.PathValue(name))
}

// locale is the language of the answer: the user's, else Accept-Language;
// for a key, which is a machine's (the change stream, checks), English when
// it asks for none (i18n.NegotiateMachine).
func (a *API) locale(r *http.Request) string {
	if auth, ok := httpauth.Auth(r); ok && equipe.ValidLocale(auth.User.Locale) {
		return auth.User.Locale
	}
	if httpauth.APIKey(r) != nil || httpauth.BadKey(r) {
		return i18n.NegotiateMachine(r.Header.Get("Accept-Language"))
	}
	return i18n.Negotiate(r.Header.Get("Accept-Language"))
}

// sentLocale is the language Accept-Language asks for, "" when the
// request sends none: a default is no one's choice.
func sentLocale(r *http.Request) string {
	if h := r.Header.Get("Accept-Language"); h != "" {
		return i18n.Negotiate(h)
	}
	return ""
}

func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	writeProblem(w, r, a.I18n, a.Log, a.locale(r), err)
}

// maxBody bounds request bodies: the largest legitimate one is far smaller.
// A batch of checks may be larger (maxBatchBody).
const (
	maxBody      = 64 << 10
	maxBatchBody = 512 << 10
)

// decode reads the request's JSON object into v. It refuses, before any
// other work: a media type other than application/json (a cross-site form
// can send text/plain but not JSON), a body over maxBody, malformed JSON,
// anything but an object, trailing data, unknown member names (matched
// exactly, so "Role" is not "role") and duplicated ones.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeMax(w, r, v, maxBody)
}

// strict makes decoding refuse unknown member names (duplicates are
// refused by default).
var strict = json.RejectUnknownMembers(true)

// bufs holds the buffers that request bodies are read into and answers
// written from, reused from request to request: nothing keeps one once the
// request is answered (decoding copies what it keeps; the response writer
// copies what it is given).
var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuf bounds the buffers kept for reuse: a rare large body does
// not hold its memory for ever.
const maxPooledBuf = 64 << 10

func getBuf() *bytes.Buffer { return bufs.Get().(*bytes.Buffer) }

func putBuf(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBuf {
		b.Reset()
		bufs.Put(b)
	}
}

// jsonMediaType reports whether a Content-Type header names JSON.
func jsonMediaType(ct string) bool {
	// The common spelling first: ParseMediaType allocates.
	if ct == "application/json" || strings.EqualFold(ct, "application/json") {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// decodeMax is decode with a body limit of its own.
func decodeMax(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	buf, err := readObject(w, r, limit)
	if err != nil {
		return err
	}
	defer putBuf(buf)
	return unmarshal(buf.Bytes(), v)
}

// readObject reads the body of a request that decode accepts the media
// type and the size of, and that holds a JSON object (as far as its first
// character tells). The caller puts the buffer back with putBuf once done
// with it.
func readObject(w http.ResponseWriter, r *http.Request, limit int64) (*bytes.Buffer, error) {
	if !jsonMediaType(httpauth.First(r.Header, "Content-Type")) {
		return nil, &requestError{status: http.StatusUnsupportedMediaType, typ: "unsupported-media-type", key: "request.media_type"}
	}
	buf := getBuf()
	if err := reqbody.Read(w, r, buf, limit); err != nil {
		putBuf(buf)
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &requestError{status: http.StatusRequestEntityTooLarge, typ: "too-large", key: "request.too_large"}
		}
		return nil, &requestError{status: http.StatusBadRequest, typ: "bad-request", key: "request.malformed"}
	}
	if t := bytes.TrimLeft(buf.Bytes(), " \t\r\n"); len(t) == 0 || t[0] != '{' {
		putBuf(buf)
		return nil, &requestError{status: http.StatusBadRequest, typ: "bad-request", key: "request.not_object"}
	}
	return buf, nil
}

// noBody refuses a body with content to a route that takes none, as decode
// refuses a member it does not know: an empty body (or one of white space
// alone) and the empty object {} are accepted; anything else answers as
// decode would for a body of no member (415, 413, 400 request.not_object,
// request.malformed, or request.unknown_field naming the first member).
func noBody(w http.ResponseWriter, r *http.Request) error {
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	buf := getBuf()
	defer putBuf(buf)
	if err := reqbody.Read(w, r, buf, maxBody); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &requestError{status: http.StatusRequestEntityTooLarge, typ: "too-large", key: "request.too_large"}
		}
		return &requestError{status: http.StatusBadRequest, typ: "bad-request", key: "request.malformed"}
	}
	t := bytes.TrimLeft(buf.Bytes(), " \t\r\n")
	if len(t) == 0 {
		return nil
	}
	if !jsonMediaType(httpauth.First(r.Header, "Content-Type")) {
		return &requestError{status: http.StatusUnsupportedMediaType, typ: "unsupported-media-type", key: "request.media_type"}
	}
	if t[0] != '{' {
		return &requestError{status: http.StatusBadRequest, typ: "bad-request", key: "request.not_object"}
	}
	var none struct{}
	return unmarshal(buf.Bytes(), &none)
}

// unmarshal decodes the JSON object body into v, strictly (see decode).
func unmarshal(body []byte, v any) error {
	err := json.Unmarshal(body, v, strict)
	if err == nil {
		return nil
	}
	bad := func(key, ptr string) error {
		e := &requestError{status: http.StatusBadRequest, typ: "bad-request", key: key}
		if f := pointerField(ptr); f != "" {
			e.fields = []equipe.FieldError{{Field: f, Key: key}}
		}
		return e
	}
	var se *json.SemanticError
	var xe *jsontext.SyntacticError
	switch {
	case errors.As(err, &xe) && errors.Is(err, jsontext.ErrDuplicateName):
		return bad("request.duplicate_field", string(xe.JSONPointer))
	case errors.As(err, &se) && errors.Is(err, json.ErrUnknownName):
		return bad("request.unknown_field", string(se.JSONPointer))
	case errors.As(err, &se):
		return bad("request.wrong_type", string(se.JSONPointer))
	}
	return bad("request.malformed", "")
}

// pointerField turns a JSON pointer (/first_resource/type) into the field
// name used in problems (first_resource.type).
func pointerField(ptr string) string {
	ptr = strings.TrimPrefix(ptr, "/")
	ptr = strings.ReplaceAll(ptr, "/", ".")
	return strings.NewReplacer("~1", "/", "~0", "~").Replace(ptr)
}

// respond writes v as JSON with status. v is encoded before anything is
// written: a value that cannot be encoded (a string that is not UTF-8)
// returns its error with nothing sent, so that the caller answers a real
// 500, which an Idempotency-Key does not keep, rather than a status the
// body contradicts.
func respond(w http.ResponseWriter, status int, v any) error {
	buf := getBuf()
	defer putBuf(buf)
	if err := json.MarshalWrite(buf, v); err != nil {
		return err
	}
	w.Header()["Content-Type"] = jsonType
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// respondJSON writes the JSON text b with status 200.
func respondJSON(w http.ResponseWriter, b []byte) error {
	w.Header()["Content-Type"] = jsonType
	_, err := w.Write(b)
	return err
}

//go:embed openapi.json
var openAPIDoc []byte

// Document returns the OpenAPI document of the default brand. The caller
// must not change it.
func Document() []byte { return openAPIDoc }

// DocumentFor returns the OpenAPI document the API serves at
// /api/openapi.json for the product named product (the brand's name) whose
// API keys start with keyPrefix: its title and prose name the product
// ("Acme Cloud API", "the applications that log people in with Acme
// Cloud"), the keys' description their prefix (acme_…) and the
// WWW-Authenticate challenge its realm (Bearer realm="Acme Cloud"). The
// identifiers that programs depend on keep their spelling: the session
// cookie's name, the problem types, the export's format. An empty product
// or prefix is the default's. The caller must not change it.
func DocumentFor(product, keyPrefix string) []byte {
	if product == "" {
		product = brand.DefaultName
	}
	if keyPrefix == "" {
		keyPrefix = brand.KeyPrefixFor(product)
	}
	if product == brand.DefaultName && keyPrefix == equipe.DefaultKeyPrefix {
		return openAPIDoc
	}
	id := product + "\x00" + keyPrefix
	if d, ok := branded.Load(id); ok {
		return d.([]byte)
	}
	doc := openAPIDoc
	if product != brand.DefaultName {
		// The realm first: it holds the default's name, which is not
		// prose.
		doc = bytes.ReplaceAll(doc, defaultRealm, jsonText(strings.TrimPrefix(brand.Realm(product, ""), "Bearer ")))
		name := jsonText(product)
		var out bytes.Buffer
		last := 0
		for from := 0; ; {
			i := bytes.Index(doc[from:], productWord)
			if i < 0 {
				break
			}
			start, end := from+i, from+i+len(productWord)
			from = end
			if !proseWord(doc, start, end) {
				continue
			}
			out.Write(doc[last:start])
			out.Write(name)
			last = end
		}
		out.Write(doc[last:])
		doc = out.Bytes()
	}
	doc = bytes.ReplaceAll(doc, defaultKeyPrefix, jsonText("("+keyPrefix+"\u2026)"))
	d, _ := branded.LoadOrStore(id, doc)
	return d.([]byte)
}

// defaultRealm and defaultKeyPrefix are the realm and the keys' prefix of
// the default brand, as the document writes them.
var (
	defaultRealm     = []byte(`realm=\"equipe\"`)
	defaultKeyPrefix = []byte(`(equipe_\u2026)`)
)

// jsonText is s escaped for a JSON string, without its quotes.
func jsonText(s string) []byte {
	b, _ := json.Marshal(s)
	return b[1 : len(b)-1]
}

// branded holds the documents DocumentFor made, by product.
var branded sync.Map

// productWord is the default product's name in the document.
var productWord = []byte(brand.DefaultName)

// proseWord reports whether doc[start:end] is a word of a sentence ("with
// equipe as", "equipe API") rather than part of an identifier
// (__Host-equipe_session, equipe_…, urn:equipe:problem:,
// equipe.user-export/1, realm=\"equipe\").
func proseWord(doc []byte, start, end int) bool {
	before, after, next := byte(' '), byte(' '), byte(' ')
	if start > 0 {
		before = doc[start-1]
	}
	if end < len(doc) {
		after = doc[end]
	}
	if end+1 < len(doc) {
		next = doc[end+1]
	}
	switch before {
	case ' ', '"', '(':
	default:
		return false
	}
	switch after {
	case ' ', ',', ';', ')':
		return true
	case '.', ':':
		return next == ' ' || next == '"'
	}
	return false
}

func (a *API) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	product := ""
	if a.I18n != nil {
		product = a.I18n.ProductName()
	}
	doc := a.Document
	switch {
	case a.Brand != nil:
		b := a.Brand.Load()
		doc = DocumentFor(b.Name, b.KeyPrefix)
	case doc == nil:
		doc = DocumentFor(product, "")
	}
	_, err := w.Write(doc)
	return err
}

// Route is a method and path pattern of the API.
type Route struct{ Method, Path string }

// Routes lists the API's routes, for documentation and for tests that walk
// every route.
func Routes() []Route {
	out := make([]Route, 0, len(routes))
	for _, rt := range routes {
		out = append(out, Route{rt.method, rt.path})
	}
	return out
}
