package team_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/team"
	"github.com/equipe-dev/equipe/webhook"
)

func (s *scene) webhook(t *testing.T, url string, types ...string) (team.WebhookView, string) {
	t.Helper()
	v, secret, err := s.s.CreateWebhook(ctx, s.admin(), &s.account, team.WebhookInput{URL: url, Types: types, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	return v, secret
}

func TestWebhooks_ManagedByTheAccountsAdministratorsAndRecorded(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		before := s.snapshot()
		v, secret := s.webhook(t, "https://hooks.example.com/equipe", "member.added", "member.removed")
		if !strings.HasPrefix(secret, webhook.SecretPrefix) || len(secret) < 40 || v.Secret != nil || !v.Enabled {
			t.Errorf("created %+v with secret %q", v, secret)
		}
		evs := s.wrote(t, before, event.WebhookCreated.Type)
		wantEvent(t, evs[0], recorded(s.admin()), event.Subject{Kind: event.SubjectWebhook, ID: v.ID.String()})
		after := evs[0].After.(event.Webhook)
		if after.URL != "https://hooks.example.com/equipe" || strings.Join(after.Types, " ") != "member.added member.removed" {
			t.Errorf("event state %+v", after)
		}
		for _, ev := range s.events(s.account) {
			if strings.Contains(ev.ID.String()+ev.Subject.ID, secret) {
				t.Error("an event holds the secret")
			}
		}
		// The secret is sealed at rest.
		raw := storeDump(t, b)
		if strings.Contains(raw, secret) || strings.Contains(raw, strings.TrimPrefix(secret, "whsec_")) {
			t.Error("the secret is stored in clear")
		}

		desc := "CRM"
		before = s.snapshot()
		if _, err := s.s.UpdateWebhook(ctx, s.admin(), &s.account, v.ID, team.WebhookChange{Description: &desc}); err != nil {
			t.Fatal(err)
		}
		before2 := s.snapshot()
		rv, newSecret, err := s.s.RotateWebhookSecret(ctx, s.admin(), &s.account, v.ID)
		if err != nil || newSecret == secret || !rv.Rotating {
			t.Fatalf("rotate: %+v %v", rv, err)
		}
		s.wrote(t, before2, event.WebhookSecretRotated.Type)
		if _, err := s.s.TestWebhook(ctx, s.admin(), &s.account, v.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.s.DeleteWebhook(ctx, s.admin(), &s.account, v.ID); err != nil {
			t.Fatal(err)
		}
		s.wrote(t, before, event.WebhookChanged.Type, event.WebhookSecretRotated.Type, event.WebhookDeleted.Type)
	})
}

func storeDump(t *testing.T, b *bench) string {
	t.Helper()
	rows, err := b.raw.Query(`SELECT url, secret, previous_secret FROM webhook_endpoints`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out strings.Builder
	for rows.Next() {
		var url string
		var s, p []byte
		if err := rows.Scan(&url, &s, &p); err != nil {
			t.Fatal(err)
		}
		out.WriteString(url + string(s) + string(p))
	}
	return out.String()
}

func TestWebhooks_BadInputIsRefusedAndChangesNothing(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		for _, tt := range []struct {
			in   team.WebhookInput
			want string
		}{
			{team.WebhookInput{URL: "", Types: []string{"*"}}, "error.fields url=webhook.url_required"},
			{team.WebhookInput{URL: "http://hooks.example.com", Types: []string{"*"}}, "error.fields url=webhook.url_https"},
			{team.WebhookInput{URL: "https://192.168.1.10/hook", Types: []string{"*"}}, "error.fields url=webhook.url_forbidden"},
			{team.WebhookInput{URL: "https://hooks.example.com", Types: nil}, "error.fields types=webhook.types_required"},
			{team.WebhookInput{URL: "https://hooks.example.com", Types: []string{"member.teleported"}}, "error.fields types=webhook.type_unknown"},
			// A person's own events are in no account's log.
			{team.WebhookInput{URL: "https://hooks.example.com", Types: []string{"user.logged_in"}}, "error.fields types=webhook.type_unknown"},
			{team.WebhookInput{URL: "https://hooks.example.com", Types: []string{"*"}, Description: "<b>x</b>"}, "error.fields description=name.markup"},
		} {
			s.done(t, tt.want, func() error {
				_, _, err := s.s.CreateWebhook(ctx, s.admin(), &s.account, tt.in)
				return err
			})
		}
		v, _ := s.webhook(t, "https://hooks.example.com/equipe", "*")
		bad := "https://127.0.0.1/"
		s.done(t, "error.fields url=webhook.url_forbidden", func() error {
			_, err := s.s.UpdateWebhook(ctx, s.admin(), &s.account, v.ID, team.WebhookChange{URL: &bad})
			return err
		})
		for range team.MaxWebhooks - 1 {
			s.webhook(t, "https://hooks.example.com/more", "*")
		}
		s.done(t, "webhook.too_many", func() error {
			_, _, err := s.s.CreateWebhook(ctx, s.admin(), &s.account, team.WebhookInput{URL: "https://hooks.example.com", Types: []string{"*"}})
			return err
		})
	})
}

