package store_test

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

func TestFold(t *testing.T) {
	for in, want := range map[string]string{"Élodie": "elodie", "  DE   LA Tour ": "de la tour", "Øyvind": "øyvind", "François-Xavier": "francois-xavier", "Иван": "иван"} {
		if got := store.Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestListMembers_PagesFiltersAndSearches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		account := equipe.NewID()
		res := equipe.Resource{ID: equipe.NewID(), AccountID: account, Type: "location", Name: "Paris", CreatedAt: t0}
		firsts := []string{"Élodie", "elise", "Marc", "Zoé", "Émile", "Ana"}
		lasts := []string{"Dupont", "durand", "Ávila", "Martin", "de la Tour"}
		var want []string
		write(t, db, func(tx *store.Tx) error {
			if err := tx.CreateAccount(ctx, &equipe.Account{ID: account, Name: "A", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0}); err != nil {
				return err
			}
			if err := tx.CreateResource(ctx, &res); err != nil {
				return err
			}
			for i := range 137 {
				u := &equipe.User{ID: equipe.NewID(), Email: fmt.Sprintf("u%03d@example.com", i), EmailKey: fmt.Sprintf("u%03d@example.com", i),
					FirstName: firsts[i%len(firsts)], LastName: lasts[i%len(lasts)], Locale: "fr", CreatedAt: t0}
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
				status := []equipe.MemberStatus{equipe.MemberActive, equipe.MemberInvited, equipe.MemberCreated}[i%3]
				role := []string{"admin", "collaborator"}[i%2]
				m := equipe.Member{AccountID: account, UserID: u.ID, Role: role, Status: status, CreatedAt: t0}
				if status == equipe.MemberActive {
					m.JoinedAt = t0
				} else {
					// Added under their names, as they will choose them.
					m.FirstName, m.LastName = u.FirstName, u.LastName
				}
				if err := tx.CreateMember(ctx, &m); err != nil {
					return err
				}
				if i%4 == 0 {
					if err := tx.AssignResource(ctx, account, u.ID, res.ID); err != nil {
						return err
					}
				}
				want = append(want, store.Fold(u.LastName)+"|"+store.Fold(u.FirstName)+"|"+u.ID.String())
			}
			return nil
		})
		slices.Sort(want)

		counts, err := db.CountMembersByRole(ctx, account)
		if err != nil || len(counts) != 2 || counts["admin"] != 69 || counts["collaborator"] != 68 {
			t.Fatalf("members by role: %v, %v", counts, err)
		}
		if n, err := db.CountMembersWithRole(ctx, account, "collaborator"); err != nil || n != 68 {
			t.Fatalf("collaborators: %d, %v", n, err)
		}

		list := func(f store.MemberFilter) []store.MemberRow {
			t.Helper()
			f.Account = account
			var all []store.MemberRow
			for {
				rows, next, err := db.ListMembers(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, rows...)
				if next == "" {
					return all
				}
				f.After = next
			}
		}
		all := list(store.MemberFilter{Limit: 20})
		var got []string
		for _, r := range all {
			got = append(got, store.Fold(r.LastName)+"|"+store.Fold(r.FirstName)+"|"+r.Member.UserID.String())
		}
		if !slices.Equal(got, want) {
			t.Fatalf("pages in order:\n got %v\nwant %v", got[:5], want[:5])
		}
		if n := len(list(store.MemberFilter{Status: equipe.MemberInvited})); n != 46 {
			t.Errorf("invited: %d, want 46", n)
		}
		if n := len(list(store.MemberFilter{Role: "admin", Status: equipe.MemberActive})); n != 23 {
			t.Errorf("active admins: %d, want 23", n)
		}
		withRes := list(store.MemberFilter{Resource: &res.ID})
		if len(withRes) != 35 || len(withRes[0].Resources) != 1 || withRes[0].Resources[0] != res.ID {
			t.Errorf("assigned to Paris: %d", len(withRes))
		}
		// Any part, case- and accent-insensitive, of the first name, last
		// name or email, each word; the expected counts come from the same
		// rule applied here.
		matches := func(q string, i int) bool {
			keys := []string{store.Fold(lasts[i%len(lasts)]), store.Fold(firsts[i%len(firsts)]), fmt.Sprintf("u%03d@example.com", i)}
			for _, w := range strings.Fields(store.Fold(q)) {
				found := false
				for _, k := range keys {
					found = found || strings.Contains(k, w)
				}
				if !found {
					return false
				}
			}
			return true
		}
		for _, q := range []string{"elo", "ELO", "él", "avil", "de la", "DE LA T", "u00", "u001", "emile dup", "zoe mart", "marc d",
			"%", "_", "'", "\\", "lod", "ODIE", "upon", "@example", "ample.c", "r", "an", "xyz", "zz", "\"quoted\"", "01@"} {
			n := 0
			for i := range 137 {
				if matches(q, i) {
					n++
				}
			}
			if got := len(list(store.MemberFilter{Search: q})); got != n {
				t.Errorf("search %q: %d, want %d", q, got, n)
			}
		}
		if n := len(list(store.MemberFilter{Search: "elo"})); n == 0 {
			t.Error("searching elo found nobody: the oracle test proves nothing")
		}
		if _, _, err := db.ListMembers(ctx, store.MemberFilter{Account: account, After: "garbage!"}); equipe.ErrorCode(err) != equipe.EBADREQUEST {
			t.Errorf("bad cursor: %v", err)
		}
	})
}

