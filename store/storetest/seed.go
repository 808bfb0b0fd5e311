package storetest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
)

// SeedMembers adds n members of varied names, statuses, roles and last
// logins (one in ten at the domain cabinet-expert.fr) to an
// existing account, with batched inserts straight into the tables (the
// store's own path would take minutes for 100,000), then refreshes the query
// planner's statistics. The same seed gives the same members.
func SeedMembers(t testing.TB, cfg store.Config, account equipe.ID, n int) {
	t.Helper()
	raw := Raw(t, cfg)
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
			if i%10 == 0 {
				email = fmt.Sprintf("user%06d@cabinet-expert.fr", i)
			}
			k := len(uargs)
			users = append(users, fmt.Sprintf("($%d, $%d, $%d, $%d, $%d, 'fr', 0)", k+1, k+2, k+3, k+4, k+5))
			uargs = append(uargs, id.String(), email, email, first, last)
			k = len(margs)
			status := statuses[rnd.IntN(len(statuses))]
			var sent int
			var invited any // NULL
			if status == "invited" {
				sent, invited = 1+rnd.IntN(3), int64(1_700_000_000_000_000+i)
			}
			var login int64 // never
			var joined any  // NULL
			// Until they join, members are shown under the names they were
			// added under: here, the ones they will choose.
			mfirst, mlast := first, last
			if status == "active" || status == "suspended" {
				login = 1_700_000_000_000_000 + int64(rnd.IntN(1_000_000))*1_000_000
				joined, mfirst, mlast = int64(1_600_000_000_000_000), "", ""
			}
			members = append(members, fmt.Sprintf("($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, 0)",
				k+1, k+2, k+3, k+4, k+5, k+6, k+7, k+8, k+9, k+10, k+11, k+12, k+13))
			margs = append(margs, account.String(), id.String(), []string{"collaborator", "guest", "manager"}[rnd.IntN(3)],
				status, store.Fold(first), store.Fold(last), email, sent, invited, login, mfirst, mlast, joined)
		}
		if _, err := raw.Exec(`INSERT INTO users (id, email, email_key, first_name, last_name, locale, created_at) VALUES `+strings.Join(users, ", "), uargs...); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(`INSERT INTO members (account_id, user_id, role, status, first_key, last_key, email_key, invitations_sent,
			last_invited_at, last_login_at, first_name, last_name, joined_at, created_at) VALUES `+strings.Join(members, ", "), margs...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := raw.Exec("ANALYZE"); err != nil {
		t.Fatal(err)
	}
}
