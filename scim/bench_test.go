package scim_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// BenchmarkFilterUserName measures GET /scim/v2/Users?filter=userName eq
// "…" over HTTP on an account of 100,000 members, the lookup a directory
// makes before every creation (the target: under 5 ms). Before measuring,
// it reads the plans of the queries the lookup runs and fails if one reads
// the members or users tables through (the member_resources table is empty
// here: PostgreSQL rightly reads it whole).
func BenchmarkFilterUserName(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			env := apptest.Start(b, e, apptest.Options{})
			tn := newTenant(b, env)
			storetest.SeedMembers(b, env.DB, tn.account, 100_000)
			explainLookups(b, env, tn)
			path := "/scim/v2" + query("/Users", `userName eq "user054321@example.com"`)
			b.ResetTimer()
			for b.Loop() {
				r := do(b, env, "GET", path, tn.key, nil)
				if r.Status != http.StatusOK || r.JSON["totalResults"] != float64(1) {
					b.Fatalf("%d %s", r.Status, r.Raw)
				}
			}
		})
	}
}

// explainLookups fails unless the queries behind a userName lookup read
// indexes: the member by login email, then the member, the user and the
// member's resources by key.
func explainLookups(b *testing.B, env *apptest.Env, tn *tenant) {
	raw := storetest.Raw(b, env.DB)
	account := tn.account.String()
	var user string
	if err := raw.QueryRow(`SELECT id FROM users WHERE email_key = 'user054321@example.com'`).Scan(&user); err != nil {
		b.Fatal(err)
	}
	queries := []string{
		fmt.Sprintf(`SELECT m.user_id FROM users u JOIN members m ON m.user_id = u.id AND m.account_id = '%s'
			WHERE u.email_key = 'user054321@example.com'`, account),
		fmt.Sprintf(`SELECT m.role FROM members m WHERE m.account_id = '%s' AND m.user_id = '%s'`, account, user),
		fmt.Sprintf(`SELECT email FROM users WHERE id = '%s'`, user),
		fmt.Sprintf(`SELECT resource_id FROM member_resources WHERE account_id = '%s' AND user_id = '%s'`, account, user),
	}
	prefix, scans := "EXPLAIN QUERY PLAN ", []string{"SCAN u", "SCAN m", "SCAN users", "SCAN members"}
	if env.Engine == store.Postgres {
		prefix, scans = "EXPLAIN ", []string{"Seq Scan on users", "Seq Scan on members"}
	}
	for _, q := range queries {
		rows, err := raw.Query(prefix + q)
		if err != nil {
			b.Fatal(err)
		}
		cols, _ := rows.Columns()
		var plan []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				b.Fatal(err)
			}
			plan = append(plan, fmt.Sprint(vals[len(vals)-1]))
		}
		rows.Close()
		text := strings.Join(plan, "\n")
		b.Logf("%s\n%s", strings.Join(strings.Fields(q), " "), text)
		for _, scan := range scans {
			if strings.Contains(text, scan+"\n") || strings.HasSuffix(text, scan) || strings.Contains(text, scan+" ") {
				b.Fatalf("a full scan:\n%s\n%s", q, text)
			}
		}
	}
}
