// Command oidc-vendor is a small vendor application that signs people in
// with equipe ("Sign in with equipe") through github.com/coreos/go-oidc and
// golang.org/x/oauth2, shows the account and role the ID token carries, and
// guards one page with the Go client's in-process Checker. README.md runs
// it against equipe serve.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"html/template"
	"log"
	"net/http"
	"os"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/client"
)

// session is what the application keeps of a signed-in person.
type session struct {
	Subject, Name, Email     string
	AccountID, Account, Role string
	Accounts                 []struct{ ID, Name, Role string }
}

// pending is a sign-in under way: what the callback must find again.
type pending struct{ state, nonce, verifier string }

type app struct {
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	checker  *client.Checker
	mux      *http.ServeMux

	mu       sync.Mutex
	pending  map[string]pending  // by the browser's cookie
	sessions map[string]*session // by the browser's cookie
}

func main() {
	addr := env("ADDR", "127.0.0.1:8090")
	cfg := config{
		Issuer: env("EQUIPE_URL", "http://127.0.0.1:8080"), RedirectURL: "http://" + addr + "/callback",
		ClientID: os.Getenv("EQUIPE_CLIENT_ID"), ClientSecret: os.Getenv("EQUIPE_CLIENT_SECRET"), APIKey: os.Getenv("EQUIPE_API_KEY"),
	}
	a, err := newApp(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	log.Printf("open http://%s", addr)
	log.Fatal(http.ListenAndServe(addr, a))
}

// config is what the application needs to know of equipe and of itself.
type config struct {
	Issuer                 string // equipe's public URL
	RedirectURL            string // this application's callback, registered with the client
	ClientID, ClientSecret string
	APIKey                 string // an instance API key, for the in-process checks (optional)
}

// newApp discovers equipe's provider, starts the Checker when an API key is
// given, and returns the application: an http.Handler to serve, to Close
// when done.
func newApp(ctx context.Context, cfg config) (*app, error) {
	provider, err := oidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discovery at %s: %w", cfg.Issuer, err)
	}
	a := &app{
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
			RedirectURL: cfg.RedirectURL, Endpoint: provider.Endpoint(),
			Scopes: []string{oidc.ScopeOpenID, "profile", "email", "accounts"}},
		verifier: provider.Verifier(&oidc.Config{ClientID: cfg.ClientID}),
		pending:  map[string]pending{}, sessions: map[string]*session{},
		mux: http.NewServeMux(),
	}
	if cfg.APIKey != "" {
		c, err := client.New(cfg.Issuer, cfg.APIKey)
		if err != nil {
			return nil, err
		}
		if a.checker, err = c.NewChecker(ctx, client.CheckerOptions{}); err != nil {
			return nil, fmt.Errorf("checker: %w", err)
		}
	}
	a.mux.HandleFunc("GET /{$}", a.home)
	a.mux.HandleFunc("GET /login", a.login)
	a.mux.HandleFunc("GET /callback", a.callback)
	a.mux.HandleFunc("GET /team", a.team)
	return a, nil
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// Close stops the Checker's change stream.
func (a *app) Close() {
	if a.checker != nil {
		a.checker.Close()
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func random() string {
	var b [24]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// browser returns the browser's cookie, setting one when it has none.
func browser(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie("vendor"); err == nil {
		return c.Value
	}
	id := random()
	http.SetCookie(w, &http.Cookie{Name: "vendor", Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return id
}

func (a *app) current(r *http.Request) *session {
	c, err := r.Cookie("vendor")
	if err != nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sessions[c.Value]
}

var page = template.Must(template.New("page").Parse(`<!doctype html><title>Vendor example</title>
{{with .S}}<p>Signed in as {{.Name}} ({{.Email}}).</p>
<p>Account: <b>{{.Account}}</b> ({{.AccountID}}), role <b>{{.Role}}</b>.</p>
<p>Accounts you may act in:</p><ul>{{range .Accounts}}<li>{{.Name}} — {{.Role}}</li>{{end}}</ul>
<p><a href="/team">The team page</a> (needs members.view, decided by the in-process Checker).</p>
{{else}}<p><a href="/login">Sign in with equipe</a></p>{{end}}
{{with .Message}}<p><b>{{.}}</b></p>{{end}}`))

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	page.Execute(w, map[string]any{"S": a.current(r)})
}

// login sends the browser to equipe with state, nonce and PKCE.
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	p := pending{state: random(), nonce: random(), verifier: oauth2.GenerateVerifier()}
	a.mu.Lock()
	a.pending[browser(w, r)] = p
	a.mu.Unlock()
	http.Redirect(w, r, a.oauth.AuthCodeURL(p.state, oidc.Nonce(p.nonce), oauth2.S256ChallengeOption(p.verifier)), http.StatusFound)
}

// callback redeems the code, verifies the ID token and keeps its claims.
func (a *app) callback(w http.ResponseWriter, r *http.Request) {
	id := browser(w, r)
	a.mu.Lock()
	p, ok := a.pending[id]
	delete(a.pending, id)
	a.mu.Unlock()
	if e := r.URL.Query().Get("error"); e != "" {
		http.Error(w, "equipe said: "+e, http.StatusForbidden)
		return
	}
	if !ok || r.URL.Query().Get("state") != p.state {
		http.Error(w, "unexpected state", http.StatusBadRequest)
		return
	}
	tok, err := a.oauth.Exchange(r.Context(), r.URL.Query().Get("code"), oauth2.VerifierOption(p.verifier))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := a.verifier.Verify(r.Context(), raw)
	if err != nil || idt.Nonce != p.nonce {
		http.Error(w, fmt.Sprintf("ID token refused: %v", err), http.StatusBadGateway)
		return
	}
	var claims struct {
		Name        string                            `json:"name"`
		Email       string                            `json:"email"`
		AccountID   string                            `json:"account_id"`
		AccountName string                            `json:"account_name"`
		Role        string                            `json:"role"`
		Accounts    []struct{ ID, Name, Role string } `json:"accounts"`
	}
	if err := idt.Claims(&claims); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	a.mu.Lock()
	a.sessions[id] = &session{Subject: idt.Subject, Name: claims.Name, Email: claims.Email, AccountID: claims.AccountID,
		Account: claims.AccountName, Role: claims.Role, Accounts: claims.Accounts}
	a.mu.Unlock()
	http.Redirect(w, r, "/", http.StatusFound)
}

// team is guarded by the Checker: the person must hold members.view in
// the account they signed in with.
func (a *app) team(w http.ResponseWriter, r *http.Request) {
	s := a.current(r)
	if s == nil {
		http.Redirect(w, r, "/login", http.StatusFound)
		return
	}
	if a.checker == nil {
		http.Error(w, "set EQUIPE_API_KEY to an instance API key to decide checks in process", http.StatusServiceUnavailable)
		return
	}
	account, err1 := equipe.ParseID(s.AccountID)
	user, err2 := equipe.ParseID(s.Subject)
	if err1 != nil || err2 != nil {
		http.Error(w, "no account in the token", http.StatusForbidden)
		return
	}
	d, err := a.checker.Check(r.Context(), account, user, "members.view", access.Query{})
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if !d.Allowed {
		w.WriteHeader(http.StatusForbidden)
		page.Execute(w, map[string]any{"S": s, "Message": fmt.Sprintf("Refused: %s", d.Reason)})
		return
	}
	page.Execute(w, map[string]any{"S": s, "Message": "You may view the members of " + s.Account + "."})
}
