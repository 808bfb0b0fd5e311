package store_test

import (
	"fmt"
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
		c := store.LoginChallenge{ID: equipe.NewID(), UserID: u.ID,
			CreatedAt: now, ExpiresAt: now.Add(5 * time.Minute)}
		write(t, db, func(tx *store.Tx) error {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			return tx.CreateLoginChallenge(ctx, &c)
		})
		use := func(key string) error {
			b := db.NewBatch()
			b.UseLoginChallenge(ctx, &c, "totp", now.Add(time.Second))
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
		got, err := db.LoginChallenge(ctx, c.ID)
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

// TestAttemptAllowed_ABlockedKeyUndoesTheBatchAndCountsNothing: the attempt
// of a code known to be right commits with its success only while its
// throttle lets it through; SecondStep and BlockedUntil read the block
// without counting.
func TestAttemptAllowed_ABlockedKeyUndoesTheBatchAndCountsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		u := newUser("ada@example.test")
		now := time.Now().UTC().Truncate(time.Microsecond)
		c := store.LoginChallenge{ID: equipe.NewID(), UserID: u.ID,
			CreatedAt: now, ExpiresAt: now.Add(5 * time.Minute)}
		write(t, db, func(tx *store.Tx) error {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			return tx.CreateLoginChallenge(ctx, &c)
		})
		p := store.Progressive{Free: 1, Delays: []time.Duration{time.Minute}, Decay: time.Hour}
		userKey := "code:user:" + u.ID.String()
		keys := store.SecondStepKeys{Challenge: c.ID, User: u.ID, UserThrottle: "code:user:", OtherThrottle: "code:ip:x"}
		blocked := func(at time.Time) bool {
			st, err := db.SecondStep(ctx, keys)
			if err != nil {
				t.Fatal(err)
			}
			until, err := db.BlockedUntil(ctx, "code:ip:x", userKey)
			if err != nil || !until.Equal(st.BlockedUntil) {
				t.Fatalf("BlockedUntil %v, SecondStep %v (%v)", until, st.BlockedUntil, err)
			}
			return at.Before(until)
		}
		use := func(at time.Time) error {
			b := db.NewBatch()
			b.AttemptAllowed(ctx, userKey, at, p)
			b.UseLoginChallenge(ctx, &c, "totp", at)
			return db.RunBatch(ctx, b)
		}
		if blocked(now) {
			t.Fatal("blocked before any attempt")
		}
		// Another attempt blocks the key for a minute (its first is free,
		// the second blocks).
		for range 2 {
			write(t, db, func(tx *store.Tx) error { _, err := tx.Attempt(ctx, userKey, now, p); return err })
		}
		if !blocked(now) || blocked(now.Add(time.Minute)) {
			t.Fatal("the block is not read as a minute long")
		}
		if err := use(now.Add(time.Second)); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("a right attempt while blocked: %v, want ENOTFOUND", err)
		}
		got, err := db.LoginChallenge(ctx, c.ID)
		if err != nil || !got.UsedAt.IsZero() {
			t.Fatalf("the refused batch used the challenge: %+v %v", got, err)
		}
		// Once the block is over, the attempt is counted and its batch commits.
		if err := use(now.Add(time.Minute)); err != nil {
			t.Fatalf("after the block: %v", err)
		}
		if got, _ := db.LoginChallenge(ctx, c.ID); got.UsedAt.IsZero() {
			t.Fatal("the challenge is unused after the allowed batch")
		}
		if !blocked(now.Add(time.Minute)) {
			t.Fatal("the third attempt was not counted: the key is not blocked after it")
		}
		// In a transaction, the same.
		err = db.Write(ctx, func(tx *store.Tx) error { return tx.AttemptAllowed(ctx, userKey, now.Add(time.Minute), p) })
		if equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("in a transaction while blocked: %v", err)
		}
	})
}

