package store_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

var ctx = context.Background()

// t0 is a fixed instant: stored times must come back to the microsecond.
var t0 = time.Date(2026, 11, 23, 9, 30, 0, 123456000, time.UTC)

func newUser(email string) *equipe.User {
	return &equipe.User{ID: equipe.NewID(), Email: email, EmailKey: email, FirstName: "Ada", LastName: "Lovelace",
		Locale: "fr", CreatedAt: t0}
}

func write(t testing.TB, db *store.DB, fn func(tx *store.Tx) error) {
	t.Helper()
	if err := db.Write(ctx, fn); err != nil {
		t.Fatal(err)
	}
}

func TestMigrations_BothEnginesDefineTheSameVersions(t *testing.T) {
	lite, err := store.Migrations(store.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := store.Migrations(store.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) != len(pg) || len(lite) == 0 {
		t.Fatalf("sqlite has %d migrations, postgres %d", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].Version != pg[i].Version || lite[i].Name != pg[i].Name {
			t.Errorf("migration %d: sqlite %04d_%s, postgres %04d_%s", i, lite[i].Version, lite[i].Name, pg[i].Version, pg[i].Name)
		}
	}
}

func TestMigrate_IsIdempotentAndRefusesANewerSchema(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		applied, err := db.Migrate(ctx)
		if err != nil || len(applied) != 0 {
			t.Fatalf("second migrate: applied %v, err %v", applied, err)
		}
		ms, _ := store.Migrations(db.Engine())
		v, err := db.SchemaVersion(ctx)
		if err != nil || v != len(ms) {
			t.Fatalf("schema version %d (%v), want %d", v, err, len(ms))
		}
		write(t, db, func(tx *store.Tx) error {
			return tx.ExecForTest(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)")
		})
		if _, err := db.Migrate(ctx); err == nil {
			t.Fatal("migrate accepted a schema newer than the binary")
		}
	})
}

func TestUsers_EmailKeyIsUniqueAndTimesRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		u := newUser("ada@example.com")
		u.EmailVerifiedAt = t0.Add(time.Minute)
		u.PasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"
		write(t, db, func(tx *store.Tx) error { return tx.CreateUser(ctx, u) })

		got, err := db.UserByEmailKey(ctx, "ada@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != u.ID || !got.CreatedAt.Equal(t0) || !got.EmailVerifiedAt.Equal(u.EmailVerifiedAt) ||
			got.PasswordHash != u.PasswordHash || !got.DisabledAt.IsZero() || got.InstanceAdmin {
			t.Fatalf("round trip: got %+v, want %+v", got, u)
		}

		err = db.Write(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, newUser("ada@example.com")) })
		if e := equipe.AsError(err); e.Code != equipe.ECONFLICT || e.Key != "email.taken" {
			t.Fatalf("duplicate email key: %v", err)
		}
		if n, _ := db.CountUsers(ctx); n != 1 {
			t.Fatalf("%d users after a refused duplicate, want 1", n)
		}
		if _, err := db.UserByID(ctx, equipe.NewID()); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("unknown user: %v", err)
		}
	})
}

func TestWrite_RollsBackEverythingOnError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		boom := fmt.Errorf("boom")
		err := db.Write(ctx, func(tx *store.Tx) error {
			if err := tx.CreateUser(ctx, newUser("rollback@example.com")); err != nil {
				return err
			}
			return boom
		})
		if err != boom {
			t.Fatalf("Write returned %v, want the callback's error", err)
		}
		if n, _ := db.CountUsers(ctx); n != 0 {
			t.Fatalf("%d users after a rolled-back write", n)
		}
	})
}

