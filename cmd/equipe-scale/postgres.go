package main

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// postgresLoader writes with COPY (pgx's CopyFrom) on a connection of its
// own, and as many more as the machine has cores to load tables and build
// indexes side by side, each with memory enough to build an index in one
// pass.
type postgresLoader struct {
	url      string
	conn     *pgx.Conn
	progress func(format string, args ...any)
}

func openPostgresLoader(ctx context.Context, url string, progress func(string, ...any)) (*postgresLoader, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return &postgresLoader{url: url, conn: conn, progress: progress}, nil
}

func (l *postgresLoader) close() error { return l.conn.Close(context.Background()) }

func (l *postgresLoader) exec(ctx context.Context, query string, args ...any) error {
	for i, x := range args {
		args[i] = postgresValue(x)
	}
	_, err := l.conn.Exec(ctx, query, args...)
	return err
}

func (l *postgresLoader) count(ctx context.Context, query string) (int, error) {
	var n int
	err := l.conn.QueryRow(ctx, query).Scan(&n)
	return n, err
}

func (l *postgresLoader) columns(ctx context.Context, name string) (all, required []string, err error) {
	rows, err := l.conn.Query(ctx, `SELECT column_name, is_nullable = 'NO' AND column_default IS NULL
		FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, name)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var col string
		var req bool
		if err := rows.Scan(&col, &req); err != nil {
			return nil, nil, err
		}
		all = append(all, col)
		if req {
			required = append(required, col)
		}
	}
	return all, required, rows.Err()
}

// postgresReservedTrigger refuses an address reserved for the identity
// that had it (migration 0040); the seeder disables it while it loads.
const postgresReservedTrigger = "users_email_reserved"

// postgresDeferred are the triggers on members that the load disables and
// does the work of in one statement once the members are in: the one that
// keeps member_counts, and the one that keeps when each role's holders last
// changed (role_members_changed). Each function's body is as the migrations
// made it: the seeder stops if a migration changed it, as its bulk
// equivalent must follow.
var postgresDeferred = []struct{ trigger, function, bulk string }{
	{"members_count_insert_delete", postgresCountFunction, postgresCountBulk},
	{"members_role_insert_delete", postgresRoleFunction, postgresRoleBulk},
}

const (
	postgresCountFunction = `
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE member_counts SET n = n - 1 WHERE account_id = OLD.account_id AND status = OLD.status;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO member_counts AS c (account_id, status, n) VALUES (NEW.account_id, NEW.status, 1)
        ON CONFLICT (account_id, status) DO UPDATE SET n = c.n + 1;
    END IF;
    RETURN NULL;
END
`
	postgresCountBulk = `INSERT INTO member_counts AS c (account_id, status, n)
	SELECT account_id, status, COUNT(*) FROM members GROUP BY account_id, status
	ON CONFLICT (account_id, status) DO UPDATE SET n = c.n + excluded.n`
	postgresRoleFunction = `
BEGIN
    IF TG_OP = 'DELETE' THEN
        -- Only an update: an account deleted takes its rows with it.
        UPDATE role_members_changed
        SET at = GREATEST(at, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)
        WHERE account_id = OLD.account_id AND role = OLD.role;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        UPDATE role_members_changed SET at = GREATEST(at, NEW.updated_at)
        WHERE account_id = OLD.account_id AND role = OLD.role;
    END IF;
    INSERT INTO role_members_changed AS c (account_id, role, at) VALUES (NEW.account_id, NEW.role, NEW.updated_at)
    ON CONFLICT (account_id, role) DO UPDATE SET at = GREATEST(c.at, EXCLUDED.at);
    RETURN NULL;
END
`
	postgresRoleBulk = `INSERT INTO role_members_changed AS c (account_id, role, at)
	SELECT account_id, role, MAX(updated_at) FROM members GROUP BY account_id, role
	ON CONFLICT (account_id, role) DO UPDATE SET at = GREATEST(c.at, excluded.at)`
)

// load writes the tables the way a bulk load into PostgreSQL is fastest:
// first, in one transaction, it drops the tables' secondary indexes and
// foreign keys and disables the triggers of postgresDeferred, each of which would
// otherwise run once a row (a million members fired the PL/pgSQL trigger a
// million times, and checked two foreign keys each); then it copies the
// tables, several at once on connections of their own; then it counts the
// members in one statement and builds the indexes again, several at once
// too (the members' trigram index, the longest, first); then it adds the
// foreign keys again, which checks every row against its referenced table
// in one join, enables the trigger and analyses the tables. The steps are
// not one transaction: a load that fails leaves a database to drop, as a
// fresh one is seeded.
func (l *postgresLoader) load(ctx context.Context, tables []table) error {
	var names []string
	for _, t := range tables {
		names = append(names, t.name)
	}
	start, phase := time.Now(), time.Now()
	tx, err := l.conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	// The indexes that back no constraint (primary keys and UNIQUE stay).
	rows, err := tx.Query(ctx, `SELECT i.indexname, i.indexdef FROM pg_indexes i
		WHERE i.schemaname = current_schema() AND i.tablename = ANY($1)
		AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)
		ORDER BY i.indexdef LIKE '% USING gin %' DESC, i.indexname`, names)
	if err != nil {
		return err
	}
	indexes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ix [2]string, err error) {
		err = r.Scan(&ix[0], &ix[1])
		return ix, err
	})
	if err != nil {
		return err
	}
	// The foreign keys of the tables: table, name, definition.
	rows, err = tx.Query(ctx, `SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
		JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
		WHERE c.contype = 'f' AND n.nspname = current_schema() AND t.relname = ANY($1) ORDER BY 1, 2`, names)
	if err != nil {
		return err
	}
	fkeys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (fk [3]string, err error) {
		err = r.Scan(&fk[0], &fk[1], &fk[2])
		return fk, err
	})
	if err != nil {
		return err
	}
	for _, d := range postgresDeferred {
		var body string
		if err := tx.QueryRow(ctx, `SELECT p.prosrc FROM pg_trigger g JOIN pg_proc p ON p.oid = g.tgfoid
			WHERE g.tgrelid = 'members'::regclass AND g.tgname = $1`, d.trigger).Scan(&body); err != nil {
			return fmt.Errorf("postgres: trigger %s: %w", d.trigger, err)
		}
		if strings.Join(strings.Fields(body), " ") != strings.Join(strings.Fields(d.function), " ") {
			return fmt.Errorf("postgres: the migrations changed the function of trigger %s: its bulk equivalent in the seeder must follow", d.trigger)
		}
	}
	for _, ix := range indexes {
		if _, err := tx.Exec(ctx, "DROP INDEX "+pgx.Identifier{ix[0]}.Sanitize()); err != nil {
			return fmt.Errorf("postgres: drop index %s: %w", ix[0], err)
		}
	}
	for _, fk := range fkeys {
		if _, err := tx.Exec(ctx, "ALTER TABLE "+pgx.Identifier{fk[0]}.Sanitize()+" DROP CONSTRAINT "+pgx.Identifier{fk[1]}.Sanitize()); err != nil {
			return fmt.Errorf("postgres: drop foreign key %s: %w", fk[1], err)
		}
	}
	for _, d := range postgresDeferred {
		if _, err := tx.Exec(ctx, "ALTER TABLE members DISABLE TRIGGER "+pgx.Identifier{d.trigger}.Sanitize()); err != nil {
			return err
		}
	}
	// The trigger that keeps an old login address its identity's while it
	// can be given back reads the tokens, and a database being seeded has
	// none: it would run a million times for nothing.
	if _, err := tx.Exec(ctx, "ALTER TABLE users DISABLE TRIGGER "+pgx.Identifier{postgresReservedTrigger}.Sanitize()); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}

	conns := []*pgx.Conn{l.conn}
	defer func() {
		for _, c := range conns[1:] {
			c.Close(context.Background())
		}
	}()
	for len(conns) < max(2, runtime.NumCPU()) {
		c, err := pgx.Connect(ctx, l.url)
		if err != nil {
			return fmt.Errorf("connect to PostgreSQL: %w", err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		// A commit need not wait for the disk: a load that stops is
		// started again on a fresh database.
		if _, err := c.Exec(ctx, "SET synchronous_commit = off; SET maintenance_work_mem = '512MB'"); err != nil {
			return err
		}
	}

	var jobs []job
	for _, t := range tables {
		jobs = append(jobs, job{t.name, func(ctx context.Context, c *pgx.Conn) error { return postgresCopy(ctx, c, t) }})
	}
	if err := runJobs(ctx, conns, jobs, l.progress); err != nil {
		return err
	}
	l.progress("rows: %.1f s", time.Since(phase).Seconds())

	phase = time.Now()
	// The indexes, the trigram index first (it takes longest: the others
	// are built beside it), then the triggers' work.
	jobs = nil
	for _, ix := range indexes {
		jobs = append(jobs, job{"index " + ix[0], func(ctx context.Context, c *pgx.Conn) error {
			_, err := c.Exec(ctx, ix[1])
			return err
		}})
	}
	for _, d := range postgresDeferred {
		jobs = append(jobs, job{"in place of " + d.trigger, func(ctx context.Context, c *pgx.Conn) error {
			_, err := c.Exec(ctx, d.bulk)
			return err
		}})
	}
	if err := runJobs(ctx, conns, jobs, l.progress); err != nil {
		return err
	}
	l.progress("%d indexes and the triggers' work: %.1f s", len(indexes), time.Since(phase).Seconds())

	// Adding a foreign key locks both its tables: one at a time.
	phase = time.Now()
	for _, fk := range fkeys {
		if _, err := l.conn.Exec(ctx, "ALTER TABLE "+pgx.Identifier{fk[0]}.Sanitize()+" ADD CONSTRAINT "+
			pgx.Identifier{fk[1]}.Sanitize()+" "+fk[2]); err != nil {
			return fmt.Errorf("postgres: foreign key %s: %w", fk[1], err)
		}
	}
	if _, err := l.conn.Exec(ctx, "ALTER TABLE users ENABLE TRIGGER "+pgx.Identifier{postgresReservedTrigger}.Sanitize()); err != nil {
		return err
	}
	for _, d := range postgresDeferred {
		if _, err := l.conn.Exec(ctx, "ALTER TABLE members ENABLE TRIGGER "+pgx.Identifier{d.trigger}.Sanitize()); err != nil {
			return err
		}
	}
	l.progress("%d foreign keys: %.1f s", len(fkeys), time.Since(phase).Seconds())
	phase = time.Now()
	jobs = jobs[:0]
	for _, t := range append(names, "member_counts", "role_members_changed") {
		jobs = append(jobs, job{"analyze " + t, func(ctx context.Context, c *pgx.Conn) error {
			_, err := c.Exec(ctx, "ANALYZE "+pgx.Identifier{t}.Sanitize())
			return err
		}})
	}
	if err := runJobs(ctx, conns, jobs, nil); err != nil {
		return err
	}
	l.progress("analyze: %.1f s; load %.1f s", time.Since(phase).Seconds(), time.Since(start).Seconds())
	return nil
}

// job is one statement or COPY of the load, run on whichever connection
// is free.
type job struct {
	name string
	run  func(context.Context, *pgx.Conn) error
}

// runJobs runs the jobs in order, each on the next free connection, and
// returns the first error (the others stop at their next row).
func runJobs(ctx context.Context, conns []*pgx.Conn, jobs []job, progress func(string, ...any)) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan job)
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			for j := range next {
				start := time.Now()
				if err := j.run(ctx, c); err != nil {
					cancel(fmt.Errorf("postgres: %s: %w", j.name, err))
					continue
				}
				if progress != nil {
					progress("%s: %.1f s", j.name, time.Since(start).Seconds())
				}
			}
		})
	}
	for _, j := range jobs {
		select {
		case next <- j:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}

// postgresCopy copies the table's rows, made on another goroutine while
// the previous ones are sent.
func postgresCopy(ctx context.Context, c *pgx.Conn, t table) error {
	rows, stop := batches(t, 1000, postgresValue)
	defer stop()
	var batch []any
	_, err := c.CopyFrom(ctx, pgx.Identifier{t.name}, t.cols, pgx.CopyFromFunc(func() ([]any, error) {
		if len(batch) == 0 {
			var ok bool
			if batch, ok = <-rows; !ok {
				return nil, nil
			}
		}
		row := batch[:len(t.cols):len(t.cols)]
		batch = batch[len(t.cols):]
		return row, nil
	}))
	return err
}

// postgresValue is x as pgx writes it: an ID as its 16 bytes.
func postgresValue(x any) any {
	if v, ok := x.(uuid.UUID); ok {
		return [16]byte(v)
	}
	return x
}
