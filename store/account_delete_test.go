package store_test

import (
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// Deleting an account ends the OpenID Connect grants that signed people in
// to it, their client told by a back-channel logout notice, and leaves the
// grants of the same person in another account as they were.
func TestDeleteAccount_EndsTheGrantsSignedInToItAlone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := &equipe.OIDCClient{ID: equipe.NewID(), Name: "Vendor app", RedirectURIs: []string{"https://app.example.com/cb"},
			BackchannelLogoutURI: "https://app.example.com/logout", Scopes: []string{"openid"}, CreatedAt: t0, UpdatedAt: t0}
		u := newUser("ada@example.com")
		gone := equipe.Account{ID: equipe.NewID(), Name: "Gone", Locale: "en", InvitationTTLHours: 168, CreatedAt: t0}
		kept := equipe.Account{ID: equipe.NewID(), Name: "Kept", Locale: "en", InvitationTTLHours: 168, CreatedAt: t0}
		write(t, db, func(tx *store.Tx) error {
			if err := tx.CreateOIDCClient(ctx, c); err != nil {
				return err
			}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			for i, a := range []*equipe.Account{&gone, &kept} {
				if err := tx.CreateAccount(ctx, a); err != nil {
					return err
				}
				if err := tx.CreateGrant(ctx, &store.Grant{ID: []string{"in-gone", "in-kept"}[i], ClientID: c.ID, UserID: u.ID,
					AccountID: &a.ID, Scopes: []string{"openid"}, AuthTime: t0, CreatedAt: t0}); err != nil {
					return err
				}
			}
			return nil
		})
		write(t, db, func(tx *store.Tx) error { return tx.DeleteAccount(ctx, gone.ID, t0) })

		if g, err := db.Grant(ctx, "in-gone"); err != nil || g.EndedAt.IsZero() {
			t.Errorf("the deleted account's grant: %+v %v, want it ended", g, err)
		}
		if g, err := db.Grant(ctx, "in-kept"); err != nil || !g.EndedAt.IsZero() {
			t.Errorf("the other account's grant: %+v %v, want it going on", g, err)
		}
		if st, err := db.LogoutStatus(ctx, c.ID, u.ID); err != nil || len(st) != 1 || st[0] != "queued" {
			t.Errorf("logout notices: %v %v, want one queued", st, err)
		}
		if _, err := db.AccountByID(ctx, gone.ID); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Errorf("the account after its deletion: %v", err)
		}
		var err error
		write(t, db, func(tx *store.Tx) error {
			err = tx.DeleteAccount(ctx, gone.ID, t0)
			return nil
		})
		if equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Errorf("deleting it again: %v", err)
		}
	})
}