func TestWebhooks_NoAccountReachesAnothersEndpointsOrDeliveries(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		a, other := b.scene(t), b.scene(t)
		v, _ := a.webhook(t, "https://hooks.example.com/a", "*")
		d, err := a.s.TestWebhook(ctx, a.admin(), &a.account, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		manager := a.joined("manager", "manager")
		desc := "taken"
		for name, actor := range map[string]team.Actor{"the other account's administrator": other.admin(),
			"the other account's key": other.key("sync", "admin")} {
			for _, account := range []equipe.ID{a.account, other.account} {
				for op, do := range map[string]func() error{
					"view": func() error { _, err := a.s.Webhook(ctx, actor, &account, v.ID); return err },
					"list": func() error {
						vs, _, err := a.s.Webhooks(ctx, actor, &account, equipe.Page{})
						return onlyOwn(vs, v.ID, err)
					},
					"change": func() error {
						_, err := a.s.UpdateWebhook(ctx, actor, &account, v.ID, team.WebhookChange{Description: &desc})
						return err
					},
					"delete": func() error { return a.s.DeleteWebhook(ctx, actor, &account, v.ID) },
					"rotate": func() error { _, _, err := a.s.RotateWebhookSecret(ctx, actor, &account, v.ID); return err },
					"test":   func() error { _, err := a.s.TestWebhook(ctx, actor, &account, v.ID); return err },
					"log": func() error {
						_, _, err := a.s.WebhookDeliveries(ctx, actor, &account, v.ID, equipe.Page{Limit: 10})
						return err
					},
					"attempt": func() error { _, err := a.s.WebhookDelivery(ctx, actor, &account, v.ID, d.EventID); return err },
					"resend":  func() error { return a.s.RedeliverWebhook(ctx, actor, &account, v.ID, d.EventID) },
				} {
					if op == "list" && account == a.account {
						continue // refused below as not found
					}
					if err := do(); equipe.ErrorCode(err) != equipe.ENOTFOUND {
						t.Errorf("%s, %s in account %v: %v, want not found", name, op, account == a.account, err)
					}
				}
			}
		}
		if _, _, err := a.s.Webhooks(ctx, other.admin(), &a.account, equipe.Page{}); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Errorf("another account's administrator lists its endpoints: %v", err)
		}
		// A member without webhooks.manage is refused in their own account.
		if _, _, err := a.s.Webhooks(ctx, a.actor("manager"), &a.account, equipe.Page{}); key(err) != "access.permission_required" {
			t.Errorf("a manager lists the endpoints: %v (%v)", err, manager.ID)
		}
		// The instance's endpoints are the instance's administrators' and keys'.
		if _, _, err := a.s.CreateWebhook(ctx, a.admin(), nil, team.WebhookInput{URL: "https://hooks.example.com", Types: []string{"*"}}); key(err) != "webhook.instance_admin_only" {
			t.Errorf("an account's administrator makes an instance endpoint: %v", err)
		}
		iv, _, err := a.s.CreateWebhook(ctx, b.instance, nil, team.WebhookInput{URL: "https://hooks.example.com/i", Types: []string{"user.logged_in"}, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.s.Webhook(ctx, b.instanceKey(t), nil, iv.ID); err != nil {
			t.Errorf("an instance key reads the instance's endpoint: %v", err)
		}
		if _, err := a.s.Webhook(ctx, a.admin(), &a.account, iv.ID); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Errorf("the instance's endpoint read as the account's: %v", err)
		}
		if _, err := a.s.Webhook(ctx, b.instance, nil, v.ID); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Errorf("an account's endpoint read as the instance's: %v", err)
		}
	})
}

