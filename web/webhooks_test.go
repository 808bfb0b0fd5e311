package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/team"
)

// TestWebhookPages_AReaderWithoutTheAuditLogNeitherAddsNorRoutes: a member
// who manages webhooks but may not read the audit log is offered no form to
// add an endpoint, sees an endpoint's URL and events without their fields,
// and still changes its description.
func TestWebhookPages_AReaderWithoutTheAuditLogNeitherAddsNorRoutes(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	ctx := t.Context()
	if _, err := env.App.Team.CreateRole(ctx, o.actor(), o.account, team.RoleInput{Key: "hooks", LabelFR: "Webhooks",
		LabelEN: "Webhooks", Grants: []equipe.Grant{{Permission: "webhooks.manage"}}}); err != nil {
		t.Fatal(err)
	}
	hook, _, err := env.App.Team.CreateWebhook(ctx, o.actor(), &o.account, team.WebhookInput{URL: "https://hooks.example.com/equipe",
		Types: []string{"member.added"}, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	c := as(env, env.AddMember(t, o.account, "hugo@example.com", "hooks", equipe.MemberActive))
	english(t, env, c)

	list := get(t, c, o.url("/webhooks"))
	if list.Status != 200 || strings.Contains(list.Body, `id="f-url"`) || !strings.Contains(list.Body, "View the audit log") {
		t.Errorf("the list offers to add an endpoint: %d %s", list.Status, text(list.Body))
	}
	if !strings.Contains(get(t, o.c, o.url("/webhooks")).Body, `id="f-url"`) {
		t.Error("the administrator is offered no form to add an endpoint")
	}
	self := o.url("/webhooks/" + hook.ID.String())
	p := get(t, c, self)
	if p.Status != 200 || strings.Contains(p.Body, `name="url"`) || strings.Contains(p.Body, `name="types"`) ||
		!strings.Contains(p.Body, "<code>https://hooks.example.com/equipe</code>") || !strings.Contains(p.Body, "Member added") {
		t.Errorf("the endpoint's page: %d %s", p.Status, text(p.Body))
	}
	if p := post(t, c, self, url.Values{"description": {"CRM"}, "enabled": {"on"}}); p.Status != 303 {
		t.Fatalf("save the description: %d %s", p.Status, text(p.Body))
	}
	got, err := env.App.Team.Webhook(ctx, o.actor(), &o.account, hook.ID)
	if err != nil || got.Description != "CRM" || got.URL != hook.URL || strings.Join(got.Types, ",") != "member.added" {
		t.Errorf("after the save: %+v %v", got, err)
	}
	// A form of the routing fields, written by hand, is refused and changes nothing.
	if p := post(t, c, self, url.Values{"url": {"https://collector.example.net/"}, "all": {"1"}, "enabled": {"on"}}); p.Status != 403 {
		t.Errorf("route by hand: %d", p.Status)
	}
	if got, _ := env.App.Team.Webhook(ctx, o.actor(), &o.account, hook.ID); got.URL != hook.URL {
		t.Errorf("a refused change moved the endpoint to %s", got.URL)
	}
}

// TestWebhookPages_TheLogSaysEachStateInTheReadersLanguage: errors in the
// reader's language, event labels instead of kinds, no next attempt while
// the endpoint is disabled, a refused re-delivery said, and English
// punctuation in English.
func TestWebhookPages_TheLogSaysEachStateInTheReadersLanguage(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{Configure: func(c *app.Config) { c.WebhooksAllowHTTPLoopback = true }})
	o := signUpOwner(t, env, "ada@example.com")
	ctx := t.Context()
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
	t.Cleanup(rc.Close)
	hook, _, err := env.App.Team.CreateWebhook(ctx, o.actor(), &o.account, team.WebhookInput{URL: rc.URL + "/equipe",
		Types: []string{"member.added", "contact.created"}, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	d, err := env.App.Team.TestWebhook(ctx, o.actor(), &o.account, hook.ID)
	if err != nil {
		t.Fatal(err)
	}
	env.AwaitWork(t, "the failed attempt recorded", func() bool {
		got, err := env.App.Team.WebhookDelivery(ctx, o.actor(), &o.account, hook.ID, d.EventID)
		return err == nil && got.WebhookDelivery.Attempts == 1
	})
	self := o.url("/webhooks/" + hook.ID.String())
	delivery := self + "/deliveries/" + d.EventID.String()

	fr := get(t, o.c, self)
	wantIn(t, fr, "Le destinataire a répondu 500")
	if strings.Contains(fr.Body, "answered 500") {
		t.Errorf("the French log says the error in English: %s", text(fr.Body))
	}
	wantIn(t, get(t, o.c, delivery), "Le destinataire a répondu 500")
	english(t, env, o.c)
	wantIn(t, get(t, o.c, self), "The receiver answered 500")
	wantIn(t, get(t, o.c, delivery), "The receiver answered 500")
	if list := get(t, o.c, o.url("/webhooks")); !strings.Contains(list.Body, "<td>Member added, Contact added</td>") {
		t.Errorf("the list's events: %s", text(list.Body))
	}

	// Being sent: a re-delivery is refused, and the page says why.
	claimed, err := env.App.DB.ClaimWebhookDeliveries(ctx, time.Now().Add(time.Minute), time.Minute, 10, "held by the test")
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claimed %d (%v)", len(claimed), err)
	}
	if p := post(t, o.c, delivery+"/redeliver", nil); p.Status != 409 || !strings.Contains(p.Body, "This delivery is being sent") {
		t.Errorf("re-delivery of a delivery being sent: %d %s", p.Status, text(p.Body))
	}

	// Disabled by the service: the reason, punctuated in English; the
	// queued delivery waits with no attempt due; no re-delivery.
	a := equipe.WebhookAttempt{ID: equipe.NewID(), EndpointID: hook.ID, EventID: d.EventID, At: time.Now(), ResponseCode: 500,
		ErrorCode: "webhooks.error_status", Error: "answered 500"}
	if _, err := env.App.DB.RecordWebhookOutcomes(ctx, "held by the test", []store.WebhookOutcome{{Attempt: a,
		Status: equipe.DeliveryQueued, Next: time.Now().Add(time.Hour)}}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := env.App.Team.DisableFailingWebhook(ctx, hook.ID); err != nil {
		t.Fatal(err)
	}
	p := get(t, o.c, self)
	wantIn(t, p, "Disabled: all its deliveries failed", "On hold while the webhook is disabled")
	if strings.Contains(p.Body, "Disabled :") || strings.Contains(p.Body, "next attempt") || strings.Contains(p.Body, "/redeliver") {
		t.Errorf("the page of a disabled endpoint: %s", text(p.Body))
	}
	if p := post(t, o.c, delivery+"/redeliver", nil); p.Status != 409 || !strings.Contains(p.Body, "This webhook is disabled.") {
		t.Errorf("re-delivery to a disabled endpoint: %d %s", p.Status, text(p.Body))
	}
}
