package store_test

import (
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// TestBatch_AStatementThatMustChangeOneRowUndoesTheBatchWhenItChangesNone:
// a login challenge is used once, even in a batch: the second use changes
// nothing, and nothing else of its batch either.
func TestBatch_AStatementThatMustChangeOneRowUndoesTheBatchWhenItChangesNone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		u := newUser("ada@example.test")
		now := time.Now().UTC().Truncate(time.Microsecond)
		c := store.LoginChallenge{ID: equipe.NewID(), Hash: []byte("0123456789abcdef0123456789abcdef"), UserID: u.ID,
			CreatedAt: now, ExpiresAt: now.Add(5 * time.Minute)}
		write(t, db, func(tx *store.Tx) error {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			return tx.CreateLoginChallenge(ctx, &c)
		})
		use := func(key string) error {
			b := db.NewBatch()
			b.UseLoginChallenge(ctx, c.ID, "totp", now.Add(time.Second))
			if _, err := b.Attempt(ctx, key, now, store.Progressive{Free: 5, Delays: []time.Duration{time.Minute}}); err != nil {
				return err
			}
			return db.RunBatch(ctx, b)
		}
		if err := use("first"); err != nil {
			t.Fatalf("first use: %v", err)
		}
		if err := use("second"); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("second use: %v, want ENOTFOUND", err)
		}
		got, err := db.LoginChallengeByHash(ctx, c.Hash)
		if err != nil || got.Method != "totp" || got.UsedAt.IsZero() {
			t.Fatalf("challenge after use: %+v %v", got, err)
		}
		var n int
		if err := db.Write(ctx, func(tx *store.Tx) error {
			ok, _, err := tx.Hit(ctx, "second", now, time.Hour, 1)
			if !ok {
				n = 1
			}
			return err
		}); err != nil || n != 0 {
			t.Fatalf("the failed batch's other statement took effect (%v)", err)
		}
	})
}
