package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/team"
)

// table is the rows the seeder writes into one table: the columns it
// fills (the others keep their defaults) and the rows, each as many values
// as columns. IDs are uuid.UUID, times microseconds since the epoch,
// flags bool: each engine's loader converts what it must.
type table struct {
	name string
	cols []string
	rows iter.Seq[[]any]
}

// loader writes tables into a migrated database, the fastest way its
// engine allows, and checks first that the rows fill every column the
// schema requires.
type loader interface {
	// columns returns the table's columns and, of those, the ones that must
	// be given a value (NOT NULL without a default).
	columns(ctx context.Context, name string) (all, required []string, err error)
	// load writes the tables in order, in one transaction: secondary
	// indexes of the tables are dropped first and built again after
	// (from the definitions the migrations left), which is faster than
	// keeping them up to date row by row.
	load(ctx context.Context, tables []table) error
	// exec runs one statement outside the bulk load ($1… parameters).
	exec(ctx context.Context, query string, args ...any) error
	// count runs a query whose answer is one integer.
	count(ctx context.Context, query string) (int, error)
	close() error
}

// seedResult is what seeding did and how long it took.
type seedResult struct {
	Rows    map[string]int
	Migrate time.Duration
	Hash    time.Duration
	Load    time.Duration
	Total   time.Duration
	// CPU is the CPU time this process spent seeding: on SQLite all the
	// work, on PostgreSQL only the client's side of it.
	CPU      time.Duration
	Password string
}

// seed migrates the database of cfg through the store's own migrations,
// then writes the dataset d into it. Every user has the password; its
// argon2id hash (the service's default parameters) is computed once and
// stored for all of them: a million distinct hashes would take hours, and
// a login verifies one the same way whatever its salt.
func seed(ctx context.Context, cfg store.Config, d dataset, password string, progress func(string, ...any)) (seedResult, error) {
	start, cpu := time.Now(), cpuTime()
	r := seedResult{Rows: map[string]int{}, Password: password}
	db, err := store.Open(ctx, cfg)
	if err != nil {
		return r, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return r, fmt.Errorf("migrate: %w", err)
	}
	if err := db.Close(); err != nil {
		return r, err
	}
	r.Migrate = time.Since(start)

	t := time.Now()
	hash := identity.NewHasher(identity.DefaultParams).Hash(password)
	r.Hash = time.Since(t)

	l, err := openLoader(ctx, cfg, progress)
	if err != nil {
		return r, err
	}
	defer l.close()
	if n, err := l.count(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM users LIMIT 1) AS u"); err != nil || n > 0 {
		if err == nil {
			err = errors.New("the database already has users: seed a fresh one, or pass --no-seed")
		}
		return r, err
	}
	tables := d.tables(hash)
	if err := checkColumns(ctx, l, tables); err != nil {
		return r, err
	}
	counts := make([]int, len(tables))
	for i := range tables {
		rows := tables[i].rows
		n := &counts[i]
		tables[i].rows = func(yield func([]any) bool) {
			for v := range rows {
				*n++
				if !yield(v) {
					return
				}
			}
		}
	}
	t = time.Now()
	if err := l.load(ctx, tables); err != nil {
		return r, err
	}
	r.Load = time.Since(t)
	for i, tb := range tables {
		r.Rows[tb.name] = counts[i]
	}
	r.Total, r.CPU = time.Since(start), cpuTime()-cpu
	return r, nil
}

// batches makes the table's rows in a goroutine of its own, n rows at a
// time, flattened into one slice and each value converted by conv, so that
// making them (IDs, folded names, addresses) takes the second core while
// the database writes the previous batch. It returns the batches in order
// and stop, which ends the goroutine early (a write failed) and must be
// called once the batches are no longer read.
func batches(t table, n int, conv func(any) any) (<-chan []any, func()) {
	out := make(chan []any, 4)
	done := make(chan struct{})
	go func() {
		defer close(out)
		batch := make([]any, 0, n*len(t.cols))
		for v := range t.rows {
			for _, x := range v {
				batch = append(batch, conv(x))
			}
			if len(batch) == cap(batch) {
				select {
				case out <- batch:
				case <-done:
					return
				}
				batch = make([]any, 0, n*len(t.cols))
			}
		}
		if len(batch) > 0 {
			select {
			case out <- batch:
			case <-done:
			}
		}
	}()
	return out, sync.OnceFunc(func() {
		close(done)
		for range out {
		}
	})
}

// cpuTime returns the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// openLoader opens the loader of cfg's engine.
func openLoader(ctx context.Context, cfg store.Config, progress func(string, ...any)) (loader, error) {
	if progress == nil {
		progress = func(string, ...any) {}
	}
	if cfg.URL == "" {
		return openSQLiteLoader(ctx, cfg.DataDir, progress)
	}
	return openPostgresLoader(ctx, cfg.URL, progress)
}