// listAll reads every page of the filter, limit rows at a time.
func listAll(t *testing.T, db *store.DB, f store.MemberFilter) []store.MemberRow {
	t.Helper()
	var all []store.MemberRow
	for {
		rows, next, err := db.ListMembers(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, rows...)
		if next == "" {
			return all
		}
		f.After = next
	}
}

func TestListMembers_SortsEachWayInAStableOrder(t *testing.T) {
	storetest.EachConfig(t, func(t *testing.T, db *store.DB, cfg store.Config) {
		account := equipe.NewID()
		write(t, db, func(tx *store.Tx) error {
			return tx.CreateAccount(ctx, &equipe.Account{ID: account, Name: "A", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0})
		})
		storetest.SeedMembers(t, cfg, account, 1200)
		all := listAll(t, db, store.MemberFilter{Account: account, Limit: 200})
		if len(all) != 1200 {
			t.Fatalf("%d members", len(all))
		}
		byName := func(a, b store.MemberRow) int {
			return cmp.Or(strings.Compare(store.Fold(a.LastName), store.Fold(b.LastName)),
				strings.Compare(store.Fold(a.FirstName), store.Fold(b.FirstName)),
				strings.Compare(a.Member.UserID.String(), b.Member.UserID.String()))
		}
		for _, c := range []struct {
			sort store.MemberSort
			cmp  func(a, b store.MemberRow) int
		}{
			{store.SortName, byName},
			{store.SortRole, func(a, b store.MemberRow) int {
				return cmp.Or(strings.Compare(a.Member.Role, b.Member.Role), byName(a, b))
			}},
			{store.SortStatus, func(a, b store.MemberRow) int {
				return cmp.Or(strings.Compare(string(a.Member.Status), string(b.Member.Status)), byName(a, b))
			}},
			{store.SortLastLogin, func(a, b store.MemberRow) int { return cmp.Or(a.LastLoginAt.Compare(b.LastLoginAt), byName(a, b)) }},
		} {
			for _, desc := range []bool{false, true} {
				want := slices.Clone(all)
				slices.SortFunc(want, c.cmp)
				if desc {
					slices.Reverse(want)
				}
				got := listAll(t, db, store.MemberFilter{Account: account, Sort: c.sort, Desc: desc, Limit: 70})
				if len(got) != len(want) {
					t.Fatalf("%s desc=%v: %d rows, want %d", c.sort, desc, len(got), len(want))
				}
				for i := range got {
					if got[i].Member.UserID != want[i].Member.UserID {
						t.Fatalf("%s desc=%v: row %d is %s %s, want %s %s", c.sort, desc, i, got[i].LastName, got[i].Member.UserID,
							want[i].LastName, want[i].Member.UserID)
					}
				}
			}
		}
		never := 0
		for _, r := range all {
			if r.LastLoginAt.IsZero() {
				never++
			}
		}
		if never == 0 || never == len(all) {
			t.Fatalf("%d of %d never logged in: the last-login order proves nothing", never, len(all))
		}
		// The filters keep the order.
		invited := listAll(t, db, store.MemberFilter{Account: account, Status: equipe.MemberInvited, Sort: store.SortRole, Limit: 50})
		if !slices.IsSortedFunc(invited, func(a, b store.MemberRow) int {
			return cmp.Or(strings.Compare(a.Member.Role, b.Member.Role), byName(a, b))
		}) || len(invited) == 0 {
			t.Errorf("invited by role: %d rows, out of order", len(invited))
		}
		if _, _, err := db.ListMembers(ctx, store.MemberFilter{Account: account, Sort: "email"}); equipe.ErrorCode(err) != equipe.EINVALID {
			t.Errorf("unknown sort: %v", err)
		}
	})
}