// onlyOwn answers a list as if it were a refusal: ENOTFOUND when the list
// does not hold the endpoint id of another account, and an error that is
// not when it does.
func onlyOwn(vs []team.WebhookView, id equipe.ID, err error) error {
	for _, v := range vs {
		if v.ID == id {
			return fmt.Errorf("listed another account's endpoint")
		}
	}
	if err == nil {
		return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
	}
	return err
}

func TestWebhooks_EnabledAgainAnEndpointSendsNothingThatWaitedButEachCanBeRedelivered(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		v, _ := s.webhook(t, "https://hooks.example.com/equipe", "member.added")
		s.added("ann", "collaborator", false)
		deliveries := func() []team.DeliveryView {
			t.Helper()
			ds, _, err := s.s.WebhookDeliveries(ctx, s.admin(), &s.account, v.ID, equipe.Page{Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			return ds
		}
		waiting := deliveries()
		if len(waiting) != 1 || waiting[0].Status != equipe.DeliveryQueued {
			t.Fatalf("before: %+v", waiting)
		}
		off, on := false, true
		if _, err := s.s.UpdateWebhook(ctx, s.admin(), &s.account, v.ID, team.WebhookChange{Enabled: &off}); err != nil {
			t.Fatal(err)
		}
		s.added("bob", "collaborator", false) // nothing is queued for a disabled endpoint
		if got := deliveries(); len(got) != 1 || got[0].Status != equipe.DeliveryQueued {
			t.Fatalf("while disabled: %+v", got)
		}
		if _, err := s.s.UpdateWebhook(ctx, s.admin(), &s.account, v.ID, team.WebhookChange{Enabled: &on}); err != nil {
			t.Fatal(err)
		}
		got := deliveries()
		if len(got) != 1 || got[0].Status != equipe.DeliveryAbandoned || got[0].LastError != team.WebhookSkippedWhileDisabled ||
			!got[0].Actions.May(team.WebhookRedeliver) {
			t.Fatalf("enabled again: %+v", got)
		}
		// Changed again while enabled, an endpoint abandons nothing; a new
		// event is queued as ever; the skipped delivery can be sent again.
		desc := "CRM"
		if _, err := s.s.UpdateWebhook(ctx, s.admin(), &s.account, v.ID, team.WebhookChange{Description: &desc}); err != nil {
			t.Fatal(err)
		}
		s.added("cat", "collaborator", false)
		if err := s.s.RedeliverWebhook(ctx, s.admin(), &s.account, v.ID, got[0].EventID); err != nil {
			t.Fatal(err)
		}
		queued := 0
		for _, d := range deliveries() {
			if d.Status == equipe.DeliveryQueued {
				queued++
			}
		}
		if queued != 2 {
			t.Fatalf("after a new event and a re-delivery: %+v", deliveries())
		}
	})
}

