package store_test

import (
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// seedMembers creates an account of n members.
func seedMembers(b *testing.B, db *store.DB, cfg store.Config, n int) equipe.ID {
	account := equipe.NewID()
	write(b, db, func(tx *store.Tx) error {
		return tx.CreateAccount(ctx, &equipe.Account{ID: account, Name: "Big", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0})
	})
	storetest.SeedMembers(b, cfg, account, n)
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
				{"sort-role-desc", store.MemberFilter{Account: account, Sort: store.SortRole, Desc: true}},
				{"sort-status", store.MemberFilter{Account: account, Sort: store.SortStatus}},
				{"sort-last-login-desc", store.MemberFilter{Account: account, Sort: store.SortLastLogin, Desc: true}},
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

// BenchmarkSearchMembers measures the team page's search on an account of
// 100,000 members, one page of 50 per op, for the kinds of query people
// type: a short one (under three characters, read in order), a part of a
// name, a long one, a domain (found by one member in ten, or by all), two
// words, and one that matches nobody, short or long. Sorted by name and,
// for the domain, by last login.
func BenchmarkSearchMembers(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			db, cfg := storetest.OpenConfig(b, e)
			account := seedMembers(b, db, cfg, 100_000)
			for _, c := range []struct {
				name, q string
				sort    store.MemberSort
				some    bool // the query finds someone
			}{
				{"short", "lé", "", true},
				{"one-letter", "z", "", true},
				{"part", "elo", "", true},
				{"long", "durand123", "", true},
				{"domain", "@cabinet-expert", "", true},
				{"domain-last-login", "@cabinet-expert", store.SortLastLogin, true},
				{"domain-everyone", "@example", "", true},
				{"two-words", "chloé moreau9", "", true},
				{"no-match", "xylophone", "", false},
				{"no-match-short", "qx", "", false},
			} {
				b.Run(c.name, func(b *testing.B) {
					f := store.MemberFilter{Account: account, Search: c.q, Sort: c.sort}
					for b.Loop() {
						rows, _, err := db.ListMembers(ctx, f)
						if err != nil || (len(rows) == 0) == c.some {
							b.Fatalf("%d rows, %v", len(rows), err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkCountMembers measures the team page's counts (all members, and by
// status) on an account of 100,000 members.
func BenchmarkCountMembers(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			db, cfg := storetest.OpenConfig(b, e)
			account := seedMembers(b, db, cfg, 100_000)
			for b.Loop() {
				c, err := db.CountMembers(ctx, account)
				if err != nil || c.Total != 100_000 {
					b.Fatalf("%+v, %v", c, err)
				}
			}
		})
	}
}
