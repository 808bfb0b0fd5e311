package store_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// seedMembers fills an account with n members of varied names, statuses and
// roles, through batched inserts (the store's own path would take minutes).
func seedMembers(b *testing.B, db *store.DB, cfg store.Config, n int) equipe.ID {
	account := equipe.NewID()
	write(b, db, func(tx *store.Tx) error {
		return tx.CreateAccount(ctx, &equipe.Account{ID: account, Name: "Big", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0})
	})
	raw := storetest.Raw(b, cfg)
	rnd := rand.New(rand.NewPCG(1, 2))
	firsts := []string{"Élodie", "Marc", "Zoé", "Émile", "Ana", "Léa", "Hugo", "Chloé", "Louis", "Inès", "Jules", "Manon"}
	lasts := []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent"}
	statuses := []string{"active", "active", "active", "invited", "created", "suspended"}
	const batch = 400
	for start := 0; start < n; start += batch {
		var users, members []string
		var uargs, margs []any
		for i := start; i < min(n, start+batch); i++ {
			id := equipe.NewID()
			first := firsts[rnd.IntN(len(firsts))]
			last := lasts[rnd.IntN(len(lasts))] + fmt.Sprint(rnd.IntN(1000))
			email := fmt.Sprintf("user%06d@example.com", i)
			k := len(uargs)
			users = append(users, fmt.Sprintf("($%d, $%d, $%d, $%d, $%d, 'fr', 0)", k+1, k+2, k+3, k+4, k+5))
			uargs = append(uargs, id.String(), email, email, first, last)
			k = len(margs)
			members = append(members, fmt.Sprintf("($%d, $%d, $%d, $%d, $%d, $%d, $%d, 0)", k+1, k+2, k+3, k+4, k+5, k+6, k+7))
			margs = append(margs, account.String(), id.String(), []string{"collaborator", "guest", "manager"}[rnd.IntN(3)],
				statuses[rnd.IntN(len(statuses))], store.Fold(first), store.Fold(last), email)
		}
		if _, err := raw.Exec(`INSERT INTO users (id, email, email_key, first_name, last_name, locale, created_at) VALUES `+strings.Join(users, ", "), uargs...); err != nil {
			b.Fatal(err)
		}
		if _, err := raw.Exec(`INSERT INTO members (account_id, user_id, role, status, first_key, last_key, email_key, created_at) VALUES `+strings.Join(members, ", "), margs...); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := raw.Exec("ANALYZE"); err != nil {
		b.Fatal(err)
	}
	return account
}

// BenchmarkListMembers measures the team page's query on an account of
// 100,000 members: the first page, a page deep into the list (after 80,000
// members), a prefix search, and a status filter. Each op is one page of 50.
func BenchmarkListMembers(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			db, cfg := storetest.OpenConfig(b, e)
			account := seedMembers(b, db, cfg, 100_000)
			// Find the cursor of the 80,000th member.
			deep := ""
			f := store.MemberFilter{Account: account, Limit: 200}
			for range 400 {
				_, next, err := db.ListMembers(ctx, f)
				if err != nil {
					b.Fatal(err)
				}
				f.After, deep = next, next
			}
			for _, c := range []struct {
				name string
				f    store.MemberFilter
			}{
				{"first-page", store.MemberFilter{Account: account}},
				{"deep-page", store.MemberFilter{Account: account, After: deep}},
				{"search", store.MemberFilter{Account: account, Search: "chlo"}},
				{"search-two-words", store.MemberFilter{Account: account, Search: "hugo mar"}},
				{"status", store.MemberFilter{Account: account, Status: equipe.MemberInvited}},
				{"role-deep", store.MemberFilter{Account: account, Role: "guest", After: deep}},
			} {
				b.Run(c.name, func(b *testing.B) {
					for b.Loop() {
						rows, _, err := db.ListMembers(ctx, c.f)
						if err != nil || len(rows) == 0 {
							b.Fatalf("%d rows, %v", len(rows), err)
						}
					}
				})
			}
		})
	}
}
