package store_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// TestMigrate_ConcurrentMigratorsOnAFreshDatabaseBehaveAsOne starts five
// migrations at once on an empty database, each through a handle of its
// own (as five processes would), and checks that all succeed, that one of
// them applies every migration and the others find nothing to do.
func TestMigrate_ConcurrentMigratorsOnAFreshDatabaseBehaveAsOne(t *testing.T) {
	const migrators, rounds = 5, 5
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			ms, err := store.Migrations(engine)
			if err != nil {
				t.Fatal(err)
			}
			for round := range rounds {
				cfg := storetest.Config(t, engine)
				handles := make([]*store.DB, migrators)
				for i := range handles {
					db, err := store.Open(ctx, cfg)
					if err != nil {
						t.Fatalf("round %d: open: %v", round, err)
					}
					t.Cleanup(func() { db.Close() })
					handles[i] = db
				}
				applied := make([][]int, migrators)
				errs := make([]error, migrators)
				var wg sync.WaitGroup
				for i, db := range handles {
					wg.Go(func() { applied[i], errs[i] = db.Migrate(context.Background()) })
				}
				wg.Wait()

				total := 0
				for i := range handles {
					if errs[i] != nil {
						t.Errorf("round %d: migrator %d: %v", round, i, errs[i])
					}
					if n := len(applied[i]); n != 0 && n != len(ms) {
						t.Errorf("round %d: migrator %d applied %v: the migrations were split between migrators", round, i, applied[i])
					}
					total += len(applied[i])
				}
				if total != len(ms) {
					t.Errorf("round %d: %d migrations applied in all, want each of the %d once", round, total, len(ms))
				}
				storetest.AssertMigratedOnce(t, cfg)
			}
		})
	}
}

// TestSchemaVersion_ReadsAnEmptyDatabaseWithoutWritingToIt checks that
// asking for the version creates nothing: only Migrate, under its lock,
// creates the migrations table.
func TestSchemaVersion_ReadsAnEmptyDatabaseWithoutWritingToIt(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			cfg := storetest.Config(t, engine)
			db, err := store.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			v, err := db.SchemaVersion(ctx)
			if err != nil || v != 0 {
				t.Fatalf("SchemaVersion = %d, %v; want 0, nil", v, err)
			}
			if tables := storetest.Tables(t, storetest.Raw(t, cfg)); len(tables) != 0 {
				t.Errorf("SchemaVersion created %v", tables)
			}
		})
	}
}

// TestMigrate_ResourcesMadeBeforeUniqueNamesGetTheirFoldedName writes
// resources at version 11, before names were unique per kind, then
// migrates: each gets its folded name, and of two that fold alike the
// oldest gets it and the other keeps its name and an empty key.
func TestMigrate_ResourcesMadeBeforeUniqueNamesGetTheirFoldedName(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			db, cfg := openAt(t, engine, 11)
			raw := storetest.Raw(t, cfg)
			const account = "0193a000-0000-7000-8000-000000000001"
			if _, err := raw.Exec(`INSERT INTO accounts (id, name, locale, created_at) VALUES ($1, 'Cabinet', 'fr', 1)`, account); err != nil {
				t.Fatal(err)
			}
			resources := []struct{ id, kind, name string }{
				{"0193a000-0000-7000-8000-000000000011", "location", "  Siège   Éloïse "},
				{"0193a000-0000-7000-8000-000000000012", "location", "siege eloise"},
				{"0193a000-0000-7000-8000-000000000013", "service", "Siège Éloïse"},
			}
			for i, r := range resources {
				if _, err := raw.Exec(`INSERT INTO resources (id, account_id, type, name, created_at) VALUES ($1, $2, $3, $4, $5)`,
					r.id, account, r.kind, r.name, i+1); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			want := map[string][2]string{
				resources[0].id: {"  Siège   Éloïse ", "siege eloise"},
				resources[1].id: {"siege eloise", ""},
				resources[2].id: {"Siège Éloïse", "siege eloise"},
			}
			for id, w := range want {
				var name, key string
				if err := raw.QueryRow(`SELECT name, name_key FROM resources WHERE id = $1`, id).Scan(&name, &key); err != nil {
					t.Fatal(err)
				}
				if name != w[0] || key != w[1] {
					t.Errorf("resource %s: name %q key %q, want %q %q", id, name, key, w[0], w[1])
				}
			}
		})
	}
}

