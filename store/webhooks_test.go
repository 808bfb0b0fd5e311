package store_test

import (
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// TestRecordAudit_AnEventAboutAMemberReachesTheirAccountsEndpoints records,
// by each way a write goes (in a transaction, deferred and merged, in a
// batch), a person's own events: user.disabled, which each account the
// person is a member of hears of, reaches the endpoints of those accounts
// subscribed to it (or to all) and the instance's, never another account's
// nor one the person was invited to and has not joined; user.logged_in,
// which no account hears of, reaches the instance's alone.
func TestRecordAudit_AnEventAboutAMemberReachesTheirAccountsEndpoints(t *testing.T) {
	for _, way := range []string{"transaction", "deferred", "batch"} {
		t.Run(way, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				a := &equipe.Account{ID: equipe.NewID(), Name: "A", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0}
				b := &equipe.Account{ID: equipe.NewID(), Name: "B", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0}
				c := &equipe.Account{ID: equipe.NewID(), Name: "C", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0}
				ana, bob := newUser("ana@example.com"), newUser("bob@example.com")
				endpoint := func(account *equipe.ID, types ...string) *equipe.WebhookEndpoint {
					return &equipe.WebhookEndpoint{ID: equipe.NewID(), AccountID: account, URL: "https://hooks.example/in",
						Types: types, Enabled: true, Secret: []byte("s"), CreatedAt: t0, UpdatedAt: t0}
				}
				hooks := map[string]*equipe.WebhookEndpoint{
					"a, disabled": endpoint(&a.ID, "user.disabled"),
					"a, all":      endpoint(&a.ID, "*"),
					"a, enabled":  endpoint(&a.ID, "user.enabled"),
					"b, all":      endpoint(&b.ID, "*"),
					"c, all":      endpoint(&c.ID, "*"),
				}
				// Ana is a member of a and invited to c, Bob a member of b; the endpoints of the
				// instance come after the first events, so that on SQLite
				// the subscriptions read without them must know a's.
				write(t, db, func(tx *store.Tx) error {
					for _, f := range []func() error{
						func() error { return tx.CreateAccount(ctx, a) },
						func() error { return tx.CreateAccount(ctx, b) },
						func() error { return tx.CreateAccount(ctx, c) },
						func() error { return tx.CreateUser(ctx, ana) },
						func() error { return tx.CreateUser(ctx, bob) },
						func() error {
							return tx.CreateMember(ctx, &equipe.Member{AccountID: a.ID, UserID: ana.ID, Role: "guest",
								Status: equipe.MemberSuspended, CreatedAt: t0, JoinedAt: t0})
						},
						func() error {
							return tx.CreateMember(ctx, &equipe.Member{AccountID: c.ID, UserID: ana.ID, Role: "guest",
								Status: equipe.MemberInvited, CreatedAt: t0})
						},
						func() error {
							return tx.CreateMember(ctx, &equipe.Member{AccountID: b.ID, UserID: bob.ID, Role: "guest",
								Status: equipe.MemberActive, CreatedAt: t0, JoinedAt: t0})
						},
					} {
						if err := f(); err != nil {
							return err
						}
					}
					for _, h := range hooks {
						if err := tx.CreateWebhookEndpoint(ctx, h); err != nil {
							return err
						}
					}
					return nil
				})
				own := func(action string, u *equipe.User) *equipe.AuditEvent {
					return &equipe.AuditEvent{ID: equipe.NewID(), ActorType: "system", Action: action, TargetType: "user",
						TargetID: u.ID.String(), At: t0}
				}
				record := func(events ...*equipe.AuditEvent) {
					t.Helper()
					if way == "batch" {
						batch := db.NewBatch()
						for _, e := range events {
							if err := batch.RecordAudit(ctx, e); err != nil {
								t.Fatal(err)
							}
						}
						if err := db.RunBatch(ctx, batch); err != nil {
							t.Fatal(err)
						}
						return
					}
					write(t, db, func(tx *store.Tx) error {
						if way == "deferred" {
							tx.DeferAlwaysForTest()
						}
						for _, e := range events {
							if err := tx.RecordAudit(ctx, e); err != nil {
								return err
							}
						}
						return nil
					})
				}
				count := func(h *equipe.WebhookEndpoint) int {
					t.Helper()
					ds, err := db.WebhookDeliveries(ctx, h.ID, nil, 100)
					if err != nil {
						t.Fatal(err)
					}
					return len(ds)
				}
				disabled := own("user.disabled", ana)
				record(own("user.logged_in", ana), disabled)
				for name, want := range map[string]int{"a, disabled": 1, "a, all": 1, "a, enabled": 0, "b, all": 0, "c, all": 0} {
					if got := count(hooks[name]); got != want {
						t.Errorf("%s: %d deliveries of ana's disabling and login, want %d", name, got, want)
					}
				}
				if ds, _ := db.WebhookDeliveries(ctx, hooks["a, all"].ID, nil, 100); len(ds) == 1 && ds[0].EventID != disabled.ID {
					t.Errorf("a's endpoint of every kind received %s, not the disabling", ds[0].EventType)
				}
				instance := endpoint(nil, "user.enabled", "user.logged_in")
				write(t, db, func(tx *store.Tx) error { return tx.CreateWebhookEndpoint(ctx, instance) })
				record(own("user.enabled", ana), own("user.enabled", bob), own("user.logged_in", bob))
				for name, want := range map[string]int{"a, disabled": 1, "a, all": 2, "a, enabled": 1, "b, all": 1, "c, all": 0} {
					if got := count(hooks[name]); got != want {
						t.Errorf("%s: %d deliveries after both were enabled, want %d", name, got, want)
					}
				}
				if got := count(instance); got != 3 {
					t.Errorf("the instance's endpoint: %d deliveries, want 3", got)
				}
			})
		})
	}
}