// checkColumns asserts that each table's columns exist in the migrated
// schema and that they include every column it requires: a migration that
// adds a required column stops the seeder with its name, rather than
// failing half-way or writing rows the service cannot read.
func checkColumns(ctx context.Context, l loader, tables []table) error {
	for _, t := range tables {
		all, required, err := l.columns(ctx, t.name)
		if err != nil {
			return err
		}
		if len(all) == 0 {
			return fmt.Errorf("schema: no table %s", t.name)
		}
		for _, c := range t.cols {
			if !slices.Contains(all, c) {
				return fmt.Errorf("schema: table %s has no column %s", t.name, c)
			}
		}
		for _, c := range required {
			if !slices.Contains(t.cols, c) {
				return fmt.Errorf("schema: table %s requires column %s, which the seeder does not fill", t.name, c)
			}
		}
	}
	return nil
}

// tables returns the dataset's rows, table by table in the order their
// foreign keys need, accounts and members in account order: the primary
// keys and the per-account indexes grow at their end.
func (d dataset) tables(hash string) []table {
	at := d.Base.UnixMicro()
	return []table{
		{"accounts", []string{"id", "name", "locale", "created_at"}, func(yield func([]any) bool) {
			for a := range d.Accounts {
				locale := equipe.LocaleFR
				if a%3 == 0 {
					locale = equipe.LocaleEN
				}
				if !yield([]any{d.AccountID(a), fmt.Sprintf("Account %d", a), locale, at}) {
					return
				}
			}
		}},
		{"users", []string{"id", "email", "email_key", "first_name", "last_name", "locale", "email_verified_at",
			"password_hash", "password_changed_at", "created_at"}, func(yield func([]any) bool) {
			for u := range d.Users() {
				first, last := d.Name(u)
				email := d.Email(u)
				locale := equipe.LocaleFR
				if u%3 == 0 {
					locale = equipe.LocaleEN
				}
				if !yield([]any{d.UserID(u), email, emailKey(email), first, last, locale, at, hash, at, at}) {
					return
				}
			}
		}},
		{"resources", []string{"id", "account_id", "type", "name", "name_key", "created_at"}, func(yield func([]any) bool) {
			for a := range d.Accounts {
				for r := range d.Resources {
					kind, name := d.ResourceName(a, r)
					if !yield([]any{d.ResourceID(a, r), d.AccountID(a), kind, name, store.Fold(name), at}) {
						return
					}
				}
			}
		}},
		{"members", []string{"account_id", "user_id", "role", "status", "overrides", "joined_at", "created_at",
			"updated_at", "first_key", "last_key", "email_key"}, func(yield func([]any) bool) {
			for u := range d.Users() {
				first, last := d.Name(u)
				status := equipe.MemberActive
				if d.Suspended(u) {
					status = equipe.MemberSuspended
				}
				if !yield([]any{d.AccountID(u / d.PerAccount), d.UserID(u), d.Role(u), status, d.Overrides(u), at, at, at,
					store.Fold(first), store.Fold(last), emailKey(d.Email(u))}) {
					return
				}
			}
		}},
		{"member_resources", []string{"account_id", "user_id", "resource_id"}, func(yield func([]any) bool) {
			for u := range d.Users() {
				a := u / d.PerAccount
				for k := range d.Assigned(u) {
					if !yield([]any{d.AccountID(a), d.UserID(u), d.ResourceID(a, d.Assignment(u, k))}) {
						return
					}
				}
			}
		}},
	}
}

// addInstanceKey stores a new instance API key, which may check in every
// account, and returns its secret. It is made as the service makes keys
// (team.KeyPrefix and 32 random bytes, stored as their SHA-256), by an
// instance administrator that the first call adds (a key stands only while
// its creator may still make it).
func addInstanceKey(ctx context.Context, cfg store.Config, d dataset) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	secret := team.KeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	sum := sha256.Sum256([]byte(secret))
	l, err := openLoader(ctx, cfg, nil)
	if err != nil {
		return "", err
	}
	defer l.close()
	admin, email := d.AdminID(), "operator@scale.example"
	at := d.Base.UnixMicro()
	err = l.exec(ctx, `INSERT INTO users (id, email, email_key, first_name, last_name, locale, email_verified_at,
		instance_admin, created_at) VALUES ($1, $2, $3, 'Scale', 'Operator', $4, $5, $6, $5) ON CONFLICT (id) DO NOTHING`,
		admin, email, emailKey(email), equipe.LocaleEN, at, true)
	if err != nil {
		return "", err
	}
	err = l.exec(ctx, `INSERT INTO api_keys (id, account_id, name, prefix, hash, role, created_by, created_at, purpose)
		VALUES ($1, NULL, $2, $3, $4, '', $5, $6, $7)`,
		uuid.Must(uuid.NewV7()), "scale run", secret[:len(team.KeyPrefix)+6], sum[:], admin, time.Now().UnixMicro(), equipe.KeyAPI)
	return secret, err
}
