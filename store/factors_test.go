package store_test

import (
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

func TestFactors_SummaryAndWhoHasOne(t *testing.T) {
	storetest.EachConfig(t, func(t *testing.T, db *store.DB, cfg store.Config) {
		app, key, codes, none := newUser("app@example.test"), newUser("key@example.test"), newUser("codes@example.test"), newUser("none@example.test")
		write(t, db, func(tx *store.Tx) error {
			for _, u := range []*equipe.User{app, key, codes, none} {
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
			}
			return nil
		})
		raw := storetest.Raw(t, cfg)
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO totp_factors (user_id, secret, key_id, created_at, confirmed_at) VALUES ($1, $2, 'k', 1, 2)`, []any{app.ID, []byte{1}}},
			{`INSERT INTO totp_factors (user_id, secret, key_id, created_at) VALUES ($1, $2, 'k', 1)`, []any{codes.ID, []byte{1}}},
			{`INSERT INTO recovery_codes (user_id, hash, created_at) VALUES ($1, $2, 1)`, []any{app.ID, []byte{1}}},
			{`INSERT INTO recovery_codes (user_id, hash, created_at, used_at) VALUES ($1, $2, 1, 2)`, []any{app.ID, []byte{2}}},
			{`INSERT INTO recovery_codes (user_id, hash, created_at) VALUES ($1, $2, 1)`, []any{codes.ID, []byte{1}}},
			{`INSERT INTO passkeys (id, user_id, credential_id, name, credential, created_at) VALUES ($1, $2, $3, 'Phone', '{}', 1)`, []any{equipe.NewID(), key.ID, []byte{9}}},
		} {
			if _, err := raw.ExecContext(ctx, q.sql, q.args...); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct {
			u    *equipe.User
			want store.FactorSummary
		}{
			{app, store.FactorSummary{TOTP: true, RecoveryCodes: 1}},
			{key, store.FactorSummary{Passkeys: 1}},
			{codes, store.FactorSummary{RecoveryCodes: 1}}, // an enrolment not confirmed is no factor
			{none, store.FactorSummary{}},
		} {
			got, err := db.Factors(ctx, c.u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want || got.Any() != (c.want.TOTP || c.want.Passkeys > 0) {
				t.Errorf("%s: %+v, want %+v", c.u.Email, got, c.want)
			}
		}
		has, err := db.UsersWithFactor(ctx, []equipe.ID{app.ID, key.ID, codes.ID, none.ID})
		if err != nil {
			t.Fatal(err)
		}
		if !has[app.ID] || !has[key.ID] || has[codes.ID] || has[none.ID] || len(has) != 2 {
			t.Errorf("UsersWithFactor = %v", has)
		}
	})
}