// TestAttemptRefundedAndCleared_DoWhatTheTwoStatementsTheyReplaceDid: a
// right code's attempt given back at once (AttemptRefunded) leaves its key
// as AttemptAllowed then Refund did, and one that clears its key
// (AttemptCleared) leaves it counting no attempt, as AttemptAllowed then
// DeleteThrottle did; a blocked key undoes the batch with either. Each
// history of attempts is played on two keys, one per way, and the rows
// compared.
func TestAttemptRefundedAndCleared_DoWhatTheTwoStatementsTheyReplaceDid(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		now := time.Now().UTC().Truncate(time.Second)
		limits := map[string]store.Progressive{
			"free":   {Free: 3, Delays: []time.Duration{time.Second, 4 * time.Second}, Decay: time.Hour},
			"capped": {Free: 2, Delays: []time.Duration{time.Second}, Decay: time.Hour, Cap: 5, CapDelay: time.Minute},
			"none":   {Free: 0, Delays: []time.Duration{time.Second}, Decay: time.Hour},
		}
		row := func(key string) string {
			var count, start, blocked, last int64
			err := db.QueryRowForTest(ctx, `SELECT count, window_start, blocked_until, last_at FROM throttles WHERE key = '`+key+`'`,
				&count, &start, &blocked, &last)
			if equipe.ErrorCode(err) == equipe.ENOTFOUND {
				return "none"
			} else if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("count %d, window %d, blocked %d, last %d", count, start, blocked, last)
		}
		run := func(fn func(b *store.Batch)) error {
			b := db.NewBatch()
			fn(b)
			return db.RunBatch(ctx, b)
		}
		refused := 0
		for name, p := range limits {
			// Attempts before the right one, and how long after the last
			// of them the right one comes.
			for _, before := range []int{0, 1, 2, 3, 4, 6} {
				for _, after := range []time.Duration{0, time.Minute, 2 * time.Hour} {
					id := fmt.Sprintf("%s-%d-%v", name, before, after)
					a, b, c, d := "a-"+id, "b-"+id, "c-"+id, "d-"+id
					at := now
					for range before {
						for _, k := range []string{a, b, c, d} {
							write(t, db, func(tx *store.Tx) error { _, err := tx.Attempt(ctx, k, at, p); return err })
						}
						at = at.Add(time.Millisecond)
					}
					at = at.Add(after)
					errOld := run(func(bt *store.Batch) {
						bt.AttemptAllowed(ctx, a, at, p)
						bt.Refund(ctx, a, p.Free)
					})
					errNew := run(func(bt *store.Batch) { bt.AttemptRefunded(ctx, b, at, p) })
					if equipe.ErrorCode(errOld) != equipe.ErrorCode(errNew) || row(a) != row(b) {
						t.Errorf("%s refunded: before %q (%v), now %q (%v)", id, row(a), errOld, row(b), errNew)
					}
					errOld = run(func(bt *store.Batch) {
						bt.AttemptAllowed(ctx, c, at, p)
						bt.DeleteThrottle(ctx, c)
					})
					errNew = run(func(bt *store.Batch) { bt.AttemptCleared(ctx, d, at) })
					if equipe.ErrorCode(errOld) != equipe.ErrorCode(errNew) {
						t.Errorf("%s cleared: before %v, now %v", id, errOld, errNew)
					}
					// The next attempt finds both keys alike.
					next := at.Add(time.Millisecond)
					var got [2]string
					for i, k := range []string{c, d} {
						write(t, db, func(tx *store.Tx) error {
							r, err := tx.Attempt(ctx, k, next, p)
							got[i] = fmt.Sprint(r.Allowed(), r.BlockedUntil().UnixMicro())
							return err
						})
					}
					if got[0] != got[1] || row(c) != row(d) {
						t.Errorf("%s cleared, then an attempt: before %s %q, now %s %q", id, got[0], row(c), got[1], row(d))
					}
					if errOld != nil && equipe.ErrorCode(errOld) != equipe.ENOTFOUND {
						t.Fatal(errOld)
					}
					if equipe.ErrorCode(errNew) == equipe.ENOTFOUND {
						refused++
					}
				}
			}
		}
		if refused == 0 {
			t.Error("no history blocked the right attempt")
		}
	})
}

