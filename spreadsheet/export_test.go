package spreadsheet_test

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/i18n"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/internal/servicetest"
	"github.com/equipe-dev/equipe/spreadsheet"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// heapWatch is the file an export is written to: it keeps nothing, counts
// lines, and every `every` lines reads the live heap (after a collection).
type heapWatch struct {
	every int
	lines int
	heap  []uint64 // the live heap at each sample
}

func (h *heapWatch) Write(p []byte) (int, error) {
	for _, c := range p {
		if c == '\n' {
			h.lines++
			if h.lines%h.every == 0 {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				h.heap = append(h.heap, ms.HeapAlloc)
			}
		}
	}
	return len(p), nil
}

// growth is how much the live heap grew from the first sample, taken once
// the export is under way (its statements prepared, its buffers made), to
// the largest.
func (h *heapWatch) growth() int64 {
	if len(h.heap) == 0 {
		return 0
	}
	return int64(slices.Max(h.heap)) - int64(h.heap[0])
}

// seededExport seeds an account of n members on db and returns the export
// of them all by an instance administrator.
func seededExport(t testing.TB, db *store.DB, cfg store.Config, n int) *team.MemberExport {
	st := servicetest.New(t, db, identity.Params{})
	ctx := context.Background()
	account := equipe.NewID()
	if err := db.Write(ctx, func(tx *store.Tx) error {
		return tx.CreateAccount(ctx, &equipe.Account{ID: account, Name: "Big", Locale: "fr", InvitationTTLHours: 168, CreatedAt: time.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	storetest.SeedMembers(t, cfg, account, n)
	admin, err := st.Identity.CreateAdmin(ctx, identity.NewAdmin{Email: "support@vendor.example", FirstName: "Vendor",
		LastName: "Support", Locale: "en", Password: "lovelace rode the number engine"})
	if err != nil {
		t.Fatal(err)
	}
	exp, err := st.Team.ExportMembers(ctx, team.Actor{User: &admin}, team.MemberFilter{Account: account})
	if err != nil {
		t.Fatal(err)
	}
	return exp
}

// TestWriteMembers_FlatMemory exports an account of 20,000 members and
// samples the live heap every 1,000 rows: it must stay flat (within 1 MiB,
// where holding the rows would take several MiB and grow with each
// sample), as the export reads and writes a page at a time.
// BenchmarkWriteMembers measures it at 100,000 rows.
func TestWriteMembers_FlatMemory(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	const n = 20_000
	storetest.EachConfig(t, func(t *testing.T, db *store.DB, cfg store.Config) {
		exp := seededExport(t, db, cfg, n)
		h := &heapWatch{every: 1_000}
		if err := spreadsheet.WriteMembers(context.Background(), h, cat, "fr", exp); err != nil {
			t.Fatal(err)
		}
		if h.lines != n+1 {
			t.Fatalf("%d lines, want %d", h.lines, n+1)
		}
		t.Logf("live heap over %d samples: %.2f MiB first, %.2f MiB most", len(h.heap),
			float64(h.heap[0])/(1<<20), float64(slices.Max(h.heap))/(1<<20))
		if g := h.growth(); g > 1<<20 {
			t.Fatalf("the live heap grew by %.2f MiB during the export", float64(g)/(1<<20))
		}
	})
}

// BenchmarkWriteMembers exports an account of 100,000 members (one op is
// the whole export) and reports the growth of the live heap during it,
// sampled every 10,000 rows, with the peak.
func BenchmarkWriteMembers(b *testing.B) {
	cat, err := i18n.Load()
	if err != nil {
		b.Fatal(err)
	}
	const n = 100_000
	for _, e := range storetest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			db, cfg := storetest.OpenConfig(b, e)
			exp := seededExport(b, db, cfg, n)
			var growth, peak float64
			for b.Loop() {
				h := &heapWatch{every: 10_000}
				if err := spreadsheet.WriteMembers(context.Background(), h, cat, "fr", exp); err != nil {
					b.Fatal(err)
				}
				if h.lines != n+1 {
					b.Fatalf("%d lines", h.lines)
				}
				growth = max(growth, float64(h.growth())/(1<<20))
				peak = max(peak, float64(slices.Max(h.heap))/(1<<20))
			}
			b.ReportMetric(growth, "heap-growth-MiB")
			b.ReportMetric(peak, "peak-live-heap-MiB")
			b.ReportMetric(float64(n), "rows")
		})
	}
}