func TestAccounts_MembersResourcesAndTenantBoundaries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		u := newUser("owner@example.com")
		a := &equipe.Account{ID: equipe.NewID(), Name: "Boulangerie", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0}
		b := &equipe.Account{ID: equipe.NewID(), Name: "Atelier", Locale: "en", InvitationTTLHours: 24, CreatedAt: t0, ParentID: &a.ID}
		ra := &equipe.Resource{ID: equipe.NewID(), AccountID: a.ID, Type: "location", Name: "Paris", CreatedAt: t0}
		rb := &equipe.Resource{ID: equipe.NewID(), AccountID: b.ID, Type: "location", Name: "Lyon", CreatedAt: t0}
		write(t, db, func(tx *store.Tx) error {
			for _, f := range []func() error{
				func() error { return tx.CreateUser(ctx, u) },
				func() error { return tx.CreateAccount(ctx, a) },
				func() error { return tx.CreateAccount(ctx, b) },
				func() error { return tx.CreateResource(ctx, ra) },
				func() error { return tx.CreateResource(ctx, rb) },
				func() error {
					return tx.CreateMember(ctx, &equipe.Member{AccountID: a.ID, UserID: u.ID, Role: "admin",
						Status: equipe.MemberActive, JoinedAt: t0, CreatedAt: t0})
				},
				func() error { return tx.AssignResource(ctx, a.ID, u.ID, ra.ID) },
			} {
				if err := f(); err != nil {
					return err
				}
			}
			return nil
		})
		// A resource of another account cannot be assigned.
		err := db.Write(ctx, func(tx *store.Tx) error { return tx.AssignResource(ctx, a.ID, u.ID, rb.ID) })
		if equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("assigning another account's resource: %v", err)
		}
		ids, err := db.MemberResources(ctx, a.ID, u.ID)
		if err != nil || len(ids) != 1 || ids[0] != ra.ID {
			t.Fatalf("member resources %v, %v", ids, err)
		}
		err = db.Write(ctx, func(tx *store.Tx) error {
			return tx.CreateMember(ctx, &equipe.Member{AccountID: a.ID, UserID: u.ID, Role: "guest", Status: equipe.MemberCreated, CreatedAt: t0})
		})
		if e := equipe.AsError(err); e.Code != equipe.ECONFLICT || e.Key != "error.member_exists" {
			t.Fatalf("second membership: %v", err)
		}
		got, err := db.AccountByID(ctx, b.ID)
		if err != nil || got.ParentID == nil || *got.ParentID != a.ID || got.InvitationTTLHours != 24 {
			t.Fatalf("account b: %+v %v", got, err)
		}
		list, err := db.AccountsOfUser(ctx, u.ID)
		if err != nil || len(list) != 1 || list[0].Account.Name != "Boulangerie" || list[0].Member.Role != "admin" {
			t.Fatalf("accounts of user: %+v %v", list, err)
		}
		rs, err := db.Resources(ctx, a.ID)
		if err != nil || len(rs) != 1 || rs[0].Name != "Paris" {
			t.Fatalf("resources of a: %+v %v", rs, err)
		}
	})
}

func TestTokens_SingleUseSupersededAndExpired(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		u := newUser("tok@example.com")
		write(t, db, func(tx *store.Tx) error { return tx.CreateUser(ctx, u) })
		mk := func(hash string, at time.Time) *equipe.Token {
			tok := &equipe.Token{ID: equipe.NewID(), Kind: equipe.TokenReset, Hash: []byte(hash), UserID: u.ID,
				CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
			write(t, db, func(tx *store.Tx) error { return tx.CreateToken(ctx, tok) })
			return tok
		}
		first := mk("first", t0)
		second := mk("second", t0.Add(time.Minute))
		got, err := db.TokenByHash(ctx, []byte("first"))
		if err != nil || got.SupersededAt.IsZero() || got.Usable(t0.Add(2*time.Minute)) {
			t.Fatalf("first token after a newer one: %+v %v", got, err)
		}
		use := func(tok *equipe.Token, at time.Time) error {
			return db.Write(ctx, func(tx *store.Tx) error { return tx.UseToken(ctx, tok.ID, at) })
		}
		if err := use(first, t0.Add(2*time.Minute)); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("superseded token used: %v", err)
		}
		if err := use(second, t0.Add(2*time.Hour)); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("expired token used: %v", err)
		}
		// Twenty concurrent uses: exactly one wins.
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if use(second, t0.Add(3*time.Minute)) == nil {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d concurrent uses succeeded, want 1", wins.Load())
		}
		third := mk("third", t0.Add(4*time.Minute))
		write(t, db, func(tx *store.Tx) error {
			return tx.SupersedeTokens(ctx, u.ID, equipe.TokenReset, t0.Add(5*time.Minute))
		})
		if err := use(third, t0.Add(6*time.Minute)); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("token used after SupersedeTokens: %v", err)
		}
		n, err := db.DeleteExpiredTokens(ctx, t0.Add(3*time.Hour))
		if err != nil || n != 3 {
			t.Fatalf("deleted %d expired tokens (%v), want 3", n, err)
		}
	})
}

