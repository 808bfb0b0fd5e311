package store_test

import (
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// BenchmarkStreamEvents_AnAccountReplaysAmongPeoplesOwnEvents reads an
// account key's stream from its start (the account's own events, its
// clients' and its members' own: a member disabled) on a log where people's
// own events (logins) outnumber the account's 10,000 to one: what it costs
// depends on the events it selects, not on the others.
func BenchmarkStreamEvents_AnAccountReplaysAmongPeoplesOwnEvents(b *testing.B) {
	for _, engine := range storetest.Engines() {
		b.Run(string(engine), func(b *testing.B) {
			db := storetest.Open(b, engine)
			a := &equipe.Account{ID: equipe.NewID(), Name: "A", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0}
			u := &equipe.User{ID: equipe.NewID(), Email: "ana@example.com", EmailKey: "ana@example.com", FirstName: "Ana",
				LastName: "Test", Locale: "fr", CreatedAt: t0}
			write(b, db, func(tx *store.Tx) error {
				if err := tx.CreateAccount(ctx, a); err != nil {
					return err
				}
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
				return tx.CreateMember(ctx, &equipe.Member{AccountID: a.ID, UserID: u.ID, Role: "guest",
					Status: equipe.MemberActive, CreatedAt: t0})
			})
			const rounds, own = 20, 10000
			for range rounds {
				write(b, db, func(tx *store.Tx) error {
					for i := range own {
						action := "user.logged_in"
						if i == own/2 {
							action = "user.disabled"
						}
						if err := tx.RecordAudit(ctx, &equipe.AuditEvent{ID: equipe.NewID(), Action: action,
							TargetType: "user", TargetID: u.ID.String(), At: t0}); err != nil {
							return err
						}
					}
					_, err := recordEvent(ctx, tx, &a.ID, "test.a")
					return err
				})
			}
			if engine == store.Postgres {
				// The statistics autovacuum would have gathered by now.
				var none any
				_ = db.QueryRowForTest(ctx, "ANALYZE audit_events", &none)
			}
			f := store.StreamFilter{Account: &a.ID, Clients: true, Members: true}
			b.ResetTimer()
			for range b.N {
				got, err := db.StreamEvents(ctx, f)
				if err != nil {
					b.Fatal(err)
				}
				if len(got) != 2*rounds {
					b.Fatalf("%d events, want %d", len(got), 2*rounds)
				}
			}
		})
	}
}