// TestMigrate_DeliveryErrorsWrittenBeforeTheirCodesAreGivenOne: the errors
// of deliveries and attempts logged before errors had codes (version 45)
// are given the code their words say, so that the log says them in its
// reader's language.
func TestMigrate_DeliveryErrorsWrittenBeforeTheirCodesAreGivenOne(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			db, cfg := openAt(t, engine, 45)
			raw := storetest.Raw(t, cfg)
			endpoint := equipe.NewID()
			if _, err := raw.Exec(`INSERT INTO webhook_endpoints (id, url, types, secret, key_id, created_at, updated_at)
				VALUES ($1, 'https://hooks.example.com/', '*', $2, 'k', 1, 1)`, endpoint, []byte("sealed")); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{
				"answered 500": "webhooks.error_status",
				"answered 302: redirects are not followed":                                       "webhooks.error_redirect",
				`Post "https://hooks.example.com/": context deadline exceeded`:                   "webhooks.error_timeout",
				"dial tcp 93.184.215.14:443: connect: connection refused":                        "webhooks.error_connection_refused",
				"dial tcp 10.0.0.1:443: webhook: address refused: 10.0.0.1 is a private address": "webhooks.error_address_refused",
				"could not resolve nowhere.example: no such host":                                "webhooks.error_unresolved",
				"tls: failed to verify certificate: x509: certificate has expired":               "webhooks.error_tls",
				"the event is no longer kept":                                                    "webhooks.error_event_gone",
				"something else":                                                                 "webhooks.error_other",
				"webhooks.skipped_while_disabled":                                                "webhooks.skipped_while_disabled",
				"":                                                                               "",
			}
			events := map[equipe.ID]string{}
			for words := range want {
				ev := equipe.NewID()
				events[ev] = words
				if _, err := raw.Exec(`INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, status, attempts,
					next_attempt_at, last_error, created_at) VALUES ($1, $2, 'member.added', 'abandoned', 1, 1, $3, 1)`,
					endpoint, ev, words); err != nil {
					t.Fatal(err)
				}
				if _, err := raw.Exec(`INSERT INTO webhook_attempts (id, endpoint_id, event_id, at, duration_ms, error)
					VALUES ($1, $2, $3, 1, 1, $4)`, equipe.NewID(), endpoint, ev, words); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			for ev, words := range events {
				d, err := db.WebhookDelivery(ctx, endpoint, ev)
				if err != nil || d.LastErrorCode != want[words] || d.LastError != words {
					t.Errorf("%q: delivery %+v (%v), want %q", words, d, err, want[words])
				}
				atts, err := db.WebhookAttempts(ctx, endpoint, ev)
				if err != nil || len(atts) != 1 || (words != "webhooks.skipped_while_disabled" && atts[0].ErrorCode != want[words]) {
					t.Errorf("%q: attempts %+v (%v)", words, atts, err)
				}
			}
		})
	}
}