// expiredChallenge returns a challenge of the user that expired at t0,
// never recorded: using it at t0 changes no row.
func expiredChallenge(user equipe.ID) *store.LoginChallenge {
	return &store.LoginChallenge{ID: equipe.NewID(), UserID: user,
		CreatedAt: t0.Add(-time.Hour), ExpiresAt: t0}
}

// TestUseLoginChallenge_RecordsTheUseWhetherOrNotTheChallengeWasRecorded:
// the second step may come before the password step's record of its
// challenge has committed. Its use records the challenge then, and the late
// record changes nothing; a challenge is used once either way, and neither
// an expired nor a revoked one can be.
func TestUseLoginChallenge_RecordsTheUseWhetherOrNotTheChallengeWasRecorded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		u := newUser("ada@example.test")
		write(t, db, func(tx *store.Tx) error { return tx.CreateUser(ctx, u) })
		challenge := func(name string) store.LoginChallenge {
			return store.LoginChallenge{ID: equipe.NewID(), UserID: u.ID,
				CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute), IP: "203.0.113.7", UserAgent: "test"}
		}
		use := func(c store.LoginChallenge, at time.Time) error {
			b := db.NewBatch()
			b.UseLoginChallenge(ctx, &c, "totp", at)
			return db.RunBatch(ctx, b)
		}
		record := func(c store.LoginChallenge) {
			b := db.NewBatch()
			b.Relaxed()
			if err := b.CreateLoginChallenge(ctx, &c); err != nil {
				t.Fatal(err)
			}
			if err := db.RunBatch(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		used := func(c store.LoginChallenge) string {
			got, err := db.LoginChallenge(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.UsedAt.IsZero() {
				return ""
			}
			return got.Method
		}

		// Used before its record: the use records it, the late record
		// changes nothing, a second use fails.
		early := challenge("early")
		if err := use(early, t0.Add(time.Second)); err != nil {
			t.Fatalf("a use before the record: %v", err)
		}
		record(early)
		if m := used(early); m != "totp" {
			t.Errorf("after the late record the challenge reads used by %q, want totp", m)
		}
		if err := use(early, t0.Add(2*time.Second)); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Errorf("a second use: %v, want ENOTFOUND", err)
		}

		// Recorded first, as usual: one use.
		usual := challenge("usual")
		record(usual)
		if err := use(usual, t0.Add(time.Second)); err != nil {
			t.Fatalf("a use after the record: %v", err)
		}
		if err := use(usual, t0.Add(time.Second)); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Errorf("a second use: %v, want ENOTFOUND", err)
		}

		// Expired, recorded or not: no use, and nothing recorded by it.
		expired := challenge("expired")
		if err := use(expired, expired.ExpiresAt); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Errorf("an expired challenge, unrecorded: %v, want ENOTFOUND", err)
		}
		if _, err := db.LoginChallenge(ctx, expired.ID); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Errorf("the refused use recorded the challenge: %v", err)
		}
		record(expired)
		if err := use(expired, expired.ExpiresAt.Add(time.Second)); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Errorf("an expired challenge, recorded: %v, want ENOTFOUND", err)
		}

		// Revoked (the person's second factors removed): no use.
		revoked := challenge("revoked")
		record(revoked)
		write(t, db, func(tx *store.Tx) error { return tx.RevokeLoginChallenges(ctx, u.ID, t0) })
		if err := use(revoked, t0.Add(time.Second)); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Errorf("a revoked challenge: %v, want ENOTFOUND", err)
		}
		if m := used(revoked); m != "revoked" {
			t.Errorf("the revoked challenge reads used by %q", m)
		}
		if m := used(usual); m != "totp" {
			t.Errorf("revoking changed the used challenge: %q", m)
		}
	})
}