func TestSessions_CreateFindTouchAndEnd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		u := newUser("sess@example.com")
		s1 := &equipe.Session{ID: equipe.NewID(), Hash: []byte("h1"), UserID: u.ID, CreatedAt: t0, LastSeenAt: t0,
			ExpiresAt: t0.Add(12 * time.Hour), IP: "127.0.0.1", UserAgent: "test"}
		s2 := &equipe.Session{ID: equipe.NewID(), Hash: []byte("h2"), UserID: u.ID, CreatedAt: t0, LastSeenAt: t0,
			ExpiresAt: t0.Add(time.Hour), IP: "127.0.0.1", UserAgent: "test"}
		write(t, db, func(tx *store.Tx) error {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			if err := tx.CreateSession(ctx, s1); err != nil {
				return err
			}
			return tx.CreateSession(ctx, s2)
		})
		if err := db.TouchSession(ctx, s1.ID, t0.Add(10*time.Minute)); err != nil {
			t.Fatal(err)
		}
		got, err := db.SessionByHash(ctx, []byte("h1"))
		if err != nil || got.ID != s1.ID || !got.LastSeenAt.Equal(t0.Add(10*time.Minute)) {
			t.Fatalf("session after touch: %+v %v", got, err)
		}
		n, err := db.DeleteStaleSessions(ctx, t0.Add(90*time.Minute), t0.Add(5*time.Minute))
		if err != nil || n != 1 {
			t.Fatalf("stale sessions deleted %d (%v), want 1 (s2, past its end)", n, err)
		}
		var ended int64
		write(t, db, func(tx *store.Tx) error {
			var err error
			ended, err = tx.DeleteUserSessions(ctx, u.ID)
			return err
		})
		if ended != 1 {
			t.Fatalf("ended %d sessions, want 1", ended)
		}
		if _, err := db.SessionByHash(ctx, []byte("h1")); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("ended session found: %v", err)
		}
	})
}