// TestListMembers_SearchFindsAnyPartWhicheverWayItReads checks a search on
// both of its paths: through the trigram index (few matches) and by reading
// the list in order (more matches than the index is asked for, or words too
// short for it), against the rule applied here.
func TestListMembers_SearchFindsAnyPartWhicheverWayItReads(t *testing.T) {
	storetest.EachConfig(t, func(t *testing.T, db *store.DB, cfg store.Config) {
		account, other := equipe.NewID(), equipe.NewID()
		write(t, db, func(tx *store.Tx) error {
			if err := tx.CreateAccount(ctx, &equipe.Account{ID: other, Name: "B", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0}); err != nil {
				return err
			}
			return tx.CreateAccount(ctx, &equipe.Account{ID: account, Name: "A", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0})
		})
		storetest.SeedMembers(t, cfg, account, 2600)
		all := listAll(t, db, store.MemberFilter{Account: account, Limit: 200})
		// Another account's members are never found.
		write(t, db, func(tx *store.Tx) error {
			u := &equipe.User{ID: equipe.NewID(), Email: "eloise@cabinet-expert.fr", EmailKey: "eloise@cabinet-expert.fr",
				FirstName: "Éloïse", LastName: "Durand", Locale: "fr", CreatedAt: t0}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			return tx.CreateMember(ctx, &equipe.Member{AccountID: other, UserID: u.ID, Role: "admin", Status: equipe.MemberActive,
				JoinedAt: t0, CreatedAt: t0})
		})
		for _, q := range []string{"@example", "example.com", "@cabinet-expert", "CABINET-EXPERT.FR", "chlo", "CHLOÉ", "ELO",
			"élo", "durand1", "urand12", "user0001", "user002 cabinet", "martin 5", "lé", "e", "99", "xyzzy", "zz", "léa moreau9"} {
			var n int
			for _, r := range all {
				keys := []string{store.Fold(r.FirstName), store.Fold(r.LastName), r.Email}
				ok := true
				for _, w := range strings.Fields(store.Fold(q)) {
					found := false
					for _, k := range keys {
						found = found || strings.Contains(k, w)
					}
					ok = ok && found
				}
				if ok {
					n++
				}
			}
			got := listAll(t, db, store.MemberFilter{Account: account, Search: q, Limit: 200})
			if len(got) != n {
				t.Errorf("search %q: %d, want %d", q, len(got), n)
			}
			if !slices.IsSortedFunc(got, func(a, b store.MemberRow) int {
				return cmp.Or(strings.Compare(store.Fold(a.LastName), store.Fold(b.LastName)),
					strings.Compare(store.Fold(a.FirstName), store.Fold(b.FirstName)),
					strings.Compare(a.Member.UserID.String(), b.Member.UserID.String()))
			}) {
				t.Errorf("search %q: out of order", q)
			}
		}
		for q, want := range map[string]int{"@example": 2340, "@cabinet-expert": 260, "user0001": 100, "xyzzy": 0} {
			if got := len(listAll(t, db, store.MemberFilter{Account: account, Search: q, Limit: 200})); got != want {
				t.Errorf("search %q: %d, want %d", q, got, want)
			}
		}
		if got := listAll(t, db, store.MemberFilter{Account: other, Search: "elo"}); len(got) != 1 || got[0].FirstName != "Éloïse" {
			t.Errorf("elo in the other account: %d rows", len(got))
		}
	})
}

