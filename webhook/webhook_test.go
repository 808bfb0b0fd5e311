package webhook_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/internal/servicetest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
	"github.com/equipe-dev/equipe/webhook"
	"github.com/equipe-dev/equipe/work"
)

var ctx = context.Background()

// local is the rules of an instance that allows a receiver on this
// machine, as the tests' receivers are.
var local = webhook.Rules{AllowHTTPLoopback: true}

// rig is the use cases on one engine, an account with its administrator,
// and a worker that delivers to the tests' receivers.
type rig struct {
	st      *servicetest.Stack
	raw     *sql.DB
	account equipe.ID
	admin   team.Actor
	adminU  equipe.User
	worker  *webhook.Worker
}

var accounts atomic.Int64

func newRig(t testing.TB, db *store.DB, cfg store.Config) *rig {
	t.Helper()
	st := servicetest.New(t, db, servicetest.FastParams)
	st.Team.WebhookRules = local
	r := &rig{st: st, raw: storetest.Raw(t, cfg)}
	r.account, r.adminU = r.newAccount(t)
	r.admin = team.Actor{User: &r.adminU, IP: "192.0.2.1"}
	r.worker = &webhook.Worker{DB: db, Keys: st.Team.Secrets, Client: local.Client(5*time.Second, nil), Now: st.Clock.Now,
		Disable: st.Team.DisableFailingWebhook, Viewer: st.Team.WebhookViewer}
	return r
}