func TestPolicyAndConsent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if _, err := db.CurrentPolicy(ctx, t0); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("policy before any: %v", err)
		}
		u := newUser("consent@example.com")
		write(t, db, func(tx *store.Tx) error {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			if err := tx.PublishPolicy(ctx, &equipe.PrivacyPolicy{Version: "v1", URL: "https://example.com/p1", PublishedAt: t0}); err != nil {
				return err
			}
			if err := tx.PublishPolicy(ctx, &equipe.PrivacyPolicy{Version: "v2", Text: "text", PublishedAt: t0.Add(time.Hour)}); err != nil {
				return err
			}
			// Published now, effective in a day.
			return tx.PublishPolicy(ctx, &equipe.PrivacyPolicy{Version: "v3", Text: "later", PublishedAt: t0.Add(2 * time.Hour),
				EffectiveAt: t0.Add(26 * time.Hour)})
		})
		p, err := db.CurrentPolicy(ctx, t0.Add(3*time.Hour))
		if err != nil || p.Version != "v2" {
			t.Fatalf("current policy %+v %v", p, err)
		}
		if next, err := db.NextPolicyAt(ctx, t0.Add(3*time.Hour)); err != nil || !next.Equal(t0.Add(26*time.Hour)) {
			t.Fatalf("next policy at %v %v", next, err)
		}
		if p, err := db.CurrentPolicy(ctx, t0.Add(26*time.Hour)); err != nil || p.Version != "v3" {
			t.Fatalf("policy at its date %+v %v", p, err)
		}
		if p, err := db.CurrentPolicy(ctx, t0.Add(30*time.Minute)); err != nil || p.Version != "v1" || !p.EffectiveAt.Equal(t0) {
			t.Fatalf("policy before v2 %+v %v", p, err)
		}
		write(t, db, func(tx *store.Tx) error {
			return tx.RecordConsent(ctx, &equipe.Consent{UserID: u.ID, Version: "v1", AcceptedAt: t0, IP: "192.0.2.1"})
		})
		if _, err := db.Consent(ctx, u.ID, "v2"); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("consent to v2 before accepting it: %v", err)
		}
		c, err := db.Consent(ctx, u.ID, "v1")
		if err != nil || c.IP != "192.0.2.1" || !c.AcceptedAt.Equal(t0) {
			t.Fatalf("consent v1: %+v %v", c, err)
		}
	})
}

func TestAudit_AppendAndFilter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := &equipe.Account{ID: equipe.NewID(), Name: "A", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0}
		write(t, db, func(tx *store.Tx) error {
			if err := tx.CreateAccount(ctx, a); err != nil {
				return err
			}
			for i := range 5 {
				e := &equipe.AuditEvent{ID: equipe.NewID(), AccountID: &a.ID, Action: fmt.Sprintf("act.%d", i%2), At: t0}
				if err := tx.RecordAudit(ctx, e); err != nil {
					return err
				}
			}
			return tx.RecordAudit(ctx, &equipe.AuditEvent{ID: equipe.NewID(), Action: "act.0", At: t0})
		})
		all, err := db.AuditEvents(ctx, store.AuditFilter{AccountID: &a.ID})
		if err != nil || len(all) != 5 {
			t.Fatalf("events of a: %d %v", len(all), err)
		}
		for i := 1; i < len(all); i++ {
			if all[i].ID.String() >= all[i-1].ID.String() {
				t.Fatal("events are not newest first")
			}
		}
		page, _ := db.AuditEvents(ctx, store.AuditFilter{AccountID: &a.ID, Before: &all[1].ID, Action: "act.0"})
		if len(page) != 1 && len(page) != 2 {
			t.Fatalf("cursor page: %d events", len(page))
		}
		for _, e := range page {
			if e.Action != "act.0" || e.ID.String() >= all[1].ID.String() {
				t.Fatalf("cursor page holds %+v", e)
			}
		}
	})
}

