package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/internal/browsertest"
	"github.com/equipe-dev/equipe/team"
)

// TestBrowser_SignInWithEquipeLogsInAsksConsentAndTheAccount plays a
// vendor's application sending a person to equipe: not logged in, they log
// in on equipe's page, in French, then see the consent page naming the
// application, pick one of their two accounts and allow; the browser lands
// on the application's redirect URI with a code, which gives an ID token
// naming the account picked.
func TestBrowser_SignInWithEquipeLogsInAsksConsentAndTheAccount(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{})
	b := &browser{t: t, ctx: ctx, env: env}
	ada := signUpOwner(t, env, "ada@example.com")
	bob := signUpOwner(t, env, "bob@example.com")
	if _, err := env.App.Team.AddMember(t.Context(), team.Actor{User: &bob.user}, bob.account,
		team.NewMember{Email: "ada@example.com", Role: "admin", SendInvitation: true}); err != nil {
		t.Fatal(err)
	}
	secret := apptest.Secret(apptest.Link(t, env.Mail(t, "ada@example.com", "access_granted"), "/invitations/"))
	if _, _, err := env.App.Identity.AcceptInvitation(t.Context(), secret, identity.Accept{}, &identity.Auth{User: ada.user},
		equipe.Origin{IP: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}

	// The application: its callback only shows where the browser arrived.
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<!doctype html><title>Vendor</title><p id=arrived>arrived</p>"))
	}))
	t.Cleanup(vendor.Close)
	c, clientSecret, err := env.App.Team.CreateOIDCClient(t.Context(), team.Actor{Operator: true}, team.OIDCClientInput{
		Name: "Vendor app", RedirectURIs: []string{vendor.URL + "/callback"}, Scopes: []string{"profile", "accounts"}})
	if err != nil {
		t.Fatal(err)
	}
	provider, err := gooidc.NewProvider(t.Context(), env.URL)
	if err != nil {
		t.Fatal(err)
	}
	oc := oauth2.Config{ClientID: c.ID.String(), ClientSecret: clientSecret, RedirectURL: vendor.URL + "/callback",
		Endpoint: provider.Endpoint(), Scopes: []string{gooidc.ScopeOpenID, "profile", "accounts"}}
	verifier := oauth2.GenerateVerifier()
	authURL := oc.AuthCodeURL("the-state", oauth2.S256ChallengeOption(verifier), gooidc.Nonce("the-nonce"),
		oauth2.SetAuthURLParam("ui_locales", "fr"))

	b.do("open the application's sign-in link", chromedp.Navigate(authURL), chromedp.WaitVisible(chromedp.CSS("#f-email")))
	b.at("/login")
	b.do("log in", b.fill(map[string]string{"email": "ada@example.com", "password": "lovelace rode the number engine"}), submit())
	b.at("/login/oidc")
	b.do("see the consent page", chromedp.WaitVisible(chromedp.CSS(`input[name="account"]`)))
	if h := b.text("h1"); h != "Se connecter à Vendor app avec equipe" {
		t.Fatalf("consent page title %q", h)
	}
	browsertest.Screenshot(t, ctx, "oidc-consent")
	b.do("pick bob's account and allow", chromedp.Click(chromedp.CSS(`#f-account-`+bob.account.String())),
		chromedp.Click(chromedp.CSS(`button[value="allow"]`)), chromedp.WaitVisible(chromedp.CSS("#arrived")))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(loc)
	if !strings.HasPrefix(loc, vendor.URL+"/callback") || u.Query().Get("state") != "the-state" || u.Query().Get("code") == "" {
		t.Fatalf("arrived at %s", loc)
	}
	tok, err := oc.Exchange(t.Context(), u.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	idt, err := provider.Verifier(&gooidc.Config{ClientID: c.ID.String()}).Verify(t.Context(), tok.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		AccountID string `json:"account_id"`
		Role      string `json:"role"`
	}
	if err := idt.Claims(&claims); err != nil || claims.AccountID != bob.account.String() || claims.Role != "admin" ||
		idt.Nonce != "the-nonce" || idt.Subject != ada.user.ID.String() {
		t.Fatalf("ID token %+v %+v %v", idt, claims, err)
	}
}
