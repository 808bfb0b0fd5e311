package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/internal/testenv"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// BenchmarkRecordEvent measures what webhooks add to the write of an event,
// one event a transaction: the event alone as before webhooks ("alone"),
// RecordAudit with no endpoint anywhere ("none"), with an endpoint of
// another account ("elsewhere"), and with an endpoint of the account
// subscribed to the event ("subscribed", which writes its delivery). On
// SQLite "none" and "elsewhere" cost a lookup in the subscriptions the
// process keeps; on PostgreSQL the deliveries ride in the event's statement.
func BenchmarkRecordEvent(b *testing.B) {
	ctx := context.Background()
	for _, e := range storetest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			db, _ := storetest.OpenConfig(b, e)
			account, other := equipe.NewID(), equipe.NewID()
			now := time.Now()
			err := db.Write(ctx, func(tx *store.Tx) error {
				for _, id := range []equipe.ID{account, other} {
					if err := tx.CreateAccount(ctx, &equipe.Account{ID: id, Name: "Bench", Locale: "en", InvitationTTLHours: 168, CreatedAt: now}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			endpoint := func(acct equipe.ID) {
				err := db.Write(ctx, func(tx *store.Tx) error {
					return tx.CreateWebhookEndpoint(ctx, &equipe.WebhookEndpoint{ID: equipe.NewID(), AccountID: &acct,
						URL: "https://hooks.example.com", Types: []string{"contact.created"}, Enabled: true,
						Secret: []byte("sealed"), KeyID: "k", CreatedAt: now, UpdatedAt: now})
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			write := func(b *testing.B, alone bool) {
				for b.Loop() {
					ev := equipe.AuditEvent{ID: equipe.NewID(), AccountID: &account, ActorType: "system", Action: "contact.created",
						TargetType: "contact", TargetID: "c", After: `{"last_name":"X"}`, At: now}
					err := db.Write(ctx, func(tx *store.Tx) error {
						if alone {
							return tx.RecordAuditAloneForTest(ctx, &ev)
						}
						return tx.RecordAudit(ctx, &ev)
					})
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.Run("alone", func(b *testing.B) { write(b, true) })
			b.Run("none", func(b *testing.B) { write(b, false) })
			endpoint(other)
			b.Run("elsewhere", func(b *testing.B) { write(b, false) })
			endpoint(account)
			b.Run("subscribed", func(b *testing.B) { write(b, false) })
		})
	}
}

// BenchmarkRecordBurst writes events 100 to a transaction, as the webhook
// burst of docs/performance.md does, to an account with an endpoint
// subscribed to them (each event writes its delivery), and reports the
// process's CPU time per event (cpu-µs/event): on SQLite the database's
// work is in it, and it is what the writes take from the checks that run
// meanwhile.
func BenchmarkRecordBurst(b *testing.B) {
	ctx := context.Background()
	for _, e := range storetest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			db, _ := storetest.OpenConfig(b, e)
			account := equipe.NewID()
			now := time.Now()
			err := db.Write(ctx, func(tx *store.Tx) error {
				if err := tx.CreateAccount(ctx, &equipe.Account{ID: account, Name: "Bench", Locale: "en", InvitationTTLHours: 168, CreatedAt: now}); err != nil {
					return err
				}
				return tx.CreateWebhookEndpoint(ctx, &equipe.WebhookEndpoint{ID: equipe.NewID(), AccountID: &account,
					URL: "https://hooks.example.com", Types: []string{"*"}, Enabled: true,
					Secret: []byte("sealed"), KeyID: "k", CreatedAt: now, UpdatedAt: now})
			})
			if err != nil {
				b.Fatal(err)
			}
			const perTx = 100
			cpu0 := testenv.ProcessCPU()
			for b.Loop() {
				err := db.Write(ctx, func(tx *store.Tx) error {
					for range perTx {
						ev := equipe.AuditEvent{ID: equipe.NewID(), AccountID: &account, ActorType: "system", Action: "contact.created",
							TargetType: "contact", TargetID: equipe.NewID().String(), After: `{"last_name":"Burst","kinds":["billing"]}`, At: now}
						if err := tx.RecordAudit(ctx, &ev); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			if cpu := testenv.ProcessCPU() - cpu0; cpu > 0 {
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*perTx), "cpu-µs/event")
			}
		})
	}
}
