package identity_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/internal/servicetest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// BenchmarkDeleteUser_ManyEvents deletes a person who made n audit events
// (each naming their address), in a log that holds as many events of
// other people: the deletion rewrites the person's events one by one and
// looks through every event's states for their address. It reports the
// time of one deletion (docs/performance.md).
func BenchmarkDeleteUser_ManyEvents(b *testing.B) {
	for _, engine := range storetest.Engines() {
		for _, n := range []int{1000, 10000} {
			b.Run(fmt.Sprintf("%s/events=%d", engine, n), func(b *testing.B) {
				db := storetest.Open(b, engine)
				st := servicetest.New(b, db, identity.Params{})
				ctx := context.Background()
				admin, err := st.Identity.CreateAdmin(ctx, identity.NewAdmin{Email: "support@vendor.example",
					FirstName: "Vendor", LastName: "Support", Locale: "en", Password: goodPassword})
				if err != nil {
					b.Fatal(err)
				}
				for i := range b.N {
					b.StopTimer()
					u := manyEvents(b, db, fmt.Sprintf("p%d@example.com", i), n)
					b.StartTimer()
					if _, err := st.Identity.DeleteUser(ctx, admin, u.ID, "", equipe.Origin{IP: "127.0.0.1"}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// manyEvents writes a person with n events of theirs and n of someone
// else, straight to the store.
func manyEvents(b *testing.B, db *store.DB, email string, n int) equipe.User {
	b.Helper()
	ctx := context.Background()
	now := time.Now()
	u := equipe.User{ID: equipe.NewUserID(), Email: email, EmailKey: email, FirstName: "Ada", LastName: "Lovelace",
		Locale: "en", PasswordHash: "x", CreatedAt: now}
	other := equipe.NewUserID()
	err := db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		for i := range n {
			for _, actor := range []equipe.ID{u.ID, other} {
				e := equipe.AuditEvent{ID: equipe.NewID(), ActorType: "user", ActorID: &actor, Action: "user.email_verified",
					TargetType: "user", TargetID: actor.String(), After: `{"email":"` + fmt.Sprint(i) + email + `"}`,
					IP: "192.0.2.1", At: now}
				if actor == u.ID {
					e.After = `{"email":"` + email + `"}`
				}
				if err := tx.RecordAudit(ctx, &e); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return u
}