// TestAcceptTOTPStep_OnceAndOnlyIntoTheSeedTheCodeWasCheckedAgainst: a
// step is accepted once, and only while the seed the code was checked
// against is the one stored: a code of a seed replaced meanwhile (the app
// enrolled again, or the seed sealed again) changes nothing, in a batch or
// a transaction.
func TestAcceptTOTPStep_OnceAndOnlyIntoTheSeedTheCodeWasCheckedAgainst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		u := newUser("ada@example.test")
		now := time.Now().UTC().Truncate(time.Microsecond)
		write(t, db, func(tx *store.Tx) error {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			return tx.StartTOTPFactor(ctx, &store.TOTPFactor{UserID: u.ID, Secret: []byte("first seed"), KeyID: "k1", CreatedAt: now})
		})
		accept := func(checked string, step int64, resealed []byte) error {
			b := db.NewBatch()
			b.AcceptTOTPStep(ctx, u.ID, []byte(checked), step, now, resealed, "k2")
			return db.RunBatch(ctx, b)
		}
		stored := func() store.TOTPFactor {
			t.Helper()
			f, err := db.TOTPFactor(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		b := db.NewBatch()
		b.AcceptTOTPStep(ctx, u.ID, nil, 0, now, nil, "")
		if err := db.RunBatch(ctx, b); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("step 0 of no seed (a wrong code's write): %v, want ENOTFOUND", err)
		}
		if err := accept("another seed", 10, nil); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("a code checked against another seed: %v, want ENOTFOUND", err)
		}
		if f := stored(); f.LastStep != 0 || !f.ConfirmedAt.IsZero() {
			t.Fatalf("a code of another seed changed the app: %+v", f)
		}
		if err := accept("first seed", 10, []byte("first seed again")); err != nil {
			t.Fatalf("a code of the stored seed, sealed again: %v", err)
		}
		if f := stored(); f.LastStep != 10 || !f.ConfirmedAt.Equal(now) || string(f.Secret) != "first seed again" || f.KeyID != "k2" {
			t.Fatalf("the app after its code: %+v", f)
		}
		if err := accept("first seed again", 10, nil); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("the same step again: %v, want ENOTFOUND", err)
		}
		if err := accept("first seed", 11, nil); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("a code checked against the seed before it was sealed again: %v, want ENOTFOUND", err)
		}
		err := db.Write(ctx, func(tx *store.Tx) error { return tx.AcceptTOTPStep(ctx, u.ID, []byte("first seed"), 12, now, nil, "") })
		if equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("in a transaction, a code of a replaced seed: %v, want ENOTFOUND", err)
		}
		if err := accept("first seed again", 11, nil); err != nil || stored().LastStep != 11 {
			t.Fatalf("the next step of the stored seed: %v, last step %d", err, stored().LastStep)
		}
	})
}

// TestSetLastLoginIfActive_RefusesAPersonDisabled: a login finished from
// what was read before it commits only while its person is not disabled.
func TestSetLastLoginIfActive_RefusesAPersonDisabled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		u := newUser("ada@example.test")
		now := time.Now().UTC().Truncate(time.Microsecond)
		write(t, db, func(tx *store.Tx) error { return tx.CreateUser(ctx, u) })
		login := func(at time.Time) error {
			b := db.NewBatch()
			b.SetLastLoginIfActive(ctx, u.ID, at)
			return db.RunBatch(ctx, b)
		}
		if err := login(now); err != nil {
			t.Fatalf("an active person: %v", err)
		}
		write(t, db, func(tx *store.Tx) error { return tx.SetUserDisabled(ctx, u.ID, now.Add(time.Second)) })
		if err := login(now.Add(2 * time.Second)); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("a disabled person: %v, want ENOTFOUND", err)
		}
		if got, err := db.UserByID(ctx, u.ID); err != nil || !got.LastLoginAt.Equal(now) {
			t.Fatalf("a disabled person's last login: %v %v, want %v", got.LastLoginAt, err, now)
		}
		b := db.NewBatch()
		b.SetLastLoginIfActive(ctx, equipe.NewID(), now)
		if err := db.RunBatch(ctx, b); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("a person who does not exist: %v, want ENOTFOUND", err)
		}
	})
}
