// Command equipe-scale measures equipe at a million members: it seeds a
// fresh database of either engine with 1,000,000 users over 100,000
// accounts (10 members each: an administrator, managers, collaborators and
// guests, a few suspended, a fifth with permission overrides, half with
// assigned resources), then starts the real "equipe serve" on it and runs
// the check mix (POST /api/v1/check) over working sets of distinct (user,
// account) pairs, under each cache budget asked for. It prints a markdown
// table of checks/s, p50, p99 and the service's RSS for each.
//
//	equipe-scale --engine sqlite --data /tmp/scale
//	equipe-scale --database-url 'postgres://…/scale' --cache-mb 25,64,256 --relative
//
// docs/performance.md ("A million members") has the figures and how to
// read them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/equipe-dev/equipe/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "equipe-scale:", err)
		}
		os.Exit(2)
	}
}

// options are the command's flags.
type options struct {
	engine, data, url string
	d                 dataset
	password          string
	noSeed, seedOnly  bool
	binary            string
	budgets           []int
	pairs             []int
	relative          bool
	entryBytes        int
	conns             int
	warmup, duration  time.Duration
	cpuProfile        string
	fullPass          bool
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("equipe-scale", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.engine, "engine", "sqlite", "sqlite or postgres")
	fs.StringVar(&o.data, "data", "", "directory of the SQLite database (sqlite; must hold none yet unless --no-seed)")
	fs.StringVar(&o.url, "database-url", "", "postgres://… of an empty database or schema (selects postgres)")
	fs.IntVar(&o.d.Accounts, "accounts", 100_000, "accounts to seed")
	fs.IntVar(&o.d.PerAccount, "members", 10, "members of each account")
	fs.IntVar(&o.d.Resources, "resources", 4, "resources of each account")
	fs.StringVar(&o.password, "password", "scale-password-2026", "every seeded user's password")
	fs.BoolVar(&o.noSeed, "no-seed", false, "the database is already seeded with the same --accounts, --members and --resources")
	fs.BoolVar(&o.seedOnly, "seed-only", false, "seed, then stop")
	fs.StringVar(&o.binary, "binary", "", "the equipe binary to run (default: built now with go build)")
	budgets := fs.String("cache-mb", "0", "comma-separated cache budgets in MiB, each run with EQUIPE_CACHE_MB (0: the service's default)")
	pairs := fs.String("pairs", "4096,150000,1000000", "comma-separated sizes of the working set: distinct (user, account) pairs")
	fs.BoolVar(&o.relative, "relative", false, "also run working sets of 0.5×, 1× and 2× each budget's capacity (budget / --entry-bytes)")
	fs.IntVar(&o.entryBytes, "entry-bytes", 300, "bytes a cached member is expected to take, for --relative")
	fs.IntVar(&o.conns, "conns", 32, "keep-alive connections of the load generator")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "load before each measurement, not measured")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured load of each working set")
	fs.BoolVar(&o.fullPass, "full-pass", false, "warm up by asking about every pair of the working set once (at most 30 min), then for --warmup")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write this command's CPU profile (seeding, load generation) to the file")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.url != "" {
		o.engine = string(store.Postgres)
	}
	switch {
	case o.engine == string(store.SQLite) && o.data == "":
		return o, errors.New("--data is required on SQLite: the directory of the database to seed")
	case o.engine == string(store.Postgres) && o.url == "":
		return o, errors.New("--database-url is required on PostgreSQL")
	case o.engine != string(store.SQLite) && o.engine != string(store.Postgres):
		return o, fmt.Errorf("--engine must be sqlite or postgres, not %q", o.engine)
	case o.d.Accounts <= 0 || o.d.PerAccount <= 0 || o.d.Resources < 0:
		return o, errors.New("--accounts and --members must be positive, --resources not negative")
	case o.conns <= 0 || o.duration <= 0 || o.warmup < 0 || o.entryBytes <= 0:
		return o, errors.New("--conns, --duration and --entry-bytes must be positive, --warmup not negative")
	}
	var err error
	if o.budgets, err = ints("cache-mb", *budgets, 0); err != nil {
		return o, err
	}
	if o.pairs, err = ints("pairs", *pairs, 1); err != nil {
		return o, err
	}
	// Fixed, so that a database seeded once is found again by --no-seed.
	o.d.Base = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return o, nil
}

// ints parses a comma-separated list of integers of at least least.
func ints(name, s string, least int) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < least {
			return nil, fmt.Errorf("--%s: %q is not a whole number of at least %d", name, f, least)
		}
		out = append(out, n)
	}
	return out, nil
}

