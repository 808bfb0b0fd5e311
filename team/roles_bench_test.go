package team_test

import (
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/internal/servicetest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// BenchmarkUpdateRole_ByAManager changes a custom role held by every member
// of an account of 5,000, as a manager who must outrank its holders: the
// rank check reads the few holders with overrides, not every member.
func BenchmarkUpdateRole_ByAManager(b *testing.B) {
	const n = 5000
	for _, e := range storetest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			db, cfg := storetest.OpenConfig(b, e)
			st := servicetest.New(b, db, identity.Params{})
			account := equipe.NewID()
			admin := equipe.User{ID: equipe.NewID(), Email: "admin@bench.example", EmailKey: "admin@bench.example",
				FirstName: "Ada", LastName: "Admin", Locale: "fr", CreatedAt: time.Now()}
			mia := equipe.User{ID: equipe.NewID(), Email: "mia@bench.example", EmailKey: "mia@bench.example",
				FirstName: "Mia", LastName: "Manager", Locale: "fr", CreatedAt: time.Now()}
			err := db.Write(ctx, func(tx *store.Tx) error {
				if err := tx.CreateAccount(ctx, &equipe.Account{ID: account, Name: "Bench", Locale: "fr", InvitationTTLHours: 168, CreatedAt: time.Now()}); err != nil {
					return err
				}
				for _, u := range []*equipe.User{&admin, &mia} {
					if err := tx.CreateUser(ctx, u); err != nil {
						return err
					}
				}
				if err := tx.CreateMember(ctx, &equipe.Member{AccountID: account, UserID: admin.ID, Role: "admin",
					Status: equipe.MemberActive, CreatedAt: time.Now(), JoinedAt: time.Now()}); err != nil {
					return err
				}
				return tx.CreateMember(ctx, &equipe.Member{AccountID: account, UserID: mia.ID, Role: "manager",
					Overrides: []equipe.Override{{Permission: "roles.manage", Allow: true}},
					Status:    equipe.MemberActive, CreatedAt: time.Now(), JoinedAt: time.Now()})
			})
			if err != nil {
				b.Fatal(err)
			}
			y := team.RoleInput{Key: "y", LabelEN: "Y", Grants: []equipe.Grant{{Permission: "records.view", Scope: "owned"}}}
			if _, err := st.Team.CreateRole(ctx, team.Actor{User: &admin}, account, y); err != nil {
				b.Fatal(err)
			}
			storetest.SeedMembers(b, cfg, account, n)
			if _, err := storetest.Raw(b, cfg).ExecContext(ctx, `UPDATE members SET role = 'y'
				WHERE account_id = '`+account.String()+`' AND user_id NOT IN ('`+admin.ID.String()+`', '`+mia.ID.String()+`')`); err != nil {
				b.Fatal(err)
			}
			actor := team.Actor{User: &mia}
			i := 0
			for b.Loop() {
				in := y
				in.LabelEN = []string{"Y1", "Y2"}[i%2]
				i++
				if _, err := st.Team.UpdateRole(ctx, actor, account, "y", in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