// TestWebhooks_RoutingTheAccountsEventsNeedsTheAuditLog: an endpoint
// receives the account's log, so creating one, changing its URL or its
// event types and re-delivering need audit.view beside webhooks.manage;
// the rest of managing endpoints needs webhooks.manage alone. The actions
// answers say so.
func TestWebhooks_RoutingTheAccountsEventsNeedsTheAuditLog(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		for _, r := range []team.RoleInput{
			{Key: "hooks", LabelEN: "Hooks", Grants: []equipe.Grant{{Permission: "webhooks.manage"}}},
			{Key: "hooks_audit", LabelEN: "Hooks and log", Grants: []equipe.Grant{{Permission: "webhooks.manage"}, {Permission: "audit.view"}}},
		} {
			if _, err := s.s.CreateRole(ctx, s.admin(), s.account, r); err != nil {
				t.Fatal(err)
			}
		}
		hooks, both := s.key("hooks only", "hooks"), s.key("hooks and log", "hooks_audit")
		if _, _, err := s.s.AuditPage(ctx, hooks, s.account, team.AuditFilter{Page: equipe.Page{Limit: 10}}); key(err) != "access.permission_required" {
			t.Fatalf("the key reads the log: %v", err)
		}
		v, _ := s.webhook(t, "https://hooks.example.com/equipe", "member.added")
		s.added("ann", "collaborator", false)
		ds, _, err := s.s.WebhookDeliveries(ctx, s.admin(), &s.account, v.ID, equipe.Page{Limit: 10})
		if err != nil || len(ds) != 1 {
			t.Fatalf("deliveries %+v %v", ds, err)
		}
		elsewhere, types := "https://collector.example.net/", []string{"*"}
		for name, do := range map[string]func(actor team.Actor) error{
			"create": func(actor team.Actor) error {
				_, _, err := s.s.CreateWebhook(ctx, actor, &s.account, team.WebhookInput{URL: elsewhere, Types: types, Enabled: true})
				return err
			},
			"change the URL": func(actor team.Actor) error {
				_, err := s.s.UpdateWebhook(ctx, actor, &s.account, v.ID, team.WebhookChange{URL: &elsewhere})
				return err
			},
			"change the types": func(actor team.Actor) error {
				_, err := s.s.UpdateWebhook(ctx, actor, &s.account, v.ID, team.WebhookChange{Types: &types})
				return err
			},
			"redeliver": func(actor team.Actor) error { return s.s.RedeliverWebhook(ctx, actor, &s.account, v.ID, ds[0].EventID) },
		} {
			s.done(t, "access.permission_required", func() error { return do(hooks) })
			if err := do(both); err != nil {
				t.Errorf("%s with audit.view: %v", name, err)
			}
		}
		// The rest needs webhooks.manage alone.
		desc, off := "CRM", false
		if _, err := s.s.UpdateWebhook(ctx, hooks, &s.account, v.ID, team.WebhookChange{Description: &desc, Enabled: &off}); err != nil {
			t.Errorf("describe and disable: %v", err)
		}
		if _, _, err := s.s.RotateWebhookSecret(ctx, hooks, &s.account, v.ID); err != nil {
			t.Errorf("rotate: %v", err)
		}
		on := true
		if _, err := s.s.UpdateWebhook(ctx, hooks, &s.account, v.ID, team.WebhookChange{Enabled: &on}); err != nil {
			t.Errorf("enable: %v", err)
		}

		// What each is offered.
		for _, tt := range []struct {
			actor team.Actor
			want  string
		}{{hooks, "access.permission_required"}, {both, ""}, {s.admin(), ""}} {
			got, err := s.s.Webhook(ctx, tt.actor, &s.account, v.ID)
			if err != nil || got.Actions.Get(team.WebhookRoute).Code() != tt.want || !got.Actions.May(team.WebhookEdit) {
				t.Errorf("endpoint's actions %+v (%v), want route %q", got.Actions, err, tt.want)
			}
			as, err := s.s.AccountActions(ctx, tt.actor, s.account)
			if err != nil || as.Get(team.AccountCreateWebhook).Code() != tt.want || !as.May(team.AccountManageWebhooks) {
				t.Errorf("account's actions %+v (%v), want create_webhook %q", as, err, tt.want)
			}
			if got := s.s.MayCreateWebhook(ctx, tt.actor, &s.account).Code(); got != tt.want {
				t.Errorf("may create: %q, want %q", got, tt.want)
			}
			ds, _, err := s.s.WebhookDeliveries(ctx, tt.actor, &s.account, v.ID, equipe.Page{Limit: 10})
			if err != nil || len(ds) == 0 || ds[0].Actions.Get(team.WebhookRedeliver).Code() != tt.want {
				t.Errorf("deliveries %+v (%v), want redeliver %q", ds, err, tt.want)
			}
		}
	})
}