func TestCountMembers_TotalAndByStatus(t *testing.T) {
	storetest.EachConfig(t, func(t *testing.T, db *store.DB, cfg store.Config) {
		account, empty := equipe.NewID(), equipe.NewID()
		write(t, db, func(tx *store.Tx) error {
			if err := tx.CreateAccount(ctx, &equipe.Account{ID: empty, Name: "B", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0}); err != nil {
				return err
			}
			return tx.CreateAccount(ctx, &equipe.Account{ID: account, Name: "A", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0})
		})
		storetest.SeedMembers(t, cfg, account, 300)
		want := store.MemberCounts{ByStatus: map[equipe.MemberStatus]int{}}
		for _, r := range listAll(t, db, store.MemberFilter{Account: account, Limit: 200}) {
			want.Total++
			want.ByStatus[r.Member.Status]++
		}
		got, err := db.CountMembers(ctx, account)
		if err != nil || got.Total != 300 || !maps.Equal(got.ByStatus, want.ByStatus) {
			t.Errorf("counts: %+v, %v; want %+v", got, err, want)
		}
		// The counts follow a removal and a change of status.
		rows := listAll(t, db, store.MemberFilter{Account: account, Limit: 200})
		write(t, db, func(tx *store.Tx) error {
			if err := tx.DeleteMember(ctx, account, rows[0].Member.UserID); err != nil {
				return err
			}
			m := rows[1].Member
			m.Status = map[equipe.MemberStatus]equipe.MemberStatus{equipe.MemberSuspended: equipe.MemberActive}[m.Status]
			if m.Status == "" {
				m.Status = equipe.MemberSuspended
			}
			return tx.UpdateMember(ctx, &m)
		})
		want = store.MemberCounts{ByStatus: map[equipe.MemberStatus]int{}}
		for _, r := range listAll(t, db, store.MemberFilter{Account: account, Limit: 200}) {
			want.Total++
			want.ByStatus[r.Member.Status]++
		}
		if got, err := db.CountMembers(ctx, account); err != nil || got.Total != 299 || !maps.Equal(got.ByStatus, want.ByStatus) {
			t.Errorf("counts after a removal and a change: %+v, %v; want %+v", got, err, want)
		}
		if got, err := db.CountMembers(ctx, empty); err != nil || got.Total != 0 || len(got.ByStatus) != 0 {
			t.Errorf("empty account: %+v, %v", got, err)
		}
	})
}

func TestSetMemberLogin_RecordsTheLoginPerAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a, b := equipe.NewID(), equipe.NewID()
		solo, both := equipe.NewID(), equipe.NewID()
		write(t, db, func(tx *store.Tx) error {
			for _, id := range []equipe.ID{a, b} {
				if err := tx.CreateAccount(ctx, &equipe.Account{ID: id, Name: "A", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0}); err != nil {
					return err
				}
			}
			for _, u := range []equipe.ID{solo, both} {
				email := u.String() + "@example.com"
				if err := tx.CreateUser(ctx, &equipe.User{ID: u, Email: email, EmailKey: email, Locale: "fr", CreatedAt: t0}); err != nil {
					return err
				}
			}
			for _, m := range []equipe.Member{{AccountID: a, UserID: solo}, {AccountID: a, UserID: both}, {AccountID: b, UserID: both}} {
				m.Role, m.Status, m.JoinedAt, m.CreatedAt = "admin", equipe.MemberActive, t0, t0
				if err := tx.CreateMember(ctx, &m); err != nil {
					return err
				}
			}
			return nil
		})
		t1, t2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
		write(t, db, func(tx *store.Tx) error {
			if err := tx.SetSoleMemberLogin(ctx, solo, t1); err != nil {
				return err
			}
			if err := tx.SetSoleMemberLogin(ctx, both, t1); err != nil {
				return err
			}
			return tx.SetMemberLogin(ctx, b, both, t2)
		})
		login := func(account, user equipe.ID) time.Time {
			for _, r := range listAll(t, db, store.MemberFilter{Account: account}) {
				if r.Member.UserID == user {
					return r.LastLoginAt
				}
			}
			t.Fatalf("%s not in %s", user, account)
			return time.Time{}
		}
		if got := login(a, solo); !got.Equal(t1) {
			t.Errorf("sole account: %v, want %v", got, t1)
		}
		if got := login(a, both); !got.IsZero() {
			t.Errorf("an account not entered: %v, want never", got)
		}
		if got := login(b, both); !got.Equal(t2) {
			t.Errorf("the account switched to: %v, want %v", got, t2)
		}
		// A login's record written after a later one (it runs after its
		// login's answer) keeps the later.
		write(t, db, func(tx *store.Tx) error { return tx.SetSoleMemberLogin(ctx, solo, t2) })
		write(t, db, func(tx *store.Tx) error { return tx.SetSoleMemberLogin(ctx, solo, t1.Add(time.Minute)) })
		if got := login(a, solo); !got.Equal(t2) {
			t.Errorf("an earlier login recorded late: %v, want %v kept", got, t2)
		}
	})
}

