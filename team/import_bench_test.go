package team_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/internal/servicetest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// BenchmarkImportMembers imports a file of 10,000 new members (a fifth of
// them invited) into a fresh account: one op is the whole import, its dry
// run (PlanImport, every row rehearsed) then its run (RunImport), each
// reported on its own.
func BenchmarkImportMembers(b *testing.B) {
	const n = 10_000
	for _, e := range storetest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			db := storetest.Open(b, e)
			st := servicetest.New(b, db, identity.Params{})
			admin, err := st.Identity.CreateAdmin(ctx, identity.NewAdmin{Email: "support@vendor.example", FirstName: "Vendor",
				LastName: "Support", Locale: "en", Password: password})
			if err != nil {
				b.Fatal(err)
			}
			actor := team.Actor{User: &admin}
			var plan, run time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				w := worldOn(&testing.T{}, st, fmt.Sprintf("bench%d.example", i))
				var file strings.Builder
				file.WriteString("email,first_name,last_name,role,title,resources,send_invitation\n")
				for j := range n {
					fmt.Fprintf(&file, "m%d@%s,Ana,Martin %d,collaborator,Salarié,product 2,%v\n", j, w.domain, j, j%5 == 0)
				}
				f := readFile(&testing.T{}, file.String())
				b.StartTimer()
				start := time.Now()
				p, err := st.Team.PlanImport(ctx, actor, w.account, f, true)
				if err != nil || len(p.Problems) > 0 {
					b.Fatalf("plan: %v %v", err, p.Problems[:min(3, len(p.Problems))])
				}
				plan += time.Since(start)
				start = time.Now()
				if err := st.Team.StartImport(ctx, actor, w.account, *p.ID); err != nil {
					b.Fatal(err)
				}
				var last store.MemberImport
				if err := st.Team.RunImport(ctx, *p.ID, func(m store.MemberImport) { last = m }); err != nil {
					b.Fatal(err)
				}
				run += time.Since(start)
				if last.Status != "done" || last.Added != n {
					b.Fatalf("import: %+v", last)
				}
			}
			b.ReportMetric(plan.Seconds()/float64(b.N), "dry-run-s")
			b.ReportMetric(run.Seconds()/float64(b.N), "import-s")
			b.ReportMetric(float64(n), "rows")
		})
	}
}
