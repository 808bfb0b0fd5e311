package store_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// TestUserForLogin_ReadsThePersonInTheBatchAndNoneIsNoError: a login reads
// the person with the batch that counts its attempt. The read returns what
// the user's own reads return, with the browser's standing and the second
// factors; an address nobody has reads as none found, and the batch's
// writes commit all the same.
func TestUserForLogin_ReadsThePersonInTheBatchAndNoneIsNoError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		now := time.Now().UTC().Truncate(time.Microsecond)
		u := newUser("ada@example.test")
		u.PasswordHash, u.NotificationEmail, u.InstanceAdmin, u.TimeZone = "$argon2id$…", "notes@example.test", true, "Europe/Paris"
		u.EmailVerifiedAt, u.LastLoginAt = now.Add(-time.Hour), now.Add(-time.Minute)
		browser := []byte("0123456789abcdef0123456789abcdef")
		write(t, db, func(tx *store.Tx) error {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			if err := tx.RememberBrowser(ctx, u.ID, browser, now.Add(-2*time.Hour)); err != nil {
				return err
			}
			if err := tx.StartTOTPFactor(ctx, &store.TOTPFactor{UserID: u.ID, Secret: []byte("sealed"), KeyID: "k1", CreatedAt: now}); err != nil {
				return err
			}
			if err := tx.AcceptTOTPStep(ctx, u.ID, []byte("sealed"), 1, now, nil, ""); err != nil {
				return err
			}
			return tx.ReplaceRecoveryCodes(ctx, u.ID, [][]byte{[]byte("one"), []byte("two")}, now)
		})
		want, err := db.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		limit := store.Progressive{Free: 5, Delays: []time.Duration{time.Minute}}
		read := func(key string, hash []byte) store.LoginRead {
			t.Helper()
			var r store.LoginRead
			b := db.NewBatch()
			b.Relaxed()
			if _, err := b.Attempt(ctx, "login:"+key, now, limit); err != nil {
				t.Fatal(err)
			}
			if err := b.UserForLogin(ctx, key, hash, &r); err != nil {
				t.Fatal(err)
			}
			if err := db.RunBatch(ctx, b); err != nil {
				t.Fatalf("batch reading %s: %v", key, err)
			}
			return r
		}

		r := read(u.EmailKey, browser)
		if !r.Found || !reflect.DeepEqual(r.User, want) {
			t.Errorf("the person read for a login:\n%+v\nwant\n%+v", r.User, want)
		}
		if !r.Browser.Known() || !r.Browser.SeenAt.Equal(now.Add(-2*time.Hour)) || !r.Browser.Any || !r.Browser.Alerts {
			t.Errorf("the browser's standing: %+v", r.Browser)
		}
		if r.Factors != (store.FactorSummary{TOTP: true, RecoveryCodes: 2}) {
			t.Errorf("the second factors: %+v", r.Factors)
		}
		if f := r.TOTP; string(f.Secret) != "sealed" || f.KeyID != "k1" || !f.CreatedAt.Equal(now) || !f.ConfirmedAt.Equal(now) ||
			f.LastStep != 1 || f.UserID != (equipe.ID{}) {
			t.Errorf("the authenticator app: %+v", f)
		}
		if r := read(u.EmailKey, nil); r.Browser.Known() || !r.Browser.Any {
			t.Errorf("a browser without the cookie: %+v", r.Browser)
		}

		r = read("nobody@example.test", browser)
		if r.Found || r.User.ID != (equipe.ID{}) || r.User.PasswordHash != "" || r.Browser != (store.BrowserStanding{}) ||
			r.Factors != (store.FactorSummary{}) || r.TOTP.Secret != nil || !r.TOTP.CreatedAt.IsZero() {
			t.Errorf("an address nobody has: %+v", r)
		}
		// The attempt of the batch that found nobody was counted.
		var count int
		if err := db.QueryRowForTest(ctx, `SELECT count FROM throttles WHERE key = 'login:nobody@example.test'`, &count); err != nil || count != 1 {
			t.Errorf("the batch that found nobody counted %d attempts (%v), want 1", count, err)
		}
	})
}