// newAccount makes an account with an active administrator.
func (r *rig) newAccount(t testing.TB) (equipe.ID, equipe.User) {
	t.Helper()
	n := accounts.Add(1)
	account := equipe.NewID()
	email := fmt.Sprintf("admin@w%d.example.com", n)
	u := equipe.User{ID: equipe.NewID(), Email: email, EmailKey: email, FirstName: "Ada", LastName: "Admin", Locale: "fr",
		EmailVerifiedAt: time.Now(), CreatedAt: time.Now()}
	err := r.st.DB.Write(ctx, func(tx *store.Tx) error {
		if err := tx.CreateAccount(ctx, &equipe.Account{ID: account, Name: fmt.Sprintf("Acme %d", n), Locale: "fr",
			InvitationTTLHours: 168, CreatedAt: time.Now()}); err != nil {
			return err
		}
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		return tx.CreateMember(ctx, &equipe.Member{AccountID: account, UserID: u.ID, Role: "admin",
			Status: equipe.MemberActive, CreatedAt: time.Now(), JoinedAt: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	return account, u
}

// receiver is an HTTP server on 127.0.0.1 that keeps what it is sent and
// answers with status.
type receiver struct {
	*httptest.Server
	status atomic.Int32
	mu     sync.Mutex
	got    []received
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.status.Store(http.StatusNoContent)
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{r.Header.Clone(), b})
		rc.mu.Unlock()
		w.WriteHeader(int(rc.status.Load()))
		fmt.Fprint(w, "receiver says hello")
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) received() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func (r *rig) endpoint(t *testing.T, account *equipe.ID, url string, types ...string) (team.WebhookView, string) {
	t.Helper()
	actor := r.admin
	if account == nil {
		actor = r.instanceAdmin(t)
	}
	v, secret, err := r.st.Team.CreateWebhook(ctx, actor, account, team.WebhookInput{URL: url, Types: types, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	return v, secret
}

func (r *rig) instanceAdmin(t *testing.T) team.Actor {
	t.Helper()
	u := equipe.User{ID: equipe.NewID(), Email: "root@vendor.example", EmailKey: "root@vendor.example", FirstName: "Root",
		Locale: "en", InstanceAdmin: true, EmailVerifiedAt: time.Now(), CreatedAt: time.Now()}
	if existing, err := r.st.DB.UserByEmailKey(ctx, u.EmailKey); err == nil {
		return team.Actor{User: &existing}
	}
	if err := r.st.DB.Write(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, &u) }); err != nil {
		t.Fatal(err)
	}
	return team.Actor{User: &u}
}

func (r *rig) contact(t *testing.T, name string) equipe.Contact {
	t.Helper()
	c, err := r.st.Team.CreateContact(ctx, r.admin, r.account, team.ContactInput{LastName: name, Email: "c@example.com", Kinds: []string{"billing"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (r *rig) deliveries(t *testing.T, endpoint equipe.ID) []equipe.WebhookDelivery {
	t.Helper()
	ds, err := r.st.DB.WebhookDeliveries(ctx, endpoint, nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func (r *rig) runOnce(t *testing.T) int {
	t.Helper()
	n, err := r.worker.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func verify(t *testing.T, secret string, m received) {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(m.body, m.header); err != nil {
		t.Errorf("the standard verifier refuses the message with secret %s…: %v (signature %q)", secret[:10], err,
			m.header.Get("webhook-signature"))
	}
}

func TestDelivery_SignedAsTheStandardVerifierExpects_BothSecretsDuringARotation(t *testing.T) {
	storetest.EachConfig(t, func(t *testing.T, db *store.DB, cfg store.Config) {
		r := newRig(t, db, cfg)
		rc := newReceiver(t)
		ep, secret := r.endpoint(t, &r.account, rc.URL+"/hooks", "contact.created")
		if !strings.HasPrefix(secret, "whsec_") {
			t.Fatalf("secret %q", secret)
		}
		c := r.contact(t, "Lovelace")
		if n := r.runOnce(t); n != 1 {
			t.Fatalf("claimed %d deliveries, want 1", n)
		}
		got := rc.received()
		if len(got) != 1 {
			t.Fatalf("received %d messages", len(got))
		}
		verify(t, secret, got[0])
		var msg struct {
			Type      string          `json:"type"`
			Timestamp time.Time       `json:"timestamp"`
			Data      json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(got[0].body, &msg); err != nil {
			t.Fatal(err)
		}
		var data map[string]any
		json.Unmarshal(msg.Data, &data)
		if msg.Type != "contact.created" || msg.Timestamp.IsZero() || data["type"] != "contact.created" ||
			data["account_id"] != r.account.String() || data["subject"].(map[string]any)["id"] != c.ID.String() {
			t.Errorf("message %s", got[0].body)
		}
		if _, ok := data["ip"]; ok {
			t.Errorf("the message carries the address the change came from: %s", got[0].body)
		}
		if got[0].header.Get("webhook-id") != data["id"] {
			t.Errorf("webhook-id %q is not the event's ID %v", got[0].header.Get("webhook-id"), data["id"])
		}
		ds := r.deliveries(t, ep.ID)
		if len(ds) != 1 || ds[0].Status != equipe.DeliveryDelivered || ds[0].ResponseCode != 204 || ds[0].Attempts != 1 {
			t.Errorf("deliveries %+v", ds)
		}

		_, newSecret, err := r.st.Team.RotateWebhookSecret(ctx, r.admin, &r.account, ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		r.contact(t, "Hopper")
		r.runOnce(t)
		got = rc.received()
		if len(got) != 2 {
			t.Fatalf("received %d messages", len(got))
		}
		if sigs := strings.Fields(got[1].header.Get("webhook-signature")); len(sigs) != 2 {
			t.Errorf("during a rotation, signatures %q; want two", sigs)
		}
		verify(t, secret, got[1])
		verify(t, newSecret, got[1])

		// A day later the old secret no longer signs.
		r.st.Clock.Advance(team.RotationOverlap + time.Minute)
		r.contact(t, "Turing")
		r.runOnce(t)
		got = rc.received()
		if sigs := strings.Fields(got[2].header.Get("webhook-signature")); len(sigs) != 1 {
			t.Errorf("after the rotation, signatures %q; want one", sigs)
		}
		wh, _ := standardwebhooks.NewWebhook(secret)
		if wh.VerifyIgnoringTimestamp(got[2].body, got[2].header) == nil {
			t.Error("the old secret still verifies after the rotation ended")
		}
		wh, _ = standardwebhooks.NewWebhook(newSecret)
		if err := wh.VerifyIgnoringTimestamp(got[2].body, got[2].header); err != nil {
			t.Error(err)
		}
	})
}

func TestDeliveries_WrittenWithTheEventOnlyWhenItCommits_ToSubscribersOnly(t *testing.T) {
	storetest.EachConfig(t, func(t *testing.T, db *store.DB, cfg store.Config) {
		r := newRig(t, db, cfg)
		other, _ := r.newAccount(t)
		all, _ := r.endpoint(t, &r.account, "https://hooks.example.com/all", "*")
		roles, _ := r.endpoint(t, &r.account, "https://hooks.example.com/roles", "role.created")
		inst, _ := r.endpoint(t, nil, "https://hooks.example.com/instance", "contact.created")
		// The endpoint subscribed to all has the events of the other
		// endpoints' creation already: counts start from here.
		base := map[equipe.ID]int{}
		count := func(id equipe.ID) int { return len(r.deliveries(t, id)) - base[id] }
		for _, id := range []equipe.ID{all.ID, roles.ID, inst.ID} {
			base[id] = count(id)
		}
		record := func(account equipe.ID, fail error) error {
			after := event.Contact{LastName: "X", Kinds: []string{"billing"}}
			return r.st.Work.Do(ctx, event.System, equipe.Origin{}, func(u *work.Unit) error {
				if err := u.Record(ctx, event.ContactCreated.In(account, equipe.NewID().String(), nil, &after)); err != nil {
					return err
				}
				return fail
			})
		}
		refused := fmt.Errorf("changed my mind")
		if err := record(r.account, refused); err != refused {
			t.Fatal(err)
		}
		if count(all.ID)+count(roles.ID)+count(inst.ID) != 0 {
			t.Fatal("a rolled-back change left deliveries")
		}
		if err := record(r.account, nil); err != nil {
			t.Fatal(err)
		}
		if count(all.ID) != 1 || count(roles.ID) != 0 || count(inst.ID) != 1 {
			t.Errorf("deliveries: all %d, roles %d, instance %d; want 1, 0, 1", count(all.ID), count(roles.ID), count(inst.ID))
		}
		// Another account's event reaches the instance's endpoint, not this
		// account's.
		if err := record(other, nil); err != nil {
			t.Fatal(err)
		}
		if count(all.ID) != 1 || count(inst.ID) != 2 {
			t.Errorf("after another account's event: all %d, instance %d; want 1, 2", count(all.ID), count(inst.ID))
		}
		// A disabled endpoint gets nothing, from the next event on.
		off := false
		if _, err := r.st.Team.UpdateWebhook(ctx, r.admin, &r.account, all.ID, team.WebhookChange{Enabled: &off}); err != nil {
			t.Fatal(err)
		}
		if err := record(r.account, nil); err != nil {
			t.Fatal(err)
		}
		if count(all.ID) != 1 {
			t.Errorf("a disabled endpoint got a delivery")
		}
		// A new endpoint gets the very next event.
		fresh, _ := r.endpoint(t, &r.account, "https://hooks.example.com/fresh", "contact.created")
		if err := record(r.account, nil); err != nil {
			t.Fatal(err)
		}
		if count(fresh.ID) != 1 {
			t.Errorf("an endpoint created just before an event got %d deliveries", count(fresh.ID))
		}
	})
}

// TestDeliveries_AnIdentityDisabledByTheInstanceReachesItsAccounts: the
// instance disables a person's identity, then enables it, events of no
// account's log; an endpoint of the account they are a member of, which
// may subscribe to these kinds, receives both, signed, in their public form
// (no account, the person as subject, the instance's support as actor,
// unnamed to the account); another account's endpoint receives
// neither, nor does an endpoint of theirs subscribed to other kinds.
func TestDeliveries_AnIdentityDisabledByTheInstanceReachesItsAccounts(t *testing.T) {
	storetest.EachConfig(t, func(t *testing.T, db *store.DB, cfg store.Config) {
		r := newRig(t, db, cfg)
		other, otherAdmin := r.newAccount(t)
		root := r.instanceAdmin(t)
		ours, contacts, theirs := newReceiver(t), newReceiver(t), newReceiver(t)
		_, secret := r.endpoint(t, &r.account, ours.URL+"/hook", "user.disabled", "user.enabled")
		r.endpoint(t, &r.account, contacts.URL+"/hook", "contact.created")
		if _, _, err := r.st.Team.CreateWebhook(ctx, team.Actor{User: &otherAdmin}, &other,
			team.WebhookInput{URL: theirs.URL + "/hook", Types: []string{"*"}, Enabled: true}); err != nil {
			t.Fatal(err)
		}
		for _, off := range []bool{true, false} {
			if _, err := r.st.Team.ChangeUser(ctx, root, r.adminU.ID, team.UserChange{Disabled: &off}); err != nil {
				t.Fatal(err)
			}
		}
		for r.runOnce(t) > 0 {
		}
		got := ours.received()
		if len(got) != 2 {
			t.Fatalf("the member's account received %d messages, want 2", len(got))
		}
		// Delivered at once, in either order.
		if bytes.Contains(got[0].body, []byte(`"type":"user.enabled"`)) {
			got[0], got[1] = got[1], got[0]
		}
		for i, want := range []string{"user.disabled", "user.enabled"} {
			verify(t, secret, got[i])
			var m struct {
				Type string `json:"type"`
				Data struct {
					AccountID *equipe.ID    `json:"account_id"`
					Actor     event.Actor   `json:"actor"`
					Subject   event.Subject `json:"subject"`
				} `json:"data"`
			}
			if err := json.Unmarshal(got[i].body, &m); err != nil {
				t.Fatal(err)
			}
			if m.Type != want || m.Data.AccountID != nil || m.Data.Subject.Kind != event.SubjectUser ||
				m.Data.Subject.ID != r.adminU.ID.String() || m.Data.Actor != (event.Actor{Kind: event.ActorUser, Via: event.ViaInstance}) {
				t.Errorf("message %d: %s", i, got[i].body)
			}
		}
		// The other account's endpoint of every kind has the event of its
		// own creation, and nothing else.
		for _, m := range append(contacts.received(), theirs.received()...) {
			if !bytes.Contains(m.body, []byte(`"type":"webhook.created"`)) {
				t.Errorf("an endpoint that must hear nothing of it received %s", m.body)
			}
		}
	})
}

func TestRetries_FollowTheScheduleThenTheEndpointIsDisabledAndItsAdministratorsEmailed(t *testing.T) {
	storetest.EachConfig(t, func(t *testing.T, db *store.DB, cfg store.Config) {
		r := newRig(t, db, cfg)
		rc := newReceiver(t)
		rc.status.Store(http.StatusServiceUnavailable)
		ep, _ := r.endpoint(t, &r.account, rc.URL, "contact.created")
		r.contact(t, "Lovelace")
		start := r.st.Clock.Now()
		var span time.Duration
		for i, wait := range append([]time.Duration{0}, webhook.Schedule...) {
			span += wait
			r.st.Clock.Set(start.Add(span - time.Second))
			if i > 0 {
				if n := r.runOnce(t); n != 0 {
					t.Fatalf("attempt %d was made a second early", i+1)
				}
			}
			r.st.Clock.Set(start.Add(span))
			if n := r.runOnce(t); n != 1 {
				t.Fatalf("attempt %d: claimed %d deliveries", i+1, n)
			}
			ds := r.deliveries(t, ep.ID)
			if ds[0].Attempts != i+1 || ds[0].ResponseCode != 503 {
				t.Fatalf("after attempt %d: %+v", i+1, ds[0])
			}
		}
		if span < 24*time.Hour {
			t.Errorf("the retries span %s, less than a day", span)
		}
		ds := r.deliveries(t, ep.ID)
		if ds[0].Status != equipe.DeliveryAbandoned {
			t.Errorf("after the last attempt: %s", ds[0].Status)
		}
		atts, _ := r.st.DB.WebhookAttempts(ctx, ep.ID, ds[0].EventID)
		if len(atts) != len(webhook.Schedule)+1 || atts[0].Response != "receiver says hello" {
			t.Errorf("attempts %+v", atts)
		}
		v, err := r.st.Team.Webhook(ctx, r.admin, &r.account, ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v.Enabled || v.DisabledReason != "webhook.failing" {
			t.Errorf("endpoint after failing throughout: enabled %v, reason %q", v.Enabled, v.DisabledReason)
		}
		mails := servicetest.Mails(t, r.raw, r.adminU.Email)
		if len(mails) != 1 || mails[0].Template != "webhook_disabled" || !strings.Contains(mails[0].Text, rc.URL) ||
			!strings.Contains(mails[0].Text, "désactivé") {
			t.Errorf("emails to the administrator: %+v", mails)
		}
		evs, _ := r.st.DB.AuditEvents(ctx, store.AuditFilter{AccountID: &r.account, Action: string(event.WebhookDisabled.Type)})
		if len(evs) != 1 || evs[0].ActorType != "system" {
			t.Errorf("events %+v", evs)
		}
		// Nothing more is sent to a disabled endpoint; a re-delivery waits
		// for it to be enabled.
		r.contact(t, "Hopper")
		r.st.Clock.Advance(time.Hour)
		if n := r.runOnce(t); n != 0 {
			t.Errorf("claimed %d deliveries of a disabled endpoint", n)
		}
		rc.status.Store(http.StatusOK)
		on := true
		if _, err := r.st.Team.UpdateWebhook(ctx, r.admin, &r.account, ep.ID, team.WebhookChange{Enabled: &on}); err != nil {
			t.Fatal(err)
		}
		if err := r.st.Team.RedeliverWebhook(ctx, r.admin, &r.account, ep.ID, ds[0].EventID); err != nil {
			t.Fatal(err)
		}
		r.runOnce(t)
		d, err := r.st.Team.WebhookDelivery(ctx, r.admin, &r.account, ep.ID, ds[0].EventID)
		if err != nil || d.Status != equipe.DeliveryDelivered || len(d.Attempts) != len(webhook.Schedule)+2 {
			t.Errorf("re-delivered: %+v, %v", d, err)
		}
	})
}

// TestRetries_ManualRedeliveriesUseNoneOfTheScheduleAndDisableNothing:
// someone who re-delivers again and again to a receiver that is down
// makes attempts outside the schedule, which stays where it was, and the
// endpoint is not disabled for failures that took seconds, not a day.
func TestRetries_ManualRedeliveriesUseNoneOfTheScheduleAndDisableNothing(t *testing.T) {
	storetest.EachConfig(t, func(t *testing.T, db *store.DB, cfg store.Config) {
		r := newRig(t, db, cfg)
		rc := newReceiver(t)
		rc.status.Store(http.StatusServiceUnavailable)
		ep, _ := r.endpoint(t, &r.account, rc.URL, "contact.created")
		r.contact(t, "Lovelace")
		if n := r.runOnce(t); n != 1 {
			t.Fatalf("first attempt: claimed %d", n)
		}
		id := r.deliveries(t, ep.ID)[0].EventID
		manual := len(webhook.Schedule) + 2
		for range manual {
			if err := r.st.Team.RedeliverWebhook(ctx, r.admin, &r.account, ep.ID, id); err != nil {
				t.Fatal(err)
			}
			if n := r.runOnce(t); n != 1 {
				t.Fatalf("re-delivery: claimed %d", n)
			}
		}
		d := r.deliveries(t, ep.ID)[0]
		if d.Status != equipe.DeliveryQueued || d.Attempts != manual+1 || d.ManualAttempts != manual || d.Manual ||
			!d.NextAttemptAt.Equal(d.LastAttemptAt.Add(webhook.Schedule[0])) {
			t.Errorf("after %d re-deliveries: %+v", manual, d)
		}
		v, err := r.st.Team.Webhook(ctx, r.admin, &r.account, ep.ID)
		if err != nil || !v.Enabled {
			t.Errorf("the endpoint after re-deliveries: %+v %v", v, err)
		}
		if mails := servicetest.Mails(t, r.raw, r.adminU.Email); len(mails) != 0 {
			t.Errorf("emails to the administrator: %+v", mails)
		}
		// The schedule goes on from its second attempt.
		r.st.Clock.Advance(webhook.Schedule[0])
		r.runOnce(t)
		if d := r.deliveries(t, ep.ID)[0]; d.Status != equipe.DeliveryQueued || d.Attempts-d.ManualAttempts != 2 ||
			!d.NextAttemptAt.Equal(d.LastAttemptAt.Add(webhook.Schedule[1])) {
			t.Errorf("the schedule's second attempt: %+v", d)
		}
	})
}

// TestRetries_AnEndpointIsDisabledOnlyAfterFailingThroughoutTheWindow: a
// delivery abandoned sooner than the schedule's span after its first
// attempt disables nothing.
func TestRetries_AnEndpointIsDisabledOnlyAfterFailingThroughoutTheWindow(t *testing.T) {
	storetest.EachConfig(t, func(t *testing.T, db *store.DB, cfg store.Config) {
		r := newRig(t, db, cfg)
		ep, _ := r.endpoint(t, &r.account, "https://hooks.example.com/w", "contact.created")
		r.contact(t, "Lovelace")
		record := func(at time.Time, status equipe.DeliveryStatus) []equipe.ID {
			t.Helper()
			ds, err := db.ClaimWebhookDeliveries(ctx, at, time.Minute, 10, "w")
			if err != nil || len(ds) != 1 {
				t.Fatalf("claimed %d (%v)", len(ds), err)
			}
			a := equipe.WebhookAttempt{ID: equipe.NewID(), EndpointID: ep.ID, EventID: ds[0].EventID, At: at,
				ResponseCode: 503, ErrorCode: webhook.ErrorStatus, Error: "answered 503"}
			failing, err := db.RecordWebhookOutcomes(ctx, "w", []store.WebhookOutcome{{Attempt: a, Status: status, Next: at}}, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			return failing
		}
		start := r.st.Clock.Now().Add(time.Second)
		if failing := record(start, equipe.DeliveryQueued); len(failing) != 0 {
			t.Fatalf("a failed attempt: failing %v", failing)
		}
		if failing := record(start.Add(time.Hour-time.Second), equipe.DeliveryAbandoned); len(failing) != 0 {
			t.Errorf("abandoned within the window: failing %v", failing)
		}
		if err := r.st.Team.RedeliverWebhook(ctx, r.admin, &r.account, ep.ID, r.deliveries(t, ep.ID)[0].EventID); err != nil {
			t.Fatal(err)
		}
		if failing := record(start.Add(time.Hour), equipe.DeliveryAbandoned); len(failing) != 1 || failing[0] != ep.ID {
			t.Errorf("abandoned a window after the first attempt: failing %v", failing)
		}
	})
}

// TestDelivery_EachFailureIsKeptWithItsCode: the log keeps a stable code
// beside the error's words, for the pages to say it in the reader's
// language.
func TestDelivery_EachFailureIsKeptWithItsCode(t *testing.T) {
	storetest.EachConfig(t, func(t *testing.T, db *store.DB, cfg store.Config) {
		r := newRig(t, db, cfg)
		down := httptest.NewServer(http.NotFoundHandler())
		down.Close()
		failing := newReceiver(t)
		failing.status.Store(http.StatusInternalServerError)
		want := map[equipe.ID]string{}
		for url, code := range map[string]string{down.URL: webhook.ErrorConnectionRefused, failing.URL: webhook.ErrorStatus} {
			ep, _ := r.endpoint(t, &r.account, url, "contact.created")
			want[ep.ID] = code
		}
		r.contact(t, "Lovelace")
		r.runOnce(t)
		for id, code := range want {
			d := r.deliveries(t, id)[0]
			atts, err := db.WebhookAttempts(ctx, id, d.EventID)
			if err != nil || len(atts) != 1 || d.LastErrorCode != code || atts[0].ErrorCode != code || d.LastError == "" || atts[0].Error == "" {
				t.Errorf("want %s: delivery %+v, attempts %+v (%v)", code, d, atts, err)
			}
		}
	})
}

func TestErrorCode(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, webhook.ErrorConnectionRefused},
		{&url.Error{Op: "Post", URL: "https://x", Err: context.DeadlineExceeded}, webhook.ErrorTimeout},
		{&url.Error{Op: "Post", URL: "https://x", Err: &net.DNSError{Name: "x", IsNotFound: true}}, webhook.ErrorUnresolved},
		{&url.Error{Op: "Post", URL: "https://x", Err: x509.UnknownAuthorityError{}}, webhook.ErrorTLS},
		{errors.New("something else"), webhook.ErrorOther},
	} {
		if got := webhook.ErrorCode(tt.err); got != tt.want {
			t.Errorf("ErrorCode(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestDelivery_ARedirectIsNotFollowed(t *testing.T) {
	storetest.EachConfig(t, func(t *testing.T, db *store.DB, cfg store.Config) {
		r := newRig(t, db, cfg)
		target := newReceiver(t)
		redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			http.Redirect(w, req, target.URL, http.StatusTemporaryRedirect)
		}))
		t.Cleanup(redirect.Close)
		ep, _ := r.endpoint(t, &r.account, redirect.URL, "contact.created")
		r.contact(t, "Lovelace")
		r.runOnce(t)
		ds := r.deliveries(t, ep.ID)
		if len(target.received()) != 0 {
			t.Error("the redirect was followed")
		}
		if ds[0].Status != equipe.DeliveryQueued || ds[0].ResponseCode != 307 || !strings.Contains(ds[0].LastError, "redirects are not followed") ||
			ds[0].LastErrorCode != webhook.ErrorRedirect {
			t.Errorf("delivery after a redirect: %+v", ds[0])
		}
	})
}

func TestClient_RefusesInternalAddressesAtDialTime(t *testing.T) {
	rc := newReceiver(t)
	port := rc.URL[strings.LastIndex(rc.URL, ":")+1:]
	dns := map[string]string{"loopback.test": "127.0.0.1", "private.test": "10.1.2.3", "metadata.test": "169.254.169.254",
		"v6loopback.test": "::1", "cgnat.test": "100.64.0.1", "ula.test": "fd00::1", "mapped.test": "::ffff:10.0.0.1"}
	lookup := func(_ context.Context, host string) ([]netipAddr, error) { return parse(dns[host]) }
	for _, rules := range []webhook.Rules{{}, local} {
		c := rules.Client(2*time.Second, lookup)
		for host, addr := range dns {
			if rules.AllowHTTPLoopback && (addr == "127.0.0.1" || addr == "::1") {
				continue
			}
			_, err := c.Post("https://"+host+":"+port+"/", "application/json", strings.NewReader("{}"))
			if err == nil || !strings.Contains(err.Error(), "address refused") {
				t.Errorf("%s (%s): %v, want refused at dial time", host, addr, err)
			}
		}
	}
	// The same name is delivered to when the instance allows loopback: the
	// refusal above is the rule's, not a failing resolver.
	res, err := local.Client(2*time.Second, lookup).Post("http://loopback.test:"+port+"/", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if len(rc.received()) != 1 {
		t.Errorf("received %d", len(rc.received()))
	}
}

func TestCheckURL(t *testing.T) {
	for _, tt := range []struct {
		url   string
		rules webhook.Rules
		want  string
	}{
		{"https://hooks.example.com/equipe", webhook.Rules{}, ""},
		{"http://hooks.example.com/equipe", webhook.Rules{}, webhook.URLNotHTTPS},
		{"http://hooks.example.com/equipe", local, webhook.URLNotHTTPS},
		{"http://127.0.0.1:9000/", webhook.Rules{}, webhook.URLNotHTTPS},
		{"http://127.0.0.1:9000/", local, ""},
		{"http://localhost:9000/", local, ""},
		{"https://localhost/", webhook.Rules{}, webhook.URLForbidden},
		{"https://10.0.0.8/", webhook.Rules{}, webhook.URLForbidden},
		{"https://169.254.169.254/latest/meta-data", webhook.Rules{}, webhook.URLForbidden},
		{"https://[::1]/", webhook.Rules{}, webhook.URLForbidden},
		{"https://[fd12::1]/", webhook.Rules{}, webhook.URLForbidden},
		{"https://100.100.1.1/", webhook.Rules{}, webhook.URLForbidden},
		{"https://[::127.0.0.1]/", webhook.Rules{}, webhook.URLForbidden},
		{"https://[::10.0.0.1]/", webhook.Rules{}, webhook.URLForbidden},
		{"https://[2002:7f00:1::]/", webhook.Rules{}, webhook.URLForbidden},
		{"https://[2002:a9fe:a9fe::1]/", webhook.Rules{}, webhook.URLForbidden},
		{"https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", webhook.Rules{}, webhook.URLForbidden},
		{"https://[2002:5db8:d822::1]/", webhook.Rules{}, ""},
		{"https://[::1]/", local, ""},
		{"https://hooks.example.com:0/", webhook.Rules{}, webhook.URLInvalid},
		{"https://hooks.example.com:70000/", webhook.Rules{}, webhook.URLInvalid},
		{"https://user:pass@hooks.example.com/", webhook.Rules{}, webhook.URLInvalid},
		{"ftp://hooks.example.com/", webhook.Rules{}, webhook.URLNotHTTPS},
		{"hooks.example.com", webhook.Rules{}, webhook.URLInvalid},
		// Hosts of digits are addresses to resolvers and browsers,
		// whatever their spelling: only the usual one is judged.
		{"https://0x7f000001/", webhook.Rules{}, webhook.URLNumericHost},
		{"https://2130706433/", webhook.Rules{}, webhook.URLNumericHost},
		{"https://127.1/", webhook.Rules{}, webhook.URLNumericHost},
		{"https://017700000001/", webhook.Rules{}, webhook.URLNumericHost},
		{"https://127.000.000.001/", webhook.Rules{}, webhook.URLNumericHost},
		{"https://hooks.0x2a/", webhook.Rules{}, webhook.URLNumericHost},
		{"https://93.184.215.14/", webhook.Rules{}, ""},
		{"https://1password.example.com/", webhook.Rules{}, ""},
		{"https://localhost./", webhook.Rules{}, webhook.URLForbidden},
		{"https://127.0.0.1./", webhook.Rules{}, webhook.URLForbidden},
		{"https://192.0.2.10/", webhook.Rules{}, webhook.URLForbidden},
		{"https://198.51.100.7/", webhook.Rules{}, webhook.URLForbidden},
		{"https://203.0.113.9/", webhook.Rules{}, webhook.URLForbidden},
		{"https://[2001:db8::1]/", webhook.Rules{}, webhook.URLForbidden},
		{"https://hooks.example.com/" + strings.Repeat("a", webhook.MaxURL), webhook.Rules{}, webhook.URLTooLong},
	} {
		if _, got := tt.rules.CheckURL(tt.url); got != tt.want {
			t.Errorf("CheckURL(%q, loopback %v) = %q, want %q", tt.url, tt.rules.AllowHTTPLoopback, got, tt.want)
		}
	}
}

type netipAddr = netip.Addr

func parse(s string) ([]netip.Addr, error) {
	if s == "" {
		return nil, fmt.Errorf("no such host")
	}
	return []netip.Addr{netip.MustParseAddr(s)}, nil
}

func TestClaims_ABatchComesWithItsEventsAndALapsedClaimIsNotRecorded(t *testing.T) {
	storetest.EachConfig(t, func(t *testing.T, db *store.DB, cfg store.Config) {
		r := newRig(t, db, cfg)
		ep, _ := r.endpoint(t, &r.account, "https://hooks.example.com/batch", "contact.created")
		const n = 130
		want := map[equipe.ID]bool{}
		err := r.st.Work.Do(ctx, event.System, equipe.Origin{}, func(u *work.Unit) error {
			for i := range n {
				after := event.Contact{LastName: fmt.Sprintf("C%d", i), Kinds: []string{"billing"}}
				e := event.ContactCreated.In(r.account, equipe.NewID().String(), nil, &after)
				if err := u.Record(ctx, e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		test, err := r.st.Team.TestWebhook(ctx, r.admin, &r.account, ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range r.deliveries(t, ep.ID) {
			want[d.EventID] = true
		}
		if len(want) != n+1 {
			t.Fatalf("%d deliveries queued, want %d", len(want), n+1)
		}

		now := r.st.Clock.Now().Add(time.Second)
		const lease = time.Minute
		first, err := db.ClaimWebhookDeliveries(ctx, now, lease, 100, "a")
		if err != nil {
			t.Fatal(err)
		}
		rest, err := db.ClaimWebhookDeliveries(ctx, now, lease, 100, "b")
		if err != nil {
			t.Fatal(err)
		}
		if len(first) != 100 || len(rest) != n+1-100 {
			t.Fatalf("claimed %d then %d, want 100 then %d", len(first), len(rest), n+1-100)
		}
		seen := map[equipe.ID]bool{}
		for _, d := range append(append([]equipe.WebhookDelivery(nil), first...), rest...) {
			if _, ok := want[d.EventID]; !ok || seen[d.EventID] {
				t.Fatalf("claimed %s: unknown or claimed twice", d.EventID)
			}
			seen[d.EventID] = true
			if d.Status != equipe.DeliveryProcessing {
				t.Errorf("claimed delivery %s is %s", d.EventID, d.Status)
			}
			if d.EventID == test.EventID {
				if d.Payload == "" || d.Event != nil {
					t.Errorf("test message claimed with payload %q, event %v", d.Payload, d.Event)
				}
				continue
			}
			if d.Event == nil || d.Event.ID != d.EventID || d.Event.Action != "contact.created" {
				t.Fatalf("delivery %s claimed with event %+v", d.EventID, d.Event)
			}
			if _, err := webhook.Body(d); err != nil {
				t.Errorf("delivery %s: %v", d.EventID, err)
			}
		}
		if again, err := db.ClaimWebhookDeliveries(ctx, now, lease, 100, "c"); err != nil || len(again) != 0 {
			t.Fatalf("while claimed, another claim took %d (%v)", len(again), err)
		}

		// The leases lapse and c takes every delivery: a's outcomes change
		// nothing, c's are recorded, each with its own values.
		later := now.Add(lease + time.Second)
		taken, err := db.ClaimWebhookDeliveries(ctx, later, lease, 200, "c")
		if err != nil || len(taken) != n+1 {
			t.Fatalf("after the lease, claimed %d (%v)", len(taken), err)
		}
		outcomes := func(ds []equipe.WebhookDelivery, at time.Time, code int) []store.WebhookOutcome {
			var out []store.WebhookOutcome
			for i, d := range ds {
				a := equipe.WebhookAttempt{ID: equipe.NewID(), EndpointID: d.EndpointID, EventID: d.EventID,
					At: at.Add(time.Duration(i) * time.Millisecond), Duration: time.Duration(i) * time.Millisecond,
					ResponseCode: code, Response: fmt.Sprintf("answer %d \"é\" <%d>", code, i)}
				o := store.WebhookOutcome{Attempt: a, Status: equipe.DeliveryDelivered, Next: a.At}
				if i%2 == 1 {
					o.Status, o.Next, a.Error = equipe.DeliveryQueued, a.At.Add(time.Hour), "answered 503"
					o.Attempt.Error = a.Error
				}
				out = append(out, o)
			}
			return out
		}
		if failing, err := db.RecordWebhookOutcomes(ctx, "a", outcomes(first, now, 500), time.Hour); err != nil || len(failing) != 0 {
			t.Fatal(failing, err)
		}
		for _, d := range r.deliveries(t, ep.ID) {
			if d.Attempts != 0 {
				t.Fatalf("a lapsed claim recorded an attempt of %s: %+v", d.EventID, d)
			}
		}
		mine := outcomes(taken, later, 204)
		if _, err := db.RecordWebhookOutcomes(ctx, "c", mine, time.Hour); err != nil {
			t.Fatal(err)
		}
		for _, o := range mine {
			d, err := db.WebhookDelivery(ctx, o.Attempt.EndpointID, o.Attempt.EventID)
			if err != nil {
				t.Fatal(err)
			}
			if d.Status != o.Status || d.Attempts != 1 || !d.NextAttemptAt.Equal(o.Next) || d.ResponseCode != 204 ||
				d.LastError != o.Attempt.Error || !d.LastAttemptAt.Equal(o.Attempt.At) ||
				(o.Status == equipe.DeliveryDelivered) != d.DeliveredAt.Equal(o.Attempt.At) {
				t.Fatalf("delivery after its outcome %+v: %+v", o, d)
			}
			atts, err := db.WebhookAttempts(ctx, o.Attempt.EndpointID, o.Attempt.EventID)
			if err != nil || len(atts) != 1 || atts[0].ID != o.Attempt.ID || atts[0].Response != o.Attempt.Response ||
				atts[0].Duration != o.Attempt.Duration || atts[0].Error != o.Attempt.Error {
				t.Fatalf("attempts %+v (%v), want %+v", atts, err, o.Attempt)
			}
		}
	})
}

func TestDelivery_AnAnswerWithNulBytesIsKept(t *testing.T) {
	storetest.EachConfig(t, func(t *testing.T, db *store.DB, cfg store.Config) {
		r := newRig(t, db, cfg)
		rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte("ok\x00\x00done"))
		}))
		t.Cleanup(rc.Close)
		ep, _ := r.endpoint(t, &r.account, rc.URL, "contact.created")
		r.contact(t, "Lovelace")
		if n := r.runOnce(t); n != 1 {
			t.Fatalf("claimed %d", n)
		}
		ds := r.deliveries(t, ep.ID)
		atts, err := db.WebhookAttempts(ctx, ep.ID, ds[0].EventID)
		if err != nil || ds[0].Status != equipe.DeliveryDelivered || len(atts) != 1 || atts[0].Response != "ok\uFFFD\uFFFDdone" {
			t.Errorf("delivery %+v, attempts %+v, %v", ds[0], atts, err)
		}
	})
}

// TestRedelivery_ADeliveredMessageQueuedAgainIsNoLongerShownDelivered: a
// delivery re-delivered after it succeeded waits as queued, with no
// delivered_at, until its new attempt: the log shows where it stands now,
// the earlier success staying in its attempts. Its new success dates it
// again; its new failure leaves it undelivered.
func TestRedelivery_ADeliveredMessageQueuedAgainIsNoLongerShownDelivered(t *testing.T) {
	storetest.EachConfig(t, func(t *testing.T, db *store.DB, cfg store.Config) {
		r := newRig(t, db, cfg)
		rc := newReceiver(t)
		ep, _ := r.endpoint(t, &r.account, rc.URL, "contact.created")
		r.contact(t, "Lovelace")
		r.runOnce(t)
		id := r.deliveries(t, ep.ID)[0].EventID
		first, err := r.st.Team.WebhookDelivery(ctx, r.admin, &r.account, ep.ID, id)
		if err != nil || first.Status != equipe.DeliveryDelivered || first.DeliveredAt.IsZero() {
			t.Fatalf("delivered: %+v, %v", first, err)
		}
		r.st.Clock.Advance(time.Minute)
		if err := r.st.Team.RedeliverWebhook(ctx, r.admin, &r.account, ep.ID, id); err != nil {
			t.Fatal(err)
		}
		d, err := r.st.Team.WebhookDelivery(ctx, r.admin, &r.account, ep.ID, id)
		if err != nil || d.Status != equipe.DeliveryQueued || !d.DeliveredAt.IsZero() ||
			!d.NextAttemptAt.Equal(r.st.Clock.Now()) || len(d.Attempts) != 1 || d.Attempts[0].ErrorCode != "" {
			t.Errorf("queued again: %+v, %v", d, err)
		}
		r.runOnce(t)
		d, err = r.st.Team.WebhookDelivery(ctx, r.admin, &r.account, ep.ID, id)
		if err != nil || d.Status != equipe.DeliveryDelivered || !d.DeliveredAt.After(first.DeliveredAt) ||
			!d.DeliveredAt.Equal(d.LastAttemptAt) || len(d.Attempts) != 2 {
			t.Errorf("delivered again: %+v, %v", d, err)
		}
		rc.status.Store(http.StatusServiceUnavailable)
		if err := r.st.Team.RedeliverWebhook(ctx, r.admin, &r.account, ep.ID, id); err != nil {
			t.Fatal(err)
		}
		r.runOnce(t)
		d, err = r.st.Team.WebhookDelivery(ctx, r.admin, &r.account, ep.ID, id)
		if err != nil || d.Status != equipe.DeliveryQueued || !d.DeliveredAt.IsZero() || d.ResponseCode != 503 ||
			len(d.Attempts) != 3 {
			t.Errorf("re-delivered and failed: %+v, %v", d, err)
		}
	})
}

// TestRetries_ASuccessBeforeARedeliveryStillKeepsTheEndpointEnabled: a
// delivery that succeeded while another was retried proves the endpoint
// alive, even when it is re-delivered afterwards and no longer shows as
// delivered.
func TestRetries_ASuccessBeforeARedeliveryStillKeepsTheEndpointEnabled(t *testing.T) {
	storetest.EachConfig(t, func(t *testing.T, db *store.DB, cfg store.Config) {
		r := newRig(t, db, cfg)
		ep, _ := r.endpoint(t, &r.account, "https://hooks.example.com/w", "contact.created")
		r.contact(t, "Lovelace")
		start := r.st.Clock.Now().Add(time.Second)
		record := func(at time.Time, status equipe.DeliveryStatus) []equipe.ID {
			t.Helper()
			ds, err := db.ClaimWebhookDeliveries(ctx, at, time.Minute, 1, "w")
			if err != nil || len(ds) != 1 {
				t.Fatalf("claimed %d (%v)", len(ds), err)
			}
			a := equipe.WebhookAttempt{ID: equipe.NewID(), EndpointID: ep.ID, EventID: ds[0].EventID, At: at,
				ResponseCode: 503, ErrorCode: webhook.ErrorStatus, Error: "answered 503"}
			if status == equipe.DeliveryDelivered {
				a.ResponseCode, a.ErrorCode, a.Error = 204, "", ""
			}
			failing, err := db.RecordWebhookOutcomes(ctx, "w", []store.WebhookOutcome{{Attempt: a, Status: status,
				Next: at.Add(time.Minute)}}, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			return failing
		}
		record(start, equipe.DeliveryQueued) // Lovelace's first attempt fails: retried in a minute
		r.contact(t, "Hopper")
		r.st.Clock.Advance(10 * time.Second)
		// Lovelace is not due yet: Hopper's is claimed, and delivered.
		record(start.Add(10*time.Second), equipe.DeliveryDelivered)
		hopper := r.deliveries(t, ep.ID)[0]
		if hopper.Status != equipe.DeliveryDelivered {
			t.Fatalf("Hopper's: %+v", hopper)
		}
		if err := r.st.Team.RedeliverWebhook(ctx, r.admin, &r.account, ep.ID, hopper.EventID); err != nil {
			t.Fatal(err)
		}
		record(start.Add(20*time.Second), equipe.DeliveryQueued) // Hopper's re-delivery fails
		if failing := record(start.Add(time.Hour), equipe.DeliveryAbandoned); len(failing) != 0 {
			t.Errorf("an endpoint that succeeded within the window: failing %v", failing)
		}
	})
}