func TestOutbox_ClaimsAreExclusiveAndLapse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		const n = 60
		write(t, db, func(tx *store.Tx) error {
			for i := range n {
				e := &equipe.Email{ID: equipe.NewID(), MessageID: fmt.Sprintf("m%d@test", i), To: "x@example.com",
					Template: "t", Locale: "fr", Subject: "s", Text: "secret link", HTML: "<p>secret link</p>", CreatedAt: t0}
				if err := tx.EnqueueEmail(ctx, e); err != nil {
					return err
				}
			}
			return nil
		})
		// Four workers claim concurrently: every email is claimed exactly once.
		var mu sync.Mutex
		seen := map[equipe.ID]int{}
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					es, err := db.ClaimEmails(ctx, t0.Add(time.Second), time.Minute, 7, fmt.Sprintf("w%d", w))
					if err != nil {
						t.Error(err)
						return
					}
					if len(es) == 0 {
						return
					}
					mu.Lock()
					for _, e := range es {
						seen[e.ID]++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(seen) != n {
			t.Fatalf("%d emails claimed, want %d", len(seen), n)
		}
		for id, c := range seen {
			if c != 1 {
				t.Fatalf("email %s claimed %d times", id, c)
			}
		}
		// Nothing is due again until the lease lapses.
		if es, _ := db.ClaimEmails(ctx, t0.Add(30*time.Second), time.Minute, 100, "late"); len(es) != 0 {
			t.Fatalf("%d emails claimed while leased", len(es))
		}
		es, err := db.ClaimEmails(ctx, t0.Add(2*time.Minute), time.Minute, 100, "rescuer")
		if err != nil || len(es) != n || es[0].Attempts != 2 {
			t.Fatalf("after the lease lapsed: %d claimed (%v), attempts %d", len(es), err, es[0].Attempts)
		}
		// A worker that lost its claim cannot mark the email.
		if err := db.MarkEmailSent(ctx, es[0].ID, "w0", t0); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.EmailByID(ctx, es[0].ID); got.Status != equipe.EmailProcessing {
			t.Fatalf("stale claim marked the email %s", got.Status)
		}
		if err := db.MarkEmailSent(ctx, es[0].ID, "rescuer", t0.Add(3*time.Minute)); err != nil {
			t.Fatal(err)
		}
		sent, _ := db.EmailByID(ctx, es[0].ID)
		if sent.Status != equipe.EmailSent || sent.Text != "" || sent.HTML != "" || sent.Subject != "s" {
			t.Fatalf("sent email: %+v", sent)
		}
		if err := db.MarkEmailFailed(ctx, es[1].ID, "rescuer", "421 try later", t0.Add(time.Hour), false); err != nil {
			t.Fatal(err)
		}
		if err := db.MarkEmailFailed(ctx, es[2].ID, "rescuer", "550 no such user", time.Time{}, true); err != nil {
			t.Fatal(err)
		}
		retry, _ := db.EmailByID(ctx, es[1].ID)
		gone, _ := db.EmailByID(ctx, es[2].ID)
		if retry.Status != equipe.EmailQueued || retry.LastError != "421 try later" || retry.Text == "" ||
			!retry.NextAttemptAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("retried email: %+v", retry)
		}
		if gone.Status != equipe.EmailAbandoned || gone.LastError != "550 no such user" || gone.Text != "" {
			t.Fatalf("abandoned email: %+v", gone)
		}
		counts, err := db.EmailCounts(ctx)
		if err != nil || counts[equipe.EmailSent] != 1 || counts[equipe.EmailAbandoned] != 1 || counts[equipe.EmailQueued] != 1 {
			t.Fatalf("counts %v %v", counts, err)
		}
	})
}