// TestMigrate_CancelLinksKeepPendingSignUps writes a pending sign-up at
// version 16, then migrates: the tokens table takes the email-change
// cancellation kind, and the sign-up that refers to its token survives.
func TestMigrate_CancelLinksKeepPendingSignUps(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			db, cfg := openAt(t, engine, 16)
			raw := storetest.Raw(t, cfg)
			const user, token = "0193a000-0000-7000-8000-000000000001", "0193a000-0000-7000-8000-000000000002"
			hex := "decode('6831', 'hex')"
			if engine == store.SQLite {
				hex = "x'6831'"
			}
			for _, q := range []string{
				`INSERT INTO users (id, email, email_key, first_name, last_name, locale, created_at)
					VALUES ('` + user + `', 'ada@example.com', 'ada@example.com', 'Ada', 'Byron', 'en', 1)`,
				`INSERT INTO tokens (id, kind, hash, user_id, email, created_at, expires_at)
					VALUES ('` + token + `', 'signup', ` + hex + `, '` + user + `', 'ada@example.com', 1, 2)`,
				`INSERT INTO pending_signups (token_id, password_hash, first_name, last_name, locale, account_name,
					resource_type, resource_name, created_at) VALUES ('` + token + `', 'x', 'Ada', 'Byron', 'en', 'Engines',
					'location', 'Londres', 1)`,
			} {
				if _, err := raw.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := raw.QueryRow(`SELECT COUNT(*) FROM pending_signups WHERE token_id = $1`, token).Scan(&n); err != nil || n != 1 {
				t.Fatalf("%d pending sign-ups after the migration (%v)", n, err)
			}
			if _, err := raw.Exec(`INSERT INTO tokens (id, kind, hash, user_id, email, created_at, expires_at)
				VALUES ('0193a000-0000-7000-8000-000000000003', 'email_change_cancel', $1, '`+user+`', 'ada@example.com', 1, 2)`, []byte("h2")); err != nil {
				t.Fatalf("a cancellation link: %v", err)
			}
		})
	}
}

// TestMigrate_PendingSignUpsSurviveTheTokensRebuild checks the migration
// that gives tokens the kind notification_email (0019): SQLite rebuilds the table,
// and dropping the old one must not take the pending sign-ups that refer to
// its rows with it.
func TestMigrate_PendingSignUpsSurviveTheTokensRebuild(t *testing.T) {
	const before = 18 // the last version before the rebuild
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			db, cfg := openAt(t, engine, before)
			raw := storetest.Raw(t, cfg)
			const user, token = "0193a000-0000-4000-8000-000000000001", "0193a000-0000-7000-8000-000000000002"
			inserts := []struct {
				q    string
				args []any
			}{
				{`INSERT INTO users (id, email, email_key, first_name, last_name, locale, created_at)
					VALUES ($1, 'ada@example.com', 'ada@example.com', 'Ada', 'Lovelace', 'en', 1)`, []any{user}},
				{`INSERT INTO tokens (id, kind, hash, user_id, created_at, expires_at) VALUES ($1, 'signup', $2, $3, 1, 2)`,
					[]any{token, []byte{1}, user}},
				{`INSERT INTO pending_signups (token_id, password_hash, first_name, last_name, locale, account_name,
					resource_type, resource_name, created_at) VALUES ($1, 'h', 'Ada', 'Lovelace', 'en', 'A', 'location', 'L', 1)`,
					[]any{token}},
			}
			for _, in := range inserts {
				if _, err := raw.Exec(in.q, in.args...); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := raw.QueryRow(`SELECT COUNT(*) FROM pending_signups p JOIN tokens t ON t.id = p.token_id`).Scan(&n); err != nil || n != 1 {
				t.Fatalf("%d pending sign-ups with their token after the migration (%v), want 1", n, err)
			}
			if _, err := raw.Exec(`INSERT INTO tokens (id, kind, hash, user_id, created_at, expires_at)
				VALUES ('0193a000-0000-7000-8000-000000000003', 'notification_email', $1, '`+user+`', 1, 2)`, []byte{2}); err != nil {
				t.Fatalf("a notification_email token: %v", err)
			}
		})
	}
}

