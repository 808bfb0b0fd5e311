package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/browsertest"
	"github.com/equipe-dev/equipe/team"
)

// TestBrowser_AnAdministratorAddsAWebhookSeesItsSecretOnceAndSendsATest
// plays an administrator wiring their product to equipe, in French: the
// Webhooks tab, a new endpoint on a receiver of this machine for the
// account's contacts, its secret shown once, a test event sent from the
// endpoint's page, the receiver verifying it with the secret, and the
// delivery in the log.
func TestBrowser_AnAdministratorAddsAWebhookSeesItsSecretOnceAndSendsATest(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{Configure: func(c *app.Config) { c.WebhooksAllowHTTPLoopback = true }})
	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, b)
		mu.Unlock()
		w.Write([]byte("bien reçu"))
	}))
	t.Cleanup(rc.Close)
	o := signUpNamed(t, env, "ada@moteur.example", "Ada", "Lovelace", "Moteur Analytique")
	admin := &browser{t: t, ctx: ctx, env: env}
	admin.logIn("ada@moteur.example", ownerPassword)
	admin.at("/")
	hooks := "/accounts/" + o.account.String() + "/webhooks"
	admin.do("open the account", chromedp.Navigate(env.URL+"/accounts/"+o.account.String()+"/members"),
		chromedp.WaitVisible(chromedp.CSS(`.subnav a[href="`+hooks+`"]`)),
		chromedp.Click(chromedp.CSS(`.subnav a[href="`+hooks+`"]`)), chromedp.WaitVisible(chromedp.CSS("#f-url")))
	admin.wantText("h1", "Webhooks")
	admin.wantText("main", "Aucun webhook pour l'instant.")

	// A refused address is said beside the field.
	admin.do("add a webhook to a private address", admin.fill(map[string]string{"url": "https://192.168.0.10/hook"}),
		chromedp.Click(chromedp.CSS("#f-type-contact\\.created")), chromedp.Click(chromedp.CSS("form button.primary")),
		chromedp.WaitVisible(chromedp.CSS("#e-url")))
	admin.wantText("#e-url", "réseau privé")

	admin.do("add the webhook", admin.fill(map[string]string{"url": rc.URL + "/equipe", "description": "Notre CRM"}),
		chromedp.Click(chromedp.CSS("form button.primary")), chromedp.WaitVisible(chromedp.CSS("#secret")))
	admin.wantText("h1", "Webhook ajouté")
	admin.wantText(".banner", "Il ne sera plus jamais affiché")
	secret := admin.value("#secret")
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q", secret)
	}
	browsertest.Screenshot(t, ctx, "webhook-secret")
	admin.do("go to the endpoint", chromedp.Click(chromedp.CSS("a.button")), chromedp.WaitVisible(chromedp.CSS("h1")))
	admin.wantText("main", rc.URL+"/equipe", "Notre CRM", "Aucune livraison pour l'instant.")
	if strings.Contains(admin.text("main"), secret) {
		t.Fatal("the endpoint's page shows the secret")
	}

	admin.do("send a test event", chromedp.Click(chromedp.CSS(`form[action$="/test"] button`)), chromedp.WaitVisible(chromedp.CSS(".notice")))
	admin.wantText(".notice", "Événement de test envoyé")
	env.AwaitWork(t, "the test event at the receiver", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 1
	})
	wh, _ := standardwebhooks.NewWebhook(secret)
	mu.Lock()
	err := wh.Verify(bodies[0], got[0].Header)
	body := string(bodies[0])
	mu.Unlock()
	if err != nil || !strings.Contains(body, `"type":"webhook.test"`) {
		t.Fatalf("the receiver got %s (%v)", body, err)
	}
	// The log shows the delivery once it is recorded.
	env.AwaitWork(t, "the test delivered in the log", func() bool {
		r, _, err := env.App.Team.WebhookDeliveries(t.Context(), apptestActor(o), &o.account, mustHook(t, env, o), equipe.Page{Limit: 10})
		return err == nil && len(r) == 1 && r[0].Status == "delivered"
	})
	admin.do("reload the endpoint", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("table.deliveries")))
	admin.wantText("table.deliveries", "Événement de test", "Livrée", "200")
	browsertest.Screenshot(t, ctx, "webhook-log")
	admin.do("open the delivery", chromedp.Click(chromedp.CSS("table.deliveries th a")), chromedp.WaitVisible(chromedp.CSS("code.response")))
	admin.wantText("main", "bien reçu", "webhook-id")
}

// apptestActor is the owner as the use cases know them.
func apptestActor(o owner) team.Actor { u := o.user; return team.Actor{User: &u} }

// mustHook returns the owner's account's only endpoint.
func mustHook(t *testing.T, env *apptest.Env, o owner) equipe.ID {
	t.Helper()
	vs, _, err := env.App.Team.Webhooks(t.Context(), apptestActor(o), &o.account, equipe.Page{})
	if err != nil || len(vs) != 1 {
		t.Fatalf("endpoints %v %v", vs, err)
	}
	return vs[0].ID
}