func TestThrottle_ConcurrentAttemptsAreCountedOneByOne(t *testing.T) {
	p := store.Progressive{Free: 5, Decay: time.Hour, Delays: []time.Duration{30 * time.Second, time.Minute}}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		// Fifty attempts at the same instant: exactly five pass.
		var passed atomic.Int32
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				err := db.Write(ctx, func(tx *store.Tx) error {
					r, err := tx.Attempt(ctx, "login:x", t0, p)
					if err == nil && r.Allowed() {
						passed.Add(1)
					}
					return err
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if passed.Load() != 5 {
			t.Fatalf("%d of 50 concurrent attempts passed, want 5", passed.Load())
		}
		attempt := func(at time.Time) (bool, time.Time) {
			var ok bool
			var until time.Time
			write(t, db, func(tx *store.Tx) error {
				r, err := tx.Attempt(ctx, "login:x", at, p)
				if err == nil {
					ok, until = r.Allowed(), r.BlockedUntil()
				}
				return err
			})
			return ok, until
		}
		if ok, until := attempt(t0.Add(10 * time.Second)); ok || !until.Equal(t0.Add(30*time.Second)) {
			t.Fatalf("during the block: %v until %v", ok, until)
		}
		// After the first block, one attempt passes and blocks for the next delay.
		if ok, _ := attempt(t0.Add(31 * time.Second)); !ok {
			t.Fatal("after the block: refused")
		}
		if ok, until := attempt(t0.Add(32 * time.Second)); ok || !until.Equal(t0.Add(91*time.Second)) {
			t.Fatalf("second block: %v until %v", ok, until)
		}
		// A refund below the free count lifts the block.
		write(t, db, func(tx *store.Tx) error {
			for range 3 {
				if err := tx.Refund(ctx, "login:x", p.Free); err != nil {
					return err
				}
			}
			return nil
		})
		if ok, _ := attempt(t0.Add(33 * time.Second)); !ok {
			t.Fatal("after refunds: refused")
		}
		// In a batch, the result is known once the batch has run.
		b := db.NewBatch()
		r, err := b.Attempt(ctx, "login:y", t0, p)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.RunBatch(ctx, b); err != nil || !r.Allowed() {
			t.Fatalf("batched attempt: %v %v", r.Allowed(), err)
		}
		// After the decay the count starts again.
		if ok, _ := attempt(t0.Add(3 * time.Hour)); !ok {
			t.Fatal("after the decay: refused")
		}
		if k, err := db.DeleteStaleThrottles(ctx, t0.Add(4*time.Hour)); err != nil || k != 2 {
			t.Fatalf("stale throttles deleted %d (%v)", k, err)
		}
	})
}

func TestThrottle_FixedWindow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		hit := func(at time.Time) (bool, time.Time) {
			var ok bool
			var until time.Time
			write(t, db, func(tx *store.Tx) error {
				var err error
				ok, until, err = tx.Hit(ctx, "reset:x", at, time.Hour, 3)
				return err
			})
			return ok, until
		}
		for i := range 3 {
			if ok, _ := hit(t0.Add(time.Duration(i) * time.Minute)); !ok {
				t.Fatalf("hit %d refused", i+1)
			}
		}
		if ok, until := hit(t0.Add(10 * time.Minute)); ok || !until.Equal(t0.Add(time.Hour)) {
			t.Fatalf("fourth hit: %v until %v", ok, until)
		}
		if ok, _ := hit(t0.Add(time.Hour)); !ok {
			t.Fatal("next window refused")
		}
	})
}

func TestHitWindows_SaysWhatHitWouldAnswerWithoutCounting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for i := range 3 {
			write(t, db, func(tx *store.Tx) error {
				_, _, err := tx.Hit(ctx, "invite:x", t0.Add(time.Duration(i)*time.Minute), time.Hour, 3)
				return err
			})
		}
		read := func(at time.Time) time.Time {
			ws, err := db.HitWindows(ctx, []string{"invite:x", "invite:never"})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := ws["invite:never"]; ok || len(ws) != 1 {
				t.Fatalf("windows %v", ws)
			}
			return ws["invite:x"].BlockedUntil(at, time.Hour, 3)
		}
		// Read twice: reading counts nothing.
		for range 2 {
			if until := read(t0.Add(10 * time.Minute)); !until.Equal(t0.Add(time.Hour)) {
				t.Fatalf("blocked until %v, want %v", until, t0.Add(time.Hour))
			}
		}
		if until := read(t0.Add(time.Hour)); !until.IsZero() {
			t.Fatalf("next window: blocked until %v", until)
		}
		if until := (store.HitWindow{Count: 2, Start: t0}).BlockedUntil(t0, time.Hour, 3); !until.IsZero() {
			t.Fatalf("under the limit: blocked until %v", until)
		}
		var ok bool
		write(t, db, func(tx *store.Tx) error {
			var err error
			ok, _, err = tx.Hit(ctx, "invite:x", t0.Add(10*time.Minute), time.Hour, 3)
			return err
		})
		if ok {
			t.Fatal("Hit lets through what HitWindows says is blocked")
		}
	})
}