// TestWebhooks_ADisabledEndpointHoldsItsQueueAndRefusesRedelivery: nothing
// is sent to a disabled endpoint, so its queued deliveries announce no
// attempt, and a re-delivery, which would wait and then be abandoned when
// the endpoint is enabled again, is refused as the test message is.
func TestWebhooks_ADisabledEndpointHoldsItsQueueAndRefusesRedelivery(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		v, _ := s.webhook(t, "https://hooks.example.com/equipe", "member.added")
		s.added("ann", "collaborator", false)
		off := false
		if _, err := s.s.UpdateWebhook(ctx, s.admin(), &s.account, v.ID, team.WebhookChange{Enabled: &off}); err != nil {
			t.Fatal(err)
		}
		ds, _, err := s.s.WebhookDeliveries(ctx, s.admin(), &s.account, v.ID, equipe.Page{Limit: 10})
		if err != nil || len(ds) != 1 {
			t.Fatalf("deliveries %+v %v", ds, err)
		}
		d := ds[0]
		if d.Status != equipe.DeliveryQueued || !d.Held || !d.NextAttemptAt.IsZero() ||
			d.Actions.Get(team.WebhookRedeliver).Code() != "webhook.already_disabled" {
			t.Errorf("a delivery of a disabled endpoint: %+v", d)
		}
		if one, err := s.s.WebhookDelivery(ctx, s.admin(), &s.account, v.ID, d.EventID); err != nil || !one.Held || !one.NextAttemptAt.IsZero() {
			t.Errorf("the delivery alone: %+v %v", one, err)
		}
		s.done(t, "webhook.already_disabled", func() error { return s.s.RedeliverWebhook(ctx, s.admin(), &s.account, v.ID, d.EventID) })
	})
}

// TestWebhooks_AChangeThatChangesNothingWritesNothing: an endpoint sent
// back as it is (an empty change, or a form saved unchanged) records no
// event, sends no webhook and keeps its updated_at.
func TestWebhooks_AChangeThatChangesNothingWritesNothing(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		v, _ := s.webhook(t, "https://hooks.example.com/equipe", "*")
		url, desc, types, on := " https://hooks.example.com/equipe ", "", []string{"all"}, true
		for _, ch := range []team.WebhookChange{{}, {URL: &url, Description: &desc, Types: &types, Enabled: &on}} {
			before := s.snapshot()
			got, err := s.s.UpdateWebhook(ctx, s.admin(), &s.account, v.ID, ch)
			if err != nil {
				t.Fatal(err)
			}
			s.wrote(t, before)
			if after := s.snapshot(); !reflect.DeepEqual(before.counts, after.counts) {
				t.Errorf("an empty change wrote rows: %v → %v", before.counts, after.counts)
			}
			if !got.UpdatedAt.Equal(v.UpdatedAt) {
				t.Errorf("updated_at moved: %v → %v", v.UpdatedAt, got.UpdatedAt)
			}
		}
	})
}

// TestWebhooks_AListsCursorIsItsAccountsOnly: a cursor of one account's
// endpoints, or of one endpoint's log, is refused on another's.
func TestWebhooks_AListsCursorIsItsAccountsOnly(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		a, other := b.scene(t), b.scene(t)
		var hooks []team.WebhookView
		for range 2 {
			v, _ := a.webhook(t, "https://hooks.example.com/a", "*")
			other.webhook(t, "https://hooks.example.com/b", "*")
			hooks = append(hooks, v)
			if _, err := a.s.TestWebhook(ctx, a.admin(), &a.account, v.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := a.s.TestWebhook(ctx, a.admin(), &a.account, v.ID); err != nil {
				t.Fatal(err)
			}
		}
		_, next, err := a.s.Webhooks(ctx, a.admin(), &a.account, equipe.Page{Limit: 1})
		if err != nil || next == "" {
			t.Fatalf("first page: %q %v", next, err)
		}
		if _, _, err := a.s.Webhooks(ctx, a.admin(), &a.account, equipe.Page{After: next, Limit: 1}); err != nil {
			t.Errorf("the account's own cursor: %v", err)
		}
		if _, _, err := other.s.Webhooks(ctx, other.admin(), &other.account, equipe.Page{After: next, Limit: 1}); key(err) != "error.fields cursor=request.cursor_invalid" {
			t.Errorf("another account's cursor: %v", err)
		}
		_, next, err = a.s.WebhookDeliveries(ctx, a.admin(), &a.account, hooks[0].ID, equipe.Page{Limit: 1})
		if err != nil || next == "" {
			t.Fatalf("first page of the log: %q %v", next, err)
		}
		if _, _, err := a.s.WebhookDeliveries(ctx, a.admin(), &a.account, hooks[1].ID, equipe.Page{After: next, Limit: 1}); key(err) != "error.fields cursor=request.cursor_invalid" {
			t.Errorf("another endpoint's log cursor: %v", err)
		}
	})
}