// TestMigrate_MembersNotYetJoinedAreShownOnlyUnderTheNamesTheyWereAddedUnder
// writes, at version 42, members added without names, whom the account
// then showed under their identity's names, and migrates: one added by
// someone who shared an account with them keeps those names, now written on
// the membership; one added by a stranger is known by their address alone,
// in the list and in the search keys; members with names of their own and
// members who joined do not change.
func TestMigrate_MembersNotYetJoinedAreShownOnlyUnderTheNamesTheyWereAddedUnder(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			db, cfg := openAt(t, engine, 42)
			now := time.Now()
			person := func(email, first, last string) equipe.User {
				return equipe.User{ID: equipe.NewUserID(), Email: email, EmailKey: email, FirstName: first, LastName: last, CreatedAt: now}
			}
			carol, ada, grace, hank := person("carol@example.com", "Carol", "Chef"), person("ada@example.com", "Ada", "Lovelace"),
				person("grace@example.com", "Grace", "Hopper"), person("hank@example.com", "Henri", "Kay")
			shared := equipe.Account{ID: equipe.NewID(), Name: "Shared", Locale: "fr", CreatedAt: now}
			other := equipe.Account{ID: equipe.NewID(), Name: "Other", Locale: "fr", CreatedAt: now}
			type added struct {
				acct   equipe.ID
				u      equipe.User
				joined bool
				first  string
			}
			members := []added{{shared.ID, carol, true, ""}, {shared.ID, ada, true, ""}, {other.ID, carol, true, ""},
				{other.ID, ada, false, ""}, {other.ID, grace, false, ""}, {other.ID, hank, false, "H"}}
			createPeople(t, db, []equipe.Account{shared, other}, carol, ada, grace, hank)
			raw := storetest.Raw(t, cfg)
			// The members as the service wrote them then (its columns of
			// the time: store.Writes.CreateMemberOf writes later ones).
			for _, m := range members {
				status, joined, first, last := equipe.MemberInvited, any(nil), m.first, ""
				if m.joined {
					status, joined, first, last = equipe.MemberActive, now.UnixMicro(), m.u.FirstName, m.u.LastName
				}
				if _, err := raw.Exec(`INSERT INTO members (account_id, user_id, role, status, first_name, invited_by,
					created_at, joined_at, first_key, last_key, email_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
					m.acct, m.u.ID, equipe.RoleAdmin, status, m.first, carol.ID, now.UnixMicro(), joined,
					store.Fold(first), store.Fold(last), m.u.EmailKey); err != nil {
					t.Fatal(err)
				}
			}
			// What the service wrote before: the identity's names in the keys
			// of a member added without names.
			for _, u := range []equipe.User{ada, grace} {
				if _, err := raw.Exec(`UPDATE members SET first_key = $1, last_key = $2 WHERE account_id = $3 AND user_id = $4`,
					store.Fold(u.FirstName), store.Fold(u.LastName), other.ID, u.ID); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			want := map[equipe.ID][4]string{
				carol.ID: {"", "", "carol", "chef"},
				ada.ID:   {"Ada", "Lovelace", "ada", "lovelace"},
				grace.ID: {"", "", "", ""},
				hank.ID:  {"H", "", "h", ""},
			}
			for id, w := range want {
				var got [4]string
				if err := raw.QueryRow(`SELECT first_name, last_name, first_key, last_key FROM members WHERE account_id = $1 AND user_id = $2`,
					other.ID, id).Scan(&got[0], &got[1], &got[2], &got[3]); err != nil {
					t.Fatal(err)
				}
				if got != w {
					t.Errorf("member %s: %q, want %q", id, got, w)
				}
			}
			page, _, err := db.ListMembers(ctx, store.MemberFilter{Account: other.ID, Search: "hopper"})
			if err != nil || len(page) != 0 {
				t.Errorf("a search for the name of someone who never joined: %v %v", page, err)
			}
		})
	}
}

// TestMigrate_ContactsAreListedByTheNameTheyAreShownUnderFolded: contacts
// made before and after migration 45 come out by their folded name (accents
// and case aside, the email for one without names), page after page, on
// both engines.
func TestMigrate_ContactsAreListedByTheNameTheyAreShownUnderFolded(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			db, cfg := openAt(t, engine, 44)
			now := time.Now()
			acct := equipe.Account{ID: equipe.NewID(), Name: "Contacts", Locale: "fr", CreatedAt: now}
			if err := db.Write(ctx, func(tx *store.Tx) error { return tx.CreateAccount(ctx, &acct) }); err != nil {
				t.Fatal(err)
			}
			contact := func(first, last, email string) equipe.Contact {
				return equipe.Contact{ID: equipe.NewID(), AccountID: acct.ID, FirstName: first, LastName: last, Email: email,
					Kinds: []string{"billing"}, CreatedAt: now, UpdatedAt: now}
			}
			zoe, emile, alain, anne := contact("Zoé", "Zed", ""), contact("", "emile", "e@example.com"),
				contact("Alain", "zed", ""), contact("Anne", "Émile", "")
			bernard, chloe := contact("", "", "bernard@example.com"), contact("Chloé", "", "")
			raw := storetest.Raw(t, cfg)
			// Made before the migration, as the service wrote them then.
			for _, c := range []equipe.Contact{zoe, emile, bernard} {
				if _, err := raw.Exec(`INSERT INTO contacts (id, account_id, first_name, last_name, email, kinds, created_at, updated_at)
					VALUES ($1, $2, $3, $4, $5, '["billing"]', 0, 0)`, c.ID, c.AccountID, c.FirstName, c.LastName, c.Email); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if err := db.Write(ctx, func(tx *store.Tx) error {
				for _, c := range []equipe.Contact{alain, anne, chloe} {
					if err := tx.CreateContact(ctx, &c); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			want := []equipe.ID{bernard.ID, chloe.ID, emile.ID, anne.ID, alain.ID, zoe.ID}
			var got []equipe.ID
			p := equipe.Page{Limit: 2}
			for {
				list, next, err := db.Contacts(ctx, acct.ID, p)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range list {
					got = append(got, c.ID)
				}
				if next == "" {
					break
				}
				p.After = next
			}
			if !slices.Equal(got, want) {
				t.Errorf("contacts in order %v, want %v (bernard, chloe, emile, anne, alain, zoe)", got, want)
			}
		})
	}
}

// TestMigrate_MembersReadAsLastChangedWhenTheyJoinedOrWereAdded: migration
// 47 gives the members it finds the time they joined, else the time they
// were added, as the last change a directory saw, and each role held the
// latest of its holders'.
func TestMigrate_MembersReadAsLastChangedWhenTheyJoinedOrWereAdded(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			db, cfg := openAt(t, engine, 46)
			t0 := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
			joinedAt := t0.Add(48 * time.Hour)
			acct := equipe.Account{ID: equipe.NewID(), Name: "A", Locale: "fr", CreatedAt: t0}
			joined := equipe.User{ID: equipe.NewUserID(), Email: "j@example.com", EmailKey: "j@example.com", CreatedAt: t0}
			pending := equipe.User{ID: equipe.NewUserID(), Email: "p@example.com", EmailKey: "p@example.com", CreatedAt: t0}
			createPeople(t, db, []equipe.Account{acct}, joined, pending)
			raw := storetest.Raw(t, cfg)
			for _, m := range []struct {
				user   equipe.ID
				role   string
				joined any
			}{{joined.ID, "admin", joinedAt.UnixMicro()}, {pending.ID, "guest", nil}} {
				if _, err := raw.Exec(`INSERT INTO members (account_id, user_id, role, status, created_at, joined_at)
					VALUES ($1, $2, $3, 'active', $4, $5)`, acct.ID, m.user, m.role, t0.UnixMicro(), m.joined); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			for user, want := range map[equipe.ID]time.Time{joined.ID: joinedAt, pending.ID: t0} {
				m, err := db.Member(ctx, acct.ID, user)
				if err != nil {
					t.Fatal(err)
				}
				if !m.UpdatedAt.Equal(want) {
					t.Errorf("member %s: updated at %v, want %v", user, m.UpdatedAt, want)
				}
			}
			held, err := db.RolesMembersChanged(ctx, acct.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !held["admin"].Equal(joinedAt) || !held["guest"].Equal(t0) || len(held) != 2 {
				t.Errorf("roles' holders changed at %v", held)
			}
		})
	}
}

// createPeople writes the accounts and the users, as the service writes
// them, in one transaction: the scene of a migration's test.
func createPeople(t *testing.T, db *store.DB, accounts []equipe.Account, users ...equipe.User) {
	t.Helper()
	if err := db.Write(context.Background(), func(tx *store.Tx) error {
		for _, a := range accounts {
			if err := tx.CreateAccount(context.Background(), &a); err != nil {
				return err
			}
		}
		for _, u := range users {
			if err := tx.CreateUser(context.Background(), &u); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// openAt opens a fresh database of the engine migrated up to version last
// (and no further), closed when the test ends, with the configuration that
// opens it again: the scene of a migration's test.
func openAt(t *testing.T, engine store.Engine, last int) (*store.DB, store.Config) {
	t.Helper()
	cfg := storetest.Config(t, engine)
	db, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.MigrateToForTest(ctx, last); err != nil {
		t.Fatal(err)
	}
	return db, cfg
}