func TestListMembers_SearchFollowsNameChangesAndRemovals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		account, user := equipe.NewID(), equipe.NewID()
		write(t, db, func(tx *store.Tx) error {
			if err := tx.CreateAccount(ctx, &equipe.Account{ID: account, Name: "A", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0}); err != nil {
				return err
			}
			if err := tx.CreateUser(ctx, &equipe.User{ID: user, Email: "anne@old.example", EmailKey: "anne@old.example",
				FirstName: "Anne", LastName: "Oldman", Locale: "fr", CreatedAt: t0}); err != nil {
				return err
			}
			return tx.CreateMember(ctx, &equipe.Member{AccountID: account, UserID: user, Role: "admin", Status: equipe.MemberActive,
				JoinedAt: t0, CreatedAt: t0})
		})
		found := func(q string) int {
			return len(listAll(t, db, store.MemberFilter{Account: account, Search: q}))
		}
		if found("oldm") != 1 {
			t.Fatal("oldm: not found")
		}
		write(t, db, func(tx *store.Tx) error { return tx.SetUserNames(ctx, user, "Anne", "Nouvelle-Époque", time.Now()) })
		if found("oldm") != 0 || found("epoq") != 1 || found("nouvelle-epoque") != 1 {
			t.Errorf("after the name change: oldm %d, epoq %d", found("oldm"), found("epoq"))
		}
		write(t, db, func(tx *store.Tx) error { return tx.DeleteMember(ctx, account, user) })
		if found("epoq") != 0 || found("anne") != 0 {
			t.Error("a removed member is still found")
		}
	})
}

// RoleHoldersBeyond reads, of the holders of the roles, only those who may
// hold more than their role: overrides, or, for a limited reader, a
// resource out of reach.
func TestRoleHoldersBeyond_ReadsOnlyTheHoldersWhoMayHoldMore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		account, other := equipe.NewID(), equipe.NewID()
		r1 := equipe.Resource{ID: equipe.NewID(), AccountID: account, Type: "location", Name: "Paris", CreatedAt: t0}
		r2 := equipe.Resource{ID: equipe.NewID(), AccountID: account, Type: "location", Name: "Lyon", CreatedAt: t0}
		users := map[string]equipe.ID{}
		write(t, db, func(tx *store.Tx) error {
			for _, a := range []equipe.ID{account, other} {
				if err := tx.CreateAccount(ctx, &equipe.Account{ID: a, Name: "A", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0}); err != nil {
					return err
				}
			}
			for _, r := range []*equipe.Resource{&r1, &r2} {
				if err := tx.CreateResource(ctx, r); err != nil {
					return err
				}
			}
			for _, m := range []struct {
				name, role string
				in         equipe.ID
				overrides  []equipe.Override
				resource   *equipe.Resource
			}{
				{"plain", "y", account, nil, &r1},
				{"allowed", "y", account, []equipe.Override{{Permission: "billing.access", Allow: true}}, nil},
				{"elsewhere", "y", account, nil, &r2},
				{"denied", "z", account, []equipe.Override{{Permission: "records.view"}}, nil},
				{"cleared", "y", account, []equipe.Override{}, nil},
				{"other", "y", other, []equipe.Override{{Permission: "billing.access", Allow: true}}, nil},
			} {
				u := &equipe.User{ID: equipe.NewID(), Email: m.name + "@example.com", EmailKey: m.name + "@example.com",
					FirstName: m.name, Locale: "fr", CreatedAt: t0}
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
				users[m.name] = u.ID
				if err := tx.CreateMember(ctx, &equipe.Member{AccountID: m.in, UserID: u.ID, Role: m.role, Status: equipe.MemberActive,
					Overrides: m.overrides, CreatedAt: t0, JoinedAt: t0}); err != nil {
					return err
				}
				if m.resource != nil {
					if err := tx.AssignResource(ctx, account, u.ID, m.resource.ID); err != nil {
						return err
					}
				}
			}
			return nil
		})
		for _, tt := range []struct {
			name    string
			roles   []string
			limited bool
			reach   []equipe.ID
			want    []string
		}{
			{"no role", nil, false, nil, nil},
			{"overrides", []string{"y"}, false, nil, []string{"allowed"}},
			{"several roles", []string{"y", "z"}, false, nil, []string{"allowed", "denied"}},
			{"limited", []string{"y"}, true, []equipe.ID{r1.ID}, []string{"allowed", "elsewhere"}},
			{"limited to nothing", []string{"y"}, true, nil, []string{"allowed", "elsewhere", "plain"}},
			{"limited to all", []string{"y"}, true, []equipe.ID{r1.ID, r2.ID}, []string{"allowed"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				ms, err := db.RoleHoldersBeyond(ctx, account, tt.roles, tt.limited, tt.reach)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, m := range ms {
					for name, id := range users {
						if id == m.UserID {
							got = append(got, name)
						}
					}
				}
				slices.Sort(got)
				if !slices.Equal(got, tt.want) {
					t.Errorf("read %v, want %v", got, tt.want)
				}
			})
		}
	})
}