// row is one measurement: a working set under a budget.
type row struct {
	budget, pairs int
	r             loadResult
	rssPeak       int // KiB
	rssEnd        int // KiB
	cache         cacheFigures
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	cfg := store.Config{URL: o.url, DataDir: o.data}
	if cfg.DataDir == "" {
		// The service keeps its secret key's file there, on PostgreSQL too.
		if cfg.DataDir, err = os.MkdirTemp("", "equipe-scale-"); err != nil {
			return err
		}
		defer os.RemoveAll(cfg.DataDir)
	}
	fmt.Fprintf(stdout, "## equipe-scale on %s: %d users in %d accounts\n\n", o.engine, o.d.Users(), o.d.Accounts)
	fmt.Fprintf(stdout, "Machine load (1, 5, 15 min) at start: %s\n\n", loadavg())
	if !o.noSeed {
		fmt.Fprintln(stderr, "seeding…")
		s, err := seed(ctx, cfg, o.d, o.password, func(f string, a ...any) { fmt.Fprintf(stderr, "  "+f+"\n", a...) })
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		fmt.Fprintf(stdout, "Seeded in %.1f s, %.1f s of this process's CPU (migrations %.1f s, one argon2id hash %.2f s for every user, rows %.1f s):",
			s.Total.Seconds(), s.CPU.Seconds(), s.Migrate.Seconds(), s.Hash.Seconds(), s.Load.Seconds())
		for _, t := range []string{"accounts", "users", "resources", "members", "member_resources"} {
			fmt.Fprintf(stdout, " %s %d,", t, s.Rows[t])
		}
		fmt.Fprintf(stdout, " password %q.\n\n", s.Password)
	}
	if o.seedOnly {
		return nil
	}
	key, err := addInstanceKey(ctx, cfg, o.d)
	if err != nil {
		return fmt.Errorf("API key: %w", err)
	}
	bin := o.binary
	if bin == "" {
		dir, err := os.MkdirTemp("", "equipe-scale-bin-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		fmt.Fprintln(stderr, "building equipe…")
		if bin, err = buildEquipe(ctx, dir); err != nil {
			return err
		}
	}
	var rows []row
	for _, budget := range o.budgets {
		sets := o.pairs
		if o.relative && budget > 0 {
			capacity := budget << 20 / o.entryBytes
			for _, f := range []float64{0.5, 1, 2} {
				sets = append(sets, int(f*float64(capacity)))
			}
		}
		for _, pairs := range sets {
			fmt.Fprintf(stderr, "budget %d MiB, %d pairs…\n", budget, pairs)
			r, err := measure(ctx, bin, cfg, key, o, budget, pairs)
			if err != nil {
				return err
			}
			rows = append(rows, r)
		}
	}
	pass := ""
	if o.fullPass {
		pass = "a pass over the whole working set and "
	}
	fmt.Fprintf(stdout, "%d connections, %v of load after %s%v of warm-up, a fresh process for each line.\n\n", o.conns, o.duration, pass, o.warmup)
	report(stdout, o.engine, rows)
	fmt.Fprintf(stdout, "\nMachine load (1, 5, 15 min) at end: %s\n", loadavg())
	return nil
}

// measure starts the service with the budget, loads it with the mix over
// pairs, and stops it.
func measure(ctx context.Context, bin string, cfg store.Config, key string, o options, budget, pairs int) (row, error) {
	c, err := startChild(ctx, bin, cfg, budget)
	if err != nil {
		return row{}, err
	}
	defer c.stop()
	g, err := newGenerator(c.addr, key, newMixer(o.d, pairs), o.conns)
	if err != nil {
		return row{}, err
	}
	defer g.close()
	if o.fullPass {
		if _, err := g.runUntil(30*time.Minute, g.mix.pairs); err != nil {
			return row{}, fmt.Errorf("full pass: %w\n%s", err, c.logText())
		}
	}
	if o.warmup > 0 {
		if _, err := g.run(o.warmup); err != nil {
			return row{}, fmt.Errorf("warm-up: %w\n%s", err, c.logText())
		}
	}
	before, err := readCacheMetrics("http://" + c.addr)
	if err != nil {
		return row{}, err
	}
	stop := make(chan struct{})
	type rss struct{ peak, end int }
	sampled := make(chan rss, 1)
	go func() {
		p, e := c.sampleRSS(100*time.Millisecond, stop)
		sampled <- rss{p, e}
	}()
	r, err := g.run(o.duration)
	close(stop)
	s := <-sampled
	if err != nil {
		return row{}, fmt.Errorf("%w\n%s", err, c.logText())
	}
	after, err := readCacheMetrics("http://" + c.addr)
	if err != nil {
		return row{}, err
	}
	return row{budget: budget, pairs: min(pairs, o.d.Users()), r: r, rssPeak: s.peak, rssEnd: s.end,
		cache: after.figures(before)}, nil
}

// report writes the rows as a markdown table; each line's throughput is
// also given as a share of its budget's first line (the smallest working
// set, when listed first).
func report(w io.Writer, engine string, rows []row) {
	fmt.Fprintln(w, "| engine | cache budget | distinct pairs | checks/s | vs first line | p50 ms | p99 ms | allowed | errors | RSS peak MiB | RSS end MiB | cache hits | cache entries | bytes an entry | evictions |")
	fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	first := map[int]float64{}
	for _, r := range rows {
		if _, ok := first[r.budget]; !ok {
			first[r.budget] = r.r.Rate
		}
		budget := "default"
		if r.budget > 0 {
			budget = fmt.Sprintf("%d MiB", r.budget)
		}
		unknown := func(v float64, format string) string {
			if v < 0 {
				return "–"
			}
			return fmt.Sprintf(format, v)
		}
		perEntry := -1.0
		if r.cache.Bytes >= 0 && r.cache.Entries > 0 {
			perEntry = r.cache.Bytes / r.cache.Entries
		}
		fmt.Fprintf(w, "| %s | %s | %d | %.0f | %.0f %% | %.3f | %.3f | %.0f %% | %d | %.0f | %.0f | %s | %.0f | %s | %s |\n",
			engine, budget, r.pairs, r.r.Rate, 100*r.r.Rate/first[r.budget],
			ms(r.r.P50), ms(r.r.P99), 100*float64(r.r.Allowed)/float64(max(r.r.Checks, 1)), r.r.Errors,
			float64(r.rssPeak)/1024, float64(r.rssEnd)/1024, unknown(r.cache.HitShare, "%.1f %%"), r.cache.Entries,
			unknown(perEntry, "%.0f"), unknown(r.cache.Evictions, "%.0f"))
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// loadavg returns the machine's load averages, or "unknown".
func loadavg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], ", ")
}
